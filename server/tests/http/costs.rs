//! The cost ledger over HTTP: what each kind of bad input gets, and that it stores nothing.

use crate::common;

use crate::common::{TestApp, cost_form_fields, seed_ledger, today};
use domain::Role;
use http::StatusCode;
use serde_json::Value;

fn fields<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn a_marketer_saves_an_entry_and_the_list_totals_it() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let r = m.call("/api/costs/save", &fields(&cost_form_fields(2, "1,234,000"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend(), r.body);
        let saved = json(&r.body);
        assert_eq!(saved["version"], 1);
        assert_eq!(saved["entry"]["amount"]["minor"], 1_234_000);
        assert!(r.headers.contains_key("serverfnredirect"), "the form goes back to the list");

        let list = json(&m.call("/api/costs/list", &[]).await.body);
        assert_eq!(list["total_count"], 4);
        assert_eq!(list["total_reporting_minor"], 3 * 50_000 + 1_234_000);
        assert_eq!(list["rows"][0]["entry"]["amount"]["minor"], 1_234_000, "newest first");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_rule_breach_is_refused_with_findings_and_the_input_comes_back() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let r = m.call("/api/costs/save", &fields(&cost_form_fields(2, "1200.5"))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.backend());
        let err = json(&r.body);
        let findings = err["Rules"]["findings"].as_array().unwrap();
        assert_eq!(findings.len(), 1, "{err}");
        assert_eq!(findings[0]["rule"], "AmountPrecision");
        assert_eq!(findings[0]["details"], serde_json::json!(["KRW", "0", "1200.5"]));
        assert_eq!(err["Rules"]["submitted"]["amount"], "1200.5", "what was typed is handed back");

        let future = cost_form_fields(-3, "10,000");
        let r = m.call("/api/costs/save", &fields(&future)).await;
        assert_eq!(json(&r.body)["Rules"]["findings"][0]["rule"], "DateInFuture");
        let mut unknown = cost_form_fields(2, "10,000");
        unknown[3].1 = "NO_SUCH_CAMPAIGN".into();
        let r = m.call("/api/costs/save", &fields(&unknown)).await;
        assert_eq!(json(&r.body)["Rules"]["findings"][0]["rule"], "CampaignUnknown");

        // A credit must name what it corrects; an empty "corrects" field is no correction.
        let mut credit = cost_form_fields(2, "-5,000");
        credit.push(("form[corrects]", String::new()));
        let r = m.call("/api/costs/save", &fields(&credit)).await;
        assert_eq!(json(&r.body)["Rules"]["findings"][0]["rule"], "AmountNotPositive", "{}", r.body);
        credit.last_mut().unwrap().1 = "1".into();
        let r = m.call("/api/costs/save", &fields(&credit)).await;
        assert_eq!(r.status, StatusCode::OK, "a credit naming entry 1 saves: {}", r.body);
        assert_eq!(json(&r.body)["entry"]["corrects"], 1);

        let r = m.call("/api/costs/save", &[("form[amount]", "oops")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a nearly empty form is a rules answer, not a 500");
        assert_eq!(json(&m.call("/api/costs/list", &[]).await.body)["total_count"], 4, "only the credit was stored");
        app.finish().await;
    }
}

#[tokio::test]
async fn warnings_save_only_once_acknowledged() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let month = store::costs::YearMonth::of(today() - time::Duration::days(2));
        app.t.db.put_budget("LAUNCH", month, 100_000).await.unwrap();
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let form = cost_form_fields(2, "150,000");
        let r = m.call("/api/costs/save", &fields(&form)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}: {}", app.backend(), r.body);
        assert_eq!(json(&r.body)["Rules"]["findings"][0]["rule"], "BudgetOverrun");
        let mut acknowledged = fields(&form);
        acknowledged.push(("acknowledge", "budget.overrun"));
        let r = m.call("/api/costs/save", &acknowledged).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn two_people_editing_one_entry_cannot_overwrite_each_other() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut alice, _) = app.signed_in("alice@mcms.test", Role::Marketer).await;
        let (mut bob, _) = app.signed_in("bob@mcms.test", Role::Marketer).await;
        let date = (today() - time::Duration::days(61)).to_string();
        let edit = |amount: &str| {
            let mut f = cost_form_fields(61, amount);
            f[0].1 = date.clone();
            f.push(("form[editing]", "1".into()));
            f.push(("version", "1".into()));
            f
        };
        let r = alice.call("/api/costs/save", &fields(&edit("55,000"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend(), r.body);
        let r = bob.call("/api/costs/save", &fields(&edit("70,000"))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let stale = json(&r.body);
        assert_eq!(
            (&stale["Stale"]["version"], &stale["Stale"]["changed"]),
            (&serde_json::json!(2), &serde_json::json!(["amount"]))
        );
        assert_eq!(stale["Stale"]["submitted"]["amount"], "70,000", "Bob's input comes back to him");
        let stored = json(&bob.call("/api/costs/get", &[("id", "1")]).await.body);
        assert_eq!(stored["entry"]["amount"]["minor"], 55_000, "Alice's edit stands");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_closed_month_refuses_changes_on_every_path_until_reopened_with_a_reason() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let month = store::costs::YearMonth::of(today() - time::Duration::days(61)).to_string();
        assert_eq!(admin.call("/api/costs/close-month", &[("month", &month)]).await.status, StatusCode::OK);
        let again = admin.call("/api/costs/close-month", &[("month", &month)]).await;
        assert_eq!(
            (again.status, again.body.as_str()),
            (StatusCode::CONFLICT, r#"{"Conflict":{"code":"period.already_closed"}}"#)
        );

        let r = m.call("/api/costs/save", &fields(&cost_form_fields(62, "10,000"))).await;
        assert_eq!(json(&r.body)["Rules"]["findings"][0]["rule"], "PeriodClosed", "{}", app.backend());
        let r = m.call("/api/costs/delete", &[("id", "1"), ("version", "1")]).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::CONFLICT, r#"{"Conflict":{"code":"period.closed"}}"#));

        let r = admin.call("/api/costs/reopen-month", &[("month", &month), ("reason", " ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = admin.call("/api/costs/reopen-month", &[("month", "2026-13"), ("reason", "x")]).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, r#"{"Invalid":{"field":"month","code":"month.invalid"}}"#)
        );
        let r = admin.call("/api/costs/reopen-month", &[("month", &month), ("reason", "late credit note")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(m.call("/api/costs/delete", &[("id", "1"), ("version", "1")]).await.status, StatusCode::OK);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_list_refuses_malformed_filters_by_name() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut v, _) = app.signed_in("v@mcms.test", Role::Viewer).await;
        let r = v.call("/api/costs/list", &[("query[month]", "November")]).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, r#"{"Invalid":{"field":"month","code":"month.invalid"}}"#)
        );
        let r = v.call("/api/costs/list", &[("query[after]", "yesterday")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = v.call("/api/costs/get", &[("id", "999")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        app.finish().await;
    }
}

#[tokio::test]
async fn budgets_report_burn_and_refuse_bad_amounts_by_name() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let month = store::costs::YearMonth::of(today() - time::Duration::days(61)).to_string();
        for (amount, code) in [("12.5", "amount.precision"), ("lots", "amount.malformed"), ("-1", "budget.negative")] {
            let r =
                m.call("/api/costs/set-budget", &[("campaign", "LAUNCH"), ("month", &month), ("amount", amount)]).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
            assert_eq!(json(&r.body)["Invalid"]["code"], code, "{}: {amount}", app.backend());
        }
        let r = m.call("/api/costs/set-budget", &[("campaign", "NOPE"), ("month", &month), ("amount", "1")]).await;
        assert_eq!(json(&r.body)["Invalid"]["code"], "campaign.unknown");
        let r =
            m.call("/api/costs/set-budget", &[("campaign", "LAUNCH"), ("month", &month), ("amount", "40,000")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let report = json(&m.call("/api/costs/budgets", &[("month", &month)]).await.body);
        let line = &report["lines"][0];
        assert_eq!((&line["campaign"], &line["budget"]), (&serde_json::json!("LAUNCH"), &serde_json::json!(40_000)));
        let actual = line["actual"].as_i64().unwrap();
        assert!(actual >= 50_000, "at least one seeded entry of 50,000 falls in the month");
        assert_eq!(line["burn_pct"].as_i64().unwrap(), actual * 100 / 40_000, "burn over 100% flags the overrun");

        m.call("/api/costs/set-budget", &[("campaign", "LAUNCH"), ("month", &month), ("amount", "55,000")]).await;
        let report = json(&m.call("/api/costs/budgets", &[("month", &month)]).await.body);
        let changes: Vec<_> = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["campaign"].as_str().unwrap(), c["before"].as_i64(), c["after"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            changes,
            [("LAUNCH", Some(40_000), 55_000), ("LAUNCH", None, 40_000)],
            "newest first, refusals absent"
        );
        assert_eq!(report["changes"][0]["actor"], "Test User");
        let other = json(&m.call("/api/costs/budgets", &[("month", "2020-01")]).await.body);
        assert_eq!(other["changes"], serde_json::json!([]), "another month's history is its own");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_rate_file_loads_whole_or_not_at_all() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let day = (today() - time::Duration::days(3)).to_string();
        let bad = format!(
            "currency,date,rate,source\nUSD,{day},1385.5,BOK\nXYZ,{day},1,BOK\nUSD,{day},0,BOK\nCHF,{day},1500,BOK\n"
        );
        let r = admin.call("/api/costs/import-rates", &[("csv", &bad)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.backend());
        let problems = &json(&r.body)["Rows"]["problems"];
        assert_eq!(problems[0], serde_json::json!({ "row": 3, "code": "fx.currency_unknown", "detail": "XYZ" }));
        assert_eq!(problems[1]["code"], "fx.rate_not_positive");
        assert_eq!(
            problems[2],
            serde_json::json!({ "row": 5, "code": "fx.currency_unknown", "detail": "CHF" }),
            "an ISO currency MCMS does not keep"
        );
        let rates = json(&admin.call("/api/costs/rates", &[]).await.body);
        assert_eq!(rates["lines"].as_array().unwrap().len(), 0, "the good row was not stored either");

        // Five thousand bad rows: the first fifty are named and the rest counted, with or without
        // JavaScript (the page's redirect carries the error), never "something went wrong".
        let mut many = String::from("currency,date,rate,source\n");
        for _ in 0..5000 {
            many.push_str(&format!("XYZ,{day},1,BOK\n"));
        }
        let r = admin.call("/api/costs/import-rates", &[("csv", &many)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.backend());
        let refused = json(&r.body);
        assert_eq!(refused["Rows"]["problems"].as_array().unwrap().len(), 50);
        assert_eq!(refused["Rows"]["more"], 4950);
        let body = format!("csv={}", many.replace(',', "%2C").replace('\n', "%0A"));
        let plain = common::plain_form_post("/api/costs/import-rates", &format!("http://{}/costs/rates", common::HOST));
        let r = admin.send(plain, body).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}: {}", app.backend(), r.body);
        let back = r.location().unwrap().trim_start_matches(&format!("http://{}", common::HOST)).to_owned();
        let page = admin.page(&back).await;
        assert_eq!(page.status, StatusCode::OK, "{}", app.backend());
        assert!(page.body.contains("4950"), "{}: the rest are counted on the page", app.backend());

        // A plain form that succeeds is sent back to its page with its name in `__ok` (any earlier
        // outcome dropped), and the page says it worked.
        let earlier = (today() - time::Duration::days(4)).to_string();
        let once = format!("currency,date,rate,source\nUSD,{earlier},1380.25,BOK\n");
        let plain = common::plain_form_post("/api/costs/import-rates", &format!("http://{}{back}", common::HOST));
        let r = admin.send(plain, format!("csv={}", once.replace(',', "%2C").replace('\n', "%0A"))).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}: {}", app.backend(), r.body);
        let back = r.location().unwrap().trim_start_matches(&format!("http://{}", common::HOST)).to_owned();
        assert_eq!(back, "/costs/rates?__ok=%2Fapi%2Fcosts%2Fimport-rates", "{}", app.backend());
        let page = admin.page(&back).await;
        assert!(page.body.contains("alert-ok\">Saved."), "{}", app.backend());
        assert!(!admin.page("/costs/rates").await.body.contains("alert-ok"), "only the page sent back says so");

        let good = format!("currency,date,rate,source\nUSD,{day},\"1,385.50\",\"Bank of Korea, noon\"\n");
        let r = admin.call("/api/costs/import-rates", &[("csv", &good)]).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "1"));
        let rates = json(&admin.call("/api/costs/rates", &[]).await.body);
        assert_eq!(
            rates["lines"][0],
            serde_json::json!({ "currency": "USD", "date": day, "rate": "1385.500000", "source": "Bank of Korea, noon" })
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn one_rate_is_checked_by_field_stored_and_audited() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let day = (today() - time::Duration::days(2)).to_string();
        let save = |currency: &'static str, date: String, rate: &'static str, source: &'static str| {
            [
                ("currency", currency.to_owned()),
                ("date", date),
                ("rate", rate.to_owned()),
                ("source", source.to_owned()),
            ]
        };
        for (form, field, code) in [
            (save("XYZ", day.clone(), "1", "BOK"), "currency", "fx.currency_unknown"),
            (save("KRW", day.clone(), "1", "BOK"), "currency", "fx.currency_reporting"),
            (save("USD", "2026-02-30".into(), "1", "BOK"), "date", "fx.date_invalid"),
            (save("USD", day.clone(), "1.0000001", "BOK"), "rate", "fx.rate_precision"),
            (save("USD", day.clone(), "0", "BOK"), "rate", "fx.rate_not_positive"),
            (save("USD", day.clone(), "1385", " "), "source", "fx.source_missing"),
        ] {
            let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = admin.call("/api/costs/save-rate", &fields).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
            assert_eq!(json(&r.body)["Invalid"], serde_json::json!({ "field": field, "code": code }), "{fields:?}");
        }
        for rate in ["1,380", "1385.25"] {
            let form = save("USD", day.clone(), rate, "BOK");
            let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(admin.call("/api/costs/save-rate", &fields).await.status, StatusCode::OK);
        }
        let rates = json(&admin.call("/api/costs/rates", &[]).await.body);
        let usd: Vec<_> = rates["lines"].as_array().unwrap().iter().filter(|l| l["date"] == day.as_str()).collect();
        assert_eq!(usd.len(), 1, "the second save replaced the first");
        assert_eq!(usd[0]["rate"], "1385.250000");
        let trail = json(
            &admin.call("/api/admin/audit", &[("query[entity]", "fx_rates"), ("query[action]", "set")]).await.body,
        );
        let lines = trail["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "{}: {trail}", app.backend());
        assert_eq!(lines[0]["entity_id"], format!("USD/{day}"));
        assert_eq!(lines[0]["before"], "[1380000000,\"BOK\"]");
        app.finish().await;
    }
}

#[tokio::test]
async fn admins_search_the_audit_trail() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let page = json(&admin.call("/api/admin/audit", &[("query[entity]", "period")]).await.body);
        let lines = page["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "{}: {page}", app.backend());
        assert_eq!(
            (&lines[0]["action"], &lines[0]["entity_id"]),
            (&serde_json::json!("close"), &serde_json::json!("2024-01"))
        );
        assert_eq!(lines[0]["actor"], "ledger-owner@mcms.test");
        let all = json(&admin.call("/api/admin/audit", &[]).await.body);
        assert_eq!(all["lines"].as_array().unwrap().len(), 6, "two accounts, three entries and a close");
        let users = json(&admin.call("/api/admin/audit", &[("query[entity]", "user")]).await.body);
        assert_eq!(users["lines"].as_array().unwrap().len(), 2, "each account's creation");
        let r = admin.call("/api/admin/audit", &[("query[actor]", "someone")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        app.finish().await;
    }
}

#[tokio::test]
async fn master_data_changes_are_validated_and_audited() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        for (kind, code, expected) in [("countries", "KOR", "code.country"), ("games", "bad code", "code.invalid")] {
            let r = admin.call("/api/costs/save-code", &[("kind", kind), ("code", code), ("name", "X")]).await;
            assert_eq!(json(&r.body)["Invalid"]["code"], expected, "{}: {code}", app.backend());
        }
        let r = admin
            .call(
                "/api/costs/save-code",
                &[("kind", "games"), ("code", "puzzle"), ("name", "Puzzle Harbor"), ("active", "true")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let campaign = |game: &str, start: &str, end: &str| {
            vec![
                ("code", "SPRING".to_string()),
                ("name", "Spring".into()),
                ("game", game.into()),
                ("channel", "GOOGLE_ADS".into()),
                ("flight_start", start.into()),
                ("flight_end", end.into()),
                ("active", "true".into()),
            ]
        };
        let r = m.call("/api/costs/save-campaign", &fields(&campaign("NOPE", "2026-03-01", "2026-05-31"))).await;
        assert_eq!(json(&r.body)["Invalid"]["code"], "game.unknown");
        let r = m.call("/api/costs/save-campaign", &fields(&campaign("PUZZLE", "2026-05-31", "2026-03-01"))).await;
        assert_eq!(json(&r.body)["Invalid"]["code"], "flight.reversed");
        let r = m.call("/api/costs/save-campaign", &fields(&campaign("PUZZLE", "2026-03-01", "2026-05-31"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let data = json(&m.call("/api/costs/form-data", &[]).await.body);
        assert!(data["games"].as_array().unwrap().iter().any(|g| g["code"] == "PUZZLE"), "codes are upper-cased");
        assert!(
            data["campaigns"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["code"] == "SPRING" && c["info"]["game"] == "PUZZLE")
        );
        let trail = app.t.db.audit_trail("master", "games/PUZZLE").await.unwrap();
        assert_eq!(trail.len(), 1);
        assert_eq!(app.t.db.audit_trail("campaign", "SPRING").await.unwrap().len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn cost_types_and_currencies_are_managed_with_checks() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let save_type = |lo: &'static str, hi: &'static str| {
            vec![
                ("code", "cpv".to_string()),
                ("name", "Cost per view".into()),
                ("unit_priced", "true".into()),
                ("band_min", lo.into()),
                ("band_max", hi.into()),
                ("active", "true".into()),
            ]
        };
        for (lo, hi, code) in
            [("5,000", "", "band.invalid"), ("9,000", "5,000", "band.invalid"), ("1.5", "2", "amount.precision")]
        {
            let r = admin.call("/api/costs/save-cost-type", &fields(&save_type(lo, hi))).await;
            assert_eq!(json(&r.body)["Invalid"]["code"], code, "{}: {lo}–{hi}", app.backend());
        }
        let r = admin.call("/api/costs/save-cost-type", &fields(&save_type("1,000", "50,000"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let data = json(&admin.call("/api/costs/form-data", &[]).await.body);
        let cpv = data["cost_types"].as_array().unwrap().iter().find(|t| t["code"] == "CPV").unwrap().clone();
        assert_eq!(
            cpv["info"],
            serde_json::json!({ "active": true, "unit_priced": true, "per_mille_band": [1000, 50000] })
        );

        let r = admin.call("/api/costs/save-currency", &[("code", "KRW")]).await;
        assert_eq!(
            json(&r.body)["Invalid"]["code"],
            "currency.reporting",
            "the reporting currency cannot be switched off"
        );
        let r = admin.call("/api/costs/save-currency", &[("code", "ABC"), ("active", "true")]).await;
        assert_eq!(json(&r.body)["Invalid"]["code"], "currency.unknown");
        let r = admin.call("/api/costs/save-currency", &[("code", "usd")]).await;
        assert_eq!(r.status, StatusCode::OK);
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let mut usd = cost_form_fields(2, "10.00");
        usd[7].1 = "USD".into();
        let r = m.call("/api/costs/save", &fields(&usd)).await;
        assert_eq!(json(&r.body)["Rules"]["findings"][0]["rule"], "CurrencyInactive", "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_home_page_shows_this_months_spend_against_budget_and_what_needs_attention() {
    for app in TestApp::each().await {
        seed_ledger(&app).await;
        let month = store::costs::YearMonth::of(today());
        app.t.db.put_budget("LAUNCH", month, 10_000).await.unwrap();
        let (mut m, _) = app.signed_in("m@mcms.test", Role::Marketer).await;
        let fields = common::cost_form_fields(0, "25,000");
        let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("acknowledge", "budget.overrun"));
        let saved = m.call("/api/costs/save", &form).await;
        assert_eq!(saved.status, StatusCode::OK, "{}: {}", app.backend(), saved.body);
        let csv = "date,game,channel,campaign,country,vendor,cost_type,currency,amount\n2020-01-01,X,Y,Z,KR,DIRECT,FLAT,KRW,1\n";
        let up = m.upload("/costs/import/upload", &[("file", Some("agency-march.csv"), csv)]).await;
        assert_eq!(up.status, StatusCode::SEE_OTHER, "{}", up.body);

        let d = json(&m.call("/api/costs/dashboard", &[]).await.body);
        assert_eq!(d["month"], month.to_string());
        let spend = d["spend"].as_array().unwrap();
        let line = spend.iter().find(|l| l["label"] == "STARFALL / GOOGLE_ADS").unwrap();
        assert_eq!(
            (line["actual"].as_i64(), line["budget"].as_i64()),
            (Some(25_000), Some(10_000)),
            "{}",
            app.backend()
        );
        assert_eq!(d["over_budget"][0]["label"], "Launch (LAUNCH)");
        assert_eq!(d["drafts"][0]["file_name"], "agency-march.csv");
        assert_eq!(d["months"].as_array().unwrap().len(), 6);
        assert_eq!(d["months"][0], serde_json::json!([month.to_string(), false]));

        let home = m.page("/").await;
        assert!(home.body.contains("Spend against budget"), "{}", app.backend());
        assert!(home.body.contains("<svg") && home.body.contains("STARFALL / GOOGLE_ADS"), "drawn on the server");
        assert!(home.body.contains("agency-march.csv"));
        // A viewer sees the spend, not anyone's imports.
        let (mut v, _) = app.signed_in("v@mcms.test", Role::Viewer).await;
        let d = json(&v.call("/api/costs/dashboard", &[]).await.body);
        assert_eq!(d["drafts"], serde_json::json!([]));
        app.finish().await;
    }
}
