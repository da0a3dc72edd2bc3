//! What one run of a demo model costs in tract: the churn (logistic regression) and segment
//! (k-means) models on 1 and on 100 instances, the fixture's first rows.
//! Run: `cargo bench -p inference --bench predict`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::models::Signature;
use inference::Model;
use std::hint::black_box;
use std::path::PathBuf;

fn load(name: &str) -> (Model, Vec<Vec<f32>>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models").join(name);
    let signature = Signature::parse(&std::fs::read_to_string(dir.join("signature.yaml")).unwrap()).unwrap();
    let model = Model::load(&std::fs::read(dir.join("model.onnx")).unwrap(), signature).unwrap();
    #[derive(serde::Deserialize)]
    struct Fixture {
        inputs: Vec<Vec<f32>>,
    }
    let fixture: Fixture = serde_json::from_str(&std::fs::read_to_string(dir.join("fixture.json")).unwrap()).unwrap();
    (model, fixture.inputs)
}

fn predict(c: &mut Criterion) {
    for name in ["churn", "segment"] {
        let (model, inputs) = load(name);
        let mut g = c.benchmark_group(name);
        for n in [1, 100] {
            let rows: Vec<f32> = inputs.iter().cycle().take(n).flatten().copied().collect();
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function(format!("{n} instances"), |b| b.iter(|| model.predict(black_box(&rows)).unwrap()));
        }
        g.finish();
    }
}

criterion_group!(benches, predict);
criterion_main!(benches);
