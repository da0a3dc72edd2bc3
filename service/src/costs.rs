//! Costs: saving an entry (new or edited) and closing or reopening a month.

use crate::{Actor, Error, Result, Service};
use domain::Role;
use domain::costs::{CostEntry, CostForm};
use store::StoreError;
use store::costs::{StoredCost, YearMonth};

impl Service<'_> {
    /// Checks `form` with every rule against what is stored now, and stores it: a new entry, or
    /// (with `version`) a new version of the entry it edits. Warnings must each be acknowledged by
    /// code; an edit of an entry someone changed meanwhile is refused with what changed.
    pub async fn save_cost(
        &self,
        actor: &Actor,
        form: &CostForm,
        version: Option<i32>,
        acknowledged: &[String],
    ) -> Result<StoredCost> {
        actor.require(Role::Marketer)?;
        let reference = self.db.cost_reference(form, self.today, self.costs).await?;
        let report = domain::costs::validate(form, &reference);
        let entry = match &report.entry {
            Some(entry) if report.can_save(acknowledged) => entry,
            _ => return Err(Error::Rules(report.findings)),
        };
        let stored = match (form.editing, version) {
            (Some(id), Some(version)) => match self.db.update_cost(id, version, entry, self.costs, actor.id).await {
                Err(StoreError::Stale(current)) => {
                    let changed = changed_fields(&current.entry, entry);
                    return Err(Error::Stale { current, changed });
                }
                other => other?,
            },
            (None, _) => self.db.create_cost(entry, self.costs, actor.id).await?,
            (Some(_), None) => return Err(Error::invalid("version", "bad_request")),
        };
        tracing::info!(by = actor.id, cost_id = stored.id, version = stored.version, "cost saved");
        Ok(stored)
    }

    /// Soft-deletes entry `id` if it is still at `version` and its month is open.
    pub async fn delete_cost(&self, actor: &Actor, id: i64, version: i32) -> Result<()> {
        actor.require(Role::Marketer)?;
        self.db.delete_cost(id, version, actor.id).await?;
        tracing::info!(by = actor.id, cost_id = id, "cost deleted");
        Ok(())
    }

    /// Brings a deleted entry back (admins), unless its key is now taken or its month closed.
    pub async fn restore_cost(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.restore_cost(id, actor.id).await?;
        tracing::info!(by = actor.id, cost_id = id, "cost restored");
        Ok(())
    }

    /// Sets a campaign's budget for a month, in minor units of the reporting currency.
    pub async fn set_budget(&self, actor: &Actor, campaign: &str, month: YearMonth, amount_minor: i64) -> Result<()> {
        actor.require(Role::Marketer)?;
        if amount_minor < 0 {
            return Err(Error::invalid("amount", "budget.negative"));
        }
        match self.db.set_budget(campaign.trim(), month, amount_minor, actor.id).await {
            Err(StoreError::NotFound) => Err(Error::invalid("campaign", "campaign.unknown")),
            other => Ok(other?),
        }
    }

    /// Adds or replaces one checked exchange rate (admins).
    pub async fn save_fx_rate(&self, actor: &Actor, rate: &domain::fx::RateRow) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.save_fx_rate(rate, actor.id).await?;
        Ok(())
    }

    /// Stores a checked rate file whole (admins).
    pub async fn import_fx_rates(&self, actor: &Actor, rows: &[domain::fx::RateRow]) -> Result<usize> {
        actor.require(Role::Admin)?;
        let stored = self.db.import_fx_rates(rows, actor.id).await?;
        tracing::info!(by = actor.id, rates = stored, "exchange rates imported");
        Ok(stored)
    }

    /// Closes a month (admins): nothing in it can be created, edited or deleted until reopened.
    pub async fn close_month(&self, actor: &Actor, month: YearMonth) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.close_period(month, actor.id).await?;
        tracing::info!(by = actor.id, %month, "month closed");
        Ok(())
    }

    /// Reopens a closed month (admins); the reason is required and kept in the audit trail.
    pub async fn reopen_month(&self, actor: &Actor, month: YearMonth, reason: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.reopen_period(month, reason, actor.id).await?;
        tracing::info!(by = actor.id, %month, "month reopened");
        Ok(())
    }
}

/// The fields where the stored entry differs from the one submitted.
fn changed_fields(stored: &CostEntry, submitted: &CostEntry) -> Vec<&'static str> {
    let pairs: [(&'static str, bool); 12] = [
        ("date", stored.date != submitted.date),
        ("game", stored.game != submitted.game),
        ("channel", stored.channel != submitted.channel),
        ("campaign", stored.campaign != submitted.campaign),
        ("country", stored.country != submitted.country),
        ("vendor", stored.vendor != submitted.vendor),
        ("cost_type", stored.cost_type != submitted.cost_type),
        ("currency", stored.amount.currency != submitted.amount.currency),
        ("amount", stored.amount.minor != submitted.amount.minor),
        ("units", stored.units != submitted.units),
        ("invoice_number", stored.invoice_number != submitted.invoice_number),
        ("memo", stored.memo != submitted.memo || stored.vat_included != submitted.vat_included),
    ];
    pairs.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
}
