//! PoC reports and recording: the comparison as served, filters, the CSV export, the run file and
//! the JSON endpoint for scripts, each refusal with its reason.

use crate::common::TestApp;
use domain::Role;
use http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use store::poc::{PocScenario, PocSystem};

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

const RUNS: &str = "redshift,batch,csv,gzip,80,128,1000,10,100,,,,4.00,,2026-10-01,1,a,\n\
    snowflake,batch,csv,gzip,80,128,1000,10,50,,,,2.00,,2026-10-01,1,a,\n\
    redshift,batch,parquet,snappy,80,128,1000,10,,,,,,COPY failed,2026-10-02,1,a,\n\
    snowflake,batch,parquet,snappy,80,128,1000,10,40,,,,1.50,,2026-10-02,1,a,\n";

async fn seed(app: &TestApp) -> i64 {
    let db = &app.t.db;
    let poc = db.create_poc("Warehouse PoC", "Pick one", "running", "").await.unwrap();
    for name in ["redshift", "snowflake"] {
        let s = PocSystem { name: name.into(), edition: "e".into(), region: "r".into(), configuration: "c".into() };
        db.add_poc_system(poc, &s).await.unwrap();
    }
    db.add_poc_scenario(poc, &PocScenario { name: "batch".into(), kind: "batch_load".into(), method: "COPY".into() })
        .await
        .unwrap();
    poc
}

fn file(body: &str) -> String {
    format!("{}\n{body}", domain::poc::RUN_COLUMNS.join(","))
}

#[tokio::test]
async fn the_report_compares_filters_exports_and_records_whole_files() {
    for app in TestApp::each().await {
        seed(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let (mut viewer, _) = app.signed_in("viewer@mcms.test", Role::Viewer).await;

        let bad = file(&format!("{RUNS}bigquery,batch,csv,gzip,1,1,1,1,1,,,,,,2026-10-01,1,a,\n"));
        let refused = parse(&admin.call("/api/poc/record", &[("csv", &bad)]).await.body);
        assert_eq!(refused["Rows"]["problems"][0]["code"], "poc.system_unknown", "{refused}");
        assert_eq!(refused["Rows"]["problems"][0]["row"], 6);
        let recorded = admin.call("/api/poc/record", &[("csv", &file(RUNS))]).await;
        assert_eq!((recorded.status, recorded.body.as_str()), (StatusCode::OK, "4"), "{}", app.backend());

        let report = parse(&viewer.call("/api/poc/report", &[]).await.body);
        assert_eq!(report["runs"], 4);
        assert_eq!(report["failed_runs"], 1);
        // csv: snowflake best (×1), redshift 100.01/50.01; parquet: redshift failed (×10).
        let summary: Vec<f64> = report["summary"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let unrecorded_format = parse(&viewer.call("/api/poc/report", &[("format", "json")]).await.body);
        assert_eq!(unrecorded_format["summary"], json!([null, null]), "no group: no mean, not NaN");
        assert!((summary[0] - (100.01f64 / 50.01 * 10.0).sqrt()).abs() < 1e-9, "{summary:?}");
        assert!((summary[1] - 1.0).abs() < 1e-12, "{summary:?}");
        assert_eq!(report["verdicts"][0]["best"], "snowflake");
        assert_eq!(report["groups"][1]["cells"][0]["failed"], "COPY failed", "failures are shown, not hidden");
        assert_eq!(report["can_record"], false);

        let parquet = parse(&viewer.call("/api/poc/report", &[("format", "parquet")]).await.body);
        assert_eq!((parquet["runs"].as_u64(), parquet["groups"].as_array().map(Vec::len)), (Some(2), Some(1)));
        assert_eq!(parquet["filter"]["format"], "parquet");

        let page = viewer.page("/poc?format=parquet").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("<svg") && page.body.contains("COPY failed"),
            "charts and failures without JavaScript"
        );

        let export = viewer.page("/poc/export.csv?format=csv").await;
        assert_eq!(export.status, StatusCode::OK);
        let again = domain::poc::parse_runs_csv(&export.body, |_| true, |_| true).unwrap();
        assert_eq!(again.len(), 2, "only what the filter shows");
        assert_eq!(again[0].cost_cents, Some(400), "and it reads back as recorded");
        // Correcting a run: checked like a file row; withdrawing one: confirmed; both audited.
        let newest = report["recent"][0].clone();
        let id = newest["id"].to_string();
        let mut cells: Vec<String> =
            newest["cells"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        let form = |cells: &[String]| -> Vec<(String, String)> {
            std::iter::once(("id".to_owned(), id.clone()))
                .chain(cells.iter().enumerate().map(|(i, c)| (format!("cells[{i}]"), c.clone())))
                .collect()
        };
        cells[8] = "fast".into();
        let bad = form(&cells);
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = parse(&admin.call("/api/poc/edit-run", &bad).await.body);
        assert_eq!(refused["Rows"]["problems"][0]["code"], "poc.measure_invalid", "{refused}");
        cells[8] = "39.5".into();
        cells[17] = "re-timed from the query history".into();
        let good = form(&cells);
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(admin.call("/api/poc/edit-run", &good).await.status, StatusCode::OK);
        let after = parse(&viewer.call("/api/poc/report", &[]).await.body);
        assert_eq!(after["recent"][0]["cells"][8], "39.5");
        assert_eq!(after["recent"][0]["cells"][17], "re-timed from the query history");
        let unconfirmed = admin.call("/api/poc/withdraw-run", &[("id", &id)]).await;
        assert_eq!(parse(&unconfirmed.body)["Invalid"]["code"], "key.confirm");
        assert_eq!(
            admin.call("/api/poc/withdraw-run", &[("id", &id), ("confirm", "true")]).await.status,
            StatusCode::OK
        );
        assert_eq!(parse(&viewer.call("/api/poc/report", &[]).await.body)["runs"], 3);
        let trail = app.t.db.audit_trail("poc_run", &id).await.unwrap();
        assert_eq!(trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["edit", "delete"]);

        let undecided = admin.call("/api/poc/decide", &[("status", "decided"), ("decision", " ")]).await;
        assert_eq!(parse(&undecided.body)["Invalid"]["code"], "poc.decision_missing");
        let decided = admin.call("/api/poc/decide", &[("status", "decided"), ("decision", "Snowflake")]).await;
        assert_eq!(decided.status, StatusCode::OK);
        assert_eq!(parse(&viewer.call("/api/poc/report", &[]).await.body)["decision"], "Snowflake");
        assert_eq!(viewer.call("/api/poc/decide", &[("status", "running")]).await.status, StatusCode::FORBIDDEN);
        let (mut stranger, _) = (app.browser([10, 0, 0, 9]), ());
        assert_eq!(stranger.page("/poc/export.csv").await.status, StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

async fn post_runs(app: &TestApp, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req =
        Request::builder().method(Method::POST).uri("/api/poc/runs").header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let mut req = req.body(axum::body::Body::from(body.to_owned())).unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 0, 0, 3], 5000))));
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn scripts_record_runs_with_a_token_and_every_bad_run_is_named() {
    for app in TestApp::each().await {
        let poc = seed(&app).await;
        let admin = app.user("admin@mcms.test", Role::Admin).await;
        let token = app.t.db.issue_poc_token(poc, "airflow", None, admin.id).await.unwrap();
        let token = token.reveal().to_owned();
        let good = json!({ "runs": [{
            "system": "snowflake", "scenario": "batch", "format": "parquet", "compression": "snappy",
            "file_count": 80, "file_size_mb": 128, "total_bytes": 1000, "rows": 10, "load_seconds": 41.5,
            "cost_usd": "1.25", "run_date": "2026-10-03", "system_version": "9.2", "run_by": "airflow"
        }]});

        assert_eq!(post_runs(&app, None, &good.to_string()).await.0, StatusCode::UNAUTHORIZED);
        let mut typo = token.clone().into_bytes();
        typo[8] = if typo[8] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(post_runs(&app, Some(&typo), &good.to_string()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(post_runs(&app, Some(&token), "not json").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(post_runs(&app, Some(&token), r#"{"runs": [], "extra": 1}"#).await.0, StatusCode::BAD_REQUEST);

        let mut bad = good.clone();
        bad["runs"][0]["colour"] = json!("blue");
        let (status, body) = post_runs(&app, Some(&token), &bad.to_string()).await;
        assert_eq!(
            (status, &body["errors"][0]["code"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!("poc.field_unknown"))
        );
        let mut two = good.clone();
        two["runs"].as_array_mut().unwrap().push(json!({ "system": "bigquery", "scenario": "batch", "format": "csv",
            "compression": "gzip", "file_count": 0, "file_size_mb": 1, "total_bytes": 1, "rows": 1,
            "run_date": "2026-10-03", "run_by": "x" }));
        let (status, body) = post_runs(&app, Some(&token), &two.to_string()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let codes: Vec<(u64, &str)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["index"].as_u64().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(codes, [(1, "poc.system_unknown"), (1, "poc.count_invalid"), (1, "poc.outcome_missing")]);
        let filter = store::poc::RunFilter::default();
        assert!(app.t.db.poc_runs(poc, &filter).await.unwrap().is_empty(), "{}: nothing of either", app.backend());

        let (status, body) = post_runs(&app, Some(&token), &good.to_string()).await;
        assert_eq!((status, body), (StatusCode::CREATED, json!({ "recorded": 1 })));
        let stored = app.t.db.poc_runs(poc, &filter).await.unwrap();
        assert_eq!((stored[0].load_seconds, stored[0].cost_cents), (Some(41.5), Some(125)));
        let trail = app.t.db.audit_trail("poc", &poc.to_string()).await.unwrap();
        assert_eq!(trail.last().map(|a| (a.action.as_str(), a.actor_id)), Some(("record", admin.id)));
        app.finish().await;
    }
}
