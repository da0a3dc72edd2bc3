//! The key console's server functions: what each refuses, and that every change is audited.

use crate::common;

use crate::common::TestApp;
use domain::Role;
use http::StatusCode;
use serde_json::Value;

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn invalid(body: &str) -> String {
    json(body)["Invalid"]["code"].as_str().unwrap_or_else(|| panic!("not a field error: {body}")).to_owned()
}

#[tokio::test]
async fn admins_manage_partners_keys_and_allowlists_and_each_mistake_is_named() {
    for app in TestApp::each().await {
        common::seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;

        let nameless = admin.call("/api/partners/save", &[("name", "  ")]).await;
        assert_eq!(invalid(&nameless.body), "partner.name");
        let unknown = admin.call("/api/partners/save", &[("name", "Blue"), ("games[0]", "NOPE")]).await;
        assert_eq!(invalid(&unknown.body), "partner.unknown_code", "{}", app.backend());
        let made = admin
            .call(
                "/api/partners/save",
                &[
                    ("name", "Blue"),
                    ("contact", "ops@blue.test"),
                    ("active", "true"),
                    ("games[0]", "STARFALL"),
                    ("channels[0]", "GOOGLE_ADS"),
                ],
            )
            .await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.body);
        let id = made.body.clone();
        let twice = admin.call("/api/partners/save", &[("name", "Blue")]).await;
        assert_eq!(json(&twice.body)["Conflict"]["code"], "partner.duplicate");

        // Suspending asks for a confirmation; without it nothing changes.
        let suspend = [("id", id.as_str()), ("name", "Blue"), ("games[0]", "STARFALL")];
        assert_eq!(invalid(&admin.call("/api/partners/save", &suspend).await.body), "partner.confirm_suspend");
        let detail = json(&admin.call("/api/partners/detail", &[("id", &id)]).await.body);
        assert_eq!(detail["partner"]["active"], true);

        // Issuing: each bad setting named; the key comes back once, whole, and parses.
        let issue = |extra: &[(&'static str, &'static str)]| {
            let mut form = vec![
                ("partner", id.clone()),
                ("label", "nightly".to_owned()),
                ("scopes[0]", "stats:read".to_owned()),
                ("rate_per_minute", "60".to_owned()),
            ];
            for (k, v) in extra {
                form.retain(|(key, _)| key != k);
                form.push((k, (*v).to_owned()));
            }
            form
        };
        for (extra, code) in [
            (vec![("label", " ")], "key.label"),
            (vec![("scopes[0]", "admin")], "key.scope_unknown"),
            (vec![("expires_on", "2020-01-01")], "key.expiry_past"),
            (vec![("expires_on", "soon")], "key.expiry_invalid"),
            (vec![("rate_per_minute", "0")], "key.rate_invalid"),
            (vec![("daily_quota", "-5")], "key.quota_invalid"),
        ] {
            let form = issue(&extra);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(invalid(&admin.call("/api/partners/keys/issue", &form).await.body), code);
        }
        let form = issue(&[("expires_on", "2099-12-31"), ("daily_quota", "1,000")]);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let issued = json(&admin.call("/api/partners/keys/issue", &form).await.body);
        let key = issued["key"].as_str().unwrap();
        assert!(domain::keys::ApiKey::parse(key).is_ok(), "{issued}");
        let detail = admin.call("/api/partners/detail", &[("id", &id)]).await;
        assert!(!detail.body.contains(key), "the console never shows the key again");
        let keys = json(&detail.body)["keys"].clone();
        assert_eq!(keys[0]["prefix"], issued["prefix"]);
        assert_eq!((keys[0]["status"].as_str(), keys[0]["daily_quota"].as_i64()), (Some("Live"), Some(1_000)));
        assert_eq!(keys[0]["expires_at"], "2100-01-01 00:00 UTC", "works through its last day");
        let key_id = keys[0]["id"].to_string();

        // Allowlists: the parser the browser uses; a bad entry stores nothing.
        let bad =
            admin.call("/api/partners/allowlist", &[("partner", &id), ("allowlist", "10.0.0.0/8\n10.1.2.3/8")]).await;
        assert_eq!(invalid(&bad.body), "allowlist.host_bits");
        let good = admin
            .call("/api/partners/allowlist", &[("partner", &id), ("allowlist", "10.0.0.0/8\n::ffff:192.0.2.1")])
            .await;
        assert_eq!(good.status, StatusCode::OK);
        let detail = json(&admin.call("/api/partners/detail", &[("id", &id)]).await.body);
        assert_eq!(detail["partner"]["allowlist"], serde_json::json!(["10.0.0.0/8", "192.0.2.1/32"]));

        // Rotate, change and revoke each need their box ticked.
        let rotate = [("key", key_id.as_str()), ("grace_hours", "2")];
        assert_eq!(invalid(&admin.call("/api/partners/keys/rotate", &rotate).await.body), "key.confirm");
        let revoke = [("key", key_id.as_str())];
        assert_eq!(invalid(&admin.call("/api/partners/keys/revoke", &revoke).await.body), "key.confirm");
        let change = [
            ("key", key_id.as_str()),
            ("label", "nightly"),
            ("scopes[0]", "games:read"),
            ("rate_per_minute", "120"),
            ("allowlist", "203.0.113.0/24"),
        ];
        assert_eq!(invalid(&admin.call("/api/partners/keys/update", &change).await.body), "key.confirm");
        let confirmed: Vec<(&str, &str)> = change.iter().copied().chain([("confirm", "true")]).collect();
        assert_eq!(admin.call("/api/partners/keys/update", &confirmed).await.status, StatusCode::OK);
        let rotated = admin
            .call("/api/partners/keys/rotate", &[("key", &key_id), ("grace_hours", "2"), ("confirm", "true")])
            .await;
        let successor = json(&rotated.body);
        assert_ne!(successor["key"], issued["key"]);
        let detail = json(&admin.call("/api/partners/detail", &[("id", &id)]).await.body);
        let statuses: Vec<&str> =
            detail["keys"].as_array().unwrap().iter().map(|k| k["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["Live", "Grace"], "newest first");
        assert_eq!(
            detail["keys"][0]["allowlist"],
            serde_json::json!(["203.0.113.0/24"]),
            "the successor keeps the list"
        );
        assert_eq!(detail["keys"][0]["rate_per_minute"], 120);
        // The key console reads the keys alone again after issuing or rotating: the same lines.
        let keys = json(&admin.call("/api/partners/keys", &[("id", &id)]).await.body);
        assert_eq!(keys, detail["keys"]);
        let unknown = admin.call("/api/partners/keys", &[("id", "999999")]).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let successor_id = detail["keys"][0]["id"].to_string();
        let revoked = admin.call("/api/partners/keys/revoke", &[("key", &successor_id), ("confirm", "true")]).await;
        assert_eq!(revoked.status, StatusCode::OK);

        // Every change is in the partner's history, newest first.
        let detail = json(&admin.call("/api/partners/detail", &[("id", &id)]).await.body);
        let actions: Vec<&str> =
            detail["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        assert_eq!(actions.len(), 7, "{actions:?}");
        assert!(actions[0].starts_with("revoke mcms_"), "{actions:?}");
        assert!(actions.iter().any(|a| a.starts_with("rotate")) && actions.last() == Some(&"create"), "{actions:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_statistics_file_loads_whole_or_names_every_bad_row() {
    for app in TestApp::each().await {
        common::seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let header = "game,channel,day,new_users,daily_active_users,paying_users,revenue,currency\n";
        let bad = format!(
            "{header}STARFALL,GOOGLE_ADS,2026-10-01,5,50,2,\"10,000\",KRW\nSTARFALL,NOPE,2026-10-02,5,50,2,100,KRW\n\
             STARFALL,GOOGLE_ADS,2026-10-03,5,50,2,1.5,KRW\n"
        );
        let refused = json(&admin.call("/api/partners/stats/load", &[("csv", &bad)]).await.body);
        let rows: Vec<(u64, &str)> = refused["Rows"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["row"].as_u64().unwrap(), p["code"].as_str().unwrap()))
            .collect();
        assert_eq!(rows, [(3, "stats.channel_unknown"), (4, "stats.revenue_invalid")]);
        let day = time::Date::from_calendar_date(2026, time::Month::October, 1).unwrap();
        let none = app.t.db.daily_stats("STARFALL", &["GOOGLE_ADS".into()], day, day, None, 10).await.unwrap();
        assert!(none.is_empty(), "{}: not even the good row", app.backend());

        let good = format!("{header}STARFALL,GOOGLE_ADS,2026-10-01,5,50,2,\"10,000\",KRW\n");
        let loaded = admin.call("/api/partners/stats/load", &[("csv", &good)]).await;
        assert_eq!((loaded.status, loaded.body.as_str()), (StatusCode::OK, "1"));
        let stored = app.t.db.daily_stats("STARFALL", &["GOOGLE_ADS".into()], day, day, None, 10).await.unwrap();
        assert_eq!((stored[0].daily_active, stored[0].revenue_minor), (50, 10_000));
        app.finish().await;
    }
}

/// A new key or token is shown once, in the answer; a form posted without JavaScript is answered
/// by sending the browser back to the page, where it could not be shown. Such a post issues
/// nothing and says why; the same call from the page's script issues.
#[tokio::test]
async fn keys_and_tokens_are_not_issued_by_a_form_posted_without_javascript() {
    for app in TestApp::each().await {
        common::seed_ledger(&app).await;
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let id = admin.call("/api/partners/save", &[("name", "Blue"), ("games[0]", "STARFALL")]).await.body;
        let page = format!("http://{}/partners/{id}", common::HOST);
        let keys = |body: &str| json(body).as_array().unwrap().clone();
        let sent_back = |r: &common::Reply| {
            assert_eq!(r.status, StatusCode::FOUND, "{}: {}", app.backend(), r.body);
            let back = r.location().unwrap().trim_start_matches(&format!("http://{}", common::HOST)).to_owned();
            assert!(back.contains("__err="), "{back}");
            back
        };

        let issue = format!("partner={id}&label=nightly&scopes%5B0%5D=stats%3Aread&rate_per_minute=60");
        let r = admin.send(common::plain_form_post("/api/partners/keys/issue", &page), issue).await;
        let back = sent_back(&r);
        let shown = admin.page(&back).await;
        assert!(shown.body.contains("which needs JavaScript. Nothing was issued."), "{}", app.backend());
        assert!(keys(&admin.call("/api/partners/keys", &[("id", &id)]).await.body).is_empty(), "{}", app.backend());

        let form =
            [("partner", id.as_str()), ("label", "nightly"), ("scopes[0]", "stats:read"), ("rate_per_minute", "60")];
        assert_eq!(admin.call("/api/partners/keys/issue", &form).await.status, StatusCode::OK);
        let before = keys(&admin.call("/api/partners/keys", &[("id", &id)]).await.body);
        assert_eq!(before.len(), 1);
        let rotate = format!("key={}&grace_hours=2&confirm=true", before[0]["id"]);
        let r = admin.send(common::plain_form_post("/api/partners/keys/rotate", &page), rotate).await;
        sent_back(&r);
        assert_eq!(keys(&admin.call("/api/partners/keys", &[("id", &id)]).await.body), before, "{}", app.backend());

        let tokens = admin.call("/api/poc/tokens", &[]).await.body;
        let poc = format!("http://{}/poc", common::HOST);
        let r = admin.send(common::plain_form_post("/api/poc/issue-token", &poc), "label=nightly".to_owned()).await;
        sent_back(&r);
        assert_eq!(admin.call("/api/poc/tokens", &[]).await.body, tokens, "{}", app.backend());
    }
}
