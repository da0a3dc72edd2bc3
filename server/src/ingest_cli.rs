//! `mcms ingest …`: the ingestion lab from the command line (docs/ingest.md).

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use domain::ingest::infer::CsvOptions;
use domain::ingest::plan::{LayoutFormat, SplitPlan};
use domain::ingest::statements::{OnError, Target, statements};
use domain::ingest::{Format, Inferred};
use pipeline::ingest::split::{Survey, survey};
use pipeline::ingest::watch::{WatchMode, WatchSpec, Watcher};
use pipeline::ingest::{FormatKind, InferOptions};

#[derive(Subcommand)]
pub enum IngestCommand {
    /// The columns, types and nullability of files (a folder, a file, a glob, or an s3:// prefix),
    /// from a bounded sample of each CSV or JSON Lines file and from Parquet footers, with the
    /// problems a load would hit. Exits 1 when there are problems.
    Infer {
        #[command(flatten)]
        files: FileArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The statements that create a table for the files and load them into Snowflake and
    /// Redshift (and Redshift's manifest), ready to paste.
    Plan {
        #[command(flatten)]
        files: FileArgs,
        /// The table to create and load: name or schema.name.
        #[arg(long)]
        table: String,
        /// The S3 prefix the warehouses load from (by default the location itself, if on S3).
        #[arg(long)]
        to: Option<String>,
        /// What a load does with bad rows.
        #[arg(long, value_enum, default_value_t = OnErrorArg::Abort)]
        on_error: OnErrorArg,
        /// Snowflake: list the columns instead of USING TEMPLATE.
        #[arg(long)]
        explicit_columns: bool,
        /// Snowflake's storage integration for the bucket.
        #[arg(long, default_value = "s3_integration")]
        integration: String,
        /// The IAM role Redshift assumes to read the bucket.
        #[arg(long, default_value = "arn:aws:iam::123456789012:role/redshift-copy")]
        iam_role: String,
        /// Only this warehouse's statements.
        #[arg(long, value_enum)]
        warehouse: Option<Warehouse>,
        /// Write Redshift's manifest to this file too.
        #[arg(long)]
        manifest: Option<std::path::PathBuf>,
        #[command(flatten)]
        layout: LayoutArgs,
    },
    /// Rewrite the files into the planned layout (or --files N files) in a local folder, with the
    /// pipeline engine; reports files, bytes, rows and time. Written files appear together.
    Split {
        #[command(flatten)]
        files: FileArgs,
        /// The folder to write into, or `s3://bucket/prefix/`.
        #[arg(long)]
        out: String,
        #[command(flatten)]
        layout: LayoutArgs,
        /// Write this many files instead of the planned count.
        #[arg(long)]
        count: Option<u64>,
        /// Record the rewrite as a run of the PoC (scenario batch_copy) under this system name,
        /// e.g. mcms-local; needs --as.
        #[arg(long, requires = "as_email")]
        record_as: Option<String>,
        /// The administrator the recorded run is stored under.
        #[arg(long = "as")]
        as_email: Option<String>,
    },
    /// Auto-ingest: poll a folder or s3:// prefix and load each new file into a table exactly
    /// once (rows appended, or with --key, Debezium change events applied as upserts and
    /// deletes), keeping a load history in the target database. Runs until stopped (Ctrl-C) or
    /// for --for-secs; a restart resumes where it stopped.
    Watch {
        /// A folder with a glob (`in/*.jsonl`), or `s3://bucket/prefix/*.json`.
        location: String,
        /// The table to load into.
        #[arg(long)]
        table: String,
        /// The target: a SQLite database file (made if missing).
        #[arg(long, conflicts_with = "postgres_env", required_unless_present = "postgres_env")]
        sqlite: Option<std::path::PathBuf>,
        /// The target: PostgreSQL, its URL in this environment variable.
        #[arg(long)]
        postgres_env: Option<String>,
        /// Change-data-capture mode: the table's key columns (comma-separated); files hold
        /// Debezium change events (one JSON object per line).
        #[arg(long, value_delimiter = ',')]
        key: Vec<String>,
        /// csv, jsonl or parquet (appended files); by default from each file's name.
        #[arg(long, value_parser = parse_format)]
        format: Option<FormatKind>,
        /// The watch's name in the load history (by default the table's).
        #[arg(long)]
        name: Option<String>,
        /// Seconds between polls.
        #[arg(long, default_value_t = 1.0)]
        every_secs: f64,
        /// Stop after this many seconds (by default, run until stopped).
        #[arg(long)]
        for_secs: Option<f64>,
        /// Record the period as a run of the PoC (scenario cdc_microbatch) under this system
        /// name, e.g. mcms-local; needs --as.
        #[arg(long, requires = "as_email")]
        record_as: Option<String>,
        /// The administrator the recorded run is stored under.
        #[arg(long = "as")]
        as_email: Option<String>,
        /// The PoC to record into (by default the newest).
        #[arg(long)]
        poc: Option<i64>,
        #[command(flatten)]
        db: crate::DbArgs,
    },
}

#[derive(Args)]
pub struct LayoutArgs {
    #[command(flatten)]
    db: crate::DbArgs,
    /// The layout to propose (and rewrite to): parquet (Snappy) or csv (gzip).
    #[arg(long, value_enum, default_value_t = LayoutArg::Parquet)]
    layout: LayoutArg,
    /// Redshift's slices (nodes × slices per node).
    #[arg(long, default_value_t = 4)]
    slices: u64,
    /// The PoC whose recorded runs the estimates come from (by default the newest).
    #[arg(long)]
    poc: Option<i64>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    Parquet,
    Csv,
}

impl LayoutArg {
    fn format(self) -> LayoutFormat {
        match self {
            LayoutArg::Parquet => LayoutFormat::Parquet,
            LayoutArg::Csv => LayoutFormat::Csv,
        }
    }
}

#[derive(Args)]
pub struct FileArgs {
    /// A folder, a file, a glob (`in/*.csv.gz`, `**` crosses folders) or `s3://bucket/prefix/…`.
    location: String,
    /// csv, jsonl or parquet; by default from the first file's name.
    #[arg(long, value_parser = parse_format)]
    format: Option<FormatKind>,
    /// The CSV delimiter; by default the one the header line uses most (, ; or tab).
    #[arg(long)]
    delimiter: Option<char>,
    /// The CSV files have no header line (columns are named c1, c2, …).
    #[arg(long)]
    no_header: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OnErrorArg {
    Abort,
    SkipFile,
    Continue,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Warehouse {
    Snowflake,
    Redshift,
}

fn parse_format(text: &str) -> Result<FormatKind, String> {
    FormatKind::parse(text).ok_or_else(|| format!("{text:?}: csv, jsonl or parquet"))
}

fn options(args: &FileArgs) -> InferOptions {
    InferOptions {
        format: args.format,
        csv: CsvOptions { delimiter: args.delimiter, no_header: args.no_header, max_rows: 0 },
    }
}

async fn infer(args: &FileArgs) -> anyhow::Result<Inferred> {
    Ok(pipeline::ingest::infer(&args.location, &pipeline::Secrets::default(), &options(args)).await?)
}

/// The files, their inference and the split plan for them.
async fn split_plan(args: &FileArgs, layout: &LayoutArgs) -> anyhow::Result<Survey> {
    let runs = poc_runs(layout).await.unwrap_or_default();
    let to = layout.layout.format();
    Ok(survey(&args.location, &pipeline::Secrets::default(), &options(args), to, layout.slices, &runs).await?)
}

/// The recorded runs of the PoC the estimates use, if the database has one.
async fn poc_runs(layout: &LayoutArgs) -> anyhow::Result<Vec<domain::poc::Run>> {
    if layout.db.database_url.is_none() && !layout.db.data_dir.exists() {
        return Ok(Vec::new());
    }
    let db = crate::open(&layout.db).await?;
    let poc = match layout.poc {
        Some(id) => id,
        None => match db.pocs().await?.iter().map(|p| p.id).max() {
            Some(id) => id,
            None => return Ok(Vec::new()),
        },
    };
    Ok(db.poc_runs(poc, &store::poc::RunFilter::default()).await?)
}

pub async fn run(command: IngestCommand) -> anyhow::Result<()> {
    match command {
        IngestCommand::Infer { files, json } => {
            let inferred = infer(&files).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&inferred)?);
            } else {
                print!("{}", describe(&inferred));
            }
            if !inferred.problems.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        IngestCommand::Plan {
            files,
            table,
            to,
            on_error,
            explicit_columns,
            integration,
            iam_role,
            warehouse,
            manifest,
            layout,
        } => {
            let Survey { inferred, plan, .. } = split_plan(&files, &layout).await?;
            let location = to
                .or_else(|| files.location.starts_with("s3://").then(|| prefix_of(&files.location)))
                .context("say where the warehouses load from: --to s3://bucket/prefix/")?;
            let target = Target {
                table,
                location,
                on_error: match on_error {
                    OnErrorArg::Abort => OnError::Abort,
                    OnErrorArg::SkipFile => OnError::SkipFile,
                    OnErrorArg::Continue => OnError::Continue,
                },
                explicit_columns,
                integration,
                iam_role,
            };
            let s = statements(&inferred, &target)?;
            for problem in &inferred.problems {
                println!("-- problem: {problem}");
            }
            if warehouse != Some(Warehouse::Redshift) {
                println!("{}", s.snowflake);
            }
            if warehouse != Some(Warehouse::Snowflake) {
                println!("{}", s.redshift);
                println!("-- {} (upload it beside the files):\n{}\n", s.manifest_name, s.manifest);
            }
            for note in &s.notes {
                println!("-- note: {note}");
            }
            if let Some(path) = manifest {
                std::fs::write(&path, &s.manifest).with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!();
            print!("{}", describe_plan(&plan));
            Ok(())
        }
        IngestCommand::Split { files, out, layout, count, record_as, as_email } => {
            let Survey { files: place, found, inferred, plan } = split_plan(&files, &layout).await?;
            let mut target = plan.proposed.clone();
            if let Some(n) = count {
                anyhow::ensure!((1..=10_000).contains(&n), "--count: 1 to 10000 files");
                target.files = n;
            }
            let secrets = pipeline::Secrets::default();
            let done = pipeline::ingest::split::rewrite_to(&place, &found, &inferred, &target, &out, &secrets).await?;
            for w in &done.files {
                println!("{}/{}  {} bytes  {} rows", out.trim_end_matches('/'), w.name, w.bytes, w.rows);
            }
            println!(
                "{} file(s) → {} file(s): {} → {} bytes, {} rows in {:.2} s ({:.1} MB/s)",
                found.len(),
                done.files.len(),
                done.bytes_in,
                done.bytes_out,
                done.rows,
                done.seconds,
                done.figures(found.len()).mb_per_s()
            );
            if let (Some(system), Some(email)) = (record_as, as_email) {
                let poc = record(&layout, &target, &done, found.len(), &system, &email).await?;
                println!("recorded as a {system} batch_copy run of PoC {poc}");
            }
            Ok(())
        }
        IngestCommand::Watch {
            location,
            table,
            sqlite,
            postgres_env,
            key,
            format,
            name,
            every_secs,
            for_secs,
            record_as,
            as_email,
            poc,
            db,
        } => {
            anyhow::ensure!(
                every_secs.is_finite() && (0.1..=86_400.0).contains(&every_secs),
                "--every-secs: 0.1 to 86400"
            );
            let (connection, base_dir) = match (sqlite, postgres_env) {
                (Some(path), _) => {
                    let file = path.file_name().context("--sqlite: a file name")?.to_string_lossy().into_owned();
                    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                    std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
                    (domain::pipeline::Connection::Sqlite { path: file }, dir.to_path_buf())
                }
                (None, Some(url_env)) => {
                    (domain::pipeline::Connection::Postgres { url_env }, std::path::PathBuf::from("."))
                }
                (None, None) => anyhow::bail!("say where to load: --sqlite FILE or --postgres-env VAR"),
            };
            let mode = if key.is_empty() { WatchMode::Append { format } } else { WatchMode::Cdc { keys: key } };
            let cdc = matches!(mode, WatchMode::Cdc { .. });
            let spec = WatchSpec { name: name.unwrap_or_else(|| table.clone()), location, connection, table, mode };
            let mut watcher = Watcher::open(spec, &pipeline::Secrets::default(), &base_dir).await?;
            let started = time::OffsetDateTime::now_utc();
            let until = for_secs.map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s.max(0.0)));
            let every = std::time::Duration::from_secs_f64(every_secs);
            let mut period = Vec::new();
            loop {
                let polled = std::time::Instant::now();
                match watcher.poll().await {
                    Ok(loads) => {
                        for l in &loads {
                            match &l.error {
                                None => println!(
                                    "loaded {}: {} rows, {} bytes, {:.0} ms from arrival",
                                    l.file,
                                    l.rows,
                                    l.bytes,
                                    l.latency_ms()
                                ),
                                Some(e) => println!("skipped {}: {e}", l.file),
                            }
                        }
                        period.extend(loads);
                    }
                    // The location or the database is unreachable: said, and tried again.
                    Err(e) => eprintln!("poll failed: {e}"),
                }
                if until.is_some_and(|u| std::time::Instant::now() >= u) {
                    break;
                }
                let wait = every.saturating_sub(polled.elapsed());
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
            let Some(summary) = domain::ingest::watch::summarise(&period) else {
                println!("nothing loaded since {}", started.time());
                return Ok(());
            };
            println!(
                "{} file(s) loaded, {} skipped: {} rows, {} bytes; arrival to queryable p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
                summary.loaded,
                summary.skipped,
                summary.rows,
                summary.bytes,
                summary.latency_p50_ms,
                summary.latency_p95_ms,
                summary.latency_max_ms
            );
            if let (Some(system), Some(email)) = (record_as, as_email) {
                let first = period.iter().find(|l| l.error.is_none()).map(|l| l.file.clone()).unwrap_or_default();
                let compression = domain::ingest::Compression::from_name(&first);
                let kind = if cdc { Some(FormatKind::JsonLines) } else { format.or_else(|| FormatKind::of(&first)) };
                let format_name = match kind {
                    Some(FormatKind::Csv) => "csv",
                    Some(FormatKind::Parquet) => "parquet",
                    _ => "json",
                };
                let run = domain::ingest::watch::poc_run(
                    &summary,
                    format_name,
                    compression.name(),
                    &system,
                    &email,
                    time::OffsetDateTime::now_utc().date(),
                );
                let poc = record_run(&db, poc, &run, &email).await?;
                println!("recorded as a {system} cdc_microbatch run of PoC {poc}");
            }
            Ok(())
        }
    }
}

/// Stores `run` in `poc` (by default the newest) as `email`, an administrator.
async fn record_run(db: &crate::DbArgs, poc: Option<i64>, run: &domain::poc::Run, email: &str) -> anyhow::Result<i64> {
    let db = crate::open(db).await?;
    let poc = match poc {
        Some(id) => id,
        None => db.pocs().await?.iter().map(|p| p.id).max().context("no PoC in the database to record into")?,
    };
    let actor = service::Actor::by_email(&db, email).await?;
    crate::cli_service(&db).record_local_run(&actor, poc, run).await?;
    Ok(poc)
}

/// Stores a rewrite as a PoC run: the files it wrote, their layout, the rows and the time.
async fn record(
    layout: &LayoutArgs,
    target: &domain::ingest::plan::Layout,
    done: &pipeline::ingest::split::Rewrite,
    inputs: usize,
    system: &str,
    email: &str,
) -> anyhow::Result<i64> {
    let run = done.figures(inputs).poc_run(
        target.format,
        system,
        email,
        time::OffsetDateTime::now_utc().date(),
        "mcms ingest split",
    );
    record_run(&layout.db, layout.poc, &run, email).await
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// The split plan as text.
pub fn describe_plan(plan: &SplitPlan) -> String {
    let mut out = format!(
        "-- split plan: {} file(s), {} in all ({} to {} each), {}\n",
        plan.files,
        megabytes(plan.total_bytes),
        megabytes(plan.smallest),
        megabytes(plan.largest),
        plan.compression.name()
    );
    let uses = |out: &mut String, uses: &[domain::ingest::plan::Use]| {
        for u in uses {
            out.push_str(&format!(
                "--   {}: {} piece(s) in parallel, {}\n",
                u.warehouse,
                u.parallel,
                if u.splittable { "splits large files itself" } else { "one reader per file" }
            ));
            for a in &u.advice {
                out.push_str(&format!("--     {a}\n"));
            }
        }
    };
    out.push_str("-- as they are:\n");
    uses(&mut out, &plan.now);
    let p = &plan.proposed;
    out.push_str(&format!(
        "-- proposed: {} {}, {} file(s) of {} ({} in all)\n",
        p.format.name(),
        p.compression.name(),
        p.files,
        megabytes(p.file_bytes),
        megabytes(p.total_bytes)
    ));
    uses(&mut out, &plan.then);
    if plan.estimates.is_empty() {
        out.push_str(&format!(
            "-- no recorded PoC runs of {} {} to estimate from\n",
            p.format.name(),
            p.compression.name()
        ));
    }
    for e in &plan.estimates {
        let points: Vec<String> = e.points.iter().map(|(size, rate)| format!("{size} MB: {rate:.1} MB/s")).collect();
        out.push_str(&format!(
            "-- estimate {}: {:.1} MB/s → {:.0} s{} (from {})\n",
            e.system,
            e.mb_per_s,
            e.seconds,
            e.cost_cents.map(|c| format!(", ${:.2}", c / 100.0)).unwrap_or_default(),
            points.join("; ")
        ));
    }
    for n in &plan.notes {
        out.push_str(&format!("-- note: {n}\n"));
    }
    out
}

/// The folder part of an S3 location (before any wildcard).
fn prefix_of(location: &str) -> String {
    let fixed = &location[..location.find(['*', '?', '[']).unwrap_or(location.len())];
    match fixed.rfind('/') {
        Some(slash) if slash >= "s3://".len() => fixed[..=slash].to_owned(),
        _ => format!("{fixed}/"),
    }
}

/// The inference as a table and a list of problems.
pub fn describe(inferred: &Inferred) -> String {
    let mut out = String::new();
    let format = match inferred.format {
        Format::Csv { delimiter, header, encoding } => format!(
            "CSV, {} delimited, {}, {}",
            match delimiter {
                '\t' => "tab".to_owned(),
                c => format!("{c:?}"),
            },
            if header { "with a header" } else { "no header" },
            encoding.name()
        ),
        Format::JsonLines => "JSON Lines".into(),
        Format::Parquet => "Parquet".into(),
    };
    let rows: u64 = inferred.files.iter().map(|f| f.rows).sum();
    out.push_str(&format!(
        "{} file(s), {} bytes, {format}; {rows} rows read\n\n",
        inferred.files.len(),
        inferred.total_bytes()
    ));
    let width = inferred.columns.iter().map(|c| c.name.chars().count()).max().unwrap_or(0).max(6);
    out.push_str(&format!("{:width$}  {:20}  {:9}  snowflake / redshift\n", "column", "type", "nullable"));
    for c in &inferred.columns {
        out.push_str(&format!(
            "{:width$}  {:20}  {:9}  {} / {}\n",
            c.name,
            c.ty.name(),
            if c.nullable { "yes" } else { "no" },
            domain::ingest::statements::snowflake_type(c),
            domain::ingest::statements::redshift_type(c),
        ));
    }
    if !inferred.problems.is_empty() {
        out.push_str(&format!("\n{} problem(s) a load would hit:\n", inferred.problems.len()));
        for p in &inferred.problems {
            out.push_str(&format!("- {p}\n"));
        }
    }
    out
}
