//! Signing in and out, and what ends a session.

use crate::common;

use crate::common::{PASSWORD, TestApp};
use domain::Role;
use http::StatusCode;
use server::WebConfig;
use store::LoginThrottle;

#[tokio::test]
async fn wrong_password_unknown_user_and_deactivated_user_get_the_same_answer() {
    for app in TestApp::each().await {
        let gone = app.user("gone@mcms.test", Role::Marketer).await;
        app.user("ana@mcms.test", Role::Marketer).await;
        app.user("admin@mcms.test", Role::Admin).await;
        app.t.db.set_active(gone.id, false, gone.id).await.unwrap();
        let mut b = app.browser([10, 0, 0, 3]);
        let answers = [
            b.sign_in("ana@mcms.test", "not the password").await,
            b.sign_in("nobody@mcms.test", PASSWORD).await,
            b.sign_in("gone@mcms.test", PASSWORD).await,
            b.sign_in("not-an-email", PASSWORD).await,
        ];
        for r in &answers {
            assert_eq!(
                (r.status, r.body.as_str()),
                (StatusCode::UNAUTHORIZED, "\"BadCredentials\""),
                "{}",
                app.backend()
            );
            assert!(!r.headers.contains_key(http::header::SET_COOKIE), "a refused sign-in starts no session");
        }
        assert_eq!(b.whoami().await, None);
        app.finish().await;
    }
}

#[tokio::test]
async fn missing_form_fields_are_a_client_error_not_a_500() {
    for app in TestApp::each().await {
        let mut b = app.browser([10, 0, 0, 4]);
        let r = b.call("/api/login", &[("email", "ana@mcms.test")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}: {}", app.backend(), r.body);
        assert!(r.body.contains("BadRequest"), "{}", r.body);
        let r = b.call("/api/no-such-function", &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        app.finish().await;
    }
}

#[tokio::test]
async fn sign_in_rotates_the_session_id_and_sign_out_ends_it_on_the_server() {
    for app in TestApp::each().await {
        app.user("ana@mcms.test", Role::Marketer).await;
        let mut b = app.browser([10, 0, 0, 5]);
        assert_eq!(b.sign_in("ana@mcms.test", PASSWORD).await.status, StatusCode::OK);
        let first = b.cookies["mcms_session"].clone();
        assert_eq!(b.sign_in("ana@mcms.test", PASSWORD).await.status, StatusCode::OK);
        let second = b.cookies["mcms_session"].clone();
        assert_ne!(first, second, "{}: a sign-in issues a new session id", app.backend());

        let mut stale = b.clone();
        stale.cookies.insert("mcms_session".into(), first);
        assert_eq!(stale.whoami().await, None, "the pre-rotation id is dead");
        assert_eq!(b.whoami().await.as_deref(), Some("ana@mcms.test"));

        let mut copy = b.clone();
        assert_eq!(b.call("/api/logout", &[]).await.status, StatusCode::OK);
        assert!(!b.cookies.contains_key("mcms_session"), "sign-out removes the cookie");
        assert_eq!(b.whoami().await, None);
        assert!(!b.session_ended().await, "a signed-out browser is simply a visitor");
        assert!(copy.session_ended().await, "{}: a copied cookie dies with the sign-out, and says so", app.backend());
        assert!(!copy.cookies.contains_key("mcms_session"), "the dead cookie is cleared, so it is said once");
        assert_eq!(copy.whoami().await, None);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_session_cookie_is_hardened() {
    let secure = WebConfig { secure_cookies: true, ..WebConfig::default() };
    for (config, name, secure_flag) in
        [(WebConfig::default(), "mcms_session", false), (secure, "__Host-mcms_session", true)]
    {
        for app in TestApp::each_with(config.clone()).await {
            app.user("ana@mcms.test", Role::Viewer).await;
            let mut b = app.browser([10, 0, 0, 6]);
            let r = b.sign_in("ana@mcms.test", PASSWORD).await;
            let cookie = r.headers.get(http::header::SET_COOKIE).unwrap().to_str().unwrap();
            assert!(cookie.starts_with(&format!("{name}=")), "{cookie}");
            for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
                assert!(cookie.contains(attr), "{cookie} lacks {attr}");
            }
            assert_eq!(cookie.contains("Secure"), secure_flag, "{cookie}");
            app.finish().await;
        }
    }
}

#[tokio::test]
async fn tampered_and_unknown_session_cookies_are_treated_as_signed_out() {
    for app in TestApp::each().await {
        let mut b = app.browser([10, 0, 0, 7]);
        for junk in ["garbage!!", "AAAAAAAAAAAAAAAAAAAAAA", "", "%00%ff", "x".repeat(5000).as_str()] {
            b.cookies.insert("mcms_session".into(), junk.into());
            assert_eq!(b.whoami().await, None, "{}: cookie {junk:?}", app.backend());
            b.cookies.insert("mcms_session".into(), junk.into());
            let page = b.page("/admin/users").await;
            assert_eq!(page.status, StatusCode::FOUND, "cookie {junk:?}: {}", page.body);
            assert_eq!(page.location(), Some("/login?next=/admin/users&session=ended"));
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn sessions_survive_a_restart_and_are_shared_between_instances() {
    for app in TestApp::each().await {
        app.user("ana@mcms.test", Role::Viewer).await;
        let mut b = app.browser([10, 0, 0, 9]);
        assert_eq!(b.sign_in("ana@mcms.test", PASSWORD).await.status, StatusCode::OK);
        // A second instance: its own connection pool on the same database.
        let other = store::Db::connect(&app.t.url).await.unwrap();
        let mut on_other = b.clone();
        on_other.use_router(server::router(other.clone(), &WebConfig::default()));
        app.t.db.close().await; // the first instance stops
        assert_eq!(on_other.whoami().await.as_deref(), Some("ana@mcms.test"), "{}", app.backend());
        other.close().await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_limit_however_active() {
    let config = WebConfig { session_max_secs: 1, ..WebConfig::default() };
    for app in TestApp::each_with(config).await {
        app.user("ana@mcms.test", Role::Viewer).await;
        let mut b = app.browser([10, 0, 0, 8]);
        b.sign_in("ana@mcms.test", PASSWORD).await;
        assert_eq!(b.whoami().await.as_deref(), Some("ana@mcms.test"));
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(b.whoami().await, None, "{}", app.backend());
        app.finish().await;
    }
}

#[tokio::test]
async fn deactivation_ends_sessions_and_role_changes_apply_at_once() {
    for app in TestApp::each().await {
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let (mut ana, ana_user) = app.signed_in("ana@mcms.test", Role::Marketer).await;
        let id = ana_user.id.to_string();

        let r = admin.call("/api/admin/users/role", &[("user_id", &id), ("role", "admin")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(ana.call("/api/admin/users", &[]).await.status, StatusCode::OK, "the promotion counts at once");

        let r = admin.call("/api/admin/users/active", &[("user_id", &id), ("active", "false")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(ana.whoami().await, None, "{}: deactivation ends the session", app.backend());
        assert_eq!(ana.call("/api/admin/users", &[]).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(ana.sign_in("ana@mcms.test", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account_and_per_address() {
    let config = WebConfig {
        throttle: LoginThrottle { window_secs: 900, max_per_account: 3, max_per_address: 6 },
        ..WebConfig::default()
    };
    for app in TestApp::each_with(config).await {
        app.user("ana@mcms.test", Role::Viewer).await;
        app.user("bo@mcms.test", Role::Viewer).await;
        let mut attacker = app.browser([203, 0, 113, 9]);
        for _ in 0..3 {
            assert_eq!(attacker.sign_in("ana@mcms.test", "guess guess guess").await.status, StatusCode::UNAUTHORIZED);
        }
        let r = attacker.sign_in("ana@mcms.test", PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}: even the right password waits", app.backend());
        assert!(r.body.contains("Throttled"), "{}", r.body);
        // From another address the account is still locked.
        let mut elsewhere = app.browser([198, 51, 100, 1]);
        assert_eq!(elsewhere.sign_in("ana@mcms.test", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
        // Spraying other accounts from one address runs out the address's budget (6).
        for sprayed in ["cy@mcms.test", "dee@mcms.test", "eve@mcms.test"] {
            assert_eq!(attacker.sign_in(sprayed, "guess guess guess").await.status, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attacker.sign_in("bo@mcms.test", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(elsewhere.sign_in("bo@mcms.test", PASSWORD).await.status, StatusCode::OK, "bo is fine elsewhere");
        app.finish().await;
    }
}

/// A sign-in as the hydrated form sends it, through a proxy that says who the client is.
async fn sign_in_via(b: &mut common::Browser, forwarded_for: &str, email: &str, password: &str) -> common::Reply {
    let body = serde_urlencoded::to_string([("email", email), ("password", password), ("next", "")]).unwrap();
    let req = http::Request::builder()
        .method(http::Method::POST)
        .uri("/api/login")
        .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::ORIGIN, format!("http://{}", common::HOST))
        .header("x-forwarded-for", forwarded_for);
    b.send(req, body).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_throttle_counts_the_forwarded_client_not_the_proxy() {
    let config = WebConfig {
        throttle: LoginThrottle { window_secs: 900, max_per_account: 50, max_per_address: 4 },
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..WebConfig::default()
    };
    for app in TestApp::each_with(config).await {
        app.user("bo@mcms.test", Role::Viewer).await;
        let mut proxy = app.browser([10, 1, 2, 3]);
        // The attacker spends its address's budget through the proxy (a forged leftmost entry
        // changes nothing: the proxy appends the address it saw).
        for _ in 0..4 {
            let r = sign_in_via(&mut proxy, "198.51.100.7, 203.0.113.9", "nobody@mcms.test", "guess guess").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", app.backend());
        }
        let r = sign_in_via(&mut proxy, "1.2.3.4, 203.0.113.9", "bo@mcms.test", PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}: the attacker's address is spent", app.backend());
        // Everyone else behind the same proxy signs in.
        let r = sign_in_via(&mut proxy, "198.51.100.20", "bo@mcms.test", PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", app.backend(), r.body);
        // An untrusted peer's header is ignored: it is its own client.
        let mut direct = app.browser([203, 0, 113, 50]);
        for _ in 0..4 {
            sign_in_via(&mut direct, "198.51.100.30", "nobody@mcms.test", "guess guess").await;
        }
        let r = sign_in_via(&mut direct, "198.51.100.31", "bo@mcms.test", PASSWORD).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", app.backend());
        app.finish().await;
    }
}

#[tokio::test]
async fn concurrent_wrong_passwords_cannot_exceed_the_account_limit() {
    let config = WebConfig {
        throttle: LoginThrottle { window_secs: 900, max_per_account: 3, max_per_address: 1000 },
        ..WebConfig::default()
    };
    for app in TestApp::each_with(config).await {
        app.user("ana@mcms.test", Role::Viewer).await;
        let guesses = (0..12u8).map(|i| {
            let mut b = app.browser([198, 51, 100, i]);
            tokio::spawn(async move { b.sign_in("ana@mcms.test", "guess guess guess").await.status })
        });
        let mut tried = 0;
        for g in guesses.collect::<Vec<_>>() {
            match g.await.unwrap() {
                StatusCode::UNAUTHORIZED => tried += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("{}: {other}", app.backend()),
            }
        }
        assert_eq!(tried, 3, "{}: twelve guesses at once, three are checked", app.backend());
        app.finish().await;
    }
}

#[tokio::test]
async fn after_sign_in_only_local_paths_are_followed_and_no_input_breaks_the_redirect() {
    for app in TestApp::each().await {
        app.user("ana@mcms.test", Role::Viewer).await;
        let cases = [
            ("/costs?month=2026-11", "/costs?month=2026-11"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("/\t/evil.example", "/"),
            ("/\r\n/evil.example", "/"),
            ("/\r\nSet-Cookie: stolen=1", "/"),
            ("https://evil.example/", "/"),
            ("/café", "/"),
            ("/login", "/"),
        ];
        for (next, to) in cases {
            let mut b = app.browser([10, 0, 0, 8]);
            let r = b.call("/api/login", &[("email", "ana@mcms.test"), ("password", PASSWORD), ("next", next)]).await;
            assert_eq!(r.status, StatusCode::OK, "{}: {next:?}: {}", app.backend(), r.body);
            assert_eq!(r.location(), Some(to), "{}: {next:?}", app.backend());
            assert!(!r.headers.contains_key("stolen"));
        }
        // The sign-in page itself renders whatever `next` it is given.
        let mut b = app.browser([10, 0, 0, 9]);
        for query in ["next=/%0d%0a%0d%0aX", "next=%5C%5Cevil", "next=/%09/evil", "next=%E2%80%AE"] {
            let r = b.page(&format!("/login?{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{}: {query}", app.backend());
        }
        app.finish().await;
    }
}

/// Moves the stored expiry of every session, as if time had passed without a request.
async fn expire_sessions_in(app: &TestApp, secs: i64) {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
    match &app.t.db {
        store::Db::Sqlite(pool) => {
            sqlx::query("UPDATE tower_sessions SET expiry_date = $1").bind(at).execute(pool).await.unwrap();
        }
        store::Db::Postgres(pool) => {
            sqlx::query("UPDATE tower_sessions.session SET expiry_date = $1").bind(at).execute(pool).await.unwrap();
        }
    };
}

/// Seconds until the stored session expires.
async fn stored_expiry_in(app: &TestApp) -> i64 {
    let at: time::OffsetDateTime = match &app.t.db {
        store::Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT expiry_date FROM tower_sessions").fetch_one(pool).await.unwrap()
        }
        store::Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT expiry_date FROM tower_sessions.session").fetch_one(pool).await.unwrap()
        }
    };
    (at - time::OffsetDateTime::now_utc()).whole_seconds()
}

#[tokio::test]
async fn the_idle_expiry_slides_with_each_request_and_ends_an_idle_session() {
    for app in TestApp::each().await {
        app.user("ana@mcms.test", Role::Viewer).await;
        let mut b = app.browser([10, 0, 0, 12]);
        b.sign_in("ana@mcms.test", PASSWORD).await;
        // Almost eight idle hours later (the stored expiry is 30 s away), a request…
        expire_sessions_in(&app, 30).await;
        assert_eq!(b.whoami().await.as_deref(), Some("ana@mcms.test"), "{}", app.backend());
        // …gives the session eight hours again from now.
        let left = stored_expiry_in(&app).await;
        assert!(left > 8 * 3600 - 120, "{}: {left} s left after a request", app.backend());
        // Past the idle limit without a request, the session is over.
        expire_sessions_in(&app, -5).await;
        assert!(b.session_ended().await, "{}: the browser is told its session ended", app.backend());
        assert_eq!(b.whoami().await, None, "{}", app.backend());
        app.finish().await;
    }
}
