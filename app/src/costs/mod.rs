//! The cost ledger's screens and the server functions behind them.

mod budgets;
mod dashboard;
mod form;
pub mod import;
mod list;
mod master;
pub(crate) mod periods;
mod rates;

pub use budgets::BudgetsPage;
pub use dashboard::DashboardView;
pub use form::CostFormPage;
pub use import::{BatchPage, DraftPage, ImportPage};
pub use list::CostListPage;
pub use master::MasterDataPage;
pub use periods::PeriodsPage;
pub use rates::RatesPage;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::shared::history;
use crate::shared::{Choice, HistoryLine};
use domain::Currency;
#[cfg(feature = "ssr")]
use domain::Role;
use domain::costs::{CampaignInfo, Code, CostEntry, CostForm, CostTypeInfo, FxRate, Reference};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};

/// A stored entry as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRecord {
    pub id: i64,
    pub version: i32,
    pub deleted: bool,
    pub entry: CostEntry,
    pub fx_source: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<store::costs::StoredCost> for CostRecord {
    fn from(s: store::costs::StoredCost) -> Self {
        CostRecord { id: s.id, version: s.version, deleted: s.deleted, entry: s.entry, fx_source: s.fx_source }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignChoice {
    pub code: String,
    pub name: String,
    pub info: CampaignInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostTypeChoice {
    pub code: String,
    pub name: String,
    pub info: CostTypeInfo,
}

/// What the form needs: the choices for its selects, and the reference data for checking an entry
/// in the browser as it is typed. Duplicates and budgets are checked by the server on save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormData {
    pub today: time::Date,
    pub reporting_currency: Currency,
    pub fx_max_age_days: i64,
    pub flight_grace_days: i64,
    pub games: Vec<Choice>,
    pub channels: Vec<Choice>,
    pub countries: Vec<Choice>,
    pub vendors: Vec<Choice>,
    pub currencies: Vec<Choice>,
    pub cost_types: Vec<CostTypeChoice>,
    pub campaigns: Vec<CampaignChoice>,
    pub closed_months: Vec<(i32, u8)>,
    pub fx: Vec<(Currency, time::Date, i64)>,
    /// Whether the caller may save (marketer or admin).
    pub can_edit: bool,
}

impl FormData {
    /// The rule engine's reference, as far as the browser can know it.
    pub fn reference(&self) -> Reference {
        let mut r = Reference::new(self.today, self.reporting_currency);
        r.fx_max_age_days = self.fx_max_age_days;
        r.flight_grace_days = self.flight_grace_days;
        let codes = |list: &[Choice]| list.iter().map(|c| (c.code.clone(), Code { active: c.active })).collect();
        r.games = codes(&self.games);
        r.channels = codes(&self.channels);
        r.countries = codes(&self.countries);
        r.vendors = codes(&self.vendors);
        r.currencies = self
            .currencies
            .iter()
            .filter_map(|c| Some((Currency::from_code(&c.code)?, Code { active: c.active })))
            .collect();
        r.cost_types = self.cost_types.iter().map(|t| (t.code.clone(), t.info.clone())).collect();
        r.campaigns = self.campaigns.iter().map(|c| (c.code.clone(), c.info.clone())).collect();
        r.closed_months =
            self.closed_months.iter().filter_map(|(y, m)| Some((*y, time::Month::try_from(*m).ok()?))).collect();
        for (currency, date, micros) in &self.fx {
            r.fx.entry(*currency).or_default().push(FxRate { date: *date, micros: *micros });
        }
        r
    }
}

#[server(endpoint = "costs/form-data", output = crate::codec::Json)]
pub async fn cost_form_data() -> Result<FormData, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let (db, settings) = (&caller.state.db, &caller.state.costs);
    let data = db.cost_master_data(caller.state.today(), 60).await?;
    Ok(FormData {
        today: caller.state.today(),
        reporting_currency: settings.reporting_currency,
        fx_max_age_days: settings.fx_max_age_days,
        flight_grace_days: settings.flight_grace_days,
        games: data.games.into_iter().map(choice).collect(),
        channels: data.channels.into_iter().map(choice).collect(),
        countries: data.countries.into_iter().map(choice).collect(),
        vendors: data.vendors.into_iter().map(choice).collect(),
        currencies: data.currencies.into_iter().map(choice).collect(),
        cost_types: data.cost_types.into_iter().map(|(code, name, info)| CostTypeChoice { code, name, info }).collect(),
        campaigns: data.campaigns.into_iter().map(|(code, name, info)| CampaignChoice { code, name, info }).collect(),
        closed_months: data.closed_months.iter().map(|m| (m.year, m.month as u8)).collect(),
        fx: data.fx,
        can_edit: caller.user()?.role.includes(Role::Marketer),
    })
}

#[cfg(feature = "ssr")]
fn choice((code, name, active): (String, String, bool)) -> Choice {
    Choice { code, name, active }
}

/// Checks the entry with the authoritative rules and stores it. Warnings must be acknowledged by
/// code (`acknowledge`, comma-separated). With `version`, edits entry `form.editing` if it is still
/// at that version.
#[server(endpoint = "costs/save", output = crate::codec::Json)]
pub async fn save_cost(
    form: CostForm,
    version: Option<i32>,
    acknowledge: Option<String>,
) -> Result<CostRecord, AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    let acknowledged: Vec<String> =
        acknowledge.unwrap_or_default().split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let stored =
        caller.state.service().save_cost(&caller.actor()?, &form, version, &acknowledged).await.map_err(|e| {
            // A form posted without JavaScript comes back filled in with what was submitted.
            match AppError::from(e) {
                AppError::Rules { findings, .. } => AppError::Rules { findings, submitted: Box::new(form.clone()) },
                AppError::Stale { version, changed, .. } => {
                    AppError::Stale { version, changed, submitted: Some(Box::new(form.clone())) }
                }
                other => other,
            }
        })?;
    leptos_axum::redirect("/costs");
    Ok(stored.into())
}

/// One entry, for its page.
#[server(endpoint = "costs/get", output = crate::codec::Json)]
pub async fn get_cost(id: i64) -> Result<CostRecord, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let stored = caller.state.db.cost(id).await?.ok_or(AppError::NotFound)?;
    Ok(stored.into())
}

/// The list's filters as they travel in the page's query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CostQuery {
    pub month: String,
    pub game: String,
    pub channel: String,
    pub campaign: String,
    pub country: String,
    pub vendor: String,
    pub cost_type: String,
    /// `newest` (also when empty), `oldest`, `largest` or `smallest`.
    pub order: String,
    /// The sort key and id of the last row of the previous page (`2026-11-02.41`, `150000.41`).
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostPageView {
    pub rows: Vec<CostRecord>,
    pub next_after: Option<String>,
    pub total_reporting_minor: i64,
    pub total_count: i64,
    pub reporting_currency: Currency,
}

pub const PAGE_SIZE: i64 = 50;

#[server(endpoint = "costs/list", output = crate::codec::Json)]
pub async fn list_costs(#[server(default)] query: CostQuery) -> Result<CostPageView, AppError> {
    use store::costs::{CostCursor, CostFilter, CostOrder, YearMonth};
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let month = match text(&query.month) {
        Some(m) => Some(YearMonth::parse(&m).ok_or_else(|| AppError::invalid("month", "month.invalid"))?),
        None => None,
    };
    let order = match text(&query.order) {
        Some(o) => CostOrder::parse(&o).ok_or_else(|| AppError::invalid("order", "order.invalid"))?,
        None => CostOrder::default(),
    };
    let after = match text(&query.after) {
        Some(a) => Some(CostCursor::parse(&a, order).ok_or_else(|| AppError::invalid("after", "cursor.invalid"))?),
        None => None,
    };
    let filter = CostFilter {
        month,
        game: text(&query.game),
        channel: text(&query.channel),
        campaign: text(&query.campaign),
        country: text(&query.country).map(|c| c.to_ascii_uppercase()),
        vendor: text(&query.vendor),
        cost_type: text(&query.cost_type),
        include_deleted: false,
        order,
    };
    let page = caller.state.db.list_costs(&filter, after, PAGE_SIZE).await?;
    Ok(CostPageView {
        rows: page.rows.into_iter().map(CostRecord::from).collect(),
        next_after: page.next.map(CostCursor::to_text),
        total_reporting_minor: page.total_reporting_minor,
        total_count: page.total_count,
        reporting_currency: caller.state.costs.reporting_currency,
    })
}

#[server(endpoint = "costs/delete", output = crate::codec::Json)]
pub async fn delete_cost(id: i64, version: i32) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    caller.state.service().delete_cost(&caller.actor()?, id, version).await?;
    leptos_axum::redirect("/costs");
    Ok(())
}

#[server(endpoint = "costs/restore", output = crate::codec::Json)]
pub async fn restore_cost(id: i64) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    Ok(caller.state.service().restore_cost(&caller.actor()?, id).await?)
}

#[server(endpoint = "costs/close-month", output = crate::codec::Json)]
pub async fn close_month(month: String) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let month = store::costs::YearMonth::parse(&month).ok_or_else(|| AppError::invalid("month", "month.invalid"))?;
    Ok(caller.state.service().close_month(&caller.actor()?, month).await?)
}

#[server(endpoint = "costs/reopen-month", output = crate::codec::Json)]
pub async fn reopen_month(month: String, reason: String) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let month = store::costs::YearMonth::parse(&month).ok_or_else(|| AppError::invalid("month", "month.invalid"))?;
    Ok(caller.state.service().reopen_month(&caller.actor()?, month, &reason).await?)
}

/// Who changed an entry, and when.
#[server(endpoint = "costs/history", output = crate::codec::Json)]
pub async fn cost_history(id: i64) -> Result<Vec<HistoryLine>, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    history(&caller.state.db, "cost_entry", &id.to_string()).await
}

/// A month's state for the periods page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodLine {
    pub month: String,
    pub closed: bool,
    pub history: Vec<HistoryLine>,
}

/// The last twelve months and any older closed ones, newest first.
#[server(endpoint = "costs/periods", output = crate::codec::Json)]
pub async fn list_periods() -> Result<Vec<PeriodLine>, AppError> {
    use store::costs::YearMonth;
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    let closed = db.closed_months().await?;
    let mut months = vec![YearMonth::of(caller.state.today())];
    for _ in 0..11 {
        let previous = months.last().map(|m| YearMonth::of(m.first_day() - time::Duration::days(1)));
        months.extend(previous);
    }
    months.extend(closed.iter().copied().filter(|m| !months.contains(m)).collect::<Vec<_>>());
    months.sort();
    months.reverse();
    let mut out = Vec::new();
    for m in months {
        let month = m.to_string();
        out.push(PeriodLine { closed: closed.contains(&m), history: history(db, "period", &month).await?, month });
    }
    Ok(out)
}

/// A month of budgets against spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetOverview {
    pub month: String,
    pub reporting_currency: Currency,
    pub lines: Vec<BudgetRow>,
    /// How much of the month has passed, in percent, when it is the current month.
    pub elapsed_pct: Option<i64>,
    pub can_edit: bool,
    /// Every change to this month's budgets, newest first.
    pub changes: Vec<BudgetChangeLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetChangeLine {
    pub at: String,
    pub actor: String,
    pub campaign: String,
    pub before: Option<i64>,
    pub after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetRow {
    pub campaign: String,
    pub name: String,
    pub budget: Option<i64>,
    pub actual: i64,
    /// Actual as a percentage of budget.
    pub burn_pct: Option<i64>,
}

#[server(endpoint = "costs/budgets", output = crate::codec::Json)]
pub async fn budget_report(#[server(default)] month: String) -> Result<BudgetOverview, AppError> {
    use store::costs::YearMonth;
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let today = caller.state.today();
    let month = match month.trim() {
        "" => YearMonth::of(today),
        m => YearMonth::parse(m).ok_or_else(|| AppError::invalid("month", "month.invalid"))?,
    };
    let lines = caller.state.db.budget_vs_actual(month).await?;
    let changes = caller
        .state
        .db
        .budget_history(month)
        .await?
        .into_iter()
        .map(|c| BudgetChangeLine {
            at: format!("{} {:02}:{:02} UTC", c.at.date(), c.at.hour(), c.at.minute()),
            actor: c.actor,
            campaign: c.campaign,
            before: c.before,
            after: c.after,
        })
        .collect();
    let elapsed_pct = (YearMonth::of(today) == month).then(|| {
        let days = (month.next().first_day() - month.first_day()).whole_days();
        i64::from(today.day()) * 100 / days
    });
    Ok(BudgetOverview {
        month: month.to_string(),
        reporting_currency: caller.state.costs.reporting_currency,
        lines: lines
            .into_iter()
            .map(|l| BudgetRow {
                burn_pct: l.budget.filter(|b| *b > 0).map(|b| l.actual.saturating_mul(100) / b),
                campaign: l.campaign,
                name: l.name,
                budget: l.budget,
                actual: l.actual,
            })
            .collect(),
        elapsed_pct,
        can_edit: caller.user()?.role.includes(Role::Marketer),
        changes,
    })
}

/// Sets a campaign's budget for a month (marketers and admins), in the reporting currency.
#[server(endpoint = "costs/set-budget", output = crate::codec::Json)]
pub async fn set_budget(campaign: String, month: String, amount: String) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    let month = store::costs::YearMonth::parse(&month).ok_or_else(|| AppError::invalid("month", "month.invalid"))?;
    let money = domain::Money::parse(&amount, caller.state.costs.reporting_currency)
        .map_err(|e| AppError::invalid("amount", e.code()))?;
    Ok(caller.state.service().set_budget(&caller.actor()?, &campaign, month, money.minor).await?)
}

/// A stored rate as the rates page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLine {
    pub currency: String,
    pub date: String,
    pub rate: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatesView {
    pub reporting_currency: Currency,
    pub lines: Vec<RateLine>,
    pub can_import: bool,
    /// The currencies a rate can be given for (in use, not the reporting currency).
    pub currencies: Vec<String>,
}

/// The last 30 days of rates (viewers and up).
#[server(endpoint = "costs/rates", output = crate::codec::Json)]
pub async fn list_rates() -> Result<RatesView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let since = caller.state.today() - time::Duration::days(30);
    let lines = caller
        .state
        .db
        .fx_rates_since(since)
        .await?
        .into_iter()
        .map(|(currency, date, micros, source)| RateLine {
            currency,
            date: date.to_string(),
            rate: format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000),
            source,
        })
        .collect();
    let reporting = caller.state.costs.reporting_currency;
    let currencies = caller.state.db.currencies_in_use().await?;
    Ok(RatesView {
        reporting_currency: reporting,
        lines,
        can_import: caller.user()?.role.includes(Role::Admin),
        currencies: currencies.into_iter().filter(|c| *c != reporting).map(|c| c.code().to_owned()).collect(),
    })
}

/// Loads a rate file (admins): every row is checked first, and either all rows are stored or none.
#[server(endpoint = "costs/import-rates", output = crate::codec::Json)]
pub async fn import_rates(csv: String) -> Result<usize, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let known: Vec<Currency> = caller.state.db.currencies_in_use().await?;
    let rows = domain::fx::parse_rates_csv(&csv, caller.state.costs.reporting_currency, |c| known.contains(&c))
        .map_err(AppError::rows)?;
    Ok(caller.state.service().import_fx_rates(&caller.actor()?, &rows).await?)
}

/// Adds or replaces one rate (admins), checked like a row of a rate file.
#[server(endpoint = "costs/save-rate", output = crate::codec::Json)]
pub async fn save_rate(currency: String, date: String, rate: String, source: String) -> Result<(), AppError> {
    const FIELDS: [&str; 4] = ["currency", "date", "rate", "source"];
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let known: Vec<Currency> = caller.state.db.currencies_in_use().await?;
    let row = domain::fx::check_rate([&currency, &date, &rate, &source], caller.state.costs.reporting_currency, |c| {
        known.contains(&c)
    })
    .map_err(|problems| match problems.first() {
        Some(&(cell, code)) => AppError::invalid(FIELDS[cell], code),
        None => AppError::BadRequest("rate".into()),
    })?;
    Ok(caller.state.service().save_fx_rate(&caller.actor()?, &row).await?)
}

/// Adds or changes a game, channel, vendor or country (admins).
#[server(endpoint = "costs/save-code", output = crate::codec::Json)]
pub async fn save_code(
    kind: String,
    code: String,
    name: String,
    #[server(default)] active: bool,
) -> Result<(), AppError> {
    use store::costs::MasterTable;
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let table = MasterTable::parse(&kind).ok_or_else(|| AppError::invalid("kind", "bad_request"))?;
    let code =
        domain::costs::parse_code(&code, table == MasterTable::Countries).map_err(|c| AppError::invalid("code", c))?;
    let name = domain::PersonName::parse(&name).map_err(|e| AppError::invalid("name", e.code()))?;
    caller.state.db.save_code(table, &code, name.as_str(), active, caller.user()?.id).await?;
    Ok(())
}

/// Adds or changes a campaign (marketers and admins): its game and channel must exist and be
/// active, and its flight must end on or after its start.
#[server(endpoint = "costs/save-campaign", output = crate::codec::Json)]
pub async fn save_campaign(
    code: String,
    name: String,
    game: String,
    channel: String,
    flight_start: String,
    flight_end: String,
    #[server(default)] active: bool,
) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    let db = &caller.state.db;
    let code = domain::costs::parse_code(&code, false).map_err(|c| AppError::invalid("code", c))?;
    let name = domain::PersonName::parse(&name).map_err(|e| AppError::invalid("name", e.code()))?;
    let data = db.cost_master_data(caller.state.today(), 0).await?;
    let usable = |rows: &[(String, String, bool)], code: &str| rows.iter().any(|(c, _, active)| c == code && *active);
    if !usable(&data.games, game.trim()) {
        return Err(AppError::invalid("game", "game.unknown"));
    }
    if !usable(&data.channels, channel.trim()) {
        return Err(AppError::invalid("channel", "channel.unknown"));
    }
    let start = domain::costs::parse_date_checked(flight_start.trim())
        .map_err(|p| AppError::invalid("flight_start", p.code()))?;
    let end =
        domain::costs::parse_date_checked(flight_end.trim()).map_err(|p| AppError::invalid("flight_end", p.code()))?;
    if end < start {
        return Err(AppError::invalid("flight_end", "flight.reversed"));
    }
    let owner = caller.user()?.id;
    let campaign = store::costs::NewCampaign {
        code: &code,
        name: name.as_str(),
        game: game.trim(),
        channel: channel.trim(),
        flight_start: start,
        flight_end: end,
        owner_id: Some(owner),
        active,
    };
    db.save_campaign(&campaign, owner).await?;
    Ok(())
}

/// Adds or changes a cost type (admins). The plausible band is the usual cost per 1,000 units in
/// the reporting currency; leave both ends empty for none.
#[server(endpoint = "costs/save-cost-type", output = crate::codec::Json)]
pub async fn save_cost_type(
    code: String,
    name: String,
    #[server(default)] unit_priced: bool,
    #[server(default)] band_min: String,
    #[server(default)] band_max: String,
    #[server(default)] active: bool,
) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let code = domain::costs::parse_code(&code, false).map_err(|c| AppError::invalid("code", c))?;
    let name = domain::PersonName::parse(&name).map_err(|e| AppError::invalid("name", e.code()))?;
    let reporting = caller.state.costs.reporting_currency;
    let amount = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
        match text.trim() {
            "" => Ok(None),
            t => domain::Money::parse(t, reporting)
                .map(|m| Some(m.minor))
                .map_err(|e| AppError::invalid(field, e.code())),
        }
    };
    let band = match (amount("band_min", &band_min)?, amount("band_max", &band_max)?) {
        (None, None) => None,
        (Some(lo), Some(hi)) if 0 <= lo && lo <= hi => Some((lo, hi)),
        _ => return Err(AppError::invalid("band_max", "band.invalid")),
    };
    caller.state.db.save_cost_type(&code, name.as_str(), unit_priced, band, active, caller.user()?.id).await?;
    Ok(())
}

/// Puts an ISO 4217 currency in or out of use (admins).
#[server(endpoint = "costs/save-currency", output = crate::codec::Json)]
pub async fn save_currency(code: String, #[server(default)] active: bool) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let currency = Currency::from_code(&code).ok_or_else(|| AppError::invalid("code", "currency.unknown"))?;
    if currency == caller.state.costs.reporting_currency && !active {
        return Err(AppError::invalid("code", "currency.reporting"));
    }
    caller.state.db.save_currency(currency, active, caller.user()?.id).await?;
    Ok(())
}
