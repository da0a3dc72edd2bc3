//! The same pipeline on Apache Ballista (its standalone mode: a scheduler and an executor in
//! this process, the plans sent over gRPC and the rows back over Arrow Flight) and embedded,
//! with the same results.

use super::*;

/// Three agency files of 4,000 rows: a thousand ids repeated across files (the dedupe keeps one
/// of each), blanks to trim, amounts that do not convert (dropped), five games and four channels.
fn agency_files(f: &Folder) {
    let channels = ["GOOGLE_ADS", "META_ADS", "TIKTOK", "APPLE_SEARCH"];
    for file in 0..3u32 {
        let mut text = String::from("id,day,game,channel,amount\n");
        for r in 0..4_000u32 {
            // Ids 0..999 appear in every file, the same row each time.
            let id = if r < 1_000 { r } else { 1_000 + file * 3_000 + r };
            let game = ["STARFALL", "MOONRISE", " SKYHOLD ", "EMBERFALL", "TIDEBOUND"][(id % 5) as usize];
            let amount = if id % 97 == 0 { "n/a".to_owned() } else { format!("{}.{:02}", id % 1_000, id % 100) };
            let day = 1 + id % 28;
            text.push_str(&format!("{id},2026-11-{day:02},{game},{},{amount}\n", channels[(id % 4) as usize]));
        }
        f.write(&format!("in/agency-{file}.csv"), &text);
    }
    f.write(
        "in/games.csv",
        "game,studio\nSTARFALL,Seoul\nMOONRISE,Busan\nSKYHOLD,Seoul\nEMBERFALL,Daegu\nTIDEBOUND,Busan\n",
    );
}

const SPREAD: &str = r#"version: 1
connections:
  files: { kind: folder, path: . }
  out: { kind: sqlite, path: out.db }
steps:
  - name: agency
    source: { files: { connection: files, glob: "in/agency-*.csv", format: csv } }
  - name: games
    source: { files: { connection: files, glob: "in/games.csv", format: csv } }
  - name: cleaned
    clean:
      input: agency
      trim: ["*"]
      cast: { amount: { to: decimal, on_error: drop } }
      dedupe: [id]
      filter: "amount > 0"
  - name: studios
    transform:
      sql: >
        SELECT c.day, c.game, g.studio, c.channel, c.amount
        FROM cleaned c JOIN games g ON c.game = g.game
  - name: spend
    aggregate:
      input: studios
      group_by: [studio, game, channel]
      sum: [amount]
      count: entries
      min: [day]
      distinct: [day]
  - name: sane
    check:
      input: spend
      row_count: { min: 20, max: 20 }
      unique: [game, channel]
      not_null: [studio]
      references: [{ column: game, step: games, step_column: game }]
  - name: by_channel
    sink: { files: { input: sane, connection: files, path: out/spend, format: parquet, partition_by: [channel] } }
  - name: table
    sink: { table: { input: sane, connection: out, table: spend, mode: upsert, keys: [game, channel] } }
"#;

async fn table_rows(path: &Path) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT studio || ' ' || game || ' ' || channel || ' ' || amount || ' ' || entries || ' ' || min_day \
         || ' ' || distinct_day FROM spend ORDER BY game, channel",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter().map(|(r,)| r).collect()
}

/// The rows under `dir`, with the partition column its folders' names give.
async fn parquet_rows(dir: &Path) -> Vec<String> {
    let ctx = SessionContext::new();
    let options =
        ParquetReadOptions::default().table_partition_cols(vec![("channel".into(), arrow::datatypes::DataType::Utf8)]);
    ctx.register_parquet("out", dir.to_string_lossy().as_ref(), options).await.unwrap();
    let query = "SELECT concat_ws(' ', studio, game, channel, amount, entries, min_day, distinct_day) FROM out \
                 ORDER BY game, channel";
    let batches = ctx.sql(query).await.unwrap().collect().await.unwrap();
    let value = arrow::util::display::array_value_to_string;
    batches.iter().flat_map(|b| (0..b.num_rows()).map(|r| value(b.column(0), r).unwrap())).collect()
}

/// What a run made: each step's rows in and out, the Parquet files' rows (with the partition
/// column the folder names give back) and the table's.
async fn outcome(f: &Folder, engine: Engine) -> (Vec<(String, &'static str, u64, u64)>, Vec<String>, Vec<String>) {
    let settings = Settings { engine, ..f.settings() };
    let run = run(SPREAD, &BTreeMap::new(), &settings, &Outside).await.unwrap();
    let steps = run.steps.iter().map(|s| (s.name.clone(), s.kind, s.rows_in, s.rows)).collect();
    let files = parquet_rows(&f.0.join("out/spend")).await;
    (steps, files, table_rows(&f.0.join("out.db")).await)
}

#[tokio::test]
async fn a_pipeline_on_ballista_standalone_gives_what_it_gives_embedded() {
    let (here, there) = (Folder::new("embedded"), Folder::new("ballista"));
    agency_files(&here);
    agency_files(&there);

    let embedded = outcome(&here, Engine::Embedded).await;
    let ballista = outcome(&there, Engine::Standalone).await;
    assert_eq!(ballista.0, embedded.0, "each step's rows");
    assert_eq!(ballista.1, embedded.1, "the Parquet files' rows");
    assert_eq!(ballista.2, embedded.2, "the table's rows");

    // What the pipeline should make, whichever engine: 10,000 distinct ids of 12,000 rows, those
    // whose amount is `n/a` or 0 left out, then 20 (game, channel) pairs.
    let counts: Vec<_> = embedded.0.iter().map(|(name, _, _, rows)| (name.as_str(), *rows)).collect();
    assert_eq!(&counts[..3], [("agency", 12_000), ("cleaned", 9_887), ("games", 5)]);
    assert_eq!(embedded.1.len(), 20);
    assert_eq!(embedded.2.len(), 20);
    assert!(embedded.1[0].starts_with("Daegu EMBERFALL APPLE_SEARCH "), "{:?}", embedded.1[0]);

    // A second run on the same cluster (it is started once per process) replaces the output.
    let again = outcome(&there, Engine::Standalone).await;
    assert_eq!(again, ballista);
    assert_eq!(there.entries("out/spend").len(), 4, "one folder per channel, nothing temporary left");
}

#[tokio::test]
async fn a_scheduler_that_does_not_answer_fails_the_first_step_and_writes_nothing() {
    let f = Folder::new("no-scheduler");
    agency_files(&f);
    // Nothing listens on port 9 (discard) here: the plan cannot be handed over.
    let settings = Settings { engine: "df://127.0.0.1:9".parse().unwrap(), ..f.settings() };
    let error = run(SPREAD, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert!(matches!(&error, RunError::Step { step, .. } if step == "agency"), "{error}");
    assert_eq!(f.entries("out"), Vec::<String>::new(), "nothing written");
    assert!(!f.0.join("out.db").exists());
}

#[test]
fn engines_are_named_embedded_standalone_or_by_their_scheduler() {
    assert_eq!("".parse(), Ok(Engine::Embedded));
    assert_eq!("embedded".parse(), Ok(Engine::Embedded));
    assert_eq!("standalone".parse(), Ok(Engine::Standalone));
    assert_eq!("df://scheduler".parse(), Ok(Engine::Ballista("http://scheduler:50050".into())));
    assert_eq!("df://10.0.0.7:50051".parse(), Ok(Engine::Ballista("http://10.0.0.7:50051".into())));
    let wrong = "http://scheduler:50050".parse::<Engine>().unwrap_err();
    assert!(wrong.contains("df://HOST:PORT"), "{wrong}");
    assert!("df://".parse::<Engine>().is_err());
}
