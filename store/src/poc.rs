//! The proof of concept's record: the PoC, its systems and scenarios, its runs (recorded whole
//! or not at all, audited) and the tokens scripts record runs with.

use crate::tx::{Audit, in_tx, json, write_audit};
use crate::{Db, Result, StoreError, on_db, unique_as};
use domain::keys::ApiKey;
use domain::poc::{Params, Run};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Poc {
    pub id: i64,
    pub title: String,
    pub goal: String,
    /// planned, running or decided.
    pub status: String,
    pub decision: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PocSystem {
    pub name: String,
    pub edition: String,
    pub region: String,
    pub configuration: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PocScenario {
    pub name: String,
    /// One of [`domain::poc::ScenarioKind`], as text.
    pub kind: String,
    /// How the scenario was run, written out.
    pub method: String,
}

/// Which runs a report shows (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilter {
    pub format: Option<String>,
    pub compression: Option<String>,
    pub min_file_mb: Option<i64>,
    pub max_file_mb: Option<i64>,
}

/// What a report needs of one system's runs with one set of parameters in one scenario: the
/// runs of a PoC folded, so the report costs the same for a hundred runs or a million.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RunGroup {
    pub system: String,
    pub scenario: String,
    pub format: String,
    pub compression: String,
    pub file_count: i64,
    pub file_size_mb: i64,
    pub runs: i64,
    pub failures: i64,
    /// The fastest successful run.
    pub best_seconds: Option<f64>,
    pub mean_seconds: Option<f64>,
    /// US cents, over the successful runs that name a cost.
    pub mean_cost_cents: Option<f64>,
    pub total_bytes: i64,
    /// One of its failures' errors (the greatest in text order) and the day of the latest failure.
    pub last_error: Option<String>,
    pub last_failed: Option<Date>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    system: String,
    scenario: String,
    format: String,
    compression: String,
    file_count: i64,
    file_size_mb: i64,
    total_bytes: i64,
    row_count: i64,
    load_seconds: Option<f64>,
    latency_p50_ms: Option<f64>,
    latency_p95_ms: Option<f64>,
    credits: Option<f64>,
    cost_cents: Option<i64>,
    error: Option<String>,
    run_date: Date,
    system_version: String,
    run_by: String,
    notes: String,
}

impl From<RunRow> for Run {
    fn from(r: RunRow) -> Run {
        Run {
            system: r.system,
            scenario: r.scenario,
            params: Params {
                format: r.format,
                compression: r.compression,
                file_count: r.file_count,
                file_size_mb: r.file_size_mb,
            },
            total_bytes: r.total_bytes,
            rows: r.row_count,
            load_seconds: r.load_seconds,
            latency_p50_ms: r.latency_p50_ms,
            latency_p95_ms: r.latency_p95_ms,
            credits: r.credits,
            cost_cents: r.cost_cents,
            error: r.error,
            run_date: r.run_date,
            system_version: r.system_version,
            run_by: r.run_by,
            notes: r.notes,
        }
    }
}

const RUN_COLUMNS: &str = "system, scenario, format, compression, file_count, file_size_mb, total_bytes, row_count, \
    load_seconds, latency_p50_ms, latency_p95_ms, credits, cost_cents, error, run_date, system_version, run_by, notes";

/// Rows per `INSERT` when recording runs.
const CHUNK: usize = 500;

impl Db {
    pub async fn pocs(&self) -> Result<Vec<Poc>> {
        Ok(on_db!(self, pool => sqlx::query_as("SELECT id, title, goal, status, decision FROM pocs ORDER BY id")
            .fetch_all(pool).await)?)
    }

    pub async fn poc(&self, id: i64) -> Result<Option<Poc>> {
        Ok(on_db!(self, pool => sqlx::query_as("SELECT id, title, goal, status, decision FROM pocs WHERE id = $1")
            .bind(id).fetch_optional(pool).await)?)
    }

    pub async fn create_poc(&self, title: &str, goal: &str, status: &str, decision: &str) -> Result<i64> {
        let now = OffsetDateTime::now_utc();
        Ok(on_db!(self, pool => sqlx::query_scalar(
            "INSERT INTO pocs (title, goal, status, decision, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(title).bind(goal).bind(status).bind(decision).bind(now).fetch_one(pool).await)?)
    }

    /// Records the PoC's status and decision, audited.
    pub async fn decide_poc(&self, id: i64, status: &str, decision: &str, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let before = self.poc(id).await?.ok_or(StoreError::NotFound)?;
        in_tx!(self, tx => {
            sqlx::query("UPDATE pocs SET status = $1, decision = $2, updated_at = $3 WHERE id = $4")
                .bind(status).bind(decision).bind(now).bind(id).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "edit", "poc", id).before(json(&(&before.status, &before.decision))).after(json(&(status, decision))));
        })
    }

    pub async fn add_poc_system(&self, poc: i64, s: &PocSystem) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO poc_systems (poc_id, name, edition, region, configuration) \
            VALUES ($1, $2, $3, $4, $5)")
            .bind(poc).bind(&s.name).bind(&s.edition).bind(&s.region).bind(&s.configuration).execute(pool).await.map(drop))
        .map_err(unique_as(crate::Duplicate::PocSystem))?;
        Ok(())
    }

    pub async fn add_poc_scenario(&self, poc: i64, s: &PocScenario) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO poc_scenarios (poc_id, name, kind, method) VALUES ($1, $2, $3, $4)")
            .bind(poc).bind(&s.name).bind(&s.kind).bind(&s.method).execute(pool).await.map(drop))
            .map_err(unique_as(crate::Duplicate::PocScenario))?;
        Ok(())
    }

    pub async fn poc_systems(&self, poc: i64) -> Result<Vec<PocSystem>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT name, edition, region, configuration FROM poc_systems WHERE poc_id = $1 ORDER BY name")
            .bind(poc).fetch_all(pool).await)?)
    }

    pub async fn poc_scenarios(&self, poc: i64) -> Result<Vec<PocScenario>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT name, kind, method FROM poc_scenarios WHERE poc_id = $1 ORDER BY name")
            .bind(poc).fetch_all(pool).await)?)
    }

    /// The PoC's runs that pass `filter`, oldest first.
    pub async fn poc_runs(&self, poc: i64, filter: &RunFilter) -> Result<Vec<Run>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM poc_runs WHERE poc_id = $1 \
             AND ($2 = '' OR format = $2) AND ($3 = '' OR compression = $3) \
             AND file_size_mb >= $4 AND file_size_mb <= $5 ORDER BY id"
        );
        let rows: Vec<RunRow> = on_db!(self, pool => sqlx::query_as(&sql)
            .bind(poc)
            .bind(filter.format.as_deref().unwrap_or_default())
            .bind(filter.compression.as_deref().unwrap_or_default())
            .bind(filter.min_file_mb.unwrap_or(0))
            .bind(filter.max_file_mb.unwrap_or(i64::MAX))
            .fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Run::from).collect())
    }

    /// The newest runs `filter` lets through, with their ids, at most `limit`.
    pub async fn poc_recent_runs(&self, poc: i64, filter: &RunFilter, limit: i64) -> Result<Vec<(i64, Run)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            #[sqlx(flatten)]
            run: RunRow,
        }
        let sql = format!(
            "SELECT id, {RUN_COLUMNS} FROM poc_runs WHERE poc_id = $1 \
             AND ($2 = '' OR format = $2) AND ($3 = '' OR compression = $3) \
             AND file_size_mb >= $4 AND file_size_mb <= $5 ORDER BY id DESC LIMIT $6"
        );
        let rows: Vec<Row> = on_db!(self, pool => sqlx::query_as(&sql)
            .bind(poc)
            .bind(filter.format.as_deref().unwrap_or_default())
            .bind(filter.compression.as_deref().unwrap_or_default())
            .bind(filter.min_file_mb.unwrap_or(0))
            .bind(filter.max_file_mb.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool).await)?;
        Ok(rows.into_iter().map(|r| (r.id, Run::from(r.run))).collect())
    }

    /// Replaces run `id` of `poc` with a checked one, audited with what it was.
    pub async fn update_run(&self, poc: i64, id: i64, r: &Run, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let before = self.poc_run(poc, id).await?.ok_or(StoreError::NotFound)?;
        in_tx!(self, tx => {
            sqlx::query("UPDATE poc_runs SET system = $1, scenario = $2, format = $3, compression = $4, file_count = $5, \
                file_size_mb = $6, total_bytes = $7, row_count = $8, load_seconds = $9, latency_p50_ms = $10, \
                latency_p95_ms = $11, credits = $12, cost_cents = $13, error = $14, run_date = $15, system_version = $16, \
                run_by = $17, notes = $18 WHERE id = $19 AND poc_id = $20")
                .bind(&r.system).bind(&r.scenario).bind(&r.params.format).bind(&r.params.compression)
                .bind(r.params.file_count).bind(r.params.file_size_mb).bind(r.total_bytes).bind(r.rows)
                .bind(r.load_seconds).bind(r.latency_p50_ms).bind(r.latency_p95_ms).bind(r.credits).bind(r.cost_cents)
                .bind(&r.error).bind(r.run_date).bind(&r.system_version).bind(&r.run_by).bind(&r.notes).bind(id).bind(poc)
                .execute(&mut *tx).await.map_err(|e| match e.as_database_error() {
                    Some(d) if d.is_foreign_key_violation() => StoreError::Unknown("system or scenario"),
                    _ => StoreError::Database(e),
                })?;
            write_audit!(tx, Audit::new(now, actor, "edit", "poc_run", id).before(json(&before)).after(json(r)));
        })
    }

    /// Takes run `id` of `poc` out of the record (a mistaken run), audited with what it was.
    pub async fn delete_run(&self, poc: i64, id: i64, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let before = self.poc_run(poc, id).await?.ok_or(StoreError::NotFound)?;
        in_tx!(self, tx => {
            sqlx::query("DELETE FROM poc_runs WHERE id = $1 AND poc_id = $2").bind(id).bind(poc).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "delete", "poc_run", id).before(json(&before)));
        })
    }

    pub async fn poc_run(&self, poc: i64, id: i64) -> Result<Option<Run>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM poc_runs WHERE id = $1 AND poc_id = $2");
        let row: Option<RunRow> =
            on_db!(self, pool => sqlx::query_as(&sql).bind(id).bind(poc).fetch_optional(pool).await)?;
        Ok(row.map(Run::from))
    }

    /// The runs `filter` lets through, folded per system, scenario and parameters.
    pub async fn poc_groups(&self, poc: i64, filter: &RunFilter) -> Result<Vec<RunGroup>> {
        let sql = "SELECT system, scenario, format, compression, file_count, file_size_mb, \
            COUNT(*) AS runs, SUM(CASE WHEN error IS NULL THEN 0 ELSE 1 END) AS failures, \
            MIN(load_seconds) AS best_seconds, CAST(AVG(load_seconds) AS DOUBLE PRECISION) AS mean_seconds, \
            CAST(AVG(CASE WHEN error IS NULL THEN cost_cents END) AS DOUBLE PRECISION) AS mean_cost_cents, \
            MAX(total_bytes) AS total_bytes, MAX(error) AS last_error, \
            MAX(CASE WHEN error IS NOT NULL THEN run_date END) AS last_failed \
            FROM poc_runs WHERE poc_id = $1 AND ($2 = '' OR format = $2) AND ($3 = '' OR compression = $3) \
            AND file_size_mb >= $4 AND file_size_mb <= $5 \
            GROUP BY system, scenario, format, compression, file_count, file_size_mb \
            ORDER BY scenario, format, compression, file_size_mb, file_count, system";
        Ok(on_db!(self, pool => sqlx::query_as(sql)
            .bind(poc)
            .bind(filter.format.as_deref().unwrap_or_default())
            .bind(filter.compression.as_deref().unwrap_or_default())
            .bind(filter.min_file_mb.unwrap_or(0))
            .bind(filter.max_file_mb.unwrap_or(i64::MAX))
            .fetch_all(pool).await)?)
    }

    /// Stores checked runs whole, or none of them (a system or scenario the PoC lacks stops all).
    pub async fn record_runs(&self, poc: i64, runs: &[Run], source: &str, actor: i64) -> Result<usize> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            for chunk in runs.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO poc_runs (poc_id, {RUN_COLUMNS}, created_at, created_by) "));
                q.push_values(chunk, |mut row, r| {
                    row.push_bind(poc).push_bind(r.system.clone()).push_bind(r.scenario.clone())
                        .push_bind(r.params.format.clone()).push_bind(r.params.compression.clone())
                        .push_bind(r.params.file_count).push_bind(r.params.file_size_mb).push_bind(r.total_bytes)
                        .push_bind(r.rows).push_bind(r.load_seconds).push_bind(r.latency_p50_ms)
                        .push_bind(r.latency_p95_ms).push_bind(r.credits).push_bind(r.cost_cents)
                        .push_bind(r.error.clone()).push_bind(r.run_date).push_bind(r.system_version.clone())
                        .push_bind(r.run_by.clone()).push_bind(r.notes.clone()).push_bind(now).push_bind(actor);
                });
                q.build().execute(&mut *tx).await.map_err(|e| match e.as_database_error() {
                    Some(d) if d.is_foreign_key_violation() => StoreError::Unknown("system or scenario"),
                    _ => StoreError::Database(e),
                })?;
            }
            write_audit!(tx, Audit::new(now, actor, "record", "poc", poc).after(json(&(runs.len(), source))));
            runs.len()
        })
    }

    /// Issues a token a script records runs of `poc` with: returned whole this once, stored as
    /// its SHA-256. It works until `expires_at` (if any), until revoked, and while its issuer is an
    /// active admin.
    pub async fn issue_poc_token(
        &self,
        poc: i64,
        label: &str,
        expires_at: Option<OffsetDateTime>,
        actor: i64,
    ) -> Result<ApiKey> {
        let now = OffsetDateTime::now_utc();
        let key = crate::partners::new_key();
        let hash = hex::encode(crate::partners::key_hash(&key));
        in_tx!(self, tx => {
            sqlx::query("INSERT INTO poc_tokens (poc_id, prefix, hash, label, expires_at, created_at, created_by) \
                VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(poc).bind(key.prefix()).bind(&hash).bind(label).bind(expires_at).bind(now).bind(actor)
                .execute(&mut *tx).await.map_err(|e| match e.as_database_error() {
                    Some(d) if d.is_foreign_key_violation() => StoreError::NotFound,
                    _ => StoreError::Database(e),
                })?;
            write_audit!(tx, Audit::new(now, actor, "issue", "poc_token", key.prefix()).after(json(&(poc, label, expires_at))));
        })?;
        Ok(key)
    }

    /// The tokens of `poc`, newest first (never their secret: a prefix and a label).
    pub async fn poc_tokens(&self, poc: i64) -> Result<Vec<PocToken>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT t.prefix, t.label, t.created_at, u.email AS issued_by, u.active AS issuer_active, \
                    t.expires_at, t.revoked_at \
             FROM poc_tokens t JOIN users u ON u.id = t.created_by WHERE t.poc_id = $1 ORDER BY t.id DESC")
            .bind(poc).fetch_all(pool).await)?)
    }

    /// Revokes the token with `prefix` (audited); [`StoreError::NotFound`] when there is no live one.
    pub async fn revoke_poc_token(&self, prefix: &str, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let changed = sqlx::query("UPDATE poc_tokens SET revoked_at = $1 WHERE prefix = $2 AND revoked_at IS NULL")
                .bind(now).bind(prefix).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            write_audit!(tx, Audit::new(now, actor, "revoke", "poc_token", prefix));
        })
    }

    /// The live token `key` stands for: (its PoC, who issued it). `None` for an unknown or wrong
    /// token, a revoked or expired one, or one whose issuer is no longer an active admin.
    pub async fn poc_token(&self, key: &ApiKey) -> Result<Option<(i64, i64)>> {
        type Row = (i64, String, i64, Option<OffsetDateTime>, Option<OffsetDateTime>, bool, String);
        let row: Option<Row> = on_db!(self, pool => sqlx::query_as(
            "SELECT t.poc_id, t.hash, t.created_by, t.revoked_at, t.expires_at, u.active, u.role \
             FROM poc_tokens t JOIN users u ON u.id = t.created_by WHERE t.prefix = $1")
            .bind(key.prefix()).fetch_optional(pool).await)?;
        let Some((poc, hash, issuer, revoked, expires, issuer_active, issuer_role)) = row else { return Ok(None) };
        let presented = hex::encode(crate::partners::key_hash(key));
        let same = bool::from(hash.as_bytes().ct_eq(presented.as_bytes()));
        let live = revoked.is_none() && expires.is_none_or(|e| e > OffsetDateTime::now_utc());
        let issuer_ok = issuer_active && issuer_role == domain::Role::Admin.as_str();
        Ok((same && live && issuer_ok).then_some((poc, issuer)))
    }
}

/// A PoC token as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PocToken {
    pub prefix: String,
    pub label: String,
    pub created_at: OffsetDateTime,
    pub issued_by: String,
    pub issuer_active: bool,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl PocToken {
    /// `works`, `revoked`, `expired` or `issuer_inactive` at `now`.
    pub fn state(&self, now: OffsetDateTime) -> &'static str {
        match (self.revoked_at, self.expires_at) {
            (Some(_), _) => "revoked",
            (None, Some(e)) if e <= now => "expired",
            _ if !self.issuer_active => "issuer_inactive",
            _ => "works",
        }
    }
}
