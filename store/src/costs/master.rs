//! Master data: the codes entries refer to, and the rule engine's reference built from them.

use super::{CostSettings, YearMonth};
use crate::tx::{Audit, in_tx, json, write_audit};
use crate::{Db, Result, StoreError, on_db};
use domain::Currency;
use domain::costs::{CampaignInfo, Code, CostTypeInfo, FxRate, Reference};
use time::{Date, OffsetDateTime};

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

impl Db {
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

    /// The currencies MCMS keeps (active or not).
    pub async fn currencies_in_use(&self) -> Result<Vec<Currency>> {
        let codes: Vec<String> =
            on_db!(self, pool => sqlx::query_scalar("SELECT code FROM currencies").fetch_all(pool).await)?;
        Ok(codes.iter().filter_map(|c| Currency::from_code(c)).collect())
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
            write_audit!(tx, Audit::new(now, actor, "set", "master", &key).after(&after));
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
            write_audit!(tx, Audit::new(now, actor, "set", "campaign", c.code).after(&after));
        })
    }

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
            write_audit!(tx, Audit::new(now, actor, "set", "master", format!("cost_types/{code}")).after(&after));
        })
    }

    /// Puts a currency in or out of use (admins), audited.
    pub async fn save_currency(&self, currency: Currency, active: bool, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            sqlx::query("INSERT INTO currencies (code, minor_units, active) VALUES ($1, $2, $3) \
                ON CONFLICT (code) DO UPDATE SET active = excluded.active")
                .bind(currency.code()).bind(i32::from(currency.minor_units())).bind(active).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "set", "master", format!("currencies/{currency}")).after(json(&active)));
        })
    }
}
