//! Watches over a real folder into real databases: SQLite always, PostgreSQL when the test command
//! gives one (`MCMS_TEST_POSTGRES_URL`, a database made per test).

use super::*;
use sqlx::Row;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcms-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    dir
}

fn spec(dir: &std::path::Path, pattern: &str, connection: Connection, mode: WatchMode) -> WatchSpec {
    WatchSpec {
        name: "players".into(),
        location: format!("{}/in/{pattern}", dir.display()),
        connection,
        table: "players".into(),
        mode,
    }
}

async fn sqlite(dir: &std::path::Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}/target.db", dir.display())).await.unwrap()
}

fn summary(loads: &[Load]) -> Vec<(String, Outcome, u64)> {
    loads.iter().map(|l| (l.file.clone(), l.outcome, l.rows)).collect()
}

#[tokio::test]
async fn appended_files_load_once_a_bad_one_is_skipped_and_a_restart_resumes() {
    let dir = folder("append");
    let target = Connection::Sqlite { path: "target.db".into() };
    let spec = spec(&dir, "*.csv", target, WatchMode::Append { format: None });
    std::fs::write(dir.join("in/a.csv"), "id,level\n1,10\n2,20\n").unwrap();
    let mut watch = Watcher::open(spec.clone(), &Secrets::default(), &dir).await.unwrap();
    let first = watch.poll().await.unwrap();
    assert_eq!(summary(&first), [("a.csv".to_owned(), Outcome::Loaded, 2)]);
    assert!(first[0].latency_ms() >= 0.0 && first[0].finished >= first[0].started);

    std::fs::write(dir.join("in/b.csv"), "id,level\n3,30\n4,40,extra\n").unwrap();
    std::fs::write(dir.join("in/c.csv"), "id,level\n5,50\n").unwrap();
    let second = watch.poll().await.unwrap();
    assert_eq!(second.len(), 2, "{second:?}");
    let bad = second.iter().find(|l| l.file == "b.csv").unwrap();
    assert_eq!(bad.outcome, Outcome::Skipped);
    let error = bad.error.as_deref().unwrap_or_default();
    assert_eq!(error, "incorrect number of fields for line 3, expected 2 got 3", "names the ragged row");
    assert_eq!(second.iter().find(|l| l.file == "c.csv").map(|l| (l.outcome, l.rows)), Some((Outcome::Loaded, 1)));
    assert!(watch.poll().await.unwrap().is_empty(), "nothing twice");

    // A restart reads the history from the target database: nothing again, nothing skipped.
    drop(watch);
    let mut again = Watcher::open(spec.clone(), &Secrets::default(), &dir).await.unwrap();
    assert!(again.poll().await.unwrap().is_empty());
    std::fs::write(dir.join("in/d.csv"), "id,level\n6,60\n7,70\n").unwrap();
    assert_eq!(summary(&again.poll().await.unwrap()), [("d.csv".to_owned(), Outcome::Loaded, 2)]);
    let history = again.history(None).await.unwrap();
    assert_eq!(history.len(), 4);

    let pool = sqlite(&dir).await;
    let ids: Vec<i64> = sqlx::query("SELECT id FROM players ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1, 2, 5, 6, 7], "the bad file added nothing");
}

fn event(op: &str, lsn: u64, before: serde_json::Value, after: serde_json::Value) -> String {
    serde_json::json!({"op": op, "before": before, "after": after, "source": {"lsn": lsn}}).to_string()
}

async fn cdc_applies_changes_once_per_file(connection: Connection, secrets: Secrets, dir: &std::path::Path) {
    use serde_json::{Value, json};
    let spec = spec(dir, "*.json", connection, WatchMode::Cdc { keys: vec!["id".into()] });
    let changes = [
        event("c", 1, Value::Null, json!({"id": 1, "name": "ari", "level": 3})),
        event("c", 2, Value::Null, json!({"id": 2, "name": "bo", "level": 1})),
        event("u", 4, json!({"id": 1}), json!({"id": 1, "name": "ari", "level": 5})),
        event("d", 3, json!({"id": 2}), Value::Null),
        event("c", 5, Value::Null, json!({"id": 3, "name": "cy", "level": 9})),
    ]
    .join("\n");
    std::fs::write(dir.join("in/0001.json"), &changes).unwrap();
    let mut watch = Watcher::open(spec.clone(), &secrets, dir).await.unwrap();
    let loads = watch.poll().await.unwrap();
    assert_eq!(summary(&loads), [("0001.json".to_owned(), Outcome::Loaded, 3)], "{loads:?}");

    // The same events again under another name, then a file with a bad event, then a good one.
    std::fs::write(dir.join("in/0002.json"), &changes).unwrap();
    let bad = [
        event("u", 6, json!({"id": 3}), json!({"id": 3, "name": "cy", "level": 10})),
        event("x", 7, Value::Null, Value::Null),
    ];
    std::fs::write(dir.join("in/0003.json"), bad.join("\n")).unwrap();
    std::fs::write(
        dir.join("in/0004.json"),
        event("u", 8, json!({"id": 3}), json!({"id": 3, "name": "cy", "level": 11})),
    )
    .unwrap();
    let loads = watch.poll().await.unwrap();
    let outcomes: Vec<(String, Outcome)> = loads.iter().map(|l| (l.file.clone(), l.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            ("0002.json".to_owned(), Outcome::Loaded),
            ("0003.json".to_owned(), Outcome::Skipped),
            ("0004.json".to_owned(), Outcome::Loaded)
        ]
    );
    assert_eq!(loads[1].error.as_deref(), Some("line 2: op \"x\" is not one of c, u, d, r"));
    let mut again = Watcher::open(spec, &secrets, dir).await.unwrap();
    assert!(again.poll().await.unwrap().is_empty(), "a restart loads nothing twice");
}

const PLAYERS: &str = "SELECT id, name, level FROM players ORDER BY id";

#[tokio::test]
async fn change_events_become_upserts_and_deletes_on_sqlite() {
    let dir = folder("cdc-sqlite");
    cdc_applies_changes_once_per_file(Connection::Sqlite { path: "target.db".into() }, Secrets::default(), &dir).await;
    let pool = sqlite(&dir).await;
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(PLAYERS).fetch_all(&pool).await.unwrap();
    assert_eq!(
        rows,
        [(1, "ari".to_owned(), 5), (3, "cy".to_owned(), 11)],
        "2 deleted; 3's bad update skipped, the next applied"
    );
}

#[tokio::test]
async fn change_events_become_upserts_and_deletes_on_postgres() {
    let Ok(admin) = std::env::var("MCMS_TEST_POSTGRES_URL") else {
        assert!(std::env::var("MCMS_REQUIRE_POSTGRES").is_err(), "MCMS_REQUIRE_POSTGRES is set but no URL");
        return;
    };
    let name = format!("mcms_watch_{}", std::process::id());
    let admin_pool = sqlx::PgPool::connect(&admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&admin_pool).await;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin_pool).await.unwrap();
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("{admin} has no database name"),
    };
    let dir = folder("cdc-postgres");
    let secrets = Secrets::default().with("WATCH_PG", &url);
    cdc_applies_changes_once_per_file(Connection::Postgres { url_env: "WATCH_PG".into() }, secrets, &dir).await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(PLAYERS).fetch_all(&pool).await.unwrap();
    assert_eq!(rows, [(1, "ari".to_owned(), 5), (3, "cy".to_owned(), 11)]);
    pool.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin_pool).await;
}

#[tokio::test]
async fn a_watch_over_an_s3_prefix_loads_each_object_once() {
    let Ok(endpoint) = std::env::var("MCMS_TEST_S3_ENDPOINT") else {
        assert_ne!(std::env::var("MCMS_REQUIRE_S3").as_deref(), Ok("1"), "MCMS_TEST_S3_ENDPOINT is not set");
        eprintln!("skipped: no S3-compatible server (set MCMS_TEST_S3_ENDPOINT)");
        return;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let bucket = format!("mcms-watch-{}-{nanos}", std::process::id());
    let client = reqwest::Client::new();
    assert!(client.put(format!("{endpoint}/{bucket}")).send().await.unwrap().status().is_success());
    let put = |key: &str, body: Vec<u8>| {
        let request = client.put(format!("{endpoint}/{bucket}/{key}")).body(body);
        let key = key.to_owned();
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            assert!(status.is_success(), "{key}: {status}: {}", response.text().await.unwrap_or_default());
        }
    };
    put("drop/a.parquet", super::super::tests::players_parquet(100, false)).await;
    put("drop/notes.txt", b"not matched".to_vec()).await;
    let secrets = Secrets::default()
        .with("AWS_ENDPOINT_URL", &endpoint)
        .with("AWS_ACCESS_KEY_ID", "testing")
        .with("AWS_SECRET_ACCESS_KEY", "testing");
    let dir = folder("s3");
    let spec = WatchSpec {
        name: "drops".into(),
        location: format!("s3://{bucket}/drop/*.parquet"),
        connection: Connection::Sqlite { path: "target.db".into() },
        table: "players".into(),
        mode: WatchMode::Append { format: None },
    };
    let mut watch = Watcher::open(spec, &secrets, &dir).await.unwrap();
    let loads = watch.poll().await.unwrap();
    assert_eq!(summary(&loads), [("a.parquet".to_owned(), Outcome::Loaded, 100)]);
    assert!(!loads[0].etag.is_empty());
    assert!(watch.poll().await.unwrap().is_empty());
    // (The test server refuses to overwrite a key, so a rewritten file's new ETag is tested on
    // the domain's `pending`.) A new file arrives:
    put("drop/b.parquet", super::super::tests::players_parquet(7, false)).await;
    assert_eq!(summary(&watch.poll().await.unwrap()), [("b.parquet".to_owned(), Outcome::Loaded, 7)]);
    let pool = sqlite(&dir).await;
    let count: i64 = sqlx::query("SELECT count(*) FROM players").fetch_one(&pool).await.unwrap().get(0);
    assert_eq!(count, 107);
}
