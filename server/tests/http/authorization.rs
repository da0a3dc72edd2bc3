//! Every server function × every kind of caller: who may call it, and what the others get.

use crate::common;

use crate::common::{PASSWORD, TestApp};
use domain::Role;
use http::StatusCode;
use leptos::server_fn::ServerFn;

/// (endpoint, least role; None = anyone). Must name every registered server function.
const MATRIX: &[(&str, Option<Role>)] = &[
    ("/api/login", None),
    ("/api/logout", None),
    ("/api/me", None),
    ("/api/language", None),
    ("/api/admin/users", Some(Role::Admin)),
    ("/api/admin/users/create", Some(Role::Admin)),
    ("/api/admin/users/role", Some(Role::Admin)),
    ("/api/admin/users/active", Some(Role::Admin)),
    ("/api/costs/form-data", Some(Role::Viewer)),
    ("/api/costs/list", Some(Role::Viewer)),
    ("/api/costs/get", Some(Role::Viewer)),
    ("/api/costs/save", Some(Role::Marketer)),
    ("/api/costs/delete", Some(Role::Marketer)),
    ("/api/costs/restore", Some(Role::Admin)),
    ("/api/costs/close-month", Some(Role::Admin)),
    ("/api/costs/reopen-month", Some(Role::Admin)),
    ("/api/costs/history", Some(Role::Viewer)),
    ("/api/costs/import/overview", Some(Role::Marketer)),
    ("/api/costs/import/batch", Some(Role::Marketer)),
    ("/api/costs/import/draft", Some(Role::Marketer)),
    ("/api/costs/import/edit-row", Some(Role::Marketer)),
    ("/api/costs/import/map", Some(Role::Marketer)),
    ("/api/costs/import/commit", Some(Role::Marketer)),
    ("/api/costs/import/discard", Some(Role::Marketer)),
    ("/api/costs/import/progress", Some(Role::Marketer)),
    ("/api/costs/import/rollback", Some(Role::Marketer)),
    ("/api/costs/periods", Some(Role::Admin)),
    ("/api/costs/budgets", Some(Role::Viewer)),
    ("/api/costs/set-budget", Some(Role::Marketer)),
    ("/api/costs/rates", Some(Role::Viewer)),
    ("/api/costs/import-rates", Some(Role::Admin)),
    ("/api/costs/save-rate", Some(Role::Admin)),
    ("/api/admin/audit", Some(Role::Admin)),
    ("/api/costs/save-code", Some(Role::Admin)),
    ("/api/costs/save-campaign", Some(Role::Marketer)),
    ("/api/costs/save-cost-type", Some(Role::Admin)),
    ("/api/costs/save-currency", Some(Role::Admin)),
    ("/api/partners/overview", Some(Role::Admin)),
    ("/api/partners/save", Some(Role::Admin)),
    ("/api/partners/detail", Some(Role::Admin)),
    ("/api/partners/keys", Some(Role::Admin)),
    ("/api/partners/keys/issue", Some(Role::Admin)),
    ("/api/partners/keys/rotate", Some(Role::Admin)),
    ("/api/partners/keys/revoke", Some(Role::Admin)),
    ("/api/partners/keys/update", Some(Role::Admin)),
    ("/api/partners/allowlist", Some(Role::Admin)),
    ("/api/partners/stats/load", Some(Role::Admin)),
    ("/api/poc/report", Some(Role::Viewer)),
    ("/api/costs/dashboard", Some(Role::Viewer)),
    ("/api/poc/record", Some(Role::Admin)),
    ("/api/poc/decide", Some(Role::Admin)),
    ("/api/poc/edit-run", Some(Role::Admin)),
    ("/api/poc/withdraw-run", Some(Role::Admin)),
    ("/api/poc/tokens", Some(Role::Admin)),
    ("/api/poc/issue-token", Some(Role::Admin)),
    ("/api/poc/revoke-token", Some(Role::Admin)),
    ("/api/pipelines/list", Some(Role::Viewer)),
    ("/api/pipelines/get", Some(Role::Viewer)),
    ("/api/pipelines/versions", Some(Role::Viewer)),
    ("/api/pipelines/run/get", Some(Role::Viewer)),
    ("/api/pipelines/editor", Some(Role::Builder)),
    ("/api/pipelines/check", Some(Role::Builder)),
    ("/api/pipelines/save", Some(Role::Builder)),
    ("/api/pipelines/run", Some(Role::Builder)),
    ("/api/pipelines/run/cancel", Some(Role::Builder)),
    ("/api/pipelines/schedule", Some(Role::Builder)),
    ("/api/models/list", Some(Role::Viewer)),
    ("/api/models/get", Some(Role::Viewer)),
    ("/api/models/roll-out", Some(Role::Builder)),
    ("/api/models/sampling", Some(Role::Builder)),
    ("/api/ingest/survey", Some(Role::Builder)),
    ("/api/ingest/rewrite", Some(Role::Builder)),
    ("/api/ingest/watches", Some(Role::Builder)),
    ("/api/ingest/watches/create", Some(Role::Builder)),
    ("/api/ingest/watches/run", Some(Role::Builder)),
    ("/api/ingest/watch", Some(Role::Builder)),
    ("/api/ingest/watches/record", Some(Role::Admin)),
];

/// A pipeline that plans and runs with nothing outside MCMS: partner statistics into a folder.
const PIPELINE: &str = "version: 1\nconnections:\n  out: { kind: folder, path: out }\nsteps:\n  \
    - name: stats\n    source: { partner_stats: { from: \"2026-10-01\", to: \"2026-10-07\" } }\n  \
    - name: store\n    sink: { files: { input: stats, connection: out, path: weekly, format: csv } }\n";

#[test]
fn the_matrix_names_every_server_function() {
    // Linking the app registers its server functions; the router must exist for that.
    let _ = app::auth::Login::PATH;
    let mut registered: Vec<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()).collect();
    registered.sort();
    let mut listed: Vec<String> = MATRIX.iter().map(|(p, _)| (*p).to_owned()).collect();
    listed.sort();
    assert_eq!(registered, listed, "add each new server function to MATRIX with its least role");
}

/// A valid input for each endpoint, so that a refusal can only come from authorization.
fn input(endpoint: &str, target: &str, n: usize) -> Vec<(&'static str, String)> {
    match endpoint {
        "/api/login" => vec![("email", "spare@mcms.test".into()), ("password", PASSWORD.into()), ("next", "/".into())],
        "/api/language" => vec![("lang", "ko".into()), ("back", "/".into())],
        "/api/admin/users/create" => vec![
            ("email", format!("new{n}@mcms.test")),
            ("name", "New Person".into()),
            ("role", "viewer".into()),
            ("password", PASSWORD.into()),
        ],
        "/api/admin/users/role" => vec![("user_id", target.into()), ("role", "marketer".into())],
        "/api/costs/get" | "/api/costs/history" => vec![("id", "1".into())],
        "/api/costs/restore" => vec![("id", "2".into())],
        // Marketer and admin delete different entries (their turns differ in parity); admin restores one.
        "/api/costs/delete" => vec![("id", format!("{}", 2 + n % 2)), ("version", "1".into())],
        "/api/costs/save" => common::cost_form_fields(1 + (n % 20) as i64, "10,000"),
        "/api/costs/set-budget" => vec![
            ("campaign", "LAUNCH".into()),
            ("month", store::costs::YearMonth::of(common::today()).to_string()),
            ("amount", "1,000,000".into()),
        ],
        "/api/costs/import-rates" => vec![("csv", "currency,date,rate,source\nUSD,2026-11-02,1385.5,test\n".into())],
        "/api/costs/save-rate" => vec![
            ("currency", "USD".into()),
            ("date", "2026-11-02".into()),
            ("rate", "1385.5".into()),
            ("source", "test".into()),
        ],
        "/api/costs/save-code" => vec![
            ("kind", "vendors".into()),
            ("code", format!("V{n}")),
            ("name", "Vendor".into()),
            ("active", "true".into()),
        ],
        "/api/costs/save-campaign" => vec![
            ("code", format!("C{n}")),
            ("name", "Campaign".into()),
            ("game", "STARFALL".into()),
            ("channel", "GOOGLE_ADS".into()),
            ("flight_start", "2026-01-01".into()),
            ("flight_end", "2026-12-31".into()),
        ],
        "/api/costs/save-cost-type" => {
            vec![("code", "CPV".into()), ("name", "Cost per view".into()), ("active", "true".into())]
        }
        "/api/costs/save-currency" => vec![("code", "EUR".into()), ("active", "true".into())],
        "/api/costs/close-month" => vec![("month", format!("2025-{:02}", 1 + n % 12))],
        "/api/costs/reopen-month" => vec![("month", "2024-01".into()), ("reason", "audit fix".into())],
        "/api/admin/users/active" => vec![("user_id", target.into()), ("active", "true".into())],
        "/api/costs/import/batch"
        | "/api/costs/import/draft"
        | "/api/costs/import/map"
        | "/api/costs/import/commit"
        | "/api/costs/import/discard"
        | "/api/costs/import/progress" => vec![("id", "999999".into())],
        "/api/costs/import/edit-row" => vec![("id", "999999".into()), ("row", "2".into())],
        "/api/costs/import/rollback" => vec![("batch", "999999".into())],
        "/api/partners/save" => vec![("name", format!("Partner {n}")), ("games[0]", "STARFALL".into())],
        "/api/partners/detail" | "/api/partners/keys" => vec![("id", "1".into())],
        "/api/partners/keys/issue" => vec![
            ("partner", "1".into()),
            ("label", "job".into()),
            ("scopes[0]", "games:read".into()),
            ("rate_per_minute", "60".into()),
        ],
        "/api/partners/keys/rotate" => {
            vec![("key", "1".into()), ("grace_hours", "1".into()), ("confirm", "true".into())]
        }
        "/api/partners/keys/revoke" => vec![("key", "2".into()), ("confirm", "true".into())],
        "/api/partners/keys/update" => vec![
            ("key", "3".into()),
            ("label", "job".into()),
            ("scopes[0]", "games:read".into()),
            ("rate_per_minute", "60".into()),
            ("confirm", "true".into()),
        ],
        "/api/partners/allowlist" => vec![("partner", "1".into()), ("allowlist", "10.0.0.0/8".into())],
        "/api/partners/stats/load" => vec![(
            "csv",
            "game,channel,day,new_users,daily_active_users,paying_users,revenue,currency\n\
             STARFALL,GOOGLE_ADS,2026-10-01,1,10,1,\"1,000\",KRW\n"
                .into(),
        )],
        "/api/poc/edit-run" => {
            let mut fields = vec![("id", "1".to_owned())];
            let cells = [
                "redshift",
                "batch",
                "csv",
                "gzip",
                "1",
                "1",
                "1",
                "1",
                "2.5",
                "",
                "",
                "",
                "",
                "",
                "2026-10-01",
                "1",
                "e2e",
                "fixed",
            ];
            let names = [
                "cells[0]",
                "cells[1]",
                "cells[2]",
                "cells[3]",
                "cells[4]",
                "cells[5]",
                "cells[6]",
                "cells[7]",
                "cells[8]",
                "cells[9]",
                "cells[10]",
                "cells[11]",
                "cells[12]",
                "cells[13]",
                "cells[14]",
                "cells[15]",
                "cells[16]",
                "cells[17]",
            ];
            fields.extend(names.into_iter().zip(cells).map(|(k, v)| (k, v.to_owned())));
            fields
        }
        // The admin withdraws the run the viewer and marketer were refused.
        "/api/poc/withdraw-run" => vec![("id", "1".into()), ("confirm", "true".into())],
        "/api/poc/decide" => vec![("status", "decided".into()), ("decision", "Snowflake".into())],
        "/api/poc/issue-token" => vec![("label", "nightly".into())],
        "/api/poc/revoke-token" => {
            vec![("prefix", POC_TOKEN.lock().unwrap().clone()), ("confirm", "true".into())]
        }
        "/api/pipelines/get" | "/api/pipelines/versions" | "/api/pipelines/run" => {
            vec![("name", "stored".into())]
        }
        "/api/pipelines/check" => vec![("text", PIPELINE.into())],
        "/api/models/get" => vec![("name", "churn".into())],
        // Ends a canary that is not there: allowed whatever the model's state, so any refusal is
        // authorization's.
        "/api/models/roll-out" => {
            vec![("name", "churn".into()), ("action", "end_canary".into()), ("confirm", "true".into())]
        }
        "/api/models/sampling" => {
            vec![("name", "churn".into()), ("percent", "0".into()), ("confirm", "true".into())]
        }
        // A file in the data directory (written by the test), and a watch made before the calls.
        "/api/ingest/survey" => vec![("location", "landing/*.csv".into())],
        "/api/ingest/rewrite" => vec![("location", "landing/*.csv".into()), ("folder", format!("out-{n}"))],
        "/api/ingest/watches/create" => vec![
            ("name", format!("watch-{n}")),
            ("location", "landing/*.csv".into()),
            ("target_kind", "sqlite".into()),
            ("target", "lake.db".into()),
            ("table", "players".into()),
        ],
        "/api/ingest/watches/run" => vec![("name", "stored".into()), ("running", "false".into())],
        "/api/ingest/watch" | "/api/ingest/watches/record" => vec![("name", "stored".into())],
        "/api/pipelines/save" => vec![("name", format!("saved-{n}")), ("text", PIPELINE.into())],
        "/api/pipelines/run/get" | "/api/pipelines/run/cancel" => vec![("id", RUN.lock().unwrap().to_string())],
        "/api/pipelines/schedule" => {
            vec![("name", "stored".into()), ("cron", "0 6 * * *".into()), ("retries", "2".into())]
        }
        "/api/poc/record" => vec![(
            "csv",
            format!(
                "{}\nredshift,batch,csv,gzip,1,1,1,1,{}.5,,,,,,2026-10-01,1,e2e,\n",
                domain::poc::RUN_COLUMNS.join(","),
                n
            ),
        )],
        _ => vec![],
    }
}

/// A run recorded as going on (elsewhere: no instance here runs it).
static RUN: std::sync::Mutex<i64> = std::sync::Mutex::new(0);

/// The PoC token the admin revokes (the others are refused before it is looked up).
static POC_TOKEN: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

#[tokio::test]
async fn each_role_reaches_exactly_what_it_should() {
    let _ = app::auth::Login::PATH;
    let data_dir = std::env::temp_dir()
        .join("mcms-tests")
        .join(format!("authorization-{}", time::OffsetDateTime::now_utc().unix_timestamp_nanos()));
    std::fs::create_dir_all(data_dir.join("landing")).unwrap();
    std::fs::write(data_dir.join("landing/players.csv"), "player_id,country\n1,KR\n").unwrap();
    let config = server::WebConfig { data_dir, ..server::WebConfig::default() };
    for app in TestApp::each_with(config).await {
        common::seed_ledger(&app).await;
        app.user("spare@mcms.test", Role::Viewer).await;
        let target = app.user("target@mcms.test", Role::Viewer).await.id.to_string();
        let callers: [(Option<Role>, &str); 5] = [
            (None, ""),
            (Some(Role::Viewer), "viewer@mcms.test"),
            (Some(Role::Marketer), "marketer@mcms.test"),
            (Some(Role::Admin), "admin@mcms.test"),
            (Some(Role::Builder), "builder@mcms.test"),
        ];
        for (role, email) in callers {
            if let Some(role) = role {
                app.user(email, role).await;
            }
        }
        // Partner 1 with keys 1 (to rotate), 2 (to revoke) and 3 (to change).
        let admin = app.user("partner-admin@mcms.test", Role::Admin).await.id;
        let form = store::partners::PartnerForm { name: "P", contact: "", active: true, games: &[], channels: &[] };
        let partner = app.t.db.save_partner(None, &form, admin).await.unwrap();
        for _ in 0..3 {
            let settings = store::partners::KeySettings {
                label: "k".into(),
                scopes: vec![domain::keys::Scope::Games],
                models: vec![],
                expires_at: None,
                rate_per_minute: 60,
                daily_quota: None,
            };
            app.t.db.issue_key(partner, &settings, admin).await.unwrap();
        }
        let poc = app.t.db.create_poc("PoC", "goal", "running", "").await.unwrap();
        let system = store::poc::PocSystem {
            name: "redshift".into(),
            edition: String::new(),
            region: String::new(),
            configuration: String::new(),
        };
        app.t.db.add_poc_system(poc, &system).await.unwrap();
        let scenario =
            store::poc::PocScenario { name: "batch".into(), kind: "batch_load".into(), method: String::new() };
        app.t.db.add_poc_scenario(poc, &scenario).await.unwrap();
        let token = app.t.db.issue_poc_token(poc, "to revoke", None, admin).await.unwrap();
        *POC_TOKEN.lock().unwrap() = token.prefix().to_owned();
        let db = &app.t.db;
        db.save_pipeline("stored", PIPELINE, "sha", store::pipelines::Base::New, "", admin).await.unwrap();
        let watch = store::ingest::NewWatch {
            name: "stored".into(),
            location: "landing/*.csv".into(),
            target_kind: "sqlite".into(),
            target: "lake.db".into(),
            target_table: "players".into(),
            mode: "append".into(),
            format: None,
            keys: String::new(),
            every_secs: 1.0,
        };
        db.create_ingest_watch(&watch, admin).await.unwrap();
        let (_, onnx, signature) = server::demo::SHIPPED_MODELS[1];
        let version = store::models::NewVersion {
            model: "churn",
            bytes: onnx,
            sha256: "sha",
            task: "binary_classification",
            signature: &serde_json::to_string(&domain::models::Signature::parse(signature).unwrap()).unwrap(),
            uploaded_by: admin,
            via: "command",
            note: "",
        };
        db.add_model_version(&version).await.unwrap();
        let run = store::pipelines::NewRun {
            pipeline: "stored",
            file_sha256: "sha",
            params: "{}",
            started_by: Some(admin),
            via: store::pipelines::StartedVia::Page,
            version: Some(1),
        };
        // Recorded as running, on no instance: a cancel is asked in the database (200 past the gate).
        *RUN.lock().unwrap() = db.start_pipeline_run(&run).await.unwrap();
        let mut n = 0;
        for (endpoint, least) in MATRIX {
            for (role, email) in callers {
                n += 1;
                let mut b = app.browser([10, 0, 0, 2]);
                if role.is_some() {
                    assert_eq!(b.sign_in(email, PASSWORD).await.status, StatusCode::OK);
                }
                let owned = input(endpoint, &target, n);
                let form: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let r = b.call(endpoint, &form).await;
                let expected = match (least, role) {
                    (None, _) => StatusCode::OK,
                    (Some(_), None) => StatusCode::UNAUTHORIZED,
                    // Past the gate, a call about an import that does not exist is told so.
                    (Some(least), Some(role))
                        if role.includes(*least) && endpoint.starts_with("/api/costs/import/") =>
                    {
                        if *endpoint == "/api/costs/import/overview" { StatusCode::OK } else { StatusCode::NOT_FOUND }
                    }
                    // Past the gate, a watch that has loaded nothing has no period to record.
                    (Some(least), Some(role)) if role.includes(*least) && *endpoint == "/api/ingest/watches/record" => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    (Some(least), Some(role)) if role.includes(*least) => StatusCode::OK,
                    (Some(_), Some(_)) => StatusCode::FORBIDDEN,
                };
                assert_eq!(r.status, expected, "{}: {endpoint} as {role:?}: {}", app.backend(), r.body);
                match expected {
                    StatusCode::UNAUTHORIZED => assert_eq!(r.body, "\"Unauthenticated\""),
                    StatusCode::FORBIDDEN => assert_eq!(r.body, "\"Forbidden\""),
                    _ => {}
                }
            }
        }
        // Refused creations left nothing behind: only the admin's calls created users.
        let created = app.t.db.users().await.unwrap().into_iter().filter(|u| u.email.starts_with("new")).count();
        assert_eq!(created, 1, "{}", app.backend());
        app.finish().await;
    }
}
