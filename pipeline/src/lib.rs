//! Runs MCMS pipelines on Apache DataFusion, embedded.
//!
//! A run reads the file again and checks it (`domain::pipeline`), gives each parameter its value,
//! then plans the steps in order: each step is a DataFusion query over the steps it reads, which
//! it names as tables, and its rows are kept in memory once made (so a step read twice runs once,
//! and its row count is known). Every check runs before anything is written; the sinks then write
//! under a temporary name and publish whole, so a failed run leaves no partial output and a run
//! of the same parameters replaces what an earlier one wrote.
//!
//! Not in this build yet (a run says so, naming the step): the ledger, partner-statistics and
//! database sources, S3 connections, and table and Redshift sinks.

mod sinks;
mod sql;

use datafusion::dataframe::DataFrame;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionContext};
use domain::pipeline::{self, Connection, FileFormat, Problem, Sink, Source, StepKind};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// What a run needs from its surroundings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The company's date when the run starts (`previous` month, `yesterday` are counted from it).
    pub today: time::Date,
    /// Where relative folder paths of connections start.
    pub base_dir: PathBuf,
}

/// A finished run: each step's rows and time, in the order they ran, and what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub params: BTreeMap<String, String>,
    pub steps: Vec<StepReport>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub name: String,
    pub kind: &'static str,
    /// Rows the step passed on (for a sink: rows written).
    pub rows: u64,
    pub millis: u64,
    /// For a sink: where its output was published.
    pub wrote: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the pipeline file has {} problem(s); `mcms pipeline check` lists them", .0.len())]
    Problems(Vec<Problem>),
    /// A step failed: nothing was written.
    #[error("step `{step}`: {reason}")]
    Step { step: String, reason: String },
}

fn failed(step: &str) -> impl Fn(datafusion::error::DataFusionError) -> RunError + '_ {
    move |e| RunError::Step { step: step.to_owned(), reason: plain(&e) }
}

/// DataFusion's message without the layers of context it wraps around it.
fn plain(e: &datafusion::error::DataFusionError) -> String {
    let text = e.find_root().to_string();
    text.trim_start_matches("Error during planning: ")
        .trim_start_matches("Execution error: ")
        .trim_start_matches("Arrow error: ")
        .to_owned()
}

/// Checks and runs a pipeline file with the given parameter values.
pub async fn run(text: &str, given: &BTreeMap<String, String>, settings: &Settings) -> Result<Run, RunError> {
    let checked = pipeline::check(text, given).map_err(RunError::Problems)?;
    let params: BTreeMap<String, String> =
        checked.params.iter().map(|(name, value)| (name.clone(), resolve(value, settings.today))).collect();
    let filled = |s: &str| fill(s, &params);
    let p = &checked.pipeline;
    let ctx = SessionContext::new();
    let mut steps = Vec::new();
    let mut sinks = Vec::new();

    for &i in &checked.order {
        let step = &p.steps[i];
        let name = step.name.value.as_str();
        let started = Instant::now();
        let kind = step.kinds()[0];
        let unsupported = |what: &str| RunError::Step {
            step: name.to_owned(),
            reason: format!("{what} is not available in this build yet"),
        };
        let df: DataFrame = match kind {
            StepKind::Source(Source::Files { connection, glob, format, csv }) => {
                let root = settings.base_dir.join(folder(p.connections.get(&connection.value), name)?);
                let path = sinks::inside(&root, &filled(&glob.value), name)?;
                let path = path.to_string_lossy();
                let read = match format {
                    FileFormat::Csv => {
                        let options = CsvReadOptions::new()
                            .has_header(csv.header)
                            .delimiter(u8::try_from(csv.delimiter).map_err(|_| RunError::Step {
                                step: name.to_owned(),
                                reason: format!("the delimiter `{}` is not a single-byte character", csv.delimiter),
                            })?)
                            .file_extension("");
                        ctx.read_csv(path.as_ref(), options).await
                    }
                    FileFormat::Jsonl => {
                        ctx.read_json(
                            path.as_ref(),
                            JsonReadOptions::default().newline_delimited(true).file_extension(""),
                        )
                        .await
                    }
                    FileFormat::Parquet => {
                        ctx.read_parquet(path.as_ref(), ParquetReadOptions::default().file_extension("")).await
                    }
                };
                read.map_err(failed(name))?
            }
            StepKind::Source(Source::Ledger { .. }) => return Err(unsupported("the cost ledger source")),
            StepKind::Source(Source::PartnerStats { .. }) => return Err(unsupported("the partner statistics source")),
            StepKind::Source(Source::Database { .. }) => return Err(unsupported("a database source")),
            StepKind::Clean(clean) => sql::clean(&ctx, name, clean, &filled).await?,
            StepKind::Transform(t) => ctx.sql(&filled(&t.sql.value)).await.map_err(failed(name))?,
            StepKind::Aggregate(a) => ctx.sql(&sql::aggregate(a)).await.map_err(failed(name))?,
            StepKind::Check(c) => {
                sql::check(&ctx, name, c).await?;
                ctx.table(c.input.value.as_str()).await.map_err(failed(name))?
            }
            StepKind::Sink(sink) => {
                sinks.push((name, sink));
                continue;
            }
        };
        // Made once, kept for every step that reads it.
        let df = df.cache().await.map_err(failed(name))?;
        let rows = df.clone().count().await.map_err(failed(name))? as u64;
        ctx.register_table(name, df.into_view()).map_err(failed(name))?;
        steps.push(StepReport {
            name: name.to_owned(),
            kind: kind_name(kind),
            rows,
            millis: millis(started),
            wrote: None,
        });
    }

    // Every check has passed: write each sink under a temporary name, then publish them all.
    let mut staged = Vec::new();
    for (name, sink) in sinks {
        let started = Instant::now();
        let result = match sink {
            Sink::Files { input, connection, path, format, partition_by } => {
                let root = settings.base_dir.join(folder(p.connections.get(&connection.value), name)?);
                let df = ctx.table(input.value.as_str()).await.map_err(failed(name))?;
                sinks::stage_files(df, name, &root, &filled(&path.value), *format, partition_by).await
            }
            Sink::Table { .. } => Err(RunError::Step {
                step: name.to_owned(),
                reason: "a table sink is not available in this build yet".into(),
            }),
            Sink::Redshift { .. } => Err(RunError::Step {
                step: name.to_owned(),
                reason: "the Redshift sink is not available in this build yet".into(),
            }),
        };
        match result {
            Ok(stage) => {
                steps.push(StepReport {
                    name: name.to_owned(),
                    kind: "sink",
                    rows: stage.rows,
                    millis: millis(started),
                    wrote: Some(stage.target.display().to_string()),
                });
                staged.push(stage);
            }
            Err(e) => {
                staged.iter().for_each(sinks::Staged::discard);
                return Err(e);
            }
        }
    }
    for stage in &staged {
        stage.publish().map_err(|e| RunError::Step { step: stage.step.clone(), reason: e.to_string() })?;
    }
    Ok(Run { params, steps })
}

fn kind_name(kind: StepKind<'_>) -> &'static str {
    match kind {
        StepKind::Source(_) => "source",
        StepKind::Clean(_) => "clean",
        StepKind::Transform(_) => "transform",
        StepKind::Aggregate(_) => "aggregate",
        StepKind::Check(_) => "check",
        StepKind::Sink(_) => "sink",
    }
}

fn millis(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn folder(connection: Option<&Connection>, step: &str) -> Result<PathBuf, RunError> {
    match connection {
        Some(Connection::Folder { path }) => Ok(PathBuf::from(path)),
        Some(Connection::S3 { .. }) => Err(RunError::Step {
            step: step.to_owned(),
            reason: "S3 connections are not available in this build yet".into(),
        }),
        // The check has refused anything else.
        _ => Err(RunError::Step { step: step.to_owned(), reason: "this step needs a folder".into() }),
    }
}

/// A parameter's value for this run: `previous` / `current` months and `today` / `yesterday`
/// counted from the company's date.
fn resolve(value: &str, today: time::Date) -> String {
    let month = |d: time::Date| format!("{:04}-{:02}", d.year(), u8::from(d.month()));
    match value {
        "current" => month(today),
        "previous" => month(today.replace_day(1).ok().and_then(|d| d.previous_day()).unwrap_or(today)),
        "today" => today.to_string(),
        "yesterday" => today.previous_day().unwrap_or(today).to_string(),
        other => other.to_owned(),
    }
}

/// A string with each `${name}` replaced by the parameter's value (the check has made sure each
/// is declared and has one).
fn fill(text: &str, params: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (name, value) in params {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests;
