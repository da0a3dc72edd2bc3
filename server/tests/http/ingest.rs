//! The ingestion lab's pages as a browser without JavaScript uses them, on SQLite and PostgreSQL:
//! a survey's columns, problems, statements and plan; a rewrite; a watch defined on the page,
//! run by the background task every instance runs, loading each file once, skipping a bad one
//! with its error, and stopping. Who may do what, and each refusal with its reason.

use crate::common::{self, HOST, TestApp};
use domain::Role;
use http::StatusCode;
use server::WebConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn data_dir(test: &str) -> PathBuf {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let dir = std::env::temp_dir().join("mcms-tests").join(format!("ingest-{test}-{nanos}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn q(text: &str) -> String {
    app::url::query_value(text)
}

/// A form posted without JavaScript from `page`.
async fn post(b: &mut common::Browser, path: &str, page: &str, form: &[(&str, &str)]) -> common::Reply {
    let body = serde_urlencoded::to_string(form).unwrap();
    b.send(common::plain_form_post(path, &format!("http://{HOST}{page}")), body).await
}

#[tokio::test]
async fn a_builder_surveys_files_and_gets_their_columns_statements_and_plan() {
    let dir = data_dir("survey");
    write(&dir.join("landing/players-1.csv"), "player_id,country,spend_krw\n1,KR,12000\n2,JP,\n3,US,990\n");
    // A second file without `country`: the load would hit it, and the page says so.
    write(&dir.join("landing/players-2.csv"), "player_id,spend_krw\n4,500\n");
    let config = WebConfig { data_dir: dir.clone(), ..WebConfig::default() };
    for app in TestApp::each_with(config.clone()).await {
        let (mut b, _) = app.signed_in("data@mcms.test", Role::Builder).await;
        let page = b
            .page(&format!(
                "/ingest?location={}&table=analytics.players&load_from={}&slices=8",
                q("landing/*.csv"),
                q("s3://lake/players/")
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for seen in [
            "player_id",
            "spend_krw",
            "players-2.csv",
            "country",
            // Snowflake and Redshift statements, ready to paste, with copy buttons for the script.
            "COPY INTO analytics.players",
            "s3://lake/players/",
            "IAM_ROLE",
            "data-copy=\"snowflake\"",
            "data-copy=\"redshift\"",
            // The plan: the proposed layout, and why there is no estimate yet.
            "Proposed layout",
            "No recorded PoC run of this format yet",
            "name=\"folder\"",
        ] {
            assert!(page.body.contains(seen), "{}: {seen} missing from {}", app.backend(), page.body);
        }
        assert!(page.body.contains("missing from") || page.body.contains("not in"), "{}", page.body);

        // Only the data directory or S3; the server's other files are never read.
        for (location, said) in
            [("/etc/passwd", "inside the data directory"), ("../../etc", "inside the data directory")]
        {
            let page = b.page(&format!("/ingest?location={}", q(location))).await;
            assert!(page.body.contains(said), "{location}: {}", page.body);
            assert!(!page.body.contains("root:"), "{}", page.body);
        }
        let page = b.page(&format!("/ingest?location={}", q("landing/none-*.csv"))).await;
        assert!(page.body.contains("no files match landing/none-*.csv"), "{}", page.body);
        assert!(!page.body.contains(&dir.to_string_lossy().into_owned()), "the server's path is not shown");
        let page = b.page(&format!("/ingest?location={}", q("nowhere/*.csv"))).await;
        assert!(page.body.contains("nowhere: no such folder"), "{}", page.body);
        assert!(!page.body.contains(&dir.to_string_lossy().into_owned()), "the server's path is not shown");

        // Viewers and marketers see neither the pages nor the calls.
        for (email, role) in [("viewer@mcms.test", Role::Viewer), ("marketer@mcms.test", Role::Marketer)] {
            let (mut other, _) = app.signed_in(email, role).await;
            assert_eq!(other.page("/ingest").await.status, StatusCode::FORBIDDEN);
            assert_eq!(other.page("/ingest/watches").await.status, StatusCode::FORBIDDEN);
            let r = other.call("/api/ingest/survey", &[("location", "landing/*.csv")]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
            let r = other.call("/api/ingest/watches", &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn uploaded_files_are_kept_in_a_folder_of_their_own_and_surveyed() {
    let dir = data_dir("upload");
    let config = WebConfig { data_dir: dir.clone(), ..WebConfig::default() };
    for app in TestApp::each_with(config.clone()).await {
        let (mut b, _) = app.signed_in("data@mcms.test", Role::Builder).await;
        let r = b
            .upload(
                "/ingest/upload",
                &[
                    ("files", Some("events-1.csv"), "event_id,kind\n1,install\n2,purchase\n"),
                    ("files", Some("events-2.csv"), "event_id,kind\n3,install\n"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.location().unwrap().to_owned();
        assert!(to.starts_with("/ingest?location=uploads%2F"), "{to}");
        let page = b.page(&to).await;
        assert!(page.body.contains("event_id") && page.body.contains("events-2.csv"), "{}", page.body);

        // A name that is not plain, or no file at all: sent back saying why, nothing kept.
        let before = std::fs::read_dir(dir.join("uploads")).unwrap().count();
        for fields in [vec![("files", Some("my events.csv"), "a\n1\n")], vec![("note", None, "nothing")]] {
            let r = b.upload("/ingest/upload", &fields).await;
            let to = r.location().unwrap_or_default().to_owned();
            assert!(to.starts_with("/ingest?refused="), "{to}");
            let page = b.page(&to).await;
            assert!(
                page.body.contains("name files with") || page.body.contains("choose one or more files"),
                "{}",
                page.body
            );
        }
        assert_eq!(std::fs::read_dir(dir.join("uploads")).unwrap().count(), before);
        let (mut viewer, _) = app.signed_in("viewer@mcms.test", Role::Viewer).await;
        let r = viewer.upload("/ingest/upload", &[("files", Some("a.csv"), "a\n1\n")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_rewrite_writes_the_proposed_layout_into_the_data_directory_and_says_what_it_did() {
    let dir = data_dir("rewrite");
    let mut csv = String::from("player_id,country,spend_krw\n");
    for i in 0..500 {
        csv.push_str(&format!("{i},KR,{}\n", i * 10));
    }
    write(&dir.join("landing/players.csv"), &csv);
    let config = WebConfig { data_dir: dir.clone(), ..WebConfig::default() };
    for app in TestApp::each_with(config.clone()).await {
        let (mut b, _) = app.signed_in("data@mcms.test", Role::Builder).await;
        let folder = format!("players-{}", app.backend());
        let from = format!("/ingest?location={}", q("landing/players.csv"));
        let form = [
            ("location", "landing/players.csv"),
            ("layout", "parquet"),
            ("slices", "4"),
            ("folder", folder.as_str()),
            ("target[table]", "analytics.players"),
        ];
        let r = post(&mut b, "/api/ingest/rewrite", &from, &form).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let back = r.location().unwrap().to_owned();
        assert!(back.starts_with("/ingest?location=landing%2Fplayers.csv"), "{back}");
        assert!(back.contains(&format!("rewritten={folder}")) && back.contains("r_rows=500"), "{back}");
        assert!(back.contains("table=analytics.players"), "the survey comes back as it was asked for: {back}");
        let written = dir.join("ingest").join(&folder).join("part-00000.parquet");
        assert!(written.exists(), "{} missing", written.display());
        let page = b.page(&back).await;
        assert!(page.body.contains(&format!("Rewritten into {folder}")), "{}", page.body);

        // A folder that is not a plain name is refused, and nothing is written.
        let bad = [("location", "landing/players.csv"), ("folder", "../escape")];
        let r = b.call("/api/ingest/rewrite", &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("ingest.folder"), "{}", r.body);
        assert!(!dir.join("escape").exists());
        // Recording as a PoC run is an administrator's.
        let record = [("location", "landing/players.csv"), ("folder", folder.as_str()), ("record", "true")];
        let r = b.call("/api/ingest/rewrite", &record).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        app.finish().await;
    }
}

/// Polls the watch's page until `done` holds of it (the background task loads within a few
/// seconds; a broken one never does, and the test fails naming what the page said).
async fn page_until(b: &mut common::Browser, path: &str, done: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        last = b.page(path).await.body;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{path} never showed what was waited for: {last}");
}

#[tokio::test]
async fn a_watch_defined_on_the_page_loads_each_new_file_once_skips_a_bad_one_and_stops() {
    let dir = data_dir("watch");
    let config = WebConfig { data_dir: dir.clone(), ..WebConfig::default() };
    for app in TestApp::each_with(config.clone()).await {
        let backend = app.backend();
        let (mut b, _) = app.signed_in("data@mcms.test", Role::Builder).await;
        let landing = format!("arrivals-{backend}");
        let target = format!("lake-{backend}.db");
        let good = [
            ("name", "arrivals"),
            ("location", &format!("{landing}/*.csv")),
            ("target_kind", "sqlite"),
            ("target", target.as_str()),
            ("table", "players"),
            ("format", ""),
            ("keys", ""),
            ("every_secs", "1"),
        ];
        // Each bad definition refused with the field to fix; nothing stored.
        let with = |field: &str, value: &'static str| {
            good.iter()
                .map(|(k, v)| (*k, if *k == field { value.to_owned() } else { (*v).to_owned() }))
                .collect::<Vec<_>>()
        };
        for (field, value, code) in [
            ("name", "1 arrivals", "watch.name"),
            ("location", "/var/landing", "watch.location"),
            ("target", "../lake.db", "watch.target"),
            ("table", "players; drop table x", "watch.table"),
            ("format", "xlsx", "watch.format"),
            ("every_secs", "0.1", "watch.every"),
        ] {
            let form = with(field, value);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = b.call("/api/ingest/watches/create", &form).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
            assert!(r.body.contains(code), "{field}: {}", r.body);
        }
        let cdc_without_keys: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, *v)).chain([("mode", "cdc")]).collect();
        let r = b.call("/api/ingest/watches/create", &cdc_without_keys).await;
        assert!(r.body.contains("watch.keys"), "{}", r.body);
        assert!(app.t.db.ingest_watches().await.unwrap().is_empty());

        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, *v)).collect();
        let r = post(&mut b, "/api/ingest/watches/create", "/ingest/watches", &good).await;
        assert_eq!((r.status, r.location()), (StatusCode::FOUND, Some("/ingest/watches/arrivals")), "{}", r.body);
        let r = b.call("/api/ingest/watches/create", &good).await;
        assert!(r.body.contains("watch.duplicate"), "{}", r.body);

        // The background task every server runs picks it up.
        let stop = tokio_util::sync::CancellationToken::new();
        let watches = server::ingest::Watches {
            db: app.t.db.clone(),
            lab: server::ingest::Lab { data_dir: dir.clone(), secrets: pipeline::Secrets::default() },
            instance: format!("test-{backend}"),
        };
        let task = tokio::spawn(watches.run_forever(stop.clone()));
        write(&dir.join(&landing).join("001.csv"), "player_id,country\n1,KR\n2,JP\n");
        let page = page_until(&mut b, "/ingest/watches/arrivals", |p| p.contains("001.csv")).await;
        assert!(page.contains(">running<") || page.contains(">starting<"), "{page}");
        // A ragged row skips its file, said with its line; the next file still loads.
        write(&dir.join(&landing).join("002.csv"), "player_id,country\n3,KR,extra\n");
        write(&dir.join(&landing).join("003.csv"), "player_id,country\n4,US\n");
        let page =
            page_until(&mut b, "/ingest/watches/arrivals", |p| p.contains("002.csv") && p.contains("003.csv")).await;
        assert_eq!(page.matches(">skipped<").count(), 1, "{page}");
        assert!(page.contains("line 2") || page.contains("row 2") || page.contains("record 2"), "{page}");
        assert!(page.contains("Arrival to queryable per file"), "the latency chart: {page}");

        let rows: i64 = {
            let url = format!("sqlite://{}", dir.join(&target).display());
            let db = store::Db::connect(&url).await.unwrap();
            let store::Db::Sqlite(pool) = &db else { unreachable!() };
            let n = sqlx::query_scalar("SELECT COUNT(*) FROM players").fetch_one(pool).await.unwrap();
            db.close().await;
            n
        };
        assert_eq!(rows, 3, "001's two rows and 003's one, each once");

        // The period into the PoC: an administrator's, into the newest PoC.
        let r = b.call("/api/ingest/watches/record", &[("name", "arrivals")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let r = admin.call("/api/ingest/watches/record", &[("name", "arrivals")]).await;
        assert!(r.body.contains("ingest.no_poc"), "{}", r.body);
        let poc = app.t.db.create_poc("PoC", "goal", "running", "").await.unwrap();
        let r =
            post(&mut admin, "/api/ingest/watches/record", "/ingest/watches/arrivals", &[("name", "arrivals")]).await;
        let back = format!("/ingest/watches/arrivals?recorded={poc}");
        assert_eq!((r.status, r.location()), (StatusCode::FOUND, Some(back.as_str())), "{}", r.body);
        assert!(admin.page(&back).await.body.contains("cdc_microbatch run of PoC"));
        let runs = app.t.db.poc_runs(poc, &store::poc::RunFilter::default()).await.unwrap();
        let [run] = &runs[..] else { panic!("{runs:?}") };
        assert_eq!(
            (run.system.as_str(), run.scenario.as_str(), run.rows, run.params.file_count),
            ("mcms-local", "cdc_microbatch", 3, 2)
        );
        assert!(run.latency_p95_ms.is_some_and(|ms| ms > 0.0), "{run:?}");

        // Another instance cannot take it while this one holds the lease.
        let id = app.t.db.ingest_watch("arrivals").await.unwrap().unwrap().id;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(!app.t.db.lease_ingest_watch(id, "other", now, now + 15, None).await.unwrap());

        // Stopped from the page: nothing more loads.
        let r = post(
            &mut b,
            "/api/ingest/watches/run",
            "/ingest/watches/arrivals",
            &[("name", "arrivals"), ("running", "false")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.body);
        let page = b.page("/ingest/watches/arrivals").await.body;
        assert!(page.contains(">stopped<") && page.contains(">Start<"), "{page}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        write(&dir.join(&landing).join("004.csv"), "player_id,country\n5,KR\n");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!b.page("/ingest/watches/arrivals").await.body.contains("004.csv"), "a stopped watch loads nothing");
        let list = b.page("/ingest/watches").await.body;
        assert!(list.contains("arrivals") && list.contains("players"), "{list}");
        stop.cancel();
        task.await.unwrap();
        app.finish().await;
    }
}
