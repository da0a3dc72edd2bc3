//! Campaign-month budgets against actual spend, and their history from the audit trail.

use super::YearMonth;
use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, Result, StoreError, on_db};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One campaign's month: its budget (if set) and what its live entries add up to, both in minor
/// units of the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct BudgetLine {
    pub campaign: String,
    pub name: String,
    pub game: String,
    pub channel: String,
    pub budget: Option<i64>,
    pub actual: i64,
}

impl Db {
    /// Budget against actual spend for every active campaign, and any other with a budget or spend.
    pub async fn budget_vs_actual(&self, month: YearMonth) -> Result<Vec<BudgetLine>> {
        let sql = "SELECT c.code AS campaign, c.name AS name, c.game AS game, c.channel AS channel, \
            b.amount_minor AS budget, \
            CAST(COALESCE(a.actual, 0) AS BIGINT) AS actual \
            FROM campaigns c \
            LEFT JOIN budgets b ON b.campaign = c.code AND b.month = $1 \
            LEFT JOIN (SELECT campaign, CAST(SUM(reporting_minor) AS BIGINT) AS actual FROM cost_entries \
                       WHERE entry_date >= $2 AND entry_date < $3 AND deleted_at IS NULL GROUP BY campaign) a \
                ON a.campaign = c.code \
            WHERE c.active OR b.amount_minor IS NOT NULL OR a.actual IS NOT NULL \
            ORDER BY c.name";
        Ok(on_db!(self, pool => sqlx::query_as(sql)
            .bind(month.to_string()).bind(month.first_day()).bind(month.next().first_day())
            .fetch_all(pool).await)?)
    }

    /// Sets a campaign's budget for a month, audited.
    pub async fn set_budget(&self, campaign: &str, month: YearMonth, amount_minor: i64, actor: i64) -> Result<()> {
        let exists: Option<String> = on_db!(self, pool => sqlx::query_scalar("SELECT code FROM campaigns WHERE code = $1")
            .bind(campaign).fetch_optional(pool).await)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let now = OffsetDateTime::now_utc();
        let key = format!("{campaign}/{month}");
        in_tx!(self, tx => {
            let before: Option<i64> = sqlx::query_scalar("SELECT amount_minor FROM budgets WHERE campaign = $1 AND month = $2")
                .bind(campaign).bind(month.to_string()).fetch_optional(&mut *tx).await?;
            sqlx::query("INSERT INTO budgets (campaign, month, amount_minor) VALUES ($1, $2, $3) \
                ON CONFLICT (campaign, month) DO UPDATE SET amount_minor = excluded.amount_minor")
                .bind(campaign).bind(month.to_string()).bind(amount_minor).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "set", "budget", &key).before(before.map(|b| b.to_string())).after(amount_minor.to_string()));
        })
    }
}

/// One change to a campaign-month budget, from the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetChange {
    pub at: OffsetDateTime,
    pub actor: String,
    pub campaign: String,
    pub before: Option<i64>,
    pub after: i64,
}

impl Db {
    /// Every change to the budgets of `month`, newest first.
    pub async fn budget_history(&self, month: YearMonth) -> Result<Vec<BudgetChange>> {
        type Row = (OffsetDateTime, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = on_db!(self, pool =>
            sqlx::query_as("SELECT a.at, u.name, a.entity_id, a.before, a.after FROM audit_log a \
                JOIN users u ON u.id = a.actor_id \
                WHERE a.entity = 'budget' AND a.entity_id LIKE $1 ORDER BY a.id DESC")
                .bind(format!("%/{month}")).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(at, actor, key, before, after)| {
                let campaign = key.strip_suffix(&format!("/{month}"))?.to_owned();
                let before = before.and_then(|b| b.parse().ok());
                Some(BudgetChange { at, actor, campaign, before, after: after?.parse().ok()? })
            })
            .collect())
    }

    pub async fn put_budget(&self, campaign: &str, month: YearMonth, amount_minor: i64) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO budgets (campaign, month, amount_minor) VALUES ($1, $2, $3) \
            ON CONFLICT (campaign, month) DO UPDATE SET amount_minor = excluded.amount_minor")
            .bind(campaign).bind(month.to_string()).bind(amount_minor).execute(pool).await.map(drop))?;
        Ok(())
    }
}
