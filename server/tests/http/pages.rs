//! Server-rendered pages as a browser without JavaScript sees them.

use crate::common;

use crate::common::{HOST, PASSWORD, TestApp};
use domain::Role;
use http::{Method, Request, StatusCode, header};

#[tokio::test]
async fn visitors_are_sent_to_sign_in_and_come_back_after() {
    for app in TestApp::each().await {
        app.user("ana@mcms.test", Role::Marketer).await;
        let mut b = app.browser([10, 1, 0, 1]);
        let r = b.page("/costs").await;
        assert_eq!((r.status, r.location()), (StatusCode::FOUND, Some("/login?next=/costs")), "{}", app.backend());

        // The sign-in form posted without JavaScript: a plain form post answered with redirects.
        let form = format!("email=ana%40mcms.test&password={}&next=%2Fcosts", PASSWORD.replace(' ', "+"));
        let post = |body: String| {
            (
                Request::builder()
                    .method(Method::POST)
                    .uri("/api/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "text/html")
                    .header(header::ORIGIN, format!("http://{HOST}"))
                    .header(header::REFERER, format!("http://{HOST}/login?next=/costs")),
                body,
            )
        };
        let (req, body) = post(form.replace("password=a+long", "password=the+wrong"));
        let r = b.send(req, body).await;
        assert_eq!(r.status, StatusCode::FOUND);
        let back = r.location().unwrap().to_owned();
        assert!(back.starts_with(&format!("http://{HOST}/login?next=/costs&__path=")), "{back}");
        let page = b.page(back.trim_start_matches(&format!("http://{HOST}"))).await;
        assert!(page.body.contains("The email or password is not right."), "{}: error shown without JS", app.backend());
        // Failing again from that page: the URL carries only the latest failure, not both.
        let r = b
            .send(common::plain_form_post("/api/login", &back), form.replace("password=a+long", "password=the+wrong"))
            .await;
        let again = r.location().unwrap();
        assert_eq!((again.matches("__err=").count(), again.matches("__path=").count()), (1, 1), "{again}");

        let (req, body) = post(form);
        let r = b.send(req, body).await;
        assert_eq!((r.status, r.location()), (StatusCode::FOUND, Some("/costs")));
        let page = b.page("/costs").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<h1>Costs"), "{}", page.body);
        app.finish().await;
    }
}

fn nav(html: &str) -> Vec<&str> {
    let nav = html.split_once("<nav").map(|(_, rest)| rest.split_once("</nav>").unwrap().0).unwrap_or("");
    nav.split("<a ")
        .skip(1)
        .filter_map(|a| a.split_once('>').map(|(_, rest)| rest.split_once('<').unwrap().0))
        .collect()
}

#[tokio::test]
async fn navigation_and_pages_follow_the_role() {
    for app in TestApp::each().await {
        for (role, email, expected_nav) in [
            (Role::Viewer, "viewer@mcms.test", vec!["Costs", "PoC reports", "Pipelines", "Models"]),
            (Role::Marketer, "marketer@mcms.test", vec!["Costs", "PoC reports", "Pipelines", "Models"]),
            (Role::Builder, "builder@mcms.test", vec!["Costs", "PoC reports", "Pipelines", "Models", "Ingestion lab"]),
            (
                Role::Admin,
                "admin@mcms.test",
                vec!["Costs", "Partners &amp; keys", "PoC reports", "Pipelines", "Models", "Ingestion lab", "Admin"],
            ),
        ] {
            let (mut b, _) = app.signed_in(email, role).await;
            let home = b.page("/").await;
            assert_eq!(home.status, StatusCode::OK, "{}", app.backend());
            assert_eq!(nav(&home.body), expected_nav, "{role:?}");
            for (path, least) in [
                ("/costs", Role::Viewer),
                ("/poc", Role::Viewer),
                ("/partners", Role::Admin),
                ("/admin/users", Role::Admin),
                ("/pipelines", Role::Viewer),
                ("/pipelines/new", Role::Builder),
                ("/models", Role::Viewer),
                ("/costs/new", Role::Marketer),
            ] {
                let page = b.page(path).await;
                if role.includes(least) {
                    assert_eq!(page.status, StatusCode::OK, "{role:?} {path}");
                    assert!(!page.body.contains("Not available for your role"));
                } else {
                    assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?} {path}");
                    assert!(page.body.contains("Not available for your role"));
                    assert!(!page.body.contains("<table"), "no admin data leaks into the 403 page");
                }
            }
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_admin_page_lists_users_and_disables_self_changes() {
    for app in TestApp::each().await {
        let (mut admin, me) = app.signed_in("admin@mcms.test", Role::Admin).await;
        app.user("ana@mcms.test", Role::Marketer).await;
        let page = admin.page("/admin/users").await;
        assert!(page.body.contains("aria-label=\"Role for ana@mcms.test\""), "{}", app.backend());
        assert!(page.body.contains(&format!("name=\"user_id\" value=\"{}\"", me.id)));
        assert!(
            page.body.contains("aria-label=\"Deactivate admin@mcms.test\" disabled")
                || page.body.contains("disabled aria-label=\"Deactivate admin@mcms.test\""),
            "own row is disabled"
        );
        // The same page in Korean puts each name where Korean word order wants it.
        admin.cookies.insert("mcms_lang".into(), "ko".into());
        let page = admin.page("/admin/users").await;
        assert!(page.body.contains("aria-label=\"ana@mcms.test의 역할\""), "{}", app.backend());
        assert!(page.body.contains("aria-label=\"ana@mcms.test 비활성화\""));
        app.finish().await;
    }
}

#[tokio::test]
async fn the_language_follows_the_browser_until_the_user_chooses() {
    for app in TestApp::each().await {
        let mut b = app.browser([10, 1, 0, 2]);
        let korean = |path: &str| {
            Request::builder()
                .uri(path.to_owned())
                .header(header::ACCEPT, "text/html")
                .header(header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9,en;q=0.5")
        };
        let page = b.send(korean("/login"), String::new()).await;
        assert!(page.body.contains("<html lang=\"ko\""), "{}", app.backend());
        assert!(page.body.contains("MCMS 로그인"));

        let choose = Request::builder()
            .method(Method::POST)
            .uri("/api/language")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::ORIGIN, format!("http://{HOST}"));
        let r = b.send(choose, "lang=en&back=%2Flogin".into()).await;
        assert_eq!((r.status, r.location()), (StatusCode::FOUND, Some("/login")));
        assert_eq!(b.cookies.get("mcms_lang").map(String::as_str), Some("en"));
        let page = b.send(korean("/login"), String::new()).await;
        assert!(page.body.contains("<html lang=\"en\"") && page.body.contains("Sign in to MCMS"));

        let bad = b.call("/api/language", &[("lang", "xx")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn unknown_pages_are_404_and_health_reports_the_database() {
    for app in TestApp::each().await {
        let mut b = app.browser([10, 1, 0, 3]);
        let r = b.page("/no/such/page").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(r.body.contains("Page not found"));
        let r = b.page("/healthz").await;
        assert_eq!(r.status, StatusCode::OK);
        let health: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(health, serde_json::json!({ "status": "ok", "database": app.backend() }));
        assert!(r.headers.contains_key("x-request-id"), "every response carries its request id");
        // A cost entry's address with no entry number in it is no entry, not a blank new form.
        let (mut viewer, _) = app.signed_in("vera@mcms.test", Role::Viewer).await;
        for path in ["/costs/periods", "/costs/999999"] {
            let r = viewer.page(path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path} on {}", app.backend());
            assert!(!r.body.contains("name=\"amount\""), "{path} shows no cost form");
        }
        let db = app.t.db.clone();
        db.close().await;
        assert_eq!(b.page("/healthz").await.status, StatusCode::SERVICE_UNAVAILABLE);
        app.finish().await;
    }
}

#[tokio::test]
async fn state_changes_from_a_foreign_origin_are_refused() {
    for app in TestApp::each().await {
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let ana = app.user("ana@mcms.test", Role::Marketer).await;
        let body = format!("user_id={}&active=false", ana.id);
        for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")]
        {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/admin/users/active")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(name, value);
            let r = admin.send(req, body.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}: {name}: {value}", app.backend());
        }
        assert!(app.t.db.user(ana.id).await.unwrap().unwrap().active, "nothing changed");
        assert_eq!(admin.whoami().await.as_deref(), Some("admin@mcms.test"), "reads still work");
        app.finish().await;
    }
}

#[tokio::test]
async fn responses_carry_security_headers() {
    for app in TestApp::each().await {
        let r = app.browser([10, 1, 0, 4]).page("/login").await;
        for (name, value) in
            [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"), ("referrer-policy", "same-origin")]
        {
            assert_eq!(r.headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}");
        }
        assert!(r.headers.get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
        app.finish().await;
    }
}

#[tokio::test]
async fn the_ends_of_the_calendar_in_any_url_get_an_answer_not_a_panic() {
    for app in TestApp::each().await {
        common::seed_ledger(&app).await;
        let (mut b, _) = app.signed_in("ana@mcms.test", Role::Admin).await;
        for path in [
            "/costs?month=9999-12",
            "/costs?month=0000-01",
            "/costs?month=2100-01",
            "/costs/budgets?month=9999-12",
            "/costs/export?month=9999-12",
            "/costs/rates?month=9999-12",
            "/admin/periods?month=9999-12",
            "/costs?cursor=9999-12-31.1",
        ] {
            let r = b.page(path).await;
            assert!(
                r.status.is_success() || r.status.is_client_error(),
                "{}: {path}: {} {}",
                app.backend(),
                r.status,
                r.body
            );
        }
        let r = b.page("/costs?month=9999-12").await;
        assert!(r.body.contains("between 2000-01 and 2099-12"), "{}: the month is refused by name", app.backend());
        // Saving a campaign whose flight ends at 9999-12-31 is refused by name, not stored.
        let r = b
            .call(
                "/api/costs/save-campaign",
                &[
                    ("code", "FOREVER"),
                    ("name", "Forever"),
                    ("game", "STARFALL"),
                    ("channel", "GOOGLE_ADS"),
                    ("flight_start", "2026-01-01"),
                    ("flight_end", "9999-12-31"),
                ],
            )
            .await;
        assert!(r.status.is_client_error(), "{}: {} {}", app.backend(), r.status, r.body);
        assert!(r.body.contains("date.range"), "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn each_page_names_itself_in_the_title() {
    for app in TestApp::each().await {
        let (mut b, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        for (path, title) in [
            ("/", "Welcome · MCMS"),
            ("/costs", "Costs · MCMS"),
            ("/costs/budgets", "Budgets · MCMS"),
            ("/costs/master", "Master data · MCMS"),
            ("/costs/rates", "Exchange rates · MCMS"),
            ("/costs/import", "Import costs · MCMS"),
            ("/costs/new", "New cost · MCMS"),
            ("/partners", "Partners & keys · MCMS"),
            ("/poc", "PoC reports · MCMS"),
            ("/admin/users", "Users · MCMS"),
            ("/admin/periods", "Periods · MCMS"),
            ("/admin/audit", "Audit trail · MCMS"),
            ("/no/such/page", "Page not found · MCMS"),
        ] {
            let page = b.page(path).await;
            let shown =
                page.body.split_once("<title>").and_then(|(_, rest)| rest.split_once("</title>")).map(|(t, _)| t);
            assert_eq!(shown, Some(title), "{}: {path}", app.backend());
        }
        let mut visitor = app.browser([10, 9, 9, 9]);
        let login = visitor.page("/login").await;
        assert!(login.body.contains("<title>Sign in · MCMS</title>"), "{}", app.backend());
        app.finish().await;
    }
}

#[tokio::test]
async fn operators_scrape_metrics_on_their_own_address_never_the_public_one() {
    for (i, app) in TestApp::each().await.into_iter().enumerate() {
        let (mut b, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        assert_eq!(b.page("/costs").await.status, StatusCode::OK);
        let mut stranger = app.browser([10, 7, 7, 7]);
        stranger.sign_in("admin@mcms.test", "not the password").await;
        // A method of the client's own making is counted as "other", never as a series of its own.
        for _ in 0..2 {
            let brew = Request::builder().method(Method::from_bytes(b"BREW").unwrap()).uri("/costs");
            assert_eq!(stranger.send(brew, String::new()).await.status, StatusCode::METHOD_NOT_ALLOWED);
        }
        assert_eq!(
            b.page("/metrics").await.status,
            StatusCode::NOT_FOUND,
            "{}: not on the public router",
            app.backend()
        );

        use tower::ServiceExt;
        let scrape = server::metrics::router(app.t.db.clone())
            .oneshot(Request::builder().uri("/metrics").body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(scrape.status(), StatusCode::OK);
        let bytes = http_body_util::BodyExt::collect(scrape.into_body()).await.unwrap().to_bytes();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        for series in [
            "http_requests_total{route=\"/costs\",method=\"GET\",status=\"200\"}",
            "http_request_duration_seconds_bucket{route=\"/costs\",method=\"GET\"",
            "http_requests_total{route=\"/costs\",method=\"other\",status=\"405\"}",
            "mcms_sign_in_refusals_total{reason=\"bad_credentials\"}",
            "mcms_db_pool_connections{state=\"open\"}",
        ] {
            assert!(text.contains(series), "{}: {series} in\n{text}", app.backend());
        }
        assert!(!text.contains("BREW"), "{text}");
        // Each request counts once, whether or not its series was recorded before (the recorder is
        // the process's: the second backend's requests add to the first's).
        let brewed = text
            .lines()
            .find_map(|l| l.strip_prefix("http_requests_total{route=\"/costs\",method=\"other\",status=\"405\"} "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        assert_eq!(brewed, Some(2 * (i as u64 + 1)), "{}", app.backend());
        app.finish().await;
    }
}
