//! Pipelines from the pages, over HTTP on both databases: a run started from the page is recorded
//! and runs in the background, its steps are seen while it runs, cancel stops it and nothing is
//! written; a save over a newer version is refused with the text kept; a schedule in the file is
//! the pipeline's schedule once saved.

use crate::common::TestApp;
use domain::Role;
use http::StatusCode;
use serde_json::Value;
use server::WebConfig;
use store::pipelines::Base;

/// A query that counts to a hundred million: long enough to be seen running, and cancelled.
const SLOW: &str = r#"version: 1
connections:
  scratch: { kind: sqlite, path: scratch.db }
  out: { kind: folder, path: out }
steps:
  - name: slow
    source:
      database:
        connection: scratch
        query: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000000) SELECT x FROM n"
  - name: store
    sink: { files: { input: slow, connection: out, path: numbers, format: csv } }
"#;

/// A week of partner statistics per game, into `out/per-game`.
const FAST: &str = r#"version: 1
params:
  from: { type: date, default: 7 days ago }
  to: { type: date, default: yesterday }
connections:
  out: { kind: folder, path: out }
steps:
  - name: stats
    source: { partner_stats: { from: "${from}", to: "${to}" } }
  - name: per_game
    transform: { sql: "SELECT game, count(*) AS days FROM stats GROUP BY game" }
  - name: store
    sink: { files: { input: per_game, connection: out, path: per-game, format: csv } }
"#;

/// Two games' statistics for each of the last ten days.
async fn seed_stats(app: &TestApp) {
    use store::costs::MasterTable;
    let db = &app.t.db;
    let admin = app.user("admin@mcms.test", Role::Admin).await.id;
    db.put_code(MasterTable::Games, "STARFALL", "Starfall", true).await.unwrap();
    db.put_code(MasterTable::Games, "PUZZLE", "Puzzle Harbor", true).await.unwrap();
    db.put_code(MasterTable::Channels, "GOOGLE_ADS", "Google Ads", true).await.unwrap();
    db.put_currency(domain::Currency::KRW, true).await.unwrap();
    let rows: Vec<store::partners::DailyStats> = (1..=10)
        .flat_map(|back| {
            ["STARFALL", "PUZZLE"].map(|game| store::partners::DailyStats {
                game: game.into(),
                channel: "GOOGLE_ADS".into(),
                day: crate::common::today() - time::Duration::days(back),
                new_users: 10,
                daily_active: 100,
                paying_users: 1,
                revenue_minor: 1_000,
                currency: "KRW".into(),
            })
        })
        .collect();
    db.load_stats(&rows, admin).await.unwrap();
}

async fn run_view(b: &mut crate::common::Browser, id: i64) -> Value {
    let r = b.call("/api/pipelines/run/get", &[("id", &id.to_string())]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// The run once `done` says so, asked every 50 ms for at most 30 s.
async fn wait_for(b: &mut crate::common::Browser, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let view = run_view(b, id).await;
        if done(&view) {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} never got there: {}", run_view(b, id).await);
}

/// An empty data folder of the test's own, with the empty SQLite database `SLOW` reads.
fn data_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcms-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // An empty file is an empty SQLite database.
    std::fs::write(dir.join("scratch.db"), "").unwrap();
    dir
}

#[tokio::test]
async fn a_page_run_is_watched_step_by_step_and_cancel_stops_it_writing_nothing() {
    let dir = data_dir("page-runs");
    for app in TestApp::each_with(WebConfig { data_dir: dir.clone(), ..WebConfig::default() }).await {
        let (mut b, builder) = app.signed_in("builder@mcms.test", Role::Builder).await;
        let db = &app.t.db;
        db.save_pipeline("slow", SLOW, "a", Base::New, "", builder.id).await.unwrap();
        let r = b.call("/api/pipelines/run", &[("name", "slow")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend(), r.body);
        let id: i64 = r.body.parse().unwrap();

        let running = wait_for(&mut b, id, |v| v["live"].as_array().is_some_and(|l| !l.is_empty())).await;
        assert_eq!(running["run"]["state"], "running");
        assert_eq!(running["live"][0]["name"], "slow");
        assert_eq!(running["live"][0]["done"], false);
        assert_eq!(running["can_cancel"], true);

        let r = b.call("/api/pipelines/run/cancel", &[("id", &id.to_string())]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ended = wait_for(&mut b, id, |v| v["run"]["state"] != "running").await;
        assert_eq!(ended["run"]["state"], "failed");
        assert_eq!(ended["run"]["reason"], "the run was cancelled");
        assert_eq!(ended["live"], Value::Null, "nothing is going on any more");
        assert!(!dir.join("out").join("numbers").exists(), "{}: nothing written", app.backend());
        // Cancelling an ended run is told so.
        let again = b.call("/api/pipelines/run/cancel", &[("id", &id.to_string())]).await;
        assert_eq!((again.status, again.body.contains("pipeline.not_running")), (StatusCode::CONFLICT, true));

        // A run that goes through: every step recorded with its rows, the sink's output in place.
        seed_stats(&app).await;
        db.save_pipeline("fast", FAST, "b", Base::New, "", builder.id).await.unwrap();
        let r = b.call("/api/pipelines/run", &[("name", "fast")]).await;
        let id: i64 = r.body.parse().unwrap();
        let done = wait_for(&mut b, id, |v| v["run"]["state"] != "running").await;
        assert_eq!(done["run"]["state"], "succeeded", "{}: {done}", app.backend());
        let steps: Vec<(&str, u64)> = done["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].as_str().unwrap(), s["rows"].as_u64().unwrap()))
            .collect();
        assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), ["stats", "per_game", "store"]);
        // Seven days (from 7 days ago to yesterday) of two games; one row per game.
        assert_eq!(steps.iter().map(|s| s.1).collect::<Vec<_>>(), [14, 2, 2], "{}", app.backend());
        assert!(dir.join("out").join("per-game").is_dir());
        std::fs::remove_dir_all(dir.join("out")).unwrap();
        app.finish().await;
    }
}

#[tokio::test]
async fn another_instance_sees_a_page_run_going_on_and_its_cancel_stops_it() {
    let dir = data_dir("page-runs-elsewhere");
    let config = WebConfig { data_dir: dir.clone(), ..WebConfig::default() };
    for app in TestApp::each_with(config.clone()).await {
        // A second instance on the same database, with its own runs going on (none).
        let other = server::router(app.t.db.clone(), &config);
        let (mut here, builder) = app.signed_in("builder@mcms.test", Role::Builder).await;
        app.t.db.save_pipeline("slow", SLOW, "a", Base::New, "", builder.id).await.unwrap();
        let id: i64 = here.call("/api/pipelines/run", &[("name", "slow")]).await.body.parse().unwrap();
        let mut there = here.clone();
        there.use_router(other);

        // The other instance shows the steps as of the run's last beat.
        let seen = wait_for(&mut there, id, |v| v["live"].as_array().is_some_and(|l| !l.is_empty())).await;
        assert_eq!(seen["run"]["state"], "running", "{}", app.backend());
        assert_eq!((seen["live"][0]["name"].as_str(), seen["live"][0]["done"].as_bool()), (Some("slow"), Some(false)));
        assert_eq!((seen["can_cancel"].as_bool(), seen["cancel_asked"].as_bool()), (Some(true), Some(false)));
        assert_eq!(seen["quiet_since"], Value::Null, "it beats");

        // Cancelled there: asked in the database, seen by the instance running it at its next beat.
        let r = there.call("/api/pipelines/run/cancel", &[("id", &id.to_string())]).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend(), r.body);
        let asked = run_view(&mut here, id).await;
        if asked["run"]["state"] == "running" {
            assert_eq!((asked["cancel_asked"].as_bool(), asked["can_cancel"].as_bool()), (Some(true), Some(false)));
        }
        let ended = wait_for(&mut there, id, |v| v["run"]["state"] != "running").await;
        assert_eq!(ended["run"]["state"], "failed", "{}: {ended}", app.backend());
        assert_eq!(ended["run"]["reason"], "the run was cancelled");
        assert_eq!((ended["live"].clone(), ended["cancel_asked"].as_bool()), (Value::Null, Some(false)));
        assert!(!dir.join("out").exists(), "{}: nothing written", app.backend());
        let again = there.call("/api/pipelines/run/cancel", &[("id", &id.to_string())]).await;
        assert_eq!((again.status, again.body.contains("pipeline.not_running")), (StatusCode::CONFLICT, true));
        app.finish().await;
    }
}

#[tokio::test]
async fn stopping_the_server_cancels_its_page_runs_and_records_why_before_it_ends() {
    let dir = data_dir("page-runs-stop");
    let stopping = server::runs::Stopping::default();
    let config = WebConfig { data_dir: dir.clone(), stopping: stopping.clone(), ..WebConfig::default() };
    let apps = TestApp::each_with(config).await;
    // A long run on each database, both seen running, then the stop (one server's, both apps').
    let mut going = Vec::new();
    for app in &apps {
        let (mut b, builder) = app.signed_in("builder@mcms.test", Role::Builder).await;
        app.t.db.save_pipeline("slow", SLOW, "a", Base::New, "", builder.id).await.unwrap();
        let id: i64 = b.call("/api/pipelines/run", &[("name", "slow")]).await.body.parse().unwrap();
        wait_for(&mut b, id, |v| v["live"].as_array().is_some_and(|l| !l.is_empty())).await;
        going.push((b, id));
    }
    assert!(stopping.stop(std::time::Duration::from_secs(30)).await, "every run recorded its end");
    for (app, (mut b, id)) in apps.iter().zip(going) {
        let ended = run_view(&mut b, id).await;
        assert_eq!(ended["run"]["state"], "failed", "{}: {ended}", app.backend());
        assert_eq!(ended["run"]["reason"], "the server stopped during the run; nothing was written");
    }
    assert!(!dir.join("out").exists(), "nothing written");
    for app in apps {
        app.finish().await;
    }
}

/// Saves `text` as `weekly`, from version `base` ("": a new pipeline), as the editor posts it.
async fn save(b: &mut crate::common::Browser, base: &str, text: String) -> crate::common::Reply {
    let mut form = vec![("name", "weekly"), ("text", text.as_str())];
    if !base.is_empty() {
        form.push(("base", base));
    }
    b.call("/api/pipelines/save", &form).await
}

#[tokio::test]
async fn a_save_over_a_newer_version_is_refused_with_the_text_and_a_file_schedule_is_set() {
    for app in TestApp::each().await {
        let (mut b, _) = app.signed_in("builder@mcms.test", Role::Builder).await;
        let r = save(&mut b, "", FAST.replace("\n", "\r\n")).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "1"), "{}", app.backend());
        let stored = app.t.db.pipeline_version("weekly", None).await.unwrap().unwrap();
        assert_eq!(stored.text, FAST, "a browser's line ends are stored as the file's");
        // A second "new" pipeline of the same name, and a save from version 0: refused, text back.
        let taken = save(&mut b, "", FAST.to_owned()).await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert!(taken.body.contains("pipeline.name_taken") && taken.body.contains("per_game"), "{}", taken.body);
        let with_schedule = format!("{FAST}schedule: \"0 7 * * 1\"\n");
        let r = save(&mut b, "1", with_schedule.clone()).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "2"), "{}", r.body);
        let stale = save(&mut b, "1", format!("{with_schedule}# mine\n")).await;
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert!(stale.body.contains("pipeline.changed") && stale.body.contains("# mine"), "{}", stale.body);
        let schedules = app.t.db.schedules().await.unwrap();
        assert_eq!(schedules.iter().map(|s| s.cron.as_str()).collect::<Vec<_>>(), ["0 7 * * 1"]);
        // A file whose schedule is not a cron expression is refused at its line, and nothing saved.
        let bad = save(&mut b, "2", format!("{FAST}schedule: \"weekly\"\n")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("\"line\":14") && bad.body.contains("pipeline.cron"), "{}", bad.body);
        assert_eq!(app.t.db.pipeline_version("weekly", None).await.unwrap().unwrap().version, 2);
        app.finish().await;
    }
}
