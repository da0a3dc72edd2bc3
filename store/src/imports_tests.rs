//! The import suite, on SQLite and (when reachable) PostgreSQL.

use crate::costs::tests::{TODAY, form, seed};
use crate::costs::{CostFilter, CostSettings, YearMonth};
use crate::imports::{NewBatch, content_hash};
use crate::testing::TestDb;
use crate::{Db, StoreError};
use domain::costs::{CostEntry, CostForm};
use domain::import::{Column, auto_mapping, check_rows, read_text};
use time::OffsetDateTime;

/// Checks `forms` as the importer does and returns the clean entries (panicking on any finding).
async fn entries(db: &Db, forms: &[CostForm]) -> Vec<CostEntry> {
    let mut reference = db.import_reference(forms, TODAY, &CostSettings::default()).await.unwrap();
    let rows = forms.iter().enumerate().map(|(i, f)| (i + 2, f.clone(), Vec::new()));
    check_rows(rows, &mut reference)
        .map(|c| {
            assert!(!c.has_errors(), "row {}: {:?} {:?}", c.row, c.report.codes(), c.duplicate_of);
            c.report.entry.unwrap()
        })
        .collect()
}

fn batch<'a>(hash: &'a str) -> NewBatch<'a> {
    NewBatch { file_name: "agency-november.csv", content_hash: hash, source: "cli" }
}

async fn live_total(db: &Db) -> (i64, i64) {
    let page = db.list_costs(&CostFilter::default(), None, 1).await.unwrap();
    (page.total_count, page.total_reporting_minor)
}

#[tokio::test]
async fn a_batch_lands_whole_is_refused_twice_and_rolls_back_whole() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let forms: Vec<CostForm> =
            (1..=3).map(|d| form(&format!("2026-11-0{d}"), "100,000", &format!("INV-{d}"))).collect();
        let good = entries(db, &forms).await;
        let hash = content_hash(b"the file's bytes");
        let stored = db.commit_import(batch(&hash), &good, &CostSettings::default(), actor).await.unwrap();
        assert_eq!((stored.row_count, stored.reporting_minor), (3, 300_000), "{}", db.backend());
        assert_eq!(stored.totals(), [("KRW".to_owned(), 300_000)]);
        assert_eq!(live_total(db).await, (3, 300_000));

        // The same content again: refused, naming the batch that holds it.
        let sheet = read_text(b"date,amount\n2026-11-01,1\n", Default::default()).unwrap();
        let again = db.create_draft(actor, "copy.csv", &hash, &sheet, &auto_mapping(&sheet.headers)).await;
        assert!(matches!(again, Err(StoreError::AlreadyImported(id)) if id == stored.id), "{again:?}");
        let twice = db.commit_import(batch(&hash), &good, &CostSettings::default(), actor).await;
        assert!(matches!(twice, Err(StoreError::Duplicate(_))), "{}: {twice:?}", db.backend());

        // The stored rows are now duplicates for the rules.
        let reference = db.import_reference(&forms, TODAY, &CostSettings::default()).await.unwrap();
        let repeats: Vec<_> = forms
            .iter()
            .map(|f| domain::costs::validate(f, &reference).codes())
            .map(|codes| codes.contains(&"duplicate.natural_key") && codes.contains(&"duplicate.invoice"))
            .collect();
        assert_eq!(repeats, [true, true, true], "{}", db.backend());

        assert_eq!(db.rollback_batch(stored.id, actor).await.unwrap(), 3);
        assert_eq!(live_total(db).await, (0, 0), "{}: the running totals follow", db.backend());
        assert!(db.batch(stored.id).await.unwrap().unwrap().rolled_back_at.is_some());
        assert!(matches!(db.rollback_batch(stored.id, actor).await, Err(StoreError::NotFound)));
        let trail = db.audit_trail("import_batch", &stored.id.to_string()).await.unwrap();
        let actions: Vec<_> = trail.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(actions, ["import", "rollback"]);

        // Rolled back, the content may come in again.
        let again = db.create_draft(actor, "again.csv", &hash, &sheet, &auto_mapping(&sheet.headers)).await.unwrap();
        assert!(db.draft(again).await.unwrap().is_some());
        t.finish().await;
    }
}

#[tokio::test]
async fn nothing_of_a_batch_lands_when_any_part_cannot() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let october = [form("2026-10-20", "50,000", ""), form("2026-11-02", "50,000", "")];
        let good = entries(db, &october).await;
        db.close_period(YearMonth::parse("2026-10").unwrap(), actor).await.unwrap();
        let closed = db.commit_import(batch("a"), &good, &CostSettings::default(), actor).await;
        assert!(matches!(closed, Err(StoreError::PeriodClosed(ref m)) if m == "2026-10"), "{closed:?}");
        assert_eq!(live_total(db).await, (0, 0), "{}: not even the November row", db.backend());
        assert!(db.batches(10).await.unwrap().is_empty(), "and no batch");

        // A duplicate stored after the check (by someone else) stops the whole batch at commit, even
        // when it comes after the first chunk of rows went in.
        let countries: Vec<&str> = domain::country::ISO_3166_1.iter().map(|c| c.0).take(40).collect();
        let forms: Vec<CostForm> = (0..600)
            .map(|i| CostForm {
                country: countries[i % 40].into(),
                ..form(&format!("2026-11-{:02}", 1 + i / 40), "1,000", "")
            })
            .collect();
        let checked = entries(db, &forms).await;
        let by_hand = db.create_cost(&checked[599], &CostSettings::default(), actor).await.unwrap();
        let late = db.commit_import(batch("b"), &checked, &CostSettings::default(), actor).await;
        assert!(matches!(late, Err(StoreError::Duplicate(_))), "{}: {late:?}", db.backend());
        assert_eq!(live_total(db).await, (1, 1_000), "{}: only the entry stored by hand", db.backend());
        assert!(db.batches(10).await.unwrap().is_empty());

        db.delete_cost(by_hand.id, 1, actor).await.unwrap();
        let landed = db.commit_import(batch("b"), &checked, &CostSettings::default(), actor).await.unwrap();
        assert_eq!(landed.row_count, 600);
        assert_eq!(live_total(db).await, (600, 600_000), "{}", db.backend());
        t.finish().await;
    }
}

#[tokio::test]
async fn a_closed_month_keeps_its_batch() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let good = entries(db, &[form("2026-11-02", "10,000", "")]).await;
        let b = db.commit_import(batch("c"), &good, &CostSettings::default(), actor).await.unwrap();
        db.close_period(YearMonth::parse("2026-11").unwrap(), actor).await.unwrap();
        let r = db.rollback_batch(b.id, actor).await;
        assert!(matches!(r, Err(StoreError::PeriodClosed(_))), "{r:?}");
        assert_eq!(live_total(db).await.0, 1, "{}", db.backend());
        t.finish().await;
    }
}

#[tokio::test]
async fn drafts_keep_fixed_cells_and_vendors_keep_their_mapping() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let sheet =
            read_text("Datum,Kosten,Kampagne\n2026-11-02,\"1,000\",WINTER\n".as_bytes(), Default::default()).unwrap();
        let mapping = vec![Some(Column::Date), Some(Column::Amount), Some(Column::Campaign)];
        let id = db.create_draft(actor, "de.csv", "h", &sheet, &auto_mapping(&sheet.headers)).await.unwrap();
        let mut draft = db.draft(id).await.unwrap().unwrap();
        assert_eq!(draft.mapping, [None, None, None], "German headers are not aliases");
        draft.mapping = mapping.clone();
        db.set_draft_mapping(id, &mapping).await.unwrap();
        let seen = draft.cells[0].clone();
        draft.cells[0][1] = "2,000".into();
        db.edit_draft_row(id, 2, &seen, &draft.cells[0]).await.unwrap();
        assert_eq!(db.draft(id).await.unwrap().unwrap(), draft, "{}", db.backend());
        // Another tab still showing the row as it was: its fix is refused, not written over ours.
        let mut theirs = seen.clone();
        theirs[1] = "3,000".into();
        assert!(matches!(db.edit_draft_row(id, 2, &seen, &theirs).await, Err(StoreError::Changed(_))));
        assert_eq!(db.draft(id).await.unwrap().unwrap(), draft, "{}: ours stands", db.backend());
        assert!(matches!(db.edit_draft_row(id, 9, &seen, &theirs).await, Err(StoreError::NotFound)));

        // A draft left alone past the cut-off is removed; one touched since stays.
        let left = db.create_draft(actor, "left.csv", "h2", &sheet, &mapping).await.unwrap();
        let cutoff = OffsetDateTime::now_utc() + time::Duration::seconds(1);
        crate::on_db!(db, pool => sqlx::query("UPDATE import_drafts SET updated_at = $1 WHERE id = $2")
            .bind(OffsetDateTime::now_utc() - time::Duration::days(30)).bind(left).execute(pool).await.map(drop))
        .unwrap();
        crate::on_db!(db, pool => sqlx::query("UPDATE import_drafts SET updated_at = $1 WHERE id = $2")
            .bind(cutoff + time::Duration::hours(1)).bind(id).execute(pool).await.map(drop))
        .unwrap();
        assert_eq!(db.delete_stale_drafts(cutoff).await.unwrap(), 1, "{}", db.backend());
        assert!(db.draft(left).await.unwrap().is_none());
        assert!(db.draft(id).await.unwrap().is_some());

        db.save_vendor_mapping("AGENCY1", &sheet.headers, &mapping, actor).await.unwrap();
        let saved = db.vendor_mapping("AGENCY1").await.unwrap().unwrap();
        assert_eq!(saved.get("kampagne"), Some(&Column::Campaign));
        assert!(db.vendor_mapping("OTHER").await.unwrap().is_none());
        let unknown = db.save_vendor_mapping("NOPE", &sheet.headers, &mapping, actor).await;
        assert!(matches!(unknown, Err(StoreError::NotFound)));
        db.delete_draft(id).await.unwrap();
        assert!(db.draft(id).await.unwrap().is_none());
        t.finish().await;
    }
}

#[tokio::test]
async fn an_imported_entry_is_stored_exactly_as_a_typed_one() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        db.put_cost_type("FLAT", "Flat fee", false, None).await.unwrap();
        // Text that the bulk path must carry through unchanged: separators, escapes, Korean.
        let memo = "tab\there, line\nbreak, back\\slash \\N \"quoted\" 한국어 광고비\r";
        let usd = CostForm {
            currency: "USD".into(),
            amount: "85.50".into(),
            memo: memo.into(),
            vat_included: true,
            ..form("2026-11-12", "", "inv\\7\t")
        };
        let plain = CostForm { units: String::new(), cost_type: "FLAT".into(), ..form("2026-11-13", "5", "") };
        let good = entries(db, &[usd, plain]).await;
        db.commit_import(batch("exact"), &good, &CostSettings::default(), actor).await.unwrap();
        let mut stored = db.list_costs(&CostFilter::default(), None, 10).await.unwrap().rows;
        stored.sort_by_key(|s| s.entry.date);
        let back: Vec<&CostEntry> = stored.iter().map(|s| &s.entry).collect();
        assert_eq!(back, good.iter().collect::<Vec<_>>(), "{}", db.backend());
        assert_eq!(stored[0].fx_source.as_deref(), Some("test bank"), "{}: the rate's source", db.backend());
        assert_eq!((stored[1].fx_source.as_deref(), stored[1].version), (None, 1));
        t.finish().await;
    }
}

#[tokio::test]
async fn checking_a_sheet_reports_how_far_it_is() {
    for t in TestDb::each().await {
        let db = &t.db;
        seed(db).await;
        let mut rows = vec![vec!["2026-11-02".to_owned(), "1,000".to_owned()]; 2_500];
        rows.insert(7, Vec::new()); // a blank line is not a row
        let mapping = [Some(Column::Date), Some(Column::Amount)];
        let seen = std::sync::Mutex::new(Vec::new());
        let checks = db
            .check_sheet_with_progress(&rows, &mapping, TODAY, &CostSettings::default(), &|n| {
                seen.lock().unwrap().push(n)
            })
            .await
            .unwrap();
        assert_eq!(checks.len(), 2_500);
        assert_eq!(*seen.lock().unwrap(), [0, 1_000, 2_000, 2_500], "{}", db.backend());
        t.finish().await;
    }
}

/// One async worker: while a large sheet is checked, another task on the runtime (a partner API
/// request, say) still gets to run, because the check leaves the worker to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn checking_a_large_sheet_leaves_the_async_worker_to_others() {
    let t = TestDb::sqlite().await;
    seed(&t.db).await;
    let rows = vec![vec!["2026-11-02".to_owned(), "1,000".to_owned()]; 60_000];
    let mapping = [Some(Column::Date), Some(Column::Amount)];
    let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ticker = {
        let (started, ticks) = (started.clone(), ticks.clone());
        tokio::spawn(async move {
            loop {
                if started.load(std::sync::atomic::Ordering::SeqCst) {
                    ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let during = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    // The check runs as a task on the one worker, as a server function does.
    let checking = {
        let (db, started, ticks, during) = (t.db.clone(), started.clone(), ticks.clone(), during.clone());
        tokio::spawn(async move {
            db.check_sheet_with_progress(&rows, &mapping, TODAY, &CostSettings::default(), &|n| {
                if n == 0 {
                    started.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                if n == 50_000 {
                    during.store(ticks.load(std::sync::atomic::Ordering::SeqCst), std::sync::atomic::Ordering::SeqCst);
                }
            })
            .await
        })
    };
    let checks = checking.await.unwrap().unwrap();
    ticker.abort();
    assert_eq!(checks.len(), 60_000);
    let during = during.load(std::sync::atomic::Ordering::SeqCst);
    assert!(during > 0 && during != usize::MAX, "the other task ran {during} times while 50,000 rows were checked");
    t.finish().await;
}

#[tokio::test]
async fn the_ledger_refuses_rows_that_point_nowhere_and_keeps_what_rows_point_to() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let good = entries(db, &[form("2026-11-02", "10,000", "")]).await;
        db.commit_import(batch("kept"), &good, &CostSettings::default(), actor).await.unwrap();
        // A copy of the stored entry with one reference pointing nowhere.
        let copy = |column: &str, value: &str| {
            let columns = "entry_date, game, channel, campaign, country, vendor, cost_type, currency, amount_minor, \
                invoice_number, invoice_key, memo, vat_included, reporting_currency, reporting_minor, natural_key, \
                version, created_at, created_by, updated_at, updated_by, batch_id";
            let values: Vec<String> = columns
                .split(", ")
                .map(|c| c.trim())
                .map(|c| match c {
                    c if c == column => value.to_owned(),
                    "natural_key" => "natural_key || 'x'".to_owned(),
                    c => c.to_owned(),
                })
                .collect();
            format!("INSERT INTO cost_entries ({columns}) SELECT {} FROM cost_entries", values.join(", "))
        };
        for (column, value) in [("created_by", "999999"), ("batch_id", "999999"), ("campaign", "'NOPE'")] {
            let sql = copy(column, value);
            assert!(sql.contains(value), "{sql}");
            let refused = crate::on_db!(db, pool => sqlx::query(&sql).execute(pool).await.map(drop));
            assert!(refused.is_err(), "{}: an entry with {column} = {value} was stored", db.backend());
        }
        let fine = crate::on_db!(db, pool => sqlx::query(&copy("memo", "'copied'")).execute(pool).await.map(drop));
        assert!(fine.is_ok(), "{}: the same copy with every reference in place is stored: {fine:?}", db.backend());
        for sql in ["DELETE FROM users", "DELETE FROM import_batches"] {
            let refused = crate::on_db!(db, pool => sqlx::query(sql).execute(pool).await.map(drop));
            assert!(refused.is_err(), "{}: {sql} went through", db.backend());
        }
        assert_eq!(live_total(db).await.0, 1, "{}", db.backend());
        t.finish().await;
    }
}
