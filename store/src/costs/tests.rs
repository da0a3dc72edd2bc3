//! The ledger suite, on SQLite and (when reachable) PostgreSQL.

use crate::costs::{CostFilter, CostOrder, CostSettings, MasterTable, NewCampaign, YearMonth};
use crate::testing::TestDb;
use crate::{Db, StoreError};
use domain::costs::{CostEntry, CostForm, validate};
use domain::{Currency, Email, NewPassword, PersonName, Role};
use time::macros::date;

pub(crate) const TODAY: time::Date = date!(2026 - 11 - 20);

pub(crate) async fn seed(db: &Db) -> i64 {
    let user = db
        .create_user(
            &Email::parse("m@mcms.test").unwrap(),
            &PersonName::parse("M").unwrap(),
            Role::Marketer,
            &NewPassword::parse("a long enough password").unwrap(),
        )
        .await
        .unwrap();
    db.put_code(MasterTable::Games, "LINEAGE", "Lineage", true).await.unwrap();
    db.put_code(MasterTable::Channels, "GADS", "Google Ads", true).await.unwrap();
    db.put_code(MasterTable::Countries, "KR", "Korea", true).await.unwrap();
    db.put_code(MasterTable::Vendors, "AGENCY1", "Agency One", true).await.unwrap();
    db.put_currency(Currency::KRW, true).await.unwrap();
    db.put_currency(Currency::USD, true).await.unwrap();
    db.put_cost_type("CPI", "Cost per install", true, Some((100_000, 50_000_000))).await.unwrap();
    db.put_campaign(&NewCampaign {
        code: "WINTER",
        name: "Winter push",
        game: "LINEAGE",
        channel: "GADS",
        flight_start: date!(2026 - 10 - 01),
        flight_end: date!(2026 - 12 - 31),
        owner_id: Some(user.id),
        active: true,
    })
    .await
    .unwrap();
    db.put_fx_rate(Currency::USD, date!(2026 - 11 - 10), 1_400_000_000, "test bank").await.unwrap();
    db.put_budget("WINTER", YearMonth::parse("2026-11").unwrap(), 1_000_000).await.unwrap();
    user.id
}

pub(crate) fn form(date: &str, amount: &str, invoice: &str) -> CostForm {
    CostForm {
        date: date.into(),
        game: "LINEAGE".into(),
        channel: "GADS".into(),
        campaign: "WINTER".into(),
        country: "KR".into(),
        vendor: "AGENCY1".into(),
        cost_type: "CPI".into(),
        currency: "KRW".into(),
        amount: amount.into(),
        units: "100".into(),
        invoice_number: invoice.into(),
        ..CostForm::default()
    }
}

async fn check(db: &Db, f: &CostForm) -> (Vec<&'static str>, Option<CostEntry>) {
    let r = db.cost_reference(f, TODAY, &CostSettings::default()).await.unwrap();
    let report = validate(f, &r);
    (report.codes(), report.entry)
}

#[tokio::test]
async fn entries_are_stored_exactly_and_every_change_is_audited() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (codes, entry) =
            check(db, &CostForm { currency: "USD".into(), amount: "85.50".into(), ..form("2026-11-12", "", "INV-1") })
                .await;
        assert_eq!(codes, Vec::<&str>::new(), "{}", db.backend());
        let stored = db.create_cost(&entry.unwrap(), &CostSettings::default(), actor).await.unwrap();
        assert_eq!((stored.version, stored.entry.amount.minor, stored.entry.reporting_minor), (1, 8_550, 119_700));
        assert_eq!(stored.fx_source.as_deref(), Some("test bank"), "the rate's source is kept on the row");

        let (_, edited) = check(
            db,
            &CostForm {
                editing: Some(stored.id),
                currency: "USD".into(),
                amount: "90".into(),
                ..form("2026-11-12", "", "INV-1")
            },
        )
        .await;
        let updated = db.update_cost(stored.id, 1, &edited.unwrap(), &CostSettings::default(), actor).await.unwrap();
        assert_eq!((updated.version, updated.entry.amount.minor), (2, 9_000));
        db.delete_cost(stored.id, 2, actor).await.unwrap();
        db.restore_cost(stored.id, actor).await.unwrap();

        let trail = db.audit_trail("cost_entry", &stored.id.to_string()).await.unwrap();
        let actions: Vec<_> = trail.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["create", "edit", "delete", "restore"], "{}", db.backend());
        assert!(trail[1].before.as_deref().unwrap().contains("\"minor\":8550"));
        assert!(trail[1].after.as_deref().unwrap().contains("\"minor\":9000"));
        assert!(trail.iter().all(|a| a.actor_id == actor));

        let tamper = crate::on_db!(db, pool => sqlx::query("UPDATE audit_log SET action = 'nothing'").execute(pool).await.map(drop));
        assert!(tamper.is_err(), "{}: the audit trail is append-only", db.backend());
        let erase = crate::on_db!(db, pool => sqlx::query("DELETE FROM audit_log").execute(pool).await.map(drop));
        assert!(erase.is_err());
        if let Db::Postgres(pool) = db {
            let truncate = sqlx::query("TRUNCATE audit_log").execute(pool).await;
            assert!(truncate.is_err(), "postgres: TRUNCATE is refused too");
        }
        assert_eq!(db.audit_trail("cost_entry", &stored.id.to_string()).await.unwrap().len(), 4, "{}", db.backend());
        t.finish().await;
    }
}

#[tokio::test]
async fn duplicates_are_caught_by_the_rules_and_by_the_database() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, first) = check(db, &form("2026-11-12", "120,000", "INV-7")).await;
        let first = first.unwrap();
        db.create_cost(&first, &CostSettings::default(), actor).await.unwrap();
        let (codes, _) = check(db, &form("2026-11-12", "99,000", "INV-8")).await;
        assert_eq!(codes, ["duplicate.natural_key"], "{}", db.backend());
        let (codes, _) = check(db, &form("2026-11-13", "99,000", " inv 7 ")).await;
        assert_eq!(codes, ["duplicate.invoice"]);
        // Even if two writers pass the rules at once, the unique indexes hold.
        let same_key = CostEntry { invoice_number: "INV-9".into(), ..first.clone() };
        let again = db.create_cost(&same_key, &CostSettings::default(), actor).await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(crate::Duplicate::NaturalKey))),
            "{}: {again:?}",
            db.backend()
        );
        let same_invoice = CostEntry { date: date!(2026 - 11 - 14), invoice_number: "inv-7".into(), ..first };
        let again = db.create_cost(&same_invoice, &CostSettings::default(), actor).await;
        assert!(matches!(again, Err(StoreError::Duplicate(crate::Duplicate::Invoice))), "{}: {again:?}", db.backend());
        t.finish().await;
    }
}

#[tokio::test]
async fn saving_over_a_newer_version_is_refused_and_shows_what_changed() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, entry) = check(db, &form("2026-11-12", "120,000", "")).await;
        let stored = db.create_cost(&entry.unwrap(), &CostSettings::default(), actor).await.unwrap();
        // Two people open version 1.
        let (_, alice) = check(db, &CostForm { editing: Some(stored.id), ..form("2026-11-12", "130,000", "") }).await;
        let (_, bob) = check(db, &CostForm { editing: Some(stored.id), ..form("2026-11-12", "150,000", "") }).await;
        db.update_cost(stored.id, 1, &alice.unwrap(), &CostSettings::default(), actor).await.unwrap();
        let refused = db.update_cost(stored.id, 1, &bob.unwrap(), &CostSettings::default(), actor).await;
        match refused {
            Err(StoreError::Stale(current)) => {
                assert_eq!((current.version, current.entry.amount.minor), (2, 130_000), "{}", db.backend());
            }
            other => panic!("{}: {other:?}", db.backend()),
        }
        assert_eq!(db.cost(stored.id).await.unwrap().unwrap().entry.amount.minor, 130_000, "Alice's edit stands");
        assert!(matches!(db.delete_cost(stored.id, 1, actor).await, Err(StoreError::Stale(_))));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_closed_month_refuses_every_change_until_reopened_with_a_reason() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, entry) = check(db, &form("2026-11-12", "120,000", "")).await;
        let entry = entry.unwrap();
        let stored = db.create_cost(&entry, &CostSettings::default(), actor).await.unwrap();
        let november = YearMonth::parse("2026-11").unwrap();
        db.close_period(november, actor).await.unwrap();
        assert!(matches!(db.close_period(november, actor).await, Err(StoreError::Duplicate(_))));

        let (codes, _) = check(db, &form("2026-11-13", "50,000", "")).await;
        assert_eq!(codes, ["period.closed"], "{}", db.backend());
        let moved = CostEntry { date: date!(2026 - 11 - 14), ..entry.clone() };
        assert!(
            matches!(db.create_cost(&moved, &CostSettings::default(), actor).await, Err(StoreError::PeriodClosed(m)) if m == "2026-11")
        );
        assert!(matches!(
            db.update_cost(stored.id, 1, &moved, &CostSettings::default(), actor).await,
            Err(StoreError::PeriodClosed(_))
        ));
        assert!(matches!(db.delete_cost(stored.id, 1, actor).await, Err(StoreError::PeriodClosed(_))));
        assert_eq!(db.cost(stored.id).await.unwrap().unwrap().version, 1, "nothing changed");

        assert!(matches!(db.reopen_period(november, "  ", actor).await, Err(StoreError::ReasonRequired)));
        db.reopen_period(november, "late invoice from Agency One", actor).await.unwrap();
        assert!(matches!(db.reopen_period(november, "again", actor).await, Err(StoreError::NotFound)));
        db.delete_cost(stored.id, 1, actor).await.unwrap();
        let trail = db.audit_trail("period", "2026-11").await.unwrap();
        let summary: Vec<_> = trail.iter().map(|a| (a.action.as_str(), a.reason.as_deref())).collect();
        assert_eq!(summary, [("close", None), ("reopen", Some("late invoice from Agency One"))]);
        t.finish().await;
    }
}

#[tokio::test]
async fn deleting_frees_the_key_and_restoring_into_a_taken_key_is_refused() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, entry) = check(db, &form("2026-11-12", "120,000", "")).await;
        let entry = entry.unwrap();
        let first = db.create_cost(&entry, &CostSettings::default(), actor).await.unwrap();
        db.delete_cost(first.id, 1, actor).await.unwrap();
        assert!(db.cost(first.id).await.unwrap().unwrap().deleted);
        let (codes, replacement) = check(db, &form("2026-11-12", "125,000", "")).await;
        assert_eq!(codes, Vec::<&str>::new(), "{}: a deleted entry is no duplicate", db.backend());
        db.create_cost(&replacement.unwrap(), &CostSettings::default(), actor).await.unwrap();
        assert!(matches!(db.restore_cost(first.id, actor).await, Err(StoreError::Duplicate(_))), "{}", db.backend());
        t.finish().await;
    }
}

#[tokio::test]
async fn the_budget_warning_counts_what_is_already_spent() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, entry) = check(db, &form("2026-11-12", "700,000", "")).await;
        let stored = db.create_cost(&entry.unwrap(), &CostSettings::default(), actor).await.unwrap();
        let (codes, entry) = check(db, &form("2026-11-13", "400,000", "")).await;
        assert_eq!(codes, ["budget.overrun"], "{}: 700,000 + 400,000 > 1,000,000", db.backend());
        assert!(entry.is_some(), "a warning does not block");
        let (codes, _) = check(db, &CostForm { editing: Some(stored.id), ..form("2026-11-12", "900,000", "") }).await;
        assert_eq!(codes, Vec::<&str>::new(), "an edit is not counted twice");
        t.finish().await;
    }
}

/// Every row `filter` matches, page by page.
async fn walk(db: &Db, filter: &CostFilter, size: i64) -> Vec<crate::costs::StoredCost> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = db.list_costs(filter, after, size).await.unwrap();
        rows.extend(page.rows);
        match page.next {
            Some(c) => after = Some(c),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn the_list_pages_by_keyset_with_filters_and_totals() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        db.put_code(MasterTable::Countries, "JP", "Japan", true).await.unwrap();
        // 25 entries over two months, two countries, four amounts (so orders by amount have ties).
        for i in 1..=25 {
            let country = if i % 2 == 0 { "JP" } else { "KR" };
            let date = if i <= 10 { format!("2026-10-{i:02}") } else { format!("2026-11-{:02}", i - 10) };
            let amount = format!("{}0,000", 1 + i % 4);
            let f = CostForm { country: country.into(), ..form(&date, &amount, "") };
            let (codes, entry) = check(db, &f).await;
            assert_eq!(codes, Vec::<&str>::new(), "{i}");
            db.create_cost(&entry.unwrap(), &CostSettings::default(), actor).await.unwrap();
        }
        let all = crate::costs::CostFilter::default();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = db.list_costs(&all, after, 10).await.unwrap();
            assert_eq!((page.total_count, page.total_reporting_minor), (25, 620_000), "{}", db.backend());
            seen.extend(page.rows.iter().map(|r| r.entry.date.day()));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        let expected: Vec<u8> = (1..=15).rev().chain((1..=10).rev()).collect();
        assert_eq!(seen, expected, "newest first, each once");

        let november_japan = crate::costs::CostFilter {
            month: YearMonth::parse("2026-11"),
            country: Some("JP".into()),
            ..Default::default()
        };
        let page = db.list_costs(&november_japan, None, 50).await.unwrap();
        assert_eq!((page.total_count, page.next), (7, None), "{}: November 2, 4, …, 14", db.backend());
        assert!(page.rows.iter().all(|r| r.entry.country == "JP" && r.entry.date.month() == time::Month::November));

        // Every order walks every row once, in order, whatever the page size.
        for order in CostOrder::ALL {
            for size in [1, 7, 25] {
                let filter = CostFilter { order, ..Default::default() };
                let rows = walk(db, &filter, size).await;
                let key = |r: &crate::costs::StoredCost| match order {
                    CostOrder::Newest | CostOrder::Oldest => (r.entry.date.to_julian_day() as i64, r.id),
                    CostOrder::Largest | CostOrder::Smallest => (r.entry.reporting_minor, r.id),
                };
                let mut expected = rows.clone();
                expected.sort_by_key(key);
                if matches!(order, CostOrder::Newest | CostOrder::Largest) {
                    expected.reverse();
                }
                assert_eq!(rows.len(), 25, "{}: {order:?} by {size}", db.backend());
                assert_eq!(rows, expected, "{}: {order:?} by {size}", db.backend());
            }
        }
        let smallest_kr = CostFilter { order: CostOrder::Smallest, country: Some("KR".into()), ..Default::default() };
        let rows = walk(db, &smallest_kr, 4).await;
        assert_eq!(rows.len(), 13);
        assert!(rows.windows(2).all(|w| w[0].entry.reporting_minor <= w[1].entry.reporting_minor));
        t.finish().await;
    }
}

#[tokio::test]
async fn running_totals_always_agree_with_the_ledger() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let filters = || {
            let month = |m: &str| YearMonth::parse(m);
            [
                CostFilter::default(),
                CostFilter { month: month("2026-10"), ..Default::default() },
                CostFilter { month: month("2026-11"), ..Default::default() },
                CostFilter { month: month("2026-11"), country: Some("KR".into()), ..Default::default() },
                CostFilter { campaign: Some("WINTER".into()), vendor: Some("AGENCY1".into()), ..Default::default() },
                CostFilter { game: Some("OTHER".into()), ..Default::default() },
            ]
        };
        let agree = |label: &'static str| async move {
            for filter in filters() {
                let listed = db.list_costs(&filter, None, 1).await.unwrap();
                let rows = walk(db, &filter, 100).await;
                let summed = (rows.len() as i64, rows.iter().map(|r| r.entry.reporting_minor).sum::<i64>());
                assert_eq!(
                    (listed.total_count, listed.total_reporting_minor),
                    summed,
                    "{}: {label} {filter:?}",
                    db.backend()
                );
            }
        };
        let (_, e1) = check(db, &form("2026-10-20", "100,000", "")).await;
        let first = db.create_cost(&e1.unwrap(), &CostSettings::default(), actor).await.unwrap();
        let (_, e2) = check(db, &form("2026-11-02", "40,000", "")).await;
        db.create_cost(&e2.unwrap(), &CostSettings::default(), actor).await.unwrap();
        agree("after creates").await;
        let (_, moved) = check(db, &CostForm { editing: Some(first.id), ..form("2026-11-05", "120,000", "") }).await;
        db.update_cost(first.id, 1, &moved.unwrap(), &CostSettings::default(), actor).await.unwrap();
        agree("after moving an entry across months").await;
        db.delete_cost(first.id, 2, actor).await.unwrap();
        agree("after a delete").await;
        db.restore_cost(first.id, actor).await.unwrap();
        agree("after a restore").await;
        let nov = db.list_costs(&filters()[2], None, 1).await.unwrap();
        assert_eq!((nov.total_count, nov.total_reporting_minor), (2, 160_000));
        t.finish().await;
    }
}

#[tokio::test]
async fn budgets_against_actuals_per_campaign_month() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        for (date, amount) in [("2026-11-02", "300,000"), ("2026-11-03", "450,000"), ("2026-10-30", "999,000")] {
            let (_, e) = check(db, &form(date, amount, "")).await;
            db.create_cost(&e.unwrap(), &CostSettings::default(), actor).await.unwrap();
        }
        let november = YearMonth::parse("2026-11").unwrap();
        let lines = db.budget_vs_actual(november).await.unwrap();
        assert_eq!(lines.len(), 1, "{}", db.backend());
        assert_eq!(
            (lines[0].campaign.as_str(), lines[0].budget, lines[0].actual),
            ("WINTER", Some(1_000_000), 750_000)
        );
        db.set_budget("WINTER", november, 700_000, actor).await.unwrap();
        assert_eq!(db.budget_vs_actual(november).await.unwrap()[0].budget, Some(700_000));
        assert!(matches!(db.set_budget("NOPE", november, 1, actor).await, Err(StoreError::NotFound)));
        let trail = db.audit_trail("budget", "WINTER/2026-11").await.unwrap();
        assert_eq!((trail[0].before.as_deref(), trail[0].after.as_deref()), (Some("1000000"), Some("700000")));
        t.finish().await;
    }
}

#[tokio::test]
async fn the_audit_trail_is_searchable_by_entity_actor_and_action() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, e) = check(db, &form("2026-11-02", "300,000", "")).await;
        let stored = db.create_cost(&e.unwrap(), &CostSettings::default(), actor).await.unwrap();
        db.delete_cost(stored.id, 1, actor).await.unwrap();
        db.close_period(YearMonth::parse("2026-10").unwrap(), actor).await.unwrap();
        let all = db.audit_search(&Default::default(), 10).await.unwrap();
        let actions: Vec<_> = all.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["close", "delete", "create", "create"], "{}: newest first", db.backend());
        assert_eq!(
            (all[3].entity.as_str(), all[3].entity_id.clone()),
            ("user", actor.to_string()),
            "the account, first"
        );
        let f = crate::audit::AuditFilter { entity: Some("cost_entry".into()), ..Default::default() };
        assert_eq!(db.audit_search(&f, 10).await.unwrap().len(), 2);
        let f = crate::audit::AuditFilter { action: Some("close".into()), actor_id: Some(actor), ..Default::default() };
        assert_eq!(db.audit_search(&f, 10).await.unwrap()[0].entity_id, "2026-10");
        let f = crate::audit::AuditFilter { actor_id: Some(actor + 99), ..Default::default() };
        assert!(db.audit_search(&f, 10).await.unwrap().is_empty());
        let page2 = crate::audit::AuditFilter { before_id: Some(all[0].id), ..Default::default() };
        assert_eq!(db.audit_search(&page2, 1).await.unwrap()[0].action, "delete");
        t.finish().await;
    }
}

#[tokio::test]
async fn migrate_loads_every_iso_country_and_keeps_admin_changes() {
    for t in TestDb::each().await {
        let db = &t.db;
        let countries = || async { db.cost_master_data(TODAY, 0).await.unwrap().countries };
        let all = countries().await;
        assert_eq!(all.len(), domain::country::ISO_3166_1.len(), "{}", db.backend());
        assert!(all.contains(&("KR".into(), "South Korea".into(), true)));
        assert!(all.contains(&("ZW".into(), "Zimbabwe".into(), true)));

        db.put_code(MasterTable::Countries, "KP", "North Korea (no campaigns)", false).await.unwrap();
        db.migrate().await.unwrap();
        let again = countries().await;
        assert_eq!(again.len(), all.len(), "a second migrate adds nothing");
        assert!(again.contains(&("KP".into(), "North Korea (no campaigns)".into(), false)), "{}", db.backend());
        t.finish().await;
    }
}

/// Closes a month while a write into it is in flight, many times over. Each round ends with the
/// write refused, or with the write committed before the close (its audit line comes first):
/// never a write that lands after the close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_month_never_lets_a_write_in_flight_land_after_it() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, entry) = check(db, &form("2026-11-12", "120,000", "")).await;
        let entry = entry.unwrap();
        let (mut refused, mut before) = (0, 0);
        for round in 0..60_u8 {
            let month =
                YearMonth { year: 2030 + i32::from(round / 12), month: time::Month::try_from(round % 12 + 1).unwrap() };
            let write = CostEntry { date: month.first_day(), ..entry.clone() };
            let (w, c) = (db.clone(), db.clone());
            let writing = tokio::spawn(async move { w.create_cost(&write, &CostSettings::default(), actor).await });
            let closing = tokio::spawn(async move { c.close_period(month, actor).await });
            let (written, closed) = (writing.await.unwrap(), closing.await.unwrap());
            closed.unwrap();
            match written {
                Err(StoreError::PeriodClosed(_)) => refused += 1,
                Ok(stored) => {
                    let order: Vec<(String,)> = crate::on_db!(db, pool => sqlx::query_as(
                        "SELECT entity FROM audit_log WHERE (entity = 'cost_entry' AND entity_id = $1) \
                         OR (entity = 'period' AND entity_id = $2) ORDER BY id")
                        .bind(stored.id.to_string()).bind(month.to_string()).fetch_all(pool).await)
                    .unwrap();
                    let order: Vec<&str> = order.iter().map(|(e,)| e.as_str()).collect();
                    assert_eq!(
                        order,
                        ["cost_entry", "period"],
                        "{}: round {round}: the write landed after the close",
                        db.backend()
                    );
                    before += 1;
                }
                Err(e) => panic!("{}: {e}", db.backend()),
            }
        }
        assert_eq!(refused + before, 60);
        eprintln!("{}: {refused} writes refused, {before} landed before the close", db.backend());
        t.finish().await;
    }
}

/// A running total pushed to the edge of the integers: the next write is refused on both databases
/// (SQLite would otherwise turn the total into an inexact float), and the ledger is unchanged.
#[tokio::test]
async fn running_totals_never_overflow_into_an_inexact_number() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (_, first) = check(db, &form("2026-11-02", "1,000", "")).await;
        db.create_cost(&first.unwrap(), &CostSettings::default(), actor).await.unwrap();
        crate::on_db!(db, pool => sqlx::query("UPDATE cost_totals SET reporting_minor = $1")
            .bind(i64::MAX - 10).execute(pool).await.map(drop))
        .unwrap();
        let (_, second) = check(db, &form("2026-11-03", "1,000", "")).await;
        let refused = db.create_cost(&second.unwrap(), &CostSettings::default(), actor).await;
        assert!(refused.is_err(), "{}: {refused:?}", db.backend());
        let total: i64 = crate::on_db!(db, pool => sqlx::query_scalar("SELECT reporting_minor FROM cost_totals")
            .fetch_one(pool).await)
        .unwrap();
        assert_eq!(total, i64::MAX - 10, "{}: the total is exact and unchanged", db.backend());
        let live: i64 = crate::on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM cost_entries")
            .fetch_one(pool).await)
        .unwrap();
        assert_eq!(live, 1, "{}: nothing of the refused write", db.backend());
        t.finish().await;
    }
}

/// The month as the batch reads it: every live entry, oldest first, the same on both databases;
/// on SQLite (read through its own API) a value that is not what its column holds is an error
/// naming the column, not a crash.
#[tokio::test]
async fn a_month_is_read_whole_in_date_order_and_a_damaged_value_is_an_error() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        for (day, invoice) in [("2026-11-20", "INV-1"), ("2026-11-03", "INV-2"), ("2026-11-12", "INV-3")] {
            let (codes, entry) = check(db, &form(day, "1000", invoice)).await;
            let entry = entry.unwrap_or_else(|| panic!("{codes:?}"));
            db.create_cost(&entry, &CostSettings::default(), actor).await.unwrap();
        }
        let month = crate::costs::YearMonth::parse("2026-11").unwrap();
        let mut days = Vec::new();
        db.each_month_entry(month, None, |c| days.push(c.entry.date.to_string())).await.unwrap();
        assert_eq!(days, ["2026-11-03", "2026-11-12", "2026-11-20"], "{}", db.backend());
        let mut first = Vec::new();
        db.each_month_entry(month, Some(1), |c| first.push(c.entry.invoice_number)).await.unwrap();
        assert_eq!(first, ["INV-2"]);

        if let Db::Sqlite(pool) = db {
            sqlx::query("UPDATE cost_entries SET fx_date = '2026-11-3x' WHERE invoice_number = 'INV-3'")
                .execute(pool)
                .await
                .unwrap();
            let read = db.each_month_entry(month, None, |_| {}).await;
            assert!(
                matches!(&read, Err(StoreError::Corrupt(why)) if why == "cost_entries column 18: not a date"),
                "{read:?}"
            );
        }
        t.finish().await;
    }
}
