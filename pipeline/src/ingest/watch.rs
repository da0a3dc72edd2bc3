//! Auto-ingest: a watched folder or S3 prefix, polled at a set interval, each new file loaded into
//! a table exactly once. A file's rows and its load-history row are committed in one transaction
//! in the target database, and the history's key (watch, file, ETag) refuses a second load of the
//! same file, so a restart, or a second watcher, loads nothing twice and skips nothing: what is
//! not in the history is loaded at the next poll.
//!
//! Two modes: `append` (CSV, JSON Lines or Parquet rows added to the table) and `cdc` (files of
//! Debezium change events applied as upserts and deletes on the table's key). A bad file is
//! skipped with its error in the history; the next file still loads. A file that is still being
//! written (its size changed between the listing and the read) is left for the next poll.

use super::files::{Files, Found};
use super::{FormatKind, InferOptions, IngestError, decompress_all};
use crate::db::{self, Database};
use crate::{Rows, Secrets};
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionContext};
use domain::ingest::watch::{Listed, Load, Outcome, pending};
use domain::ingest::{Compression, Format, Inferred, cdc};
use domain::pipeline::{Connection, TableMode};
use std::collections::HashSet;
use std::path::PathBuf;
use time::OffsetDateTime;

/// What a watch does with its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMode {
    /// Rows added to the table (made from the first file's columns when missing).
    Append { format: Option<FormatKind> },
    /// Change events applied on these key columns.
    Cdc { keys: Vec<String> },
}

/// A watch's definition.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    /// Its name in the load history.
    pub name: String,
    /// A local folder or `s3://bucket/prefix/`, with an optional glob (`*.jsonl.gz`).
    pub location: String,
    /// The target database: PostgreSQL or SQLite.
    pub connection: Connection,
    pub table: String,
    pub mode: WatchMode,
}

/// A watch between polls: where it reads, where it writes, and what it has loaded.
pub struct Watcher {
    spec: WatchSpec,
    files: Files,
    pattern: String,
    db: Database,
    /// (file, ETag) of every file in the history.
    seen: HashSet<(String, String)>,
    /// The columns appended files are read with (the first file's, then kept).
    schema: Option<Inferred>,
    staging: PathBuf,
}

fn said(e: crate::RunError) -> IngestError {
    IngestError(e.to_string())
}

/// A file's identity: S3's ETag, or a local file's size and modification time.
fn etag_of(found: &Found) -> String {
    found.etag.clone().unwrap_or_else(|| {
        let modified = found.modified.map_or(0, |m| m.unix_timestamp_nanos());
        format!("{}-{modified}", found.bytes)
    })
}

impl Watcher {
    /// Opens the location and the target database, and reads the watch's history.
    pub async fn open(spec: WatchSpec, secrets: &Secrets, base_dir: &std::path::Path) -> Result<Watcher, IngestError> {
        if !matches!(spec.connection, Connection::Postgres { .. } | Connection::Sqlite { .. }) {
            return Err(IngestError("a watch loads into PostgreSQL or SQLite".into()));
        }
        if let WatchMode::Cdc { keys } = &spec.mode
            && keys.is_empty()
        {
            return Err(IngestError("change events need the table's key columns (--key id)".into()));
        }
        let (files, pattern) = Files::open(&spec.location, secrets)?;
        let db = db::open(&spec.connection, secrets, base_dir, &spec.name, true).await.map_err(said)?;
        let history = db::load_history(&db, &spec.name, None).await.map_err(IngestError)?;
        let seen = history.into_iter().map(|l| (l.file, l.etag)).collect();
        let staging = std::env::temp_dir().join(format!("mcms-watch-{}-{}", std::process::id(), spec.name));
        Ok(Watcher { spec, files, pattern, db, seen, schema: None, staging })
    }

    pub fn spec(&self) -> &WatchSpec {
        &self.spec
    }

    /// The history, newest first.
    pub async fn history(&self, limit: Option<i64>) -> Result<Vec<Load>, IngestError> {
        db::load_history(&self.db, &self.spec.name, limit).await.map_err(IngestError)
    }

    /// Lists the location and loads every file not loaded yet, oldest first. Returns what each
    /// file came to (a file still being written is not among them: it is tried at the next poll).
    pub async fn poll(&mut self) -> Result<Vec<Load>, IngestError> {
        let found = self.files.list(&self.pattern).await?;
        let listed: Vec<Listed> = found
            .iter()
            .map(|f| Listed {
                name: f.name.clone(),
                bytes: f.bytes,
                etag: etag_of(f),
                arrived: f.modified.unwrap_or_else(OffsetDateTime::now_utc),
            })
            .collect();
        let todo: Vec<Listed> = pending(&listed, &self.seen).into_iter().cloned().collect();
        let mut loads = Vec::new();
        for file in todo {
            let Some(found) = found.iter().find(|f| f.name == file.name).cloned() else { continue };
            if let Some(load) = self.load(&found, &file).await? {
                self.seen.insert((load.file.clone(), load.etag.clone()));
                loads.push(load);
            }
        }
        Ok(loads)
    }

    /// Loads one file, or records why not. `None`: it is still being written.
    async fn load(&mut self, found: &Found, file: &Listed) -> Result<Option<Load>, IngestError> {
        let started = OffsetDateTime::now_utc();
        let raw = match self.files.read(found).await {
            Ok(raw) => raw,
            // Gone between the listing and the read: the next listing tells.
            Err(_) => return Ok(None),
        };
        if let Some(now) = self.files.list(&glob::Pattern::escape(&found.name)).await?.first()
            && (now.bytes != found.bytes || etag_of(now) != file.etag)
        {
            return Ok(None);
        }
        let mut load = Load {
            file: file.name.clone(),
            bytes: file.bytes,
            etag: file.etag.clone(),
            rows: 0,
            outcome: Outcome::Loaded,
            error: None,
            arrived: file.arrived,
            started,
            finished: started,
        };
        let written = self.write(found, raw).await.inspect(|pending| {
            load.rows = pending.rows;
            load.finished = OffsetDateTime::now_utc();
        });
        match written {
            Ok(mut pending) => match pending.record_load(&self.spec.name, &load).await {
                Ok(()) => match pending.commit().await {
                    Ok(()) => Ok(Some(load)),
                    Err(e) => Err(IngestError(format!("{}: {e}", load.file))),
                },
                Err(e) => {
                    pending.rollback().await;
                    // Loaded meanwhile by another watcher of the same name: not twice.
                    if self.history(Some(1_000)).await?.iter().any(|l| l.file == load.file && l.etag == load.etag) {
                        return Ok(None);
                    }
                    Err(IngestError(format!("{}: the load history refused the file: {e}", load.file)))
                }
            },
            Err(reason) => {
                load.outcome = Outcome::Skipped;
                load.error = Some(reason);
                load.finished = OffsetDateTime::now_utc();
                let mut tx = db::begin(&self.db, &self.spec.name).await.map_err(said)?;
                tx.record_load(&self.spec.name, &load).await.map_err(IngestError)?;
                tx.commit().await.map_err(said)?;
                Ok(Some(load))
            }
        }
    }

    /// The file's rows written (not committed) with the transaction they are in, or why not.
    async fn write(&mut self, found: &Found, raw: Vec<u8>) -> Result<db::Pending, String> {
        let compression = Compression::from_name(&found.name);
        match self.spec.mode.clone() {
            WatchMode::Cdc { keys } => {
                let bytes = decompress_all(&raw, compression)?;
                let text = std::str::from_utf8(&bytes).map_err(|e| format!("not UTF-8: {e}"))?;
                let events = cdc::read(text, &keys)
                    .map_err(|bad| bad.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
                let changes = cdc::net(events);
                let mut tx = db::begin(&self.db, &self.spec.name).await.map_err(|e| e.to_string())?;
                match tx.apply_changes(&self.spec.table, &keys, &changes).await {
                    Ok(_) => Ok(tx),
                    Err(e) => {
                        tx.rollback().await;
                        Err(e)
                    }
                }
            }
            WatchMode::Append { format } => {
                let rows = self.read_rows(found, raw, format).await?;
                db::stage_table(self.db.clone(), &rows, &self.spec.table, TableMode::Append, &[], &self.spec.name)
                    .await
                    .map_err(|e| match e {
                        crate::RunError::Step { reason, .. } => reason,
                        other => other.to_string(),
                    })
            }
        }
    }

    /// An appended file's rows, read with the watch's columns (the first file's).
    async fn read_rows(&mut self, found: &Found, raw: Vec<u8>, format: Option<FormatKind>) -> Result<Rows, String> {
        let kind = format
            .or_else(|| FormatKind::of(&found.name))
            .ok_or_else(|| "cannot tell the format from the name; give the watch a format".to_owned())?;
        if self.schema.is_none() {
            let inferred = super::infer_found(&self.files, vec![found.clone()], kind, &InferOptions::default()).await;
            if let Some(p) = inferred.problems.first() {
                return Err(p.to_string());
            }
            self.schema = Some(inferred);
        }
        let Some(inferred) = self.schema.clone() else { return Err("no columns".into()) };
        let compression = Compression::from_name(&found.name);
        let bytes = if kind == FormatKind::Parquet { raw } else { decompress_all(&raw, compression)? };
        std::fs::create_dir_all(&self.staging).map_err(|e| e.to_string())?;
        let path = self.staging.join("file");
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        let path = path.to_string_lossy().into_owned();
        let ctx = SessionContext::new();
        let schema = super::split::arrow_schema(&inferred);
        // "Arrow error: Csv error: incorrect number of fields for line 3…": the reason, not the layers.
        let said = |e: datafusion::error::DataFusionError| {
            e.to_string()
                .replace('\n', " ")
                .replace("Arrow error: ", "")
                .replace("Csv error: ", "")
                .replace("Json error: ", "")
        };
        let df = match inferred.format {
            Format::Csv { delimiter, header, .. } => {
                let delimiter =
                    u8::try_from(delimiter).map_err(|_| format!("delimiter {delimiter:?} is not one byte"))?;
                let options =
                    CsvReadOptions::new().schema(&schema).has_header(header).delimiter(delimiter).file_extension("");
                ctx.read_csv(path, options).await.map_err(said)?
            }
            Format::JsonLines => {
                let options = JsonReadOptions::default().schema(&schema).newline_delimited(true).file_extension("");
                ctx.read_json(path, options).await.map_err(said)?
            }
            Format::Parquet => {
                ctx.read_parquet(path, ParquetReadOptions::default().file_extension("")).await.map_err(said)?
            }
        };
        let batches = df.collect().await.map_err(said)?;
        let schema = batches.first().map_or(schema, |b| b.schema());
        Ok(Rows { schema, batches })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;

/// A watch's history, newest first, at most `limit` files, read without starting the watch (the
/// pages show it while another instance runs the watch).
pub async fn read_history(
    spec: &WatchSpec,
    secrets: &Secrets,
    base_dir: &std::path::Path,
    limit: i64,
) -> Result<Vec<Load>, IngestError> {
    let db = db::open(&spec.connection, secrets, base_dir, &spec.name, true).await.map_err(said)?;
    db::load_history(&db, &spec.name, Some(limit)).await.map_err(IngestError)
}
