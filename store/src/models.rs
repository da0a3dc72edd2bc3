//! The model registry: ONNX files kept once by their SHA-256, versions numbered per model, and
//! each model's roll-out (its production version, a canary beside it). Every change to what
//! answers raises the model's generation, which each instance watches to swap models in memory.
//! Uploads, promotions, rollbacks, archiving and canary changes are audited.

use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, Result, StoreError, on_db};
use domain::models::Stage;
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// An upload, checked by the caller (the graph loads and answers its signature's example).
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    pub model: &'a str,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
    pub task: &'a str,
    /// JSON of the `domain::models::Signature`.
    pub signature: &'a str,
    pub uploaded_by: i64,
    /// `page`, `command`, or `key PREFIX` for an upload over the API.
    pub via: &'a str,
    pub note: &'a str,
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uploaded {
    /// A new version, in staging.
    New(i32),
    /// This model already has a version of the same file and signature.
    Same(i32),
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ModelVersion {
    pub model: String,
    pub version: i32,
    pub sha256: String,
    pub size: i64,
    pub task: String,
    pub signature: String,
    pub stage: String,
    pub uploaded_by: i64,
    pub uploaded_by_name: String,
    pub uploaded_via: String,
    pub uploaded_at: OffsetDateTime,
    pub note: String,
    pub retired_at: Option<OffsetDateTime>,
}

impl ModelVersion {
    pub fn stage(&self) -> Stage {
        Stage::parse(&self.stage).unwrap_or(Stage::Archived)
    }
}

/// A model as the registry's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StoredModel {
    pub name: String,
    pub task: String,
    pub latest: i32,
    pub production: Option<i32>,
    pub canary: Option<i32>,
    pub canary_percent: i32,
    pub generation: i64,
    pub sample_percent: i32,
}

/// What answers a model's predictions, as of its generation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Routing {
    pub name: String,
    pub generation: i64,
    pub production: Option<i32>,
    pub canary: Option<i32>,
    pub canary_percent: i32,
    /// The share of requests whose instances and answers are kept (docs/models.md, monitoring).
    pub sample_percent: i32,
}

const VERSION_COLUMNS: &str = "m.name AS model, v.version, v.sha256, f.size, v.task, v.signature, v.stage, v.uploaded_by, \
     u.name AS uploaded_by_name, v.uploaded_via, v.uploaded_at, v.note, v.retired_at \
     FROM model_versions v JOIN models m ON m.id = v.model_id JOIN model_files f ON f.sha256 = v.sha256 \
     JOIN users u ON u.id = v.uploaded_by";

const MODELS: &str = "SELECT m.name, \
     (SELECT task FROM model_versions WHERE model_id = m.id ORDER BY version DESC LIMIT 1) AS task, \
     (SELECT MAX(version) FROM model_versions WHERE model_id = m.id) AS latest, \
     (SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'production') AS production, \
     m.canary, m.canary_percent, m.generation, m.sample_percent FROM models m";

const ROUTING: &str = "SELECT m.name, m.generation, \
     (SELECT version FROM model_versions WHERE model_id = m.id AND stage = 'production') AS production, \
     m.canary, m.canary_percent, m.sample_percent FROM models m";

/// Makes `version` production inside transaction `$tx`: the current production version is
/// archived (and remembered as retired now, for a rollback), a canary of `version` ends.
macro_rules! promote {
    ($tx:ident, $id:expr, $version:expr, $now:expr) => {{
        sqlx::query("UPDATE model_versions SET stage = 'archived', retired_at = $1 WHERE model_id = $2 AND stage = 'production'")
            .bind($now).bind($id).execute(&mut *$tx).await?;
        sqlx::query("UPDATE model_versions SET stage = 'production' WHERE model_id = $1 AND version = $2")
            .bind($id).bind($version).execute(&mut *$tx).await?;
        sqlx::query("UPDATE models SET canary = NULL, canary_percent = 0 WHERE id = $1 AND canary = $2")
            .bind($id).bind($version).execute(&mut *$tx).await?;
    }};
}

impl Db {
    /// Stores an upload as the model's next version, in staging (the model is made by its first
    /// upload). The file is kept once, however many versions or models use it. Audited.
    pub async fn add_model_version(&self, v: &NewVersion<'_>) -> Result<Uploaded> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM models WHERE name = $1")
                .bind(v.model).fetch_optional(&mut *tx).await?;
            let id = match id {
                Some(id) => id,
                None => sqlx::query_scalar("INSERT INTO models (name, created_at) VALUES ($1, $2) RETURNING id")
                    .bind(v.model).bind(now).fetch_one(&mut *tx).await?,
            };
            let same: Option<i32> = sqlx::query_scalar(
                "SELECT version FROM model_versions WHERE model_id = $1 AND sha256 = $2 AND signature = $3 ORDER BY version DESC")
                .bind(id).bind(v.sha256).bind(v.signature).fetch_optional(&mut *tx).await?;
            if let Some(version) = same {
                return Ok(Uploaded::Same(version));
            }
            sqlx::query("INSERT INTO model_files (sha256, bytes, size) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
                .bind(v.sha256).bind(v.bytes).bind(v.bytes.len() as i64).execute(&mut *tx).await?;
            let version: i32 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO model_versions (model_id, version, sha256, task, signature, stage, uploaded_by, \
                         uploaded_via, uploaded_at, note) VALUES ($1, $2, $3, $4, $5, 'staging', $6, $7, $8, $9)")
                .bind(id).bind(version).bind(v.sha256).bind(v.task).bind(v.signature).bind(v.uploaded_by)
                .bind(v.via).bind(now).bind(v.note).execute(&mut *tx).await?;
            let after = format!("version {version}, sha256 {}, {} bytes, {}, via {}", v.sha256, v.bytes.len(), v.task, v.via);
            write_audit!(tx, Audit::new(now, v.uploaded_by, "upload", "model", v.model).after(after).reason(v.note));
            Uploaded::New(version)
        })
    }

    /// The registered models by name, each with its latest and production versions.
    pub async fn models(&self) -> Result<Vec<StoredModel>> {
        let sql = format!("{MODELS} ORDER BY m.name");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// One model as the registry's list shows it.
    pub async fn model(&self, name: &str) -> Result<Option<StoredModel>> {
        let sql = format!("{MODELS} WHERE m.name = $1");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(name).fetch_optional(pool).await)?)
    }

    /// Every version of a model, newest first (empty: no such model).
    pub async fn model_versions(&self, model: &str) -> Result<Vec<ModelVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} WHERE m.name = $1 ORDER BY v.version DESC");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(model).fetch_all(pool).await)?)
    }

    /// Every version of every model, by model name then newest first (one query for a list).
    pub async fn all_model_versions(&self) -> Result<Vec<ModelVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} ORDER BY m.name, v.version DESC");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    pub async fn model_version(&self, model: &str, version: i32) -> Result<Option<ModelVersion>> {
        let sql = format!("SELECT {VERSION_COLUMNS} WHERE m.name = $1 AND v.version = $2");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(model).bind(version).fetch_optional(pool).await)?)
    }

    /// A stored model file by its SHA-256.
    pub async fn model_file(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let sql = "SELECT bytes FROM model_files WHERE sha256 = $1";
        Ok(on_db!(self, pool => sqlx::query_scalar(sql).bind(sha256).fetch_optional(pool).await)?)
    }

    /// What answers each model's predictions (read every second by every instance).
    pub async fn model_routing(&self) -> Result<Vec<Routing>> {
        Ok(on_db!(self, pool => sqlx::query_as(ROUTING).fetch_all(pool).await)?)
    }

    /// One change to what answers a model's predictions, in one transaction: checked against the
    /// generation the person confirming saw (`seen`; if anything changed since, nothing is done,
    /// `Changed`), applied, the generation raised, audited. Returns the new generation.
    pub async fn change_model_roll_out(
        &self,
        model: &str,
        change: RollOut,
        seen: Option<i64>,
        actor: i64,
        reason: &str,
    ) -> Result<i64> {
        let change = match change {
            RollOut::Canary(Some((_, 0))) => RollOut::Canary(None),
            other => other,
        };
        if let RollOut::Canary(Some((_, percent))) = change
            && !(1..=100).contains(&percent)
        {
            return Err(StoreError::Refused(format!("a canary takes 1 to 100% of requests, not {percent}")));
        }
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            // Raising the generation first takes the row's write lock (PostgreSQL) before the read,
            // so two changes at once are applied one after the other, each checked.
            let id: Option<i64> = sqlx::query_scalar("UPDATE models SET generation = generation + 1 WHERE name = $1 RETURNING id")
                .bind(model).fetch_optional(&mut *tx).await?;
            let Some(id) = id else { return Err(StoreError::NotFound) };
            let from: Routing = sqlx::query_as(&format!("{ROUTING} WHERE m.id = $1")).bind(id).fetch_one(&mut *tx).await?;
            if seen.is_some_and(|g| g + 1 != from.generation) {
                return Err(StoreError::Changed("the model's roll-out"));
            }
            let stage_of = |version: i32| sqlx::query_scalar::<_, String>(
                "SELECT stage FROM model_versions WHERE model_id = $1 AND version = $2").bind(id).bind(version);
            let before = describe(&from);
            let refuse = |m: String| Err(StoreError::Refused(m));
            let stage: Option<String> = match change {
                RollOut::Promote(v) | RollOut::Archive(v) | RollOut::Canary(Some((v, _))) => {
                    let stage = stage_of(v).fetch_optional(&mut *tx).await?;
                    if stage.is_none() {
                        return refuse(format!("{model} has no version {v}"));
                    }
                    stage
                }
                RollOut::Rollback | RollOut::Canary(None) => None,
            };
            match change {
                RollOut::Promote(version) => {
                    if from.production == Some(version) {
                        return refuse(format!("version {version} is already in production"));
                    }
                    promote!(tx, id, version, now);
                }
                RollOut::Rollback => {
                    let previous: Option<i32> = sqlx::query_scalar(
                        "SELECT version FROM model_versions WHERE model_id = $1 AND retired_at IS NOT NULL \
                         AND stage <> 'production' ORDER BY retired_at DESC, version DESC LIMIT 1")
                        .bind(id).fetch_optional(&mut *tx).await?;
                    let Some(version) = previous else {
                        return refuse(format!("{model} has no earlier production version to roll back to"));
                    };
                    promote!(tx, id, version, now);
                }
                RollOut::Archive(version) => {
                    match stage.as_deref() {
                        Some("production") => return refuse(format!(
                            "version {version} is in production; promote another version or roll back first")),
                        Some("archived") => return refuse(format!("version {version} is already archived")),
                        _ => {}
                    }
                    sqlx::query("UPDATE model_versions SET stage = 'archived' WHERE model_id = $1 AND version = $2")
                        .bind(id).bind(version).execute(&mut *tx).await?;
                    sqlx::query("UPDATE models SET canary = NULL, canary_percent = 0 WHERE id = $1 AND canary = $2")
                        .bind(id).bind(version).execute(&mut *tx).await?;
                }
                RollOut::Canary(canary) => {
                    if canary.is_some() && from.production.is_none() {
                        return refuse("a canary runs beside a production version; promote one first".into());
                    }
                    if let (Some((version, _)), Some(stage)) = (canary, stage.as_deref())
                        && stage != "staging"
                    {
                        return refuse(format!("version {version} is {stage}; a canary is a staging version"));
                    }
                    sqlx::query("UPDATE models SET canary = $1, canary_percent = $2 WHERE id = $3")
                        .bind(canary.map(|c| c.0)).bind(canary.map_or(0, |c| c.1)).bind(id).execute(&mut *tx).await?;
                }
            }
            let to: Routing = sqlx::query_as(&format!("{ROUTING} WHERE m.id = $1")).bind(id).fetch_one(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, change.action(), "model", model).before(before).after(describe(&to)).reason(reason));
            to.generation
        })
    }
}

/// Counts from one instance since its last write: requests per (day, model, version, status,
/// latency bucket), predictions per (day, model, version, score bin), and sampled predictions.
#[derive(Debug, Clone, Default)]
pub struct Monitoring {
    pub usage: Vec<(Date, String, i32, i32, i32, i64)>,
    pub scores: Vec<(Date, String, i32, i32, i64)>,
    pub samples: Vec<NewSample>,
}

/// One kept prediction: the instance as sent and the answer for it, as JSON. No key, no caller.
#[derive(Debug, Clone)]
pub struct NewSample {
    pub model: String,
    pub version: i32,
    pub at: OffsetDateTime,
    pub instance: String,
    pub prediction: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Sample {
    pub version: i32,
    pub at: OffsetDateTime,
    pub instance: String,
    pub prediction: String,
}

/// How long kept predictions stay.
pub const SAMPLE_DAYS: i64 = 30;
/// At most this many kept predictions per version per day.
pub const MAX_SAMPLES_PER_DAY: usize = 1_000;

impl Db {
    /// Sets the share of requests whose instances and answers are kept (0: none). Audited.
    pub async fn set_model_sampling(&self, model: &str, percent: i32, actor: i64, reason: &str) -> Result<()> {
        if !(0..=100).contains(&percent) {
            return Err(StoreError::Refused(format!("the sample rate is 0 to 100%, not {percent}")));
        }
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let before: Option<i32> = sqlx::query_scalar("SELECT sample_percent FROM models WHERE name = $1")
                .bind(model).fetch_optional(&mut *tx).await?;
            let Some(before) = before else { return Err(StoreError::NotFound) };
            sqlx::query("UPDATE models SET sample_percent = $1 WHERE name = $2")
                .bind(percent).bind(model).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "sampling", "model", model)
                .before(format!("{before}% of requests kept")).after(format!("{percent}% of requests kept")).reason(reason));
        })
    }

    /// Adds one instance's counts and kept predictions, and forgets kept predictions older than
    /// [`SAMPLE_DAYS`]. Counts of a model no longer registered are dropped.
    pub async fn add_model_monitoring(&self, m: &Monitoring) -> Result<()> {
        const ID: &str = "(SELECT id FROM models WHERE name = $2)";
        let old = OffsetDateTime::now_utc() - time::Duration::days(SAMPLE_DAYS);
        in_tx!(self, tx => {
            for (day, model, version, status, bucket, n) in &m.usage {
                sqlx::query(&format!("INSERT INTO model_usage (day, model_id, version, status, bucket, requests) \
                    SELECT $1, {ID}, $3, $4, $5, $6 WHERE {ID} IS NOT NULL \
                    ON CONFLICT (model_id, version, day, status, bucket) DO UPDATE SET requests = model_usage.requests + excluded.requests"))
                    .bind(*day).bind(model).bind(*version).bind(*status).bind(*bucket).bind(*n).execute(&mut *tx).await?;
            }
            for (day, model, version, bin, n) in &m.scores {
                sqlx::query(&format!("INSERT INTO model_scores (day, model_id, version, bin, predictions) \
                    SELECT $1, {ID}, $3, $4, $5 WHERE {ID} IS NOT NULL \
                    ON CONFLICT (model_id, version, day, bin) DO UPDATE SET predictions = model_scores.predictions + excluded.predictions"))
                    .bind(*day).bind(model).bind(*version).bind(*bin).bind(*n).execute(&mut *tx).await?;
            }
            for s in &m.samples {
                sqlx::query(&format!("INSERT INTO model_samples (at, model_id, version, instance, prediction) \
                    SELECT $1, {ID}, $3, $4, $5 WHERE {ID} IS NOT NULL"))
                    .bind(s.at).bind(&s.model).bind(s.version).bind(&s.instance).bind(&s.prediction).execute(&mut *tx).await?;
            }
            if !m.samples.is_empty() {
                sqlx::query("DELETE FROM model_samples WHERE at < $1").bind(old).execute(&mut *tx).await?;
            }
        })
    }

    /// A model's requests since `from`: (day, version, status, latency bucket, requests).
    pub async fn model_usage(&self, model: &str, from: Date) -> Result<Vec<(Date, i32, i32, i32, i64)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT u.day, u.version, u.status, u.bucket, u.requests FROM model_usage u JOIN models m ON m.id = u.model_id \
             WHERE m.name = $1 AND u.day >= $2 ORDER BY u.day, u.version, u.status, u.bucket")
            .bind(model).bind(from).fetch_all(pool).await)?)
    }

    /// A model's predictions per score bin since `from`: (day, version, bin, predictions).
    pub async fn model_scores(&self, model: &str, from: Date) -> Result<Vec<(Date, i32, i32, i64)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT s.day, s.version, s.bin, s.predictions FROM model_scores s JOIN models m ON m.id = s.model_id \
             WHERE m.name = $1 AND s.day >= $2 ORDER BY s.day, s.version, s.bin")
            .bind(model).bind(from).fetch_all(pool).await)?)
    }

    /// A model's latest kept predictions, newest first.
    pub async fn model_samples(&self, model: &str, limit: i64) -> Result<Vec<Sample>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT s.version, s.at, s.instance, s.prediction FROM model_samples s JOIN models m ON m.id = s.model_id \
             WHERE m.name = $1 ORDER BY s.at DESC, s.id DESC LIMIT $2")
            .bind(model).bind(limit).fetch_all(pool).await)?)
    }
}

/// A change to what answers a model's predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollOut {
    /// Makes this version production; the one before is archived (a rollback promotes it again).
    /// A canary of this version ends.
    Promote(i32),
    /// Promotes again the version that was production before the current one.
    Rollback,
    /// This version answers nothing from now on (not the production version: promote another,
    /// or roll back, first).
    Archive(i32),
    /// Sends a share of the production requests (version, 1 to 100%) to a staging version;
    /// `None` ends the canary.
    Canary(Option<(i32, i32)>),
}

impl RollOut {
    pub fn action(self) -> &'static str {
        match self {
            RollOut::Promote(_) => "promote",
            RollOut::Rollback => "rollback",
            RollOut::Archive(_) => "archive",
            RollOut::Canary(_) => "canary",
        }
    }
}

fn describe(r: &Routing) -> String {
    let production = r.production.map_or("no production version".to_owned(), |v| format!("production version {v}"));
    match r.canary {
        Some(c) if r.canary_percent > 0 => format!("{production}, canary version {c} at {}%", r.canary_percent),
        _ => production,
    }
}
