//! Runs on real files in a temporary folder, read back with DataFusion.

use super::*;

struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir = std::env::temp_dir().join(format!("mcms-pipeline-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("in")).unwrap();
        Folder(dir)
    }

    fn write(&self, path: &str, text: &str) {
        std::fs::write(self.0.join(path), text).unwrap();
    }

    fn settings(&self) -> Settings {
        Settings {
            today: time::macros::date!(2026 - 12 - 03),
            base_dir: self.0.clone(),
            secrets: Secrets::default(),
            mode: Mode::Run,
            cancel: CancellationToken::new(),
            progress: Default::default(),
            engine: Engine::Embedded,
        }
    }

    fn entries(&self, path: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.join(path))
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const AGENCY: &str = "day,game,channel,amount,currency\n\
2026-11-01, STARFALL ,GOOGLE_ADS,1000,KRW\n\
2026-11-01,STARFALL,GOOGLE_ADS,500,KRW\n\
2026-11-02,MOONRISE,META_ADS,250,KRW\n\
2026-11-02,MOONRISE,META_ADS,,KRW\n";

const PIPELINE: &str = r#"version: 1
params:
  month: { type: month, default: previous }
connections:
  files: { kind: folder, path: . }
steps:
  - name: agency
    source: { files: { connection: files, glob: "in/*.csv", format: csv } }
  - name: cleaned
    clean:
      input: agency
      trim: ["*"]
      cast: { amount: { to: decimal, on_error: refuse } }
      defaults: { amount: "0" }
  - name: daily
    aggregate: { input: cleaned, group_by: [day, game], sum: [amount], count: entries }
  - name: sane
    check:
      input: daily
      row_count: { min: 1 }
      not_null: [game]
      unique: [day, game]
      accepted: { game: [STARFALL, MOONRISE] }
  - name: store
    sink: { files: { input: sane, connection: files, path: "out/month=${month}", format: parquet } }
"#;

async fn read_back(dir: &Path, query: &str) -> Vec<String> {
    let ctx = SessionContext::new();
    let df = ctx.read_parquet(dir.to_string_lossy().as_ref(), ParquetReadOptions::default()).await.unwrap();
    ctx.register_table("out", df.into_view()).unwrap();
    let batches = ctx.sql(query).await.unwrap().collect().await.unwrap();
    let value = datafusion::arrow::util::display::array_value_to_string;
    let mut rows = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            rows.push(b.columns().iter().map(|c| value(c, r).unwrap()).collect::<Vec<_>>().join(" "));
        }
    }
    rows
}

use std::path::Path;

#[tokio::test]
async fn a_csv_folder_is_cleaned_aggregated_checked_and_published_as_parquet() {
    let f = Folder::new("good");
    f.write("in/agency.csv", AGENCY);
    let run = run(PIPELINE, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(run.params["month"], "2026-11", "`previous` counted from the company's date");
    let summary: Vec<(&str, &str, u64)> = run.steps.iter().map(|s| (s.name.as_str(), s.kind, s.rows)).collect();
    assert_eq!(
        summary,
        [
            ("agency", "source", 4),
            ("cleaned", "clean", 4),
            ("daily", "aggregate", 2),
            ("sane", "check", 2),
            ("store", "sink", 2)
        ]
    );
    assert!(run.steps[4].wrote.as_deref().unwrap().ends_with("out/month=2026-11"));
    let rows =
        read_back(&f.0.join("out/month=2026-11"), "SELECT day, game, amount, entries FROM out ORDER BY game").await;
    // Trimmed (` STARFALL ` is STARFALL), converted, and the empty amount counted as 0.
    assert_eq!(rows, ["2026-11-02 MOONRISE 250.000000 2", "2026-11-01 STARFALL 1500.000000 2"]);
    // Nothing temporary is left beside the output.
    assert_eq!(f.entries("out"), ["month=2026-11"]);

    // The same parameters again replace the output instead of adding to it.
    run_again(&f).await;
}

async fn run_again(f: &Folder) {
    let again = run(PIPELINE, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(again.steps[4].rows, 2);
    let rows = read_back(&f.0.join("out/month=2026-11"), "SELECT count(*) AS n FROM out").await;
    assert_eq!(rows, ["2"]);
    assert_eq!(f.entries("out"), ["month=2026-11"]);
}

#[tokio::test]
async fn a_failing_check_or_an_unconvertible_value_writes_nothing_and_names_the_step() {
    let f = Folder::new("bad");
    f.write("in/agency.csv", &AGENCY.replace("MOONRISE,META_ADS,250", "SKYFALL,META_ADS,250"));
    let error = run(PIPELINE, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "step `sane`: column `game` has 1 value(s) outside those accepted, for example `SKYFALL`"
    );
    assert_eq!(f.entries("out"), Vec::<String>::new(), "nothing written");

    f.write("in/agency.csv", &AGENCY.replace(",500,", ",5OO,"));
    let error = run(PIPELINE, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "step `cleaned`: column `amount`: 1 value(s) are not a decimal number, for example `5OO`"
    );

    // With `null`, the value becomes empty and the default fills it; the run goes through.
    let lenient = PIPELINE.replace("on_error: refuse", "on_error: null");
    let run = run(&lenient, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(run.steps[1].rows, 4);
    // A required column with an empty cell refuses the run (the sheet's fourth row has no amount).
    f.write("in/agency.csv", AGENCY);
    let required = PIPELINE.replace(r#"defaults: { amount: "0" }"#, "required: [amount]");
    let error = super::run(&required, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(error.to_string(), "step `cleaned`: column `amount` is required: 1 row(s) have no value");
    f.write("in/agency.csv", &AGENCY.replace(",500,", ",5OO,"));
    // With `drop`, the row is left out.
    let dropping = PIPELINE.replace("on_error: refuse", "on_error: drop");
    let run = super::run(&dropping, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(run.steps[1].rows, 3);
}

#[tokio::test]
async fn problems_in_the_file_and_paths_outside_the_folder_stop_the_run_before_it_reads() {
    let f = Folder::new("paths");
    f.write("in/agency.csv", AGENCY);
    match run(&PIPELINE.replace("input: cleaned", "input: clened"), &BTreeMap::new(), &f.settings(), &Outside).await {
        Err(RunError::Problems(p)) => {
            assert_eq!(p[0].kind, domain::pipeline::ProblemKind::UnknownStep("clened".into()))
        }
        other => panic!("{other:?}"),
    }
    let escape = PIPELINE.replace("out/month=${month}", "../../escaped");
    let error = run(&escape, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "step `store`: `../../escaped` leaves the connection's folder: give a path inside it"
    );
    let error =
        run(&PIPELINE.replace("in/*.csv", "/etc/*.conf"), &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert!(error.to_string().contains("leaves the connection's folder"), "{error}");
    // SQL naming a column its input lacks fails at its step, before anything is written.
    let text = PIPELINE.replace("group_by: [day, game]", "group_by: [day, title]");
    let error = run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert!(
        matches!(&error, RunError::Step { step, reason } if step == "daily" && reason.contains("title")),
        "{error}"
    );
    assert_eq!(f.entries("out"), Vec::<String>::new());
}

/// MCMS's data that never comes: a run reading it waits until cancelled.
struct Never;

#[async_trait::async_trait]
impl Mcms for Never {
    async fn ledger(&self, _: &str, _: bool, _: Option<usize>) -> Result<Rows, String> {
        std::future::pending().await
    }

    async fn partner_stats(&self, _: &str, _: &str, _: Option<usize>) -> Result<Rows, String> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_cancelled_run_stops_and_writes_nothing() {
    let f = Folder::new("cancel");
    let text = r#"version: 1
connections:
  files: { kind: folder, path: . }
steps:
  - name: ledger
    source: { ledger: { month: "2026-11" } }
  - name: store
    sink: { files: { input: ledger, connection: files, path: out, format: parquet } }
"#;
    let settings = f.settings();
    let (cancel, progress) = (settings.cancel.clone(), settings.progress.clone());
    let running = tokio::spawn(async move { run(text, &BTreeMap::new(), &settings, &Never).await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!running.is_finished(), "the run waits on its source");
    let waiting = crate::Live { name: "ledger".into(), kind: "source", rows: 0, done: false };
    assert_eq!(progress.snapshot(), [waiting], "the watcher sees the step it waits on");
    cancel.cancel();
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(30), running).await;
    let error = stopped.expect("the run stops once cancelled").unwrap().unwrap_err();
    assert!(matches!(error, RunError::Cancelled), "{error}");
    assert_eq!(f.entries(""), ["in"], "nothing written beside the input folder");

    // Cancelled before a sink writes: the same, and the file sink's temporary output is gone.
    f.write("in/agency.csv", AGENCY);
    let settings = f.settings();
    settings.cancel.cancel();
    let error = run(PIPELINE, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert!(matches!(error, RunError::Cancelled), "{error}");
    assert_eq!(f.entries(""), ["in"]);
}

/// Output partitioned by columns: a folder per value (Hive's `KEY=VALUE`, the empty value as
/// `__HIVE_DEFAULT_PARTITION__`), one file in each, every row once; a value that cannot name a
/// folder refuses the run and nothing is published.
#[tokio::test]
async fn partitioned_output_has_a_folder_per_value_and_refuses_values_that_are_not_folder_names() {
    let f = Folder::new("partitioned");
    let mut csv = String::from("day,game,channel,amount\n");
    for i in 0..30_000 {
        let game = ["STARFALL", "MOONRISE", ""][i % 3];
        csv.push_str(&format!("2026-11-{:02},{game},{},{}\n", 1 + i % 2, ["GOOGLE_ADS", "META_ADS"][i % 2], i));
    }
    f.write("in/agency.csv", &csv);
    let text = |format: &str| {
        format!(
            r#"version: 1
connections:
  files: {{ kind: folder, path: . }}
steps:
  - name: agency
    source: {{ files: {{ connection: files, glob: "in/*.csv", format: csv }} }}
  - name: store
    sink: {{ files: {{ input: agency, connection: files, path: out, format: {format}, partition_by: [game, day] }} }}
"#
        )
    };
    let report = run(&text("parquet"), &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(report.steps[1].rows, 30_000);
    assert_eq!(f.entries("out"), ["game=MOONRISE", "game=STARFALL", "game=__HIVE_DEFAULT_PARTITION__"]);
    assert_eq!(f.entries("out/game=STARFALL"), ["day=2026-11-01", "day=2026-11-02"]);
    assert_eq!(f.entries("out/game=STARFALL/day=2026-11-01"), ["part-0.parquet"]);
    // Each folder holds its rows only, without the columns its name gives.
    let rows = read_back(
        &f.0.join("out/game=MOONRISE/day=2026-11-02"),
        "SELECT count(*), min(channel), max(channel), sum(amount % 3) FROM out",
    )
    .await;
    assert_eq!(rows, ["5000 META_ADS META_ADS 5000"]);
    let all = read_back(&f.0.join("out"), "SELECT count(*), sum(amount) FROM out").await;
    assert_eq!(all, [format!("30000 {}", (0..30_000u64).sum::<u64>())]);

    // CSV the same way; then a value with a slash: refused at the sink, the earlier output kept.
    run(&text("csv"), &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(f.entries("out/game=MOONRISE/day=2026-11-01"), ["part-0.csv"]);
    f.write("in/agency.csv", &csv.replace(",MOONRISE,", ",MOON/RISE,"));
    let error = run(&text("csv"), &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "step `store`: the column `game` has the value `MOON/RISE`, which cannot name a folder of the output \
         (partition_by): change the value or partition by another column"
    );
    assert_eq!(f.entries("out/game=MOONRISE/day=2026-11-01"), ["part-0.csv"], "the last output stays");
    assert_eq!(f.entries(""), ["in", "out"], "nothing temporary left");
}

#[cfg(feature = "ballista")]
mod ballista;
mod buckets;
mod databases;
mod predict;

/// A disk that fills while a sink writes: a small tmpfs the test command mounts
/// (`MCMS_TEST_SMALL_DISK`; mounting needs root, elsewhere the test says it is skipped).
#[tokio::test]
async fn a_disk_that_fills_fails_the_sink_naming_it_and_leaves_nothing_half_written() {
    let Ok(disk) = std::env::var("MCMS_TEST_SMALL_DISK") else {
        eprintln!("skipped: no small disk (MCMS_TEST_SMALL_DISK; the test command mounts one as root)");
        return;
    };
    let disk = std::path::PathBuf::from(disk);
    for entry in std::fs::read_dir(&disk).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { std::fs::remove_dir_all(path).unwrap() } else { std::fs::remove_file(path).unwrap() }
    }
    let f = Folder(disk.clone());
    std::fs::create_dir_all(disk.join("in")).unwrap();
    // 40 KB of rows in, every row out as CSV twice over: more than the disk has left.
    let mut rows = String::from("day,game,memo\n");
    for i in 0..1_000 {
        rows.push_str(&format!("2026-11-01,STARFALL,row {i:>20}\n"));
    }
    f.write("in/a.csv", &rows);
    let free = fs_free(&disk);
    f.write("filler", &"x".repeat(free.saturating_sub(48 * 1024) as usize));
    let text = r#"version: 1
connections:
  here: { kind: folder, path: . }
steps:
  - name: rows
    source: { files: { connection: here, glob: "in/*.csv", format: csv } }
  - name: twice
    transform: { sql: "SELECT * FROM rows UNION ALL SELECT * FROM rows" }
  - name: store
    sink: { files: { input: twice, connection: here, path: out, format: csv } }
"#;
    let error = run(text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    match &error {
        RunError::Step { step, reason } => {
            assert_eq!(step, "store");
            assert!(reason.contains("is full (No space left on device)"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.entries(""), ["filler", "in"], "no output and no temporary folder left");
    std::fs::remove_file(disk.join("filler")).unwrap();
}

/// Bytes free on the file system holding `dir` (`df`'s answer).
fn fs_free(dir: &std::path::Path) -> u64 {
    let out = std::process::Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().nth(1).unwrap().trim().parse().unwrap()
}

#[tokio::test]
async fn progress_shows_each_step_as_it_ends_with_the_report_s_rows() {
    let f = Folder::new("progress");
    f.write("in/agency.csv", AGENCY);
    let settings = f.settings();
    let run = run(PIPELINE, &BTreeMap::new(), &settings, &Outside).await.unwrap();
    let seen: Vec<(String, u64, bool)> =
        settings.progress.snapshot().into_iter().map(|l| (l.name, l.rows, l.done)).collect();
    let reported: Vec<(String, u64, bool)> = run.steps.iter().map(|s| (s.name.clone(), s.rows, true)).collect();
    assert_eq!(seen, reported);
}

#[tokio::test]
async fn dedupe_keeps_one_row_per_key_and_names_a_key_that_is_not_a_column() {
    let f = Folder::new("dedupe");
    f.write("in/a.csv", "day,game,memo\n2026-11-01,STARFALL,first\n2026-11-01,MOONRISE,only\n2026-11-01,STARFALL,second\n,STARFALL,no day\n,STARFALL,no day again\n");
    let text = r#"version: 1
connections:
  files: { kind: folder, path: . }
steps:
  - name: rows
    source: { files: { connection: files, glob: "in/*.csv", format: csv } }
  - name: once
    clean: { input: rows, dedupe: [day, game] }
  - name: out
    sink: { files: { input: once, connection: files, path: out, format: csv } }
"#;
    let dry = Settings { mode: Mode::DryRun { rows: 100 }, ..f.settings() };
    let run = run(text, &BTreeMap::new(), &dry, &Outside).await.unwrap();
    let kept: Vec<String> = run.steps[1].preview.as_ref().unwrap().rows.iter().map(|r| r[2].clone()).collect();
    // (A file this small is read as one partition: the first of each key, in file order.)
    assert_eq!(kept, ["first", "only", "no day"], "an empty key is one key too");
    // Many batches, each key seen every thousand rows: the first row of each key stays.
    let mut big = String::from("day,game,memo\n");
    for i in 0..50_000 {
        big.push_str(&format!("2026-11-{:02},G{},{i}\n", 1 + i % 10, i % 100));
    }
    f.write("in/a.csv", &big);
    let all = Settings { mode: Mode::DryRun { rows: 100_000 }, ..f.settings() };
    let run = super::run(text, &BTreeMap::new(), &all, &Outside).await.unwrap();
    assert_eq!((run.steps[0].rows, run.steps[1].rows), (50_000, 100), "one key per i % 100");
    let firsts: Vec<&str> = run.steps[1].preview.as_ref().unwrap().rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(firsts, ["0", "1", "2", "3", "4"], "each key's first row, in file order");
    // Run whole: the keys are shared among threads by hash, and every key's first row is kept.
    let run = super::run(text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(run.steps[2].rows, 100);
    let mut memos: Vec<u32> = f
        .entries("out")
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(f.0.join("out").join(file))
                .unwrap()
                .lines()
                .skip(1)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|line| line.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    memos.sort_unstable();
    assert_eq!(memos, (0..100).collect::<Vec<u32>>(), "the first row of each of the hundred keys");
    std::fs::remove_dir_all(f.0.join("out")).unwrap();
    f.write("in/a.csv", "day,game,memo\n2026-11-01,STARFALL,first\n2026-11-01,MOONRISE,only\n2026-11-01,STARFALL,second\n,STARFALL,no day\n,STARFALL,no day again\n");
    let missing = text.replace("dedupe: [day, game]", "dedupe: [day, title]");
    let error = super::run(&missing, &BTreeMap::new(), &dry, &Outside).await.unwrap_err();
    assert_eq!(error.to_string(), "step `once`: the dedupe key `title` is not a column");
}

/// A step is let go once the last step that reads it has run, unless a sink reads it; a run in
/// which a step is read at several places (a join, a referential check, a sink) still has each
/// step's rows wherever they are read.
#[tokio::test]
async fn a_step_is_let_go_after_its_last_reader_and_kept_for_sinks() {
    let f = Folder::new("let-go");
    f.write("in/agency.csv", AGENCY);
    let text = r#"version: 1
connections:
  files: { kind: folder, path: . }
steps:
  - name: agency
    source: { files: { connection: files, glob: "in/*.csv", format: csv } }
  - name: games
    transform: { sql: "SELECT DISTINCT trim(game) AS game FROM agency" }
  - name: cleaned
    clean: { input: agency, trim: ["*"] }
  - name: known
    check: { input: cleaned, references: [{ column: game, step: games, step_column: game }] }
  - name: joined
    transform: { sql: "SELECT c.day, c.game, c.amount FROM known c JOIN games g ON c.game = g.game" }
  - name: out
    sink: { files: { input: joined, connection: files, path: out, format: csv } }
  - name: games_out
    sink: { files: { input: games, connection: files, path: games, format: csv } }
"#;
    let checked = domain::pipeline::check(text, &BTreeMap::new()).unwrap();
    let names =
        |steps: &[usize]| steps.iter().map(|&j| checked.pipeline.steps[j].name.value.as_str()).collect::<Vec<_>>();
    let order: Vec<&str> = names(&checked.order);
    let let_go: Vec<(&str, Vec<&str>)> =
        done_with(&checked).iter().zip(&order).map(|(done, &at)| (at, names(done))).collect();
    assert_eq!(
        let_go,
        [
            ("agency", vec![]),
            ("games", vec![]),
            ("games_out", vec![]),
            ("cleaned", vec!["agency"]),
            ("known", vec!["cleaned"]),
            ("joined", vec!["known"]),
            ("out", vec![]),
        ],
        "games is read by a sink: kept; joined too"
    );
    let run = run(text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    let rows: Vec<(&str, u64)> = run.steps.iter().map(|s| (s.name.as_str(), s.rows)).collect();
    assert_eq!(
        rows,
        [("agency", 4), ("games", 2), ("cleaned", 4), ("known", 4), ("joined", 4), ("games_out", 2), ("out", 4)]
    );
}
