//! Inference over real files: a local folder (CSV plain and gzip, JSON Lines, Parquet written by
//! Arrow, a truncated Parquet file) and the same on the S3-compatible server the test command
//! starts (`MCMS_TEST_S3_ENDPOINT`).

use super::*;
use datafusion::arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray, TimestampMillisecondArray};
use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
use domain::ingest::Problem;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcms-ingest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A Parquet file of `rows` players (with a `country` column when `country`).
pub(crate) fn players_parquet(rows: i32, country: bool) -> Vec<u8> {
    let mut fields = vec![
        Field::new("player_id", DataType::Utf8, false),
        Field::new("level", DataType::Int32, true),
        Field::new("seen_at", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("p-{i}")))),
        Arc::new(Int32Array::from_iter_values(0..rows)),
        Arc::new(TimestampMillisecondArray::from_iter_values((0..rows).map(i64::from)).with_timezone("UTC")),
    ];
    if country {
        fields.push(Field::new("country", DataType::Utf8, true));
        columns.push(Arc::new(StringArray::from_iter_values((0..rows).map(|_| "KR"))));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    out
}

fn types(inferred: &Inferred) -> Vec<(&str, ColumnType, bool)> {
    inferred.columns.iter().map(|c| (c.name.as_str(), c.ty, c.nullable)).collect()
}

#[tokio::test]
async fn csv_files_plain_and_gzip_in_a_folder_by_glob() {
    let dir = folder("csv");
    std::fs::write(dir.join("a.csv"), "id,amount,day\n1,10.5,2026-12-01\n2,3,2026-12-02\n").unwrap();
    std::fs::write(dir.join("b.csv.gz"), gzip(b"id,amount,day\n3,,2026-12-03\n")).unwrap();
    std::fs::write(dir.join("notes.txt.bak"), "ignored").unwrap();
    std::fs::write(dir.join(".c.csv.partial"), "ignored").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/d.csv"), "id\n4\n").unwrap();

    let location = format!("{}/*.csv*", dir.display());
    let inferred = infer(&location, &Secrets::default(), &InferOptions::default()).await.unwrap();
    let names: Vec<&str> = inferred.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.csv", "b.csv.gz"], "`*` stays in the folder; hidden files are left out");
    assert_eq!(inferred.files[1].compression, Compression::Gzip);
    assert_eq!(
        types(&inferred),
        [("id", ColumnType::Integer, false), ("amount", ColumnType::Decimal, true), ("day", ColumnType::Date, false)]
    );
    assert!(inferred.problems.is_empty(), "{:?}", inferred.problems);

    // `**` crosses folders; a folder alone means every file under it.
    let all = infer(&format!("{}/**/*.csv", dir.display()), &Secrets::default(), &InferOptions::default()).await;
    assert_eq!(all.unwrap().files.len(), 2, "a.csv and sub/d.csv");
    let bad = infer(&dir.join("nope").display().to_string(), &Secrets::default(), &InferOptions::default()).await;
    assert!(bad.unwrap_err().0.ends_with("nope: no such file or folder"));
    let none = infer(&format!("{}/*.parquet", dir.display()), &Secrets::default(), &InferOptions::default()).await;
    assert!(none.unwrap_err().0.starts_with("no files match"));
}

#[tokio::test]
async fn a_sample_is_bounded_and_a_gzip_file_that_is_not_gzip_is_named() {
    let dir = folder("bounded");
    let mut big = String::from("n,text\n");
    let mut i = 0;
    while big.len() < SAMPLE_BYTES * 3 {
        big.push_str(&format!("{i},row number {i}\n"));
        i += 1;
    }
    std::fs::write(dir.join("big.csv"), &big).unwrap();
    std::fs::write(dir.join("broken.csv.gz"), "n,text\n1,a\n").unwrap();
    let inferred = infer(&format!("{}/*", dir.display()), &Secrets::default(), &InferOptions::default()).await.unwrap();
    let big = &inferred.files[0];
    assert!(big.sampled && big.rows == SAMPLE_ROWS as u64, "{big:?}");
    assert!(matches!(&inferred.problems[..], [Problem::Unreadable { file, reason }]
        if file == "broken.csv.gz" && reason.starts_with("not gzip data")));
    assert_eq!(types(&inferred)[0], ("n", ColumnType::Integer, false));
}

#[tokio::test]
async fn parquet_footers_give_columns_and_row_counts_and_a_truncated_file_is_named() {
    let dir = folder("parquet");
    std::fs::write(dir.join("part-0.parquet"), players_parquet(100, true)).unwrap();
    std::fs::write(dir.join("part-1.parquet"), players_parquet(50, false)).unwrap();
    let whole = players_parquet(10, true);
    std::fs::write(dir.join("part-2.parquet"), &whole[..whole.len() - 20]).unwrap();
    std::fs::write(dir.join("part-3.parquet"), b"PAR1").unwrap();

    let inferred = infer(&dir.display().to_string(), &Secrets::default(), &InferOptions::default()).await.unwrap();
    assert_eq!(inferred.format, Format::Parquet);
    assert_eq!(
        types(&inferred),
        [
            ("player_id", ColumnType::Text, false),
            ("level", ColumnType::Integer, true),
            ("seen_at", ColumnType::TimestampTz, false),
            ("country", ColumnType::Text, true),
        ]
    );
    let rows: Vec<u64> = inferred.files.iter().map(|f| f.rows).collect();
    assert_eq!(rows, [100, 50, 0, 0]);
    let shown: Vec<String> = inferred.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "part-2.parquet: no Parquet footer at the end (truncated, or not Parquet)",
            "part-3.parquet: 4 bytes: too short for Parquet",
            "column country is missing from 1 of 2 files: part-1.parquet",
        ]
    );
}

#[tokio::test]
async fn json_lines_among_csv_files_are_named_not_mixed_in() {
    let dir = folder("mixed");
    std::fs::write(dir.join("a.jsonl"), "{\"id\": 1}\n{\"id\": 2, \"x\": \"2026-12-05\"}\n").unwrap();
    std::fs::write(dir.join("b.csv"), "id\n1\n").unwrap();
    let inferred = infer(&dir.display().to_string(), &Secrets::default(), &InferOptions::default()).await.unwrap();
    assert_eq!(inferred.format, Format::JsonLines);
    assert_eq!(types(&inferred), [("id", ColumnType::Integer, false), ("x", ColumnType::Date, true)]);
    assert_eq!(inferred.problems[0].to_string(), "b.csv: a csv file among jsonlines files; infer them apart");
}

#[tokio::test]
async fn the_same_files_in_an_s3_bucket() {
    let Ok(endpoint) = std::env::var("MCMS_TEST_S3_ENDPOINT") else {
        assert_ne!(std::env::var("MCMS_REQUIRE_S3").as_deref(), Ok("1"), "MCMS_TEST_S3_ENDPOINT is not set");
        eprintln!("skipped: no S3-compatible server (set MCMS_TEST_S3_ENDPOINT)");
        return;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let bucket = format!("mcms-ingest-{}-{nanos}", std::process::id());
    let client = reqwest::Client::new();
    assert!(client.put(format!("{endpoint}/{bucket}")).send().await.unwrap().status().is_success());
    for (key, body) in [
        ("lake/players/part-0.parquet", players_parquet(100, true)),
        ("lake/players/part-1.parquet", players_parquet(50, true)),
        ("lake/other/x.parquet", players_parquet(1, false)),
    ] {
        let put = client.put(format!("{endpoint}/{bucket}/{key}")).body(body).send().await.unwrap();
        assert!(put.status().is_success());
    }
    let secrets = Secrets::default()
        .with("AWS_ENDPOINT_URL", &endpoint)
        .with("AWS_ACCESS_KEY_ID", "testing")
        .with("AWS_SECRET_ACCESS_KEY", "testing");
    for location in [format!("s3://{bucket}/lake/players/"), format!("s3://{bucket}/lake/players/*.parquet")] {
        let inferred = infer(&location, &secrets, &InferOptions::default()).await.unwrap();
        let names: Vec<(&str, u64)> = inferred.files.iter().map(|f| (f.name.as_str(), f.rows)).collect();
        assert_eq!(names, [("part-0.parquet", 100), ("part-1.parquet", 50)], "{location}");
        assert!(inferred.files.iter().all(|f| f.compression == Compression::None), "ArrowWriter's default");
        assert_eq!(inferred.columns.len(), 4);
        assert!(inferred.problems.is_empty(), "{:?}", inferred.problems);
    }
    let one = infer(&format!("s3://{bucket}/lake/players/part-1.parquet"), &secrets, &InferOptions::default()).await;
    let one: Vec<String> = one.unwrap().files.into_iter().map(|f| f.name).collect();
    assert_eq!(one, ["part-1.parquet"], "a key with a file extension is one file");
    let missing = infer(&format!("s3://{bucket}/nothing/*.csv"), &secrets, &InferOptions::default()).await;
    assert!(missing.unwrap_err().0.starts_with("no files match"));

    // A split into the bucket: the planned files under the prefix, read back whole.
    let (files, pattern) = Files::open(&format!("s3://{bucket}/lake/players/"), &secrets).unwrap();
    let found = files.list(&pattern).await.unwrap();
    let inferred = infer_found(&files, found.clone(), FormatKind::Parquet, &InferOptions::default()).await;
    let layout = domain::ingest::plan::Layout {
        files: 2,
        ..domain::ingest::plan::layout(1 << 20, domain::ingest::plan::LayoutFormat::Csv, 2)
    };
    let out = format!("s3://{bucket}/rewritten/players/");
    let done = split::rewrite_to(&files, &found, &inferred, &layout, &out, &secrets).await.unwrap();
    assert_eq!(done.rows, 150);
    let back = infer(&out, &secrets, &InferOptions::default()).await.unwrap();
    let names: Vec<&str> = back.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["part-00000.csv.gz", "part-00001.csv.gz"]);
    assert_eq!(back.files.iter().map(|f| f.rows).sum::<u64>(), 150);
    let nowhere = split::rewrite_to(&files, &found, &inferred, &layout, "s3:///x", &secrets).await;
    assert_eq!(nowhere.unwrap_err().0, "s3:///x: no bucket name");
}

async fn count_parquet_rows(dir: &std::path::Path) -> usize {
    let ctx = datafusion::prelude::SessionContext::new();
    let df = ctx
        .read_parquet(dir.to_string_lossy().as_ref(), datafusion::prelude::ParquetReadOptions::default())
        .await
        .unwrap();
    df.count().await.unwrap()
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_split_rewrites_gzip_and_cp949_csv_into_the_planned_parquet_files() {
    let dir = folder("split-in");
    let mut sheet = String::from("게임,level,spend\n");
    for i in 0..20_000 {
        sheet.push_str(&format!("스타폴,{},{}.5\n", i % 90 + 1, i));
    }
    let (cp949, _, _) = encoding_rs::EUC_KR.encode(&sheet);
    std::fs::write(dir.join("a.csv.gz"), gzip(&cp949)).unwrap();
    std::fs::write(dir.join("b.csv"), &*cp949).unwrap();
    let (files, pattern) = Files::open(&dir.display().to_string(), &Secrets::default()).unwrap();
    let found = files.list(&pattern).await.unwrap();
    let inferred = infer_found(&files, found.clone(), FormatKind::Csv, &InferOptions::default()).await;
    assert!(inferred.problems.is_empty(), "{:?}", inferred.problems);
    let out = folder("split-out");
    std::fs::write(out.join("keep.txt"), "other files stay").unwrap();
    let layout = domain::ingest::plan::layout(1 << 20, domain::ingest::plan::LayoutFormat::Parquet, 4);
    assert_eq!(layout.files, 1);
    let layout = domain::ingest::plan::Layout { files: 4, ..layout };

    let done = split::rewrite(&files, &found, &inferred, &layout, &out).await.unwrap();
    assert_eq!(done.rows, 40_000);
    assert!(inferred.files.iter().all(|f| f.sampled && f.rows == SAMPLE_ROWS as u64), "{:?}", inferred.files);
    assert_eq!(done.bytes_in, found.iter().map(|f| f.bytes).sum::<u64>());
    let names: Vec<&str> = done.files.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "part-00003.parquet"]);
    assert_eq!(
        entries(&out),
        ["keep.txt", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "part-00003.parquet"],
        "nothing staged is left behind"
    );
    std::fs::remove_file(out.join("keep.txt")).unwrap();
    assert_eq!(count_parquet_rows(&out).await, 40_000);
    let again = infer(&out.display().to_string(), &Secrets::default(), &InferOptions::default()).await.unwrap();
    assert_eq!(
        types(&again),
        [("게임", ColumnType::Text, true), ("level", ColumnType::Integer, true), ("spend", ColumnType::Decimal, true)]
    );
}

#[tokio::test]
async fn a_value_that_does_not_fit_stops_the_split_and_nothing_is_written() {
    let dir = folder("split-bad");
    let mut sheet = String::from("id,amount\n");
    for i in 0..100 {
        sheet.push_str(&format!("{i},{}\n", if i == 60 { "N/A".to_owned() } else { i.to_string() }));
    }
    std::fs::write(dir.join("a.csv"), &sheet).unwrap();
    let (files, pattern) = Files::open(&dir.display().to_string(), &Secrets::default()).unwrap();
    let found = files.list(&pattern).await.unwrap();
    let inferred = infer_found(&files, found.clone(), FormatKind::Csv, &InferOptions::default()).await;
    assert_eq!(inferred.problems.len(), 1, "{:?}", inferred.problems);
    let out = folder("split-bad-out");
    let layout = domain::ingest::plan::layout(1 << 20, domain::ingest::plan::LayoutFormat::Csv, 1);
    let error = split::rewrite(&files, &found, &inferred, &layout, &out).await.unwrap_err();
    assert!(error.0.contains("N/A"), "{}", error.0);
    assert!(entries(&out).is_empty(), "{:?}", entries(&out));
}

#[tokio::test]
async fn a_split_to_gzip_csv_reads_back_the_same_rows() {
    let dir = folder("split-csv");
    std::fs::write(
        dir.join("e.jsonl"),
        (0..500).map(|i| format!("{{\"id\": {i}, \"name\": \"n{i}\"}}\n")).collect::<String>(),
    )
    .unwrap();
    let (files, pattern) = Files::open(&dir.display().to_string(), &Secrets::default()).unwrap();
    let found = files.list(&pattern).await.unwrap();
    let inferred = infer_found(&files, found.clone(), FormatKind::JsonLines, &InferOptions::default()).await;
    let out = folder("split-csv-out");
    let layout = domain::ingest::plan::Layout {
        files: 2,
        ..domain::ingest::plan::layout(1 << 20, domain::ingest::plan::LayoutFormat::Csv, 2)
    };
    let done = split::rewrite(&files, &found, &inferred, &layout, &out).await.unwrap();
    let rows: Vec<u64> = done.files.iter().map(|w| w.rows).collect();
    assert_eq!(rows, [250, 250], "the whole file was read, so its rows are shared evenly");
    let text = decompress_all(&std::fs::read(out.join("part-00000.csv.gz")).unwrap(), Compression::Gzip).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(text.lines().next(), Some("id,name"));
    assert_eq!(text.lines().count(), 251);
    assert_eq!(
        split::trial_ratio(&files, &found, &inferred, domain::ingest::plan::LayoutFormat::Csv).await.map(|r| r < 1.0),
        Some(true)
    );
}
