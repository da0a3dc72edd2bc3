//! Auto-ingest watches as the pages define them, and the lease that lets one instance at a time
//! run each. The load history itself is in each watch's target database (the `pipeline` crate),
//! committed with the rows it describes. Times of the lease are Unix seconds.

use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, Duplicate, Result, StoreError, on_db, unique_as};
use time::OffsetDateTime;

/// A watch as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Watch {
    pub id: i64,
    pub name: String,
    /// A folder under the data directory, or `s3://bucket/prefix/`, with an optional glob.
    pub location: String,
    /// `sqlite` or `postgres`.
    pub target_kind: String,
    /// The SQLite file (under the data directory) or the environment variable holding the URL.
    pub target: String,
    pub target_table: String,
    /// `append` or `cdc`.
    pub mode: String,
    pub format: Option<String>,
    /// Comma-separated key columns (`cdc`).
    pub keys: String,
    pub every_secs: f64,
    pub running: bool,
    pub created_by_name: String,
    pub created_at: OffsetDateTime,
    pub runner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub polled_at: Option<i64>,
}

/// A watch to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWatch {
    pub name: String,
    pub location: String,
    pub target_kind: String,
    pub target: String,
    pub target_table: String,
    pub mode: String,
    pub format: Option<String>,
    pub keys: String,
    pub every_secs: f64,
}

const COLUMNS: &str = "w.id, w.name, w.location, w.target_kind, w.target, w.target_table, w.mode, w.format, \
                       w.keys, w.every_secs, w.running, u.name AS created_by_name, w.created_at, \
                       w.runner, w.lease_until, w.last_error, w.polled_at";

impl Db {
    /// Every watch, by name.
    pub async fn ingest_watches(&self) -> Result<Vec<Watch>> {
        let sql = format!("SELECT {COLUMNS} FROM ingest_watches w JOIN users u ON u.id = w.created_by ORDER BY w.name");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    pub async fn ingest_watch(&self, name: &str) -> Result<Option<Watch>> {
        let sql =
            format!("SELECT {COLUMNS} FROM ingest_watches w JOIN users u ON u.id = w.created_by WHERE w.name = $1");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(name).fetch_optional(pool).await)?)
    }

    /// Creates a watch, running (an instance picks it up within seconds). Audited.
    pub async fn create_ingest_watch(&self, w: &NewWatch, actor: i64) -> Result<i64> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO ingest_watches (name, location, target_kind, target, target_table, mode, format, keys, \
                 every_secs, running, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id")
                .bind(&w.name).bind(&w.location).bind(&w.target_kind).bind(&w.target).bind(&w.target_table)
                .bind(&w.mode).bind(&w.format).bind(&w.keys).bind(w.every_secs).bind(true).bind(actor).bind(now)
                .fetch_one(&mut *tx).await.map_err(unique_as(Duplicate::Watch))?;
            let after = format!(
                "{} → {} {}.{} ({}{}) every {} s",
                w.location, w.target_kind, w.target, w.target_table, w.mode,
                if w.keys.is_empty() { String::new() } else { format!(" on {}", w.keys) }, w.every_secs
            );
            write_audit!(tx, Audit::new(now, actor, "create", "ingest_watch", &w.name).after(after));
            id
        })
    }

    /// Starts or stops a watch. Stopping ends its lease, so it may start again on any instance at
    /// once; the instance running it stops at its next poll. Audited; false if it already was.
    pub async fn set_ingest_watch_running(&self, name: &str, running: bool, actor: i64) -> Result<bool> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let was: bool = sqlx::query_scalar("SELECT running FROM ingest_watches WHERE name = $1")
                .bind(name).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
            if was == running {
                false
            } else {
                sqlx::query("UPDATE ingest_watches SET running = $1, runner = NULL, lease_until = NULL, last_error = NULL \
                             WHERE name = $2")
                    .bind(running).bind(name).execute(&mut *tx).await?;
                let action = if running { "start" } else { "stop" };
                write_audit!(tx, Audit::new(now, actor, action, "ingest_watch", name));
                true
            }
        })
    }

    /// Takes or renews the lease on a running watch for `instance` until `lease_until`: true if
    /// this instance holds it now (it held it, or the lease ran out), false if another does or
    /// the watch stopped. `error` is the outcome of the poll just made (None: it went through).
    pub async fn lease_ingest_watch(
        &self,
        id: i64,
        instance: &str,
        now: i64,
        lease_until: i64,
        error: Option<&str>,
    ) -> Result<bool> {
        let held = on_db!(self, pool => sqlx::query(
            "UPDATE ingest_watches SET runner = $1, lease_until = $2, last_error = $3, polled_at = $4 \
             WHERE id = $5 AND running = $6 AND (runner = $1 OR runner IS NULL OR lease_until < $4)")
            .bind(instance).bind(lease_until).bind(error).bind(now).bind(id).bind(true)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(held == 1)
    }

    /// Gives up the lease `instance` holds (the server is stopping).
    pub async fn release_ingest_watch(&self, id: i64, instance: &str) -> Result<()> {
        on_db!(self, pool => sqlx::query("UPDATE ingest_watches SET runner = NULL, lease_until = NULL WHERE id = $1 AND runner = $2")
            .bind(id).bind(instance).execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    fn watch(name: &str) -> NewWatch {
        NewWatch {
            name: name.into(),
            location: "arrivals/*.csv".into(),
            target_kind: "sqlite".into(),
            target: "lake.db".into(),
            target_table: "players".into(),
            mode: "append".into(),
            format: None,
            keys: String::new(),
            every_secs: 1.0,
        }
    }

    #[tokio::test]
    async fn one_instance_holds_a_watch_until_its_lease_runs_out_or_it_stops() {
        for t in TestDb::each().await {
            let db = &t.db;
            let admin = t.user("watcher@mcms.example", domain::Role::Builder).await;
            let id = db.create_ingest_watch(&watch("arrivals"), admin).await.unwrap();
            assert!(matches!(
                db.create_ingest_watch(&watch("arrivals"), admin).await,
                Err(StoreError::Duplicate(Duplicate::Watch))
            ));
            assert!(db.lease_ingest_watch(id, "a", 100, 115, None).await.unwrap());
            assert!(!db.lease_ingest_watch(id, "b", 101, 116, None).await.unwrap(), "a holds it");
            assert!(db.lease_ingest_watch(id, "a", 105, 120, Some("S3 unreachable")).await.unwrap(), "a renews");
            let w = db.ingest_watch("arrivals").await.unwrap().unwrap();
            assert_eq!(
                (w.runner.as_deref(), w.last_error.as_deref(), w.polled_at),
                (Some("a"), Some("S3 unreachable"), Some(105))
            );
            assert!(db.lease_ingest_watch(id, "b", 121, 136, None).await.unwrap(), "a's lease ran out");

            // Stopped: nobody holds it; started again, anyone may.
            assert!(db.set_ingest_watch_running("arrivals", false, admin).await.unwrap());
            assert!(!db.set_ingest_watch_running("arrivals", false, admin).await.unwrap(), "already stopped");
            assert!(!db.lease_ingest_watch(id, "b", 122, 137, None).await.unwrap());
            assert!(db.set_ingest_watch_running("arrivals", true, admin).await.unwrap());
            assert!(db.lease_ingest_watch(id, "a", 123, 138, None).await.unwrap());
            db.release_ingest_watch(id, "b").await.unwrap();
            assert!(!db.lease_ingest_watch(id, "b", 124, 139, None).await.unwrap(), "b cannot release a's lease");
            db.release_ingest_watch(id, "a").await.unwrap();
            assert!(db.lease_ingest_watch(id, "b", 124, 139, None).await.unwrap());

            let trail = db.audit_trail("ingest_watch", "arrivals").await.unwrap();
            let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
            assert_eq!(actions.len(), 3, "{actions:?}");
            assert!(matches!(db.set_ingest_watch_running("nope", true, admin).await, Err(StoreError::NotFound)));
            t.finish().await;
        }
    }
}
