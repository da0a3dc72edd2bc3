//! The audit trail: one record per change, written in the change's own transaction (see
//! [`crate::tx`]), read back per entity or searched.

use crate::{Db, Result, on_db};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_id: i64,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

impl Db {
    /// The audit trail of one entity, oldest first.
    pub async fn audit_trail(&self, entity: &str, entity_id: &str) -> Result<Vec<AuditRecord>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT id, at, actor_id, action, entity, entity_id, before, after, reason FROM audit_log \
             WHERE entity = $1 AND entity_id = $2 ORDER BY id")
            .bind(entity).bind(entity_id).fetch_all(pool).await)?)
    }
}

/// Which audit records to show; every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    /// Only records older than this id (the previous page's last).
    pub before_id: Option<i64>,
}

impl Db {
    /// Audit records, newest first, `limit` at a time.
    pub async fn audit_search(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditRecord>> {
        let sql = "SELECT id, at, actor_id, action, entity, entity_id, before, after, reason FROM audit_log \
            WHERE ($1 = '' OR entity = $1) AND ($2 = 0 OR actor_id = $2) AND ($3 = '' OR action = $3) \
            AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $5";
        Ok(on_db!(self, pool => sqlx::query_as(sql)
            .bind(f.entity.clone().unwrap_or_default()).bind(f.actor_id.unwrap_or(0))
            .bind(f.action.clone().unwrap_or_default()).bind(f.before_id.unwrap_or(0)).bind(limit)
            .fetch_all(pool).await)?)
    }
}
