//! How many cost entries per second the rule engine checks on one core, against reference data
//! of a realistic size (2,000 campaigns, 200,000 stored entries for the duplicate checks).
//! Run: `cargo bench -p domain --bench validate`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::Currency;
use domain::costs::{
    BudgetMonth, CampaignInfo, Code, CostForm, CostTypeInfo, FxRate, Reference, invoice_key, natural_key, validate,
};
use std::hint::black_box;
use time::macros::date;
use time::{Date, Duration, Month};

const ACTIVE: Code = Code { active: true };

fn reference() -> Reference {
    let mut r = Reference::new(date!(2026 - 11 - 20), Currency::KRW);
    r.closed_months.extend([(2026, Month::September), (2026, Month::August)]);
    r.games.extend((0..50).map(|i| (format!("GAME{i:02}"), ACTIVE)));
    r.channels.extend((0..30).map(|i| (format!("CH{i:02}"), ACTIVE)));
    r.countries.extend((0..250).map(|i| (format!("{}{}", (b'A' + i / 26) as char, (b'A' + i % 26) as char), ACTIVE)));
    r.vendors.extend((0..200).map(|i| (format!("VENDOR{i:03}"), ACTIVE)));
    for c in ["KRW", "USD", "JPY", "EUR"] {
        r.currencies.insert(Currency::from_code(c).unwrap(), ACTIVE);
    }
    r.cost_types.insert(
        "CPI".into(),
        CostTypeInfo { active: true, unit_priced: true, per_mille_band: Some((100_000, 50_000_000)) },
    );
    r.cost_types.insert("FLAT".into(), CostTypeInfo { active: true, unit_priced: false, per_mille_band: None });
    for i in 0..2000 {
        r.campaigns.insert(
            format!("CAMP{i:04}"),
            CampaignInfo {
                game: format!("GAME{:02}", i % 50),
                channel: format!("CH{:02}", i % 30),
                flight_start: date!(2026 - 01 - 01),
                flight_end: date!(2026 - 12 - 31),
                active: true,
            },
        );
        r.budgets
            .entry(format!("CAMP{i:04}"))
            .or_default()
            .insert((2026, Month::November), BudgetMonth { budget: 50_000_000, spent: 1_000_000 });
    }
    let rates = |micros| {
        (0..320).map(|d| FxRate { date: date!(2026 - 01 - 01) + Duration::days(d), micros }).collect::<Vec<_>>()
    };
    r.fx.insert(Currency::USD, rates(1_400_000_000));
    r.fx.insert(Currency::from_code("JPY").unwrap(), rates(9_300_000));
    r.fx.insert(Currency::from_code("EUR").unwrap(), rates(1_500_000_000));
    let day0 = date!(2026 - 01 - 01);
    for i in 0..200_000_i64 {
        let d: Date = day0 + Duration::days(i % 300);
        let camp = format!("CAMP{:04}", i % 2000);
        r.natural_keys.insert(natural_key(d, &format!("CH{:02}", i % 30), &camp, "KR", "CPI", Currency::KRW), i);
        r.invoices.insert(invoice_key(&format!("VENDOR{:03}", i % 200), &format!("INV-{i:07}")), i);
        r.entries.insert(i);
    }
    r
}

/// Valid entries that differ in campaign, currency, day and invoice, as a month's import would.
fn forms(n: usize) -> Vec<CostForm> {
    let currencies = ["KRW", "USD", "JPY", "EUR"];
    let amounts = ["1,250,000", "830.25", "125000", "912.40"];
    (0..n)
        .map(|i| {
            let camp = i % 2000;
            CostForm {
                date: format!("2026-11-{:02}", 1 + i % 19),
                game: format!("GAME{:02}", camp % 50),
                channel: format!("CH{:02}", camp % 30),
                campaign: format!("CAMP{camp:04}"),
                country: "JP".into(),
                vendor: format!("VENDOR{:03}", i % 200),
                cost_type: "CPI".into(),
                currency: currencies[i % 4].into(),
                amount: amounts[i % 4].into(),
                units: "1,000".into(),
                invoice_number: format!("NEW-{i:07}"),
                memo: String::new(),
                vat_included: false,
                corrects: None,
                editing: None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let r = reference();
    let batch = forms(10_000);
    assert!(batch.iter().all(|f| validate(f, &r).findings.is_empty()), "the benchmark checks valid entries");
    let mut group = c.benchmark_group("cost rules");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("validate 10,000 valid entries", |b| {
        b.iter(|| batch.iter().filter(|f| validate(black_box(f), &r).entry.is_some()).count())
    });
    let mut broken = batch.clone();
    for (i, f) in broken.iter_mut().enumerate() {
        match i % 4 {
            0 => f.amount = "1200.5".into(),
            1 => f.campaign = "NOPE".into(),
            2 => f.date = "2026-09-03".into(),
            _ => f.units.clear(),
        }
    }
    group.bench_function("validate 10,000 entries with one error each", |b| {
        b.iter(|| broken.iter().filter(|f| validate(black_box(f), &r).entry.is_none()).count())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
