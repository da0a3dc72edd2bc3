//! Transaction plumbing shared by every repository: write transactions on either backend, the
//! closed-month check inside them, and the audit record each change writes in the same transaction.

use serde::Serialize;
use time::OffsetDateTime;

/// One change for the audit trail, written by [`write_audit!`] inside the change's transaction, so
/// there is no change without its record. `before`, `after` and `reason` are optional texts.
pub(crate) struct Audit {
    pub(crate) at: OffsetDateTime,
    pub(crate) actor: i64,
    pub(crate) action: &'static str,
    pub(crate) entity: &'static str,
    pub(crate) entity_id: String,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) reason: Option<String>,
}

impl Audit {
    pub(crate) fn new(
        at: OffsetDateTime,
        actor: i64,
        action: &'static str,
        entity: &'static str,
        id: impl ToString,
    ) -> Audit {
        Audit { at, actor, action, entity, entity_id: id.to_string(), before: None, after: None, reason: None }
    }

    pub(crate) fn before(self, text: impl Text) -> Audit {
        Audit { before: text.text(), ..self }
    }

    pub(crate) fn after(self, text: impl Text) -> Audit {
        Audit { after: text.text(), ..self }
    }

    pub(crate) fn reason(self, text: impl Text) -> Audit {
        Audit { reason: text.text(), ..self }
    }
}

/// What an audit record's optional texts accept.
pub(crate) trait Text {
    fn text(self) -> Option<String>;
}

impl Text for String {
    fn text(self) -> Option<String> {
        Some(self)
    }
}

impl Text for &str {
    fn text(self) -> Option<String> {
        Some(self.to_owned())
    }
}

impl Text for &String {
    fn text(self) -> Option<String> {
        Some(self.clone())
    }
}

impl Text for Option<String> {
    fn text(self) -> Option<String> {
        self
    }
}

/// Writes an [`Audit`] record inside transaction `$tx`.
macro_rules! write_audit {
    ($tx:ident, $record:expr) => {{
        let r: $crate::tx::Audit = $record;
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.at)
        .bind(r.actor)
        .bind(r.action)
        .bind(r.entity)
        .bind(r.entity_id)
        .bind(r.before)
        .bind(r.after)
        .bind(r.reason)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use write_audit;

pub(crate) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"))
}

/// Refuses a write into a closed month, inside the write's transaction. On PostgreSQL the check
/// first takes the month's advisory lock in shared mode, held to the end of the transaction, and a
/// close takes it exclusively: a close waits for the writes in flight, and a write that comes after
/// a close sees it. (SQLite runs one write transaction at a time, so the check is already atomic
/// with the write.) `$db` is the [`Db`] the transaction belongs to.
macro_rules! refuse_closed_month {
    ($db:expr, $tx:ident, $month:expr) => {{
        let month: &str = $month;
        if matches!($db, $crate::Db::Postgres(_)) {
            sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext('period:' || $1))")
                .bind(month)
                .execute(&mut *$tx)
                .await?;
        }
        let closed: Option<String> = sqlx::query_scalar("SELECT month FROM closed_periods WHERE month = $1")
            .bind(month)
            .fetch_optional(&mut *$tx)
            .await?;
        if closed.is_some() {
            return Err($crate::StoreError::PeriodClosed(month.to_owned()));
        }
    }};
}
pub(crate) use refuse_closed_month;

/// Runs the same body with a write transaction of either backend: committed when the body
/// succeeds, rolled back at once when it fails (a dropped transaction would keep SQLite's write
/// lock until its connection is next used, and other writers would fail with "database is locked").
macro_rules! in_tx {
    ($db:expr, $tx:ident => $body:expr) => {
        $crate::on_db!($db, pool => async {
            let mut $tx = $crate::tx::WritePool::begin_write(pool).await?;
            let result = async { Ok::<_, $crate::StoreError>($body) }.await;
            match result {
                Ok(out) => {
                    $tx.commit().await?;
                    Ok::<_, $crate::StoreError>(out)
                }
                Err(e) => {
                    if let Err(rollback) = $tx.rollback().await {
                        tracing::warn!(error = %rollback, "rollback failed");
                    }
                    Err(e)
                }
            }
        }.await)
    };
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when it
/// upgrades from reading; PostgreSQL's row locks need nothing special.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send;
}

impl WritePool for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl WritePool for sqlx::PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}
pub(crate) use in_tx;
