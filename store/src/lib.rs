//! MCMS persistence. One [`Db`] handle speaks to SQLite (the embedded default) or PostgreSQL
//! (several app instances); each repository method holds one SQL text that both accept.

pub mod audit;
pub mod costs;
pub mod imports;
pub mod ingest;
mod ledger;
pub mod models;
pub mod partners;
mod password;
pub mod pipelines;
pub mod poc;
pub mod schedules;
pub mod sessions;
mod throttle;
mod tx;
mod users;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub use password::PasswordHash;
pub use throttle::{LoginAttempt, LoginThrottle, ThrottleVerdict};
pub use users::User;

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds. The body is compiled once per
/// backend, so it may use backend-specific types while the SQL text stays shared.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres:, got {0:?}")]
    UnsupportedUrl(String),
    #[error("{0} already exists")]
    Duplicate(Duplicate),
    #[error("not found")]
    NotFound,
    #[error("this would leave no active administrator")]
    LastAdmin,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("{0} is closed")]
    PeriodClosed(String),
    #[error("the entry was changed by someone else (now version {})", .0.version)]
    Stale(Box<costs::StoredCost>),
    #[error("a reason is required")]
    ReasonRequired,
    #[error("this content was already imported as batch {0}")]
    AlreadyImported(i64),
    #[error("unknown {0}")]
    Unknown(&'static str),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// What the caller changed is no longer what it saw: someone (another tab) changed it first.
    #[error("{0} was changed elsewhere since it was read")]
    Changed(&'static str),
    /// A change the data's own rules do not allow, said in words for the person asking.
    #[error("{0}")]
    Refused(String),
}

/// SQLite migrations applied before both backends used the same number for the same change:
/// (old number, new number, sqlx's description). Highest first, so no new number is still taken.
const SQLITE_RENUMBERED: [(i64, i64, &str); 4] =
    [(9, 12, "cost totals exact"), (8, 11, "poc token expiry"), (7, 9, "poc"), (6, 7, "partners")];

/// Moves the records of migrations applied under their old numbers to the new ones (see
/// migrations/README.md), once, in one transaction; a database made since has nothing to move.
async fn renumber_sqlite_migrations(pool: &SqlitePool) -> Result<()> {
    let table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_optional(pool)
            .await?;
    if table.is_none() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for (old, new, description) in SQLITE_RENUMBERED {
        sqlx::query("UPDATE _sqlx_migrations SET version = $1 WHERE version = $2 AND description = $3")
            .bind(new)
            .bind(old)
            .bind(description)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The users table with these roles (PostgreSQL: migrations 0001 and 0015).
const SQLITE_USERS: &str = "CREATE TABLE users_new (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN (ROLES)),
    password_hash TEXT    NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
INSERT INTO users_new (id, email, name, role, password_hash, active, created_at, updated_at)
    SELECT id, email, name, role, password_hash, active, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;";

/// Lets users.role hold `builder`. SQLite changes a CHECK only by making the table again, with
/// foreign keys off while it does (other tables refer to users; sqlite.org/lang_altertable.html,
/// "other kinds of table schema changes"), which cannot be switched inside the transaction sqlx
/// runs each migration in: so it is done here, once, after the migrations, on a connection of
/// its own that never goes back to the pool.
async fn widen_sqlite_roles(pool: &SqlitePool) -> Result<()> {
    let table: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
        .fetch_one(pool)
        .await?;
    if table.contains("'builder'") {
        return Ok(());
    }
    remake_sqlite_users(pool, "'viewer', 'marketer', 'builder', 'admin'").await
}

/// Makes the users table again allowing `roles`, keeping every row and what refers to it.
async fn remake_sqlite_users(pool: &SqlitePool, roles: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut conn).await?;
    let mut tx = conn.begin().await?;
    let script = SQLITE_USERS.replace("ROLES", roles);
    sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(&script)).await?;
    // Every reference to a user still finds its user, or nothing is changed.
    let broken: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut *tx).await?;
    if let Some((table,)) = broken.first() {
        return Err(StoreError::Migrate(sqlx::migrate::MigrateError::Execute(sqlx::Error::Protocol(format!(
            "remaking users would leave rows of {table} without their user"
        )))));
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database; cheap to clone (it holds a pool).
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// Opens a pool for `url`. SQLite files are created on first use and run in WAL mode with
    /// foreign keys enforced and a busy timeout, so concurrent writers wait instead of failing.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool =
                PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Brings the schema up to date: the application's migrations, then the session table.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => {
                renumber_sqlite_migrations(pool).await?;
                sqlx::migrate!("../migrations/sqlite").run(pool).await?;
                widen_sqlite_roles(pool).await?
            }
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        self.session_store().migrate().await?;
        self.seed_countries().await
    }

    /// Adds the ISO 3166-1 countries the table lacks; existing rows (renamed or switched off by an
    /// admin) stay as they are.
    async fn seed_countries(&self) -> Result<()> {
        on_db!(self, pool => {
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO countries (code, name, active) ");
            insert.push_values(domain::country::ISO_3166_1, |mut row, (code, name)| {
                row.push_bind(*code).push_bind(*name).push_bind(true);
            });
            insert.push(" ON CONFLICT (code) DO NOTHING");
            insert.build().execute(pool).await.map(drop)
        })?;
        Ok(())
    }

    /// A cheap query that proves the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Connections the pool holds open, and how many of them are idle.
    pub fn pool_connections(&self) -> (u32, usize) {
        on_db!(self, pool => (pool.size(), pool.num_idle()))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

/// Maps a unique-constraint violation to [`StoreError::Duplicate`], anything else to a database error.
/// What a unique index refused: the caller tells the user by kind, never by wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    Email,
    Close,
    Batch,
    Invoice,
    NaturalKey,
    Partner,
    KeyPrefix,
    PocSystem,
    PocScenario,
    Watch,
}

impl std::fmt::Display for Duplicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Duplicate::Email => "an account with this email",
            Duplicate::Close => "a close of this month",
            Duplicate::Batch => "a batch with this content",
            Duplicate::Invoice => "an entry with this vendor and invoice number",
            Duplicate::NaturalKey => "an entry with this date, channel, campaign, country, cost type and currency",
            Duplicate::Partner => "a partner with this name",
            Duplicate::KeyPrefix => "a key with this prefix",
            Duplicate::PocSystem => "a system with this name",
            Duplicate::PocScenario => "a scenario with this name",
            Duplicate::Watch => "a watch with this name",
        })
    }
}

pub(crate) fn unique_as(what: Duplicate) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match err.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Database(err),
    }
}

/// Fresh databases for tests (always compiled, so test and app builds share one build of this crate).
pub mod testing;

#[cfg(test)]
mod imports_tests;
#[cfg(test)]
mod models_tests;
#[cfg(test)]
mod partners_tests;
#[cfg(test)]
mod poc_tests;
#[cfg(test)]
mod tests;
