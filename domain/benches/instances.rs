//! What reading a prediction request's instances costs: a batch of 100 churn instances (the
//! load of `scripts/bench-models.sh`) read straight into checked rows, against reading the same
//! text into a list of instances (what the API did before, ahead of checking each one) and against
//! merely scanning it (the floor: JSON syntax alone).
//! Run: `cargo bench -p domain --bench instances`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::models::{Batch, Instance, Signature};
use std::hint::black_box;

fn batch_text() -> String {
    // The same spread of values as the load script's batch (fixed, so runs compare).
    let instances: Vec<String> = (0..100)
        .map(|i| {
            format!(
                r#"{{"days_since_install": {}, "days_since_last_session": {}, "sessions_7d": {}, "minutes_7d": {}.{}, "level": {}, "purchases_28d": {}, "spend_28d_krw": {}.0, "platform": "{}"}}"#,
                1 + i * 7 % 365,
                i % 31,
                i * 3 % 41,
                i * 37 % 900,
                i % 10,
                1 + i * 11 % 120,
                i % 6,
                i * 1999 % 200_000,
                if i % 3 == 0 { "ios" } else { "android" }
            )
        })
        .collect();
    format!("[{}]", instances.join(", "))
}

fn instances(c: &mut Criterion) {
    let signature = Signature::parse(include_str!("../../models/churn/signature.yaml")).unwrap();
    let text = batch_text();
    let read = Batch::from_json(&signature, &text).unwrap();
    assert!(read.problems.is_empty() && read.count == 100, "{:?}", read.problems.first());
    let mut g = c.benchmark_group("instances");
    g.throughput(Throughput::Elements(100));
    g.bench_function("read into checked rows", |b| b.iter(|| Batch::from_json(&signature, black_box(&text)).unwrap()));
    g.bench_function("read into a list of instances (unchecked)", |b| {
        b.iter(|| serde_json::from_slice::<Vec<Instance>>(black_box(text.as_bytes())).unwrap())
    });
    g.bench_function("scan only", |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(text.as_bytes())).unwrap())
    });
    g.finish();
}

criterion_group!(benches, instances);
criterion_main!(benches);
