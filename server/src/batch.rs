//! The monthly hand-off to the warehouse: a month's live entries in a stable column schema
//! (docs/batch-schema.md), as CSV or JSON Lines, and the check that says whether a month is safe
//! to load.

use domain::costs::{Reference, Rule, Severity, validate};
use domain::{Lang, format_amount};
use serde::Serialize;
use store::costs::{CostSettings, StoredCost, YearMonth, reference_from};
use store::{Db, StoreError};
use time::Date;

/// Column order of the CSV; JSON Lines objects have the same keys. Only ever append.
pub const COLUMNS: [&str; 23] = [
    "entry_id",
    "entry_date",
    "game",
    "channel",
    "campaign",
    "country",
    "vendor",
    "cost_type",
    "currency",
    "amount",
    "amount_minor",
    "units",
    "invoice_number",
    "memo",
    "vat_included",
    "corrects_entry_id",
    "reporting_currency",
    "reporting_amount",
    "reporting_amount_minor",
    "fx_rate",
    "fx_date",
    "fx_source",
    "version",
];

#[derive(Serialize)]
struct BatchRow<'a> {
    entry_id: i64,
    entry_date: String,
    game: &'a str,
    channel: &'a str,
    campaign: &'a str,
    country: &'a str,
    vendor: &'a str,
    cost_type: &'a str,
    currency: &'a str,
    /// Decimal with the currency's digits, no grouping: `1234.56`, `1200`.
    amount: String,
    amount_minor: i64,
    units: Option<i64>,
    invoice_number: &'a str,
    memo: &'a str,
    vat_included: bool,
    corrects_entry_id: Option<i64>,
    reporting_currency: &'a str,
    reporting_amount: String,
    reporting_amount_minor: i64,
    /// Reporting-currency units per unit of `currency`, six decimals; empty for the reporting currency.
    fx_rate: Option<String>,
    fx_date: Option<String>,
    fx_source: Option<&'a str>,
    version: i32,
}

fn batch_row<'a>(c: &'a StoredCost, reporting: &'a domain::Currency) -> BatchRow<'a> {
    let e = &c.entry;
    let plain = |minor, cur| format_amount(minor, cur).replace(',', "");
    BatchRow {
        entry_id: c.id,
        entry_date: e.date.to_string(),
        game: &e.game,
        channel: &e.channel,
        campaign: &e.campaign,
        country: &e.country,
        vendor: &e.vendor,
        cost_type: &e.cost_type,
        currency: e.amount.currency.code(),
        amount: plain(e.amount.minor, e.amount.currency),
        amount_minor: e.amount.minor,
        units: e.units,
        invoice_number: &e.invoice_number,
        memo: &e.memo,
        vat_included: e.vat_included,
        corrects_entry_id: e.corrects,
        reporting_currency: reporting.code(),
        reporting_amount: plain(e.reporting_minor, *reporting),
        reporting_amount_minor: e.reporting_minor,
        fx_rate: e.fx_micros.map(|m| format!("{}.{:06}", m / 1_000_000, m % 1_000_000)),
        fx_date: e.fx_date.map(|d| d.to_string()),
        fx_source: c.fx_source.as_deref(),
        version: c.version,
    }
}

/// Every live entry of `month`, oldest first.
pub async fn month_entries(db: &Db, month: YearMonth) -> Result<Vec<StoredCost>, StoreError> {
    let mut all = Vec::new();
    db.each_month_entry(month, None, |c| all.push(c)).await?;
    Ok(all)
}

pub fn to_csv(rows: &[StoredCost], settings: &CostSettings) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for r in rows {
        // Free text is the only place a formula could hide (codes, dates and amounts cannot hold
        // one); the form and the importer refuse it, and entries stored before that are written
        // as text here.
        let (invoice, memo) = (domain::sheet::cell(&r.entry.invoice_number), domain::sheet::cell(&r.entry.memo));
        out.serialize(BatchRow {
            invoice_number: &invoice,
            memo: &memo,
            ..batch_row(r, &settings.reporting_currency)
        })?;
    }
    if rows.is_empty() {
        out.write_record(COLUMNS)?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

pub fn to_jsonl(rows: &[StoredCost], settings: &CostSettings) -> String {
    rows.iter()
        .filter_map(|r| serde_json::to_string(&batch_row(r, &settings.reporting_currency)).ok())
        .map(|line| line + "\n")
        .collect()
}

/// Why `month` is not safe to load, one line per reason; empty when it is. A month is safe when
/// it is closed and every entry still passes every rule (rules other than the closed period).
pub async fn check(db: &Db, month: YearMonth, settings: &CostSettings, today: Date) -> Result<Vec<String>, StoreError> {
    let mut check = MonthCheck::start(db, month, settings, today).await?;
    db.each_month_entry(month, None, |c| check.entry(&c)).await?;
    Ok(check.reasons)
}

/// The batch check fed one entry at a time, so that whatever reads a month (the check itself,
/// the pipelines' ledger source) checks it in the same pass.
pub struct MonthCheck {
    reference: Reference,
    /// Why the month is not safe to load, in the order found.
    pub reasons: Vec<String>,
}

impl MonthCheck {
    /// Whether the month is closed, and what its entries are checked against: the master data,
    /// the rates of the month and the days before it, and the entries its corrections correct.
    pub async fn start(
        db: &Db,
        month: YearMonth,
        settings: &CostSettings,
        today: Date,
    ) -> Result<MonthCheck, StoreError> {
        let mut reasons = Vec::new();
        if !db.closed_months().await?.contains(&month) {
            reasons.push(format!("{month} is not closed: close it before loading"));
        }
        let last_day = month.next().first_day() - time::Duration::days(1);
        let window = (last_day - month.first_day()).whole_days() + settings.fx_max_age_days + 1;
        let mut reference = reference_from(db.cost_master_data(last_day, window).await?, today, settings);
        reference.entries.extend(db.live_correction_targets(month).await?);
        Ok(MonthCheck { reference, reasons })
    }

    pub fn entry(&mut self, c: &StoredCost) {
        let e = &c.entry;
        for f in validate(&e.to_form(Some(c.id)), &self.reference).findings {
            if f.rule.severity() == Severity::Error && f.rule != Rule::PeriodClosed {
                let text = app::i18n::Texts::for_lang(Lang::En).finding(&f);
                self.reasons.push(format!("entry {} ({}): {}: {text}", c.id, e.date, f.rule.code()));
            }
        }
    }
}
