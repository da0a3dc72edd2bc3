//! The demo's three models (models/, made by models/train.py) against scikit-learn's own outputs,
//! and every kind of bad model file the registry must refuse.

use super::*;
use prost::Message;
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models").join(name)
}

fn signature(name: &str) -> Signature {
    Signature::parse(&std::fs::read_to_string(dir(name).join("signature.yaml")).unwrap()).unwrap()
}

fn onnx(name: &str) -> Vec<u8> {
    std::fs::read(dir(name).join("model.onnx")).unwrap()
}

#[derive(serde::Deserialize)]
struct Fixture {
    inputs: Vec<Vec<f32>>,
    expected: Expected,
}

#[derive(serde::Deserialize)]
struct Expected {
    label: Vec<i64>,
    #[serde(default)]
    probabilities: Vec<Vec<f32>>,
    #[serde(default)]
    scores: Vec<Vec<f32>>,
}

/// The largest difference between tract's numbers and scikit-learn's.
fn worst(got: &[f32], want: &[Vec<f32>]) -> f32 {
    let want: Vec<f32> = want.concat();
    assert_eq!(got.len(), want.len());
    got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

#[test]
fn tract_answers_as_scikit_learn_did_on_each_models_fixture() {
    for name in ["first_purchase", "churn", "segment"] {
        let model = Model::load(&onnx(name), signature(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let fixture: Fixture =
            serde_json::from_str(&std::fs::read_to_string(dir(name).join("fixture.json")).unwrap()).unwrap();
        assert_eq!(fixture.inputs.len(), 64);
        let rows: Vec<f32> = fixture.inputs.concat();
        let all = model.predict(&rows).unwrap();
        assert_eq!(all.rows, 64);
        assert_eq!(all.labels, fixture.expected.label, "{name}: labels");
        if name == "segment" {
            assert_eq!(all.clusters, 4);
            assert!(worst(&all.scores, &fixture.expected.scores) <= 1e-5, "{name}: scores");
            assert!(all.probabilities.is_empty());
        } else {
            assert_eq!(all.classes, 2);
            assert!(worst(&all.probabilities, &fixture.expected.probabilities) <= 1e-5, "{name}: probabilities");
        }
        // One instance at a time, the same plan answers the same.
        for (i, input) in fixture.inputs.iter().enumerate().step_by(9) {
            let one = model.predict(input).unwrap();
            assert_eq!(one.label(0), all.label(i), "{name} #{i}");
            assert!(worst(one.probabilities(0), &[all.probabilities(i).to_vec()]) <= 1e-6);
            assert!(worst(one.scores(0), &[all.scores(i).to_vec()]) <= 1e-6);
        }
    }
}

#[test]
fn a_prediction_of_the_wrong_width_is_an_error_not_a_panic() {
    let model = Model::load(&onnx("churn"), signature("churn")).unwrap();
    assert!(model.predict(&[]).is_err());
    assert!(model.predict(&[1.0; 9]).is_err());
}

fn edited(name: &str, edit: impl FnOnce(&mut pb::ModelProto)) -> Vec<u8> {
    let mut proto = pb::ModelProto::decode(&onnx(name)[..]).unwrap();
    edit(&mut proto);
    proto.encode_to_vec()
}

fn refusal(bytes: &[u8], signature: Signature) -> String {
    match Model::load(bytes, signature) {
        Ok(_) => panic!("the model was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn files_that_are_not_models_are_refused_with_the_reason() {
    let churn = onnx("churn");
    assert!(refusal(b"", signature("churn")).starts_with("not an ONNX model: the file holds no graph"));
    assert!(refusal(b"model,score\n1,2\n", signature("churn")).starts_with("not an ONNX model"));
    assert!(refusal(&churn[..churn.len() / 2], signature("churn")).starts_with("not an ONNX model"));
    let mut noise = churn.clone();
    for (i, b) in noise.iter_mut().enumerate().skip(40).step_by(7) {
        *b = b.wrapping_mul(31).wrapping_add(i as u8);
    }
    // Whatever the bytes decode to, the answer is a refusal, not a panic.
    assert!(Model::load(&noise, signature("churn")).is_err());
}

#[test]
fn an_op_tract_lacks_is_named() {
    let scaler = edited("churn", |p| {
        let graph = p.graph.as_mut().unwrap();
        let sub = graph.node.iter_mut().find(|n| n.op_type == "Sub").unwrap();
        sub.op_type = "Scaler".into();
        sub.domain = "ai.onnx.ml".into();
    });
    let e = refusal(&scaler, signature("churn"));
    assert!(e.starts_with("the graph uses an op tract cannot run: Scaler (ai.onnx.ml);"), "{e}");
    assert!(e.contains("zipmap"), "{e}");
}

#[test]
fn a_signature_that_does_not_match_the_graph_is_refused() {
    let mut renamed = signature("churn");
    renamed.input.name = "x".into();
    assert_eq!(
        refusal(&onnx("churn"), renamed),
        "the graph's input does not match the signature: the graph's input is `features`, the signature names `x`"
    );
    let mut narrow = signature("churn");
    narrow.input.features.pop();
    narrow.example.remove("platform");
    assert_eq!(
        refusal(&onnx("churn"), narrow),
        "the graph's input does not match the signature: `features` takes 8 values per instance; the signature lists 7 features"
    );
    let mut output = signature("churn");
    output.outputs.probabilities.as_mut().unwrap().output = "output_probability".into();
    assert_eq!(
        refusal(&onnx("churn"), output),
        "the graph's outputs do not match the signature: the signature reads `output_probability`; the graph's outputs are label, probabilities"
    );
    let two_inputs = edited("churn", |p| {
        let graph = p.graph.as_mut().unwrap();
        let mut extra = graph.input[0].clone();
        extra.name = "more".into();
        graph.input.push(extra);
    });
    let e = refusal(&two_inputs, signature("churn"));
    assert!(e.contains("the graph has 2 inputs (features, more)"), "{e}");
}

#[test]
fn a_smoke_prediction_that_does_not_fit_the_signature_is_refused() {
    let mut three = signature("segment");
    three.outputs.label.as_mut().unwrap().classes.truncate(3);
    let e = refusal(&onnx("segment"), three);
    assert!(e.starts_with("the smoke prediction of the signature's example failed:"), "{e}");
}

/// The demo's classifiers answer their labels through [`arg_best::ArgBest`], not tract's slower
/// `Reduce` (their answers are checked against scikit-learn's above).
#[test]
fn labels_are_found_in_one_pass_over_each_row() {
    for (name, op) in [("churn", "ArgMaxLastAxis"), ("first_purchase", "ArgMaxLastAxis"), ("segment", "ArgMinLastAxis")]
    {
        let model = Model::load(&onnx(name), signature(name)).unwrap();
        let ops: Vec<String> = model.plan.model().nodes().iter().map(|n| n.op().name().to_string()).collect();
        assert!(ops.iter().any(|o| o == op), "{name}: {ops:?}");
        assert!(!ops.iter().any(|o| o.starts_with("Reduce<Arg")), "{name}: {ops:?}");
    }
}

/// The demo models' scalers (a Sub and a Mul by one constant per feature in tract's plan) run as
/// one [`columns`](crate::columns) op; their answers are checked against scikit-learn's above.
#[test]
fn scalers_run_as_one_op_over_each_row() {
    for name in ["churn", "first_purchase", "segment"] {
        let model = Model::load(&onnx(name), signature(name)).unwrap();
        let plan = model.plan.model();
        let ops: Vec<String> =
            plan.eval_order().unwrap().iter().map(|&n| plan.node(n).op().name().to_string()).collect();
        assert!(ops.iter().any(|o| o == "ColumnConstants"), "{name}: {ops:?}");
        assert!(!ops.iter().any(|o| o == "Sub" || o == "Mul" || o == "Add" || o == "Div"), "{name}: {ops:?}");
    }
}
