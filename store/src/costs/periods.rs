//! Closing and reopening months.

use super::YearMonth;
use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, Result, StoreError, on_db};
use time::OffsetDateTime;

impl Db {
    pub async fn closed_months(&self) -> Result<Vec<YearMonth>> {
        let rows: Vec<String> = on_db!(self, pool => sqlx::query_scalar("SELECT month FROM closed_periods ORDER BY month").fetch_all(pool).await)?;
        Ok(rows.iter().filter_map(|m| YearMonth::parse(m)).collect())
    }

    /// Closes a month: no entry in it can be created, edited or deleted until it is reopened.
    pub async fn close_period(&self, month: YearMonth, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            if matches!(self, Db::Postgres(_)) {
                // Waits for writes into the month in flight (see `refuse_closed_month!`).
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('period:' || $1))")
                    .bind(month.to_string()).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO closed_periods (month, closed_at, closed_by) VALUES ($1, $2, $3)")
                .bind(month.to_string()).bind(now).bind(actor).execute(&mut *tx).await
                .map_err(crate::unique_as(crate::Duplicate::Close))?;
            write_audit!(tx, Audit::new(now, actor, "close", "period", month));
        })
    }

    /// Reopens a closed month; the reason is required and kept in the audit trail.
    pub async fn reopen_period(&self, month: YearMonth, reason: &str, actor: i64) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::ReasonRequired);
        }
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let removed = sqlx::query("DELETE FROM closed_periods WHERE month = $1")
                .bind(month.to_string()).execute(&mut *tx).await?.rows_affected();
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            write_audit!(tx, Audit::new(now, actor, "reopen", "period", month).reason(reason));
        })
    }
}
