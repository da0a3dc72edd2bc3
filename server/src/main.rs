//! `mcms`: the MCMS server and its administration commands.

mod ingest_cli;
mod model_cli;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use server::{WebConfig, config, demo};
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use store::Db;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "mcms", version, about = "MCMS: marketing costs, partner data API and warehouse PoC reports")]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `mcms` alone runs `mcms serve`.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
        /// Also load the demo accounts and ledger (as `serve --demo` does).
        #[arg(long)]
        demo: bool,
    },
    /// Issue a partner API key and print it (the only time it is shown; only its hash is kept).
    IssueKey {
        #[command(flatten)]
        db: DbArgs,
        /// The partner's name, as in the console.
        #[arg(long)]
        partner: String,
        /// Scopes, comma-separated: games:read, stats:read, models:write, and models:predict:NAME
        /// per model (models:predict:* for every model).
        #[arg(long, value_delimiter = ',', default_value = "games:read,stats:read", value_parser = parse_scope)]
        scopes: Vec<String>,
        /// What the key is for, shown in the console.
        #[arg(long, default_value = "issued from the command line")]
        label: String,
        /// Requests a minute the key may make.
        #[arg(long, default_value_t = 600)]
        rate_per_minute: i32,
        /// Requests a day (UTC) the key may make; none by default.
        #[arg(long)]
        daily_quota: Option<i64>,
        /// The admin the issue is recorded under.
        #[arg(long = "as", default_value = "admin@mcms.example")]
        as_email: String,
    },
    /// Issue a token a script records PoC runs with (`POST /api/poc/runs`); printed once.
    IssuePocToken {
        #[command(flatten)]
        db: DbArgs,
        /// What the token is for.
        #[arg(long, default_value = "recording script")]
        label: String,
        /// Days until the token stops working; without it, it works until revoked.
        #[arg(long)]
        expires_in_days: Option<u16>,
        /// The admin the issue is recorded under.
        #[arg(long = "as", default_value = "admin@mcms.example")]
        as_email: String,
    },
    /// List the PoC's tokens: prefix, label, issuer, expiry and whether each still works.
    PocTokens {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a PoC token by its prefix (as `poc-tokens` lists it).
    RevokePocToken {
        #[command(flatten)]
        db: DbArgs,
        /// The token's prefix, e.g. mcms_AbC12345.
        prefix: String,
        /// The admin the revocation is recorded under.
        #[arg(long = "as", default_value = "admin@mcms.example")]
        as_email: String,
    },
    /// Check that a month is safe to hand to the warehouse: closed, and every entry passing every
    /// rule. Exits 0 when safe, 1 with the reasons when not.
    BatchCheck {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The month, YYYY-MM.
        #[arg(long, value_parser = parse_month)]
        month: store::costs::YearMonth,
    },
    /// Write a month's entries in the warehouse schema (docs/batch-schema.md) to standard output.
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The month, YYYY-MM.
        #[arg(long, value_parser = parse_month)]
        month: store::costs::YearMonth,
        /// The file format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
    /// Import a cost file (CSV, pasted cells saved as text, or .xlsx) as one batch: every row goes
    /// through the form's rules; either all rows land or none does. Exits 1 with the report when
    /// nothing was stored.
    Import {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The file to import.
        file: PathBuf,
        /// The email of the marketer or admin the batch is recorded under.
        #[arg(long = "as")]
        as_email: String,
        /// Read and check only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import even though some rows have warnings (after reading them).
        #[arg(long)]
        accept_warnings: bool,
        /// Map columns as saved for this vendor in the web importer.
        #[arg(long)]
        vendor: Option<String>,
        /// Largest file accepted, in megabytes.
        #[arg(long, env = "MCMS_IMPORT_MAX_MB", default_value_t = 50)]
        max_mb: usize,
        /// Most data rows accepted.
        #[arg(long, env = "MCMS_IMPORT_MAX_ROWS", default_value_t = 200_000)]
        max_rows: usize,
    },
    /// Pipelines: data jobs written as YAML or JSON files (docs/pipelines.md).
    #[command(subcommand)]
    Pipeline(PipelineCommand),
    /// The model registry: upload, list, promote, roll back, archive, canary (docs/models.md).
    #[command(subcommand)]
    Model(model_cli::ModelCommand),
    /// The ingestion lab: schemas, load statements and layouts for Snowflake and Redshift
    /// (docs/ingest.md).
    #[command(subcommand)]
    Ingest(ingest_cli::IngestCommand),
    /// Create an administrator; the password is read from standard input.
    CreateAdmin {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "MCMS_ADMIN_EMAIL")]
        email: String,
        #[arg(long, env = "MCMS_ADMIN_NAME", default_value = "Administrator")]
        name: String,
    },
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Folder for the embedded SQLite database.
    #[arg(long, env = "MCMS_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// sqlite://… or postgres://…; defaults to an SQLite file in --data-dir.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

/// Settings of the cost ledger. Choose the reporting currency before entering costs: stored
/// entries keep the reporting amount they were saved with.
#[derive(Args, Clone)]
struct LedgerArgs {
    /// ISO 4217 currency that totals and the warehouse batch are reported in.
    #[arg(long, env = "MCMS_REPORTING_CURRENCY", default_value = "KRW", value_parser = parse_currency)]
    reporting_currency: domain::Currency,
    /// An exchange rate may be at most this many days older than the cost's date.
    #[arg(long, env = "MCMS_FX_MAX_AGE_DAYS", default_value_t = 7)]
    fx_max_age_days: i64,
    /// Costs may fall this many days outside their campaign's flight.
    #[arg(long, env = "MCMS_FLIGHT_GRACE_DAYS", default_value_t = 3)]
    flight_grace_days: i64,
    /// The company's UTC offset, which decides what "today" is for the rules.
    #[arg(long, env = "MCMS_UTC_OFFSET", default_value = "+09:00", value_parser = parse_offset, allow_hyphen_values = true)]
    utc_offset: time::UtcOffset,
}

impl LedgerArgs {
    fn settings(&self) -> store::costs::CostSettings {
        store::costs::CostSettings {
            reporting_currency: self.reporting_currency,
            fx_max_age_days: self.fx_max_age_days,
            flight_grace_days: self.flight_grace_days,
        }
    }

    fn today(&self) -> time::Date {
        time::OffsetDateTime::now_utc().to_offset(self.utc_offset).date()
    }
}

#[derive(Subcommand)]
enum PipelineCommand {
    /// Check a pipeline file: every problem with its line and column (`FILE:LINE:COLUMN: …`),
    /// then each step planned against its inputs' columns (no rows read, nothing written).
    /// Exits 0 when there is none, 1 otherwise.
    Check(PipelineArgs),
    /// Run a pipeline file: check it, run every step (DataFusion, in this process), and write the
    /// sinks only once every check has passed. Exits 1, naming the step and the reason, when a
    /// step fails; nothing is written then.
    Run {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Run every step on each source's first rows (--sample) and write nowhere, showing each
        /// step's columns and first rows.
        #[arg(long)]
        dry_run: bool,
        /// Rows of each source a dry run reads.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        sample: u32,
    },
    /// Store a pipeline file under a name (by default the file's name without its extension),
    /// as its next version; the same text again stores nothing. Audited.
    Save {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
        #[arg(long)]
        name: Option<String>,
        /// Why it changed, kept with the version.
        #[arg(long, default_value = "")]
        note: String,
        /// The email of the pipeline builder or administrator the version is recorded under.
        #[arg(long = "as")]
        as_email: String,
    },
    /// Run a stored pipeline on a schedule, in the server (every instance sharing the database
    /// takes part; each scheduled time runs once). `--off` removes the schedule.
    Schedule {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        ledger: LedgerArgs,
        /// The stored pipeline.
        name: String,
        /// Five fields in the company's time zone (--utc-offset): minute hour day-of-month month
        /// day-of-week, e.g. "0 6 * * *" for 06:00 every day, "0 7 * * 1" for Mondays at 07:00.
        #[arg(long, required_unless_present = "off")]
        cron: Option<String>,
        /// A parameter's value for every scheduled run, `name=value`; repeat for each.
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// How many times a failed run is tried again (after 1, 4, 16… minutes).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(0..=10))]
        retries: i32,
        #[arg(long, conflicts_with = "cron")]
        off: bool,
        /// The email of the pipeline builder or administrator the change is recorded under.
        #[arg(long = "as")]
        as_email: String,
    },
    /// The stored pipelines: name, current version, when it was saved, schedule and next run.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        ledger: LedgerArgs,
    },
    /// The latest recorded runs, newest first: state, when, how long, each step's rows, or the
    /// step that failed and why.
    Runs {
        #[command(flatten)]
        db: DbArgs,
        /// Only this pipeline's runs (its file's name without the extension).
        pipeline: Option<String>,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
    },
}

#[derive(Args)]
struct PipelineArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    ledger: LedgerArgs,
    /// The pipeline file, YAML or JSON, or a stored pipeline's name (`NAME` for its current
    /// version, `NAME@3` for version 3); folder and SQLite connections' paths are inside the data
    /// folder (--data-dir).
    file: PathBuf,
    /// A parameter's value, `name=value`; repeat for each parameter.
    #[arg(long = "param", value_parser = parse_param)]
    params: Vec<(String, String)>,
    #[command(flatten)]
    engine: EngineArgs,
}

impl PipelineArgs {
    fn given(&self) -> std::collections::BTreeMap<String, String> {
        self.params.iter().cloned().collect()
    }

    /// The run's settings, and MCMS's data (its database is opened only for a pipeline that
    /// reads the ledger or the statistics).
    /// What a run sees: the data folder, the company's date, and MCMS's data when the file reads
    /// it (`db` is opened by the caller only then, or to record the run).
    fn surroundings(
        &self,
        mode: pipeline::Mode,
        db: Option<&store::Db>,
    ) -> (pipeline::Settings, Box<dyn pipeline::Mcms>) {
        let settings = pipeline::Settings {
            today: self.ledger.today(),
            base_dir: self.db.data_dir.clone(),
            secrets: pipeline::Secrets::default(),
            mode,
            cancel: Default::default(),
            progress: Default::default(),
            engine: self.engine.engine.clone(),
        };
        let mcms: Box<dyn pipeline::Mcms> = match db {
            Some(db) => Box::new(server::pipelines::McmsData {
                db: db.clone(),
                settings: self.ledger.settings(),
                today: self.ledger.today(),
            }),
            None => Box::new(pipeline::Outside),
        };
        (settings, mcms)
    }
}

/// Whether a pipeline file reads the cost ledger or the partner statistics.
fn reads_mcms(text: &str) -> bool {
    use domain::pipeline::Source;
    domain::pipeline::parse(text).is_ok_and(|p| {
        p.steps.iter().any(|s| matches!(s.source, Some(Source::Ledger { .. } | Source::PartnerStats { .. })))
    })
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or("a parameter is given as name=value")?;
    Ok((name.trim().to_owned(), value.to_owned()))
}

/// A pipeline file, read up to one byte past the largest accepted (which the check then refuses).
fn read_pipeline(file: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(domain::pipeline::MAX_FILE_BYTES as u64 + 1).read_to_string(&mut text))
        .with_context(|| format!("cannot read {}", file.display()))?;
    Ok(text)
}

fn report_problems(file: &std::path::Path, problems: &[domain::pipeline::Problem]) -> anyhow::Error {
    for p in problems {
        println!("{}:{}:{}: {}", file.display(), p.line, p.column, p.kind);
    }
    let plural = if problems.len() == 1 { "" } else { "s" };
    anyhow::anyhow!("{} has {} problem{plural}", file.display(), problems.len())
}

/// `mcms pipeline runs`.
async fn list_runs(args: &DbArgs, pipeline: Option<&str>, limit: i64) -> anyhow::Result<()> {
    let db = open(args).await?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    for run in db.pipeline_runs(pipeline, limit).await? {
        let started = run.started_at.format(&format).unwrap_or_default();
        let took =
            run.finished_at.map(|f| format!("{:.1} s", (f - run.started_at).as_seconds_f64())).unwrap_or_default();
        let name = match run.version {
            Some(v) => format!("{}@{v}", run.pipeline),
            None => run.pipeline.clone(),
        };
        println!(
            "{:>5}  {name:<20} {:<9} {started} {took:>9}  {}  params {}",
            run.id, run.state, run.started_via, run.params
        );
        match (&run.reason, &run.failed_step) {
            (Some(reason), Some(step)) => println!("       step `{step}`: {reason}"),
            (Some(reason), None) => println!("       {reason}"),
            _ => {
                let steps: Vec<serde_json::Value> = serde_json::from_str(&run.steps).unwrap_or_default();
                for s in steps {
                    let (name, rows, millis) =
                        (s["name"].as_str().unwrap_or(""), s["rows"].as_u64(), s["millis"].as_u64());
                    println!("       {name:<20} {:>10} rows {:>7} ms", rows.unwrap_or(0), millis.unwrap_or(0));
                }
            }
        }
    }
    Ok(())
}

/// A pipeline to check or run: a file's, or a stored one's.
struct Loaded {
    name: String,
    version: Option<i32>,
    text: String,
    /// MCMS's database, when it was opened to find a stored pipeline (used again, not reopened).
    db: Option<Db>,
}

/// The file at `args.file`, or else (when it is a name, not a path) the stored pipeline of that
/// name (`NAME@VERSION`).
async fn load_pipeline(args: &PipelineArgs) -> anyhow::Result<Loaded> {
    let file = &args.file;
    let given = file.to_string_lossy();
    let looks_stored = domain::pipeline::is_pipeline_name(given.split('@').next().unwrap_or_default());
    if file.exists() || !looks_stored {
        let name = file.file_stem().map_or_else(|| "pipeline".into(), |s| s.to_string_lossy().into_owned());
        return Ok(Loaded { name, version: None, text: read_pipeline(file)?, db: None });
    }
    let (name, version) = match given.split_once('@') {
        Some((name, v)) => (name, Some(v.parse::<i32>().with_context(|| format!("`{v}` is not a version number"))?)),
        None => (given.as_ref(), None),
    };
    let db = open(&args.db).await?;
    let stored = db.pipeline_version(name, version).await?.with_context(|| match version {
        Some(v) => format!("no file {given}, and the stored pipeline `{name}` has no version {v}"),
        None => format!("no file {given}, and no stored pipeline by that name (mcms pipeline list)"),
    })?;
    Ok(Loaded { name: stored.name, version: Some(stored.version), text: stored.text, db: Some(db) })
}

/// `mcms pipeline save`.
async fn save_pipeline(
    args: &DbArgs,
    file: &std::path::Path,
    name: Option<String>,
    note: &str,
    as_email: &str,
) -> anyhow::Result<()> {
    use sha2::Digest;
    let text = read_pipeline(file)?;
    // A parameter without a default is given when it runs: every other problem refuses the save.
    let checked = domain::pipeline::check_draft(&text).map_err(|problems| report_problems(file, &problems))?;
    // A schedule in the file becomes the pipeline's schedule once the version is saved.
    let cron = checked.pipeline.schedule.as_ref().map(|c| c.value.split_whitespace().collect::<Vec<_>>().join(" "));
    if let Some(cron) = &cron {
        server::schedules::parse_cron(cron).map_err(anyhow::Error::msg)?;
    }
    let stem = || file.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = name.unwrap_or_else(stem);
    if !domain::pipeline::is_pipeline_name(&name) {
        anyhow::bail!("`{name}` is not a pipeline name: lowercase letters, digits and dashes, starting with a letter");
    }
    let db = open(args).await?;
    let actor = service::Actor::by_email(&db, as_email).await?;
    actor.require(domain::Role::Builder)?;
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    match db.save_pipeline(&name, &text, &sha, store::pipelines::Base::Any, note, actor.id).await? {
        store::pipelines::Saved::New(v) => println!("{name}: saved as version {v}"),
        store::pipelines::Saved::Unchanged(v) => println!("{name}: unchanged (version {v} has this text)"),
    }
    if let Some(cron) = cron
        && db.schedule_from_file(&name, &cron, actor.id).await?
    {
        println!("{name}: scheduled \"{cron}\" (from the file)");
    }
    Ok(())
}

/// `mcms pipeline list`.
async fn list_pipelines(args: &DbArgs, ledger: &LedgerArgs) -> anyhow::Result<()> {
    let db = open(args).await?;
    let schedules = db.schedules().await?;
    for p in db.pipelines().await? {
        let saved = p.saved_at.to_offset(ledger.utc_offset).format(&LOCAL_TIME).unwrap_or_default();
        let schedule = match schedules.iter().find(|s| s.name == p.name) {
            Some(s) => {
                format!("  schedule \"{}\", next {}", s.cron, next_run(&s.cron, ledger.utc_offset))
            }
            None => String::new(),
        };
        println!("{:<24} version {:<4} saved {saved}{schedule}", p.name, p.version);
    }
    Ok(())
}

/// `mcms pipeline schedule`.
async fn schedule_pipeline(
    args: &DbArgs,
    ledger: &LedgerArgs,
    name: &str,
    cron: Option<&str>,
    given: &std::collections::BTreeMap<String, String>,
    retries: i32,
    as_email: &str,
) -> anyhow::Result<()> {
    let db = open(args).await?;
    let actor = service::Actor::by_email(&db, as_email).await?;
    actor.require(domain::Role::Builder)?;
    let Some(cron) = cron else {
        db.set_schedule(name, None, actor.id).await.map_err(|e| missing_pipeline(e, name))?;
        println!("{name}: no schedule");
        return Ok(());
    };
    server::schedules::parse_cron(cron).map_err(anyhow::Error::msg)?;
    // Every scheduled run must have each parameter's value: given here, or its default.
    let stored =
        db.pipeline_version(name, None).await?.ok_or_else(|| missing_pipeline(store::StoreError::NotFound, name))?;
    if let Err(problems) = domain::pipeline::check(&stored.text, given) {
        return Err(report_problems(std::path::Path::new(name), &problems));
    }
    let params = serde_json::to_string(given)?;
    db.set_schedule(name, Some((cron, &params, retries)), actor.id).await?;
    println!("{name}: runs on \"{cron}\" (next {}), {retries} retries", next_run(cron, ledger.utc_offset));
    Ok(())
}

/// A time as the company reads it, with its offset.
const LOCAL_TIME: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day] [hour]:[minute] (UTC[offset_hour sign:mandatory]:[offset_minute])"
);

/// When a schedule next runs, in the company's time zone.
fn next_run(cron: &str, offset: time::UtcOffset) -> String {
    server::schedules::next(cron, time::OffsetDateTime::now_utc().unix_timestamp(), offset)
        .and_then(|at| time::OffsetDateTime::from_unix_timestamp(at).ok())
        .and_then(|at| at.to_offset(offset).format(&LOCAL_TIME).ok())
        .unwrap_or_else(|| "never".into())
}

fn missing_pipeline(e: store::StoreError, name: &str) -> anyhow::Error {
    match e {
        store::StoreError::NotFound => anyhow::anyhow!("no stored pipeline named `{name}` (mcms pipeline list)"),
        e => e.into(),
    }
}

/// `mcms pipeline check`.
async fn check_pipeline(args: &PipelineArgs) -> anyhow::Result<()> {
    let file = &args.file;
    let Loaded { text, db, .. } = load_pipeline(args).await?;

    // The file's own problems first: they need nothing but the file.
    if let Err(problems) = domain::pipeline::check(&text, &args.given()) {
        return Err(report_problems(file, &problems));
    }
    let db = match db {
        None if reads_mcms(&text) => Some(open(&args.db).await?),
        db => db,
    };
    let (settings, mcms) = args.surroundings(pipeline::Mode::Plan, db.as_ref());
    match pipeline::check(&text, &args.given(), &settings, mcms.as_ref()).await {
        Ok(checked) => {
            let steps: Vec<&str> =
                checked.order.iter().map(|&i| checked.pipeline.steps[i].name.value.as_str()).collect();
            println!("{}: no problems; {} steps, run in this order: {}", file.display(), steps.len(), steps.join(", "));
            Ok(())
        }
        Err(problems) => Err(report_problems(file, &problems)),
    }
}

/// `mcms pipeline run`: each step's rows and time, then where the sinks wrote; in a dry run,
/// each step's columns and first rows instead.
async fn run_pipeline(args: &PipelineArgs, mode: pipeline::Mode) -> anyhow::Result<()> {
    let file = &args.file;
    let Loaded { name, version, text, db } = load_pipeline(args).await?;
    // A run (not a dry run) is recorded in MCMS's database: who, when, the file's hash, the
    // parameters, and each step's rows and time or why it failed.
    let db = match db {
        None if mode == pipeline::Mode::Run || reads_mcms(&text) => Some(open(&args.db).await?),
        db => db,
    };
    let (settings, mcms) = args.surroundings(mode, db.as_ref());
    // Ctrl-C or SIGTERM stops the run cleanly: nothing written, the run recorded as cancelled.
    let cancel = settings.cancel.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        cancel.cancel();
    });
    let (recorded, outcome) = if let (pipeline::Mode::Run, Some(db)) = (mode, &db) {
        let via = store::pipelines::StartedVia::Command;
        let start = server::pipelines::Start { name: &name, version, text: &text, by: None, via };
        let run = server::pipelines::run_recorded(db, &start, &args.given(), &settings, mcms.as_ref())
            .await
            .context("cannot record the run")?;
        (Some(run.id), run.outcome)
    } else {
        (None, pipeline::run(&text, &args.given(), &settings, mcms.as_ref()).await)
    };
    if let Some(id) = recorded {
        eprintln!("recorded as run {id} (mcms pipeline runs)");
    }
    match outcome {
        Ok(run) => {
            let params: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let given = if params.is_empty() { "no parameters".to_owned() } else { params.join(", ") };
            match mode {
                pipeline::Mode::DryRun { rows } => {
                    println!(
                        "{}: dry run with {given}, on each source's first {rows} rows; nothing written",
                        file.display()
                    )
                }
                _ => println!("{}: ran with {given}", file.display()),
            }
            for s in &run.steps {
                let wrote = s.wrote.as_ref().map(|w| format!(" → {w}")).unwrap_or_default();
                println!(
                    "  {:<20} {:<9} {:>10} rows {:>7} ms  ({} in, {}){wrote}",
                    s.name,
                    s.kind,
                    s.rows,
                    s.millis,
                    s.rows_in,
                    bytes(s.bytes)
                );
                if let Some(preview) = &s.preview {
                    let columns: Vec<String> = preview.columns.iter().map(|(n, t)| format!("{n} ({t})")).collect();
                    println!("      columns: {}", columns.join(", "));
                    for row in &preview.rows {
                        println!("      | {} |", row.join(" | "));
                    }
                }
            }
            Ok(())
        }
        Err(pipeline::RunError::Problems(problems)) => Err(report_problems(file, &problems)),
        Err(e) if matches!(mode, pipeline::Mode::Run) => {
            Err(anyhow::anyhow!("{}: {e}; nothing was written", file.display()))
        }
        Err(e) => Err(anyhow::anyhow!("{}: {e}", file.display())),
    }
}

/// `1.2 MB`, `640 B`: sizes as a person reads them.
fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

fn parse_currency(code: &str) -> Result<domain::Currency, String> {
    domain::Currency::from_code(code).ok_or_else(|| format!("{code:?} is not an ISO 4217 currency code"))
}

fn parse_offset(text: &str) -> Result<time::UtcOffset, String> {
    let format = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    time::UtcOffset::parse(text.trim(), &format).map_err(|_| format!("{text:?} is not an offset like +09:00"))
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    ledger: LedgerArgs,
    /// Address to listen on.
    #[arg(long, env = "MCMS_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Also load the demo dataset and demo accounts.
    #[arg(long, env = "MCMS_DEMO")]
    demo: bool,
    /// Serve the compiled site (pkg/) from this folder instead of the copy inside the binary.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    site_root: Option<PathBuf>,
    /// Mark cookies Secure; set when MCMS is served over https.
    #[arg(long, env = "MCMS_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "MCMS_SESSION_IDLE_MINUTES", default_value_t = 480)]
    session_idle_minutes: i64,
    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "MCMS_SESSION_MAX_HOURS", default_value_t = 168)]
    session_max_hours: i64,
    /// Largest import file accepted, in megabytes.
    #[arg(long, env = "MCMS_IMPORT_MAX_MB", default_value_t = 50)]
    import_max_mb: usize,
    /// Most data rows an import accepts.
    #[arg(long, env = "MCMS_IMPORT_MAX_ROWS", default_value_t = 200_000)]
    import_max_rows: usize,
    /// A proxy (address or CIDR range) whose X-Forwarded-For names the partner API's client;
    /// repeat for several, or separate with commas. Without one, the socket's address counts.
    #[arg(long = "trusted-proxy", env = "MCMS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, env = "MCMS_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds after which an unanswered request is answered 408.
    #[arg(long, env = "MCMS_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    request_timeout_secs: u64,
    /// Connections open at once; more wait in the listen queue.
    #[arg(long, env = "MCMS_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Requests handled at once; more wait their turn.
    #[arg(long, env = "MCMS_MAX_IN_FLIGHT", default_value_t = 512)]
    max_in_flight: usize,
    /// Milliseconds a partner API statistics page is kept per instance before it is read again
    /// (0: every request reads the database). Conditional requests get 304 either way.
    #[arg(long, env = "MCMS_API_CACHE_MS", default_value_t = 1000)]
    api_cache_ms: u64,
    /// Serve Prometheus metrics at http://ADDR/metrics (a separate, private address; off without it).
    #[arg(long, env = "MCMS_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Where pipelines run.
#[derive(Args, Clone)]
struct EngineArgs {
    /// `embedded` (DataFusion in this process), or Apache Ballista: a scheduler as
    /// `df://HOST:PORT`, or `standalone` (a scheduler and an executor in this process). Ballista
    /// needs a build with `--features ballista`.
    #[arg(long = "pipeline-engine", env = "MCMS_PIPELINE_ENGINE", default_value = "embedded")]
    engine: pipeline::Engine,
}

fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    domain::net::parse_entry(text).map_err(|e| e.to_string())
}

/// glibc keeps large freed blocks (argon2's 19 MiB per password check) in per-thread arenas once
/// its adaptive mmap threshold has risen, so resident memory only grows. A fixed threshold makes
/// every block over 1 MiB its own mapping, returned to the system when freed.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called once before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> ExitCode {
    return_large_allocations_to_the_system();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("mcms: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let filter = EnvFilter::try_from_env("MCMS_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("MCMS_LOG_FORMAT").is_ok_and(|f| f == "json") {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Migrate { db, demo }) => match open(&db).await {
            Ok(conn) if demo => {
                load_demo(&conn, &db.data_dir).await.map(|_| println!("database is up to date, demo data loaded"))
            }
            Ok(_) => {
                println!("database is up to date");
                Ok(())
            }
            Err(e) => Err(e),
        },
        Some(Command::CreateAdmin { db, email, name }) => create_admin(&db, &email, &name).await,
        Some(Command::IssuePocToken { db, label, expires_in_days, as_email }) => {
            issue_poc_token(&db, &label, expires_in_days, &as_email).await
        }
        Some(Command::PocTokens { db }) => poc_tokens(&db).await,
        Some(Command::RevokePocToken { db, prefix, as_email }) => revoke_poc_token(&db, &prefix, &as_email).await,
        Some(Command::IssueKey { db, partner, scopes, label, rate_per_minute, daily_quota, as_email }) => {
            let models = scopes.iter().filter_map(|s| domain::keys::predict_grant(s)).map(str::to_owned).collect();
            let scopes = scopes.iter().filter_map(|s| domain::keys::Scope::parse(s)).collect();
            let settings =
                store::partners::KeySettings { label, scopes, models, expires_at: None, rate_per_minute, daily_quota };
            issue_key(&db, &partner, &settings, &as_email).await
        }
        Some(Command::Model(command)) => model_cli::run(command).await,
        Some(Command::Ingest(command)) => ingest_cli::run(command).await,
        Some(Command::Pipeline(PipelineCommand::Check(args))) => check_pipeline(&args).await,
        Some(Command::Pipeline(PipelineCommand::Save { db, file, name, note, as_email })) => {
            save_pipeline(&db, &file, name, &note, &as_email).await
        }
        Some(Command::Pipeline(PipelineCommand::List { db, ledger })) => list_pipelines(&db, &ledger).await,
        Some(Command::Pipeline(PipelineCommand::Schedule {
            db,
            ledger,
            name,
            cron,
            params,
            retries,
            off: _,
            as_email,
        })) => {
            let given = params.into_iter().collect();
            schedule_pipeline(&db, &ledger, &name, cron.as_deref(), &given, retries, &as_email).await
        }
        Some(Command::Pipeline(PipelineCommand::Runs { db, pipeline, limit })) => {
            list_runs(&db, pipeline.as_deref(), limit).await
        }
        Some(Command::Pipeline(PipelineCommand::Run { pipeline: args, dry_run, sample })) => {
            let mode = if dry_run { pipeline::Mode::DryRun { rows: sample as usize } } else { pipeline::Mode::Run };
            run_pipeline(&args, mode).await
        }
        Some(Command::BatchCheck { db, ledger, month }) => batch_check(&db, &ledger, month).await,
        Some(Command::Export { db, ledger, month, format }) => export(&db, &ledger, month, format).await,
        Some(Command::Import { db, ledger, file, as_email, dry_run, accept_warnings, vendor, max_mb, max_rows }) => {
            let job = server::import::ImportJob {
                path: &file,
                as_email: &as_email,
                dry_run,
                accept_warnings,
                vendor: vendor.as_deref(),
                limits: domain::import::Limits { max_bytes: max_mb.saturating_mul(1024 * 1024), max_rows },
            };
            match open(&db).await {
                Ok(db) => server::import::import_file(&db, &job, &ledger.settings(), ledger.today())
                    .await
                    .map(|report| print!("{report}")),
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcms: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(args: &DbArgs) -> anyhow::Result<Db> {
    let url = config::database_url(args.database_url.as_deref(), &args.data_dir)
        .with_context(|| format!("cannot create data dir {}", args.data_dir.display()))?;
    let db = Db::connect(&url).await.context("cannot open database")?;
    db.migrate().await.context("cannot migrate database")?;
    Ok(db)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let db = open(&args.db).await?;
    if args.demo {
        load_demo(&db, &args.db.data_dir).await?;
    }
    let site = args.site_root.map_or(server::site::Site::Embedded, server::site::Site::Folder);
    if !site.is_complete() {
        tracing::warn!(
            ?site,
            "no compiled site (pkg/mcms.js, .wasm, .css) there; pages will work without JavaScript and styles"
        );
    }
    let config = WebConfig {
        site,
        secure_cookies: args.secure_cookies,
        session_idle_minutes: args.session_idle_minutes,
        session_max_secs: args.session_max_hours * 3600,
        costs: args.ledger.settings(),
        business_offset: args.ledger.utc_offset,
        import_limits: domain::import::Limits {
            max_bytes: args.import_max_mb.saturating_mul(1024 * 1024),
            max_rows: args.import_max_rows,
        },
        trusted_proxies: args.trusted_proxies,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs.max(1)),
        max_in_flight: args.max_in_flight,
        api_cache: std::time::Duration::from_millis(args.api_cache_ms),
        data_dir: args.db.data_dir.clone(),
        pipeline_engine: args.engine.engine.clone(),
        ..WebConfig::default()
    };
    let limits = server::serve::ServeLimits {
        header_read: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
        max_connections: args.max_connections,
        ..Default::default()
    };
    tokio::spawn(clean_up_hourly(db.clone()));
    // Runs a stopped server left recorded as running are ended: those that have not beaten for
    // a while (a run going on, here or on another instance or in `mcms pipeline run`, beats every
    // second). The scheduler looks again every 30 seconds.
    match db.abandon_pipeline_runs(time::OffsetDateTime::now_utc() - server::pipelines::SILENT).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(runs = n, "pipeline runs left running by a stopped server are recorded as failed"),
        Err(e) => tracing::warn!(error = %e, "could not end the runs a stopped server left running"),
    }
    // Scheduled pipelines run here, in every instance; each scheduled time runs once.
    let scheduler = server::schedules::Scheduler {
        db: db.clone(),
        instance: server::schedules::Scheduler::instance_name(),
        offset: args.ledger.utc_offset,
        costs: args.ledger.settings(),
        data_dir: args.db.data_dir.clone(),
        secrets: pipeline::Secrets::default(),
        engine: args.engine.engine.clone(),
    };
    config.stopping.spawn(|stop| scheduler.run_forever(stop));
    // Auto-ingest watches defined on the pages run here, each on one instance at a time.
    let watches = server::ingest::Watches {
        db: db.clone(),
        lab: server::ingest::Lab { data_dir: args.db.data_dir.clone(), secrets: config.pipeline_secrets.clone() },
        instance: server::schedules::Scheduler::instance_name(),
    };
    config.stopping.spawn(|stop| watches.run_forever(stop));
    let app = server::router(db.clone(), &config);
    let listener =
        tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
    if let Some(addr) = args.metrics_addr {
        let metrics = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        tracing::info!("metrics at http://{addr}/metrics");
        let router = server::metrics::router(db.clone());
        tokio::spawn(server::serve::serve(metrics, router, limits, std::future::pending()));
    }
    tracing::info!(backend = db.backend(), "MCMS listening on http://{}", args.addr);
    server::serve::serve(listener, app, limits, shutdown_signal()).await.context("server error")?;
    // Runs going on are cancelled (nothing they wrote is published) and recorded as ended by the
    // stop, before the database closes.
    if !config.stopping.stop(std::time::Duration::from_secs(30)).await {
        tracing::warn!("pipeline runs still going 30 s after the stop: the next start records them as failed");
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn load_demo(db: &Db, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let added = demo::load(db).await.context("cannot load demo data")?;
    let defaults = WebConfig::default();
    let today = time::OffsetDateTime::now_utc().to_offset(defaults.business_offset).date();
    let costs = demo::load_costs(db, &defaults.costs, today).await.context("cannot load demo costs")?;
    let stats = demo::load_partners(db, today).await.context("cannot load demo partners")?;
    let runs = demo::load_poc(db).await.context("cannot load the demo PoC")?;
    let sheets = demo::pipeline_files(data_dir, today)
        .with_context(|| format!("cannot write the demo pipelines' files in {}", data_dir.display()))?;
    let pipelines = demo::load_pipelines(db).await.context("cannot store the shipped pipelines")?;
    let models = demo::load_models(db).await.context("cannot register the shipped models")?;
    tracing::info!(
        accounts = added,
        cost_entries = costs,
        partner_stats = stats,
        poc_runs = runs,
        agency_sheets = sheets,
        pipelines,
        models,
        "demo data loaded"
    );
    Ok(())
}

async fn issue_key(
    args: &DbArgs,
    partner: &str,
    settings: &store::partners::KeySettings,
    as_email: &str,
) -> anyhow::Result<()> {
    let db = open(args).await?;
    let actor = service::Actor::by_email(&db, as_email).await?;
    let found = db.partners().await?.into_iter().find(|p| p.name == partner);
    let found = found.with_context(|| format!("no partner named {partner:?}"))?;
    let (_, key) = cli_service(&db).issue_key(&actor, found.id, settings).await?;
    println!("{}", key.reveal());
    Ok(())
}

/// The use cases for a command, with the ledger's default settings.
fn cli_service(db: &Db) -> service::Service<'_> {
    static COSTS: std::sync::LazyLock<store::costs::CostSettings> = std::sync::LazyLock::new(Default::default);
    let today = time::OffsetDateTime::now_utc().to_offset(WebConfig::default().business_offset).date();
    service::Service { db, costs: &COSTS, today }
}

async fn issue_poc_token(
    args: &DbArgs,
    label: &str,
    expires_in_days: Option<u16>,
    as_email: &str,
) -> anyhow::Result<()> {
    let db = open(args).await?;
    let actor = service::Actor::by_email(&db, as_email).await?;
    let service = cli_service(&db);
    let expires_on = expires_in_days.map(|d| service.today + time::Duration::days(i64::from(d)));
    let token = service.issue_poc_token(&actor, label, expires_on).await?;
    println!("{}", token.reveal());
    Ok(())
}

async fn poc_tokens(args: &DbArgs) -> anyhow::Result<()> {
    let db = open(args).await?;
    let Some(poc) = db.pocs().await?.into_iter().next() else {
        println!("no PoC is recorded yet");
        return Ok(());
    };
    let now = time::OffsetDateTime::now_utc();
    for t in db.poc_tokens(poc.id).await? {
        let status = t.state(now).replace('_', " ");
        let expires = t.expires_at.map_or("never".to_owned(), |e| e.date().to_string());
        println!(
            "{}\t{}\t{}\t{}\texpires {}\t{}",
            t.prefix,
            t.label,
            t.issued_by,
            t.created_at.date(),
            expires,
            status
        );
    }
    Ok(())
}

async fn revoke_poc_token(args: &DbArgs, prefix: &str, as_email: &str) -> anyhow::Result<()> {
    let db = open(args).await?;
    let actor = service::Actor::by_email(&db, as_email).await?;
    match cli_service(&db).revoke_poc_token(&actor, prefix).await {
        Ok(()) => {
            println!("revoked {prefix}");
            Ok(())
        }
        Err(service::Error::Store(store::StoreError::NotFound)) => bail!("no working token has the prefix {prefix:?}"),
        Err(e) => Err(e.into()),
    }
}

/// Import drafts untouched this long are removed (the file can be uploaded again).
const DRAFT_LIFETIME: time::Duration = time::Duration::days(7);

/// Hourly: removes expired sessions and import drafts left unused.
async fn clean_up_hourly(db: Db) {
    use tower_sessions::session_store::ExpiredDeletion;
    let store = db.session_store();
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let started = std::time::Instant::now();
        if let Err(e) = store.delete_expired().await {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
        match db.delete_stale_drafts(time::OffsetDateTime::now_utc() - DRAFT_LIFETIME).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(drafts = n, "unused import drafts removed"),
            Err(e) => tracing::warn!(error = %e, "could not remove unused import drafts"),
        }
        metrics::histogram!("mcms_job_seconds", "job" => "clean_up").record(started.elapsed().as_secs_f64());
    }
}

/// Resolves on SIGTERM or Ctrl-C; requests in flight finish before the server stops.
async fn shutdown_signal() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.ok() };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => s.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<Option<()>>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn create_admin(args: &DbArgs, email: &str, name: &str) -> anyhow::Result<()> {
    let email = domain::Email::parse(email).context("--email")?;
    let name = domain::PersonName::parse(name).context("--name")?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
    let password = domain::NewPassword::parse(line.trim_end_matches(['\r', '\n'])).context("password")?;
    let db = open(args).await?;
    let user = db.create_user(&email, &name, domain::Role::Admin, &password).await?;
    println!("created administrator {} (id {})", user.email, user.id);
    Ok(())
}

/// `mcms export --format`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Jsonl,
}

fn parse_month(text: &str) -> Result<store::costs::YearMonth, String> {
    store::costs::YearMonth::parse(text).ok_or_else(|| format!("expected YYYY-MM (2000-01 to 2099-12), got {text:?}"))
}

/// A scope of `mcms issue-key`: one of [`domain::keys::Scope`], or `models:predict:NAME`.
fn parse_scope(text: &str) -> Result<String, String> {
    let text = text.trim();
    match domain::keys::Scope::parse(text).is_some() || domain::keys::predict_grant(text).is_some() {
        true => Ok(text.to_owned()),
        false => Err(format!("unknown scope {text:?}")),
    }
}

async fn batch_check(args: &DbArgs, ledger: &LedgerArgs, month: store::costs::YearMonth) -> anyhow::Result<()> {
    let db = open(args).await?;
    let reasons = server::batch::check(&db, month, &ledger.settings(), ledger.today()).await?;
    if reasons.is_empty() {
        println!("{month} is closed and every entry passes: safe to load");
        Ok(())
    } else {
        for reason in &reasons {
            println!("{reason}");
        }
        bail!("{month} is not safe to load ({} reason(s) above)", reasons.len())
    }
}

async fn export(
    args: &DbArgs,
    ledger: &LedgerArgs,
    month: store::costs::YearMonth,
    format: ExportFormat,
) -> anyhow::Result<()> {
    use std::io::Write;
    let db = open(args).await?;
    let settings = ledger.settings();
    let rows = server::batch::month_entries(&db, month).await?;
    let bytes = match format {
        ExportFormat::Csv => server::batch::to_csv(&rows, &settings)?,
        ExportFormat::Jsonl => server::batch::to_jsonl(&rows, &settings).into_bytes(),
    };
    std::io::stdout().write_all(&bytes).context("cannot write")
}
