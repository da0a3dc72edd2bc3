//! The cost ledger: reference data for the rule engine, entries with optimistic concurrency,
//! soft delete, period close and reopen. Every change writes its audit record in the same
//! transaction, so there is no change without its record.

mod budgets;
mod entries;
mod fx;
mod list;
mod master;
mod periods;
mod scan;
#[cfg(test)]
pub(crate) mod tests;

pub use budgets::{BudgetChange, BudgetLine};
pub use list::{CostCursor, CostFilter, CostOrder, CostPage};
pub use master::{MasterData, MasterTable, NewCampaign, reference_from};

use crate::{Result, StoreError};
use domain::Currency;
use domain::costs::{CostEntry, natural_key, normalised_invoice, parse_date};
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

/// Ledger settings that are configuration, not data.
#[derive(Debug, Clone, Copy)]
pub struct CostSettings {
    pub reporting_currency: Currency,
    pub fx_max_age_days: i64,
    pub flight_grace_days: i64,
}

impl Default for CostSettings {
    fn default() -> Self {
        CostSettings { reporting_currency: Currency::KRW, fx_max_age_days: 7, flight_grace_days: 3 }
    }
}

/// A calendar month, the unit of closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct YearMonth {
    pub year: i32,
    pub month: Month,
}

impl YearMonth {
    pub fn of(date: Date) -> YearMonth {
        YearMonth { year: date.year(), month: date.month() }
    }

    /// Reads `YYYY-MM`.
    pub fn parse(text: &str) -> Option<YearMonth> {
        let date = parse_date(&format!("{}-01", text.trim()))?;
        Some(YearMonth::of(date))
    }

    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).expect("day 1 exists in every month")
    }

    pub fn next(self) -> YearMonth {
        YearMonth::of(self.first_day().replace_day(28).expect("day 28 exists") + time::Duration::days(4))
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month as u8)
    }
}

/// A stored entry with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCost {
    pub id: i64,
    pub version: i32,
    pub entry: CostEntry,
    pub fx_source: Option<String>,
    pub updated_at: OffsetDateTime,
    pub updated_by: i64,
    pub deleted: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CostRow {
    id: i64,
    version: i32,
    entry_date: Date,
    game: String,
    channel: String,
    campaign: String,
    country: String,
    vendor: String,
    cost_type: String,
    currency: String,
    amount_minor: i64,
    units: Option<i64>,
    invoice_number: String,
    memo: String,
    vat_included: bool,
    corrects: Option<i64>,
    reporting_minor: i64,
    fx_micros: Option<i64>,
    fx_date: Option<Date>,
    fx_source: Option<String>,
    updated_at: OffsetDateTime,
    updated_by: i64,
    deleted_at: Option<OffsetDateTime>,
}

pub(crate) const COST_COLUMNS: &str = "id, version, entry_date, game, channel, campaign, country, vendor, cost_type, currency, \
    amount_minor, units, invoice_number, memo, vat_included, corrects, reporting_minor, fx_micros, fx_date, fx_source, \
    updated_at, updated_by, deleted_at";

impl CostRow {
    pub(crate) fn into_stored(self) -> Result<StoredCost> {
        let currency = Currency::from_code(&self.currency).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Decode(format!("unknown currency {}", self.currency).into()))
        })?;
        Ok(StoredCost {
            id: self.id,
            version: self.version,
            entry: CostEntry {
                date: self.entry_date,
                game: self.game,
                channel: self.channel,
                campaign: self.campaign,
                country: self.country,
                vendor: self.vendor,
                cost_type: self.cost_type,
                amount: domain::Money::new(self.amount_minor, currency),
                units: self.units,
                invoice_number: self.invoice_number,
                memo: self.memo,
                vat_included: self.vat_included,
                corrects: self.corrects,
                reporting_minor: self.reporting_minor,
                fx_micros: self.fx_micros,
                fx_date: self.fx_date,
            },
            fx_source: self.fx_source,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
            deleted: self.deleted_at.is_some(),
        })
    }
}

/// The natural key and the normalised invoice number stored with an entry (both uniquely indexed).
pub(crate) fn stored_keys(entry: &CostEntry) -> (String, String) {
    let key = natural_key(
        entry.date,
        &entry.channel,
        &entry.campaign,
        &entry.country,
        &entry.cost_type,
        entry.amount.currency,
    );
    (key, normalised_invoice(&entry.invoice_number).collect())
}

/// Unique-index violations of the ledger, told apart by the index they hit.
pub(crate) fn cost_conflict(err: sqlx::Error) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.is_unique_violation() => {
            let what = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
            if what.contains("invoice") {
                StoreError::Duplicate(crate::Duplicate::Invoice)
            } else {
                StoreError::Duplicate(crate::Duplicate::NaturalKey)
            }
        }
        _ => StoreError::Database(err),
    }
}

/// Adds an entry (sign 1) to the running totals of its month and codes, or takes it away (-1).
pub(crate) const ADD_TO_TOTALS: &str = "INSERT INTO cost_totals (month, game, channel, campaign, country, vendor, cost_type, \
    entries, reporting_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
    ON CONFLICT (month, game, channel, campaign, country, vendor, cost_type) DO UPDATE SET \
    entries = cost_totals.entries + excluded.entries, reporting_minor = cost_totals.reporting_minor + excluded.reporting_minor";

/// Runs [`ADD_TO_TOTALS`] for `$entry` inside transaction `$tx`.
macro_rules! add_to_totals {
    ($tx:ident, $entry:expr, $sign:expr) => {{
        let (e, sign): (&CostEntry, i64) = ($entry, $sign);
        sqlx::query(ADD_TO_TOTALS)
            .bind(YearMonth::of(e.date).to_string())
            .bind(&e.game)
            .bind(&e.channel)
            .bind(&e.campaign)
            .bind(&e.country)
            .bind(&e.vendor)
            .bind(&e.cost_type)
            .bind(sign)
            .bind(sign * e.reporting_minor)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use add_to_totals;
