//! How entries reach `cost_entries` on each backend, inside a write transaction.
//!
//! PostgreSQL checks foreign keys row by row, so there an entry references one row of
//! `cost_dimensions` (its combination of codes) that this module adds when missing, and a batch
//! is streamed with `COPY`. SQLite's foreign keys are cheap lookups in the same process: entries
//! reference each master table directly and a batch is written with multi-row `INSERT`s.

use crate::Result;
use crate::costs::{cost_conflict, stored_keys};
use domain::Currency;
use domain::costs::{CostEntry, HashMap};
use std::fmt::Write as _;
use time::{Date, OffsetDateTime, UtcOffset};

/// What every entry of one import batch shares.
pub(crate) struct BatchStamp<'a> {
    pub batch_id: i64,
    pub actor: i64,
    pub now: OffsetDateTime,
    pub reporting_currency: &'a str,
    /// The source of each rate the entries were converted with.
    pub rate_sources: &'a HashMap<(Currency, Date), String>,
    /// Called with the number of rows written so far.
    pub progress: &'a (dyn Fn(usize) + Send + Sync),
    /// Test hook (`MCMS_FAILPOINT=import-commit`): the process dies halfway through the rows.
    #[cfg(feature = "failpoints")]
    pub crash_midway: bool,
}

const COLUMNS: &str = "entry_date, game, channel, campaign, country, vendor, cost_type, currency, amount_minor, \
    units, invoice_number, invoice_key, memo, vat_included, corrects, reporting_currency, reporting_minor, fx_micros, \
    fx_date, fx_source, natural_key, version, created_at, created_by, updated_at, updated_by, batch_id";

/// Rows per statement (SQLite) or per `COPY` message (PostgreSQL); progress is told after each.
const CHUNK: usize = 500;

pub(crate) trait LedgerTx {
    /// Makes sure each entry's combination of codes may be referenced (see the module docs).
    fn add_dimensions<'e>(
        &mut self,
        entries: impl Iterator<Item = &'e CostEntry> + Send,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Writes a whole import batch (after [`LedgerTx::add_dimensions`]).
    fn insert_batch(
        &mut self,
        entries: &[CostEntry],
        stamp: &BatchStamp<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
}

#[cfg(feature = "failpoints")]
fn crash_if_due(stamp: &BatchStamp<'_>, written: usize, total: usize) {
    if stamp.crash_midway && written >= total / 2 {
        tracing::error!(batch = stamp.batch_id, "MCMS_FAILPOINT=import-commit: aborting in the middle of the commit");
        std::process::abort();
    }
}

#[cfg(not(feature = "failpoints"))]
fn crash_if_due(_stamp: &BatchStamp<'_>, _written: usize, _total: usize) {}

impl LedgerTx for sqlx::Transaction<'static, sqlx::Sqlite> {
    async fn add_dimensions<'e>(&mut self, _entries: impl Iterator<Item = &'e CostEntry> + Send) -> Result<()> {
        Ok(())
    }

    async fn insert_batch(&mut self, entries: &[CostEntry], stamp: &BatchStamp<'_>) -> Result<()> {
        for (n, chunk) in entries.chunks(CHUNK).enumerate() {
            crash_if_due(stamp, n * CHUNK, entries.len());
            let mut q = sqlx::QueryBuilder::new(format!("INSERT INTO cost_entries ({COLUMNS}) "));
            q.push_values(chunk, |mut row, e| {
                let (key, inv) = stored_keys(e);
                let source = e.fx_date.and_then(|d| stamp.rate_sources.get(&(e.amount.currency, d)).cloned());
                row.push_bind(e.date)
                    .push_bind(e.game.clone())
                    .push_bind(e.channel.clone())
                    .push_bind(e.campaign.clone())
                    .push_bind(e.country.clone())
                    .push_bind(e.vendor.clone())
                    .push_bind(e.cost_type.clone())
                    .push_bind(e.amount.currency.code())
                    .push_bind(e.amount.minor)
                    .push_bind(e.units)
                    .push_bind(e.invoice_number.clone())
                    .push_bind(inv)
                    .push_bind(e.memo.clone())
                    .push_bind(e.vat_included)
                    .push_bind(e.corrects)
                    .push_bind(stamp.reporting_currency.to_owned())
                    .push_bind(e.reporting_minor)
                    .push_bind(e.fx_micros)
                    .push_bind(e.fx_date)
                    .push_bind(source)
                    .push_bind(key)
                    .push_bind(1_i32)
                    .push_bind(stamp.now)
                    .push_bind(stamp.actor)
                    .push_bind(stamp.now)
                    .push_bind(stamp.actor)
                    .push_bind(stamp.batch_id);
            });
            q.build().execute(&mut **self).await.map_err(cost_conflict)?;
            (stamp.progress)(n * CHUNK + chunk.len());
        }
        Ok(())
    }
}

impl LedgerTx for sqlx::Transaction<'static, sqlx::Postgres> {
    async fn add_dimensions<'e>(&mut self, entries: impl Iterator<Item = &'e CostEntry> + Send) -> Result<()> {
        let mut combos: Vec<[&str; 7]> = entries
            .map(|e| {
                [&*e.campaign, &*e.country, &*e.cost_type, &*e.vendor, e.amount.currency.code(), &*e.game, &*e.channel]
            })
            .collect();
        combos.sort_unstable();
        combos.dedup();
        let column = |i: usize| combos.iter().map(|c| c[i]).collect::<Vec<&str>>();
        sqlx::query(
            "INSERT INTO cost_dimensions (campaign, country, cost_type, vendor, currency, game, channel) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(column(0))
        .bind(column(1))
        .bind(column(2))
        .bind(column(3))
        .bind(column(4))
        .bind(column(5))
        .bind(column(6))
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    async fn insert_batch(&mut self, entries: &[CostEntry], stamp: &BatchStamp<'_>) -> Result<()> {
        let now = copy_timestamp(stamp.now);
        let mut copy = self.copy_in_raw(&format!("COPY cost_entries ({COLUMNS}) FROM STDIN")).await?;
        let mut text = String::with_capacity(CHUNK * 256);
        for (n, chunk) in entries.chunks(CHUNK).enumerate() {
            crash_if_due(stamp, n * CHUNK, entries.len());
            text.clear();
            for e in chunk {
                let source = e.fx_date.and_then(|d| stamp.rate_sources.get(&(e.amount.currency, d)));
                copy_row(&mut text, e, stamp, source.map(String::as_str), &now);
            }
            // A row the server refuses (a duplicate, say) is reported when the copy is finished.
            copy.send(text.as_bytes()).await?;
            (stamp.progress)(n * CHUNK + chunk.len());
        }
        copy.finish().await.map_err(cost_conflict)?;
        Ok(())
    }
}

/// A timestamp as `COPY` reads it, to the microsecond PostgreSQL keeps.
fn copy_timestamp(at: OffsetDateTime) -> String {
    let t = at.to_offset(UtcOffset::UTC);
    format!("{} {:02}:{:02}:{:02}.{:06}+00", t.date(), t.hour(), t.minute(), t.second(), t.microsecond())
}

/// One line of `COPY … FROM STDIN` text format, in the order of [`COLUMNS`].
fn copy_row(out: &mut String, e: &CostEntry, stamp: &BatchStamp<'_>, source: Option<&str>, now: &str) {
    let (key, inv) = stored_keys(e);
    let text = |out: &mut String, value: &str| {
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('\t');
    };
    let opt = |out: &mut String, value: Option<String>| match value {
        Some(v) => text(out, &v),
        None => out.push_str("\\N\t"),
    };
    text(out, &e.date.to_string());
    for code in [&e.game, &e.channel, &e.campaign, &e.country, &e.vendor, &e.cost_type] {
        text(out, code);
    }
    text(out, e.amount.currency.code());
    let _ = write!(out, "{}\t", e.amount.minor);
    opt(out, e.units.map(|u| u.to_string()));
    text(out, &e.invoice_number);
    text(out, &inv);
    text(out, &e.memo);
    text(out, if e.vat_included { "t" } else { "f" });
    opt(out, e.corrects.map(|c| c.to_string()));
    text(out, stamp.reporting_currency);
    let _ = write!(out, "{}\t", e.reporting_minor);
    opt(out, e.fx_micros.map(|m| m.to_string()));
    opt(out, e.fx_date.map(|d| d.to_string()));
    opt(out, source.map(str::to_owned));
    text(out, &key);
    let _ = writeln!(out, "1\t{now}\t{actor}\t{now}\t{actor}\t{batch}", actor = stamp.actor, batch = stamp.batch_id);
}
