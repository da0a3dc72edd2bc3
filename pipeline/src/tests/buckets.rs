//! File sources and sinks on a real S3-compatible server: the one at `MCMS_TEST_S3_ENDPOINT`
//! (the test command starts moto's server). Without it these tests are skipped with a printed
//! reason, unless `MCMS_REQUIRE_S3=1` (the test command sets it), which makes that a failure.

use super::*;
use futures_util::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};

/// The server's URL, or `None` (said) when there is none and none is required.
fn endpoint() -> Option<String> {
    match std::env::var("MCMS_TEST_S3_ENDPOINT") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("MCMS_REQUIRE_S3").as_deref() == Ok("1") => {
            panic!("MCMS_REQUIRE_S3=1 but MCMS_TEST_S3_ENDPOINT is not set")
        }
        Err(_) => {
            eprintln!("skipped: no S3-compatible server (set MCMS_TEST_S3_ENDPOINT)");
            None
        }
    }
}

/// A new, empty bucket on the server, and a client for it.
async fn new_bucket(endpoint: &str, name: &str) -> (String, objects::Bucket) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let bucket = format!("mcms-{name}-{}-{nanos}", std::process::id());
    let made = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(made.status().is_success(), "creating the bucket: {}", made.status());
    let connection = Connection::S3 {
        bucket: bucket.clone(),
        prefix: String::new(),
        region: None,
        endpoint_env: Some("S3_URL".into()),
        access_key_id_env: None,
        secret_access_key_env: None,
    };
    let client = objects::bucket(&connection, &secrets(endpoint), "test").unwrap();
    (bucket, client)
}

fn secrets(endpoint: &str) -> Secrets {
    Secrets::default()
        .with("S3_URL", endpoint)
        .with("AWS_ACCESS_KEY_ID", "testing")
        .with("AWS_SECRET_ACCESS_KEY", "testing")
}

fn settings(f: &Folder, endpoint: &str) -> Settings {
    Settings { secrets: secrets(endpoint), ..f.settings() }
}

/// The agency pipeline with its files in `bucket` under `lake/` instead of a folder.
fn in_bucket(bucket: &str) -> String {
    PIPELINE.replace(
        "files: { kind: folder, path: . }",
        &format!("files: {{ kind: s3, bucket: {bucket}, prefix: lake, endpoint_env: S3_URL }}"),
    )
}

async fn keys(bucket: &objects::Bucket) -> Vec<String> {
    let mut keys: Vec<String> = bucket.store.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    keys.sort();
    keys
}

#[tokio::test]
async fn csv_files_in_a_bucket_become_parquet_in_the_bucket_published_whole() {
    let Some(endpoint) = endpoint() else { return };
    let (name, bucket) = new_bucket(&endpoint, "agency").await;
    bucket.store.put(&"lake/in/agency.csv".into(), AGENCY.into()).await.unwrap();
    let f = Folder::new("bucket");
    let text = in_bucket(&name);

    let run = run(&text, &BTreeMap::new(), &settings(&f, &endpoint), &Outside).await.unwrap();
    let summary: Vec<(&str, u64)> = run.steps.iter().map(|s| (s.name.as_str(), s.rows)).collect();
    assert_eq!(summary, [("agency", 4), ("cleaned", 4), ("daily", 2), ("sane", 2), ("store", 2)]);
    assert_eq!(run.steps[4].wrote.as_deref(), Some(format!("s3://{name}/lake/out/month=2026-11").as_str()));
    let written = keys(&bucket).await;
    assert_eq!(written.len(), 2, "the source and one Parquet file, nothing temporary: {written:?}");
    assert!(written[1].starts_with("lake/out/month=2026-11/") && written[1].ends_with(".parquet"), "{written:?}");

    // Read back from the bucket, as a later step or another pipeline would.
    let reader =
        text.replace("glob: \"in/*.csv\", format: csv", "glob: \"out/month=2026-11/*.parquet\", format: parquet");
    let reader = reader[..reader.find("  - name: cleaned").unwrap()].to_owned();
    let dry = Settings { mode: Mode::DryRun { rows: 10 }, ..settings(&f, &endpoint) };
    let back = super::run(&reader, &BTreeMap::new(), &dry, &Outside).await.unwrap();
    let preview = back.steps[0].preview.as_ref().unwrap();
    let mut rows: Vec<String> = preview.rows.iter().map(|r| r.join(" ")).collect();
    rows.sort();
    assert_eq!(rows, ["2026-11-01 STARFALL 1500.000000 2", "2026-11-02 MOONRISE 250.000000 2"]);

    // A glob with no wildcard names one object.
    let one = text.replace("in/*.csv", "in/agency.csv");
    let one = super::run(&one, &BTreeMap::new(), &dry, &Outside).await.unwrap();
    assert_eq!(one.steps[0].rows, 4);

    // The same parameters again replace the output: still one Parquet file, not two.
    super::run(&text, &BTreeMap::new(), &settings(&f, &endpoint), &Outside).await.unwrap();
    let replaced = keys(&bucket).await;
    assert_eq!(replaced.len(), 2);
    assert_ne!(replaced, written, "a new file in place of the first");

    // A failing check writes nothing to the bucket.
    bucket.store.put(&"lake/in/agency.csv".into(), AGENCY.replace("MOONRISE", "SKYFALL").into()).await.unwrap();
    let error = super::run(&text, &BTreeMap::new(), &settings(&f, &endpoint), &Outside).await.unwrap_err();
    assert!(matches!(&error, RunError::Step { step, .. } if step == "sane"), "{error}");
    assert_eq!(keys(&bucket).await, replaced, "the earlier output, untouched");
}

#[tokio::test]
async fn a_missing_bucket_or_endpoint_fails_its_step_with_the_reason() {
    let Some(endpoint) = endpoint() else { return };
    let f = Folder::new("no-bucket");
    let settings = settings(&f, &endpoint);
    let error = run(&in_bucket("mcms-no-such-bucket"), &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    match &error {
        RunError::Step { step, reason } => {
            assert_eq!(step, "agency");
            assert!(reason.contains("NoSuchBucket") || reason.contains("does not exist"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    // The bucket exists but the sink's does not: the run fails at the sink and nothing is left.
    let (name, bucket) = new_bucket(&endpoint, "half").await;
    bucket.store.put(&"lake/in/agency.csv".into(), AGENCY.into()).await.unwrap();
    let text = in_bucket(&name).replace(
        "  files: { kind: s3",
        "  out: { kind: s3, bucket: mcms-no-such-bucket, endpoint_env: S3_URL }\n  files: { kind: s3",
    );
    let text = text.replace("input: sane, connection: files", "input: sane, connection: out");
    let error = run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert!(matches!(&error, RunError::Step { step, .. } if step == "store"), "{error}");
    assert_eq!(keys(&bucket).await, ["lake/in/agency.csv"]);

    // An endpoint variable that is not set is named.
    let unset = in_bucket(&name).replace("endpoint_env: S3_URL", "endpoint_env: MCMS_NO_SUCH_VARIABLE");
    let error = run(&unset, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert_eq!(error.to_string(), "step `agency`: the environment variable `MCMS_NO_SUCH_VARIABLE` is not set");
}

#[tokio::test]
async fn the_redshift_sink_writes_parquet_to_the_bucket_and_gives_the_copy_statement() {
    let Some(endpoint) = endpoint() else { return };
    let (name, bucket) = new_bucket(&endpoint, "redshift").await;
    bucket.store.put(&"lake/in/agency.csv".into(), AGENCY.into()).await.unwrap();
    let f = Folder::new("redshift");
    let text = in_bucket(&name).replace(
        r#"sink: { files: { input: sane, connection: files, path: "out/month=${month}", format: parquet } }"#,
        r#"sink: { redshift: { input: sane, connection: files, path: "load/${month}", table: marts.daily_spend, iam_role_env: LOAD_ROLE } }"#,
    );
    let role = "arn:aws:iam::123456789012:role/mcms-load";
    let settings = Settings { secrets: secrets(&endpoint).with("LOAD_ROLE", role), ..f.settings() };
    let run = run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap();
    let location = format!("s3://{name}/lake/load/2026-11");
    assert_eq!(
        run.steps[4].wrote.as_deref(),
        Some(
            format!(
                "{location}; load it with: COPY \"marts\".\"daily_spend\" FROM '{location}/' IAM_ROLE '{role}' FORMAT AS PARQUET;"
            )
            .as_str()
        )
    );
    let written = keys(&bucket).await;
    assert!(written.iter().any(|k| k.starts_with("lake/load/2026-11/") && k.ends_with(".parquet")), "{written:?}");

    // Without the role's variable the run stops at the sink, and nothing is in the bucket.
    let settings = Settings { secrets: secrets(&endpoint), ..f.settings() };
    bucket.store.delete(&written.iter().find(|k| k.ends_with(".parquet")).unwrap().as_str().into()).await.unwrap();
    let error = super::run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap_err();
    assert_eq!(error.to_string(), "step `store`: the environment variable `LOAD_ROLE` is not set");
    assert_eq!(keys(&bucket).await, ["lake/in/agency.csv"]);
}

/// A server that checks the keys (moto with authentication on: the test command starts one at
/// `MCMS_TEST_S3_CHECKING_ENDPOINT`), so keys it does not know are refused as AWS refuses them.
fn checking_endpoint() -> Option<String> {
    match std::env::var("MCMS_TEST_S3_CHECKING_ENDPOINT") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("MCMS_REQUIRE_S3").as_deref() == Ok("1") => {
            panic!("MCMS_REQUIRE_S3=1 but MCMS_TEST_S3_CHECKING_ENDPOINT is not set")
        }
        Err(_) => {
            eprintln!("skipped: no S3-compatible server that checks keys (set MCMS_TEST_S3_CHECKING_ENDPOINT)");
            None
        }
    }
}

#[tokio::test]
async fn a_bucket_that_refuses_the_keys_fails_its_step_with_the_refusal_and_nothing_is_left() {
    let (Some(endpoint), Some(checking)) = (endpoint(), checking_endpoint()) else { return };
    let f = Folder::new("refused");
    let settings = Settings { secrets: secrets(&endpoint).with("S3_CHECKING", &checking), ..f.settings() };
    let refused = |reason: &str| reason.contains("403 Forbidden") && reason.contains("InvalidAccessKeyId");

    // Reading from it: the source's step fails, saying the server refused.
    let text = in_bucket("mcms-guarded").replace("endpoint_env: S3_URL", "endpoint_env: S3_CHECKING");
    match run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap_err() {
        RunError::Step { step, reason } => assert!(step == "agency" && refused(&reason), "{step}: {reason}"),
        other => panic!("{other:?}"),
    }

    // Writing to it: the sink fails, and the readable bucket holds only what it held.
    let (name, bucket) = new_bucket(&endpoint, "to-guarded").await;
    bucket.store.put(&"lake/in/agency.csv".into(), AGENCY.into()).await.unwrap();
    let text = in_bucket(&name).replace(
        "  files: { kind: s3",
        "  out: { kind: s3, bucket: mcms-guarded, endpoint_env: S3_CHECKING }\n  files: { kind: s3",
    );
    let text = text.replace("input: sane, connection: files", "input: sane, connection: out");
    match run(&text, &BTreeMap::new(), &settings, &Outside).await.unwrap_err() {
        RunError::Step { step, reason } => assert!(step == "store" && refused(&reason), "{step}: {reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(keys(&bucket).await, ["lake/in/agency.csv"]);
}
