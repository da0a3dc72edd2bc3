//! Runs MCMS pipelines on Apache DataFusion, embedded.
//!
//! A run reads the file again and checks it (`domain::pipeline`), gives each parameter its value,
//! then plans the steps in order: each step is a DataFusion query over the steps it reads, which
//! it names as tables, and its rows are kept in memory once made (so a step read twice runs once,
//! and its row count is known). Every check runs before anything is written; the sinks then write
//! under a temporary name or inside an open transaction, and are published (renamed, committed)
//! only when every sink has written, so a failed run leaves no partial output and a run of the
//! same parameters replaces what an earlier one wrote.
//!
//! Files live in a folder inside the data folder or in an S3 bucket (`objects`); the Redshift sink
//! writes Parquet to a bucket and reports the `COPY` statement that loads it.

mod db;
mod engine;
pub mod ingest;
mod objects;
mod predict;
mod sinks;
mod sql;

pub use datafusion::arrow;
pub use engine::Engine;
pub use predict::Scorer;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionConfig, SessionContext};
use domain::pipeline::{self, Connection, FileFormat, Problem, Sink, Source, StepKind};
use sinks::Place;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
pub use tokio_util::sync::CancellationToken;

/// What a run needs from its surroundings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The company's date when the run starts (`previous` month, `yesterday` are counted from it).
    pub today: time::Date,
    /// The folder that folder and SQLite connections' paths are inside.
    pub base_dir: PathBuf,
    /// Where connections' secrets (`url_env`, …) are looked up.
    pub secrets: Secrets,
    pub mode: Mode,
    /// Cancelling it stops the run: before the sinks have written, or removing what they wrote.
    pub cancel: CancellationToken,
    /// Where the run says how far it is, for whoever watches it (the run page).
    pub progress: Progress,
    /// Where the steps execute: here, or on a Ballista cluster.
    pub engine: Engine,
}

/// How far a run is, step by step, as it runs: each step as it starts, the rows it has made so
/// far, and whether it is done. Clones share one record.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<std::sync::Mutex<Vec<Live>>>);

/// One step of a run in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub name: String,
    pub kind: &'static str,
    /// Rows made so far (for a sink: written, once it has).
    pub rows: u64,
    pub done: bool,
}

impl Progress {
    /// The steps so far, in the order they started.
    pub fn snapshot(&self) -> Vec<Live> {
        self.0.lock().map(|steps| steps.clone()).unwrap_or_default()
    }

    fn with(&self, change: impl FnOnce(&mut Vec<Live>)) {
        if let Ok(mut steps) = self.0.lock() {
            change(&mut steps);
        }
    }

    fn started(&self, name: &str, kind: &'static str) -> usize {
        let mut at = 0;
        self.with(|steps| {
            at = steps.len();
            steps.push(Live { name: name.to_owned(), kind, rows: 0, done: false });
        });
        at
    }

    fn made(&self, step: usize, rows: u64) {
        self.with(|steps| {
            if let Some(s) = steps.get_mut(step) {
                s.rows += rows;
            }
        });
    }

    fn done(&self, step: usize, rows: u64) {
        self.with(|steps| {
            if let Some(s) = steps.get_mut(step) {
                (s.rows, s.done) = (rows, true);
            }
        });
    }
}

/// How much of a pipeline a call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every row, and the sinks written.
    Run,
    /// Each source's first `rows` rows through every step; nothing written; each step's columns
    /// and first rows shown (`--dry-run`).
    DryRun { rows: usize },
    /// No rows at all: every step planned against its inputs' columns (the check of SQL and
    /// column names that `mcms pipeline check` adds to the file's own check).
    Plan,
}

impl Mode {
    /// The rows each source gives, when not all.
    pub fn sample(self) -> Option<usize> {
        match self {
            Mode::Run => None,
            Mode::DryRun { rows } => Some(rows),
            Mode::Plan => Some(0),
        }
    }
}

/// Connections' secrets by name: the server's configuration first, then the environment.
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, String>);

impl Secrets {
    /// Configured values, which the environment does not override.
    pub fn with(mut self, name: &str, value: &str) -> Secrets {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned().or_else(|| std::env::var(name).ok())
    }
}

/// Names only: a secret never reaches a log.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Rows made outside DataFusion (a database, MCMS's own data): one schema, any number of batches.
#[derive(Debug, Clone)]
pub struct Rows {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Rows {
    /// One batch of the given columns.
    pub fn one(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<Rows, arrow::error::ArrowError> {
        let schema = Arc::new(Schema::new(fields));
        let batches =
            if columns.is_empty() { Vec::new() } else { vec![RecordBatch::try_new(schema.clone(), columns)?] };
        Ok(Rows { schema, batches })
    }
}

/// MCMS's own data, which the server (or the CLI, on the same database) gives a run.
#[async_trait::async_trait]
pub trait Mcms: Send + Sync {
    /// The cost ledger's live entries of `month` (`YYYY-MM`) in the warehouse's columns
    /// (docs/batch-schema.md), all or the first `limit`. With `batch_check`, refused with the
    /// reasons unless the month passes `mcms batch-check`.
    async fn ledger(&self, month: &str, batch_check: bool, limit: Option<usize>) -> Result<Rows, String>;
    /// The partner API's daily statistics, every game and channel, `from` to `to` inclusive,
    /// all or the first `limit`.
    async fn partner_stats(&self, from: &str, to: &str, limit: Option<usize>) -> Result<Rows, String>;
    /// A registered model's version (`None`: the one in production) for a `predict` step.
    async fn model(&self, name: &str, version: Option<i32>) -> Result<Arc<dyn Scorer>, String> {
        let _ = (name, version);
        Err("registered models are read only inside MCMS".into())
    }
}

/// For runs outside MCMS (tests of files only): its sources are refused.
pub struct Outside;

#[async_trait::async_trait]
impl Mcms for Outside {
    async fn ledger(&self, _: &str, _: bool, _: Option<usize>) -> Result<Rows, String> {
        Err("the cost ledger is read only inside MCMS".into())
    }
    async fn partner_stats(&self, _: &str, _: &str, _: Option<usize>) -> Result<Rows, String> {
        Err("partner statistics are read only inside MCMS".into())
    }
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
    /// Rows the step read: its inputs' rows (for a source: the rows it read).
    pub rows_in: u64,
    /// Rows the step passed on (for a sink: rows written).
    pub rows: u64,
    /// The size of the values it passed on, in memory (for a sink: of the files it wrote).
    pub bytes: u64,
    pub millis: u64,
    /// For a sink: where its output was published.
    pub wrote: Option<String>,
    /// In a dry run: the step's columns and first rows.
    pub preview: Option<Preview>,
}

/// A step's columns (name, type) and first rows, as text (an empty cell as the empty string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<String>>,
}

/// Rows a dry run shows of each step.
const PREVIEW_ROWS: usize = 5;

async fn preview(df: &DataFrame, step: &str) -> Result<Preview, RunError> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let columns = df.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().to_string())).collect();
    let batches =
        df.clone().limit(0, Some(PREVIEW_ROWS)).map_err(failed(step))?.collect().await.map_err(failed(step))?;
    let options = FormatOptions::default().with_null("");
    let mut rows = Vec::new();
    for batch in &batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| failed(step)(e.into()))?;
        for r in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    Ok(Preview { columns, rows })
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the pipeline file has {} problem(s); `mcms pipeline check` lists them", .0.len())]
    Problems(Vec<Problem>),
    /// A step failed: nothing was written.
    #[error("step `{step}`: {reason}")]
    Step { step: String, reason: String },
    /// Stopped on request (`Settings::cancel`): nothing was written.
    #[error("the run was cancelled")]
    Cancelled,
}

/// The step failed, for this reason.
pub(crate) fn refuse(step: &str, reason: String) -> RunError {
    RunError::Step { step: step.to_owned(), reason }
}

fn failed(step: &str) -> impl Fn(datafusion::error::DataFusionError) -> RunError + '_ {
    move |e| refuse(step, plain(&e))
}

/// DataFusion's message without the layers of context it wraps around it.
fn plain(e: &datafusion::error::DataFusionError) -> String {
    // One line: a problem is printed as FILE:LINE:COLUMN: message.
    let text = e.find_root().to_string().replace('\n', " ");
    text.trim_start_matches("Error during planning: ")
        .trim_start_matches("Schema error: ")
        .trim_start_matches("Execution error: ")
        .trim_start_matches("Arrow error: ")
        .to_owned()
}

/// Rows from outside as a table DataFusion reads in parallel (the batches shared out).
fn rows_frame(ctx: &SessionContext, rows: Rows, step: &str) -> Result<DataFrame, RunError> {
    let parts = ctx.state().config().target_partitions().max(1);
    let mut partitions = vec![Vec::new(); parts.min(rows.batches.len()).max(1)];
    let n = partitions.len();
    for (i, batch) in rows.batches.into_iter().enumerate() {
        partitions[i % n].push(batch);
    }
    let table = MemTable::try_new(rows.schema, partitions).map_err(failed(step))?;
    ctx.read_table(Arc::new(table)).map_err(failed(step))
}

/// A step's rows, each partition read in a task of its own (as DataFrame::collect_partitioned
/// does), counted into the run's progress as they come. Dropped, the tasks stop.
async fn collect(df: DataFrame, progress: &Progress, step: usize) -> datafusion::error::Result<Vec<Vec<RecordBatch>>> {
    use futures_util::StreamExt;
    let streams = df.execute_stream_partitioned().await?;
    let mut tasks = tokio::task::JoinSet::new();
    let n = streams.len();
    for (i, mut stream) in streams.into_iter().enumerate() {
        let progress = progress.clone();
        tasks.spawn(async move {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                progress.made(step, batch.num_rows() as u64);
                batches.push(batch);
            }
            Ok::<_, datafusion::error::DataFusionError>((i, batches))
        });
    }
    let mut partitions = vec![Vec::new(); n];
    while let Some(done) = tasks.join_next().await {
        let (i, batches) = done.map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))??;
        partitions[i] = batches;
    }
    Ok(partitions)
}

/// Per place in the run's order, the steps whose rows no step after it reads: read by steps only
/// (not sinks, which write after every step has run), all of them at or before that place.
fn done_with(checked: &pipeline::Checked) -> Vec<Vec<usize>> {
    let n = checked.pipeline.steps.len();
    let mut last = vec![None::<usize>; n];
    let mut kept = vec![false; n];
    for (at, &i) in checked.order.iter().enumerate() {
        let sink = checked.pipeline.steps[i].sink.is_some();
        for &j in &checked.reads[i] {
            match sink {
                true => kept[j] = true,
                false => last[j] = last[j].max(Some(at)),
            }
        }
    }
    let mut done = vec![Vec::new(); checked.order.len()];
    for (j, at) in last.into_iter().enumerate() {
        if let (Some(at), false) = (at, kept[j]) {
            done[at].push(j);
        }
    }
    done
}

/// `work(0)`, …, `work(n - 1)` on up to `threads` threads (thread `t` takes `t`, `t + threads`, …),
/// in order; the first error, if any.
pub(crate) fn in_parallel<T: Send, E: Send + From<datafusion::error::DataFusionError>>(
    threads: usize,
    n: usize,
    work: impl Fn(usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let threads = threads.clamp(1, n.max(1));
    let failed = || E::from(datafusion::error::DataFusionError::Execution("a thread of the run failed".into()));
    let done: Vec<Vec<Result<T, E>>> = std::thread::scope(|s| {
        let work = &work;
        let running: Vec<_> =
            (0..threads).map(|t| s.spawn(move || (t..n).step_by(threads).map(work).collect::<Vec<_>>())).collect();
        running.into_iter().map(|r| r.join().unwrap_or_else(|_| vec![Err(failed())])).collect()
    });
    let mut each: Vec<std::vec::IntoIter<_>> = done.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(each[i % threads].next().ok_or_else(failed)??);
    }
    Ok(out)
}

/// The bytes a batch's values take (not the capacity its buffers were given).
fn size(batch: &RecordBatch) -> u64 {
    batch.columns().iter().map(|c| c.to_data().get_slice_memory_size().unwrap_or(0) as u64).sum()
}

/// A sink's output, written but not yet visible.
enum Pending {
    Files(sinks::Staged),
    Table(db::Pending),
}

/// The file's own check, then every step planned against its inputs' columns with no rows read
/// (files' columns from their headers and footers, databases' from the query): SQL that does not
/// parse or names a column its inputs lack is a problem at its step, with the SQL's place.
pub async fn check(
    text: &str,
    given: &BTreeMap<String, String>,
    settings: &Settings,
    mcms: &dyn Mcms,
) -> Result<pipeline::Checked, Vec<Problem>> {
    let checked = pipeline::check(text, given)?;
    let plan = Settings { mode: Mode::Plan, ..settings.clone() };
    match run(text, given, &plan, mcms).await {
        Ok(_) => Ok(checked),
        Err(RunError::Problems(problems)) => Err(problems),
        // Nothing cancels a plan but its caller, who then has no use for the answer.
        Err(RunError::Cancelled) => Ok(checked),
        Err(RunError::Step { step, reason }) => {
            let found = checked.pipeline.steps.iter().find(|s| s.name.value == step);
            let place = match found {
                Some(s) => match &s.transform {
                    Some(t) => &t.sql,
                    None => &s.name,
                },
                None => &checked.pipeline.steps[0].name,
            };
            let (line, column) = (place.at.line, place.at.column);
            Err(vec![Problem { line, column, kind: pipeline::ProblemKind::Step { step, reason } }])
        }
    }
}

/// Checks and runs a pipeline file with the given parameter values. The future is `Send` (a
/// server spawns runs), which the box makes the compiler check here.
pub fn run<'a>(
    text: &'a str,
    given: &'a BTreeMap<String, String>,
    settings: &'a Settings,
    mcms: &'a dyn Mcms,
) -> futures_util::future::BoxFuture<'a, Result<Run, RunError>> {
    Box::pin(run_steps(text, given, settings, mcms))
}

async fn run_steps(
    text: &str,
    given: &BTreeMap<String, String>,
    settings: &Settings,
    mcms: &dyn Mcms,
) -> Result<Run, RunError> {
    let checked = pipeline::check(text, given).map_err(RunError::Problems)?;
    let params = values(&checked, settings.today);
    let filled = |s: &str| fill(s, &params);
    let p = &checked.pipeline;
    // DataFusion's settings from `DATAFUSION_*` variables (for example
    // DATAFUSION_EXECUTION_TARGET_PARTITIONS), else its defaults.
    let config = SessionConfig::from_env()
        .map_err(|e| RunError::Step { step: "(DataFusion's settings)".into(), reason: plain(&e) })?;
    let ctx = engine::context(&settings.engine, config)
        .await
        .map_err(|e| RunError::Step { step: format!("({})", settings.engine), reason: plain(&e) })?;
    let mut steps = Vec::new();
    let mut sinks = Vec::new();
    let sample = settings.mode.sample();
    let dry = matches!(settings.mode, Mode::DryRun { .. });

    // Each step's rows, by index, for the steps that read it.
    let mut made = vec![0u64; p.steps.len()];
    let done_with = done_with(&checked);
    // Until the sinks, nothing is written: a cancelled run simply stops.
    let steps_run = async {
        for (at, &i) in checked.order.iter().enumerate() {
            let step = &p.steps[i];
            let name = step.name.value.as_str();
            let started = Instant::now();
            let kind = step.kinds()[0];
            let live = match kind {
                StepKind::Sink(_) => None,
                _ => Some(settings.progress.started(name, kind_name(kind))),
            };
            let df: DataFrame = match kind {
                StepKind::Source(Source::Files { connection, glob, format, csv }) => {
                    let glob = filled(&glob.value);
                    let paths = match place(&ctx, settings, p.connections.get(&connection.value), name)? {
                        Place::Folder(root) => vec![sinks::inside(&root, &glob, name)?.to_string_lossy().into_owned()],
                        Place::Bucket(bucket) => {
                            sinks::inside(Path::new(""), &glob, name)?;
                            bucket.matching(&bucket.key(&glob)).await.map_err(|e| refuse(name, e))?
                        }
                    };
                    let read = match format {
                        FileFormat::Csv => {
                            let delimiter = u8::try_from(csv.delimiter).map_err(|_| {
                                refuse(
                                    name,
                                    format!("the delimiter `{}` is not a single-byte character", csv.delimiter),
                                )
                            })?;
                            let options =
                                CsvReadOptions::new().has_header(csv.header).delimiter(delimiter).file_extension("");
                            ctx.read_csv(paths, options).await
                        }
                        FileFormat::Jsonl => {
                            ctx.read_json(paths, JsonReadOptions::default().newline_delimited(true).file_extension(""))
                                .await
                        }
                        FileFormat::Parquet => {
                            ctx.read_parquet(paths, ParquetReadOptions::default().file_extension("")).await
                        }
                    };
                    let df = read.map_err(failed(name))?;
                    match sample {
                        Some(n) => df.limit(0, Some(n)).map_err(failed(name))?,
                        None => df,
                    }
                }
                StepKind::Source(Source::Ledger { month, batch_check }) => {
                    // A sample is for seeing the columns: the month's batch check is left to the run.
                    let check = *batch_check && sample.is_none();
                    let rows = mcms.ledger(&filled(&month.value), check, sample).await.map_err(|e| refuse(name, e))?;
                    rows_frame(&ctx, rows, name)?
                }
                StepKind::Source(Source::PartnerStats { from, to }) => {
                    let rows = mcms
                        .partner_stats(&filled(&from.value), &filled(&to.value), sample)
                        .await
                        .map_err(|e| refuse(name, e))?;
                    rows_frame(&ctx, rows, name)?
                }
                StepKind::Source(Source::Database { connection, query, table }) => {
                    let connection = database(p.connections.get(&connection.value), name)?;
                    let db = db::open(connection, &settings.secrets, &settings.base_dir, name, false).await?;
                    let query = match (query, table) {
                        (Some(query), _) => filled(&query.value),
                        (None, Some(table)) => format!("SELECT * FROM {}", db::table_ident(&filled(&table.value))),
                        (None, None) => unreachable!("the check wants a query or a table"),
                    };
                    let query = match sample {
                        Some(n) => format!("SELECT * FROM ({query}) AS mcms_sample LIMIT {n}"),
                        None => query,
                    };
                    let rows = db::read(&db, &query, name).await?;
                    rows_frame(&ctx, rows, name)?
                }
                StepKind::Clean(clean) => sql::clean(&ctx, name, clean, &filled).await?,
                StepKind::Transform(t) => ctx.sql(&filled(&t.sql.value)).await.map_err(failed(name))?,
                StepKind::Aggregate(a) => ctx.sql(&sql::aggregate(a)).await.map_err(failed(name))?,
                StepKind::Predict(p) => predict::run(&ctx, name, p, mcms).await?,
                StepKind::Check(c) => {
                    // A sample's row count says nothing about the run's.
                    sql::check(&ctx, name, c, sample.is_none()).await?;
                    ctx.table(c.input.value.as_str()).await.map_err(failed(name))?
                }
                StepKind::Sink(sink) => {
                    sinks.push((i, name, sink));
                    continue;
                }
            };
            // Made once, kept for every step that reads it.
            let schema = Arc::new(df.schema().as_arrow().clone());
            let partitions = collect(df, &settings.progress, live.unwrap_or_default()).await.map_err(failed(name))?;
            let batches = || partitions.iter().flatten();
            let rows = batches().map(|b| b.num_rows() as u64).sum();
            settings.progress.done(live.unwrap_or_default(), rows);
            let bytes = batches().map(size).sum();
            made[i] = rows;
            let table = MemTable::try_new(schema, partitions).map_err(failed(name))?;
            ctx.register_table(name, Arc::new(table)).map_err(failed(name))?;
            // The steps no later step reads are let go, their memory used again for the next.
            for &j in &done_with[at] {
                ctx.deregister_table(p.steps[j].name.value.as_str()).map_err(failed(name))?;
            }
            let preview = match dry {
                true => Some(preview(&ctx.table(name).await.map_err(failed(name))?, name).await?),
                false => None,
            };
            let rows_in = match checked.reads[i].as_slice() {
                [] => rows,
                reads => reads.iter().map(|&j| made[j]).sum(),
            };
            steps.push(StepReport {
                name: name.to_owned(),
                kind: kind_name(kind),
                rows_in,
                rows,
                bytes,
                millis: millis(started),
                wrote: None,
                preview,
            });
        }

        Ok(())
    };
    tokio::select! {
        biased;
        _ = settings.cancel.cancelled() => return Err(RunError::Cancelled),
        done = steps_run => done?,
    }

    // A dry run or a plan writes nothing: each sink's columns are checked and shown.
    if settings.mode != Mode::Run {
        for (i, name, sink) in sinks {
            let started = Instant::now();
            let df = ctx.table(sink.input().value.as_str()).await.map_err(failed(name))?;
            let needed = match sink {
                Sink::Files { partition_by, .. } => partition_by.as_slice(),
                Sink::Table { keys, .. } => keys.as_slice(),
                Sink::Redshift { .. } => &[],
            };
            if let Some(missing) = needed.iter().find(|c| df.schema().field_with_unqualified_name(c).is_err()) {
                return Err(refuse(
                    name,
                    format!("the column `{missing}` is not among `{}`'s columns", sink.input().value),
                ));
            }
            let rows_in = checked.reads[i].iter().map(|&j| made[j]).sum();
            let preview = if dry { Some(preview(&df, name).await?) } else { None };
            steps.push(StepReport {
                name: name.to_owned(),
                kind: "sink",
                rows_in,
                rows: rows_in,
                bytes: 0,
                millis: millis(started),
                wrote: None,
                preview,
            });
        }
        return Ok(Run { params, steps });
    }

    // Every check has passed: each sink writes where no reader sees it yet, then all publish.
    let (mut files, mut tables) = (Vec::new(), Vec::new());
    for (i, name, sink) in sinks {
        let started = Instant::now();
        let live = settings.progress.started(name, "sink");
        // A sink cancelled while it writes removes what it wrote; the others are discarded below.
        let staged = match settings.cancel.is_cancelled() {
            true => Err(RunError::Cancelled),
            false => stage(&ctx, p, name, sink, settings, &filled).await,
        };
        match staged {
            Ok((stage, rows, bytes, wrote)) => {
                settings.progress.done(live, rows);
                steps.push(StepReport {
                    name: name.to_owned(),
                    kind: "sink",
                    rows_in: checked.reads[i].iter().map(|&j| made[j]).sum(),
                    rows,
                    bytes,
                    millis: millis(started),
                    wrote: Some(wrote),
                    preview: None,
                });
                match stage {
                    Pending::Files(f) => files.push(f),
                    Pending::Table(t) => tables.push(t),
                }
            }
            Err(e) => {
                for stage in &files {
                    stage.discard().await;
                }
                for table in tables {
                    table.rollback().await;
                }
                return Err(e);
            }
        }
    }
    // Tables first: a commit can still fail (and the files are then not published); a rename
    // in the same folder hardly can.
    let mut tables = tables.into_iter();
    while let Some(table) = tables.next() {
        if let Err(e) = table.commit().await {
            for rest in tables {
                rest.rollback().await;
            }
            for stage in &files {
                stage.discard().await;
            }
            return Err(e);
        }
    }
    for stage in &files {
        stage.publish().await?;
    }
    Ok(Run { params, steps })
}

/// Writes one sink's rows where no reader sees them yet: its pending output, rows, and where.
async fn stage(
    ctx: &SessionContext,
    p: &pipeline::Pipeline,
    name: &str,
    sink: &Sink,
    settings: &Settings,
    filled: &(dyn Fn(&str) -> String + Sync),
) -> Result<(Pending, u64, u64, String), RunError> {
    let df = ctx.table(sink.input().value.as_str()).await.map_err(failed(name))?;
    match sink {
        Sink::Files { connection, path, format, partition_by, .. } => {
            let place = place(ctx, settings, p.connections.get(&connection.value), name)?;
            let path = filled(&path.value);
            let staged = sinks::stage_files(df, name, &place, &path, *format, partition_by, &settings.cancel).await?;
            let (rows, bytes, wrote) = (staged.rows, staged.bytes, staged.target.clone());
            Ok((Pending::Files(staged), rows, bytes, wrote))
        }
        Sink::Table { connection, table, mode, keys, .. } => {
            let connection = database(p.connections.get(&connection.value), name)?;
            let db = db::open(connection, &settings.secrets, &settings.base_dir, name, true).await?;
            let schema = Arc::new(df.schema().as_arrow().clone());
            let rows = Rows { schema, batches: df.collect().await.map_err(failed(name))? };
            let bytes = rows.batches.iter().map(size).sum();
            let table = filled(&table.value);
            // Cancelled while writing, the transaction is dropped: rolled back.
            let pending = tokio::select! {
                biased;
                _ = settings.cancel.cancelled() => return Err(RunError::Cancelled),
                pending = db::stage_table(db, &rows, &table, *mode, keys, name) => pending?,
            };
            let rows = pending.rows;
            Ok((Pending::Table(pending), rows, bytes, format!("table {table}")))
        }
        Sink::Redshift { connection, path, table, iam_role_env, .. } => {
            // Parquet in the bucket, published whole, and the statement that loads it (Redshift
            // maps Parquet's columns by position: the table's columns in the step's order).
            let place = place(ctx, settings, p.connections.get(&connection.value), name)?;
            let role = settings
                .secrets
                .get(iam_role_env)
                .ok_or_else(|| refuse(name, format!("the environment variable `{iam_role_env}` is not set")))?;
            let path = filled(&path.value);
            let staged =
                sinks::stage_files(df, name, &place, &path, FileFormat::Parquet, &[], &settings.cancel).await?;
            let table = db::table_ident(&filled(&table.value));
            let copy = format!(
                "COPY {table} FROM '{}/' IAM_ROLE '{}' FORMAT AS PARQUET;",
                staged.target,
                role.replace('\'', "''")
            );
            let (rows, bytes, wrote) = (staged.rows, staged.bytes, format!("{}; load it with: {copy}", staged.target));
            Ok((Pending::Files(staged), rows, bytes, wrote))
        }
    }
}

fn kind_name(kind: StepKind<'_>) -> &'static str {
    match kind {
        StepKind::Source(_) => "source",
        StepKind::Clean(_) => "clean",
        StepKind::Transform(_) => "transform",
        StepKind::Aggregate(_) => "aggregate",
        StepKind::Check(_) => "check",
        StepKind::Predict(_) => "predict",
        StepKind::Sink(_) => "sink",
    }
}

fn millis(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A file connection's place: its folder inside the run's base folder, or its bucket (whose
/// client DataFusion then finds by the bucket's URL).
fn place(
    ctx: &SessionContext,
    settings: &Settings,
    connection: Option<&Connection>,
    step: &str,
) -> Result<Place, RunError> {
    match connection {
        Some(Connection::Folder { path }) => Ok(Place::Folder(sinks::inside(&settings.base_dir, path, step)?)),
        Some(s3 @ Connection::S3 { .. }) => {
            let bucket = objects::bucket(s3, &settings.secrets, step)?;
            ctx.register_object_store(&bucket.url, bucket.store.clone());
            Ok(Place::Bucket(bucket))
        }
        // The check has refused anything else.
        _ => Err(refuse(step, "this step needs a folder or a bucket".into())),
    }
}

fn database<'a>(connection: Option<&'a Connection>, step: &str) -> Result<&'a Connection, RunError> {
    connection.filter(|c| !c.holds_files()).ok_or_else(|| refuse(step, "this step needs a database".into()))
}

/// Each parameter's value for a run on `today` (defaults such as `previous` resolved).
pub fn values(checked: &pipeline::Checked, today: time::Date) -> BTreeMap<String, String> {
    checked.params.iter().map(|(name, value)| (name.clone(), resolve(value, today))).collect()
}

/// A parameter's value for this run: `previous` / `current` months and `today` / `yesterday` /
/// `N days ago` counted from the company's date.
fn resolve(value: &str, today: time::Date) -> String {
    let month = |d: time::Date| format!("{:04}-{:02}", d.year(), u8::from(d.month()));
    match value {
        "current" => month(today),
        "previous" => month(today.replace_day(1).ok().and_then(|d| d.previous_day()).unwrap_or(today)),
        "today" => today.to_string(),
        "yesterday" => today.previous_day().unwrap_or(today).to_string(),
        other => match pipeline::days_ago(other) {
            Some(n) => (today - time::Duration::days(i64::from(n))).to_string(),
            None => other.to_owned(),
        },
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
