//! Entries: the rules' reference for one form, create, edit, soft delete and restore, each with
//! optimistic concurrency and its audit record.

use super::{
    ADD_TO_TOTALS, COST_COLUMNS, CostRow, CostSettings, StoredCost, YearMonth, add_to_totals, cost_conflict,
    reference_from, stored_keys,
};
use crate::ledger::LedgerTx;
use crate::tx::{Audit, in_tx, json, refuse_closed_month, write_audit};
use crate::{Db, Result, StoreError, on_db};
use domain::costs::{BudgetMonth, CostEntry, CostForm, FxRate, Reference, invoice_key, normalised_invoice};
use time::{Date, OffsetDateTime};

impl Db {
    /// The reference data the rules need for `form`: all master data and closed months, plus what
    /// concerns this entry only (its rate, its possible duplicates, its campaign-month budget).
    pub async fn cost_reference(&self, form: &CostForm, today: Date, settings: &CostSettings) -> Result<Reference> {
        let mut r = reference_from(self.cost_master_data(today, 0).await?, today, settings);

        let look = form.lookups();
        if let (Some(date), Some(currency)) = (look.date, look.currency) {
            let rate: Option<(Date, i64)> = on_db!(self, pool => sqlx::query_as(
                "SELECT rate_date, micros FROM fx_rates WHERE currency = $1 AND rate_date <= $2 ORDER BY rate_date DESC LIMIT 1")
                .bind(currency.code()).bind(date).fetch_optional(pool).await)?;
            if let Some((date, micros)) = rate {
                r.fx.insert(currency, vec![FxRate { date, micros }]);
            }
        }
        if let Some(key) = look.natural_key() {
            let found: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT id FROM cost_entries WHERE natural_key = $1 AND deleted_at IS NULL")
                .bind(&key).fetch_optional(pool).await)?;
            r.natural_keys.extend(found.map(|id| (key, id)));
        }
        if let Some(invoice) = look.invoice_number() {
            let normalised: String = normalised_invoice(invoice).collect();
            let found: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT id FROM cost_entries WHERE vendor = $1 AND invoice_key = $2 AND deleted_at IS NULL")
                .bind(look.vendor).bind(&normalised).fetch_optional(pool).await)?;
            r.invoices.extend(found.map(|id| (invoice_key(look.vendor, invoice), id)));
        }
        if let Some(id) = look.corrects {
            let found: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT id FROM cost_entries WHERE id = $1 AND deleted_at IS NULL").bind(id).fetch_optional(pool).await)?;
            r.entries.extend(found);
        }
        if let Some(date) = look.date {
            let month = YearMonth::of(date);
            let budget: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT amount_minor FROM budgets WHERE campaign = $1 AND month = $2")
                .bind(look.campaign).bind(month.to_string()).fetch_optional(pool).await)?;
            if let Some(budget) = budget {
                let spent: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(reporting_minor), 0) AS BIGINT) FROM cost_entries \
                     WHERE campaign = $1 AND entry_date >= $2 AND entry_date < $3 AND deleted_at IS NULL AND id <> $4")
                    .bind(look.campaign).bind(month.first_day()).bind(month.next().first_day()).bind(look.editing.unwrap_or(-1))
                    .fetch_one(pool).await)?;
                r.budgets
                    .entry(look.campaign.to_owned())
                    .or_default()
                    .insert((month.year, month.month), BudgetMonth { budget, spent: spent.unwrap_or(0) });
            }
        }
        Ok(r)
    }

    pub async fn cost(&self, id: i64) -> Result<Option<StoredCost>> {
        let sql = format!("SELECT {COST_COLUMNS} FROM cost_entries WHERE id = $1");
        let row: Option<CostRow> = on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        row.map(CostRow::into_stored).transpose()
    }

    /// Stores a checked entry. The period is checked again inside the transaction, so an entry
    /// cannot slip into a month closed after it was validated.
    pub async fn create_cost(&self, entry: &CostEntry, settings: &CostSettings, actor: i64) -> Result<StoredCost> {
        let now = OffsetDateTime::now_utc();
        let month = YearMonth::of(entry.date).to_string();
        let (key, inv) = stored_keys(entry);
        let sql = "INSERT INTO cost_entries (entry_date, game, channel, campaign, country, vendor, cost_type, currency, \
            amount_minor, units, invoice_number, invoice_key, memo, vat_included, corrects, reporting_currency, \
            reporting_minor, fx_micros, fx_date, fx_source, natural_key, version, created_at, created_by, updated_at, updated_by) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
            (SELECT source FROM fx_rates WHERE currency = $8 AND rate_date = $19), $20, 1, $21, $22, $21, $22) RETURNING id";
        let id = in_tx!(self, tx => {
            refuse_closed_month!(self, tx, &month);
            tx.add_dimensions(std::iter::once(entry)).await?;
            let id: i64 = sqlx::query_scalar(sql)
                .bind(entry.date).bind(&entry.game).bind(&entry.channel).bind(&entry.campaign).bind(&entry.country)
                .bind(&entry.vendor).bind(&entry.cost_type).bind(entry.amount.currency.code()).bind(entry.amount.minor)
                .bind(entry.units).bind(&entry.invoice_number).bind(&inv).bind(&entry.memo).bind(entry.vat_included)
                .bind(entry.corrects).bind(settings.reporting_currency.code()).bind(entry.reporting_minor)
                .bind(entry.fx_micros).bind(entry.fx_date).bind(&key).bind(now).bind(actor)
                .fetch_one(&mut *tx).await.map_err(cost_conflict)?;
            add_to_totals!(tx, entry, 1);
            write_audit!(tx, Audit::new(now, actor, "create", "cost_entry", id).after(json(entry)));
            id
        })?;
        self.cost(id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces entry `id` if it is still at `expected_version`. A newer version is refused with
    /// [`StoreError::Stale`] carrying the stored entry, so the user sees what changed and nothing
    /// is overwritten silently. Both the old and the new month must be open.
    pub async fn update_cost(
        &self,
        id: i64,
        expected_version: i32,
        entry: &CostEntry,
        settings: &CostSettings,
        actor: i64,
    ) -> Result<StoredCost> {
        let now = OffsetDateTime::now_utc();
        let (key, inv) = stored_keys(entry);
        let before = self.cost(id).await?.filter(|c| !c.deleted).ok_or(StoreError::NotFound)?;
        let months = [YearMonth::of(before.entry.date).to_string(), YearMonth::of(entry.date).to_string()];
        let sql = "UPDATE cost_entries SET entry_date = $1, game = $2, channel = $3, campaign = $4, country = $5, \
            vendor = $6, cost_type = $7, currency = $8, amount_minor = $9, units = $10, invoice_number = $11, \
            invoice_key = $12, memo = $13, vat_included = $14, corrects = $15, reporting_currency = $16, \
            reporting_minor = $17, fx_micros = $18, fx_date = $19, \
            fx_source = (SELECT source FROM fx_rates WHERE currency = $8 AND rate_date = $19), natural_key = $20, \
            version = version + 1, updated_at = $21, updated_by = $22 \
            WHERE id = $23 AND version = $24 AND deleted_at IS NULL";
        let changed = in_tx!(self, tx => {
            for month in &months {
                refuse_closed_month!(self, tx, month);
            }
            tx.add_dimensions(std::iter::once(entry)).await?;
            let changed = sqlx::query(sql)
                .bind(entry.date).bind(&entry.game).bind(&entry.channel).bind(&entry.campaign).bind(&entry.country)
                .bind(&entry.vendor).bind(&entry.cost_type).bind(entry.amount.currency.code()).bind(entry.amount.minor)
                .bind(entry.units).bind(&entry.invoice_number).bind(&inv).bind(&entry.memo).bind(entry.vat_included)
                .bind(entry.corrects).bind(settings.reporting_currency.code()).bind(entry.reporting_minor)
                .bind(entry.fx_micros).bind(entry.fx_date).bind(&key).bind(now).bind(actor).bind(id).bind(expected_version)
                .execute(&mut *tx).await.map_err(cost_conflict)?.rows_affected();
            if changed == 1 {
                add_to_totals!(tx, &before.entry, -1);
                add_to_totals!(tx, entry, 1);
                write_audit!(tx, Audit::new(now, actor, "edit", "cost_entry", id).before(json(&before.entry)).after(json(entry)));
            }
            changed
        })?;
        let current = self.cost(id).await?.ok_or(StoreError::NotFound)?;
        if changed == 1 { Ok(current) } else { Err(StoreError::Stale(Box::new(current))) }
    }

    /// Soft-deletes entry `id` at `expected_version` in an open month.
    pub async fn delete_cost(&self, id: i64, expected_version: i32, actor: i64) -> Result<()> {
        self.set_deleted(id, Some(expected_version), true, actor).await
    }

    /// Brings a soft-deleted entry back (admins), unless its key is now taken or its month closed.
    pub async fn restore_cost(&self, id: i64, actor: i64) -> Result<()> {
        self.set_deleted(id, None, false, actor).await
    }

    async fn set_deleted(&self, id: i64, expected_version: Option<i32>, delete: bool, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let current = self.cost(id).await?.ok_or(StoreError::NotFound)?;
        if current.deleted == delete {
            return Err(StoreError::NotFound);
        }
        let month = YearMonth::of(current.entry.date).to_string();
        let (sql, action) = if delete {
            (
                "UPDATE cost_entries SET deleted_at = $1, deleted_by = $2, version = version + 1, updated_at = $1, updated_by = $2 \
              WHERE id = $3 AND version = $4 AND deleted_at IS NULL",
                "delete",
            )
        } else {
            (
                "UPDATE cost_entries SET deleted_at = NULL, deleted_by = NULL, version = version + 1, updated_at = $1, updated_by = $2 \
              WHERE id = $3 AND version = $4 AND deleted_at IS NOT NULL",
                "restore",
            )
        };
        let version = expected_version.unwrap_or(current.version);
        let changed = in_tx!(self, tx => {
            refuse_closed_month!(self, tx, &month);
            let changed = sqlx::query(sql).bind(now).bind(actor).bind(id).bind(version)
                .execute(&mut *tx).await.map_err(cost_conflict)?.rows_affected();
            if changed == 1 {
                add_to_totals!(tx, &current.entry, if delete { -1 } else { 1 });
                write_audit!(tx, Audit::new(now, actor, action, "cost_entry", id).before(json(&current.entry)));
            }
            changed
        })?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale(Box::new(self.cost(id).await?.ok_or(StoreError::NotFound)?)))
        }
    }
}
