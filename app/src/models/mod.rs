//! The model registry's pages (`/models`): the models with their production and canary versions,
//! a model's versions with metrics and stages, uploading a version, promoting, rolling back,
//! archiving and canaries (confirmed, audited), and a "try it" form built from the signature.
//! Everyone signed in reads; pipeline builders and admins change. Every form works without
//! JavaScript: "try it" is a GET form whose answer the page renders, the changes are plain posts,
//! an upload is a multipart post to `/models/upload`.

mod pages;

pub use pages::{ModelPage, ModelsPage};

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};
#[cfg(feature = "ssr")]
use domain::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelLine {
    pub name: String,
    pub task: String,
    pub description: String,
    pub latest: i32,
    pub production: Option<i32>,
    pub canary: Option<i32>,
    pub canary_percent: i32,
    /// The production version's training metrics (the latest version's while none is).
    pub metrics: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    pub models: Vec<ModelLine>,
    pub can_write: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionLine {
    pub version: i32,
    pub stage: String,
    pub uploaded_by: String,
    pub uploaded_via: String,
    pub uploaded_at: String,
    pub sha256: String,
    pub size: i64,
    pub note: String,
    pub metrics: Vec<(String, f64)>,
    pub training: Vec<(String, String)>,
}

/// A feature of the "try it" form: its name, kind, what it takes in words, its categories, and
/// the value last tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TryField {
    pub feature: domain::models::Feature,
    pub name: String,
    pub kind: String,
    pub takes: String,
    pub description: String,
    pub categories: Vec<String>,
    pub value: String,
}

/// What "try it" answered: the version, the label, and each class's probability or segment's
/// score; or every problem of the values tried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Tried {
    Answer { version: i32, label: Option<String>, numbers: Vec<(String, f32)>, value: Option<f32>, scores: bool },
    Problems(Vec<String>),
}

/// One score bin of the drift chart: its name, its share of today's predictions and of the
/// training predictions (when the signature gives them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftBin {
    pub name: String,
    pub today: f64,
    pub training: Option<f64>,
}

/// One version's monitoring over the last [`MONITOR_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitored {
    pub version: i32,
    pub days: Vec<crate::partners::DayUsage>,
    pub requests: i64,
    /// Over the days shown, in milliseconds (each the upper bound of its latency bucket).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub scored_today: i64,
    pub drift: Vec<DriftBin>,
}

/// A kept prediction: the instance as sent and the answer, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleLine {
    pub version: i32,
    pub at: String,
    pub instance: String,
    pub prediction: String,
}

/// Days of monitoring a model's page shows.
pub const MONITOR_DAYS: i64 = 14;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelView {
    pub line: ModelLine,
    pub generation: i64,
    pub versions: Vec<VersionLine>,
    /// The version a rollback would put back in production.
    pub rollback_to: Option<i32>,
    pub fields: Vec<TryField>,
    /// The signature's example, as the form's starting values.
    pub tried: Option<Tried>,
    pub can_write: bool,
    /// Versions that answered in the days shown, newest first.
    pub monitoring: Vec<Monitored>,
    pub sample_percent: i32,
    /// The latest kept predictions (builders and admins only: they may hold partners' inputs).
    pub samples: Vec<SampleLine>,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use domain::models::Signature;

    pub fn when(at: time::OffsetDateTime) -> String {
        let offset = use_context::<crate::AppState>().map_or(time::UtcOffset::UTC, |s| s.business_offset);
        let at = at.to_offset(offset);
        format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
    }

    pub fn signature(json: &str) -> Option<Signature> {
        serde_json::from_str(json).ok()
    }

    pub fn metrics(s: Option<&Signature>) -> Vec<(String, f64)> {
        s.map(|s| s.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect()).unwrap_or_default()
    }

    pub fn line(m: &store::models::StoredModel, shown: Option<&Signature>) -> ModelLine {
        ModelLine {
            name: m.name.clone(),
            task: m.task.clone(),
            description: shown.map(|s| s.description.clone()).unwrap_or_default(),
            latest: m.latest,
            production: m.production,
            canary: m.canary,
            canary_percent: m.canary_percent,
            metrics: metrics(shown),
        }
    }
}

#[cfg(feature = "ssr")]
use server::*;

#[server(endpoint = "models/list", output = crate::codec::Json)]
pub async fn list_models() -> Result<ModelList, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let mut models = Vec::new();
    for m in db.models().await? {
        let shown = match m.production {
            Some(v) => db.model_version(&m.name, v).await?,
            None => db.model_version(&m.name, m.latest).await?,
        };
        models.push(line(&m, shown.as_ref().and_then(|v| signature(&v.signature)).as_ref()));
    }
    Ok(ModelList { models, can_write: caller.user()?.role.includes(Role::Builder) })
}

/// A model's page; `tried` holds the "try it" form's values when it was sent (`version` picks the
/// version tried, production by default).
#[server(endpoint = "models/get", output = crate::codec::Json)]
pub async fn get_model(
    name: String,
    tried: Option<Vec<(String, String)>>,
    version: Option<i32>,
) -> Result<ModelView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let stored = db.model(&name).await?.ok_or(AppError::NotFound)?;
    let versions = db.model_versions(&name).await?;
    let shown_version = version.or(stored.production).unwrap_or(stored.latest);
    let shown = versions.iter().find(|v| v.version == shown_version).and_then(|v| signature(&v.signature));
    let rollback_to = versions
        .iter()
        .filter(|v| v.retired_at.is_some() && v.stage() != domain::models::Stage::Production)
        .max_by_key(|v| (v.retired_at, v.version))
        .map(|v| v.version);
    let given: std::collections::BTreeMap<String, String> = tried.clone().unwrap_or_default().into_iter().collect();
    let fields = shown
        .as_ref()
        .map(|s| {
            s.input
                .features
                .iter()
                .map(|f| TryField {
                    feature: f.clone(),
                    name: f.name.clone(),
                    kind: f.kind.as_str().to_owned(),
                    takes: domain::models::describe(f),
                    description: f.description.clone(),
                    categories: f.categories.clone(),
                    value: given.get(&f.name).cloned().unwrap_or_else(|| match s.example.get(&f.name) {
                        Some(domain::models::Value::Text(t)) => t.clone(),
                        Some(domain::models::Value::Number(n)) => n.to_string(),
                        Some(domain::models::Value::Bool(b)) => b.to_string(),
                        _ => String::new(),
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    let tried = match (tried, &shown) {
        (Some(values), Some(s)) => Some(try_it(&caller.state, &name, shown_version, s, &values).await),
        _ => None,
    };
    let lines = versions
        .iter()
        .map(|v| {
            let s = signature(&v.signature);
            VersionLine {
                version: v.version,
                stage: v.stage.clone(),
                uploaded_by: v.uploaded_by_name.clone(),
                uploaded_via: v.uploaded_via.clone(),
                uploaded_at: when(v.uploaded_at),
                sha256: v.sha256.clone(),
                size: v.size,
                note: v.note.clone(),
                metrics: metrics(s.as_ref()),
                training: s
                    .map(|s| s.training_data.iter().map(|(k, v)| (k.clone(), v.plain())).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let can_write = caller.user()?.role.includes(Role::Builder);
    let monitoring = monitoring(db, &name, &versions).await?;
    let samples = if can_write {
        db.model_samples(&name, 20)
            .await?
            .into_iter()
            .map(|s| SampleLine { version: s.version, at: when(s.at), instance: s.instance, prediction: s.prediction })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ModelView {
        line: line(&stored, shown.as_ref()),
        generation: stored.generation,
        versions: lines,
        rollback_to,
        fields,
        tried,
        can_write,
        monitoring,
        sample_percent: stored.sample_percent,
        samples,
    })
}

/// Each version's requests per day (answered, refused, failed), latency percentiles and today's
/// score distribution beside its training distribution.
#[cfg(feature = "ssr")]
async fn monitoring(
    db: &store::Db,
    name: &str,
    versions: &[store::models::ModelVersion],
) -> Result<Vec<Monitored>, AppError> {
    use domain::models::latency_percentile;
    let today = time::OffsetDateTime::now_utc().date();
    let since = today - time::Duration::days(MONITOR_DAYS - 1);
    let usage = db.model_usage(name, since).await?;
    let scores = db.model_scores(name, today).await?;
    let mut shown: Vec<Monitored> = Vec::new();
    for v in versions {
        let mine: Vec<_> = usage.iter().filter(|u| u.1 == v.version).collect();
        let scored: Vec<(i32, i64)> = scores.iter().filter(|s| s.1 == v.version).map(|s| (s.2, s.3)).collect();
        if mine.is_empty() && scored.is_empty() {
            continue;
        }
        let mut days: Vec<crate::partners::DayUsage> = (0..MONITOR_DAYS)
            .map(|back| crate::partners::DayUsage {
                day: (since + time::Duration::days(back)).to_string(),
                ok: 0,
                refused: 0,
                failed: 0,
            })
            .collect();
        let mut buckets: Vec<(i32, i64)> = Vec::new();
        for (day, _, status, bucket, n) in &mine {
            if let Some(d) = usize::try_from((*day - since).whole_days()).ok().and_then(|i| days.get_mut(i)) {
                match status {
                    500.. => d.failed += n,
                    400.. => d.refused += n,
                    _ => d.ok += n,
                }
            }
            buckets.push((*bucket, *n));
        }
        let ms = |p: u32| latency_percentile(&buckets, p).map(|micros| micros / 1000.0);
        let s = signature(&v.signature);
        let scored_today: i64 = scored.iter().map(|(_, n)| n).sum();
        let drift = s
            .as_ref()
            .map(|s| {
                let training = s.training_distribution.as_ref().map(|d| d.shares.clone());
                (0..s.bins())
                    .map(|bin| {
                        let n: i64 = scored.iter().filter(|(b, _)| *b as usize == bin).map(|(_, n)| n).sum();
                        DriftBin {
                            name: s.bin_name(bin),
                            today: if scored_today > 0 { n as f64 / scored_today as f64 } else { 0.0 },
                            training: training.as_ref().and_then(|t| t.get(bin).copied()),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        shown.push(Monitored {
            version: v.version,
            requests: mine.iter().map(|u| u.4).sum(),
            days,
            p50_ms: ms(50),
            p95_ms: ms(95),
            scored_today,
            drift,
        });
    }
    Ok(shown)
}

/// A change is made only when confirmed, with a reason of at most 500 characters.
#[cfg(feature = "ssr")]
fn confirmed(confirm: bool, reason: &str) -> Result<(), AppError> {
    if !confirm {
        return Err(AppError::invalid("confirm", "model.confirm"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "model.reason_long"));
    }
    Ok(())
}

/// Sets the share of prediction requests whose instances and answers are kept (0 to 100).
#[server(endpoint = "models/sampling", output = crate::codec::Json)]
pub async fn set_sampling(
    name: String,
    percent: i32,
    #[server(default)] reason: String,
    #[server(default)] confirm: bool,
) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    confirmed(confirm, &reason)?;
    caller.state.service().set_sampling(&caller.actor()?, &name, percent, reason.trim()).await?;
    Ok(())
}

/// The form's values checked by the same code as the API (`domain::models::encode_text`), then
/// predicted by the version the API would use.
#[cfg(feature = "ssr")]
async fn try_it(
    state: &crate::AppState,
    name: &str,
    version: i32,
    s: &domain::models::Signature,
    values: &[(String, String)],
) -> Tried {
    let fields = values.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let row = match domain::models::encode_text(s, fields) {
        Ok(row) => row,
        Err(problems) => return Tried::Problems(problems.iter().map(ToString::to_string).collect()),
    };
    let loaded = match state.serving.pick(name, Some(version), None).await {
        Ok((loaded, _)) => loaded,
        Err(e) => return Tried::Problems(vec![e.to_string()]),
    };
    match service::models::Serving::predict_rows(loaded, &row) {
        Ok(answer) => {
            let p = &answer.predictions;
            let classes: Vec<String> = s.outputs.label.as_ref().map(|l| l.classes.clone()).unwrap_or_default();
            let (numbers, scores) = if p.classes > 0 { (p.probabilities(0), false) } else { (p.scores(0), true) };
            let numbers = numbers
                .iter()
                .enumerate()
                .map(|(i, x)| (classes.get(i).cloned().unwrap_or_else(|| i.to_string()), *x))
                .collect();
            let label = p.label(0).and_then(|l| s.class_name(l)).map(str::to_owned);
            Tried::Answer { version, label, numbers, value: p.value(0), scores }
        }
        Err(e) => {
            tracing::error!(error = %e, model = name, version, "try it failed");
            Tried::Problems(vec![e.to_string()])
        }
    }
}

/// Changes what answers a model's predictions: `action` is promote, rollback, archive, canary or
/// end_canary; `generation` is what the page showed (a change made since refuses this one; the
/// pages always send it).
#[server(endpoint = "models/roll-out", output = crate::codec::Json)]
pub async fn change_roll_out(
    name: String,
    action: String,
    #[server(default)] version: Option<i32>,
    #[server(default)] percent: Option<i32>,
    #[server(default)] generation: Option<i64>,
    #[server(default)] reason: String,
    #[server(default)] confirm: bool,
) -> Result<(), AppError> {
    use store::models::RollOut;
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    confirmed(confirm, &reason)?;
    let need = |v: Option<i32>| v.ok_or_else(|| AppError::invalid("version", "model.version_required"));
    let change = match action.as_str() {
        "promote" => RollOut::Promote(need(version)?),
        "rollback" => RollOut::Rollback,
        "archive" => RollOut::Archive(need(version)?),
        "canary" => RollOut::Canary(Some((need(version)?, percent.unwrap_or(10)))),
        "end_canary" => RollOut::Canary(None),
        _ => return Err(AppError::BadRequest(format!("unknown action {action:?}"))),
    };
    caller.state.service().change_roll_out(&caller.actor()?, &name, change, generation, reason.trim()).await?;
    Ok(())
}
