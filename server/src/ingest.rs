//! The ingestion lab for the pages: surveys and rewrites on the pipeline engine, and the watches
//! the pages define, run in the background. Every instance looks at the defined watches every
//! couple of seconds and runs those whose lease it takes; the instance running a watch renews
//! the lease at each poll and stops when the watch is stopped or another instance took it over
//! (its own lease ran out: it was stuck or gone). Two instances never load the same file twice
//! regardless: the load history's key refuses it in the target database.

use app::ingest::{Ask, Rewritten};
use app::state::{Answer, IngestHost};
use domain::ingest::plan::{LayoutFormat, SplitPlan};
use domain::ingest::{Inferred, infer::CsvOptions};
use domain::pipeline::Connection;
use pipeline::ingest::split::{Survey, rewrite, survey};
use pipeline::ingest::watch::{WatchMode, WatchSpec, Watcher, read_history};
use pipeline::ingest::{FormatKind, InferOptions};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use store::Db;
use store::ingest::Watch;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

/// The lab over the data directory and the server's secrets.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Local locations and SQLite targets are inside it.
    pub data_dir: PathBuf,
    pub secrets: pipeline::Secrets,
}

impl Lab {
    /// A location the pages named, for the engine: an S3 prefix as it is, a path inside the data
    /// directory joined to it (anything else was refused before it got here; refused again).
    fn location(&self, location: &str) -> Result<String, String> {
        if location.starts_with("s3://") {
            return Ok(location.to_owned());
        }
        if !service::ingest::inside_data_dir(location) {
            return Err(format!("{location}: give a path inside the data directory or an s3:// prefix"));
        }
        Ok(self.data_dir.join(location).to_string_lossy().into_owned())
    }

    /// An engine's message with paths as the pages name them: relative to the data directory,
    /// never the server's own path to it.
    fn said(&self, message: &str) -> String {
        let dir = self.data_dir.to_string_lossy();
        message.replace(&format!("{}/", dir.trim_end_matches('/')), "")
    }

    async fn survey(&self, ask: &Ask, runs: &[domain::poc::Run]) -> Result<Survey, String> {
        let options = InferOptions {
            format: FormatKind::parse(&ask.format),
            csv: CsvOptions { delimiter: ask.delimiter.chars().next(), no_header: ask.no_header, max_rows: 0 },
        };
        let to = if ask.layout == "csv" { LayoutFormat::Csv } else { LayoutFormat::Parquet };
        let location = self.location(&ask.location)?;
        survey(&location, &self.secrets, &options, to, ask.slices, runs).await.map_err(|e| self.said(&e.0))
    }

    /// The watch's definition for the engine.
    pub fn spec(&self, w: &Watch) -> Result<WatchSpec, String> {
        let connection = match w.target_kind.as_str() {
            "sqlite" => Connection::Sqlite { path: w.target.clone() },
            _ => Connection::Postgres { url_env: w.target.clone() },
        };
        let mode = if w.mode == "cdc" {
            WatchMode::Cdc { keys: w.keys.split(',').filter(|k| !k.is_empty()).map(str::to_owned).collect() }
        } else {
            WatchMode::Append { format: w.format.as_deref().and_then(FormatKind::parse) }
        };
        Ok(WatchSpec {
            name: w.name.clone(),
            location: self.location(&w.location)?,
            connection,
            table: w.target_table.clone(),
            mode,
        })
    }
}

impl IngestHost for Lab {
    fn survey<'a>(
        &'a self,
        ask: &'a Ask,
        runs: &'a [domain::poc::Run],
    ) -> Answer<'a, Result<(Inferred, SplitPlan), String>> {
        Box::pin(async move { self.survey(ask, runs).await.map(|s| (s.inferred, s.plan)) })
    }

    fn rewrite<'a>(
        &'a self,
        ask: &'a Ask,
        runs: &'a [domain::poc::Run],
        folder: &'a str,
    ) -> Answer<'a, Result<Rewritten, String>> {
        Box::pin(async move {
            let s = self.survey(ask, runs).await?;
            let out = self.data_dir.join("ingest").join(folder);
            let done =
                rewrite(&s.files, &s.found, &s.inferred, &s.plan.proposed, &out).await.map_err(|e| self.said(&e.0))?;
            Ok(Rewritten { folder: format!("ingest/{folder}"), figures: done.figures(s.found.len()) })
        })
    }

    fn history<'a>(
        &'a self,
        watch: &'a Watch,
        limit: i64,
    ) -> Answer<'a, Result<Vec<domain::ingest::watch::Load>, String>> {
        Box::pin(async move {
            let spec = self.spec(watch)?;
            read_history(&spec, &self.secrets, &self.data_dir, limit).await.map_err(|e| self.said(&e.0))
        })
    }
}

/// How often an instance looks for watches to run.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// A lease lasts a few polls (at least 15 s): an instance that stops renewing it loses the
/// watch to another after that.
fn lease_secs(every_secs: f64) -> i64 {
    (every_secs * 3.0).ceil().max(15.0) as i64
}

/// The watches this instance runs.
pub struct Watches {
    pub db: Db,
    pub lab: Lab,
    /// This instance's name in the leases it holds.
    pub instance: String,
}

impl Watches {
    /// Looks for watches to run every couple of seconds until `stop`; each runs in its own task.
    pub async fn run_forever(self, stop: CancellationToken) {
        let mut going: HashMap<i64, tokio::task::JoinHandle<()>> = HashMap::new();
        let mut every = tokio::time::interval(LOOK_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = every.tick() => {}
            }
            going.retain(|_, task| !task.is_finished());
            let watches = match self.db.ingest_watches().await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the ingest watches");
                    continue;
                }
            };
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let idle: Vec<Watch> = watches.into_iter().filter(|w| w.running && !going.contains_key(&w.id)).collect();
            for w in idle {
                let until = now + lease_secs(w.every_secs);
                match self.db.lease_ingest_watch(w.id, &self.instance, now, until, None).await {
                    Ok(true) => {
                        let id = w.id;
                        let task = run_watch(self.db.clone(), self.lab.clone(), self.instance.clone(), w, stop.clone());
                        going.insert(id, tokio::spawn(task));
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, watch = %w.name, "cannot take the watch's lease"),
                }
            }
        }
        for (_, task) in going {
            let _ = task.await;
        }
    }
}

/// Runs one watch while this instance holds its lease: polls, renews, waits.
async fn run_watch(db: Db, lab: Lab, instance: String, w: Watch, stop: CancellationToken) {
    let every = Duration::from_secs_f64(w.every_secs.max(1.0));
    tracing::info!(watch = %w.name, instance, "watch started here");
    let mut watcher: Option<Watcher> = None;
    loop {
        let polled = std::time::Instant::now();
        let outcome = async {
            if watcher.is_none() {
                let spec = lab.spec(&w)?;
                watcher = Some(Watcher::open(spec, &lab.secrets, &lab.data_dir).await.map_err(|e| lab.said(&e.0))?);
            }
            let Some(watcher) = watcher.as_mut() else { return Ok(Vec::new()) };
            watcher.poll().await.map_err(|e| lab.said(&e.0))
        }
        .await;
        let error = match &outcome {
            Ok(loads) => {
                for l in loads {
                    match &l.error {
                        None => {
                            tracing::info!(watch = %w.name, file = %l.file, rows = l.rows, latency_ms = l.latency_ms(), "file loaded")
                        }
                        Some(e) => tracing::warn!(watch = %w.name, file = %l.file, error = %e, "file skipped"),
                    }
                }
                None
            }
            Err(e) => {
                tracing::warn!(watch = %w.name, error = %e, "watch poll failed");
                // Opened again at the next poll (the database may have come back).
                watcher = None;
                Some(e.chars().take(1000).collect::<String>())
            }
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        match db.lease_ingest_watch(w.id, &instance, now, now + lease_secs(w.every_secs), error.as_deref()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(watch = %w.name, instance, "watch stopped, or taken over by another instance");
                return;
            }
            Err(e) => tracing::warn!(watch = %w.name, error = %e, "cannot renew the watch's lease"),
        }
        tokio::select! {
            _ = stop.cancelled() => {
                if let Err(e) = db.release_ingest_watch(w.id, &instance).await {
                    tracing::warn!(watch = %w.name, error = %e, "cannot give up the watch's lease");
                }
                return;
            }
            _ = tokio::time::sleep(every.saturating_sub(polled.elapsed())) => {}
        }
    }
}

/// The most an upload to survey may hold, all files together.
pub const UPLOAD_MAX_BYTES: usize = 256 << 20;
/// The most files one upload may hold.
const UPLOAD_MAX_FILES: usize = 100;

/// A file name as uploaded, kept if plain (letters, digits, `.`, `_`, `-`; not hidden).
fn plain_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next()?.trim();
    let plain = !base.is_empty()
        && !base.starts_with('.')
        && base.len() <= 200
        && base.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    plain.then(|| base.to_owned())
}

/// `POST /ingest/upload` (multipart: `files`, one or more): files to survey, kept in the data
/// directory's `uploads/` under a folder of their own, then the survey of that folder. Builders
/// and admins; at most 100 files and 256 MB in all. A refusal sends the browser back saying why,
/// and nothing of the upload is kept.
pub async fn upload(
    axum::extract::State((state, data_dir)): axum::extract::State<(app::AppState, PathBuf)>,
    req: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    use axum::extract::{FromRequest, Multipart};
    use axum::response::{IntoResponse, Redirect};
    let (parts, body) = req.into_parts();
    let access = app::auth::guard::Access::AtLeast(domain::Role::Builder);
    let caller = match app::auth::guard::authorize_request(state, &parts, access).await {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    let Some(user) = caller.user else { return app::error::AppError::Unauthenticated.into_response() };
    let back = |why: &str| Redirect::to(&format!("/ingest?refused={}", app::url::query_value(why))).into_response();
    let mut form = match Multipart::from_request(axum::http::Request::from_parts(parts, body), &()).await {
        Ok(m) => m,
        Err(e) => return back(&e.body_text()),
    };
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    let folder = format!("uploads/{}-{nanos}", user.id);
    let dir = data_dir.join(&folder);
    let outcome = async {
        tokio::fs::create_dir_all(&dir).await.map_err(|e| format!("cannot keep the files: {e}"))?;
        let mut kept = 0;
        while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
            if field.name() != Some("files") {
                continue;
            }
            let Some(given) = field.file_name().map(str::to_owned) else { continue };
            if given.is_empty() {
                continue;
            }
            let name = plain_file_name(&given).ok_or_else(|| {
                format!("{given}: name files with letters, digits, '.', '_' and '-' (players-2026-12.csv)")
            })?;
            kept += 1;
            if kept > UPLOAD_MAX_FILES {
                return Err(format!("at most {UPLOAD_MAX_FILES} files at a time"));
            }
            let data = field.bytes().await.map_err(|e| e.body_text())?;
            tokio::fs::write(dir.join(&name), &data).await.map_err(|e| format!("cannot keep {name}: {e}"))?;
        }
        if kept == 0 {
            return Err("choose one or more files to upload".to_owned());
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            Redirect::to(&format!("/ingest?location={}", app::url::query_value(&format!("{folder}/")))).into_response()
        }
        Err(why) => {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            back(&why)
        }
    }
}
