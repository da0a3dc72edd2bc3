//! Bulk import from the command line: reports, refusals, and no partial batch when the process dies.

use crate::common::{TestApp, seed_ledger, today};
use std::process::{Command, Output};

fn mcms(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mcms"))
        .args(args)
        .args(["--database-url", &app.t.url])
        .env("MCMS_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const HEADER: &str = "Date,Game,Channel,Campaign,Country,Vendor,Cost type,Currency,Amount,Units,Invoice number";

/// `n` valid rows, each its own natural key (day × country).
fn good_file(n: usize) -> String {
    let countries = domain::country::ISO_3166_1;
    let mut csv = format!("{HEADER}\n");
    for i in 0..n {
        let day = today() - time::Duration::days(1 + (i % 30) as i64);
        let country = countries[i / 30].0;
        csv.push_str(&format!("{day},STARFALL,GOOGLE_ADS,LAUNCH,{country},DIRECT,FLAT,KRW,\"1,000\",,\n"));
    }
    csv
}

async fn entry_count(app: &TestApp) -> i64 {
    app.t.db.list_costs(&Default::default(), None, 1).await.unwrap().total_count
}

#[tokio::test]
async fn the_import_command_reports_refuses_and_commits_whole() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let dir = std::env::temp_dir().join(format!("mcms-import-{}-{}", std::process::id(), app.backend()));
        std::fs::create_dir_all(&dir).unwrap();
        let before = entry_count(&app).await;
        let yesterday = today() - time::Duration::days(1);

        let bad = dir.join("bad.csv");
        std::fs::write(
            &bad,
            format!(
                "{HEADER}\n{yesterday},STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"1,000\",,\n\
                 03/04/2026,STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,100,,\n\
                 {yesterday},STARFALL,GOOGLE_ADS,NOPE,KR,DIRECT,FLAT,KRW,=A2*2,,\n"
            ),
        )
        .unwrap();
        let out = mcms(&app, &["import", bad.to_str().unwrap(), "--as", "ledger-owner@mcms.test"], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let report = text(&out.stderr);
        assert!(report.contains("row 3: error: date: Ambiguous date"), "{report}");
        assert!(report.contains("row 4: error: amount: A formula, not a value"), "{report}");
        assert!(report.contains("row 4: error: campaign:"), "{report}");
        assert!(report.contains("2 row(s) with errors; nothing was imported"), "{report}");
        assert_eq!(entry_count(&app).await, before, "{}", app.backend());

        let good = dir.join("agency.csv");
        std::fs::write(&good, good_file(40)).unwrap();
        let args = ["import", good.to_str().unwrap(), "--as", "ledger-owner@mcms.test"];
        let dry = mcms(&app, &[&args[..], &["--dry-run"]].concat(), &[]);
        assert!(dry.status.success(), "{}", text(&dry.stderr));
        assert!(text(&dry.stdout).contains("dry run: 40 entries would be imported (40,000 KRW); nothing stored"));
        assert_eq!(entry_count(&app).await, before);

        let nobody = mcms(&app, &["import", good.to_str().unwrap(), "--as", "nobody@mcms.test"], &[]);
        assert!(text(&nobody.stderr).contains("--as: no active marketer or admin"), "{}", text(&nobody.stderr));

        let real = mcms(&app, &args, &[]);
        assert!(real.status.success(), "{}", text(&real.stderr));
        assert!(text(&real.stdout).contains("imported batch"), "{}", text(&real.stdout));
        assert_eq!(entry_count(&app).await, before + 40);
        let batch = app.t.db.batches(1).await.unwrap().remove(0);
        assert_eq!((batch.row_count, batch.source.as_str(), batch.file_name.as_str()), (40, "cli", "agency.csv"));

        let again = mcms(&app, &args, &[]);
        assert_eq!(again.status.code(), Some(1));
        assert!(
            text(&again.stderr).contains(&format!("already imported. (batch {},", batch.id)),
            "{}",
            text(&again.stderr)
        );
        std::fs::remove_dir_all(&dir).unwrap();
        app.finish().await;
    }
}

#[tokio::test]
async fn a_process_killed_in_the_middle_of_a_commit_leaves_no_partial_batch() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let before = entry_count(&app).await;
        let file = std::env::temp_dir().join(format!("mcms-crash-{}-{}.csv", std::process::id(), app.backend()));
        std::fs::write(&file, good_file(1_200)).unwrap();
        let args = ["import", file.to_str().unwrap(), "--as", "ledger-owner@mcms.test"];
        let crashed = mcms(&app, &args, &[("MCMS_FAILPOINT", "import-commit")]);
        assert!(!crashed.status.success());
        assert_eq!(crashed.status.code(), None, "killed by a signal (abort), not an orderly exit");
        assert!(text(&crashed.stderr).contains("aborting in the middle of the commit"), "{}", text(&crashed.stderr));
        assert_eq!(entry_count(&app).await, before, "{}: none of the 1,200 rows", app.backend());
        assert!(app.t.db.batches(10).await.unwrap().is_empty(), "{}: no batch", app.backend());

        let retried = mcms(&app, &args, &[]);
        assert!(retried.status.success(), "{}", text(&retried.stderr));
        assert_eq!(entry_count(&app).await, before + 1_200);
        std::fs::remove_file(&file).unwrap();
        app.finish().await;
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn a_file_is_uploaded_fixed_in_the_grid_committed_and_rolled_back() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let before = entry_count(&app).await;
        let (mut m, _) = app.signed_in("m@mcms.test", domain::Role::Marketer).await;
        let (mut other, _) = app.signed_in("other@mcms.test", domain::Role::Marketer).await;
        let (mut viewer, _) = app.signed_in("v@mcms.test", domain::Role::Viewer).await;
        let d1 = today() - time::Duration::days(1);
        let d2 = today() - time::Duration::days(2);
        let csv = format!(
            "일자,게임,매체,캠페인,국가,대행사,과금방식,통화,금액\n\
             {d1},STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"₩1,000\"\n\
             {d2},STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,=SUM(I2:I2)\n"
        );
        let refused = viewer.upload("/costs/import/upload", &[("file", Some("agency.csv"), &csv)]).await;
        assert_eq!(refused.status, http::StatusCode::FORBIDDEN, "{}", app.backend());

        let r = m.upload("/costs/import/upload", &[("file", Some("agency.csv"), &csv), ("vendor", None, "")]).await;
        assert_eq!(r.status, http::StatusCode::SEE_OTHER, "{}: {}", app.backend(), r.body);
        let draft_path = r.location().unwrap().to_owned();
        let id = draft_path.rsplit('/').next().unwrap().to_owned();
        let page = m.page(&draft_path).await;
        assert_eq!(page.status, http::StatusCode::OK);
        assert!(page.body.contains("A formula, not a value"), "the grid names the cell without JavaScript");

        let draft = json(&m.call("/api/costs/import/draft", &[("id", &id)]).await.body);
        assert_eq!((draft["row_count"].as_u64(), draft["error_rows"].as_u64()), (Some(2), Some(1)), "{draft}");
        assert_eq!(draft["mapping"][0], "date", "Korean headers map themselves");
        let rows = draft["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "only rows with problems by default");
        assert_eq!(
            (rows[0]["row"].as_u64(), &rows[0]["problems"][0]["code"]),
            (Some(3), &serde_json::json!("import.formula"))
        );
        assert_eq!(other.call("/api/costs/import/draft", &[("id", &id)]).await.status, http::StatusCode::NOT_FOUND);

        let errors = m.page(&format!("/costs/import/{id}/errors.csv")).await;
        assert_eq!(errors.status, http::StatusCode::OK);
        let lines: Vec<&str> = errors.body.lines().collect();
        assert_eq!(lines.len(), 2, "the header and the one bad row: {}", errors.body);
        assert!(lines[0].ends_with(",errors"));
        assert!(lines[1].contains("amount: A formula, not a value"), "{}", lines[1]);

        let early = m.call("/api/costs/import/commit", &[("id", &id)]).await;
        assert_eq!(json(&early.body)["Invalid"]["code"], "import.has_errors");
        assert_eq!(entry_count(&app).await, before, "nothing while a row has an error");

        let fixed = [
            d2.to_string(),
            "STARFALL".into(),
            "GOOGLE_ADS".into(),
            "LAUNCH".into(),
            "KR".into(),
            "DIRECT".into(),
            "FLAT".into(),
            "KRW".into(),
            "2,500".into(),
        ];
        // The grid sends the row as it showed it with the fix: a row changed meanwhile is refused.
        let shown = json(&m.call("/api/costs/import/draft", &[("id", &id)]).await.body);
        let seen: Vec<String> = shown["rows"].as_array().unwrap().iter().find(|r| r["row"] == 3).unwrap()["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let edit = |before: &[String]| {
            let mut form: Vec<(String, String)> = vec![("id".into(), id.clone()), ("row".into(), "3".into())];
            form.extend(before.iter().enumerate().map(|(i, v)| (format!("before[{i}]"), v.clone())));
            form.extend(fixed.iter().enumerate().map(|(i, v)| (format!("cells[{i}]"), v.clone())));
            form
        };
        let call = |form: Vec<(String, String)>| {
            let mut m = m.clone();
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                m.call("/api/costs/import/edit-row", &form).await
            }
        };
        assert_eq!(call(edit(&seen)).await.status, http::StatusCode::OK);
        let stale = call(edit(&seen)).await;
        assert_eq!(stale.status, http::StatusCode::CONFLICT, "{}: a second tab showing the old row", app.backend());
        assert!(stale.body.contains("import.row_changed"), "{}", stale.body);
        let draft = json(&m.call("/api/costs/import/draft", &[("id", &id)]).await.body);
        assert_eq!(draft["error_rows"], 0, "{draft}");
        assert_eq!(draft["totals"], serde_json::json!(["3,500 KRW"]));

        let done = m.call("/api/costs/import/commit", &[("id", &id)]).await;
        assert_eq!(done.status, http::StatusCode::OK, "{}: {}", app.backend(), done.body);
        let batch = done.body.parse::<i64>().unwrap();
        assert_eq!(entry_count(&app).await, before + 2);
        assert_eq!(
            m.call("/api/costs/import/draft", &[("id", &id)]).await.status,
            http::StatusCode::NOT_FOUND,
            "the draft is gone"
        );

        let again = m.upload("/costs/import/upload", &[("file", Some("copy.csv"), &csv)]).await;
        assert_eq!(
            again.location(),
            Some(format!("/costs/import?error=import.already_imported&batch={batch}").as_str())
        );

        // The hydrated form sends the file itself and is told where to go as JSON.
        let scripted =
            m.upload_accepting("/costs/import/upload", &[("file", Some("copy.csv"), &csv)], "application/json").await;
        assert_eq!(scripted.status, http::StatusCode::OK);
        assert_eq!(
            json(&scripted.body)["location"],
            format!("/costs/import?error=import.already_imported&batch={batch}").as_str()
        );

        let back = m.call("/api/costs/import/rollback", &[("batch", &batch.to_string())]).await;
        assert_eq!((back.status, back.body.as_str()), (http::StatusCode::OK, "2"));
        assert_eq!(entry_count(&app).await, before);
        let line = json(&m.call("/api/costs/import/batch", &[("id", &batch.to_string())]).await.body);
        assert_eq!(line["rolled_back"], true);

        let ragged =
            m.upload("/costs/import/upload", &[("pasted", None, "date\tamount\n2026-11-01\n2026-11-02\t1\t2\n")]).await;
        let to = ragged.location().unwrap();
        assert!(to.starts_with("/costs/import?error=import.ragged&detail=row%202%3A%201%20cells%2C%20row%203"), "{to}");
        let scripted =
            m.upload_accepting("/costs/import/upload", &[("file", Some("copy.csv"), &csv)], "application/json").await;
        let to = json(&scripted.body)["location"].as_str().unwrap().to_owned();
        assert!(to.starts_with("/costs/import/"), "rolled back, the same file makes a new draft: {to}");
        let progress =
            json(&m.call("/api/costs/import/progress", &[("id", to.rsplit('/').next().unwrap())]).await.body);
        assert_eq!(progress, serde_json::Value::Null, "nothing is being checked or stored for it now");
        let theirs = other.call("/api/costs/import/progress", &[("id", to.rsplit('/').next().unwrap())]).await;
        assert_eq!(theirs.status, http::StatusCode::NOT_FOUND, "another marketer's draft does not exist for them");
        let empty = m.upload("/costs/import/upload", &[("file", Some("empty.csv"), "")]).await;
        assert_eq!(empty.location(), Some("/costs/import?error=import.empty"));
        app.finish().await;
    }
}
