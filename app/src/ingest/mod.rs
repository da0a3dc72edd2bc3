//! The ingestion lab's pages (`/ingest`): files pointed at (a folder in the data directory or an
//! S3 prefix, by glob) are inferred and planned: their columns and the problems a load would hit,
//! the Snowflake and Redshift statements with copy buttons, the split plan with its estimates,
//! and a rewrite into the proposed layout (recorded as a PoC run if asked). Watches
//! (`/ingest/watches`) load each new file of a location into a table once; they are started and
//! stopped here and run on one instance at a time, and each has its load history with a latency
//! chart drawn on the server.
//!
//! Pipeline builders and admins only: the lab reads the server's data folder and S3, and writes
//! databases. Every form works without JavaScript: the survey is a GET form, the changes are
//! plain posts; JavaScript only adds the copy buttons.

// The browser's stubs of the form-shaped server functions take as many arguments as the forms.
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

mod pages;

pub use pages::{IngestPage, WatchPage, WatchesPage};

use crate::error::AppError;
use domain::ingest::Inferred;
use domain::ingest::plan::SplitPlan;
use domain::ingest::statements::Statements;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};
#[cfg(feature = "ssr")]
use domain::Role;

/// The files to survey and how to read them (the survey form's fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ask {
    /// A path in the data directory or `s3://bucket/prefix/`, with an optional glob.
    pub location: String,
    /// Empty (from the names), csv, jsonl or parquet.
    pub format: String,
    /// Empty (detected) or one character.
    pub delimiter: String,
    pub no_header: bool,
    /// The proposed layout's format: parquet or csv.
    pub layout: String,
    /// The Redshift cluster's slices.
    pub slices: u64,
}

/// Where and how the warehouses load (the statements' fields; each may be left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadTarget {
    pub table: String,
    /// The S3 prefix the warehouses read; by default the location's own when it is one.
    pub load_from: String,
    /// abort, skip_file or continue.
    pub on_error: String,
    pub explicit_columns: bool,
}

/// What a survey found: the inference, the plan, and the statements (or why there are none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Surveyed {
    pub inferred: Inferred,
    /// Each problem of the inference in words.
    pub problems: Vec<String>,
    pub plan: SplitPlan,
    pub statements: Result<Statements, String>,
    /// Whether the caller may record a rewrite as a PoC run (admins).
    pub can_record: bool,
}

/// A rewrite's outcome, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rewritten {
    /// The folder under the data directory it wrote into.
    pub folder: String,
    pub figures: domain::ingest::plan::Rewritten,
}

/// A watch in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchLine {
    pub name: String,
    pub location: String,
    /// `SQLite file.db` or `PostgreSQL $VAR`, then the table.
    pub target: String,
    pub table: String,
    /// append or cdc (with its keys).
    pub mode: String,
    pub every_secs: f64,
    pub running: bool,
    /// Whether an instance holds it now (its lease is live).
    pub held: bool,
    pub last_error: Option<String>,
    pub created: String,
}

/// One file of a watch's load history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadLine {
    pub file: String,
    pub bytes: u64,
    pub etag: String,
    pub rows: u64,
    pub loaded: bool,
    pub error: Option<String>,
    pub arrived: String,
    pub finished: String,
    pub latency_ms: f64,
    pub load_ms: f64,
}

/// A watch's page: its definition and its latest loads, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchView {
    pub line: WatchLine,
    pub loads: Vec<LoadLine>,
    /// Why the history could not be read (the target unreachable), if so.
    pub history_error: Option<String>,
    pub summary: Option<Summary>,
    /// Whether the caller may record the files shown as a PoC run (admins).
    pub can_record: bool,
}

/// The latest loads in numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub loaded: u64,
    pub skipped: u64,
    pub rows: u64,
    pub bytes: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Files of history a watch's page shows.
pub const HISTORY_SHOWN: i64 = 200;

#[cfg(feature = "ssr")]
mod server {
    use super::*;

    pub fn when(at: time::OffsetDateTime) -> String {
        let offset = use_context::<crate::AppState>().map_or(time::UtcOffset::UTC, |s| s.business_offset);
        let at = at.to_offset(offset);
        format!("{} {:02}:{:02}:{:02}.{:03}", at.date(), at.hour(), at.minute(), at.second(), at.millisecond())
    }

    pub fn watch_line(w: &store::ingest::Watch) -> WatchLine {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        WatchLine {
            name: w.name.clone(),
            location: w.location.clone(),
            target: match w.target_kind.as_str() {
                "sqlite" => format!("SQLite {}", w.target),
                _ => format!("PostgreSQL ${}", w.target),
            },
            table: w.target_table.clone(),
            mode: if w.mode == "cdc" {
                format!("cdc ({})", w.keys)
            } else {
                w.format.clone().unwrap_or_else(|| "append".into())
            },
            every_secs: w.every_secs,
            running: w.running,
            held: w.running && w.lease_until.is_some_and(|l| l >= now),
            last_error: w.last_error.clone(),
            created: format!("{} · {}", when(w.created_at), w.created_by_name),
        }
    }

    /// The runs of the newest PoC, which the plan's estimates are fitted to.
    pub async fn poc_runs(db: &store::Db) -> Result<Vec<domain::poc::Run>, AppError> {
        let Some(poc) = db.pocs().await?.iter().map(|p| p.id).max() else {
            return Ok(Vec::new());
        };
        Ok(db.poc_runs(poc, &store::poc::RunFilter::default()).await?)
    }

    /// The survey form's fields, checked before anything is read.
    pub fn ask(
        location: String,
        format: String,
        delimiter: String,
        no_header: bool,
        layout: String,
        slices: Option<u64>,
    ) -> Result<Ask, AppError> {
        let location = location.trim().to_owned();
        if location.len() > 500 || !service::ingest::location_allowed(&location) {
            return Err(AppError::invalid("location", "watch.location"));
        }
        if !["", "csv", "jsonl", "parquet"].contains(&format.as_str()) {
            return Err(AppError::invalid("format", "watch.format"));
        }
        if delimiter.chars().count() > 1 {
            return Err(AppError::invalid("delimiter", "ingest.delimiter"));
        }
        let slices = slices.unwrap_or(4);
        if !(1..=10_000).contains(&slices) {
            return Err(AppError::invalid("slices", "ingest.slices"));
        }
        let layout = if layout == "csv" { "csv".into() } else { "parquet".into() };
        Ok(Ask { location, format, delimiter, no_header, layout, slices })
    }
}

#[cfg(feature = "ssr")]
use server::*;

/// Infers and plans the files `location` names, and writes the warehouses' statements for
/// `table` (nothing is loaded or changed).
#[server(endpoint = "ingest/survey", output = crate::codec::Json)]
// The survey form's fields, one argument each, as the browser sends them.
#[allow(clippy::too_many_arguments)]
pub async fn survey_files(
    location: String,
    #[server(default)] format: String,
    #[server(default)] delimiter: String,
    #[server(default)] no_header: bool,
    #[server(default)] layout: String,
    #[server(default)] slices: Option<u64>,
    #[server(default)] target: LoadTarget,
) -> Result<Surveyed, AppError> {
    use domain::ingest::statements::{OnError, Target, statements};
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let ask = ask(location, format, delimiter, no_header, layout, slices)?;
    let runs = poc_runs(&caller.state.db).await?;
    let (inferred, plan) =
        caller.state.ingest.survey(&ask, &runs).await.map_err(|message| AppError::Refused { message })?;
    let table = if target.table.trim().is_empty() { "loaded".to_owned() } else { target.table.trim().to_owned() };
    let load_from = match target.load_from.trim() {
        "" if ask.location.starts_with("s3://") => prefix_of(&ask.location),
        "" => "s3://your-bucket/landing/".to_owned(),
        given => given.to_owned(),
    };
    let target = Target {
        table,
        location: load_from,
        on_error: match target.on_error.as_str() {
            "skip_file" => OnError::SkipFile,
            "continue" => OnError::Continue,
            _ => OnError::Abort,
        },
        explicit_columns: target.explicit_columns,
        ..Target::new("", "")
    };
    let statements = statements(&inferred, &target).map_err(|e| e.to_string());
    Ok(Surveyed {
        problems: inferred.problems.iter().map(ToString::to_string).collect(),
        inferred,
        plan,
        statements,
        can_record: caller.user()?.role == Role::Admin,
    })
}

/// The folder part of a location: `s3://b/p/*.csv` → `s3://b/p/`.
pub fn prefix_of(location: &str) -> String {
    let glob = location.find(['*', '?', '[']).unwrap_or(location.len());
    match location[..glob].rfind('/') {
        Some(i) => location[..=i].to_owned(),
        None => location.to_owned(),
    }
}

/// Rewrites the surveyed files into the proposed layout in the data directory's
/// `ingest/{folder}`, then sends the browser back to the survey with the outcome; an admin may
/// record it as a `mcms-local` batch_copy run of the newest PoC.
#[server(endpoint = "ingest/rewrite", output = crate::codec::Json)]
#[allow(clippy::too_many_arguments)]
pub async fn rewrite_files(
    location: String,
    #[server(default)] format: String,
    #[server(default)] delimiter: String,
    #[server(default)] no_header: bool,
    #[server(default)] layout: String,
    #[server(default)] slices: Option<u64>,
    folder: String,
    #[server(default)] record: bool,
    #[server(default)] target: LoadTarget,
) -> Result<Rewritten, AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let ask = ask(location, format, delimiter, no_header, layout, slices)?;
    let folder = folder.trim().to_owned();
    let plain = folder.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && folder.len() <= 64
        && folder.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain {
        return Err(AppError::invalid("folder", "ingest.folder"));
    }
    if record {
        caller.actor()?.require(Role::Admin)?;
    }
    let runs = poc_runs(&caller.state.db).await?;
    let done =
        caller.state.ingest.rewrite(&ask, &runs, &folder).await.map_err(|message| AppError::Refused { message })?;
    // Back to the survey as it was asked for, statements' fields and all, with the outcome.
    let mut back = format!("/ingest?{}&rewritten={}", query(&ask), crate::url::query_value(&folder));
    for (k, v) in [("table", &target.table), ("load_from", &target.load_from), ("on_error", &target.on_error)] {
        if !v.is_empty() {
            back.push_str(&format!("&{k}={}", crate::url::query_value(v)));
        }
    }
    if target.explicit_columns {
        back.push_str("&explicit_columns=true");
    }
    let f = &done.figures;
    for (k, v) in [
        ("r_inputs", f.inputs.to_string()),
        ("r_files", f.files.to_string()),
        ("r_in", f.bytes_in.to_string()),
        ("r_out", f.bytes_out.to_string()),
        ("r_rows", f.rows.to_string()),
        ("r_secs", format!("{:.3}", f.seconds)),
    ] {
        back.push_str(&format!("&{k}={v}"));
    }
    if record {
        use domain::ingest::plan::LayoutFormat;
        let format = if ask.layout == "csv" { LayoutFormat::Csv } else { LayoutFormat::Parquet };
        let email = caller.user()?.email.to_string();
        let run =
            done.figures.poc_run(format, "mcms-local", &email, caller.state.today(), "the ingestion lab's rewrite");
        let poc = caller
            .state
            .db
            .pocs()
            .await?
            .iter()
            .map(|p| p.id)
            .max()
            .ok_or(AppError::invalid("record", "ingest.no_poc"))?;
        caller.state.service().record_local_run(&caller.actor()?, poc, &run).await?;
        back.push_str(&format!("&recorded={poc}"));
    }
    leptos_axum::redirect(&back);
    Ok(done)
}

/// The survey's fields as a query (the page's own URL).
pub fn query(ask: &Ask) -> String {
    use crate::url::query_value as q;
    let mut out = format!("location={}&layout={}&slices={}", q(&ask.location), q(&ask.layout), ask.slices);
    if !ask.format.is_empty() {
        out.push_str(&format!("&format={}", q(&ask.format)));
    }
    if !ask.delimiter.is_empty() {
        out.push_str(&format!("&delimiter={}", q(&ask.delimiter)));
    }
    if ask.no_header {
        out.push_str("&no_header=true");
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchList {
    pub watches: Vec<WatchLine>,
}

#[server(endpoint = "ingest/watches", output = crate::codec::Json)]
pub async fn list_watches() -> Result<WatchList, AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let watches = caller.state.db.ingest_watches().await?.iter().map(watch_line).collect();
    Ok(WatchList { watches })
}

/// Defines a watch, running; the browser goes to its page.
#[server(endpoint = "ingest/watches/create", output = crate::codec::Json)]
#[allow(clippy::too_many_arguments)]
pub async fn create_watch(
    name: String,
    location: String,
    target_kind: String,
    target: String,
    table: String,
    #[server(default)] mode: String,
    #[server(default)] format: String,
    #[server(default)] keys: String,
    #[server(default)] every_secs: Option<f64>,
) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let mode = if mode.is_empty() { if keys.trim().is_empty() { "append" } else { "cdc" }.to_owned() } else { mode };
    let watch = store::ingest::NewWatch {
        name,
        location,
        target_kind,
        target,
        target_table: table,
        mode,
        format: Some(format),
        keys,
        every_secs: every_secs.unwrap_or(1.0),
    };
    let name = watch.name.trim().to_owned();
    caller.state.service().create_watch(&caller.actor()?, watch).await?;
    leptos_axum::redirect(&format!("/ingest/watches/{}", crate::url::query_value(&name)));
    Ok(())
}

/// Starts (`running`) or stops a watch.
#[server(endpoint = "ingest/watches/run", output = crate::codec::Json)]
pub async fn set_watch_running(name: String, running: bool) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    caller.state.service().set_watch_running(&caller.actor()?, &name, running).await?;
    Ok(())
}

#[server(endpoint = "ingest/watch", output = crate::codec::Json)]
pub async fn get_watch(name: String) -> Result<WatchView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Builder)).await?;
    let stored = caller.state.db.ingest_watch(&name).await?.ok_or(AppError::NotFound)?;
    let (history, history_error) = match caller.state.ingest.history(&stored, HISTORY_SHOWN).await {
        Ok(h) => (h, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let summary = domain::ingest::watch::summarise(&history).map(|s| Summary {
        loaded: s.loaded,
        skipped: s.skipped,
        rows: s.rows,
        bytes: s.bytes,
        p50_ms: s.latency_p50_ms,
        p95_ms: s.latency_p95_ms,
        max_ms: s.latency_max_ms,
    });
    let loads = history
        .iter()
        .map(|l| LoadLine {
            file: l.file.clone(),
            bytes: l.bytes,
            etag: l.etag.clone(),
            rows: l.rows,
            loaded: l.error.is_none(),
            error: l.error.clone(),
            arrived: when(l.arrived),
            finished: when(l.finished),
            latency_ms: l.latency_ms(),
            load_ms: l.load_seconds() * 1000.0,
        })
        .collect();
    let can_record = caller.user()?.role == Role::Admin;
    Ok(WatchView { line: watch_line(&stored), loads, history_error, summary, can_record })
}

/// Records the watch's latest files (those its page shows) as a `cdc_microbatch` run of
/// `mcms-local` in the newest PoC: files, bytes, rows, load time, arrival-to-queryable p50 and
/// p95. Admins; the browser goes back to the watch's page.
#[server(endpoint = "ingest/watches/record", output = crate::codec::Json)]
pub async fn record_watch(name: String) -> Result<i64, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    let stored = db.ingest_watch(&name).await?.ok_or(AppError::NotFound)?;
    let history =
        caller.state.ingest.history(&stored, HISTORY_SHOWN).await.map_err(|message| AppError::Refused { message })?;
    let period =
        domain::ingest::watch::summarise(&history).ok_or(AppError::invalid("name", "ingest.nothing_loaded"))?;
    let first =
        history.iter().rev().find(|l| l.error.is_none()).map(|l| l.file.to_ascii_lowercase()).unwrap_or_default();
    let format = match stored.format.as_deref() {
        _ if stored.mode == "cdc" => "json",
        Some("csv") => "csv",
        Some("parquet") => "parquet",
        Some(_) => "json",
        None if first.contains(".parquet") => "parquet",
        None if first.contains(".csv") => "csv",
        None => "json",
    };
    let compression = domain::ingest::Compression::from_name(&first);
    let email = caller.user()?.email.to_string();
    let run =
        domain::ingest::watch::poc_run(&period, format, compression.name(), "mcms-local", &email, caller.state.today());
    let poc = db.pocs().await?.iter().map(|p| p.id).max().ok_or(AppError::invalid("name", "ingest.no_poc"))?;
    caller.state.service().record_local_run(&caller.actor()?, poc, &run).await?;
    leptos_axum::redirect(&format!("/ingest/watches/{}?recorded={poc}", crate::url::query_value(&name)));
    Ok(poc)
}
