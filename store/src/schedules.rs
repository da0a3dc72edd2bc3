//! Pipeline schedules and the scheduled times ("slots") the instances claim. A slot's primary key
//! (pipeline, due time) makes its first claim exactly-once across instances sharing the database;
//! the lease lets another instance take over when the claiming one stopped mid-run, and a failed
//! run waits for its retry time in the same row. Times are Unix seconds.

use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, Result, StoreError, on_db};
use time::OffsetDateTime;

/// A stored pipeline's schedule.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Schedule {
    pub name: String,
    /// Five fields, in the company's time zone.
    pub cron: String,
    /// JSON object: the parameters each scheduled run gets.
    pub params: String,
    /// How many times a failed run is tried again.
    pub retries: i32,
    /// When the schedule was set (Unix seconds): no time before it is due.
    pub set_at: i64,
}

/// A slot claimed for a run: which attempt this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub attempt: i32,
}

/// How a slot's attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotEnd {
    Succeeded,
    /// Failed; tried again at this time.
    RetryAt(i64),
    /// Failed, with no retry left.
    Failed,
}

impl Db {
    /// Sets (`Some`) or removes (`None`) a stored pipeline's schedule. Audited.
    pub async fn set_schedule(&self, name: &str, schedule: Option<(&str, &str, i32)>, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let id: i64 = sqlx::query_scalar("SELECT id FROM pipelines WHERE name = $1")
                .bind(name).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
            sqlx::query("DELETE FROM pipeline_schedules WHERE pipeline_id = $1").bind(id).execute(&mut *tx).await?;
            if let Some((cron, params, retries)) = schedule {
                sqlx::query("INSERT INTO pipeline_schedules (pipeline_id, cron, params, retries, set_by, set_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id).bind(cron).bind(params).bind(retries).bind(actor).bind(now.unix_timestamp())
                    .execute(&mut *tx).await?;
            }
            let after = schedule.map(|(cron, params, retries)| format!("{cron} with {params}, {retries} retries"));
            write_audit!(tx, Audit::new(now, actor, "schedule", "pipeline", name).after(after.unwrap_or_else(|| "none".into())));
        })
    }

    /// Sets the schedule a pipeline's file names (`schedule:`), keeping the parameters and retries
    /// of the one it replaces (none: no parameters, 2 retries). The same cron again changes
    /// nothing (setting it would move the time it counts from). True if it changed.
    pub async fn schedule_from_file(&self, name: &str, cron: &str, actor: i64) -> Result<bool> {
        let now = self.schedules().await?.into_iter().find(|s| s.name == name);
        if now.as_ref().is_some_and(|s| s.cron == cron) {
            return Ok(false);
        }
        let (params, retries) = now.map_or(("{}".to_owned(), 2), |s| (s.params, s.retries));
        self.set_schedule(name, Some((cron, &params, retries)), actor).await?;
        Ok(true)
    }

    /// Every schedule, by pipeline name.
    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        let sql = "SELECT p.name, s.cron, s.params, s.retries, s.set_at FROM pipeline_schedules s \
                   JOIN pipelines p ON p.id = s.pipeline_id ORDER BY p.name";
        Ok(on_db!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
    }

    /// Claims `name`'s slot due at `due` for `instance` until `lease_until`: the first claim of
    /// a slot, or a later one when the slot waits for a retry that is due or its lease has run
    /// out (its instance stopped). `None` when another instance has it or it is done.
    pub async fn claim_slot(
        &self,
        name: &str,
        due: i64,
        instance: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Claim>> {
        in_tx!(self, tx => {
            let id: i64 = sqlx::query_scalar("SELECT id FROM pipelines WHERE name = $1")
                .bind(name).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
            let first = sqlx::query("INSERT INTO pipeline_slots (pipeline_id, due_at, claimed_by, lease_until, attempts, state) \
                                     VALUES ($1, $2, $3, $4, 1, 'running') ON CONFLICT DO NOTHING")
                .bind(id).bind(due).bind(instance).bind(lease_until).execute(&mut *tx).await?;
            if first.rows_affected() == 1 {
                Some(Claim { attempt: 1 })
            } else {
                let attempt: Option<i32> = sqlx::query_scalar(
                    "UPDATE pipeline_slots SET claimed_by = $1, lease_until = $2, attempts = attempts + 1, \
                     state = 'running', next_try_at = NULL \
                     WHERE pipeline_id = $3 AND due_at = $4 \
                     AND ((state = 'waiting' AND next_try_at <= $5) OR (state = 'running' AND lease_until < $5)) \
                     RETURNING attempts")
                    .bind(instance).bind(lease_until).bind(id).bind(due).bind(now).fetch_optional(&mut *tx).await?;
                attempt.map(|attempt| Claim { attempt })
            }
        })
    }

    /// Ends the attempt that `instance` claimed (a slot another instance took over since is
    /// left to it): succeeded, waiting for a retry, or failed.
    pub async fn end_slot(&self, name: &str, due: i64, instance: &str, run: Option<i64>, end: SlotEnd) -> Result<()> {
        let (state, next) = match end {
            SlotEnd::Succeeded => ("succeeded", None),
            SlotEnd::RetryAt(at) => ("waiting", Some(at)),
            SlotEnd::Failed => ("failed", None),
        };
        let sql = "UPDATE pipeline_slots SET state = $1, next_try_at = $2, run_id = $3 \
                   WHERE pipeline_id = (SELECT id FROM pipelines WHERE name = $4) AND due_at = $5 AND claimed_by = $6 \
                   AND state = 'running'";
        on_db!(self, pool => sqlx::query(sql).bind(state).bind(next).bind(run).bind(name).bind(due).bind(instance)
            .execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Slots a tick should try to claim again: waiting for a retry that is due, or running on a
    /// lease that has run out. (pipeline name, due time)
    pub async fn slots_to_resume(&self, now: i64) -> Result<Vec<(String, i64)>> {
        let sql = "SELECT p.name, s.due_at FROM pipeline_slots s JOIN pipelines p ON p.id = s.pipeline_id \
                   WHERE (s.state = 'waiting' AND s.next_try_at <= $1) OR (s.state = 'running' AND s.lease_until < $1) \
                   ORDER BY s.due_at";
        Ok(on_db!(self, pool => sqlx::query_as(sql).bind(now).fetch_all(pool).await)?)
    }

    /// A slot's state and attempts, if it was ever claimed.
    pub async fn slot(&self, name: &str, due: i64) -> Result<Option<(String, i32, Option<i64>)>> {
        let sql = "SELECT s.state, s.attempts, s.run_id FROM pipeline_slots s JOIN pipelines p ON p.id = s.pipeline_id \
                   WHERE p.name = $1 AND s.due_at = $2";
        Ok(on_db!(self, pool => sqlx::query_as(sql).bind(name).bind(due).fetch_optional(pool).await)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipelines::Base;
    use crate::testing::TestDb;

    #[tokio::test]
    async fn a_slot_is_claimed_once_retried_when_due_and_taken_over_when_its_lease_runs_out() {
        for t in TestDb::each().await {
            let db = &t.db;
            let admin = t.user("scheduler@mcms.example", domain::Role::Admin).await;
            db.save_pipeline("nightly", "version: 1", "ab", Base::New, "", admin).await.unwrap();
            assert!(matches!(
                db.set_schedule("nope", Some(("0 6 * * *", "{}", 2)), admin).await,
                Err(StoreError::NotFound)
            ));
            db.set_schedule("nightly", Some(("0 6 * * *", r#"{"month":"previous"}"#, 2)), admin).await.unwrap();
            let schedules = db.schedules().await.unwrap();
            assert_eq!((schedules[0].cron.as_str(), schedules[0].retries), ("0 6 * * *", 2));

            // Two instances at the same time: one claim.
            let due = 1_000_000;
            let a = db.claim_slot("nightly", due, "a", due, due + 600).await.unwrap();
            let b = db.claim_slot("nightly", due, "b", due, due + 600).await.unwrap();
            assert_eq!((a, b), (Some(Claim { attempt: 1 }), None));
            // `b` cannot end what `a` holds.
            db.end_slot("nightly", due, "b", None, SlotEnd::Succeeded).await.unwrap();
            assert_eq!(db.slot("nightly", due).await.unwrap().unwrap().0, "running");

            // A failed attempt waits for its retry time; before it nobody claims, after it one does.
            db.end_slot("nightly", due, "a", None, SlotEnd::RetryAt(due + 60)).await.unwrap();
            assert_eq!(db.slots_to_resume(due + 59).await.unwrap(), []);
            assert_eq!(db.claim_slot("nightly", due, "b", due + 59, due + 700).await.unwrap(), None);
            assert_eq!(db.slots_to_resume(due + 60).await.unwrap(), [("nightly".to_owned(), due)]);
            assert_eq!(
                db.claim_slot("nightly", due, "b", due + 60, due + 700).await.unwrap(),
                Some(Claim { attempt: 2 })
            );

            // `b` stops mid-run: once its lease has run out, `a` takes the slot over.
            assert_eq!(db.claim_slot("nightly", due, "a", due + 700, due + 1300).await.unwrap(), None);
            assert_eq!(
                db.claim_slot("nightly", due, "a", due + 701, due + 1300).await.unwrap(),
                Some(Claim { attempt: 3 })
            );
            db.end_slot("nightly", due, "a", None, SlotEnd::Failed).await.unwrap();
            assert_eq!(db.slot("nightly", due).await.unwrap().unwrap(), ("failed".to_owned(), 3, None));
            assert_eq!(db.claim_slot("nightly", due, "b", due + 9_999, due + 10_000).await.unwrap(), None, "done");

            db.set_schedule("nightly", None, admin).await.unwrap();
            assert_eq!(db.schedules().await.unwrap(), []);
            t.finish().await;
        }
    }
}
