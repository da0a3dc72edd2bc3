//! The cost validation engine. One pure function, [`validate`], checks a cost entry as typed in
//! the form (in the browser, compiled to wasm, and again on the server), as read by the importer
//! and as sent to any API. Reference data comes in a [`Reference`] the caller fills.

mod rules;

pub use rules::{Field, Rule, Severity};

use crate::{AmountError, Currency, Money, format_amount};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use time::{Date, Month};

/// Reference lookups use FxHash: the keys are codes the server loaded, not attacker-chosen, and
/// hashing them is most of the engine's work.
pub type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;
pub type HashSet<K> = rustc_hash::FxHashSet<K>;

/// A cost entry as entered: text fields exactly as typed or imported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CostForm {
    pub date: String,
    pub game: String,
    pub channel: String,
    pub campaign: String,
    pub country: String,
    pub vendor: String,
    pub cost_type: String,
    pub currency: String,
    pub amount: String,
    pub units: String,
    pub invoice_number: String,
    pub memo: String,
    /// The amount includes VAT (gross) rather than excluding it (net).
    pub vat_included: bool,
    /// The stored entry a credit or adjustment corrects.
    #[serde(deserialize_with = "blank_is_none")]
    pub corrects: Option<i64>,
    /// The stored entry being edited, left out of the duplicate checks.
    #[serde(deserialize_with = "blank_is_none")]
    pub editing: Option<i64>,
}

/// Reads an optional id from JSON (a number or null) or from a form (text, where empty means none).
fn blank_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Raw::Text(t)) => {
            t.trim().parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{t:?} is not an entry number")))
        }
    }
}

/// A master-data code's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignInfo {
    pub game: String,
    pub channel: String,
    pub flight_start: Date,
    pub flight_end: Date,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostTypeInfo {
    pub active: bool,
    /// Priced per install, click, impression or action: the entry must say how many units.
    pub unit_priced: bool,
    /// The usual cost per 1,000 units in minor units of the reporting currency (min, max).
    pub per_mille_band: Option<(i64, i64)>,
}

/// An exchange rate into the reporting currency: one major unit of the currency is worth
/// `micros / 1,000,000` major units of the reporting currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FxRate {
    pub date: Date,
    pub micros: i64,
}

/// Budget and spend of one campaign-month, in minor units of the reporting currency. `spent`
/// leaves out the entry being edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetMonth {
    pub budget: i64,
    pub spent: i64,
}

/// Everything the rules need to know besides the entry.
#[derive(Debug, Clone)]
pub struct Reference {
    pub today: Date,
    pub reporting_currency: Currency,
    pub fx_max_age_days: i64,
    pub flight_grace_days: i64,
    pub closed_months: HashSet<(i32, Month)>,
    pub games: HashMap<String, Code>,
    pub channels: HashMap<String, Code>,
    pub countries: HashMap<String, Code>,
    pub vendors: HashMap<String, Code>,
    pub currencies: HashMap<Currency, Code>,
    pub cost_types: HashMap<String, CostTypeInfo>,
    pub campaigns: HashMap<String, CampaignInfo>,
    /// Rates per currency, oldest first.
    pub fx: HashMap<Currency, Vec<FxRate>>,
    /// [`natural_key`] → id of the stored entry.
    pub natural_keys: HashMap<String, i64>,
    /// [`invoice_key`] → id of the stored entry.
    pub invoices: HashMap<String, i64>,
    pub entries: HashSet<i64>,
    pub budgets: HashMap<String, HashMap<(i32, Month), BudgetMonth>>,
}

impl Reference {
    pub fn new(today: Date, reporting_currency: Currency) -> Reference {
        Reference {
            today,
            reporting_currency,
            fx_max_age_days: 7,
            flight_grace_days: 3,
            closed_months: HashSet::default(),
            games: HashMap::default(),
            channels: HashMap::default(),
            countries: HashMap::default(),
            vendors: HashMap::default(),
            currencies: HashMap::default(),
            cost_types: HashMap::default(),
            campaigns: HashMap::default(),
            fx: HashMap::default(),
            natural_keys: HashMap::default(),
            invoices: HashMap::default(),
            entries: HashSet::default(),
            budgets: HashMap::default(),
        }
    }

    /// `minor` units of `currency` in minor units of the reporting currency, with the rate used:
    /// the newest on or before `date`, at most `fx_max_age_days` old. `None` when there is none;
    /// never an assumed 1:1.
    pub fn to_reporting(&self, minor: i64, currency: Currency, date: Date) -> Option<(i64, Option<FxRate>)> {
        if currency == self.reporting_currency {
            return Some((minor, None));
        }
        let rates = self.fx.get(&currency)?;
        let at = rates.partition_point(|r| r.date <= date);
        let rate = *rates[..at].last()?;
        if (date - rate.date).whole_days() > self.fx_max_age_days {
            return None;
        }
        let num = i128::from(minor) * i128::from(rate.micros) * i128::from(self.reporting_currency.scale());
        let den = 1_000_000_i128 * i128::from(currency.scale());
        let rounded = (num + num.signum() * den / 2) / den;
        Some((i64::try_from(rounded).ok()?, Some(rate)))
    }
}

/// What must be read from stored data before the rules can judge a form (its rate, possible
/// duplicates, its campaign-month budget), read from the form by the rules' own parsing: the
/// server parses a form here and in [`validate`], never by hand. Keys are built only when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookups<'a> {
    pub date: Option<Date>,
    pub currency: Option<Currency>,
    pub vendor: &'a str,
    pub campaign: &'a str,
    pub corrects: Option<i64>,
    pub editing: Option<i64>,
    form: &'a CostForm,
}

impl<'a> Lookups<'a> {
    /// [`natural_key`], when the date and currency are readable.
    pub fn natural_key(&self) -> Option<String> {
        let f = self.form;
        let (date, currency) = self.date.zip(self.currency)?;
        let country = f.country.trim().to_ascii_uppercase();
        Some(natural_key(date, f.channel.trim(), self.campaign, &country, f.cost_type.trim(), currency))
    }

    /// The invoice number as given, when there is one.
    pub fn invoice_number(&self) -> Option<&'a str> {
        Some(self.form.invoice_number.trim()).filter(|i| !i.is_empty())
    }
}

impl CostForm {
    pub fn lookups(&self) -> Lookups<'_> {
        Lookups {
            date: parse_date(self.date.trim()),
            currency: Currency::from_code(self.currency.trim()),
            vendor: self.vendor.trim(),
            campaign: self.campaign.trim(),
            corrects: self.corrects,
            editing: self.editing,
            form: self,
        }
    }
}

/// The duplicate key of the warehouse: date, channel, campaign, country, cost type, currency.
pub fn natural_key(
    date: Date,
    channel: &str,
    campaign: &str,
    country: &str,
    cost_type: &str,
    currency: Currency,
) -> String {
    let mut key = String::with_capacity(24 + channel.len() + campaign.len() + country.len() + cost_type.len());
    let _ = write!(key, "{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day());
    for part in [channel, campaign, country, cost_type, currency.code()] {
        key.push('|');
        key.push_str(part);
    }
    key
}

/// Vendor and invoice number with case, spaces and punctuation ignored: `inv-0042` = `INV 0042`.
pub fn invoice_key(vendor: &str, invoice: &str) -> String {
    let mut key = String::with_capacity(vendor.len() + 1 + invoice.len());
    key.push_str(vendor);
    key.push('|');
    key.extend(normalised_invoice(invoice));
    key
}

/// The invoice number as duplicates are judged: letters and digits only, upper case.
pub fn normalised_invoice(invoice: &str) -> impl Iterator<Item = char> + '_ {
    invoice.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Rule,
    /// The values the rule's message names, in the order its message takes them
    /// (app::i18n::RuleTexts::finding).
    pub details: Vec<String>,
}

/// A checked entry: the form's values, parsed, with the amount in the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostEntry {
    pub date: Date,
    pub game: String,
    pub channel: String,
    pub campaign: String,
    pub country: String,
    pub vendor: String,
    pub cost_type: String,
    pub amount: Money,
    pub units: Option<i64>,
    pub invoice_number: String,
    pub memo: String,
    pub vat_included: bool,
    pub corrects: Option<i64>,
    pub reporting_minor: i64,
    /// The rate used, `None` when the entry is in the reporting currency.
    pub fx_micros: Option<i64>,
    pub fx_date: Option<Date>,
}

impl CostEntry {
    /// The entry as the form shows it, to edit stored entry `id` (or to check it again).
    pub fn to_form(&self, id: Option<i64>) -> CostForm {
        CostForm {
            date: self.date.to_string(),
            game: self.game.clone(),
            channel: self.channel.clone(),
            campaign: self.campaign.clone(),
            country: self.country.clone(),
            vendor: self.vendor.clone(),
            cost_type: self.cost_type.clone(),
            currency: self.amount.currency.code().to_owned(),
            amount: format_amount(self.amount.minor, self.amount.currency),
            units: self.units.map(|u| u.to_string()).unwrap_or_default(),
            invoice_number: self.invoice_number.clone(),
            memo: self.memo.clone(),
            vat_included: self.vat_included,
            corrects: self.corrects,
            editing: id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Present when no rule of severity error fired.
    pub entry: Option<CostEntry>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.rule.severity() == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.rule.severity() == Severity::Warning)
    }

    /// Whether the entry may be saved: no errors, and every warning acknowledged by its code.
    pub fn can_save(&self, acknowledged: &[String]) -> bool {
        self.entry.is_some() && self.warnings().all(|w| acknowledged.iter().any(|a| a == w.rule.code()))
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.findings.iter().map(|f| f.rule.code()).collect()
    }
}

struct Check {
    findings: Vec<Finding>,
}

impl Check {
    fn add(&mut self, rule: Rule, details: &[&dyn std::fmt::Display]) {
        self.findings.push(Finding { rule, details: details.iter().map(|d| d.to_string()).collect() });
    }

    /// Looks a master-data code up; records unknown or inactive and returns it when usable.
    fn code<'t>(
        &mut self,
        table: &HashMap<String, Code>,
        text: &'t str,
        unknown: Rule,
        inactive: Rule,
    ) -> Option<&'t str> {
        match table.get(text) {
            None => self.add(unknown, &[&quoted(text)]),
            Some(code) if !code.active => self.add(inactive, &[&text]),
            Some(_) => return Some(text),
        }
        None
    }
}

fn quoted(text: &str) -> String {
    if text.is_empty() { "(empty)".to_owned() } else { format!("\"{text}\"") }
}

/// A master-data code as typed: trimmed and upper-cased; letters, digits and `_`, 1–32 long
/// (`country` codes: an assigned ISO 3166-1 alpha-2 code).
pub fn parse_code(text: &str, country: bool) -> Result<String, &'static str> {
    let code = text.trim().to_ascii_uppercase();
    let ok = if country {
        crate::country::country_name(&code).is_some()
    } else {
        (1..=32).contains(&code.len())
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    if ok { Ok(code) } else { Err(if country { "code.country" } else { "code.invalid" }) }
}

/// The first day MCMS keeps. Dates are refused outside [`FIRST_DATE`]..=[`LAST_DATE`], so date
/// arithmetic on a stored date (the next month, a flight's grace days) never nears the end of the
/// calendar, and a mistyped year (`9999-12-31`, `0202-01-05`) is named as such.
pub const FIRST_DATE: Date = time::macros::date!(2000 - 01 - 01);
/// The last day MCMS keeps; see [`FIRST_DATE`].
pub const LAST_DATE: Date = time::macros::date!(2099 - 12 - 31);

/// Reads `YYYY-MM-DD` (and only that), checking the calendar and that the date falls between
/// [`FIRST_DATE`] and [`LAST_DATE`]. Every date a person or a file gives goes through here.
pub fn parse_date(text: &str) -> Option<Date> {
    parse_calendar_date(text).filter(|d| (FIRST_DATE..=LAST_DATE).contains(d))
}

/// Why a date was refused: not a date at all, or a date outside the range MCMS keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateProblem {
    Invalid,
    OutOfRange,
}

impl DateProblem {
    /// The message key (`date.invalid`, `date.range`).
    pub fn code(self) -> &'static str {
        match self {
            DateProblem::Invalid => "date.invalid",
            DateProblem::OutOfRange => "date.range",
        }
    }
}

/// [`parse_date`], saying which way the text failed.
pub fn parse_date_checked(text: &str) -> Result<Date, DateProblem> {
    let date = parse_calendar_date(text).ok_or(DateProblem::Invalid)?;
    if (FIRST_DATE..=LAST_DATE).contains(&date) { Ok(date) } else { Err(DateProblem::OutOfRange) }
}

fn parse_calendar_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0_u32, |n, d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

/// Runs every rule over `form`. Never panics, whatever the text.
pub fn validate(form: &CostForm, reference: &Reference) -> Report {
    let mut c = Check { findings: Vec::new() };
    let r = reference;

    let date_text = form.date.trim();
    let date = if date_text.is_empty() {
        c.add(Rule::DateMissing, &[]);
        None
    } else {
        match parse_date_checked(date_text) {
            Ok(d) => Some(d),
            Err(DateProblem::Invalid) => {
                c.add(Rule::DateInvalid, &[&quoted(date_text)]);
                None
            }
            Err(DateProblem::OutOfRange) => {
                c.add(Rule::DateOutOfRange, &[&date_text, &FIRST_DATE, &LAST_DATE]);
                None
            }
        }
    };
    if let Some(d) = date {
        if d > r.today {
            c.add(Rule::DateInFuture, &[&d]);
        }
        if r.closed_months.contains(&(d.year(), d.month())) {
            c.add(Rule::PeriodClosed, &[&format_args!("{}-{:02}", d.year(), d.month() as u8)]);
        }
    }

    let game = c.code(&r.games, form.game.trim(), Rule::GameUnknown, Rule::GameInactive);
    let channel = c.code(&r.channels, form.channel.trim(), Rule::ChannelUnknown, Rule::ChannelInactive);
    let country_text = form.country.trim().to_ascii_uppercase();
    let country = c.code(&r.countries, &country_text, Rule::CountryUnknown, Rule::CountryInactive).is_some();
    let vendor = c.code(&r.vendors, form.vendor.trim(), Rule::VendorUnknown, Rule::VendorInactive);

    let cost_type_text = form.cost_type.trim();
    let cost_type = match r.cost_types.get(cost_type_text) {
        None => {
            c.add(Rule::CostTypeUnknown, &[&quoted(cost_type_text)]);
            None
        }
        Some(t) if !t.active => {
            c.add(Rule::CostTypeInactive, &[&cost_type_text]);
            None
        }
        Some(t) => Some(t),
    };

    let campaign_text = form.campaign.trim();
    let campaign = match r.campaigns.get(campaign_text) {
        None => {
            c.add(Rule::CampaignUnknown, &[&quoted(campaign_text)]);
            None
        }
        Some(k) if !k.active => {
            c.add(Rule::CampaignInactive, &[&campaign_text]);
            None
        }
        Some(k) => Some(k),
    };
    if let Some(k) = campaign {
        if game.is_some_and(|g| g != k.game) || channel.is_some_and(|ch| ch != k.channel) {
            c.add(Rule::CampaignMismatch, &[&campaign_text, &format_args!("{} / {}", k.game, k.channel)]);
        }
        if let Some(d) = date {
            let grace = time::Duration::days(r.flight_grace_days);
            if d < k.flight_start - grace || d > k.flight_end + grace {
                c.add(Rule::OutsideFlight, &[&d, &format_args!("{} – {}", k.flight_start, k.flight_end)]);
            }
        }
    }

    let currency_text = form.currency.trim();
    let currency = match Currency::from_code(currency_text) {
        None => {
            c.add(Rule::CurrencyUnknown, &[&quoted(currency_text)]);
            None
        }
        Some(cur) if !r.currencies.get(&cur).is_some_and(|k| k.active) => {
            c.add(Rule::CurrencyInactive, &[&cur]);
            None
        }
        Some(cur) => Some(cur),
    };

    let amount = currency.and_then(|cur| match Money::parse(&form.amount, cur) {
        Ok(m) => Some(m),
        Err(e) => {
            let text = form.amount.trim();
            match e {
                AmountError::Empty => c.add(Rule::AmountMissing, &[]),
                AmountError::Malformed(_) => c.add(Rule::AmountMalformed, &[&quoted(text)]),
                AmountError::Grouping(_) => c.add(Rule::AmountGrouping, &[&text]),
                AmountError::TooPrecise { allowed, .. } => c.add(Rule::AmountPrecision, &[&cur, &allowed, &text]),
                AmountError::TooLarge(_) => c.add(Rule::AmountTooLarge, &[&text]),
            }
            None
        }
    });
    if let Some(m) = amount {
        match form.corrects {
            None if m.minor <= 0 => c.add(Rule::AmountNotPositive, &[]),
            Some(id) if !r.entries.contains(&id) => c.add(Rule::CorrectedEntryUnknown, &[&id]),
            _ => {}
        }
    }

    let units_text = form.units.trim();
    let units = if units_text.is_empty() {
        if cost_type.is_some_and(|t| t.unit_priced) {
            c.add(Rule::UnitsMissing, &[&cost_type_text]);
        }
        None
    } else {
        match units_text.replace(',', "").parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                c.add(Rule::UnitsInvalid, &[&quoted(units_text)]);
                None
            }
        }
    };

    // Text a spreadsheet would run (`=HYPERLINK(…)`, `+cmd|…`) never reaches the batch files.
    let memo = form.memo.trim_start_matches(' ');
    if crate::sheet::looks_like_formula(memo) {
        c.add(Rule::MemoFormula, &[&quoted(memo.chars().take(12).collect::<String>().trim())]);
    }
    let invoice = form.invoice_number.trim_start_matches(' ');
    if crate::sheet::looks_like_formula(invoice) {
        c.add(Rule::InvoiceFormula, &[&quoted(invoice.chars().take(12).collect::<String>().trim())]);
    }

    let reporting = match (amount, date) {
        (Some(m), Some(d)) => {
            match r.to_reporting(m.minor, m.currency, d) {
                None => {
                    c.add(Rule::NoFxRate, &[&m.currency, &r.reporting_currency, &r.fx_max_age_days, &d]);
                    None
                }
                // Within the bound in its own currency, but not once converted: totals stay exact.
                Some((rep, _)) if rep.unsigned_abs() > crate::money::MAX_MINOR.unsigned_abs() => {
                    c.add(
                        Rule::AmountTooLarge,
                        &[&format_args!("{} {}", format_amount(rep, r.reporting_currency), r.reporting_currency)],
                    );
                    None
                }
                converted => converted,
            }
        }
        _ => None,
    };

    // The plausible band speaks of costs; a credit (negative amount) is judged by what it corrects.
    if let (Some((rep @ 1.., _)), Some(n), Some((lo, hi))) =
        (reporting, units, cost_type.and_then(|t| t.per_mille_band))
    {
        let per_mille = i128::from(rep) * 1000 / i128::from(n);
        if per_mille < i128::from(lo) || per_mille > i128::from(hi) {
            let show = |v: i128| format_amount(i64::try_from(v).unwrap_or(i64::MAX), r.reporting_currency);
            c.add(
                Rule::UnitCostImplausible,
                &[
                    &format_args!("{} {} / 1,000", show(per_mille), r.reporting_currency),
                    &show(lo.into()),
                    &show(hi.into()),
                ],
            );
        }
    }

    if let (Some(d), Some(ch), Some(cur)) = (date, channel, currency)
        && country
        && cost_type.is_some()
        && campaign.is_some()
    {
        let key = natural_key(d, ch, campaign_text, &country_text, cost_type_text, cur);
        if let Some(&id) = r.natural_keys.get(&key).filter(|id| Some(**id) != form.editing) {
            c.add(Rule::DuplicateNaturalKey, &[&format_args!("#{id}")]);
        }
    }
    let invoice = form.invoice_number.trim();
    if let (Some(v), false) = (vendor, invoice.is_empty())
        && let Some(&id) = r.invoices.get(&invoice_key(v, invoice)).filter(|id| Some(**id) != form.editing)
    {
        c.add(Rule::DuplicateInvoice, &[&invoice, &format_args!("#{id}")]);
    }

    if let (Some((rep, _)), Some(d), Some(_)) = (reporting, date, campaign)
        && let Some(b) = r.budgets.get(campaign_text).and_then(|months| months.get(&(d.year(), d.month())))
        && b.spent.saturating_add(rep) > b.budget
    {
        let cur = r.reporting_currency;
        c.add(
            Rule::BudgetOverrun,
            &[
                &format_args!("{}-{:02}", d.year(), d.month() as u8),
                &Money::new(b.spent.saturating_add(rep), cur),
                &Money::new(b.budget, cur),
            ],
        );
    }

    let has_errors = c.findings.iter().any(|f| f.rule.severity() == Severity::Error);
    let entry = match (has_errors, date, game, channel, vendor, amount, reporting) {
        (false, Some(date), Some(game), Some(channel), Some(vendor), Some(amount), Some((reporting_minor, rate))) => {
            Some(CostEntry {
                date,
                game: game.to_owned(),
                channel: channel.to_owned(),
                campaign: campaign_text.to_owned(),
                country: country_text,
                vendor: vendor.to_owned(),
                cost_type: cost_type_text.to_owned(),
                amount,
                units,
                invoice_number: invoice.to_owned(),
                memo: form.memo.trim().to_owned(),
                vat_included: form.vat_included,
                corrects: form.corrects,
                reporting_minor,
                fx_micros: rate.map(|r| r.micros),
                fx_date: rate.map(|r| r.date),
            })
        }
        _ => None,
    };
    Report { findings: c.findings, entry }
}

#[cfg(test)]
mod tests;
