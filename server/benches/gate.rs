//! What checking a partner API key costs per request: the whole gate with the key cached (as
//! nearly every request finds it), a key refused before any lookup, and the parts.
//! Run: `cargo bench -p server --bench gate`.

use criterion::{Criterion, criterion_group, criterion_main};
use domain::keys::{ApiKey, Scope};
use server::api::gate::Gate;
use std::hint::black_box;
use std::net::IpAddr;
use store::Db;
use store::partners::{KeySettings, PartnerForm};

fn gate(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("mcms-bench-gate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (gate, key) = runtime.block_on(async {
        let db = Db::connect(&format!("sqlite://{}/gate.db", dir.display())).await.unwrap();
        db.migrate().await.unwrap();
        let admin = db
            .create_user(
                &domain::Email::parse("admin@bench.test").unwrap(),
                &domain::PersonName::parse("Bench").unwrap(),
                domain::Role::Admin,
                &domain::NewPassword::parse("a long enough password").unwrap(),
            )
            .await
            .unwrap();
        let form = PartnerForm { name: "Bench", contact: "", active: true, games: &[], channels: &[] };
        let partner = db.save_partner(None, &form, admin.id).await.unwrap();
        let settings = KeySettings {
            label: "bench".into(),
            scopes: vec![Scope::Stats],
            models: vec![],
            expires_at: None,
            rate_per_minute: i32::MAX,
            daily_quota: None,
        };
        let (_, key) = db.issue_key(partner, &settings, admin.id).await.unwrap();
        (Gate::new(db, Vec::new()), key)
    });
    let header = format!("Bearer {}", key.reveal());
    let peer: IpAddr = "203.0.113.9".parse().unwrap();
    // As the handler sees it: the header read into a typed bearer token.
    let check = |authorization: &str| {
        let mut request = http::HeaderMap::new();
        request.insert(http::header::AUTHORIZATION, http::HeaderValue::from_str(authorization).unwrap());
        runtime.block_on(gate.check(server::api::gate::bearer(&request), peer, None, Some(Scope::Stats)))
    };
    assert!(check(&header).is_ok());
    assert!(check("Bearer mcms_nope").is_err());

    c.bench_function("gate: valid key, cached lookup, hash, limits, scope", |b| {
        b.iter(|| check(black_box(&header)).is_ok())
    });
    c.bench_function("gate: malformed key refused before any lookup", |b| {
        b.iter(|| check(black_box("Bearer mcms_nope")).is_err())
    });
    c.bench_function("key: format and checksum", |b| b.iter(|| ApiKey::parse(black_box(key.reveal())).is_ok()));
    c.bench_function("key: SHA-256 of the whole key", |b| b.iter(|| store::partners::key_hash(black_box(&key))));
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, gate);
criterion_main!(benches);
