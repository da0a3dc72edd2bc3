//! Pipelines (`/pipelines`): the list with each pipeline's last run and next scheduled time; a
//! pipeline's page with its lineage (drawn on the server), run form, schedule and history; the
//! editor, checked as one types (the file's structure in the browser by `domain`, its SQL on the
//! server); versions with who changed what and the diff; a run's page with each step's rows while
//! it runs, and its results or its error.
//!
//! Everyone signed in reads pipelines and their runs; pipeline builders and admins write, run,
//! schedule and cancel them. Every server function checks the role itself.

mod editor;
mod lineage;
mod pages;

pub use editor::EditorPage;
pub use pages::{PipelinePage, PipelinesPage, RunPage, VersionsPage};

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};
#[cfg(feature = "ssr")]
use domain::Role;

/// A run as the pages list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLine {
    pub id: i64,
    pub pipeline: String,
    /// running, succeeded or failed.
    pub state: String,
    pub started_at: String,
    pub by: String,
    /// page, schedule or command.
    pub via: String,
    pub version: Option<i32>,
    pub seconds: Option<f64>,
    pub failed_step: Option<String>,
    pub reason: Option<String>,
}

/// A pipeline in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineLine {
    pub name: String,
    pub version: i32,
    pub saved_at: String,
    pub saved_by: String,
    pub last_run: Option<RunLine>,
    pub cron: Option<String>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineList {
    pub pipelines: Vec<PipelineLine>,
    pub can_build: bool,
}

/// A parameter as the run form asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamLine {
    pub name: String,
    /// month, date, text or integer.
    pub kind: String,
    pub default: Option<String>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleLine {
    pub cron: String,
    pub params: BTreeMap<String, String>,
    pub retries: i32,
    pub next: Option<String>,
}

/// The steps and what reads what, for the lineage drawing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Lineage {
    /// name, kind (source, clean, …, sink), and for sources and sinks where (a connection, the ledger).
    pub steps: Vec<(String, String, String)>,
    /// Per step, the steps it reads (by index).
    pub reads: Vec<Vec<usize>>,
}

/// A pipeline's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineView {
    pub name: String,
    pub version: i32,
    pub description: String,
    pub saved_at: String,
    pub saved_by: String,
    pub note: String,
    pub text: String,
    pub params: Vec<ParamLine>,
    pub lineage: Lineage,
    pub schedule: Option<ScheduleLine>,
    pub runs: Vec<RunLine>,
    pub can_build: bool,
}

/// A step of a finished run, as it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StepLine {
    pub name: String,
    pub kind: String,
    pub rows_in: u64,
    pub rows: u64,
    pub bytes: u64,
    pub millis: u64,
    pub wrote: Option<String>,
}

/// A step of a run going on: rows so far, done or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStep {
    pub name: String,
    pub kind: String,
    pub rows: u64,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub run: RunLine,
    pub params: Vec<(String, String)>,
    pub steps: Vec<StepLine>,
    /// While it runs: each step so far (as it is on the instance running it, else as of its
    /// last beat).
    pub live: Option<Vec<LiveStep>>,
    pub can_cancel: bool,
    /// Someone asked it to stop; it stops at the next beat of the instance running it.
    pub cancel_asked: bool,
    /// While it runs: when the instance running it was last heard from, if that is a while ago.
    pub quiet_since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionLine {
    pub version: i32,
    pub saved_at: String,
    pub saved_by: String,
    pub note: String,
    pub sha256: String,
}

/// A line of a diff: `' '` the same, `'-'` only in the older version, `'+'` only in the newer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLine {
    pub tag: char,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsView {
    pub name: String,
    pub versions: Vec<VersionLine>,
    /// The version shown against the one before it.
    pub shown: Option<(i32, Vec<DiffLine>)>,
}

/// What the editor starts from: the stored text (or a template for a new pipeline) and the
/// version it is based on, so a save over someone else's is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorData {
    pub name: Option<String>,
    pub base: Option<i32>,
    pub text: String,
}

/// A new pipeline starts from this: one source, one step, one sink, each kind named.
pub const TEMPLATE: &str = r#"version: 1
description: What this pipeline does, in a sentence.
params:
  month: { type: month, default: previous }
connections:
  lake: { kind: folder, path: lake }
steps:
  - name: ledger
    source: { ledger: { month: "${month}" } }
  - name: daily
    aggregate: { input: ledger, group_by: [entry_date, game], sum: [reporting_amount] }
  - name: store
    sink: { files: { input: daily, connection: lake, path: "daily/month=${month}", format: parquet } }
"#;

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use store::Db;

    pub fn when(at: time::OffsetDateTime) -> String {
        let offset = use_context::<crate::AppState>().map_or(time::UtcOffset::UTC, |s| s.business_offset);
        let at = at.to_offset(offset);
        let (h, m, _) = offset.as_hms();
        format!("{} {:02}:{:02} (UTC{:+03}:{:02})", at.date(), at.hour(), at.minute(), h, m.unsigned_abs())
    }

    pub fn when_unix(at: i64) -> Option<String> {
        time::OffsetDateTime::from_unix_timestamp(at).ok().map(when)
    }

    /// People's names by id, for "saved by" and "run by".
    pub async fn names(db: &Db) -> Result<BTreeMap<i64, String>, AppError> {
        Ok(db.users().await?.into_iter().map(|u| (u.id, u.name)).collect())
    }

    pub fn run_line(r: store::pipelines::PipelineRun, names: &BTreeMap<i64, String>) -> RunLine {
        let seconds = r.finished_at.map(|end| ((end - r.started_at).as_seconds_f64() * 10.0).round() / 10.0);
        RunLine {
            id: r.id,
            by: r.started_by.and_then(|id| names.get(&id).cloned()).unwrap_or_default(),
            pipeline: r.pipeline,
            state: r.state,
            started_at: when(r.started_at),
            via: r.started_via,
            version: r.version,
            seconds,
            failed_step: r.failed_step,
            reason: r.reason,
        }
    }

    pub fn lineage(checked: &domain::pipeline::Checked) -> Lineage {
        use domain::pipeline::{Sink, Source, StepKind};
        let p = &checked.pipeline;
        let steps = p
            .steps
            .iter()
            .map(|s| {
                let (kind, place) = match s.kinds().first() {
                    Some(StepKind::Source(Source::Files { connection, glob, .. })) => {
                        ("source", format!("{}: {}", connection.value, glob.value))
                    }
                    Some(StepKind::Source(Source::Database { connection, .. })) => ("source", connection.value.clone()),
                    Some(StepKind::Source(Source::Ledger { .. })) => ("source", "MCMS cost ledger".to_owned()),
                    Some(StepKind::Source(Source::PartnerStats { .. })) => {
                        ("source", "MCMS partner statistics".to_owned())
                    }
                    Some(StepKind::Clean(_)) => ("clean", String::new()),
                    Some(StepKind::Transform(_)) => ("transform", String::new()),
                    Some(StepKind::Aggregate(_)) => ("aggregate", String::new()),
                    Some(StepKind::Check(_)) => ("check", String::new()),
                    Some(StepKind::Predict(p)) => ("predict", format!("model {}", p.model.value)),
                    Some(StepKind::Sink(Sink::Files { connection, path, .. })) => {
                        ("sink", format!("{}: {}", connection.value, path.value))
                    }
                    Some(StepKind::Sink(Sink::Table { connection, table, .. })) => {
                        ("sink", format!("{}: {}", connection.value, table.value))
                    }
                    Some(StepKind::Sink(Sink::Redshift { table, .. })) => {
                        ("sink", format!("redshift: {}", table.value))
                    }
                    None => ("", String::new()),
                };
                (s.name.value.clone(), kind.to_owned(), place)
            })
            .collect();
        Lineage { steps, reads: checked.reads.clone() }
    }

    /// Parameter values from a form: empty ones left out (their defaults apply).
    pub fn given(values: BTreeMap<String, String>) -> BTreeMap<String, String> {
        values.into_iter().map(|(k, v)| (k, v.trim().to_owned())).filter(|(_, v)| !v.is_empty()).collect()
    }

    pub fn problems(problems: Vec<domain::pipeline::Problem>) -> Vec<crate::error::PipelineProblem> {
        problems
            .into_iter()
            .map(|p| crate::error::PipelineProblem {
                line: p.line,
                column: p.column,
                code: p.kind.code().to_owned(),
                message: p.kind.to_string(),
                args: p.kind.args(),
            })
            .collect()
    }
}

#[cfg(feature = "ssr")]
use server::*;

#[server(endpoint = "pipelines/list", output = crate::codec::Json)]
pub async fn list_pipelines() -> Result<PipelineList, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let names = names(db).await?;
    let schedules = db.schedules().await?;
    let runs = db.latest_pipeline_runs().await?;
    let mut pipelines = Vec::new();
    for p in db.pipelines().await? {
        let schedule = schedules.iter().find(|s| s.name == p.name);
        let next = schedule.and_then(|s| caller.state.pipelines.next_time(&s.cron).ok().flatten()).and_then(when_unix);
        let last_run = runs.iter().find(|r| r.pipeline == p.name).cloned().map(|r| run_line(r, &names));
        pipelines.push(PipelineLine {
            saved_by: names.get(&p.saved_by).cloned().unwrap_or_default(),
            saved_at: when(p.saved_at),
            last_run,
            cron: schedule.map(|s| s.cron.clone()),
            next,
            version: p.version,
            name: p.name,
        });
    }
    Ok(PipelineList { pipelines, can_build: caller.user()?.role.includes(Role::Builder) })
}

#[server(endpoint = "pipelines/get", output = crate::codec::Json)]
pub async fn get_pipeline(name: String, version: Option<i32>) -> Result<PipelineView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let stored = db.pipeline_version(&name, version).await?.ok_or(AppError::NotFound)?;
    let names = names(db).await?;
    let (description, params, lineage) = match domain::pipeline::check_draft(&stored.text) {
        Ok(checked) => {
            let params = checked
                .pipeline
                .params
                .iter()
                .map(|(name, p)| ParamLine {
                    name: name.clone(),
                    kind: format!("{:?}", p.kind).to_lowercase(),
                    default: p.default.as_ref().map(|d| d.value.clone()),
                    description: p.description.clone(),
                })
                .collect();
            (checked.pipeline.description.clone(), params, lineage(&checked))
        }
        Err(_) => (String::new(), Vec::new(), Lineage::default()),
    };
    let schedule = db.schedules().await?.into_iter().find(|s| s.name == name).map(|s| ScheduleLine {
        next: caller.state.pipelines.next_time(&s.cron).ok().flatten().and_then(when_unix),
        params: serde_json::from_str(&s.params).unwrap_or_default(),
        cron: s.cron,
        retries: s.retries,
    });
    let runs = db.pipeline_runs(Some(&name), 50).await?.into_iter().map(|r| run_line(r, &names)).collect();
    Ok(PipelineView {
        saved_by: names.get(&stored.saved_by).cloned().unwrap_or_default(),
        saved_at: when(stored.saved_at),
        name: stored.name,
        version: stored.version,
        description,
        note: stored.note,
        text: stored.text,
        params,
        lineage,
        schedule,
        runs,
        can_build: caller.user()?.role.includes(Role::Builder),
    })
}

#[server(endpoint = "pipelines/editor", output = crate::codec::Json)]
pub async fn load_editor(name: Option<String>) -> Result<EditorData, AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    match name {
        None => Ok(EditorData { name: None, base: None, text: TEMPLATE.to_owned() }),
        Some(name) => {
            let stored = caller.state.db.pipeline_version(&name, None).await?.ok_or(AppError::NotFound)?;
            Ok(EditorData { name: Some(stored.name), base: Some(stored.version), text: stored.text })
        }
    }
}

/// The whole check (the file's structure, then its SQL planned against the sources' columns):
/// fine, or every problem with its line and column, and the text sent back (a form posted
/// without JavaScript comes back with it).
#[server(endpoint = "pipelines/check", output = crate::codec::Json)]
pub async fn check_pipeline(text: String) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let text = plain_lines(text);
    let found = caller.state.pipelines.check(&text).await;
    match found.is_empty() {
        true => Ok(()),
        false => Err(AppError::Pipeline { problems: problems(found), name: String::new(), submitted: text }),
    }
}

/// Saves the text as the pipeline's next version, if its structure is sound and nobody saved
/// since `base` (a new pipeline: no `base`, and the name not taken). Audited.
#[server(endpoint = "pipelines/save", output = crate::codec::Json)]
pub async fn save_pipeline(
    name: String,
    text: String,
    #[server(default)] base: Option<i32>,
    #[server(default)] note: String,
) -> Result<i32, AppError> {
    use sha2::Digest;
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let name = name.trim().to_owned();
    let text = plain_lines(text);
    if !domain::pipeline::is_pipeline_name(&name) {
        return Err(AppError::invalid("name", "pipeline.name"));
    }
    if note.chars().count() > 500 {
        return Err(AppError::invalid("note", "pipeline.note_long"));
    }
    let checked = match domain::pipeline::check_draft(&text) {
        Ok(checked) => checked,
        Err(found) => return Err(AppError::Pipeline { problems: problems(found), name, submitted: text }),
    };
    // A schedule in the file is the pipeline's schedule once the version is saved.
    let cron = checked.pipeline.schedule.as_ref().map(|c| c.value.split_whitespace().collect::<Vec<_>>().join(" "));
    if let (Some(cron), Some(place)) = (&cron, &checked.pipeline.schedule)
        && caller.state.pipelines.next_time(cron).is_err()
    {
        let problem = crate::error::PipelineProblem {
            line: place.at.line,
            column: place.at.column,
            code: "pipeline.cron".into(),
            message: format!(
                "`{cron}` is not a cron expression of five fields (minute hour day-of-month month day-of-week)"
            ),
            args: vec![cron.clone()],
        };
        return Err(AppError::Pipeline { problems: vec![problem], name, submitted: text });
    }
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let based_on = match base {
        Some(v) => store::pipelines::Base::Version(v),
        None => store::pipelines::Base::New,
    };
    let actor = caller.user()?.id;
    let saved = caller.state.db.save_pipeline(&name, &text, &sha, based_on, note.trim(), actor).await;
    let version = match saved {
        Ok(store::pipelines::Saved::New(v) | store::pipelines::Saved::Unchanged(v)) => v,
        Err(store::StoreError::Changed(_)) => {
            let code = if base.is_none() { "pipeline.name_taken" } else { "pipeline.changed" };
            return Err(AppError::PipelineConflict { code: code.to_owned(), name, submitted: text });
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(cron) = cron {
        caller.state.db.schedule_from_file(&name, &cron, actor).await?;
    }
    leptos_axum::redirect(&format!("/pipelines/{name}"));
    Ok(version)
}

/// A form's text with the line ends a browser sends (CR LF) as the files have them (LF).
#[cfg(feature = "ssr")]
fn plain_lines(text: String) -> String {
    if text.contains('\r') { text.replace("\r\n", "\n") } else { text }
}

/// Starts a run of the pipeline's current version with these parameter values (empty ones take
/// their defaults), on this instance; the browser goes to the run's page.
#[server(endpoint = "pipelines/run", output = crate::codec::Json)]
pub async fn start_run(name: String, #[server(default)] params: BTreeMap<String, String>) -> Result<i64, AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let stored = caller.state.db.pipeline_version(&name, None).await?.ok_or(AppError::NotFound)?;
    let params = given(params);
    if let Err(found) = domain::pipeline::check(&stored.text, &params) {
        return Err(AppError::Pipeline { problems: problems(found), name: String::new(), submitted: String::new() });
    }
    let run = crate::state::RunStart {
        name: stored.name.clone(),
        version: stored.version,
        text: stored.text,
        params,
        by: caller.user()?.id,
    };
    let id = caller.state.pipelines.start(run).await?;
    leptos_axum::redirect(&format!("/pipelines/{}/runs/{id}", stored.name));
    Ok(id)
}

#[server(endpoint = "pipelines/run/get", output = crate::codec::Json)]
pub async fn get_run(id: i64) -> Result<RunView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let run = db.pipeline_run(id).await?.ok_or(AppError::NotFound)?;
    let names = names(db).await?;
    let params: BTreeMap<String, String> = serde_json::from_str(&run.params).unwrap_or_default();
    let steps: Vec<StepLine> = serde_json::from_str(&run.steps).unwrap_or_default();
    let running = run.state == "running";
    let here = running.then(|| caller.state.pipelines.progress(id)).flatten().map(|steps| {
        steps.into_iter().map(|(name, kind, rows, done)| LiveStep { name, kind: kind.to_owned(), rows, done }).collect()
    });
    let live = match here {
        Some(steps) => Some(steps),
        None if running => run.progress.as_deref().and_then(|p| serde_json::from_str(p).ok()),
        None => None,
    };
    // A beat comes every second: a few missed say the instance is busy or gone.
    let heard = run.beat_at.unwrap_or(run.started_at);
    let quiet = running && time::OffsetDateTime::now_utc() - heard > time::Duration::seconds(10);
    Ok(RunView {
        can_cancel: running && run.cancel_asked_at.is_none() && caller.user()?.role.includes(Role::Builder),
        cancel_asked: running && run.cancel_asked_at.is_some(),
        quiet_since: quiet.then(|| when(heard)),
        run: run_line(run, &names),
        params: params.into_iter().collect(),
        steps,
        live,
    })
}

/// Asks a run going on to stop, on whichever instance runs it: what it wrote so far is removed
/// and it is recorded as cancelled. The ask is recorded (who, when); a run on this instance is
/// cancelled at once, one elsewhere at its next beat.
#[server(endpoint = "pipelines/run/cancel", output = crate::codec::Json)]
pub async fn cancel_run(id: i64) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let db = &caller.state.db;
    db.pipeline_run(id).await?.ok_or(AppError::NotFound)?;
    if !db.ask_to_cancel_pipeline_run(id, caller.user()?.id).await? {
        return Err(AppError::Conflict { code: "pipeline.not_running".into() });
    }
    caller.state.pipelines.cancel(id);
    Ok(())
}

#[server(endpoint = "pipelines/versions", output = crate::codec::Json)]
pub async fn pipeline_versions(name: String, shown: Option<i32>) -> Result<VersionsView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let stored = db.pipeline_versions(&name).await?;
    if stored.is_empty() {
        return Err(AppError::NotFound);
    }
    let names = names(db).await?;
    let shown = shown.unwrap_or(stored[0].version);
    let diff = stored.iter().position(|v| v.version == shown).map(|i| {
        let before = stored.get(i + 1).map_or("", |v| v.text.as_str());
        (shown, diff_lines(before, &stored[i].text))
    });
    let versions = stored
        .into_iter()
        .map(|v| VersionLine {
            version: v.version,
            saved_at: when(v.saved_at),
            saved_by: names.get(&v.saved_by).cloned().unwrap_or_default(),
            note: v.note,
            sha256: v.sha256,
        })
        .collect();
    Ok(VersionsView { name, versions, shown: diff })
}

/// The lines of `new` against `old`, by `similar`'s line diff.
#[cfg(feature = "ssr")]
fn diff_lines(old: &str, new: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            },
            old: c.old_index().map(|i| i + 1),
            new: c.new_index().map(|i| i + 1),
            text: c.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

/// Sets the pipeline's schedule (a five-field cron expression in the company's time zone, the
/// parameter values, retries), or removes it (`off`). Audited.
#[server(endpoint = "pipelines/schedule", output = crate::codec::Json)]
pub async fn set_schedule(
    name: String,
    #[server(default)] cron: String,
    #[server(default)] params: BTreeMap<String, String>,
    #[server(default)] retries: Option<i32>,
    #[server(default)] off: bool,
) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let db = &caller.state.db;
    let stored = db.pipeline_version(&name, None).await?.ok_or(AppError::NotFound)?;
    let actor = caller.user()?.id;
    if off {
        db.set_schedule(&name, None, actor).await?;
        return Ok(());
    }
    let cron = cron.split_whitespace().collect::<Vec<_>>().join(" ");
    if caller.state.pipelines.next_time(&cron).is_err() {
        return Err(AppError::invalid("cron", "pipeline.cron"));
    }
    let retries = retries.unwrap_or(0);
    if !(0..=10).contains(&retries) {
        return Err(AppError::invalid("retries", "pipeline.retries"));
    }
    let params = given(params);
    if let Err(found) = domain::pipeline::check(&stored.text, &params) {
        return Err(AppError::Pipeline { problems: problems(found), name: String::new(), submitted: String::new() });
    }
    let params = serde_json::to_string(&params).map_err(|_| AppError::Internal)?;
    db.set_schedule(&name, Some((&cron, &params, retries)), actor).await?;
    Ok(())
}
