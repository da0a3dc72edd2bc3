//! The models' API over real HTTP, on SQLite and PostgreSQL: predictions with per-model scopes,
//! every refusal with its status and body, the KServe v2 endpoints, uploads with a key, canaries
//! and promotions seen by a running server.

use crate::api::{Answer, Served, serve, settings, world};
use crate::common::TestApp;
use domain::keys::Scope;
use http::Method;
use serde_json::json;
use store::models::RollOut;
use store::partners::KeySettings;

const PLAYER: &str = r#"{"days_since_install": 244, "days_since_last_session": 4, "sessions_7d": 2, "minutes_7d": 20.9,
    "level": 41, "purchases_28d": 0, "spend_28d_krw": 0, "platform": "android"}"#;

/// The shipped models registered and in production, under a pipeline builder; the builder's actor.
async fn register(app: &TestApp) -> service::Actor {
    let builder = app.user("data@mcms.test", domain::Role::Builder).await;
    let actor = service::Actor::user(&builder).unwrap();
    let costs = store::costs::CostSettings::default();
    let service = service::Service { db: &app.t.db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
    for (name, onnx, signature) in server::demo::SHIPPED_MODELS {
        let up = service::models::Upload { model: name, onnx, signature, note: "", via: service::models::Via::Command };
        let v = service.upload_model(&actor, up).await.unwrap().version;
        service.change_roll_out(&actor, name, RollOut::Promote(v), None, "").await.unwrap();
    }
    actor
}

async fn key(app: &TestApp, partner: i64, admin: i64, scopes: &[Scope], models: &[&str], rate: i32) -> String {
    let s = KeySettings {
        models: models.iter().map(|m| (*m).to_owned()).collect(),
        rate_per_minute: rate,
        ..settings(scopes)
    };
    app.t.db.issue_key(partner, &s, admin).await.unwrap().1.reveal().to_owned()
}

impl Served {
    async fn post_json(&self, path: &str, key: &str, body: &str) -> Answer {
        let auth = format!("Bearer {key}");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        self.send(Method::POST, path, &headers, body.as_bytes().to_vec()).await
    }
}

fn instances(list: &[&str]) -> String {
    format!("{{\"instances\": [{}]}}", list.join(","))
}

/// A refusal in the KServe v2 form: `{"error": "…"}`, never a problem document.
fn v2_error(a: &Answer) -> String {
    assert_eq!(a.header("content-type"), Some("application/json"), "{}", a.body);
    a.json()["error"].as_str().unwrap_or_else(|| panic!("{}", a.body)).to_owned()
}

#[tokio::test]
async fn predictions_answer_with_the_version_and_refuse_what_does_not_fit() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        register(&app).await;
        let api = serve(&app.t.db, "").await;
        let churn = key(&app, w.partner, w.admin, &[], &["churn"], 6_000).await;

        let ok = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&[PLAYER, PLAYER])).await;
        assert_eq!(ok.status, 200, "{}: {}", app.backend(), ok.body);
        let body = ok.json();
        assert_eq!(
            (body["model"].as_str(), body["version"].as_i64(), body["stage"].as_str()),
            (Some("churn"), Some(1), Some("production"))
        );
        let first = &body["predictions"][0];
        // models/churn/fixture.json's first instance is this player: scikit-learn said 0.31271431.
        assert_eq!((first["label"].as_str(), first["class"].as_i64()), (Some("no"), Some(0)));
        assert!((first["probability"].as_f64().unwrap() - 0.312_714_31).abs() < 1e-5, "{first}");
        assert!((first["probabilities"]["no"].as_f64().unwrap() - 0.687_285_66).abs() < 1e-5, "{first}");
        assert_eq!(body["predictions"].as_array().unwrap().len(), 2);

        // The same key on a model it was not given, a key of other scopes, no key.
        let other = api.post_json("/api/v1/models/segment/predict", &churn, &instances(&[PLAYER])).await;
        assert_eq!((other.status, other.problem()), (403, "scope-missing".into()));
        assert!(other.json()["detail"].as_str().unwrap().contains("models:predict:segment"));
        let games = key(&app, w.partner, w.admin, &[Scope::Games], &[], 6_000).await;
        let wrong = api.post_json("/api/v1/models/churn/predict", &games, &instances(&[PLAYER])).await;
        assert_eq!((wrong.status, wrong.problem()), (403, "scope-missing".into()));
        let none = api.send(Method::POST, "/api/v1/models/churn/predict", &[], instances(&[PLAYER]).into_bytes()).await;
        assert_eq!((none.status, none.problem()), (401, "missing-key".into()));

        // Instances that do not fit: each problem named by instance and feature.
        let bad =
            PLAYER.replace("\"level\": 41", "\"level\": 0").replace("\"sessions_7d\": 2", "\"sessions_7d\": \"2\"");
        let refused = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&[PLAYER, &bad, "{}"])).await;
        assert_eq!((refused.status, refused.problem()), (400, "invalid-request".into()));
        let errors = refused.json()["errors"].as_array().unwrap().clone();
        assert_eq!(
            errors[0],
            json!({"field": "instances[1].sessions_7d", "message": "expected a whole number from 0 to 500, got text \"2\""})
        );
        assert_eq!(errors[1], json!({"field": "instances[1].level", "message": "0 is below the minimum 1"}));
        assert_eq!(errors[2]["field"], "instances[2].days_since_install");
        assert_eq!(errors.len(), 2 + 8);
        let extra = PLAYER.replace("\"level\": 41", "\"level\": 41, \"country\": \"KR\"");
        let unknown = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&[&extra])).await;
        assert_eq!(unknown.json()["errors"][0]["field"], "instances[0].country");

        // Requests of the wrong shape.
        let empty = api.post_json("/api/v1/models/churn/predict", &churn, r#"{"instances": []}"#).await;
        assert_eq!((empty.status, empty.json()["errors"][0]["field"].as_str()), (400, Some("instances")));
        let many = vec![PLAYER; domain::models::MAX_BATCH + 1];
        let too_many = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&many)).await;
        assert_eq!(too_many.status, 400);
        assert!(too_many.json()["detail"].as_str().unwrap().contains("1 to 1000 instances"), "{}", too_many.body);
        let trailing = format!(r#"{{"instances": [{PLAYER}]}} trailing"#);
        for (body, says) in [
            ("not json", "expected ident"),
            (r#"{"instances": [{"level": NaN}]}"#, "no NaN"),
            (r#"{"instances": [], "extra": 1}"#, "unknown field `extra`"),
            (r#"{"instances": {"level": 1}}"#, "expected a list of instances"),
            (r#"{"instances": [[1]]}"#, "expected an object of features"),
            (r#"{"instances": [], "instances": []}"#, "duplicate field `instances`"),
            (r#"{"sticky_id": 5, "instances": []}"#, "expected a string"),
            (r#"{"sticky_id": "p-1"}"#, "missing field `instances`"),
            (trailing.as_str(), "trailing characters"),
        ] {
            let a = api.post_json("/api/v1/models/churn/predict", &churn, body).await;
            assert_eq!((a.status, a.problem()), (400, "invalid-request".into()), "{body}");
            assert!(a.json()["detail"].as_str().unwrap().contains(says), "{body}: {}", a.body);
        }
        // Text in another encoding (here Latin-1's é): refused as a whole, before any of it is read.
        let mut latin1 = br#"{"instances": [{"platform": "and"#.to_vec();
        latin1.extend([0xe9, b'"', b'}', b']', b'}']);
        let auth = format!("Bearer {churn}");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        let a = api.send(Method::POST, "/api/v1/models/churn/predict", &headers, latin1).await;
        assert_eq!((a.status, a.problem()), (400, "invalid-request".into()));
        let detail = a.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("not UTF-8 text") && detail.contains("index 32"), "{detail}");
        let huge = format!("{{\"instances\": [{}]}}", " ".repeat(3 << 20));
        assert_eq!(api.post_json("/api/v1/models/churn/predict", &churn, &huge).await.status, 413);

        // Models and versions that do not answer.
        let every = key(&app, w.partner, w.admin, &[], &["*"], 6_000).await;
        let missing = api.post_json("/api/v1/models/nope/predict", &every, &instances(&[PLAYER])).await;
        assert_eq!((missing.status, missing.problem()), (404, "not-found".into()));
        for path in ["/api/v1/models/churn/versions/9/predict", "/api/v1/models/churn/versions/x/predict"] {
            assert_eq!(api.post_json(path, &every, &instances(&[PLAYER])).await.status, 404, "{path}");
        }
        let v1 = api.post_json("/api/v1/models/segment/versions/1/predict", &every, &instances(&[PLAYER])).await;
        assert_eq!(v1.status, 200, "{}", v1.body);
        assert_eq!(v1.json()["predictions"][0]["label"], "casual");
        assert_eq!(v1.json()["predictions"][0]["scores"].as_object().unwrap().len(), 4);

        // What a key may see of the registry.
        let list = api.with_key("/api/v1/models", &churn).await;
        let names: Vec<String> =
            list.json()["data"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, ["churn"]);
        let described = api.with_key("/api/v1/models/churn", &churn).await;
        assert_eq!(described.json()["signature"]["input"]["features"].as_array().unwrap().len(), 8);
        assert_eq!(api.with_key("/api/v1/models/segment", &churn).await.status, 403);
        // Every model, each with its own versions: the list says what describing each one says.
        let all = api.with_key("/api/v1/models", &every).await.json();
        let all = all["data"].as_array().unwrap();
        let names: Vec<&str> = all.iter().map(|m| m["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["churn", "first_purchase", "segment"]);
        for listed in all {
            let described = api.with_key(&format!("/api/v1/models/{}", listed["name"].as_str().unwrap()), &every).await;
            assert_eq!(listed, &described.json(), "{}", listed["name"]);
            assert_eq!(listed["versions"].as_array().unwrap().len(), 1, "{}", listed["name"]);
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn kserve_v2_clients_are_answered_in_their_protocol() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        register(&app).await;
        let api = serve(&app.t.db, "").await;
        let k = key(&app, w.partner, w.admin, &[], &["segment", "churn"], 6_000).await;

        assert_eq!(api.get("/v2/health/live", &[]).await.status, 200);
        assert_eq!(api.get("/v2", &[]).await.json()["name"], "mcms");
        let meta = api.with_key("/v2/models/segment", &k).await;
        assert_eq!(meta.status, 200, "{}", meta.body);
        assert_eq!(meta.json()["inputs"], json!([{"name": "features", "datatype": "FP32", "shape": [-1, 8]}]));
        assert_eq!(meta.json()["outputs"][1], json!({"name": "scores", "datatype": "FP32", "shape": [-1, 4]}));
        assert_eq!(api.with_key("/v2/models/segment/ready", &k).await.status, 200);
        assert_eq!(api.with_key("/v2/models/segment/versions/1/ready", &k).await.status, 200);

        let rows = r#"{"id": "r1", "inputs": [{"name": "features", "shape": [2, 8], "datatype": "FP32",
            "data": [[244, 4, 2, 20.9, 41, 0, 0, 0], [10, 1, 30, 600, 80, 3, 50000, 1]]}]}"#;
        let infer = api.post_json("/v2/models/segment/infer", &k, rows).await;
        assert_eq!(infer.status, 200, "{}", infer.body);
        let body = infer.json();
        assert_eq!(
            (body["model_name"].as_str(), body["model_version"].as_str(), body["id"].as_str()),
            (Some("segment"), Some("1"), Some("r1"))
        );
        assert_eq!(body["outputs"][0], json!({"name": "label", "datatype": "INT64", "shape": [2], "data": [2, 3]}));
        assert_eq!(body["outputs"][1]["shape"], json!([2, 4]));
        let flat = r#"{"inputs": [{"name": "features", "shape": [1, 8], "datatype": "FP64", "data": [244, 4, 2, 20.9, 41, 0, 0, 0]}],
            "outputs": [{"name": "probabilities"}]}"#;
        let churn = api.post_json("/v2/models/churn/infer", &k, flat).await;
        assert_eq!(churn.status, 200, "{}", churn.body);
        let outputs = churn.json()["outputs"].as_array().unwrap().clone();
        assert_eq!(outputs.len(), 1, "only the output asked for");
        assert!((outputs[0]["data"][1].as_f64().unwrap() - 0.312_714_31).abs() < 1e-5);

        for (body, says) in [
            (r#"{"inputs": []}"#, "send one input, `features`, not 0"),
            (
                r#"{"inputs": [{"name": "x", "shape": [1, 8], "datatype": "FP32", "data": [1,1,1,1,1,1,1,1]}]}"#,
                "the model's input is `features`",
            ),
            (
                r#"{"inputs": [{"name": "features", "shape": [1, 7], "datatype": "FP32", "data": [1,1,1,1,1,1,1]}]}"#,
                "[instances, 8]",
            ),
            (
                r#"{"inputs": [{"name": "features", "shape": [2, 8], "datatype": "FP32", "data": [1,1,1,1,1,1,1,1]}]}"#,
                "8 numbers for shape [2, 8]",
            ),
            (
                r#"{"inputs": [{"name": "features", "shape": [1, 8], "datatype": "BYTES", "data": [1,1,1,1,1,1,1,1]}]}"#,
                "not BYTES",
            ),
            (
                r#"{"inputs": [{"name": "features", "shape": [1, 8], "datatype": "FP32", "data": [1,1,1,1,0,1,1,7]}]}"#,
                "level: 0 is below the minimum 1",
            ),
            (
                r#"{"inputs": [{"name": "features", "shape": [1, 8], "datatype": "FP32", "data": [1,1,1,1,1,1,1,"a"]}]}"#,
                "expected numbers",
            ),
            (
                r#"{"inputs": [{"name": "features", "shape": [1, 8], "datatype": "FP32", "data": [1,1,1,1,1,1,1,1]}], "outputs": [{"name": "p"}]}"#,
                "no output `p`",
            ),
        ] {
            let a = api.post_json("/v2/models/churn/infer", &k, body).await;
            assert_eq!(a.status, 400, "{body}: {}", a.body);
            assert!(v2_error(&a).contains(says), "{body}: {}", a.body);
        }
        let unready = api.with_key("/v2/models/nope/ready", &k).await;
        assert_eq!(unready.status, 403, "no grant for it: {}", unready.body);
        let keyless = api.get("/v2/models/churn", &[]).await;
        assert_eq!(keyless.status, 401);
        assert!(v2_error(&keyless).contains("API key"));
        app.finish().await;
    }
}

#[tokio::test]
async fn uploads_with_a_key_canaries_and_promotions_on_a_running_server() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        let actor = register(&app).await;
        let api = serve(&app.t.db, "").await;
        let writer = key(&app, w.partner, w.admin, &[Scope::ModelsWrite], &["churn"], 6_000).await;
        let reader = key(&app, w.partner, w.admin, &[], &["churn"], 6_000).await;
        let (_, onnx, signature) = server::demo::SHIPPED_MODELS[1];
        let form = |onnx: &[u8], signature: &str| {
            let mut body = Vec::new();
            for (name, data) in [("model", onnx), ("signature", signature.as_bytes()), ("note", &b"retrained"[..])] {
                body.extend_from_slice(
                    format!(
                        "--b0undary\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"--b0undary--\r\n");
            body
        };
        let upload = |key: String, body: Vec<u8>| {
            let api = &api;
            async move {
                let auth = format!("Bearer {key}");
                let headers =
                    [("Authorization", auth.as_str()), ("Content-Type", "multipart/form-data; boundary=b0undary")];
                api.send(Method::POST, "/api/v1/models/churn/versions", &headers, body).await
            }
        };
        let same = upload(writer.clone(), form(onnx, signature)).await;
        assert_eq!(
            (same.status, same.json()["version"].as_i64(), same.json()["new"].as_bool()),
            (200, Some(1), Some(false)),
            "{}",
            same.body
        );
        let v2_signature = signature.replace("description: Chance", "description: (retrained) Chance");
        let new = upload(writer.clone(), form(onnx, &v2_signature)).await;
        assert_eq!(
            (new.status, new.json()["version"].as_i64(), new.json()["stage"].as_str()),
            (201, Some(2), Some("staging")),
            "{}",
            new.body
        );
        let refused = upload(writer.clone(), form(b"not a model", signature)).await;
        assert_eq!((refused.status, refused.problem()), (422, "model-refused".into()));
        assert!(refused.json()["detail"].as_str().unwrap().starts_with("not an ONNX model"), "{}", refused.body);
        let no_scope = upload(reader.clone(), form(onnx, signature)).await;
        assert_eq!((no_scope.status, no_scope.problem()), (403, "scope-missing".into()));
        let v = app.t.db.model_version("churn", 2).await.unwrap().unwrap();
        assert!(
            v.uploaded_via.starts_with("key mcms_") && v.uploaded_by_name == "Test User",
            "{} {}",
            v.uploaded_via,
            v.uploaded_by_name
        );

        // A 50% canary: each sticky id is always answered by the same version, and both answer.
        let costs = store::costs::CostSettings::default();
        let service = service::Service { db: &app.t.db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
        service.change_roll_out(&actor, "churn", RollOut::Canary(Some((2, 50))), None, "").await.unwrap();
        tokio::time::sleep(service::models::ROUTES_TTL).await;
        let mut seen = std::collections::BTreeSet::new();
        for id in 0..12 {
            let body = format!("{{\"instances\": [{PLAYER}], \"sticky_id\": \"player-{id}\"}}");
            let first = api.post_json("/api/v1/models/churn/predict", &reader, &body).await.json();
            // The id is found wherever it stands in the body.
            let before = format!("{{\"sticky_id\": \"player-{id}\", \"instances\": [{PLAYER}]}}");
            let again = api.post_json("/api/v1/models/churn/predict", &reader, &before).await.json();
            assert_eq!(first["version"], again["version"], "sticky");
            let stage = if first["version"] == 2 { "staging" } else { "production" };
            assert_eq!(first["stage"], stage);
            seen.insert(first["version"].as_i64().unwrap());
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [1, 2], "12 ids on a 50% canary");

        // Promoted on "another instance" (the database): served here within a second.
        service.change_roll_out(&actor, "churn", RollOut::Promote(2), None, "").await.unwrap();
        tokio::time::sleep(service::models::ROUTES_TTL).await;
        let now = api.post_json("/api/v1/models/churn/predict", &reader, &instances(&[PLAYER])).await.json();
        assert_eq!((now["version"].as_i64(), now["stage"].as_str()), (Some(2), Some("production")));
        let archived = api.post_json("/api/v1/models/churn/versions/1/predict", &reader, &instances(&[PLAYER])).await;
        assert_eq!((archived.status, archived.problem()), (409, "version-archived".into()));
        app.finish().await;
    }
}

#[tokio::test]
async fn model_requests_count_against_the_keys_rate_limit() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        register(&app).await;
        let api = serve(&app.t.db, "").await;
        let k = key(&app, w.partner, w.admin, &[], &["churn"], 2).await;
        for _ in 0..2 {
            assert_eq!(api.post_json("/api/v1/models/churn/predict", &k, &instances(&[PLAYER])).await.status, 200);
        }
        let limited = api.post_json("/api/v1/models/churn/predict", &k, &instances(&[PLAYER])).await;
        assert_eq!((limited.status, limited.problem()), (429, "rate-limited".into()));
        assert!(limited.header("retry-after").is_some());
        let v2 = api.post_json("/v2/models/churn/infer", &k, "{}").await;
        assert_eq!(v2.status, 429);
        assert!(v2_error(&v2).contains("requests a minute"));
        assert!(v2.header("retry-after").is_some());
        app.finish().await;
    }
}

#[tokio::test]
async fn the_pages_upload_form_is_for_builders_and_says_why_a_file_was_refused() {
    for app in TestApp::each().await {
        register(&app).await;
        let (_, _, signature) = server::demo::SHIPPED_MODELS[1];
        let form = [
            ("name", None, "churn"),
            ("model", Some("model.onnx"), "not a model"),
            ("signature", Some("s.yaml"), signature),
        ];
        let (mut viewer, _) = app.signed_in("v@mcms.test", domain::Role::Viewer).await;
        assert_eq!(
            viewer.upload("/models/upload", &form).await.status,
            http::StatusCode::FORBIDDEN,
            "{}",
            app.backend()
        );
        let (mut builder, _) = app.signed_in("b@mcms.test", domain::Role::Builder).await;
        let refused = builder.upload("/models/upload", &form).await;
        assert_eq!(refused.status, http::StatusCode::SEE_OTHER, "{}", refused.body);
        let back = refused.location().unwrap().to_owned();
        assert!(back.starts_with("/models/churn?refused=not%20an%20ONNX%20model"), "{back}");
        let page = builder.page(&back).await;
        let alert = page.body.split("role=\"alert\"").nth(1).unwrap_or_default();
        assert!(alert.contains("That was refused:") && alert.contains("not an ONNX model"), "shown without JavaScript");
        assert_eq!(app.t.db.model_versions("churn").await.unwrap().len(), 1, "nothing stored");
        app.finish().await;
    }
}

/// Polls until `f` holds (the monitoring is written every couple of seconds).
async fn eventually<F: AsyncFn() -> bool>(f: F) -> bool {
    for _ in 0..40 {
        if f().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    false
}

#[tokio::test]
async fn predictions_are_monitored_per_version_and_sampled_only_when_asked_without_the_key() {
    for app in TestApp::each().await {
        let w = world(&app).await;
        let actor = register(&app).await;
        let api = serve(&app.t.db, "").await;
        let churn = key(&app, w.partner, w.admin, &[], &["churn"], 6_000).await;
        let ok = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&[PLAYER, PLAYER])).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let bad = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&[r#"{"level": 0}"#])).await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        let tensor = json!({"inputs": [{"name": "features", "shape": [1, 8], "datatype": "FP32",
            "data": [244, 4, 2, 20.9, 41, 0, 0, 0]}]});
        let v2 = api.post_json("/v2/models/churn/infer", &churn, &tensor.to_string()).await;
        assert_eq!(v2.status, 200, "{}", v2.body);

        let today = time::OffsetDateTime::now_utc().date();
        let counted = async || {
            let u = app.t.db.model_usage("churn", today).await.unwrap();
            let n = |s: i32| u.iter().filter(|r| r.1 == 1 && r.2 == s).map(|r| r.4).sum::<i64>();
            (n(200), n(400)) == (2, 1)
        };
        assert!(eventually(counted).await, "{}: {:?}", app.backend(), app.t.db.model_usage("churn", today).await);
        // Three predictions scored (two instances and one row), all in the first player's bin.
        let scores = app.t.db.model_scores("churn", today).await.unwrap();
        assert_eq!(scores.iter().map(|s| (s.1, s.2, s.3)).collect::<Vec<_>>(), [(1, 3, 3)], "p = 0.31");
        assert!(app.t.db.model_samples("churn", 10).await.unwrap().is_empty(), "kept nothing by default");

        app.t.db.set_model_sampling("churn", 100, actor.id, "drift").await.unwrap();
        tokio::time::sleep(service::models::ROUTES_TTL).await;
        let ok = api.post_json("/api/v1/models/churn/predict", &churn, &instances(&[PLAYER])).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(eventually(async || !app.t.db.model_samples("churn", 10).await.unwrap().is_empty()).await);
        let kept = app.t.db.model_samples("churn", 10).await.unwrap();
        assert_eq!(kept.len(), 1);
        let instance: serde_json::Value = serde_json::from_str(&kept[0].instance).unwrap();
        assert_eq!(instance, serde_json::from_str::<serde_json::Value>(PLAYER).unwrap());
        let prefix = domain::keys::ApiKey::parse(&churn).unwrap().prefix().to_owned();
        assert!(!kept[0].instance.contains(&prefix) && !kept[0].prediction.contains(&prefix));
    }
}
