//! The cost ledger: reference data for the rule engine, entries with optimistic concurrency,
//! soft delete, period close and reopen. Every change writes its audit record in the same
//! transaction, so there is no change without its record.

use crate::ledger::LedgerTx;
use crate::{Db, Result, StoreError, on_db};
use domain::Currency;
use domain::costs::{
    BudgetMonth, CampaignInfo, Code, CostEntry, CostForm, CostTypeInfo, FxRate, Reference, invoice_key, natural_key,
    normalised_invoice, parse_date,
};
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

/// The rule engine's reference from master data (and whatever rates `data` holds).
pub fn reference_from(data: MasterData, today: Date, settings: &CostSettings) -> Reference {
    let mut r = Reference::new(today, settings.reporting_currency);
    r.fx_max_age_days = settings.fx_max_age_days;
    r.flight_grace_days = settings.flight_grace_days;
    let codes = |rows: Vec<(String, String, bool)>| rows.into_iter().map(|(code, _, active)| (code, Code { active }));
    r.games.extend(codes(data.games));
    r.channels.extend(codes(data.channels));
    r.countries.extend(codes(data.countries));
    r.vendors.extend(codes(data.vendors));
    r.currencies.extend(
        data.currencies.into_iter().filter_map(|(c, _, active)| Some((Currency::from_code(&c)?, Code { active }))),
    );
    r.cost_types.extend(data.cost_types.into_iter().map(|(code, _, info)| (code, info)));
    r.campaigns.extend(data.campaigns.into_iter().map(|(code, _, info)| (code, info)));
    r.closed_months.extend(data.closed_months.into_iter().map(|m| (m.year, m.month)));
    for (currency, date, micros) in data.fx {
        r.fx.entry(currency).or_default().push(FxRate { date, micros });
    }
    r
}

/// Master data with display names: (code, name, active) and richer rows where rules need them.
#[derive(Debug, Clone)]
pub struct MasterData {
    pub games: Vec<(String, String, bool)>,
    pub channels: Vec<(String, String, bool)>,
    pub countries: Vec<(String, String, bool)>,
    pub vendors: Vec<(String, String, bool)>,
    pub currencies: Vec<(String, String, bool)>,
    pub cost_types: Vec<(String, String, CostTypeInfo)>,
    pub campaigns: Vec<(String, String, CampaignInfo)>,
    pub closed_months: Vec<YearMonth>,
    pub fx: Vec<(Currency, Date, i64)>,
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    code: String,
    name: String,
    game: String,
    channel: String,
    flight_start: Date,
    flight_end: Date,
    active: bool,
}

#[derive(sqlx::FromRow)]
struct CostTypeRow {
    code: String,
    name: String,
    active: bool,
    unit_priced: bool,
    band_min_per_mille: Option<i64>,
    band_max_per_mille: Option<i64>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_id: i64,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

pub(crate) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"))
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

/// Refuses a write into a closed month, inside the write's transaction. On PostgreSQL the check
/// first takes the month's advisory lock in shared mode, held to the end of the transaction, and a
/// close takes it exclusively: a close waits for the writes in flight, and a write that comes after
/// a close sees it. (SQLite runs one write transaction at a time, so the check is already atomic
/// with the write.) `$db` is the [`Db`] the transaction belongs to.
macro_rules! refuse_closed_month {
    ($db:expr, $tx:ident, $month:expr) => {{
        let month: &str = $month;
        if matches!($db, $crate::Db::Postgres(_)) {
            sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext('period:' || $1))")
                .bind(month)
                .execute(&mut *$tx)
                .await?;
        }
        let closed: Option<String> = sqlx::query_scalar("SELECT month FROM closed_periods WHERE month = $1")
            .bind(month)
            .fetch_optional(&mut *$tx)
            .await?;
        if closed.is_some() {
            return Err($crate::StoreError::PeriodClosed(month.to_owned()));
        }
    }};
}
pub(crate) use refuse_closed_month;

/// Runs the same body with a write transaction of either backend: committed when the body
/// succeeds, rolled back at once when it fails (a dropped transaction would keep SQLite's write
/// lock until its connection is next used, and other writers would fail with "database is locked").
macro_rules! in_tx {
    ($db:expr, $tx:ident => $body:expr) => {
        on_db!($db, pool => async {
            let mut $tx = $crate::costs::WritePool::begin_write(pool).await?;
            let result = async { Ok::<_, StoreError>($body) }.await;
            match result {
                Ok(out) => {
                    $tx.commit().await?;
                    Ok::<_, StoreError>(out)
                }
                Err(e) => {
                    if let Err(rollback) = $tx.rollback().await {
                        tracing::warn!(error = %rollback, "rollback failed");
                    }
                    Err(e)
                }
            }
        }.await)
    };
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing when it
/// upgrades from reading; PostgreSQL's row locks need nothing special.
pub(crate) trait WritePool {
    type Db: sqlx::Database;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send;
}

impl WritePool for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl WritePool for sqlx::PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}
pub(crate) use in_tx;

impl Db {
    /// The reference data the rules need for `form`: all master data and closed months, plus what
    /// concerns this entry only (its rate, its possible duplicates, its campaign-month budget).
    pub async fn cost_reference(&self, form: &CostForm, today: Date, settings: &CostSettings) -> Result<Reference> {
        let mut r = reference_from(self.cost_master_data(today, 0).await?, today, settings);

        let date = parse_date(form.date.trim());
        let currency = Currency::from_code(&form.currency);
        if let (Some(date), Some(currency)) = (date, currency) {
            let rate: Option<(Date, i64)> = on_db!(self, pool => sqlx::query_as(
                "SELECT rate_date, micros FROM fx_rates WHERE currency = $1 AND rate_date <= $2 ORDER BY rate_date DESC LIMIT 1")
                .bind(currency.code()).bind(date).fetch_optional(pool).await)?;
            if let Some((date, micros)) = rate {
                r.fx.insert(currency, vec![FxRate { date, micros }]);
            }
            let key = natural_key(
                date,
                form.channel.trim(),
                form.campaign.trim(),
                &form.country.trim().to_ascii_uppercase(),
                form.cost_type.trim(),
                currency,
            );
            let found: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT id FROM cost_entries WHERE natural_key = $1 AND deleted_at IS NULL")
                .bind(&key).fetch_optional(pool).await)?;
            r.natural_keys.extend(found.map(|id| (key, id)));
        }
        let invoice = form.invoice_number.trim();
        if !invoice.is_empty() {
            let key = invoice_key(form.vendor.trim(), invoice);
            let normalised: String = normalised_invoice(invoice).collect();
            let found: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT id FROM cost_entries WHERE vendor = $1 AND invoice_key = $2 AND deleted_at IS NULL")
                .bind(form.vendor.trim()).bind(&normalised).fetch_optional(pool).await)?;
            r.invoices.extend(found.map(|id| (key, id)));
        }
        if let Some(id) = form.corrects {
            let found: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT id FROM cost_entries WHERE id = $1 AND deleted_at IS NULL").bind(id).fetch_optional(pool).await)?;
            r.entries.extend(found);
        }
        if let Some(date) = date {
            let month = YearMonth::of(date);
            let campaign = form.campaign.trim();
            let budget: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                "SELECT amount_minor FROM budgets WHERE campaign = $1 AND month = $2")
                .bind(campaign).bind(month.to_string()).fetch_optional(pool).await)?;
            if let Some(budget) = budget {
                let spent: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(reporting_minor), 0) AS BIGINT) FROM cost_entries \
                     WHERE campaign = $1 AND entry_date >= $2 AND entry_date < $3 AND deleted_at IS NULL AND id <> $4")
                    .bind(campaign).bind(month.first_day()).bind(month.next().first_day()).bind(form.editing.unwrap_or(-1))
                    .fetch_one(pool).await)?;
                r.budgets
                    .entry(campaign.to_owned())
                    .or_default()
                    .insert((month.year, month.month), BudgetMonth { budget, spent: spent.unwrap_or(0) });
            }
        }
        Ok(r)
    }

    /// All master data, closed months, and the rates of the last `fx_days` days before `today`.
    pub async fn cost_master_data(&self, today: Date, fx_days: i64) -> Result<MasterData> {
        let mut named = Vec::new();
        for table in ["games", "channels", "countries", "vendors"] {
            let rows: Vec<(String, String, bool)> = on_db!(self, pool => sqlx::query_as(
                &format!("SELECT code, name, active FROM {table} ORDER BY name")).fetch_all(pool).await)?;
            named.push(rows);
        }
        let [games, channels, countries, vendors]: [Vec<(String, String, bool)>; 4] =
            named.try_into().map_err(|_| StoreError::NotFound)?;
        let currencies: Vec<(String, String, bool)> = on_db!(self, pool => sqlx::query_as(
            "SELECT code, code, active FROM currencies ORDER BY code").fetch_all(pool).await)?;
        let rows: Vec<CostTypeRow> = on_db!(self, pool => sqlx::query_as(
            "SELECT code, name, active, unit_priced, band_min_per_mille, band_max_per_mille FROM cost_types ORDER BY code")
            .fetch_all(pool).await)?;
        let cost_types = rows
            .into_iter()
            .map(|t| {
                let band = t.band_min_per_mille.zip(t.band_max_per_mille);
                (t.code, t.name, CostTypeInfo { active: t.active, unit_priced: t.unit_priced, per_mille_band: band })
            })
            .collect();
        let rows: Vec<CampaignRow> = on_db!(self, pool => sqlx::query_as(
            "SELECT code, name, game, channel, flight_start, flight_end, active FROM campaigns ORDER BY name")
            .fetch_all(pool).await)?;
        let campaigns = rows
            .into_iter()
            .map(|c| {
                let info = CampaignInfo {
                    game: c.game,
                    channel: c.channel,
                    flight_start: c.flight_start,
                    flight_end: c.flight_end,
                    active: c.active,
                };
                (c.code, c.name, info)
            })
            .collect();
        let since = today - time::Duration::days(fx_days);
        let rows: Vec<(String, Date, i64)> = on_db!(self, pool => sqlx::query_as(
            "SELECT currency, rate_date, micros FROM fx_rates WHERE rate_date >= $1 AND rate_date <= $2 \
             ORDER BY currency, rate_date").bind(since).bind(today).fetch_all(pool).await)?;
        let fx = rows.into_iter().filter_map(|(c, d, m)| Some((Currency::from_code(&c)?, d, m))).collect();
        Ok(MasterData {
            games,
            channels,
            countries,
            vendors,
            currencies,
            cost_types,
            campaigns,
            closed_months: self.closed_months().await?,
            fx,
        })
    }

    pub async fn closed_months(&self) -> Result<Vec<YearMonth>> {
        let rows: Vec<String> = on_db!(self, pool => sqlx::query_scalar("SELECT month FROM closed_periods ORDER BY month").fetch_all(pool).await)?;
        Ok(rows.iter().filter_map(|m| YearMonth::parse(m)).collect())
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
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'create', 'cost_entry', $3, NULL, $4, NULL)")
                .bind(now).bind(actor).bind(id.to_string()).bind(json(entry)).execute(&mut *tx).await?;
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
                sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                    VALUES ($1, $2, 'edit', 'cost_entry', $3, $4, $5, NULL)")
                    .bind(now).bind(actor).bind(id.to_string()).bind(json(&before.entry)).bind(json(entry))
                    .execute(&mut *tx).await?;
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
                sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                    VALUES ($1, $2, $3, 'cost_entry', $4, $5, NULL, NULL)")
                    .bind(now).bind(actor).bind(action).bind(id.to_string()).bind(json(&current.entry))
                    .execute(&mut *tx).await?;
            }
            changed
        })?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale(Box::new(self.cost(id).await?.ok_or(StoreError::NotFound)?)))
        }
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
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'close', 'period', $3, NULL, NULL, NULL)")
                .bind(now).bind(actor).bind(month.to_string()).execute(&mut *tx).await?;
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
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'reopen', 'period', $3, NULL, NULL, $4)")
                .bind(now).bind(actor).bind(month.to_string()).bind(reason).execute(&mut *tx).await?;
        })
    }

    /// The audit trail of one entity, oldest first.
    pub async fn audit_trail(&self, entity: &str, entity_id: &str) -> Result<Vec<AuditRecord>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT id, at, actor_id, action, entity, entity_id, before, after, reason FROM audit_log \
             WHERE entity = $1 AND entity_id = $2 ORDER BY id")
            .bind(entity).bind(entity_id).fetch_all(pool).await)?)
    }

    /// Adds or updates a master-data code (games, channels, vendors, countries).
    pub async fn put_code(&self, table: MasterTable, code: &str, name: &str, active: bool) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (code, name, active) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, active = excluded.active",
            table.name()
        );
        on_db!(self, pool => sqlx::query(&sql).bind(code).bind(name).bind(active).execute(pool).await.map(drop))?;
        Ok(())
    }

    pub async fn put_currency(&self, currency: Currency, active: bool) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO currencies (code, minor_units, active) VALUES ($1, $2, $3) \
            ON CONFLICT (code) DO UPDATE SET active = excluded.active")
            .bind(currency.code()).bind(i32::from(currency.minor_units())).bind(active).execute(pool).await.map(drop))?;
        Ok(())
    }

    pub async fn put_cost_type(
        &self,
        code: &str,
        name: &str,
        unit_priced: bool,
        band: Option<(i64, i64)>,
    ) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO cost_types (code, name, unit_priced, band_min_per_mille, band_max_per_mille, active) \
            VALUES ($1, $2, $3, $4, $5, TRUE) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
            unit_priced = excluded.unit_priced, band_min_per_mille = excluded.band_min_per_mille, \
            band_max_per_mille = excluded.band_max_per_mille")
            .bind(code).bind(name).bind(unit_priced).bind(band.map(|b| b.0)).bind(band.map(|b| b.1))
            .execute(pool).await.map(drop))?;
        Ok(())
    }

    pub async fn put_campaign(&self, c: &NewCampaign<'_>) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO campaigns (code, name, game, channel, flight_start, flight_end, owner_id, active) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
            game = excluded.game, channel = excluded.channel, flight_start = excluded.flight_start, \
            flight_end = excluded.flight_end, owner_id = excluded.owner_id, active = excluded.active")
            .bind(c.code).bind(c.name).bind(c.game).bind(c.channel).bind(c.flight_start).bind(c.flight_end)
            .bind(c.owner_id).bind(c.active).execute(pool).await.map(drop))?;
        Ok(())
    }

    pub async fn put_fx_rate(&self, currency: Currency, date: Date, micros: i64, source: &str) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO fx_rates (currency, rate_date, micros, source) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (currency, rate_date) DO UPDATE SET micros = excluded.micros, source = excluded.source")
            .bind(currency.code()).bind(date).bind(micros).bind(source).execute(pool).await.map(drop))?;
        Ok(())
    }

    pub async fn put_budget(&self, campaign: &str, month: YearMonth, amount_minor: i64) -> Result<()> {
        on_db!(self, pool => sqlx::query("INSERT INTO budgets (campaign, month, amount_minor) VALUES ($1, $2, $3) \
            ON CONFLICT (campaign, month) DO UPDATE SET amount_minor = excluded.amount_minor")
            .bind(campaign).bind(month.to_string()).bind(amount_minor).execute(pool).await.map(drop))?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterTable {
    Games,
    Channels,
    Vendors,
    Countries,
}

impl MasterTable {
    fn name(self) -> &'static str {
        match self {
            MasterTable::Games => "games",
            MasterTable::Channels => "channels",
            MasterTable::Vendors => "vendors",
            MasterTable::Countries => "countries",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub game: &'a str,
    pub channel: &'a str,
    pub flight_start: Date,
    pub flight_end: Date,
    pub owner_id: Option<i64>,
    pub active: bool,
}

/// What the cost list shows: every filter optional, in the chosen order, a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFilter {
    pub month: Option<YearMonth>,
    pub game: Option<String>,
    pub channel: Option<String>,
    pub campaign: Option<String>,
    pub country: Option<String>,
    pub vendor: Option<String>,
    pub cost_type: Option<String>,
    pub include_deleted: bool,
    pub order: CostOrder,
}

/// The list's order; ties broken by id, so every order is total and keyset pages never skip a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CostOrder {
    #[default]
    Newest,
    Oldest,
    /// By amount in the reporting currency.
    Largest,
    Smallest,
}

impl CostOrder {
    pub const ALL: [CostOrder; 4] = [CostOrder::Newest, CostOrder::Oldest, CostOrder::Largest, CostOrder::Smallest];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            CostOrder::Newest => "newest",
            CostOrder::Oldest => "oldest",
            CostOrder::Largest => "largest",
            CostOrder::Smallest => "smallest",
        }
    }

    pub fn parse(text: &str) -> Option<CostOrder> {
        CostOrder::ALL.into_iter().find(|o| o.as_str() == text)
    }

    fn by_amount(self) -> bool {
        matches!(self, CostOrder::Largest | CostOrder::Smallest)
    }

    fn descending(self) -> bool {
        matches!(self, CostOrder::Newest | CostOrder::Largest)
    }
}

/// Where a page starts: after the row with this sort key and id, in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CostCursor {
    Date(Date, i64),
    Amount(i64, i64),
}

impl CostCursor {
    /// The cursor's text in URLs: `2026-11-02.41` or `-150000.41`.
    pub fn to_text(self) -> String {
        match self {
            CostCursor::Date(d, id) => format!("{d}.{id}"),
            CostCursor::Amount(a, id) => format!("{a}.{id}"),
        }
    }

    /// Reads a cursor made by [`CostCursor::to_text`] for a list in `order`.
    pub fn parse(text: &str, order: CostOrder) -> Option<CostCursor> {
        let (key, id) = text.rsplit_once('.')?;
        let id = id.parse().ok()?;
        if order.by_amount() {
            Some(CostCursor::Amount(key.parse().ok()?, id))
        } else {
            Some(CostCursor::Date(domain::costs::parse_date(key)?, id))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostPage {
    pub rows: Vec<StoredCost>,
    /// Set when more rows follow.
    pub next: Option<CostCursor>,
    /// Over every row the filter matches, not just this page.
    pub total_reporting_minor: i64,
    pub total_count: i64,
}

#[derive(Clone)]
enum Param {
    Text(String),
    Day(Date),
    Int(i64),
}

/// Runs `$sql` with `$params` bound in order, then `$finish` (fetch_one, fetch_all).
macro_rules! query_with {
    ($db:expr, $sql:expr, $params:expr, $finish:ident) => {
        on_db!($db, pool => {
            let mut q = sqlx::query_as($sql);
            for p in $params {
                q = match p { Param::Text(t) => q.bind(t.clone()), Param::Day(d) => q.bind(*d), Param::Int(i) => q.bind(*i) };
            }
            q.$finish(pool).await
        })
    };
}

/// SQL conditions with their numbered parameters.
#[derive(Default, Clone)]
struct Conditions {
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Conditions {
    /// Adds `clause`, whose `?`s all stand for `param`.
    fn push(&mut self, clause: &str, param: Param) {
        self.params.push(param);
        self.clauses.push(clause.replace('?', &format!("${}", self.params.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() { "TRUE".to_owned() } else { self.clauses.join(" AND ") }
    }
}

impl Db {
    /// One page of entries in `filter.order`, by keyset (sort key, id): as fast on page 1,000 as on
    /// page 1. The total comes from the running totals, never from scanning the ledger, except for
    /// lists that include deleted entries.
    pub async fn list_costs(&self, filter: &CostFilter, after: Option<CostCursor>, limit: i64) -> Result<CostPage> {
        let mut codes = Conditions::default();
        for (column, value) in [
            ("game", &filter.game),
            ("channel", &filter.channel),
            ("campaign", &filter.campaign),
            ("country", &filter.country),
            ("vendor", &filter.vendor),
            ("cost_type", &filter.cost_type),
        ] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                codes.push(&format!("{column} = ?"), Param::Text(v.to_owned()));
            }
        }

        let mut page = codes.clone();
        if !filter.include_deleted {
            page.clauses.push("deleted_at IS NULL".into());
        }
        if let Some(m) = filter.month {
            page.push("entry_date >= ?", Param::Day(m.first_day()));
            page.push("entry_date < ?", Param::Day(m.next().first_day()));
        }
        let (total, count): (i64, i64) = if filter.include_deleted {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(reporting_minor), 0) AS BIGINT), COUNT(*) FROM cost_entries WHERE {}",
                page.sql()
            );
            query_with!(self, &sql, &page.params, fetch_one)?
        } else {
            let mut totals = codes;
            if let Some(m) = filter.month {
                totals.push("month = ?", Param::Text(m.to_string()));
            }
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(reporting_minor), 0) AS BIGINT), CAST(COALESCE(SUM(entries), 0) AS BIGINT) \
                 FROM cost_totals WHERE {}",
                totals.sql()
            );
            query_with!(self, &sql, &totals.params, fetch_one)?
        };

        let (column, dir, cmp) = match (filter.order.by_amount(), filter.order.descending()) {
            (false, true) => ("entry_date", "DESC", "<"),
            (false, false) => ("entry_date", "ASC", ">"),
            (true, true) => ("reporting_minor", "DESC", "<"),
            (true, false) => ("reporting_minor", "ASC", ">"),
        };
        if let Some(c) = after {
            let (key, id) = match c {
                CostCursor::Date(d, id) => (Param::Day(d), id),
                CostCursor::Amount(a, id) => (Param::Int(a), id),
            };
            page.params.push(key);
            page.params.push(Param::Int(id));
            let (k, i) = (page.params.len() - 1, page.params.len());
            page.clauses.push(format!("({column} {cmp} ${k} OR ({column} = ${k} AND id {cmp} ${i}))"));
        }
        page.params.push(Param::Int(limit + 1));
        let sql = format!(
            "SELECT {COST_COLUMNS} FROM cost_entries WHERE {} ORDER BY {column} {dir}, id {dir} LIMIT ${}",
            page.sql(),
            page.params.len()
        );
        let rows: Vec<CostRow> = query_with!(self, &sql, &page.params, fetch_all)?;
        let mut rows: Vec<StoredCost> = rows.into_iter().map(CostRow::into_stored).collect::<Result<_>>()?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| {
                if filter.order.by_amount() {
                    CostCursor::Amount(r.entry.reporting_minor, r.id)
                } else {
                    CostCursor::Date(r.entry.date, r.id)
                }
            })
        } else {
            None
        };
        Ok(CostPage { rows, next, total_reporting_minor: total, total_count: count })
    }
}

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
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'set', 'budget', $3, $4, $5, NULL)")
                .bind(now).bind(actor).bind(&key).bind(before.map(|b| b.to_string())).bind(amount_minor.to_string())
                .execute(&mut *tx).await?;
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
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'set', 'fx_rates', $3, $4, $5, NULL)")
                .bind(now).bind(actor).bind(&key).bind(before.map(|b| json(&b))).bind(json(&(rate.micros, &rate.source)))
                .execute(&mut *tx).await?;
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
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'import', 'fx_rates', $3, NULL, $4, NULL)")
                .bind(now).bind(actor).bind(now.date().to_string()).bind(format!("{} rates", rows.len()))
                .execute(&mut *tx).await?;
            rows.len()
        })
    }

    /// The currencies MCMS keeps (active or not).
    pub async fn currencies_in_use(&self) -> Result<Vec<Currency>> {
        let codes: Vec<String> =
            on_db!(self, pool => sqlx::query_scalar("SELECT code FROM currencies").fetch_all(pool).await)?;
        Ok(codes.iter().filter_map(|c| Currency::from_code(c)).collect())
    }

    /// Rates dated on or after `since`, newest first.
    pub async fn fx_rates_since(&self, since: Date) -> Result<Vec<(String, Date, i64, String)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT currency, rate_date, micros, source FROM fx_rates WHERE rate_date >= $1 ORDER BY rate_date DESC, currency")
            .bind(since).fetch_all(pool).await)?)
    }
}

/// Which audit records to show; every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    /// Only records older than this id (the previous page's last).
    pub before_id: Option<i64>,
}

impl Db {
    /// Audit records, newest first, `limit` at a time.
    pub async fn audit_search(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditRecord>> {
        let sql = "SELECT id, at, actor_id, action, entity, entity_id, before, after, reason FROM audit_log \
            WHERE ($1 = '' OR entity = $1) AND ($2 = 0 OR actor_id = $2) AND ($3 = '' OR action = $3) \
            AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $5";
        Ok(on_db!(self, pool => sqlx::query_as(sql)
            .bind(f.entity.clone().unwrap_or_default()).bind(f.actor_id.unwrap_or(0))
            .bind(f.action.clone().unwrap_or_default()).bind(f.before_id.unwrap_or(0)).bind(limit)
            .fetch_all(pool).await)?)
    }
}

impl Db {
    /// Adds or changes a master-data code (admins), audited.
    pub async fn save_code(&self, table: MasterTable, code: &str, name: &str, active: bool, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let upsert = format!(
            "INSERT INTO {} (code, name, active) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, active = excluded.active",
            table.name()
        );
        let key = format!("{}/{code}", table.name());
        let after = json(&(name, active));
        in_tx!(self, tx => {
            sqlx::query(&upsert).bind(code).bind(name).bind(active).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'set', 'master', $3, NULL, $4, NULL)")
                .bind(now).bind(actor).bind(&key).bind(&after).execute(&mut *tx).await?;
        })
    }

    /// Adds or changes a campaign (marketers and admins), audited.
    pub async fn save_campaign(&self, c: &NewCampaign<'_>, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let after = json(&(c.name, c.game, c.channel, c.flight_start, c.flight_end, c.active));
        in_tx!(self, tx => {
            sqlx::query("INSERT INTO campaigns (code, name, game, channel, flight_start, flight_end, owner_id, active) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                game = excluded.game, channel = excluded.channel, flight_start = excluded.flight_start, \
                flight_end = excluded.flight_end, active = excluded.active")
                .bind(c.code).bind(c.name).bind(c.game).bind(c.channel).bind(c.flight_start).bind(c.flight_end)
                .bind(c.owner_id).bind(c.active).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'set', 'campaign', $3, NULL, $4, NULL)")
                .bind(now).bind(actor).bind(c.code).bind(&after).execute(&mut *tx).await?;
        })
    }
}

impl MasterTable {
    pub fn parse(kind: &str) -> Option<MasterTable> {
        match kind {
            "games" => Some(MasterTable::Games),
            "channels" => Some(MasterTable::Channels),
            "vendors" => Some(MasterTable::Vendors),
            "countries" => Some(MasterTable::Countries),
            _ => None,
        }
    }
}

impl Db {
    /// Adds or changes a cost type (admins), audited. `band` is the usual cost per 1,000 units in
    /// minor units of the reporting currency.
    pub async fn save_cost_type(
        &self,
        code: &str,
        name: &str,
        unit_priced: bool,
        band: Option<(i64, i64)>,
        active: bool,
        actor: i64,
    ) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let after = json(&(name, unit_priced, band, active));
        in_tx!(self, tx => {
            sqlx::query("INSERT INTO cost_types (code, name, unit_priced, band_min_per_mille, band_max_per_mille, active) \
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                unit_priced = excluded.unit_priced, band_min_per_mille = excluded.band_min_per_mille, \
                band_max_per_mille = excluded.band_max_per_mille, active = excluded.active")
                .bind(code).bind(name).bind(unit_priced).bind(band.map(|b| b.0)).bind(band.map(|b| b.1)).bind(active)
                .execute(&mut *tx).await?;
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'set', 'master', $3, NULL, $4, NULL)")
                .bind(now).bind(actor).bind(format!("cost_types/{code}")).bind(&after).execute(&mut *tx).await?;
        })
    }

    /// Puts a currency in or out of use (admins), audited.
    pub async fn save_currency(&self, currency: Currency, active: bool, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            sqlx::query("INSERT INTO currencies (code, minor_units, active) VALUES ($1, $2, $3) \
                ON CONFLICT (code) DO UPDATE SET active = excluded.active")
                .bind(currency.code()).bind(i32::from(currency.minor_units())).bind(active).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, after, reason) \
                VALUES ($1, $2, 'set', 'master', $3, NULL, $4, NULL)")
                .bind(now).bind(actor).bind(format!("currencies/{currency}")).bind(json(&active)).execute(&mut *tx).await?;
        })
    }
}
