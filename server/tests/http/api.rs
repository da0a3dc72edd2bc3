//! The partner API over real HTTP (a served socket on 127.0.0.1), on SQLite and PostgreSQL:
//! the gate's verification matrix, each refusal with its status and problem body, and the data.

use crate::common::TestApp;
use domain::keys::{ApiKey, Scope};
use serde_json::Value;
use std::net::SocketAddr;
use store::Db;
use store::costs::MasterTable;
use store::partners::{DailyStats, KeySettings, PartnerForm};

/// A partner that sees one game for one channel.
fn partner_form(name: &'static str, game: &str, channel: &str, active: bool) -> PartnerForm<'static> {
    let games: &'static [String] = Vec::leak(vec![game.to_owned()]);
    let channels: &'static [String] = Vec::leak(vec![channel.to_owned()]);
    PartnerForm { name, contact: "ops@partner.test", active, games, channels }
}
use time::OffsetDateTime;

pub(crate) struct Served {
    addr: SocketAddr,
}

pub(crate) async fn serve(db: &Db, trusted: &str) -> Served {
    let config = server::WebConfig {
        trusted_proxies: domain::net::parse_list(trusted).unwrap(),
        ..server::WebConfig::default()
    };
    let router = server::router(db.clone(), &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    Served { addr }
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The problem's kind, after checking it is a problem document.
    pub(crate) fn problem(&self) -> String {
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.body);
        let p = self.json();
        assert_eq!(p["status"].as_u64(), Some(u64::from(self.status)), "{p}");
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
        p["type"].as_str().unwrap().trim_start_matches("/api/v1/problems/").to_owned()
    }
}

impl Served {
    /// One GET over a fresh connection, with hyper's HTTP/1.1 client.
    pub(crate) async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(http::Method::GET, path, headers, Vec::new()).await
    }

    /// One request over a fresh connection, with hyper's HTTP/1.1 client.
    pub(crate) async fn send(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        use http_body_util::BodyExt;
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
        tokio::spawn(connection);
        let mut request = http::Request::builder().method(method).uri(path).header(http::header::HOST, "partner.test");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = http_body_util::Full::new(axum::body::Bytes::from(body));
        let response = sender.send_request(request.body(body).unwrap()).await.unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer { status, headers, body: String::from_utf8(body.to_vec()).unwrap() }
    }

    pub(crate) async fn with_key(&self, path: &str, key: &str) -> Answer {
        self.get(path, &[("Authorization", &format!("Bearer {key}"))]).await
    }
}

pub(crate) fn settings(scopes: &[Scope]) -> KeySettings {
    KeySettings {
        label: "nightly sync".into(),
        scopes: scopes.to_vec(),
        models: vec![],
        expires_at: None,
        rate_per_minute: 6_000,
        daily_quota: None,
    }
}

pub(crate) struct World {
    pub(crate) partner: i64,
    pub(crate) other: i64,
    pub(crate) admin: i64,
}

pub(crate) async fn world(app: &TestApp) -> World {
    let db = &app.t.db;
    let admin = app.user("admin@mcms.test", domain::Role::Admin).await.id;
    db.put_code(MasterTable::Games, "STARFALL", "Starfall", true).await.unwrap();
    db.put_code(MasterTable::Games, "PUZZLE", "Puzzle Harbor", true).await.unwrap();
    db.put_code(MasterTable::Channels, "GOOGLE_ADS", "Google Ads", true).await.unwrap();
    db.put_code(MasterTable::Channels, "TIKTOK", "TikTok", true).await.unwrap();
    db.put_currency(domain::Currency::KRW, true).await.unwrap();
    let partner =
        db.save_partner(None, &partner_form("Blue Ads", "STARFALL", "GOOGLE_ADS", true), admin).await.unwrap();
    let other = db.save_partner(None, &partner_form("Red Media", "PUZZLE", "TIKTOK", true), admin).await.unwrap();
    let mut rows = Vec::new();
    for d in 1..=20u8 {
        let day = time::Date::from_calendar_date(2026, time::Month::October, d).unwrap();
        for (game, channel) in [("STARFALL", "GOOGLE_ADS"), ("STARFALL", "TIKTOK"), ("PUZZLE", "TIKTOK")] {
            rows.push(DailyStats {
                game: game.into(),
                channel: channel.into(),
                day,
                new_users: i64::from(d) * 10,
                daily_active: 1_000 + i64::from(d),
                paying_users: 30,
                revenue_minor: 2_500_000,
                currency: "KRW".into(),
            });
        }
    }
    db.load_stats(&rows, admin).await.unwrap();
    World { partner, other, admin }
}

#[tokio::test]
async fn every_refusal_has_its_status_and_problem() {
    for app in TestApp::each().await {
        let db = &app.t.db;
        let w = world(&app).await;
        let api = serve(db, "").await;
        let (_, key) = db.issue_key(w.partner, &settings(&[Scope::Games, Scope::Stats]), w.admin).await.unwrap();
        let key = key.reveal().to_owned();
        let stats = "/api/v1/games/STARFALL/daily-stats?from=2026-10-01&to=2026-10-31";

        let ok = api.with_key("/api/v1/me", &key).await;
        assert_eq!(ok.status, 200, "{}: {}", app.backend(), ok.body);
        assert_eq!(ok.json()["partner"]["name"], "Blue Ads");
        assert_eq!(ok.json()["key"]["scopes"], serde_json::json!(["games:read", "stats:read"]));
        assert_eq!(ok.json()["client_ip"], "127.0.0.1");

        // Refused before any lookup.
        let missing = api.get("/api/v1/me", &[]).await;
        assert_eq!((missing.status, missing.problem()), (401, "missing-key".into()));
        assert!(missing.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
        let malformed = api.with_key("/api/v1/me", "not-a-key").await;
        assert_eq!((malformed.status, malformed.problem()), (401, "malformed-key".into()));
        let basic = api.get("/api/v1/me", &[("Authorization", &format!("Basic {key}"))]).await;
        assert_eq!((basic.status, basic.problem()), (401, "malformed-key".into()));
        let mut typo = key.clone().into_bytes();
        typo[12] = if typo[12] == b'x' { b'y' } else { b'x' };
        let typo = String::from_utf8(typo).unwrap();
        let bad_sum = api.with_key("/api/v1/me", &typo).await;
        assert_eq!((bad_sum.status, bad_sum.problem()), (401, "bad-checksum".into()));

        // Well-formed, but not ours.
        let stranger = ApiKey::generate({
            let mut n = 0u8;
            move || {
                n = n.wrapping_add(7);
                n
            }
        });
        let unknown = api.with_key("/api/v1/me", stranger.reveal()).await;
        assert_eq!((unknown.status, unknown.problem()), (401, "unknown-key".into()));

        // Scope, another partner's game, unknown parameters, bad ranges.
        let (_, games_only) = db.issue_key(w.partner, &settings(&[Scope::Games]), w.admin).await.unwrap();
        let scope = api.with_key(stats, games_only.reveal()).await;
        assert_eq!((scope.status, scope.problem()), (403, "scope-missing".into()));
        let theirs = api.with_key("/api/v1/games/PUZZLE/daily-stats?from=2026-10-01&to=2026-10-02", &key).await;
        assert_eq!((theirs.status, theirs.problem()), (404, "not-found".into()), "never 403, never the data");
        let nowhere = api.with_key("/api/v1/games/NOPE/daily-stats?from=2026-10-01&to=2026-10-02", &key).await;
        assert_eq!(nowhere.body, theirs.body, "another partner's game reads exactly like a game that does not exist");
        let extra = api.with_key(&format!("{stats}&channel=TIKTOK"), &key).await;
        assert_eq!((extra.status, extra.problem()), (400, "invalid-request".into()));
        assert_eq!(extra.json()["errors"][0]["field"], "channel", "{}", extra.body);
        let span = api.with_key("/api/v1/games/STARFALL/daily-stats?from=2026-01-01&to=2026-12-31&limit=0", &key).await;
        assert_eq!((span.status, span.problem()), (400, "invalid-request".into()));
        let span_body = span.json();
        let fields: Vec<&str> =
            span_body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["limit", "to"], "every field that is wrong, at once: {}", span.body);
        for empty in ["limit=", "cursor="] {
            let sent_empty = api.with_key(&format!("{stats}&{empty}"), &key).await;
            assert_eq!((sent_empty.status, sent_empty.problem()), (400, "invalid-request".into()), "{empty}");
        }
        let dates = api.with_key("/api/v1/games/STARFALL/daily-stats?from=yesterday", &key).await;
        assert_eq!(dates.json()["errors"].as_array().unwrap().len(), 2, "{}", dates.body);
        let stray = api.with_key("/api/v1/me?debug=1", &key).await;
        assert_eq!((stray.status, stray.problem()), (400, "invalid-request".into()));
        let route = api.with_key("/api/v1/nothing-here", &key).await;
        assert_eq!((route.status, route.problem()), (404, "not-found".into()));

        // Addresses: the socket decides unless the peer is a trusted proxy.
        let (limited, limited_key) = db.issue_key(w.partner, &settings(&[Scope::Games]), w.admin).await.unwrap();
        let allow = domain::net::parse_list("198.51.100.0/24").unwrap();
        db.set_allowlist(w.partner, Some(limited.id), &allow, w.admin).await.unwrap();
        let spoofed = api
            .get(
                "/api/v1/me",
                &[("Authorization", &format!("Bearer {}", limited_key.reveal())), ("X-Forwarded-For", "198.51.100.7")],
            )
            .await;
        assert_eq!((spoofed.status, spoofed.problem()), (403, "address-not-allowed".into()), "untrusted peer");
        let behind_proxy = serve(db, "127.0.0.1").await;
        let through = behind_proxy
            .get(
                "/api/v1/me",
                &[
                    ("Authorization", &format!("Bearer {}", limited_key.reveal())),
                    ("X-Forwarded-For", "10.9.9.9, 198.51.100.7"),
                ],
            )
            .await;
        assert_eq!(through.status, 200, "{}", through.body);
        assert_eq!(through.json()["client_ip"], "198.51.100.7", "the rightmost untrusted hop");
        let leftmost = behind_proxy
            .get(
                "/api/v1/me",
                &[
                    ("Authorization", &format!("Bearer {}", limited_key.reveal())),
                    ("X-Forwarded-For", "198.51.100.7, 10.9.9.9"),
                ],
            )
            .await;
        assert_eq!((leftmost.status, leftmost.problem()), (403, "address-not-allowed".into()), "never the leftmost");
        // A partner-wide list applies to every key of the partner.
        db.set_allowlist(w.partner, None, &allow, w.admin).await.unwrap();
        tokio::time::sleep(server::api::gate::KEY_CACHE_TTL).await;
        let partner_wide = api.with_key("/api/v1/me", &key).await;
        assert_eq!((partner_wide.status, partner_wide.problem()), (403, "address-not-allowed".into()));
        db.set_allowlist(w.partner, None, &[], w.admin).await.unwrap();

        // Expired, rotated past its grace, revoked, suspended: each within the cache time.
        let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
        let (_, expired) = db
            .issue_key(w.partner, &KeySettings { expires_at: Some(past), ..settings(&[Scope::Games]) }, w.admin)
            .await
            .unwrap();
        let gone = api.with_key("/api/v1/me", expired.reveal()).await;
        assert_eq!((gone.status, gone.problem()), (401, "expired-key".into()));

        let (old, old_key) = db.issue_key(w.partner, &settings(&[Scope::Games]), w.admin).await.unwrap();
        let grace = OffsetDateTime::now_utc() + time::Duration::seconds(2);
        let (_, new_key) = db.rotate_key(old.id, grace, w.admin).await.unwrap();
        assert_eq!(api.with_key("/api/v1/me", old_key.reveal()).await.status, 200, "within its grace");
        assert_eq!(api.with_key("/api/v1/me", new_key.reveal()).await.status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        let rotated = api.with_key("/api/v1/me", old_key.reveal()).await;
        assert_eq!((rotated.status, rotated.problem()), (401, "rotated-key".into()));
        assert_eq!(api.with_key("/api/v1/me", new_key.reveal()).await.status, 200);

        let (victim, victim_key) = db.issue_key(w.partner, &settings(&[Scope::Games]), w.admin).await.unwrap();
        // Both instances have the key cached; a revocation holds on each within the cache time.
        assert_eq!(api.with_key("/api/v1/me", victim_key.reveal()).await.status, 200);
        assert_eq!(behind_proxy.with_key("/api/v1/me", victim_key.reveal()).await.status, 200);
        db.revoke_key(victim.id, w.admin).await.unwrap();
        tokio::time::sleep(server::api::gate::KEY_CACHE_TTL).await;
        for instance in [&api, &behind_proxy] {
            let revoked = instance.with_key("/api/v1/me", victim_key.reveal()).await;
            assert_eq!((revoked.status, revoked.problem()), (401, "revoked-key".into()));
        }

        let (_, red_key) = db.issue_key(w.other, &settings(&[Scope::Games]), w.admin).await.unwrap();
        let suspend = partner_form("Red Media", "PUZZLE", "TIKTOK", false);
        db.save_partner(Some(w.other), &suspend, w.admin).await.unwrap();
        tokio::time::sleep(server::api::gate::KEY_CACHE_TTL).await;
        let suspended = api.with_key("/api/v1/games", red_key.reveal()).await;
        assert_eq!((suspended.status, suspended.problem()), (403, "partner-suspended".into()));

        // Rate limit and daily quota: 429 with Retry-After.
        let (_, slow) = db
            .issue_key(w.partner, &KeySettings { rate_per_minute: 2, ..settings(&[Scope::Games]) }, w.admin)
            .await
            .unwrap();
        for _ in 0..2 {
            assert_eq!(api.with_key("/api/v1/games", slow.reveal()).await.status, 200);
        }
        let limited = api.with_key("/api/v1/games", slow.reveal()).await;
        assert_eq!((limited.status, limited.problem()), (429, "rate-limited".into()));
        assert!(limited.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
        let (_, capped) = db
            .issue_key(w.partner, &KeySettings { daily_quota: Some(3), ..settings(&[Scope::Games]) }, w.admin)
            .await
            .unwrap();
        for _ in 0..3 {
            assert_eq!(api.with_key("/api/v1/games", capped.reveal()).await.status, 200);
        }
        let over = api.with_key("/api/v1/games", capped.reveal()).await;
        assert_eq!((over.status, over.problem()), (429, "quota-exceeded".into()));
        assert!(over.header("retry-after").is_some());
        app.finish().await;
    }
}

#[tokio::test]
async fn partners_read_their_games_and_their_channels_statistics_page_by_page() {
    for app in TestApp::each().await {
        let db = &app.t.db;
        let w = world(&app).await;
        let api = serve(db, "").await;
        let (info, key) = db.issue_key(w.partner, &settings(&[Scope::Games, Scope::Stats]), w.admin).await.unwrap();
        let key = key.reveal();

        let games = api.with_key("/api/v1/games", key).await;
        assert_eq!(games.json()["data"], serde_json::json!([{ "code": "STARFALL", "name": "Starfall" }]));

        let mut days = Vec::new();
        let mut path = "/api/v1/games/STARFALL/daily-stats?from=2026-10-05&to=2026-10-31&limit=7".to_owned();
        loop {
            let page = api.with_key(&path, key).await;
            assert_eq!(page.status, 200, "{}: {}", app.backend(), page.body);
            let body = page.json();
            for row in body["data"].as_array().unwrap() {
                assert_eq!(row["channel"], "GOOGLE_ADS", "the partner's own channel only: {row}");
                days.push(row["day"].as_str().unwrap().to_owned());
            }
            match body["next_cursor"].as_str() {
                Some(c) => {
                    path =
                        format!("/api/v1/games/STARFALL/daily-stats?from=2026-10-05&to=2026-10-31&limit=7&cursor={c}")
                }
                None => break,
            }
        }
        let expected: Vec<String> = (5..=20).map(|d| format!("2026-10-{d:02}")).collect();
        assert_eq!(days, expected, "every day once, in order, across pages");
        let bad_cursor =
            api.with_key("/api/v1/games/STARFALL/daily-stats?from=2026-10-05&to=2026-10-31&cursor=zz", key).await;
        assert_eq!(bad_cursor.status, 400);

        // Usage is counted per key and status, and the key's last use recorded.
        tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
        api.with_key("/api/v1/me", key).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let since = time::Date::from_calendar_date(2000, time::Month::January, 1).unwrap();
        let usage = db.usage(w.partner, since).await.unwrap();
        let ok: i64 = usage.iter().filter(|u| u.1 == info.id && u.2 == 200).map(|u| u.4).sum();
        let refused: i64 = usage.iter().filter(|u| u.1 == info.id && u.2 == 400).map(|u| u.4).sum();
        assert!(ok >= 4 && refused == 1, "{}: {usage:?}", app.backend());
        assert!(db.key(info.id).await.unwrap().unwrap().last_used_at.is_some());
        app.finish().await;
    }
}

#[tokio::test]
async fn the_pipeline_file_schema_is_served_for_editors() {
    let t = store::testing::TestDb::sqlite().await;
    let site = serve(&t.db, "").await;
    let schema = site.get("/pipelines/schema.json", &[]).await;
    assert_eq!(schema.status, 200);
    assert_eq!(schema.header("content-type"), Some("application/schema+json"));
    let schema = schema.json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["title"], "MCMS pipeline, version 1");
    assert!(schema["$defs"]["Step"]["properties"]["transform"].is_object());
    t.finish().await;
}

#[tokio::test]
async fn the_api_documents_itself_and_serves_its_own_swagger_ui() {
    let t = store::testing::TestDb::sqlite().await;
    let api = serve(&t.db, "").await;
    let doc = api.get("/api/v1/openapi.json", &[]).await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/games",
            "/api/v1/games/{game}/daily-stats",
            "/api/v1/me",
            "/api/v1/models",
            "/api/v1/models/{name}",
            "/api/v1/models/{name}/predict",
            "/api/v1/models/{name}/versions",
            "/api/v1/models/{name}/versions/{version}/predict",
            "/v2",
            "/v2/health/live",
            "/v2/models/{name}",
            "/v2/models/{name}/infer",
            "/v2/models/{name}/ready",
            "/v2/models/{name}/versions/{version}",
            "/v2/models/{name}/versions/{version}/infer",
            "/v2/models/{name}/versions/{version}/ready",
        ]
    );
    let predict = &doc["paths"]["/api/v1/models/{name}/predict"]["post"];
    for status in ["200", "400", "401", "403", "404", "413", "429"] {
        assert!(predict["responses"][status].is_object(), "predict: response {status} is documented");
    }
    assert!(predict["responses"]["400"]["content"]["application/problem+json"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let stats = &doc["paths"]["/api/v1/games/{game}/daily-stats"]["get"];
    for status in ["200", "400", "401", "403", "404", "429"] {
        assert!(stats["responses"][status].is_object(), "response {status} is documented");
    }
    assert!(stats["responses"]["400"]["content"]["application/problem+json"].is_object());
    assert!(doc["components"]["schemas"]["Document"]["example"].is_object(), "examples included");

    let ui = api.get("/api/docs/", &[]).await;
    assert_eq!(ui.status, 200, "{}", ui.body);
    assert!(ui.body.contains("swagger-ui"), "{}", ui.body);
    assert!(!ui.body.contains("https://"), "no asset from a CDN: {}", ui.body);
    let init = api.get("/api/docs/swagger-initializer.js", &[]).await;
    assert!(init.body.contains("/api/v1/openapi.json"), "{}", init.body);
    t.finish().await;
}

#[tokio::test]
async fn the_demo_partners_read_their_statistics_with_a_key_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("mcms-api-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/demo.db", dir.display());
    let mcms = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mcms")).args(args).env("MCMS_LOG", "warn").output().unwrap()
    };
    assert!(mcms(&["migrate", "--demo", "--database-url", &url]).status.success());
    let unknown = mcms(&["issue-key", "--partner", "Nobody", "--database-url", &url]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no partner named"));
    let issued =
        mcms(&["issue-key", "--partner", "Kakao Games Channeling", "--scopes", "stats:read", "--database-url", &url]);
    assert!(issued.status.success(), "{}", String::from_utf8_lossy(&issued.stderr));
    let key = String::from_utf8(issued.stdout).unwrap().trim().to_owned();
    assert!(ApiKey::parse(&key).is_ok(), "{key}");

    let db = Db::connect(&url).await.unwrap();
    let api = serve(&db, "").await;
    let yesterday = OffsetDateTime::now_utc().date() - time::Duration::days(2);
    let path =
        format!("/api/v1/games/STARFALL/daily-stats?from={}&to={yesterday}", yesterday - time::Duration::days(6));
    let week = api.with_key(&path, &key).await;
    assert_eq!(week.status, 200, "{}", week.body);
    let rows = week.json()["data"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 7, "a week of the partner's one channel: {}", week.body);
    assert!(rows.iter().all(|r| r["channel"] == "KAKAO" && r["daily_active_users"].as_i64().unwrap() > 0));
    let scope = api.with_key("/api/v1/games", &key).await;
    assert_eq!(scope.status, 403, "the key was issued for statistics only");
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
