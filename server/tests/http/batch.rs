//! The warehouse hand-off: export schema, the safety check, the CLI's exit codes, the download.

use crate::common::{TestApp, seed_ledger, today};
use domain::Role;
use http::StatusCode;
use server::batch;
use store::costs::{CostSettings, NewCampaign, YearMonth};

/// The month of the three seeded entries (61–63 days ago) that holds entry 1.
fn seeded_month() -> YearMonth {
    YearMonth::of(today() - time::Duration::days(61))
}

#[tokio::test]
async fn the_export_follows_the_documented_columns_exactly() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let rows = batch::month_entries(&app.t.db, seeded_month()).await.unwrap();
        assert!(!rows.is_empty() && rows.windows(2).all(|w| w[0].entry.date <= w[1].entry.date), "oldest first");
        let csv = String::from_utf8(batch::to_csv(&rows, &CostSettings::default()).unwrap()).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), batch::COLUMNS.join(","), "{}", app.backend());
        let first: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(first.len(), batch::COLUMNS.len());
        assert_eq!(
            &first[2..11],
            ["STARFALL", "GOOGLE_ADS", "LAUNCH", "KR", "DIRECT", "FLAT", "KRW", "50000", "50000"]
        );
        assert_eq!(&first[16..19], ["KRW", "50000", "50000"]);

        let jsonl = batch::to_jsonl(&rows, &CostSettings::default());
        for line in jsonl.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
            let mut expected = batch::COLUMNS.to_vec();
            expected.sort();
            let mut keys = keys;
            keys.sort();
            assert_eq!(keys, expected);
        }
        let empty = batch::to_csv(&[], &CostSettings::default()).unwrap();
        assert_eq!(
            String::from_utf8(empty).unwrap().trim_end(),
            batch::COLUMNS.join(","),
            "an empty month still has its header"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_month_is_safe_only_when_closed_and_every_entry_still_passes() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let db = &app.t.db;
        let month = seeded_month();
        let settings = CostSettings::default();
        let reasons = batch::check(db, month, &settings, today()).await.unwrap();
        assert_eq!(reasons, [format!("{month} is not closed: close it before loading")], "{}", app.backend());
        let owner = db.users().await.unwrap()[0].id;
        db.close_period(month, owner).await.unwrap();
        assert_eq!(batch::check(db, month, &settings, today()).await.unwrap(), Vec::<String>::new());

        // Master data changed after entry: the campaign was deactivated. The batch must not load.
        let span = time::Duration::days(400);
        db.put_campaign(&NewCampaign {
            code: "LAUNCH",
            name: "Launch",
            game: "STARFALL",
            channel: "GOOGLE_ADS",
            flight_start: today() - span,
            flight_end: today() + span,
            owner_id: None,
            active: false,
        })
        .await
        .unwrap();
        let reasons = batch::check(db, month, &settings, today()).await.unwrap();
        assert!(!reasons.is_empty());
        assert!(
            reasons.iter().all(|r| r.contains(": campaign.inactive: Campaign LAUNCH is no longer active.")),
            "{reasons:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_batch_check_command_exits_by_the_verdict() {
    let app = TestApp::each().await.into_iter().next().unwrap();
    seed_ledger(&app).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mcms"))
            .args(args)
            .args(["--database-url", &app.t.url])
            .env("MCMS_LOG", "warn")
            .output()
            .unwrap()
    };
    let month = seeded_month().to_string();
    let open = run(&["batch-check", "--month", &month]);
    assert_eq!(open.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&open.stdout), format!("{month} is not closed: close it before loading\n"));
    let owner = app.t.db.users().await.unwrap()[0].id;
    app.t.db.close_period(seeded_month(), owner).await.unwrap();
    let safe = run(&["batch-check", "--month", &month]);
    assert_eq!(safe.status.code(), Some(0), "{}", String::from_utf8_lossy(&safe.stderr));
    let bad = run(&["batch-check", "--month", "last month"]);
    assert_eq!(bad.status.code(), Some(2), "a usage error, as clap reports them");
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains("'--month <MONTH>'") && said.contains("expected YYYY-MM"), "{said}");
    let nine = run(&["export", "--month", "9999-12"]);
    assert!(String::from_utf8_lossy(&nine.stderr).contains("2000-01 to 2099-12"), "a month out of range is refused");
    let format = run(&["export", "--month", &month, "--format", "xml"]);
    assert!(String::from_utf8_lossy(&format.stderr).contains("[possible values: csv, jsonl]"));
    let export = run(&["export", "--month", &month, "--format", "jsonl"]);
    assert!(export.status.success());
    assert!(String::from_utf8_lossy(&export.stdout).lines().count() >= 1);
    app.finish().await;
}

#[tokio::test]
async fn the_download_needs_a_signed_in_user_and_a_valid_month() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let month = seeded_month().to_string();
        let mut anonymous = app.browser([10, 2, 0, 1]);
        assert_eq!(anonymous.page(&format!("/costs/export?month={month}")).await.status, StatusCode::UNAUTHORIZED);
        let (mut viewer, _) = app.signed_in("v@mcms.test", Role::Viewer).await;
        let r = viewer.page(&format!("/costs/export?month={month}&format=csv")).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend(), r.body);
        assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            r.headers["content-disposition"],
            format!("attachment; filename=\"mcms-costs-{month}.csv\"").as_str()
        );
        assert!(r.body.starts_with("entry_id,entry_date,"));
        assert_eq!(viewer.page("/costs/export?month=13-2026").await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            viewer.page(&format!("/costs/export?month={month}&format=xml")).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn no_cell_of_a_downloaded_file_is_run_as_a_formula_and_numbers_stay_numbers() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let db = &app.t.db;
        let settings = CostSettings::default();
        // A credit stored before the form refused such memos (straight into the store), on a day
        // of the seeded month that has no entry yet.
        let seeded: Vec<time::Date> = (61..=63).map(|d| today() - time::Duration::days(d)).collect();
        let mut day = seeded_month().first_day();
        while seeded.contains(&day) {
            day = day.next_day().unwrap();
        }
        let mut entry = db.cost(1).await.unwrap().unwrap().entry;
        entry.date = day;
        entry.amount.minor = -1200;
        entry.reporting_minor = -1200;
        entry.corrects = Some(1);
        entry.memo = "=HYPERLINK(\"http://evil.example\",\"invoice\")".into();
        entry.invoice_number = "+cmd|' /C calc'!A0".into();
        db.create_cost(&entry, &settings, 1).await.unwrap();

        let (mut b, _) = app.signed_in("ana@mcms.test", Role::Viewer).await;
        let r = b.page(&format!("/costs/export?month={}&format=csv", seeded_month())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", app.backend());
        let mut reader = csv::Reader::from_reader(r.body.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let mut memos = Vec::new();
        for record in reader.records() {
            let record = record.unwrap();
            for cell in record.iter() {
                assert!(
                    !domain::sheet::looks_like_formula(cell),
                    "{}: a spreadsheet would run {cell:?}",
                    app.backend()
                );
            }
            memos.push((
                record[column("memo")].to_owned(),
                record[column("invoice_number")].to_owned(),
                record[column("amount")].to_owned(),
            ));
        }
        assert!(
            memos.contains(&(
                "'=HYPERLINK(\"http://evil.example\",\"invoice\")".into(),
                "'+cmd|' /C calc'!A0".into(),
                "-1200".into()
            )),
            "{}: {memos:?}",
            app.backend()
        );
        app.finish().await;
    }
}

/// Opens `csv` in LibreOffice Calc (headless) as a person would, and returns every cell of the
/// first sheet with its formula, if the spreadsheet made one. `None` when LibreOffice is not
/// installed and not required (the test command installs it and requires it).
fn open_in_a_spreadsheet(name: &str, csv: &[u8]) -> Option<Vec<(String, calamine::Data, String)>> {
    use calamine::{Reader, Xlsx};
    let required = std::env::var("MCMS_REQUIRE_SPREADSHEET").is_ok_and(|v| v == "1");
    let dir = std::env::temp_dir().join(format!("mcms-sheet-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.csv")), csv).unwrap();
    // A profile of its own in the test's folder (never the user's, never shared between tests).
    let profile = format!("-env:UserInstallation=file://{}", dir.join("profile").display());
    let converted = std::process::Command::new("soffice")
        .arg("--headless")
        .arg(profile)
        .args(["--convert-to", "xlsx", "--outdir"])
        .arg(&dir)
        .arg(dir.join(format!("{name}.csv")))
        .output();
    match converted {
        Ok(out) if out.status.success() => {}
        Ok(out) if required => panic!("LibreOffice failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) if required => panic!("LibreOffice is required (MCMS_REQUIRE_SPREADSHEET=1): {e}"),
        _ => {
            eprintln!("SKIPPED the spreadsheet half of this test: LibreOffice (soffice) is not installed");
            return None;
        }
    }
    let mut book: Xlsx<_> = calamine::open_workbook(dir.join(format!("{name}.xlsx"))).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let values = book.worksheet_range(&sheet).unwrap();
    let formulas = book.worksheet_formula(&sheet).unwrap();
    let mut cells = Vec::new();
    for (row, col, value) in values.used_cells() {
        let at = (row as u32, col as u32);
        let formula = formulas.get_value(at).cloned().unwrap_or_default();
        cells.push((format!("{row}:{col}"), value.clone(), formula));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some(cells)
}

#[tokio::test]
async fn downloaded_files_open_in_a_spreadsheet_with_no_formula_run_and_numbers_as_numbers() {
    let app = TestApp::each().await.into_iter().next().unwrap();
    seed_ledger(&app).await;
    let db = &app.t.db;
    let mut entry = db.cost(1).await.unwrap().unwrap().entry;
    entry.date = seeded_month().first_day();
    if (61..=63).any(|d| today() - time::Duration::days(d) == entry.date) {
        entry.date = entry.date.next_day().unwrap().next_day().unwrap().next_day().unwrap();
    }
    entry.memo = "=1+1".into();
    entry.invoice_number = "@SUM(1,2)".into();
    db.create_cost(&entry, &CostSettings::default(), 1).await.unwrap();
    let (mut b, _) = app.signed_in("ana@mcms.test", Role::Viewer).await;
    let export = b.page(&format!("/costs/export?month={}&format=csv", seeded_month())).await;
    assert_eq!(export.status, StatusCode::OK);
    let Some(cells) = open_in_a_spreadsheet("month", export.body.as_bytes()) else {
        app.finish().await;
        return;
    };
    for (at, value, formula) in &cells {
        assert!(formula.is_empty(), "cell {at} became the formula {formula:?} (value {value:?})");
    }
    let texts: Vec<String> = cells.iter().map(|(_, v, _)| v.to_string()).collect();
    assert!(texts.iter().any(|t| t == "'=1+1"), "the memo shows as text: {texts:?}");
    assert!(
        cells.iter().any(|(_, v, _)| matches!(v, calamine::Data::Float(f) if *f == 50_000.0)
            || matches!(v, calamine::Data::Int(50_000))),
        "amounts stay numbers: {texts:?}"
    );
    // The control: the same text unescaped is what a spreadsheet would run.
    let raw = open_in_a_spreadsheet("control", b"memo\n=1+1\n").unwrap();
    assert!(raw.iter().any(|(_, _, f)| !f.is_empty()), "LibreOffice runs an unescaped formula: {raw:?}");
    app.finish().await;
}

/// The pipelines' `ledger` source is the export, typed: same entries, same amounts, on both
/// databases; with `batch_check` it refuses a month the check refuses.
#[tokio::test]
async fn the_ledger_source_gives_the_export_as_typed_columns() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let month = seeded_month();
        let settings = CostSettings::default();
        let data = server::pipelines::McmsData { db: app.t.db.clone(), settings, today: today() };
        let dir = std::env::temp_dir().join(format!("mcms-ledger-source-{}-{}", std::process::id(), app.backend()));
        let _ = std::fs::remove_dir_all(&dir);
        let pipeline_settings = pipeline::Settings {
            today: today(),
            base_dir: dir.clone(),
            secrets: Default::default(),
            mode: pipeline::Mode::Run,
            cancel: Default::default(),
            progress: Default::default(),
            engine: pipeline::Engine::Embedded,
        };
        let file = format!(
            "version: 1\nconnections:\n  out: {{ kind: folder, path: . }}\nsteps:\n  \
             - name: ledger\n    source: {{ ledger: {{ month: \"{month}\", batch_check: false }} }}\n  \
             - name: sums\n    transform: {{ sql: \"SELECT count(*) AS n, sum(amount_minor) AS minor, CAST(sum(amount) AS VARCHAR) AS amount, \
             CAST(min(entry_date) AS VARCHAR) AS first FROM ledger\" }}\n  \
             - name: store\n    sink: {{ files: {{ input: sums, connection: out, path: sums, format: csv }} }}\n"
        );
        let run = pipeline::run(&file, &Default::default(), &pipeline_settings, &data).await.unwrap();
        assert_eq!(run.steps[1].rows, 1);
        let written = std::fs::read_dir(dir.join("sums")).unwrap().next().unwrap().unwrap().path();
        let csv = std::fs::read_to_string(written).unwrap();
        let rows = batch::month_entries(&app.t.db, month).await.unwrap();
        let minor: i64 = rows.iter().map(|r| r.entry.amount.minor).sum();
        let first = rows.iter().map(|r| r.entry.date).min().unwrap();
        // KRW has no minor digits: the decimal amount is the minor amount, with four places.
        assert_eq!(
            csv,
            format!("n,minor,amount,first\n{},{minor},{minor}.0000,{first}\n", rows.len()),
            "{}",
            app.backend()
        );

        // The batch check (on by default) refuses the month while it is open.
        let checked = file.replace(", batch_check: false", "");
        let error = pipeline::run(&checked, &Default::default(), &pipeline_settings, &data).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "step `ledger`: {month} is not safe to load (the batch check): {month} is not closed: close it before loading"
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
        app.finish().await;
    }
}
