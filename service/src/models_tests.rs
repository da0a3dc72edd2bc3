//! Uploading, rolling out and serving models, on SQLite and PostgreSQL, with the demo's models
//! (models/, made by models/train.py).

use crate::models::{Loaded, ServeError, Serving, Upload, Via};
use crate::{Actor, Error, Service};
use domain::models::Batch;
use domain::{Email, NewPassword, PersonName, Role};
use store::costs::CostSettings;
use store::models::RollOut;
use store::testing::TestDb;

fn file(model: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../models/{model}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn text(model: &str) -> String {
    String::from_utf8(file(model, "signature.yaml")).unwrap()
}

async fn actor(t: &TestDb, email: &str, role: Role) -> Actor {
    let (e, n) = (Email::parse(email).unwrap(), PersonName::parse("Data Person").unwrap());
    let user = t.db.create_user(&e, &n, role, &NewPassword::parse("a long enough password").unwrap()).await.unwrap();
    Actor::user(&user).unwrap()
}

/// `instances` as the prediction API reads them for `loaded`'s signature.
fn batch(loaded: &Loaded, instances: &[&str]) -> Batch {
    Batch::from_json(loaded.inner.signature(), &format!("[{}]", instances.join(","))).unwrap()
}

const PLAYER: &str = r#"{"days_since_install": 244, "days_since_last_session": 4, "sessions_7d": 2, "minutes_7d": 20.9,
    "level": 41, "purchases_28d": 0, "spend_28d_krw": 0, "platform": "android"}"#;

#[tokio::test]
async fn uploads_are_checked_before_they_are_stored() {
    for t in TestDb::each().await {
        let costs = CostSettings::default();
        let service = Service { db: &t.db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
        let builder = actor(&t, "data@example.com", Role::Builder).await;
        let viewer = actor(&t, "viewer@example.com", Role::Viewer).await;
        let (onnx, sig) = (file("churn", "model.onnx"), text("churn"));
        let (typo, segment) = (sig.replace("task:", "tsak:"), file("segment", "model.onnx"));
        let up = |model, onnx, signature| Upload { model, onnx, signature, note: "", via: Via::Command };

        assert!(matches!(service.upload_model(&viewer, up("churn", &onnx, &sig)).await, Err(Error::Forbidden)));
        let refused = |r: crate::Result<_>| match r {
            Err(Error::Refused(m)) => m,
            other => panic!("{other:?}"),
        };
        let m = refused(service.upload_model(&builder, up("Churn!", &onnx, &sig)).await);
        assert!(m.contains("not a model name"), "{m}");
        let m = refused(service.upload_model(&builder, up("churn", b"not onnx", &sig)).await);
        assert!(m.starts_with("not an ONNX model"), "{m}");
        let m = refused(service.upload_model(&builder, up("churn", &onnx, &typo)).await);
        assert!(m.starts_with("signature, line 3, column 1: unknown field `tsak`"), "{m}");
        // The segment model under the churn signature: the outputs do not match.
        let m = refused(service.upload_model(&builder, up("churn", &segment, &sig)).await);
        assert!(m.starts_with("the graph's outputs do not match the signature"), "{m}");
        assert!(t.db.models().await.unwrap().is_empty(), "nothing refused is stored");

        let first = service.upload_model(&builder, up("churn", &onnx, &sig)).await.unwrap();
        assert_eq!((first.version, first.new), (1, true));
        assert_eq!(first.sha256.len(), 64);
        let again = service.upload_model(&builder, up("churn", &onnx, &sig)).await.unwrap();
        assert_eq!((again.version, again.new), (1, false));
        let v = t.db.model_version("churn", 1).await.unwrap().unwrap();
        assert_eq!(
            (v.task.as_str(), v.uploaded_via.as_str(), v.stage.as_str()),
            ("binary_classification", "command", "staging")
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn serving_follows_promotions_canaries_and_archives() {
    for t in TestDb::each().await {
        let costs = CostSettings::default();
        let service = Service { db: &t.db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
        let builder = actor(&t, "data@example.com", Role::Builder).await;
        let (onnx, sig) = (file("churn", "model.onnx"), text("churn"));
        for note in ["one", "two"] {
            // The same file under a second signature text (a new description) is a second version.
            let signature = sig.replace("description: Chance", &format!("description: ({note}) Chance"));
            service
                .upload_model(
                    &builder,
                    Upload { model: "churn", onnx: &onnx, signature: &signature, note, via: Via::Page },
                )
                .await
                .unwrap();
        }
        let serving = Serving::new(t.db.clone());
        assert!(matches!(serving.pick("churn", None, None).await, Err(ServeError::NoProduction(_))));
        assert!(matches!(serving.pick("nope", None, None).await, Err(ServeError::NoModel(_))));
        assert!(matches!(serving.pick("churn", Some(7), None).await, Err(ServeError::NoVersion(_, 7))));
        // A staging version answers when asked for by number.
        let (two, stage) = serving.pick("churn", Some(2), None).await.unwrap();
        assert_eq!(stage, domain::models::Stage::Staging);
        let answer = Serving::predict(two.clone(), batch(&two, &[PLAYER, PLAYER])).unwrap();
        assert_eq!((answer.model.version, answer.predictions.rows, answer.predictions.classes), (2, 2, 2));
        let p = answer.predictions.probabilities(0);
        assert!((p[0] + p[1] - 1.0).abs() < 1e-5 && p[1] > 0.0, "{p:?}");

        service.change_roll_out(&builder, "churn", RollOut::Promote(1), None, "first").await.unwrap();
        tokio::time::sleep(crate::models::ROUTES_TTL).await;
        assert_eq!(serving.pick("churn", None, None).await.unwrap().0.version, 1);

        // A 30% canary: each caller id stays on one side, and about 30% of ids land on it.
        service.change_roll_out(&builder, "churn", RollOut::Canary(Some((2, 30))), None, "").await.unwrap();
        tokio::time::sleep(crate::models::ROUTES_TTL).await;
        let mut on_canary = 0;
        for id in 0..400 {
            let id = format!("player-{id}");
            let first = serving.pick("churn", None, Some(&id)).await.unwrap().0.version;
            assert_eq!(serving.pick("churn", None, Some(&id)).await.unwrap().0.version, first, "sticky");
            on_canary += usize::from(first == 2);
        }
        assert!((80..=160).contains(&on_canary), "{on_canary} of 400 on a 30% canary");
        // Without an id, requests take turns: exactly 30 of 100.
        let mut turns = 0;
        for _ in 0..100 {
            turns += usize::from(serving.pick("churn", None, None).await.unwrap().0.version == 2);
        }
        assert_eq!(turns, 30);

        // A request holding version 1 finishes after 2 is promoted and 1 archived.
        let (held, _) = serving.pick("churn", Some(1), None).await.unwrap();
        service.change_roll_out(&builder, "churn", RollOut::Promote(2), None, "canary was good").await.unwrap();
        tokio::time::sleep(crate::models::ROUTES_TTL).await;
        assert_eq!(serving.pick("churn", None, Some("player-1")).await.unwrap().0.version, 2);
        assert_eq!(Serving::predict(held.clone(), batch(&held, &[PLAYER])).unwrap().model.version, 1);
        assert!(matches!(serving.pick("churn", Some(1), None).await, Err(ServeError::Archived(_, 1))));
        t.finish().await;
    }
}

#[tokio::test]
async fn bad_instances_are_named_by_index_and_feature() {
    let t = TestDb::sqlite().await;
    let costs = CostSettings::default();
    let service = Service { db: &t.db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
    let builder = actor(&t, "data@example.com", Role::Builder).await;
    let (onnx, sig) = (file("segment", "model.onnx"), text("segment"));
    service
        .upload_model(&builder, Upload { model: "segment", onnx: &onnx, signature: &sig, note: "", via: Via::Page })
        .await
        .unwrap();
    let serving = Serving::new(t.db.clone());
    let (v1, _) = serving.pick("segment", Some(1), None).await.unwrap();
    let bad = PLAYER.replace("\"level\": 41", "\"level\": 0").replace("\"android\"", "\"web\"");
    match Serving::predict(v1.clone(), batch(&v1, &[PLAYER, &bad])) {
        Err(ServeError::Instances(problems)) => {
            let named: Vec<String> = problems.iter().map(|(i, e)| format!("{i} {e}")).collect();
            assert_eq!(
                named,
                ["1 level: 0 is below the minimum 1", "1 platform: text \"web\" is not one of android, ios"]
            );
        }
        other => panic!("{:?}", other.err()),
    }
    assert!(matches!(Serving::predict(v1.clone(), batch(&v1, &[])), Err(ServeError::BatchSize(0))));
    let many = vec![PLAYER; domain::models::MAX_BATCH + 1];
    assert!(matches!(Serving::predict(v1.clone(), batch(&v1, &many)), Err(ServeError::BatchSize(1001))));
    let answer = Serving::predict(v1.clone(), batch(&v1, &[PLAYER])).unwrap();
    assert_eq!(answer.predictions.clusters, 4);
    t.finish().await;
}

#[tokio::test]
async fn serving_counts_requests_latencies_and_scores_and_keeps_samples_at_the_set_rate() {
    use crate::models::Sent;
    use std::time::Duration;
    for t in TestDb::each().await {
        let costs = CostSettings::default();
        let service = Service { db: &t.db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
        let builder = actor(&t, "data@example.com", Role::Builder).await;
        let viewer = actor(&t, "viewer@example.com", Role::Viewer).await;
        let (onnx, sig) = (file("churn", "model.onnx"), text("churn"));
        let up = Upload { model: "churn", onnx: &onnx, signature: &sig, note: "", via: Via::Page };
        service.upload_model(&builder, up).await.unwrap();
        let serving = Serving::new(t.db.clone());
        let (v1, _) = serving.pick("churn", Some(1), None).await.unwrap();
        let later = PLAYER.replace("\"days_since_last_session\": 4", "\"days_since_last_session\": 30");
        let players = [PLAYER, later.as_str()];
        let answer = Serving::predict(v1.clone(), batch(&v1, &players)).unwrap();
        let body = format!(r#"{{"instances": [{}], "sticky_id": "p-1"}}"#, players.join(","));
        let p = |i: usize| answer.predictions.probabilities(i)[1];
        // Churn's probability rises with the days since the last session: two different bins.
        let (low, high) = ((p(0) * 10.0) as i32, (p(1) * 10.0) as i32);
        assert!(low < high, "{low} {high}");

        // Sampling is off by default: counts only.
        for _ in 0..3 {
            serving.record("churn", 1, 200, Duration::from_micros(150), Some((&answer, Sent::Json(body.as_bytes()))));
        }
        serving.record("churn", 1, 400, Duration::from_micros(90), None);
        serving.flush().await;
        let today = time::OffsetDateTime::now_utc().date();
        let usage = t.db.model_usage("churn", today).await.unwrap();
        let by_status = |s: i32| usage.iter().filter(|u| u.2 == s).map(|u| u.4).sum::<i64>();
        assert_eq!((by_status(200), by_status(400)), (3, 1));
        let b150 = domain::models::latency_bucket(150);
        assert!(usage.iter().any(|u| u.2 == 200 && u.3 == b150), "{usage:?}");
        let scores = t.db.model_scores("churn", today).await.unwrap();
        let bins: Vec<(i32, i64)> = scores.iter().map(|s| (s.2, s.3)).collect();
        assert_eq!(bins, [(low, 3), (high, 3)]);
        assert!(t.db.model_samples("churn", 10).await.unwrap().is_empty(), "nothing kept at 0%");

        // At 100%, each answered request keeps its instances and answers (up to 10 per request).
        assert!(matches!(service.set_sampling(&viewer, "churn", 100, "").await, Err(Error::Forbidden)));
        assert!(matches!(
            service.set_sampling(&builder, "churn", 101, "").await,
            Err(Error::Store(store::StoreError::Refused(_)))
        ));
        service.set_sampling(&builder, "churn", 100, "drift check").await.unwrap();
        tokio::time::sleep(crate::models::ROUTES_TTL).await;
        serving.pick("churn", Some(1), None).await.unwrap();
        serving.record("churn", 1, 200, Duration::from_micros(150), Some((&answer, Sent::Json(body.as_bytes()))));
        // A KServe request: rows of numbers, kept as the instance a client would send.
        let rows = [244.0, 4.0, 2.0, 20.9, 41.0, 0.0, 0.0, 1.0];
        let tensor = Serving::predict_rows(v1.clone(), &rows).unwrap();
        serving.record("churn", 1, 200, Duration::from_micros(150), Some((&tensor, Sent::Rows(&rows))));
        serving.flush().await;
        let kept = t.db.model_samples("churn", 10).await.unwrap();
        assert_eq!(kept.len(), 3);
        let named: serde_json::Value =
            serde_json::from_str(&kept.iter().find(|s| s.instance.contains("\"ios\"")).unwrap().instance).unwrap();
        assert_eq!((named["platform"].as_str(), named["level"].as_f64()), (Some("ios"), Some(41.0)));
        let answered: serde_json::Value = serde_json::from_str(&kept[0].prediction).unwrap();
        assert!(answered["probability"].as_f64().is_some() && answered["label"].is_string(), "{answered}");
        let audit = t.db.audit_trail("model", "churn").await.unwrap();
        assert!(audit.iter().any(|a| a.action == "sampling" && a.after.as_deref() == Some("100% of requests kept")));
        t.finish().await;
    }
}

/// The answer written directly is byte for byte what serde_json writes from a [`Row`] per
/// instance: for each demo model's fixture, and for what a model should never give (NaN and
/// infinity, a class it does not name, a value, nothing at all).
#[test]
fn answers_are_written_as_serde_writes_their_rows() {
    use crate::models::{Answer, Row};
    use inference::Predictions;
    use std::sync::Arc;

    #[derive(serde::Serialize)]
    struct Expected<'a> {
        model: &'a str,
        version: i32,
        stage: &'a str,
        predictions: Vec<Row<'a>>,
    }
    let same = |answer: &Answer, stage: &str| {
        let mut written = Vec::new();
        answer.write_json(stage, &mut written);
        let (signature, p) = (answer.model.inner.signature(), &answer.predictions);
        let predictions = (0..p.rows).map(|i| Row { signature, p, i }).collect();
        let expected = Expected { model: &answer.model.model, version: answer.model.version, stage, predictions };
        assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&expected).unwrap());
    };
    for name in ["churn", "first_purchase", "segment"] {
        let signature = domain::models::Signature::parse(&text(name)).unwrap();
        let inner = inference::Model::load(&file(name, "model.onnx"), signature).unwrap();
        let model = Arc::new(Loaded::new(format!("{name} \"v\""), 3, inner));
        let fixture: serde_json::Value = serde_json::from_slice(&file(name, "fixture.json")).unwrap();
        let rows: Vec<f32> = fixture["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32))
            .collect();
        let mut predictions = model.inner.predict(&rows).unwrap();
        same(&Answer { model: model.clone(), predictions: predictions.clone() }, "production");

        predictions.labels[0] = 7;
        predictions.labels[1] = -1;
        for xs in [&mut predictions.probabilities, &mut predictions.scores] {
            if xs.len() > 3 {
                xs[..3].copy_from_slice(&[f32::NAN, f32::INFINITY, 1e-45]);
            }
        }
        predictions.values = vec![f32::NEG_INFINITY; predictions.rows];
        predictions.values[1] = 0.1;
        same(&Answer { model: model.clone(), predictions }, "staging");
        same(&Answer { model, predictions: Predictions { rows: 2, ..Predictions::default() } }, "staging");
    }
}
