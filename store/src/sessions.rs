//! Sessions live in the application database (tower-sessions-sqlx-store), so they survive a
//! restart and every instance on a shared PostgreSQL sees the same ones.

use crate::Db;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store for whichever backend the [`Db`] uses.
#[derive(Debug, Clone)]
pub enum DbSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! on_store {
    ($s:expr, $inner:ident => $body:expr) => {
        match $s {
            DbSessionStore::Sqlite($inner) => $body,
            DbSessionStore::Postgres($inner) => $body,
        }
    };
}

impl Db {
    pub fn session_store(&self) -> DbSessionStore {
        match self {
            Db::Sqlite(pool) => DbSessionStore::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => DbSessionStore::Postgres(PostgresStore::new(pool.clone())),
        }
    }
}

impl DbSessionStore {
    pub async fn migrate(&self) -> sqlx::Result<()> {
        on_store!(self, s => s.migrate().await)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        on_store!(self, s => s.create(record).await)
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        on_store!(self, s => s.save(record).await)
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        on_store!(self, s => s.load(id).await)
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        on_store!(self, s => s.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        on_store!(self, s => s.delete_expired().await)
    }
}
