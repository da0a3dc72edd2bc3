use super::*;

fn run(system: &str, scenario: &str, format: &str, seconds: Option<f64>) -> Run {
    Run {
        system: system.into(),
        scenario: scenario.into(),
        params: Params { format: format.into(), compression: "gzip".into(), file_count: 100, file_size_mb: 150 },
        total_bytes: 15 * 1_073_741_824,
        rows: 100_000_000,
        load_seconds: seconds,
        latency_p50_ms: None,
        latency_p95_ms: None,
        credits: None,
        cost_cents: None,
        error: seconds.is_none().then(|| "COPY aborted: S3 timeout".to_owned()),
        run_date: time::macros::date!(2026 - 10 - 01),
        system_version: "1".into(),
        run_by: "data-eng".into(),
        notes: String::new(),
    }
}

fn systems() -> Vec<String> {
    vec!["redshift".into(), "snowflake".into()]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn the_best_system_in_a_group_is_one_and_others_are_ratios_to_it() {
    let runs = [
        run("redshift", "batch", "csv", Some(200.0)),
        run("redshift", "batch", "csv", Some(180.0)), // its best time counts
        run("snowflake", "batch", "csv", Some(90.0)),
    ];
    let c = compare(&systems(), &runs);
    assert_eq!(c.groups.len(), 1);
    match (&c.groups[0].outcomes[0], &c.groups[0].outcomes[1]) {
        (Outcome::Ran { seconds: r, ratio: rr }, Outcome::Ran { ratio: sr, .. }) => {
            assert!(close(*r, 180.0));
            assert!(close(*rr, 180.01 / 90.01), "{rr}");
            assert!(close(*sr, 1.0));
        }
        other => panic!("{other:?}"),
    }
    assert!(close(c.summary[1].unwrap(), 1.0));
}

#[test]
fn failures_and_missing_runs_are_penalised_not_hidden() {
    let runs = [
        run("redshift", "batch", "csv", Some(100.0)),
        run("snowflake", "batch", "csv", Some(100.0)),
        run("redshift", "batch", "parquet", None), // failed
        run("snowflake", "batch", "parquet", Some(50.0)),
        run("redshift", "cdc", "json", Some(10.0)), // snowflake never ran this one
    ];
    let c = compare(&systems(), &runs);
    assert_eq!(c.groups.len(), 3);
    let parquet = c.groups.iter().find(|g| g.params.format == "parquet").unwrap();
    assert_eq!(parquet.outcomes[0], Outcome::Failed { error: "COPY aborted: S3 timeout".into() });
    let cdc = c.groups.iter().find(|g| g.scenario == "cdc").unwrap();
    assert_eq!(cdc.outcomes[1], Outcome::Missing);
    // redshift: 1 (csv), 10 (failed), 1 (cdc) → cube root of 10; snowflake: 1, 1, 10 (missing).
    let expected = 10f64.powf(1.0 / 3.0);
    assert!(close(c.summary[0].unwrap(), expected) && close(c.summary[1].unwrap(), expected), "{:?}", c.summary);
}

#[test]
fn a_retried_failure_counts_its_success_and_unknown_systems_are_ignored() {
    let runs = [
        run("redshift", "batch", "csv", None),
        run("redshift", "batch", "csv", Some(120.0)),
        run("snowflake", "batch", "csv", Some(60.0)),
        run("bigquery", "batch", "csv", Some(1.0)),
    ];
    let c = compare(&systems(), &runs);
    assert!(matches!(c.groups[0].outcomes[0], Outcome::Ran { .. }));
    assert!(close(c.summary[1].unwrap(), 1.0), "a system outside the PoC does not set the best time");
}

#[test]
fn geometric_means() {
    assert_eq!(geometric_mean([]), None);
    assert!(close(geometric_mean([4.0, 1.0]).unwrap(), 2.0));
    assert!(close(geometric_mean([2.0, 2.0, 2.0]).unwrap(), 2.0));
}

#[test]
fn throughput_comes_from_bytes_and_time() {
    let r = run("redshift", "batch", "csv", Some(10.0));
    assert!(close(r.mb_per_s().unwrap(), 15.0 * 1024.0 / 10.0));
    assert!(close(r.rows_per_s().unwrap(), 10_000_000.0));
    assert_eq!(run("redshift", "batch", "csv", None).mb_per_s(), None);
}

const HEADER: &str = "system,scenario,format,compression,file_count,file_size_mb,total_bytes,rows,load_seconds,\
latency_p50_ms,latency_p95_ms,credits,cost_usd,error,run_date,system_version,run_by,notes\n";

fn parse(body: &str) -> Result<Vec<Run>, Vec<RowProblem>> {
    parse_runs_csv(&format!("{HEADER}{body}"), |s| s == "redshift" || s == "snowflake", |s| s == "batch")
}

#[test]
fn a_good_run_file_loads_whole() {
    let runs = parse(
        "redshift,batch,Parquet,snappy,\"1,000\",128,134217728000,900000000,412.5,,,3.2,12.80,,2026-10-01,1.0.7,jkim,ra3.4xlarge x2\n\
         snowflake,batch,csv,gzip,1000,128,134217728000,900000000,,,,,,Load timed out,2026-10-02,8.39,jkim,\n",
    )
    .unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].params.format, "parquet");
    assert_eq!((runs[0].params.file_count, runs[0].cost_cents), (1_000, Some(1_280)));
    assert!(!runs[1].succeeded() && runs[1].error.as_deref() == Some("Load timed out"));
}

#[test]
fn every_bad_run_is_named_and_nothing_loads() {
    let wrong = parse_runs_csv("system,scenario\n", |_| true, |_| true).unwrap_err();
    assert_eq!(wrong[0].code, "poc.columns");
    assert_eq!(parse("").unwrap_err()[0].code, "poc.empty");
    let found: Vec<(usize, String)> = parse(
        "bigquery,batch,csv,gzip,1,1,1,1,1,,,,,,2026-10-01,1,a,\n\
         redshift,streaming,csv,gzip,1,1,1,1,1,,,,,,2026-10-01,1,a,\n\
         redshift,batch,orc,gzip,1,1,1,1,1,,,,,,2026-10-01,1,a,\n\
         redshift,batch,csv,lz4,1,1,1,1,1,,,,,,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,0,1,1,1,1,,,,,,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,fast,,,,,,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,1,,,,1.234,,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,,,,,,,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,1,,,,,boom,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,1,90,50,,,,2026-10-01,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,1,,,,,,01/10/2026,1,a,\n\
         redshift,batch,csv,gzip,1,1,1,1,1,,,,,,2026-10-01,1,,\n\
         redshift,batch,csv\n",
    )
    .unwrap_err()
    .into_iter()
    .map(|p| (p.row, p.code))
    .collect();
    let expected = [
        (2, "poc.system_unknown"),
        (3, "poc.scenario_unknown"),
        (4, "poc.format_unknown"),
        (5, "poc.compression_unknown"),
        (6, "poc.count_invalid"),
        (7, "poc.measure_invalid"),
        (7, "poc.outcome_missing"),
        (8, "poc.cost_invalid"),
        (9, "poc.outcome_missing"),
        (10, "poc.outcome_both"),
        (11, "poc.latency_order"),
        (12, "poc.date_invalid"),
        (13, "poc.run_by_missing"),
        (14, "poc.columns"),
    ];
    assert_eq!(found, expected.map(|(r, c)| (r, c.to_owned())));
}

#[test]
fn a_run_written_as_cells_reads_back_the_same() {
    let mut r = run("redshift", "batch", "csv", Some(12.25));
    r.cost_cents = Some(1_205);
    r.latency_p50_ms = Some(80.5);
    let cells = run_cells(&r);
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    assert_eq!(check_run(&refs), Ok(r));
}
