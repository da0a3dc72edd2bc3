//! Exchange rates: one at a time (audited with what it replaced) or a whole checked file at once.

use crate::tx::{Audit, in_tx, json, write_audit};
use crate::{Db, Result, on_db};
use domain::Currency;
use time::{Date, OffsetDateTime};

impl Db {
    /// Adds or replaces one rate (admins), audited with the rate it replaced.
    pub async fn save_fx_rate(&self, rate: &domain::fx::RateRow, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let key = format!("{}/{}", rate.currency, rate.date);
        in_tx!(self, tx => {
            let before: Option<(i64, String)> = sqlx::query_as("SELECT micros, source FROM fx_rates \
                WHERE currency = $1 AND rate_date = $2")
                .bind(rate.currency.code()).bind(rate.date).fetch_optional(&mut *tx).await?;
            sqlx::query("INSERT INTO fx_rates (currency, rate_date, micros, source) VALUES ($1, $2, $3, $4) \
                ON CONFLICT (currency, rate_date) DO UPDATE SET micros = excluded.micros, source = excluded.source")
                .bind(rate.currency.code()).bind(rate.date).bind(rate.micros).bind(&rate.source).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "set", "fx_rates", &key).before(before.map(|b| json(&b))).after(json(&(rate.micros, &rate.source))));
        })
    }

    /// Stores a checked rate file in one transaction (all or nothing), replacing rates of the same
    /// currency and day, with one audit record naming how many rates came in.
    pub async fn import_fx_rates(&self, rows: &[domain::fx::RateRow], actor: i64) -> Result<usize> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            for r in rows {
                sqlx::query("INSERT INTO fx_rates (currency, rate_date, micros, source) VALUES ($1, $2, $3, $4) \
                    ON CONFLICT (currency, rate_date) DO UPDATE SET micros = excluded.micros, source = excluded.source")
                    .bind(r.currency.code()).bind(r.date).bind(r.micros).bind(&r.source).execute(&mut *tx).await?;
            }
            write_audit!(tx, Audit::new(now, actor, "import", "fx_rates", now.date().to_string()).after(format!("{} rates", rows.len())));
            rows.len()
        })
    }

    /// Rates dated on or after `since`, newest first.
    pub async fn fx_rates_since(&self, since: Date) -> Result<Vec<(String, Date, i64, String)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT currency, rate_date, micros, source FROM fx_rates WHERE rate_date >= $1 ORDER BY rate_date DESC, currency")
            .bind(since).fetch_all(pool).await)?)
    }

    pub async fn put_fx_rate(&self, currency: Currency, date: Date, micros: i64, source: &str) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO fx_rates (currency, rate_date, micros, source) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (currency, rate_date) DO UPDATE SET micros = excluded.micros, source = excluded.source")
            .bind(currency.code()).bind(date).bind(micros).bind(source).execute(pool).await.map(drop))?;
        Ok(())
    }
}
