//! The `mcms` binary as an operator runs it: subcommands, exit codes, messages, shutdown.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const MCMS: &str = env!("CARGO_BIN_EXE_mcms");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcms-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mcms(args: &[&str], cwd: &Path, stdin: &str) -> Output {
    let mut child = Command::new(MCMS)
        .args(args)
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env("MCMS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn migrate_creates_the_database_in_the_data_dir() {
    let dir = temp_dir("migrate");
    let out = mcms(&["migrate", "--data-dir", "state"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "database is up to date\n");
    assert!(dir.join("state/mcms.db").is_file());
    let out = mcms(&["migrate", "--data-dir", "state"], &dir, "");
    assert!(out.status.success(), "migrating twice is fine: {}", text(&out.stderr));

    let out = mcms(&["migrate", "--database-url", "mysql://localhost/x"], &dir, "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("database URL must start with sqlite: or postgres:"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn create_admin_reads_the_password_from_stdin_and_explains_refusals() {
    let dir = temp_dir("admin");
    let ok = mcms(&["create-admin", "--email", "Root@Example.com", "--data-dir", "."], &dir, "a long admin password\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).starts_with("created administrator root@example.com"), "{}", text(&ok.stdout));

    for (email, stdin, message) in [
        ("root@example.com", "another long password\n", "an account with this email already exists"),
        ("not-an-email", "a long admin password\n", "--email: this is not an email address"),
        ("new@example.com", "short\n", "password: a password has at least 12 characters"),
        ("new@example.com", "", "password: a password has at least 12 characters"),
    ] {
        let out = mcms(&["create-admin", "--email", email, "--data-dir", "."], &dir, stdin);
        assert!(!out.status.success(), "{email}");
        assert!(text(&out.stderr).contains(message), "{email}: {}", text(&out.stderr));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

fn wait_until_up(child: &mut Child, port: u16) {
    let start = Instant::now();
    while get(port, "/healthz").is_none() {
        assert!(child.try_wait().unwrap().is_none(), "mcms exited early");
        assert!(start.elapsed() < Duration::from_secs(30), "mcms did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_finds_its_site_from_any_directory_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir("serve");
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/mcms.css"), "body{}").unwrap();
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(MCMS)
        .args(["--addr", &addr, "--demo", "--data-dir", dir.join("data").to_str().unwrap()])
        .env("LEPTOS_SITE_ROOT", &site)
        .env("MCMS_LOG", "info")
        .current_dir(&elsewhere)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_up(&mut child, port);

    let css = get(port, "/pkg/mcms.css").unwrap();
    assert!(css.starts_with("HTTP/1.1 200") && css.ends_with("body{}"), "{css}");
    let health = get(port, "/healthz").unwrap();
    assert!(health.contains(r#"{"database":"sqlite","status":"ok"}"#), "{health}");
    assert!(health.to_ascii_lowercase().contains("x-request-id: "), "{health}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    assert!(log.contains("request_id="), "request logs carry the request id: {log}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ledger_settings_are_checked_when_read() {
    let dir = temp_dir("ledger");
    let out = mcms(&["batch-check", "--month", "2026-10", "--data-dir", ".", "--reporting-currency", "WON"], &dir, "");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("\"WON\" is not an ISO 4217 currency code"), "{}", text(&out.stderr));
    let out = mcms(&["batch-check", "--month", "2026-10", "--data-dir", ".", "--utc-offset", "KST"], &dir, "");
    assert!(text(&out.stderr).contains("\"KST\" is not an offset like +09:00"), "{}", text(&out.stderr));
    let out = mcms(
        &[
            "batch-check",
            "--month",
            "2026-10",
            "--data-dir",
            ".",
            "--utc-offset",
            "-05:00",
            "--reporting-currency",
            "usd",
        ],
        &dir,
        "",
    );
    assert_eq!(text(&out.stdout), "2026-10 is not closed: close it before loading\n", "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn poc_tokens_are_issued_listed_and_revoked_from_the_command_line() {
    let dir = temp_dir("poc-tokens");
    let out = mcms(&["migrate", "--demo", "--data-dir", "."], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mcms(
        &["issue-poc-token", "--label", "airflow nightly", "--expires-in-days", "30", "--data-dir", "."],
        &dir,
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    let prefix = &token[..13];
    let list = text(&mcms(&["poc-tokens", "--data-dir", "."], &dir, "").stdout);
    let line = list.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix} in {list}"));
    assert!(line.contains("airflow nightly") && line.ends_with("works") && !line.contains("never"), "{line}");
    assert!(!list.contains(&token), "the secret is never listed");
    let out = mcms(&["revoke-poc-token", prefix, "--data-dir", "."], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&mcms(&["poc-tokens", "--data-dir", "."], &dir, "").stdout);
    assert!(list.lines().any(|l| l.starts_with(prefix) && l.ends_with("revoked")), "{list}");
    let again = mcms(&["revoke-poc-token", prefix, "--data-dir", "."], &dir, "");
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("no working token has the prefix"), "{}", text(&again.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pipeline_check_names_each_problem_with_its_file_line_and_column() {
    let dir = temp_dir("pipeline");
    let good = "version: 1\n\
params:\n  month: { type: month }\n\
steps:\n  - name: ledger\n    source: { ledger: { month: \"${month}\" } }\n  \
- name: daily\n    aggregate: { input: ledger, group_by: [entry_date], sum: [reporting_amount] }\n";
    std::fs::write(dir.join("good.yaml"), good).unwrap();
    let out = mcms(&["pipeline", "check", "good.yaml", "--param", "month=2026-11"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "good.yaml: no problems; 2 steps, run in this order: ledger, daily\n");
    // The steps are planned against the ledger's columns: a column it does not have is named.
    std::fs::write(dir.join("typo.yaml"), good.replace("[reporting_amount]", "[amount_krw]")).unwrap();
    let out = mcms(&["pipeline", "check", "typo.yaml", "--param", "month=2026-11"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("typo.yaml:7:11: the step `daily` cannot run: "), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("amount_krw"), "{}", text(&out.stdout));

    // Without the month, and with a misspelt input: both named, and the exit code says so.
    std::fs::write(dir.join("bad.yaml"), good.replace("input: ledger", "input: ledgr")).unwrap();
    let out = mcms(&["pipeline", "check", "bad.yaml"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "bad.yaml:0:0: the parameter `month` has no value: give it one (--param month=…) or a default\n\
         bad.yaml:8:25: no step is named `ledgr`\n"
    );
    assert!(text(&out.stderr).contains("bad.yaml has 2 problems"), "{}", text(&out.stderr));

    let out = mcms(&["pipeline", "check", "missing.yaml"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read missing.yaml"), "{}", text(&out.stderr));
    let out = mcms(&["pipeline", "check", "good.yaml", "--param", "month"], &dir, "");
    assert_eq!(out.status.code(), Some(2), "clap refuses a parameter without =");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn pipeline_run_writes_its_output_only_when_every_step_passes() {
    let dir = temp_dir("pipeline-run");
    std::fs::create_dir_all(dir.join("data/in")).unwrap();
    std::fs::write(dir.join("data/in/a.csv"), "game,amount\nSTARFALL,10\nSTARFALL,5\nMOONRISE,7\n").unwrap();
    let file = r#"version: 1
params:
  day: { type: date, default: yesterday }
connections:
  here: { kind: folder, path: . }
steps:
  - name: costs
    source: { files: { connection: here, glob: "in/*.csv", format: csv } }
  - name: per_game
    aggregate: { input: costs, group_by: [game], sum: [amount] }
  - name: known
    check: { input: per_game, accepted: { game: [STARFALL, MOONRISE] } }
  - name: out
    sink: { files: { input: known, connection: here, path: "out/day=${day}", format: csv } }
"#;
    std::fs::write(dir.join("p.yaml"), file).unwrap();
    let out = mcms(&["pipeline", "run", "p.yaml", "--param", "day=2026-11-30"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("p.yaml: ran with day=2026-11-30\n"), "{stdout}");
    assert!(stdout.lines().any(|l| l.contains("per_game") && l.contains(" 2 rows")), "{stdout}");
    assert_eq!(std::fs::read_dir(dir.join("data/out/day=2026-11-30")).unwrap().count(), 1, "one CSV file");

    // A game the check does not accept: the run fails at `known` and writes nothing.
    std::fs::write(dir.join("data/in/b.csv"), "game,amount\nSKYFALL,1\n").unwrap();
    let out = mcms(&["pipeline", "run", "p.yaml", "--param", "day=2026-12-01"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    let expected =
        "step `known`: column `game` has 1 value(s) outside those accepted, for example `SKYFALL`; nothing was written";
    assert!(text(&out.stderr).contains(expected), "{}", text(&out.stderr));
    assert!(!dir.join("data/out/day=2026-12-01").exists());

    // This build has no Ballista (the `ballista` feature): an engine naming a cluster is refused
    // before anything runs, saying how to get one; a misspelt engine is named.
    let out = mcms(&["pipeline", "run", "p.yaml", "--pipeline-engine", "df://scheduler:50050"], &dir, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("built without Ballista"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--features ballista"), "{}", text(&out.stderr));
    let out = mcms(&["pipeline", "run", "p.yaml", "--pipeline-engine", "spark://x"], &dir, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("names no engine"), "{}", text(&out.stderr));
    std::fs::remove_file(dir.join("data/in/b.csv")).unwrap();
    let out =
        mcms(&["pipeline", "run", "p.yaml", "--pipeline-engine", "embedded", "--param", "day=2026-11-29"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The pipelines shipped in `pipelines/`, on the demo's data, as the README shows them.
#[test]
fn the_shipped_pipelines_run_on_the_demo_data() {
    let dir = temp_dir("shipped-pipelines");
    let out = mcms(&["migrate", "--demo"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shipped = |name: &str| format!("{}/../pipelines/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
    // One text value from the marts database the pipelines write.
    let marts = |query: &str| -> String {
        let url = format!("sqlite://{}", dir.join("data/marts.db").display());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let (value,): (String,) = sqlx::query_as(query).fetch_one(&pool).await.unwrap();
            pool.close().await;
            value
        })
    };

    // (c) The agencies' sheets: two repeated rows dropped, blanks trimmed, stored as Parquet.
    let out = mcms(&["pipeline", "run", &shipped("agency-csv")], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows = |step: &str| -> u64 {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(step)).unwrap_or_else(|| panic!("{stdout}"));
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    assert_eq!(rows("sheets") - rows("cleaned"), 2, "{stdout}");
    assert!(std::fs::read_dir(dir.join("data/lake/agency")).unwrap().count() > 0);

    // (b) Partner statistics per week, into the marts database; a second run updates, not adds.
    for _ in 0..2 {
        let out = mcms(&["pipeline", "run", &shipped("partner-weekly")], &dir, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let weeks = marts("SELECT count(*) || '|' || count(DISTINCT week || game || channel) FROM partner_weekly");
    let (all, distinct) = weeks.split_once('|').unwrap();
    assert_eq!(all, distinct, "no week twice");
    assert!(all.parse::<u32>().unwrap() > 0);

    // (d) Every player scored by the models in production, into the marts; a second run updates.
    for _ in 0..2 {
        let out = mcms(&["pipeline", "run", &shipped("player-scores")], &dir, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let scores = marts(
        "SELECT count(*) || '|' || count(DISTINCT player_id) || '|' || min(churn_probability) || '|' || \
         max(churn_probability) || '|' || count(DISTINCT segment) || '|' || min(churn_version) FROM player_scores",
    );
    let cells: Vec<&str> = scores.split('|').collect();
    assert_eq!(cells[..2], ["2000", "2000"], "every demo player once: {scores}");
    let (low, high): (f64, f64) = (cells[2].parse().unwrap(), cells[3].parse().unwrap());
    assert!(0.0 <= low && low < high && high <= 1.0, "{scores}");
    assert!(cells[4].parse::<u32>().unwrap() >= 2, "players fall in several segments: {scores}");
    assert_eq!(cells[5], "1", "scored by the production version: {scores}");

    // (a) The month's batch: last month is still open in the demo, so the batch check refuses it
    // and nothing is written; the month before (closed) goes through.
    let out = mcms(&["pipeline", "run", &shipped("month-batch")], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let open = stderr.split("step `ledger`: ").nth(1).and_then(|s| s.get(..7)).unwrap_or_else(|| panic!("{stderr}"));
    assert!(stderr.contains(&format!("{open} is not closed: close it before loading")), "{stderr}");
    assert!(
        !dir.join("data/lake/costs").exists()
            && marts("SELECT CAST(count(*) AS TEXT) FROM sqlite_master WHERE name = 'daily_spend'") == "0"
    );
    let (year, month): (i32, u32) = (open[..4].parse().unwrap(), open[5..].parse().unwrap());
    let closed = if month == 1 { format!("{}-12", year - 1) } else { format!("{year}-{:02}", month - 1) };
    let export = mcms(&["export", "--month", &closed], &dir, "");
    let exported = text(&export.stdout).lines().count() - 1;
    for _ in 0..2 {
        let out = mcms(&["pipeline", "run", &shipped("month-batch"), "--param", &format!("month={closed}")], &dir, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert!(dir.join(format!("data/lake/costs/month={closed}")).is_dir());
    let (entries, spend) = marts("SELECT sum(entries) || '|' || sum(reporting_amount) FROM daily_spend")
        .split_once('|')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap();
    assert_eq!(
        entries,
        exported.to_string(),
        "every entry `mcms export` gives, once (the second run replaced the month)"
    );
    assert!(spend.parse::<f64>().unwrap() > 0.0);

    // Every run is recorded: the refused month with its step and reason, the closed one's steps.
    let out = mcms(&["pipeline", "runs", "month-batch"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs = text(&out.stdout);
    let states: Vec<&str> =
        runs.lines().filter_map(|l| l.split_whitespace().nth(2)).filter(|s| s.ends_with("ed")).collect();
    assert_eq!(states, ["succeeded", "succeeded", "failed"], "newest first: {runs}");
    assert!(runs.contains(&format!("step `ledger`: {open} is not safe to load")), "{runs}");
    assert!(runs.contains(&format!("params {{\"month\":\"{closed}\"}}")), "{runs}");
    assert!(
        runs.lines().any(|l| l.trim_start().starts_with("to_lake") && l.contains(&format!(" {exported} rows"))),
        "{runs}"
    );
    let all = text(&mcms(&["pipeline", "runs"], &dir, "").stdout);
    assert_eq!(all.lines().filter(|l| l.contains(" command ")).count(), 8, "{all}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Pipelines stored by name: the demo's four, a new version saved from a file (by an admin
/// only), run by name or by name and version; each run records the version it ran.
#[test]
fn stored_pipelines_are_saved_listed_and_run_by_name_and_version() {
    let dir = temp_dir("stored-pipelines");
    let out = mcms(&["migrate", "--demo"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = text(&mcms(&["pipeline", "list"], &dir, "").stdout);
    let names: Vec<&str> = list.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(names, ["agency-csv", "month-batch", "partner-weekly", "player-scores"], "{list}");
    assert!(list.lines().all(|l| l.contains("version 1 ")), "{list}");

    let out = mcms(&["pipeline", "run", "agency-csv"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("agency-csv: ran with"), "{}", text(&out.stdout));

    // A new version from a file; the same text again is no new version; a marketer may not.
    let shipped =
        std::fs::read_to_string(format!("{}/../pipelines/agency-csv.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    std::fs::write(dir.join("agency-csv.yaml"), format!("{shipped}# reviewed\n")).unwrap();
    let save = |who: &str| mcms(&["pipeline", "save", "agency-csv.yaml", "--as", who, "--note", "reviewed"], &dir, "");
    let out = save("admin@mcms.example");
    assert_eq!(text(&out.stdout), "agency-csv: saved as version 2\n", "{}", text(&out.stderr));
    assert_eq!(text(&save("admin@mcms.example").stdout), "agency-csv: unchanged (version 2 has this text)\n");
    let out = save("marketer@mcms.example");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("your role does not allow this"), "{}", text(&out.stderr));

    // By name and version; a version or a name that does not exist is said so.
    std::fs::remove_file(dir.join("agency-csv.yaml")).unwrap();
    let out = mcms(&["pipeline", "run", "agency-csv@1"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = mcms(&["pipeline", "run", "agency-csv@9"], &dir, "");
    assert!(text(&out.stderr).contains("the stored pipeline `agency-csv` has no version 9"), "{}", text(&out.stderr));
    let out = mcms(&["pipeline", "check", "agency-cvs"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no stored pipeline by that name"), "{}", text(&out.stderr));

    // A schedule (the server runs it): shown with its next time; a wrong expression, an unknown
    // pipeline or a marketer are refused; --off removes it.
    let schedule = |args: &[&str], who: &str| {
        let mut all = vec!["pipeline", "schedule"];
        all.extend_from_slice(args);
        all.extend(["--as", who]);
        mcms(&all, &dir, "")
    };
    let out = schedule(&["agency-csv", "--cron", "0 6 * * *"], "admin@mcms.example");
    assert!(text(&out.stdout).starts_with("agency-csv: runs on \"0 6 * * *\" (next "), "{}", text(&out.stderr));
    let list = text(&mcms(&["pipeline", "list"], &dir, "").stdout);
    assert!(list.lines().any(|l| l.starts_with("agency-csv") && l.contains("schedule \"0 6 * * *\", next ")), "{list}");
    let out = schedule(&["agency-csv", "--cron", "0 6 * *"], "admin@mcms.example");
    assert!(text(&out.stderr).contains("is not a cron expression of five fields"), "{}", text(&out.stderr));
    let out = schedule(&["agency-cvs", "--cron", "0 6 * * *"], "admin@mcms.example");
    assert!(text(&out.stderr).contains("no stored pipeline named `agency-cvs`"), "{}", text(&out.stderr));
    let out = schedule(&["agency-csv", "--cron", "0 6 * * *"], "marketer@mcms.example");
    assert!(text(&out.stderr).contains("your role does not allow this"), "{}", text(&out.stderr));
    assert_eq!(text(&schedule(&["agency-csv", "--off"], "admin@mcms.example").stdout), "agency-csv: no schedule\n");
    assert!(!text(&mcms(&["pipeline", "list"], &dir, "").stdout).contains("schedule"));

    // A pipeline builder saves a version whose file carries a schedule: it is the pipeline's now.
    std::fs::write(dir.join("agency-csv.yaml"), format!("{shipped}schedule: \"30 5 * * *\"\n")).unwrap();
    let out = save("data@mcms.example");
    assert_eq!(
        text(&out.stdout),
        "agency-csv: saved as version 3\nagency-csv: scheduled \"30 5 * * *\" (from the file)\n",
        "{}",
        text(&out.stderr)
    );
    assert!(text(&mcms(&["pipeline", "list"], &dir, "").stdout).contains("schedule \"30 5 * * *\""));
    std::fs::write(dir.join("agency-csv.yaml"), format!("{shipped}schedule: \"at dawn\"\n")).unwrap();
    let out = save("data@mcms.example");
    assert!(text(&out.stderr).contains("`at dawn` is not a cron expression"), "{}", text(&out.stderr));
    assert_eq!(text(&schedule(&["agency-csv", "--off"], "data@mcms.example").stdout), "agency-csv: no schedule\n");
    std::fs::remove_file(dir.join("agency-csv.yaml")).unwrap();

    let runs = text(&mcms(&["pipeline", "runs", "agency-csv"], &dir, "").stdout);
    let ran: Vec<&str> = runs.lines().filter_map(|l| l.split_whitespace().nth(1)).filter(|n| n.contains('@')).collect();
    assert_eq!(ran, ["agency-csv@1", "agency-csv@1"], "newest first: {runs}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `check` plans each step against its inputs' columns; `--dry-run` shows each step on a sample
/// and writes nothing.
#[test]
fn pipeline_check_finds_sql_naming_a_missing_column_and_a_dry_run_writes_nothing() {
    let dir = temp_dir("pipeline-plan");
    std::fs::create_dir_all(dir.join("data/in")).unwrap();
    std::fs::write(dir.join("data/in/a.csv"), "game,amount\nSTARFALL,10\nSTARFALL,5\nMOONRISE,7\n").unwrap();
    let file = r#"version: 1
connections:
  here: { kind: folder, path: . }
steps:
  - name: costs
    source: { files: { connection: here, glob: "in/*.csv", format: csv } }
  - name: big
    transform: { sql: "SELECT game, amount * 2 AS doubled FROM costs WHERE amount > 6" }
  - name: out
    sink: { files: { input: big, connection: here, path: out, format: csv, partition_by: [game] } }
"#;
    std::fs::write(dir.join("p.yaml"), file).unwrap();
    let out = mcms(&["pipeline", "check", "p.yaml"], &dir, "");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));

    std::fs::write(dir.join("bad.yaml"), file.replace("amount * 2", "amont * 2")).unwrap();
    let out = mcms(&["pipeline", "check", "bad.yaml"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("bad.yaml:8:23: the step `big` cannot run: No field named amont."), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "one line per problem: {stdout}");
    std::fs::write(dir.join("bad.yaml"), file.replace("partition_by: [game]", "partition_by: [title]")).unwrap();
    let out = mcms(&["pipeline", "check", "bad.yaml"], &dir, "");
    assert!(text(&out.stdout).contains("the step `out` cannot run: the column `title` is not among `big`'s columns"));

    let out = mcms(&["pipeline", "run", "p.yaml", "--dry-run", "--sample", "2"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("on each source's first 2 rows; nothing written"), "{stdout}");
    assert!(stdout.contains("      columns: game (Utf8), doubled (Int64)\n      | STARFALL | 20 |\n"), "{stdout}");
    assert!(!dir.join("data/out").exists(), "a dry run writes nothing");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The ingestion lab on the demo's players: infer, plan (statements and the split plan with the
/// demo PoC's estimates), split; and what a bad file and a missing target say.
#[test]
fn the_ingestion_lab_infers_plans_and_splits_the_demo_players() {
    let dir = temp_dir("ingest");
    let out = mcms(&["migrate", "--demo"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = mcms(&["ingest", "infer", "data/players/players.csv"], &dir, "");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(shown.starts_with("1 file(s), "), "{shown}");
    assert!(shown.contains("CSV, ',' delimited, with a header, UTF-8; 2000 rows read"), "{shown}");
    let rows: Vec<String> = shown.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for expected in [
        "player_id text no VARCHAR / VARCHAR(16)",
        "days_since_install integer no NUMBER(38, 0) / INTEGER",
        "minutes_7d decimal no NUMBER(18, 1) / DECIMAL(18, 1)",
        "platform text no VARCHAR / VARCHAR(16)",
    ] {
        assert!(rows.iter().any(|r| r == expected), "{expected:?} in {shown}");
    }
    assert!(!shown.contains("problem"), "{shown}");

    std::fs::create_dir_all(dir.join("bad")).unwrap();
    std::fs::write(dir.join("bad/a.csv"), "id,amount\n1,10\n2\n3,30\n").unwrap();
    let out = mcms(&["ingest", "infer", "bad/*.csv"], &dir, "");
    assert_eq!(out.status.code(), Some(1), "problems exit 1");
    assert!(text(&out.stdout).contains("- a.csv row 3: 1 fields where the header has 2"), "{}", text(&out.stdout));

    let out = mcms(&["ingest", "plan", "data/players", "--table", "raw.players"], &dir, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--to s3://bucket/prefix/"), "{}", text(&out.stderr));

    let plan = ["ingest", "plan", "data/players", "--table", "raw.players", "--to", "s3://lake/players/"];
    let out = mcms(&plan, &dir, "");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    for expected in [
        "CREATE TABLE IF NOT EXISTS raw.players\n  USING TEMPLATE (",
        "COPY INTO raw.players\n  FROM @raw.players_stage\n  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE",
        "COPY raw.players\n  FROM 's3://lake/players/players.manifest'",
        "\"url\": \"s3://lake/players/players.csv\"",
        "-- split plan: 1 file(s)",
        "-- proposed: parquet snappy, 1 file(s)",
        "-- estimate redshift: ",
        "-- estimate snowflake: ",
    ] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }

    let split = ["ingest", "split", "data/players", "--out", "out", "--count", "4", "--layout", "csv"];
    let out = mcms(&[&split[..], &["--record-as", "mcms-local"]].concat(), &dir, "");
    assert_eq!(out.status.code(), Some(2), "--record-as needs --as: {}", text(&out.stderr));
    let out = mcms(&[&split[..], &["--record-as", "mcms-local", "--as", "marketer@mcms.example"]].concat(), &dir, "");
    assert_eq!(out.status.code(), Some(1), "only an admin records PoC runs");
    let out = mcms(&[&split[..], &["--record-as", "mcms-local", "--as", "admin@mcms.example"]].concat(), &dir, "");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(shown.contains("1 file(s) → 4 file(s)"), "{shown}");
    assert!(shown.contains(" 2000 rows in "), "{shown}");
    assert_eq!(shown.matches("  500 rows\n").count(), 4, "the rows shared evenly: {shown}");
    let mut written: Vec<String> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["part-00000.csv.gz", "part-00001.csv.gz", "part-00002.csv.gz", "part-00003.csv.gz"]);
    assert!(shown.contains("recorded as a mcms-local batch_copy run of PoC "), "{shown}");
    // The recorded run is one of the PoC's now: the next plan's estimates use it.
    let out = mcms(&[&plan[..], &["--layout", "csv"]].concat(), &dir, "");
    let shown = text(&out.stdout);
    assert!(shown.contains("-- estimate mcms-local: "), "{shown}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_watch_applies_change_files_once_and_records_the_period_in_the_poc() {
    let dir = temp_dir("watch");
    let out = mcms(&["migrate", "--demo"], &dir, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::create_dir_all(dir.join("cdc")).unwrap();
    let event = |op: &str, lsn: u64, id: u64, level: u64| {
        let row = format!(r#"{{"id": {id}, "level": {level}}}"#);
        let (before, after) = if op == "d" { (row, "null".to_owned()) } else { ("null".to_owned(), row) };
        format!(r#"{{"op": "{op}", "before": {before}, "after": {after}, "source": {{"lsn": {lsn}}}}}"#)
    };
    let first = [event("c", 1, 1, 3), event("c", 2, 2, 4), event("d", 3, 2, 4)].join("\n");
    std::fs::write(dir.join("cdc/0001.json"), first).unwrap();
    std::fs::write(dir.join("cdc/0002.json"), format!("{}\n{{\"op\": \"c\"", event("u", 4, 1, 9))).unwrap();
    let watch = ["ingest", "watch", "cdc/*.json", "--table", "players", "--key", "id", "--sqlite", "lake/lake.db"];
    let once = [&watch[..], &["--for-secs", "0"]].concat();
    let out = mcms(&[&once[..], &["--record-as", "mcms-local", "--as", "admin@mcms.example"]].concat(), &dir, "");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(shown.contains("loaded 0001.json: 2 rows, "), "two keys changed: {shown}");
    assert!(shown.contains("skipped 0002.json: line 2: not JSON"), "{shown}");
    assert!(shown.contains("1 file(s) loaded, 1 skipped: 2 rows, "), "{shown}");
    assert!(shown.contains("recorded as a mcms-local cdc_microbatch run of PoC "), "{shown}");

    // Run again (a restart): nothing is loaded twice; a new file is.
    std::fs::write(dir.join("cdc/0003.json"), event("u", 5, 1, 7)).unwrap();
    let out = mcms(&once, &dir, "");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert!(!shown.contains("0001.json") && !shown.contains("0002.json"), "{shown}");
    assert!(shown.contains("loaded 0003.json: 1 rows, "), "{shown}");

    let out = mcms(&["ingest", "watch", "cdc/*.json", "--table", "players", "--for-secs", "0"], &dir, "");
    assert_eq!(out.status.code(), Some(2), "a target is required: {}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}
