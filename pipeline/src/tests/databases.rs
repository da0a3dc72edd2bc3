//! Database sources and table sinks on a real SQLite file and a real PostgreSQL database.

use super::*;
use store::testing::TestDb;

/// Campaign costs in a database: read, summed per day and game, checked, written to a table.
fn pipeline(source: &str, sink: &str, mode: &str) -> String {
    format!(
        r#"version: 1
connections:
  source: {source}
  sink: {sink}
steps:
  - name: costs
    source: {{ database: {{ connection: source, query: "SELECT day, game, amount, paid FROM spend" }} }}
  - name: daily
    aggregate: {{ input: costs, group_by: [day, game], sum: [amount], count: entries }}
  - name: sane
    check: {{ input: daily, accepted: {{ game: [STARFALL, MOONRISE] }} }}
  - name: store
    sink: {{ table: {{ input: sane, connection: sink, table: daily_spend, mode: {mode}, keys: [day, game] }} }}
"#
    )
}

async fn sqlite_rows(path: &Path, query: &str) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(query).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.into_iter().map(|(r,)| r).collect()
}

async fn sqlite_spend(path: &Path, rows: &str) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    sqlx::raw_sql(&format!(
        "CREATE TABLE IF NOT EXISTS spend (day TEXT, game TEXT, amount INTEGER, paid INTEGER); DELETE FROM spend; \
         INSERT INTO spend VALUES {rows}"
    ))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn sqlite_to_sqlite_appends_replaces_partitions_and_upserts_in_one_transaction() {
    let f = Folder::new("sqlite");
    let (source, out) = (f.0.join("source.db"), f.0.join("out.db"));
    sqlite_spend(
        &source,
        "('2026-11-01', 'STARFALL', 1000, 1), ('2026-11-01', 'STARFALL', 500, 0), ('2026-11-02', 'MOONRISE', 250, 1)",
    )
    .await;
    let db = |path: &str| format!("{{ kind: sqlite, path: {path} }}");
    let daily = "SELECT day || ' ' || game || ' ' || amount || ' ' || entries FROM daily_spend ORDER BY day, game";

    // Append twice: the rows are there twice (as asked).
    let text = pipeline(&db("source.db"), &db("out.db"), "append");
    for _ in 0..2 {
        let run = run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
        assert_eq!(run.steps.last().map(|s| (s.rows, s.wrote.clone())), Some((2, Some("table daily_spend".into()))));
    }
    assert_eq!(sqlite_rows(&out, daily).await.len(), 4);

    // Replace the partitions (days) this run's rows name: re-running adds no duplicates.
    std::fs::remove_file(&out).unwrap();
    let text =
        pipeline(&db("source.db"), &db("out.db"), "replace_partition").replace("keys: [day, game]", "keys: [day]");
    run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    sqlite_spend(&source, "('2026-11-02', 'MOONRISE', 300, 1), ('2026-11-02', 'STARFALL', 70, 1)").await;
    run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(
        sqlite_rows(&out, daily).await,
        ["2026-11-01 STARFALL 1500 2", "2026-11-02 MOONRISE 300 1", "2026-11-02 STARFALL 70 1"]
    );

    // Upsert on (day, game): changed sums replace, new keys are added.
    std::fs::remove_file(&out).unwrap();
    let text = pipeline(&db("source.db"), &db("out.db"), "upsert");
    run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    sqlite_spend(&source, "('2026-11-02', 'MOONRISE', 999, 1), ('2026-11-03', 'MOONRISE', 1, 1)").await;
    run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap();
    assert_eq!(
        sqlite_rows(&out, daily).await,
        ["2026-11-02 MOONRISE 999 1", "2026-11-02 STARFALL 70 1", "2026-11-03 MOONRISE 1 1"]
    );

    // A check that fails leaves the table as it was; a second sink that fails rolls the first back.
    sqlite_spend(&source, "('2026-11-04', 'SKYFALL', 5, 1)").await;
    let error = run(&text, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "step `sane`: column `game` has 1 value(s) outside those accepted, for example `SKYFALL`"
    );
    sqlite_spend(&source, "('2026-11-04', 'MOONRISE', 5, 1)").await;
    let two = format!(
        "{text}  - name: files\n    sink: {{ files: {{ input: sane, connection: here, path: ../out, format: csv }} }}\n"
    )
    .replace("connections:\n", "connections:\n  here: { kind: folder, path: . }\n");
    let error = run(&two, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert_eq!(error.to_string(), "step `files`: `../out` leaves the connection's folder: give a path inside it");
    assert_eq!(sqlite_rows(&out, daily).await.len(), 3, "the table sink's transaction was rolled back");

    // A database file that does not exist is not made by a source, and the step says so.
    let missing = pipeline(&db("nowhere.db"), &db("out.db"), "append");
    let error = run(&missing, &BTreeMap::new(), &f.settings(), &Outside).await.unwrap_err();
    assert!(error.to_string().starts_with("step `costs`: cannot open the database"), "{error}");
    assert!(!f.0.join("nowhere.db").exists());
}

#[tokio::test]
async fn postgres_columns_keep_their_types_and_a_table_is_written_whole_or_not_at_all() {
    let Some(test) = TestDb::postgres().await else { return };
    let f = Folder::new("postgres");
    let store::Db::Postgres(pool) = &test.db else { unreachable!("a PostgreSQL database") };
    sqlx::raw_sql(
        "CREATE TABLE spend (day DATE, game TEXT, amount NUMERIC(12, 2), paid BOOLEAN, at TIMESTAMPTZ, memo TEXT);
         INSERT INTO spend VALUES ('2026-11-01', 'STARFALL', 1000.50, true, '2026-11-01 09:00+09', ''),
                                  ('2026-11-01', 'STARFALL', 0.25, false, NULL, NULL),
                                  ('2026-11-02', 'MOONRISE', 250, true, '2026-11-02 00:00+00', 'a \"quoted\", memo')",
    )
    .execute(pool)
    .await
    .unwrap();
    let settings = Settings { secrets: Secrets::default().with("TEST_PG_URL", &test.url), ..f.settings() };
    let pg = "{ kind: postgres, url_env: TEST_PG_URL }";

    // Every column, types kept: a copy of the table through the pipeline.
    let copy = format!(
        "version: 1\nconnections:\n  pg: {pg}\nsteps:\n  - name: rows\n    source: {{ database: {{ connection: pg, table: spend }} }}\n  \
         - name: store\n    sink: {{ table: {{ input: rows, connection: pg, table: spend_copy }} }}\n"
    );
    let run_copy = run(&copy, &BTreeMap::new(), &settings, &Outside).await.unwrap();
    assert_eq!(run_copy.steps[1].rows, 3);
    let copied: Vec<(String,)> = sqlx::query_as(
        "SELECT concat_ws('|', day, game, amount, paid, at, memo IS NULL, memo) FROM spend_copy ORDER BY day, amount",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let copied: Vec<String> = copied.into_iter().map(|(r,)| r).collect();
    assert_eq!(
        copied,
        [
            // concat_ws leaves empty cells out: the NULL memo stayed NULL, the empty one empty.
            "2026-11-01|STARFALL|0.25|f|t",
            "2026-11-01|STARFALL|1000.50|t|2026-11-01 00:00:00+00|f|",
            "2026-11-02|MOONRISE|250.00|t|2026-11-02 00:00:00+00|f|a \"quoted\", memo"
        ]
    );
    let types: Vec<(String,)> = sqlx::query_as(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'spend_copy' ORDER BY ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let types: Vec<&str> = types.iter().map(|(t,)| t.as_str()).collect();
    assert_eq!(types, ["date", "text", "numeric", "boolean", "timestamp with time zone", "text"]);

    // Upsert on PostgreSQL; then a failing check leaves the table untouched.
    let text = pipeline(pg, pg, "upsert");
    run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap();
    run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap();
    let daily = "SELECT concat_ws(' ', day, game, amount, entries) FROM daily_spend ORDER BY day, game";
    let rows: Vec<(String,)> = sqlx::query_as(daily).fetch_all(pool).await.unwrap();
    assert_eq!(
        rows.into_iter().map(|(r,)| r).collect::<Vec<_>>(),
        ["2026-11-01 STARFALL 1000.75 2", "2026-11-02 MOONRISE 250.00 1"]
    );

    // A source query may not write: it runs in a read-only transaction, one statement.
    let writing = text
        .replace("SELECT day, game, amount, paid FROM spend", "DELETE FROM spend RETURNING day, game, amount, paid");
    let error = run(&writing, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert!(error.to_string().contains("read-only transaction"), "{error}");
    let two = text.replace("FROM spend\"", "FROM spend; DELETE FROM spend\"");
    let error = run(&two, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert!(error.to_string().starts_with("step `costs`: the query failed"), "{error}");
    let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM spend").fetch_one(pool).await.unwrap();
    assert_eq!(left, 3);

    // A URL that is not set, or a server that is down, fails the step with the reason.
    let unset = text.replace("TEST_PG_URL", "TEST_PG_URL_UNSET");
    let error = run(&unset, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "step `costs`: the environment variable `TEST_PG_URL_UNSET` (the connection's URL) is not set"
    );
    let down = Settings {
        secrets: Secrets::default().with("TEST_PG_URL", "postgres://nobody:secret@127.0.0.1:9/x"),
        ..f.settings()
    };
    let error = run(&text, &BTreeMap::new(), &down, &Outside).await.unwrap_err();
    assert!(error.to_string().starts_with("step `costs`: cannot open the database"), "{error}");
    assert!(!error.to_string().contains("secret"), "the password is not repeated: {error}");
    test.finish().await;
}
