//! Test harness: the real router on a fresh database per test, called in-process over HTTP
//! requests, with a cookie jar per simulated browser.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use domain::{Email, NewPassword, PersonName, Role};
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use server::WebConfig;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use store::testing::TestDb;
use tower::ServiceExt;

pub const PASSWORD: &str = "a long enough password";
pub const HOST: &str = "mcms.test";

pub struct TestApp {
    pub router: Router,
    pub t: TestDb,
}

impl TestApp {
    /// One app per backend that can run here (SQLite always, PostgreSQL when reachable).
    pub async fn each() -> Vec<TestApp> {
        Self::each_with(WebConfig::default()).await
    }

    /// Pipelines run from the pages write into a folder of the test's own (unless it names one).
    pub async fn each_with(mut config: WebConfig) -> Vec<TestApp> {
        if config.data_dir == std::path::Path::new("data") {
            let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
            config.data_dir = std::env::temp_dir().join("mcms-tests").join(format!("data-{nanos}"));
            std::fs::create_dir_all(&config.data_dir).unwrap();
        }
        TestDb::each().await.into_iter().map(|t| TestApp { router: server::router(t.db.clone(), &config), t }).collect()
    }

    pub fn backend(&self) -> &'static str {
        self.t.db.backend()
    }

    pub async fn user(&self, email: &str, role: Role) -> store::User {
        self.t
            .db
            .create_user(
                &Email::parse(email).unwrap(),
                &PersonName::parse("Test User").unwrap(),
                role,
                &NewPassword::parse(PASSWORD).unwrap(),
            )
            .await
            .unwrap()
    }

    /// A browser with an empty cookie jar, connecting from `ip`.
    pub fn browser(&self, ip: [u8; 4]) -> Browser {
        Browser { router: self.router.clone(), cookies: BTreeMap::new(), addr: SocketAddr::from((ip, 40000)) }
    }

    /// A browser signed in as a new user with `role`.
    pub async fn signed_in(&self, email: &str, role: Role) -> (Browser, store::User) {
        let user = self.user(email, role).await;
        let mut b = self.browser([10, 0, 0, 1]);
        let r = b.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}: sign-in as {email}: {}", self.backend(), r.body);
        (b, user)
    }

    pub async fn finish(self) {
        self.t.finish().await;
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
pub struct Browser {
    router: Router,
    pub cookies: BTreeMap<String, String>,
    pub addr: SocketAddr,
}

impl Browser {
    /// Points this browser, cookies and all, at another instance.
    pub fn use_router(&mut self, router: Router) {
        self.router = router;
    }

    pub async fn send(&mut self, req: http::request::Builder, body: String) -> Reply {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut req = req.header(header::HOST, HOST);
        if !cookie.is_empty() {
            req = req.header(header::COOKIE, cookie);
        }
        let mut req = req.body(Body::from(body)).unwrap();
        req.extensions_mut().insert(ConnectInfo(self.addr));
        let res = self.router.clone().oneshot(req).await.unwrap();
        for set in res.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Reply { status, headers, body }
    }

    /// A page load, as a browser navigates.
    pub async fn page(&mut self, path: &str) -> Reply {
        self.send(Request::builder().uri(path).header(header::ACCEPT, "text/html"), String::new()).await
    }

    /// A server-function call as the hydrated app makes it (same origin, form-encoded, JSON back).
    pub async fn call(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, format!("http://{HOST}"));
        self.send(req, body).await
    }

    /// A `multipart/form-data` form post, as a browser submits a file: (field, file name, content).
    pub async fn upload(&mut self, path: &str, fields: &[(&str, Option<&str>, &str)]) -> Reply {
        self.upload_accepting(path, fields, "text/html").await
    }

    /// A multipart POST as a page's script sends it, asking for `accept`.
    pub async fn upload_accepting(&mut self, path: &str, fields: &[(&str, Option<&str>, &str)], accept: &str) -> Reply {
        let boundary = "----mcms-test-boundary-7d1f";
        let mut body = String::new();
        for (name, file, content) in fields {
            body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""));
            if let Some(file) = file {
                body.push_str(&format!("; filename=\"{file}\"\r\nContent-Type: text/csv"));
            }
            body.push_str(&format!("\r\n\r\n{content}\r\n"));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::ACCEPT, accept)
            .header(header::ORIGIN, format!("http://{HOST}"));
        self.send(req, body).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        self.call("/api/login", &[("email", email), ("password", password), ("next", "")]).await
    }

    /// Whether the server says this browser's session ended (expired, signed out elsewhere, tampered).
    pub async fn session_ended(&mut self) -> bool {
        let r = self.call("/api/me", &[]).await;
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["session_ended"] == true
    }

    /// The signed-in user's email, per the server.
    pub async fn whoami(&mut self) -> Option<String> {
        let r = self.call("/api/me", &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let me: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        me["me"].get("email").and_then(|e| e.as_str()).map(str::to_owned)
    }
}

/// Today on the company's clock, as the server sees it.
/// A form posted the way a browser posts it without JavaScript (or outside an island), from the
/// page at `referer` (an absolute URL).
pub fn plain_form_post(uri: &str, referer: &str) -> http::request::Builder {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::REFERER, referer)
}

pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().to_offset(WebConfig::default().business_offset).date()
}

/// A small ledger: one game, channel, country, vendor, cost type (FLAT, no units), a campaign whose
/// flight spans a year either side of today, entries 1–3, and January 2024 closed.
pub async fn seed_ledger(app: &TestApp) {
    use store::costs::{CostSettings, MasterTable, NewCampaign, YearMonth};
    let db = &app.t.db;
    let owner = app.user("ledger-owner@mcms.test", Role::Marketer).await;
    db.put_code(MasterTable::Games, "STARFALL", "Starfall", true).await.unwrap();
    db.put_code(MasterTable::Channels, "GOOGLE_ADS", "Google Ads", true).await.unwrap();
    db.put_code(MasterTable::Countries, "KR", "Korea", true).await.unwrap();
    db.put_code(MasterTable::Vendors, "DIRECT", "Direct", true).await.unwrap();
    db.put_currency(domain::Currency::KRW, true).await.unwrap();
    db.put_currency(domain::Currency::USD, true).await.unwrap();
    db.put_cost_type("FLAT", "Flat fee", false, None).await.unwrap();
    db.put_cost_type("CPI", "Cost per install", true, Some((300_000, 30_000_000))).await.unwrap();
    let span = time::Duration::days(400);
    db.put_campaign(&NewCampaign {
        code: "LAUNCH",
        name: "Launch",
        game: "STARFALL",
        channel: "GOOGLE_ADS",
        flight_start: today() - span,
        flight_end: today() + span,
        owner_id: Some(owner.id),
        active: true,
    })
    .await
    .unwrap();
    for i in 1..=3 {
        let date = (today() - time::Duration::days(60 + i)).to_string();
        let form = ledger_form(&date, "50,000");
        let r = db.cost_reference(&form, today(), &CostSettings::default()).await.unwrap();
        let entry = domain::costs::validate(&form, &r).entry.expect("seed entries are valid");
        db.create_cost(&entry, &CostSettings::default(), owner.id).await.unwrap();
    }
    db.close_period(YearMonth::parse("2024-01").unwrap(), owner.id).await.unwrap();
}

pub fn ledger_form(date: &str, amount: &str) -> domain::costs::CostForm {
    domain::costs::CostForm {
        date: date.into(),
        game: "STARFALL".into(),
        channel: "GOOGLE_ADS".into(),
        campaign: "LAUNCH".into(),
        country: "KR".into(),
        vendor: "DIRECT".into(),
        cost_type: "FLAT".into(),
        currency: "KRW".into(),
        amount: amount.into(),
        ..Default::default()
    }
}

/// The save call's fields for an entry `days_ago` days back.
pub fn cost_form_fields(days_ago: i64, amount: &str) -> Vec<(&'static str, String)> {
    let f = ledger_form(&(today() - time::Duration::days(days_ago)).to_string(), amount);
    vec![
        ("form[date]", f.date),
        ("form[game]", f.game),
        ("form[channel]", f.channel),
        ("form[campaign]", f.campaign),
        ("form[country]", f.country),
        ("form[vendor]", f.vendor),
        ("form[cost_type]", f.cost_type),
        ("form[currency]", f.currency),
        ("form[amount]", f.amount),
    ]
}
