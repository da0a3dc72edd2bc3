//! Every text MCMS shows, including the cost rules' findings: one catalogue per language
//! ([`en`], [`ko`]), each a complete [`Texts`] value, so a missing translation is a compile error
//! rather than a blank on screen.
//!
//! A message with arguments is a function that names them where the language writes them, so
//! each language puts them in its own order (`close: |month| format!("Close {month}")`, `|month|
//! format!("{month} 마감")`). Several arguments come as a struct that each language destructures by
//! field name ([`RowProblem`]): a misspelt or missing argument does not compile, and neither does
//! one a language leaves out (both catalogues deny `unused_variables`). A test checks that every
//! key is used somewhere.

mod en;
mod ko;

use crate::error::AppError;
use domain::costs::{Finding, Rule};
use domain::{Lang, Role, Section};
use leptos::prelude::*;
use std::fmt::Display;

/// A message with one argument.
pub type Msg = fn(&dyn Display) -> String;

/// Arguments of a message that takes several, by name.
macro_rules! args {
    ($($(#[$doc:meta])* $name:ident { $($field:ident),+ })+) => {$(
        $(#[$doc])*
        pub struct $name<'a> { $(pub $field: &'a dyn Display),+ }
    )+};
}

args! {
    /// Upload progress, in megabytes.
    Sending { sent, total }
    /// One problem of a file's row.
    RowProblem { row, problem }
    /// The accessible name of a cell of the import grid.
    CellLabel { row, column }
    /// An import draft's row counts.
    ImportSummary { rows, errors, warnings }
    /// The PoC report's run counts.
    RunsShown { runs, failed }
    DateRange { date, first, last }
    CampaignMismatch { campaign, owner }
    OutsideFlight { date, flight }
    NoFxRate { from, to, days, date }
    UnitCost { unit_cost, min, max }
    DuplicateInvoice { invoice, existing }
    BudgetOverrun { currency, spend, budget }
}

/// A currency's decimals, a number: "takes no decimals" is said differently.
pub struct AmountPrecision<'a> {
    pub currency: &'a dyn Display,
    pub decimals: u32,
    pub got: &'a dyn Display,
}

/// The message of each cost rule ([`Rule`]).
pub struct RuleTexts {
    pub date_missing: &'static str,
    pub date_invalid: Msg,
    pub date_out_of_range: fn(&DateRange) -> String,
    pub date_in_future: Msg,
    pub period_closed: Msg,
    pub game_unknown: Msg,
    pub game_inactive: Msg,
    pub channel_unknown: Msg,
    pub channel_inactive: Msg,
    pub campaign_unknown: Msg,
    pub campaign_inactive: Msg,
    pub campaign_mismatch: fn(&CampaignMismatch) -> String,
    pub outside_flight: fn(&OutsideFlight) -> String,
    pub country_unknown: Msg,
    pub country_inactive: Msg,
    pub vendor_unknown: Msg,
    pub vendor_inactive: Msg,
    pub cost_type_unknown: Msg,
    pub cost_type_inactive: Msg,
    pub currency_unknown: Msg,
    pub currency_inactive: Msg,
    pub amount_missing: &'static str,
    pub amount_malformed: Msg,
    pub amount_grouping: Msg,
    pub amount_precision: fn(&AmountPrecision) -> String,
    pub amount_too_large: Msg,
    pub amount_not_positive: &'static str,
    pub corrected_entry_unknown: Msg,
    pub no_fx_rate: fn(&NoFxRate) -> String,
    pub units_missing: Msg,
    pub units_invalid: Msg,
    pub unit_cost_implausible: fn(&UnitCost) -> String,
    pub duplicate_natural_key: Msg,
    pub duplicate_invoice: fn(&DuplicateInvoice) -> String,
    pub memo_formula: Msg,
    pub invoice_formula: Msg,
    pub budget_overrun: fn(&BudgetOverrun) -> String,
}

impl RuleTexts {
    /// A finding in words. Its details are the rule's arguments in the order the rule records
    /// them (domain::costs); a new rule without a message here does not compile.
    pub fn finding(&self, f: &Finding) -> String {
        let d = |i: usize| f.details.get(i).map_or("", String::as_str);
        let (a, b, c) = (&d(0), &d(1), &d(2));
        match f.rule {
            Rule::DateMissing => self.date_missing.to_owned(),
            Rule::DateInvalid => (self.date_invalid)(a),
            Rule::DateOutOfRange => (self.date_out_of_range)(&DateRange { date: a, first: b, last: c }),
            Rule::DateInFuture => (self.date_in_future)(a),
            Rule::PeriodClosed => (self.period_closed)(a),
            Rule::GameUnknown => (self.game_unknown)(a),
            Rule::GameInactive => (self.game_inactive)(a),
            Rule::ChannelUnknown => (self.channel_unknown)(a),
            Rule::ChannelInactive => (self.channel_inactive)(a),
            Rule::CampaignUnknown => (self.campaign_unknown)(a),
            Rule::CampaignInactive => (self.campaign_inactive)(a),
            Rule::CampaignMismatch => (self.campaign_mismatch)(&CampaignMismatch { campaign: a, owner: b }),
            Rule::OutsideFlight => (self.outside_flight)(&OutsideFlight { date: a, flight: b }),
            Rule::CountryUnknown => (self.country_unknown)(a),
            Rule::CountryInactive => (self.country_inactive)(a),
            Rule::VendorUnknown => (self.vendor_unknown)(a),
            Rule::VendorInactive => (self.vendor_inactive)(a),
            Rule::CostTypeUnknown => (self.cost_type_unknown)(a),
            Rule::CostTypeInactive => (self.cost_type_inactive)(a),
            Rule::CurrencyUnknown => (self.currency_unknown)(a),
            Rule::CurrencyInactive => (self.currency_inactive)(a),
            Rule::AmountMissing => self.amount_missing.to_owned(),
            Rule::AmountMalformed => (self.amount_malformed)(a),
            Rule::AmountGrouping => (self.amount_grouping)(a),
            Rule::AmountPrecision => (self.amount_precision)(&AmountPrecision {
                currency: a,
                decimals: d(1).parse().unwrap_or_default(),
                got: c,
            }),
            Rule::AmountTooLarge => (self.amount_too_large)(a),
            Rule::AmountNotPositive => self.amount_not_positive.to_owned(),
            Rule::CorrectedEntryUnknown => (self.corrected_entry_unknown)(a),
            Rule::NoFxRate => (self.no_fx_rate)(&NoFxRate { from: a, to: b, days: c, date: &d(3) }),
            Rule::UnitsMissing => (self.units_missing)(a),
            Rule::UnitsInvalid => (self.units_invalid)(a),
            Rule::UnitCostImplausible => (self.unit_cost_implausible)(&UnitCost { unit_cost: a, min: b, max: c }),
            Rule::DuplicateNaturalKey => (self.duplicate_natural_key)(a),
            Rule::DuplicateInvoice => (self.duplicate_invoice)(&DuplicateInvoice { invoice: a, existing: b }),
            Rule::MemoFormula => (self.memo_formula)(a),
            Rule::InvoiceFormula => (self.invoice_formula)(a),
            Rule::BudgetOverrun => (self.budget_overrun)(&BudgetOverrun { currency: a, spend: b, budget: c }),
        }
    }
}

pub struct Texts {
    pub poc: &'static PocTexts,
    pub pipelines: &'static PipelineTexts,
    pub models: &'static ModelTexts,
    pub ingest: &'static IngestTexts,
    pub rules: &'static RuleTexts,
    pub partners: &'static PartnerTexts,
    pub dashboard: &'static DashboardTexts,
    pub app_name: &'static str,
    pub skip_to_content: &'static str,
    pub nav_label: &'static str,
    pub nav_home: &'static str,
    pub language: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: Msg,
    pub email: &'static str,
    pub password: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub status: &'static str,
    pub actions: &'static str,
    pub active: &'static str,
    pub inactive: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub session_ended: &'static str,
    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden_body: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub users_title: &'static str,
    pub users_intro: &'static str,
    pub create_user_title: &'static str,
    pub initial_password: &'static str,
    pub password_hint: &'static str,
    pub create_user_button: &'static str,
    pub user_created: &'static str,
    pub change_role: &'static str,
    pub role_for: Msg,
    pub deactivate: &'static str,
    pub reactivate: &'static str,
    pub deactivate_user: Msg,
    pub reactivate_user: Msg,
    pub you: &'static str,
    pub saved: &'static str,
    pub new_cost: &'static str,
    pub edit_cost: &'static str,
    pub cost_detail: &'static str,
    pub filters: &'static str,
    pub month: &'static str,
    pub game: &'static str,
    pub channel: &'static str,
    pub campaign: &'static str,
    pub country: &'static str,
    pub vendor: &'static str,
    pub cost_type: &'static str,
    pub any: &'static str,
    pub apply_filters: &'static str,
    pub clear_filters: &'static str,
    pub sort_by: &'static str,
    pub import_title: &'static str,
    pub import_intro: &'static str,
    pub import_upload: &'static str,
    pub import_file: &'static str,
    pub import_paste: &'static str,
    pub import_vendor: &'static str,
    pub import_hint: Msg,
    pub import_read: &'static str,
    pub import_batches: &'static str,
    pub import_no_batches: &'static str,
    pub import_batch_title: &'static str,
    pub import_batch: Msg,
    pub import_file_name: &'static str,
    pub import_rows: &'static str,
    pub import_summary: fn(&ImportSummary) -> String,
    pub import_rolled_back: &'static str,
    pub import_rollback: &'static str,
    pub import_mapping: &'static str,
    pub import_not_imported: &'static str,
    pub import_save_mapping: &'static str,
    pub import_apply_mapping: &'static str,
    pub import_show_problems: &'static str,
    pub import_show_all: &'static str,
    pub import_error_file: &'static str,
    pub import_problems: &'static str,
    pub import_save_row: &'static str,
    pub import_no_problem_rows: &'static str,
    pub import_commit: &'static str,
    pub import_ready: &'static str,
    pub import_not_ready: &'static str,
    pub import_accept_warnings: &'static str,
    pub import_storing: &'static str,
    pub import_checking: &'static str,
    pub import_sending: fn(&Sending) -> String,
    pub import_reading: &'static str,
    pub import_upload_failed: &'static str,
    pub import_discard: &'static str,
    pub previous_page: &'static str,
    pub rate_one: &'static str,
    pub rate_one_hint: &'static str,
    pub budget_changes: &'static str,
    pub no_budget_changes: &'static str,
    /// Newest, oldest, largest, smallest (the list's orders).
    pub orders: [&'static str; 4],
    pub date: &'static str,
    pub currency: &'static str,
    pub amount: &'static str,
    pub units: &'static str,
    pub invoice_number: &'static str,
    pub memo: &'static str,
    pub vat_included: &'static str,
    pub reporting_amount: &'static str,
    pub total: &'static str,
    pub entries_total: Msg,
    pub next_page: &'static str,
    pub no_costs: &'static str,
    pub save: &'static str,
    pub cancel: &'static str,
    pub acknowledge: &'static str,
    pub read_only: &'static str,
    pub stale_changed: Msg,
    pub units_hint: &'static str,
    pub amount_hint: &'static str,
    pub export_month: Msg,
    pub history: &'static str,
    pub delete_entry: &'static str,
    pub restore: &'static str,
    pub deleted_entry: &'static str,
    pub periods_title: &'static str,
    pub periods_intro: &'static str,
    pub closed: &'static str,
    pub open: &'static str,
    pub close: Msg,
    pub reopen: Msg,
    pub reopen_reason: &'static str,
    pub reopen_reason_for: Msg,
    pub nav_users: &'static str,
    pub nav_periods: &'static str,
    pub corrects: &'static str,
    pub corrects_hint: &'static str,
    pub budgets_title: &'static str,
    pub budgets_intro: &'static str,
    pub budget: &'static str,
    pub actual: &'static str,
    pub burn: &'static str,
    pub set_budget: &'static str,
    pub set_budget_for: Msg,
    pub over_budget: &'static str,
    pub on_track: &'static str,
    pub ahead_of_pace: &'static str,
    pub no_budget: &'static str,
    pub month_elapsed: Msg,
    pub rates_title: &'static str,
    pub rates_intro: &'static str,
    pub rates_import: &'static str,
    pub rates_csv: &'static str,
    pub rates_hint: &'static str,
    pub rates_loaded: &'static str,
    pub row_problem: fn(&RowProblem) -> String,
    pub cell_label: fn(&CellLabel) -> String,
    pub more_rows_with_problems: Msg,
    pub rate: &'static str,
    pub rate_in: Msg,
    pub source: &'static str,
    pub audit_title: &'static str,
    pub audit_intro: &'static str,
    pub audit_entity: &'static str,
    pub audit_actor: &'static str,
    pub audit_action: &'static str,
    pub audit_when: &'static str,
    pub audit_change: &'static str,
    pub audit_before: &'static str,
    pub audit_after: &'static str,
    pub audit_older: &'static str,
    pub nav_audit: &'static str,
    pub master_title: &'static str,
    pub master_intro: &'static str,
    pub code: &'static str,
    pub flight: &'static str,
    pub flight_start: &'static str,
    pub flight_end: &'static str,
    pub add_or_change: Msg,
    pub unit_priced: &'static str,
    pub plausible_band: &'static str,
    pub band_min: &'static str,
    pub band_max: &'static str,
    pub currencies_in_use: &'static str,
    /// Section (title, one-line description), in [`Section::ALL`] order.
    pub sections: [(&'static str, &'static str); 7],
    /// Role names, in [`Role::ALL`] order.
    pub roles: [&'static str; 4],
    /// Messages for error codes; unknown codes fall back to `error_generic`.
    pub errors: &'static [(&'static str, &'static str)],
    pub error_generic: &'static str,
}

/// The partner console's text.
pub struct DashboardTexts {
    pub spend_title: &'static str,
    pub no_budget: &'static str,
    pub of_budget: &'static str,
    pub no_spend: &'static str,
    pub game_channel: &'static str,
    pub spent: &'static str,
    pub budget: &'static str,
    pub attention: &'static str,
    pub nothing_waits: &'static str,
    pub over_budget: &'static str,
    pub import_waiting: &'static str,
    pub months: &'static str,
    pub closed: &'static str,
    pub open: &'static str,
}

pub struct PartnerTexts {
    pub p95_chart: &'static str,
    pub intro: &'static str,
    pub api_docs: &'static str,
    pub partners: &'static str,
    pub none: &'static str,
    pub contact: &'static str,
    pub add: &'static str,
    pub active: &'static str,
    pub suspended: &'static str,
    pub games_seen: &'static str,
    pub channels_own: &'static str,
    pub confirm_suspend: &'static str,
    pub stats_loaded: &'static str,
    pub stats_title: &'static str,
    pub stats_hint: &'static str,
    pub stats_file: &'static str,
    pub stats_load: &'static str,
    pub revoked: &'static str,
    pub keys: &'static str,
    pub usage: &'static str,
    pub allowlist: &'static str,
    pub allowlist_hint: &'static str,
    pub details: &'static str,
    pub new_key: &'static str,
    pub shown_once: &'static str,
    pub key: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub no_keys: &'static str,
    pub scopes: &'static str,
    pub expires: &'static str,
    pub last_used: &'static str,
    pub requests: &'static str,
    pub p95: &'static str,
    pub never: &'static str,
    pub rotate: &'static str,
    pub rotate_key: Msg,
    pub grace_hours: &'static str,
    pub confirm_rotate: &'static str,
    pub revoke: &'static str,
    pub revoke_key: Msg,
    pub save_key: Msg,
    pub confirm_revoke: &'static str,
    pub change: &'static str,
    pub confirm_change: &'static str,
    pub label: &'static str,
    pub expires_on: &'static str,
    pub rate: &'static str,
    pub quota: &'static str,
    pub issue: &'static str,
    pub needs_script: &'static str,
    pub usage_chart: &'static str,
    pub answered: &'static str,
    pub refused: &'static str,
    pub failed: &'static str,
    pub by_status: &'static str,
    pub scope_games: &'static str,
    pub scope_stats: &'static str,
    pub scope_models_write: &'static str,
    /// The fieldset of a key's `models:predict:NAME` scopes.
    pub predict_scopes: &'static str,
    pub every_model: &'static str,
    pub status_live: &'static str,
    pub status_grace: &'static str,
    pub status_expired: &'static str,
    pub status_replaced: &'static str,
    pub status_revoked: &'static str,
}

impl PartnerTexts {
    pub fn key_status(&self, s: crate::partners::KeyStatus) -> &'static str {
        use crate::partners::KeyStatus;
        match s {
            KeyStatus::Live => self.status_live,
            KeyStatus::Grace => self.status_grace,
            KeyStatus::Expired => self.status_expired,
            KeyStatus::Replaced => self.status_replaced,
            KeyStatus::Revoked => self.status_revoked,
        }
    }

    pub fn scope_text(&self, s: domain::keys::Scope) -> &'static str {
        match s {
            domain::keys::Scope::Games => self.scope_games,
            domain::keys::Scope::Stats => self.scope_stats,
            domain::keys::Scope::ModelsWrite => self.scope_models_write,
        }
    }
}

/// A sentence with five, seven or eight values in it (the ingestion lab's summaries).
pub type Say5 = fn(&dyn Display, &dyn Display, &dyn Display, &dyn Display, &dyn Display) -> String;
pub type Say7 =
    fn(&dyn Display, &dyn Display, &dyn Display, &dyn Display, &dyn Display, &dyn Display, &dyn Display) -> String;
pub type Say8 = fn(
    &dyn Display,
    &dyn Display,
    &dyn Display,
    &dyn Display,
    &dyn Display,
    &dyn Display,
    &dyn Display,
    &dyn Display,
) -> String;

/// The ingestion lab's texts.
pub struct IngestTexts {
    pub record_watch: &'static str,
    pub record_watch_hint: &'static str,
    pub recorded_watch: fn(&dyn Display) -> String,
    pub upload_title: &'static str,
    pub upload_files: &'static str,
    pub upload_hint: &'static str,
    pub upload_button: &'static str,
    pub intro: &'static str,
    pub watches_link: &'static str,
    pub survey_title: &'static str,
    pub location: &'static str,
    pub location_hint: &'static str,
    pub format: &'static str,
    pub format_auto: &'static str,
    pub delimiter: &'static str,
    pub delimiter_hint: &'static str,
    pub no_header: &'static str,
    pub table: &'static str,
    pub load_from: &'static str,
    pub load_from_hint: &'static str,
    pub on_error: &'static str,
    pub explicit_columns: &'static str,
    pub layout: &'static str,
    pub slices: &'static str,
    pub survey_button: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub rewritten: Say8,
    pub recorded: fn(&dyn Display) -> String,
    pub max_bytes: fn(&dyn Display) -> String,
    pub yes: &'static str,
    pub no: &'static str,
    pub problems: fn(&dyn Display) -> String,
    pub manifest: fn(&dyn Display) -> String,
    pub inferred: fn(&dyn Display, &dyn Display) -> String,
    pub columns: &'static str,
    pub column: &'static str,
    pub type_: &'static str,
    pub nullable: &'static str,
    pub range: &'static str,
    pub files: fn(&dyn Display, &dyn Display) -> String,
    pub files_caption: &'static str,
    pub file: &'static str,
    pub size: &'static str,
    pub compression: &'static str,
    pub rows_read: &'static str,
    pub sampled_hint: &'static str,
    pub statements_title: &'static str,
    pub rewrite_title: &'static str,
    pub rewrite_hint: fn(&dyn Display, &dyn Display, &dyn Display) -> String,
    pub folder: &'static str,
    pub folder_hint: &'static str,
    pub record: &'static str,
    pub rewrite_button: &'static str,
    pub splittable: &'static str,
    pub not_splittable: &'static str,
    pub parallel: fn(&dyn Display) -> String,
    pub points_caption: fn(&dyn Display, &dyn Display) -> String,
    pub file_mb: &'static str,
    pub mb_per_s: &'static str,
    pub plan_title: &'static str,
    pub plan_now: Say5,
    pub proposed: &'static str,
    pub layout_line: Say5,
    pub estimates: &'static str,
    pub no_estimates: &'static str,
    pub system: &'static str,
    pub seconds: &'static str,
    pub cost: &'static str,
    pub fit: &'static str,
    pub stopped: &'static str,
    pub failing: &'static str,
    pub running: &'static str,
    pub starting: &'static str,
    pub watches_title: &'static str,
    pub watches_intro: &'static str,
    pub no_watches: &'static str,
    pub name: &'static str,
    pub state: &'static str,
    pub target: &'static str,
    pub mode: &'static str,
    pub every: &'static str,
    pub new_watch: &'static str,
    pub target_kind: &'static str,
    pub target_hint: &'static str,
    pub keys: &'static str,
    pub keys_hint: &'static str,
    pub create_watch: &'static str,
    pub summary: Say7,
    pub loaded: &'static str,
    pub skipped: &'static str,
    pub etag: &'static str,
    pub watch_title: fn(&dyn Display) -> String,
    pub created: &'static str,
    pub poll_failed: &'static str,
    pub stop_asked: &'static str,
    pub start_asked: &'static str,
    pub stop: &'static str,
    pub start: &'static str,
    pub history_title: &'static str,
    pub no_loads: &'static str,
    pub outcome: &'static str,
    pub rows: &'static str,
    pub arrived: &'static str,
    pub queryable: &'static str,
    pub latency_ms: &'static str,
    pub load_ms: &'static str,
    pub latency_caption: &'static str,
    pub latency_x: &'static str,
}

/// The model pages' texts.
pub struct ModelTexts {
    pub intro: &'static str,
    pub none_yet: &'static str,
    pub name: &'static str,
    pub name_hint: &'static str,
    pub task: &'static str,
    pub production: &'static str,
    pub staging: &'static str,
    pub archived: &'static str,
    pub canary: &'static str,
    pub latest: &'static str,
    pub metrics: &'static str,
    pub versions: &'static str,
    pub version_col: &'static str,
    pub stage: &'static str,
    pub uploaded_by: &'static str,
    pub note: &'static str,
    pub actions: &'static str,
    pub training_data: &'static str,
    pub upload_title: &'static str,
    pub onnx_file: &'static str,
    pub signature_file: &'static str,
    pub signature_hint: &'static str,
    pub upload_button: &'static str,
    pub promote: &'static str,
    pub archive: &'static str,
    pub start_canary: &'static str,
    pub end_canary: &'static str,
    pub rollback: &'static str,
    pub percent: &'static str,
    pub reason: &'static str,
    pub changed: &'static str,
    pub try_title: &'static str,
    pub try_button: &'static str,
    pub scores_meaning: &'static str,
    pub monitoring: &'static str,
    pub no_requests: &'static str,
    pub today: &'static str,
    pub training: &'static str,
    pub sampling_title: &'static str,
    pub sampling_changed: &'static str,
    pub sampling_percent: &'static str,
    pub sampling_hint: &'static str,
    pub sampling_confirm: &'static str,
    pub sampling_button: &'static str,
    pub when: &'static str,
    pub instance: &'static str,
    pub prediction: &'static str,
    pub version: fn(&dyn Display) -> String,
    pub canary_at: fn(&dyn Display, &dyn Display) -> String,
    pub bytes: fn(&dyn Display) -> String,
    pub uploaded: fn(&dyn Display) -> String,
    pub confirm: fn(&str, &dyn Display) -> String,
    pub latency: fn(&dyn Display, &dyn Display, &dyn Display) -> String,
    pub drift_caption: fn(&dyn Display) -> String,
    pub sampling_now: fn(&dyn Display) -> String,
}

/// The pipeline pages' texts.
pub struct PipelineTexts {
    /// A pipeline problem in this language, from its code and values (`ProblemKind::args`); None:
    /// the engine's English message stands.
    pub problem: fn(&str, &[String]) -> Option<String>,
    pub at: fn(&dyn Display, &dyn Display) -> String,
    pub by: &'static str,
    pub bytes: &'static str,
    pub cancel_button: &'static str,
    pub cancel_sent: &'static str,
    pub cancel_asked: &'static str,
    pub check_button: &'static str,
    pub checking_sql: &'static str,
    pub cron: &'static str,
    pub cron_hint: &'static str,
    pub default_is: Msg,
    pub diff_title: Msg,
    pub done: &'static str,
    pub edit: &'static str,
    pub editing: Msg,
    pub editor_intro: &'static str,
    pub failed: &'static str,
    pub failed_at: Msg,
    pub file: &'static str,
    pub history: &'static str,
    pub intro: &'static str,
    pub kind: &'static str,
    pub last_run: &'static str,
    pub lineage: &'static str,
    pub lineage_of: Msg,
    pub lines: Msg,
    pub name: &'static str,
    pub name_hint: &'static str,
    pub never_run: &'static str,
    pub new_pipeline: &'static str,
    pub next_run: &'static str,
    pub not_scheduled: &'static str,
    pub note: &'static str,
    pub note_hint: &'static str,
    pub outcome: &'static str,
    pub problems_found: Msg,
    pub progress: &'static str,
    pub retries: &'static str,
    pub rows_in: &'static str,
    pub rows_out: &'static str,
    pub rows_so_far: &'static str,
    pub run: &'static str,
    pub run_button: &'static str,
    pub run_number: Msg,
    pub run_title: &'static str,
    pub running: &'static str,
    pub running_note: &'static str,
    /// The instance running a run has not been heard from since the time given.
    pub quiet_since: Msg,
    pub save_button: &'static str,
    pub saved: &'static str,
    pub schedule: &'static str,
    pub schedule_button: &'static str,
    pub schedule_saved: &'static str,
    pub sound: &'static str,
    pub sound_with_sql: &'static str,
    pub started: &'static str,
    pub state: &'static str,
    pub step: &'static str,
    pub steps: &'static str,
    pub succeeded: &'static str,
    pub time: &'static str,
    pub unschedule_button: &'static str,
    pub version: &'static str,
    pub version_by: Msg,
    pub versions: &'static str,
    pub whole_file: &'static str,
    pub wrote: &'static str,
}

/// The PoC report's text.
pub struct PocTexts {
    pub recent: &'static str,
    pub run_on: &'static str,
    pub run_by: &'static str,
    pub notes: &'static str,
    pub correct: &'static str,
    pub save_run: &'static str,
    pub withdraw: &'static str,
    pub confirm_withdraw: &'static str,
    pub decide: &'static str,
    pub failed_count: &'static str,
    pub retried: &'static str,
    pub failures: &'static str,
    pub run_date: &'static str,
    pub error: &'static str,
    pub runs_shown: fn(&RunsShown) -> String,
    pub decision: &'static str,
    pub filters: &'static str,
    pub format: &'static str,
    pub compression: &'static str,
    pub file_size: &'static str,
    pub any: &'static str,
    pub apply: &'static str,
    pub clear: &'static str,
    pub export_csv: &'static str,
    pub summary: &'static str,
    pub summary_hint: &'static str,
    pub summary_caption: &'static str,
    pub verdicts: &'static str,
    pub scenario: &'static str,
    pub best: &'static str,
    pub method: &'static str,
    pub comparison: &'static str,
    pub comparison_hint: &'static str,
    pub files: &'static str,
    pub failed: &'static str,
    pub no_run: &'static str,
    pub per_scenario: &'static str,
    pub seconds: &'static str,
    pub trade_offs: &'static str,
    pub size_vs_throughput: &'static str,
    pub cost_vs_time: &'static str,
    pub file_size_axis: &'static str,
    pub throughput_axis: &'static str,
    pub seconds_axis: &'static str,
    pub cost_axis: &'static str,
    pub systems: &'static str,
    pub system: &'static str,
    pub edition: &'static str,
    pub region: &'static str,
    pub configuration: &'static str,
    pub record: &'static str,
    pub record_hint: &'static str,
    pub record_file: &'static str,
    pub record_button: &'static str,
    pub tokens: &'static str,
    pub tokens_hint: &'static str,
    pub token_label: &'static str,
    pub token_expires_on: &'static str,
    pub token_issue: &'static str,
    pub token_new: &'static str,
    pub token_shown_once: &'static str,
    pub token_needs_script: &'static str,
    pub token_prefix: &'static str,
    pub token_issued_by: &'static str,
    pub token_status: &'static str,
    pub token_works: &'static str,
    pub token_revoked: &'static str,
    pub token_expired: &'static str,
    pub token_issuer_inactive: &'static str,
    pub token_revoke: &'static str,
    pub token_revoke_confirm: &'static str,
    pub token_never: &'static str,
    pub recorded: &'static str,
    pub status_planned: &'static str,
    pub status_running: &'static str,
    pub status_decided: &'static str,
    pub kind_batch_load: &'static str,
    pub kind_near_real_time: &'static str,
    pub kind_data_sharing: &'static str,
    pub kind_connector: &'static str,
}

impl PocTexts {
    pub fn status(&self, status: &str) -> &'static str {
        match status {
            "planned" => self.status_planned,
            "decided" => self.status_decided,
            _ => self.status_running,
        }
    }

    pub fn kind(&self, kind: &str) -> &'static str {
        match kind {
            "near_real_time" => self.kind_near_real_time,
            "data_sharing" => self.kind_data_sharing,
            "connector" => self.kind_connector,
            _ => self.kind_batch_load,
        }
    }
}

impl Texts {
    pub fn for_lang(lang: Lang) -> &'static Texts {
        match lang {
            Lang::En => &en::TEXTS,
            Lang::Ko => &ko::TEXTS,
        }
    }

    pub fn section(&self, s: Section) -> (&'static str, &'static str) {
        let i = Section::ALL.iter().position(|x| *x == s).unwrap_or_default();
        self.sections[i]
    }

    pub fn role(&self, r: Role) -> &'static str {
        self.roles[Role::ALL.iter().position(|x| *x == r).unwrap_or_default()]
    }

    pub fn error_code(&self, code: &str) -> &'static str {
        self.errors.iter().find(|(c, _)| *c == code).map_or(self.error_generic, |(_, m)| m)
    }

    pub fn error(&self, err: &AppError) -> &'static str {
        self.error_code(&err.code())
    }

    /// A code's message with its detail, if it has one: "unknown currency (WON)".
    pub fn problem(&self, code: &str, detail: &str) -> String {
        let message = self.error_code(code);
        if detail.is_empty() { message.to_owned() } else { format!("{message} ({detail})") }
    }

    /// A cost rule's finding in words.
    pub fn finding(&self, f: &Finding) -> String {
        self.rules.finding(f)
    }
}

/// The language of this page, provided once by the app root.
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

pub fn use_texts() -> &'static Texts {
    Texts::for_lang(use_lang())
}

/// The name of the cookie that remembers the user's language choice.
pub const LANG_COOKIE: &str = "mcms_lang";

/// The language for this request: the user's choice (cookie) if any, else the browser's
/// `Accept-Language`. In the browser, the language the server rendered the page in.
pub fn page_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().map_or(Lang::En, |parts| lang_of_request(&parts.headers))
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|el| el.get_attribute("lang"))
            .and_then(|tag| Lang::from_tag(&tag))
            .unwrap_or_default()
    }
}

#[cfg(feature = "ssr")]
pub fn lang_of_request(headers: &http::HeaderMap) -> Lang {
    let from_cookie = crate::auth::guard::request_cookies(headers)
        .find(|c| c.name() == LANG_COOKIE)
        .and_then(|c| Lang::from_tag(c.value()));
    from_cookie.unwrap_or_else(|| {
        headers.get(http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map_or(Lang::En, Lang::negotiate)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the server can answer with, including the domain's validation codes.
    const CODES: &[&str] = &[
        "auth.required",
        "auth.forbidden",
        "auth.bad_credentials",
        "auth.throttled",
        "not_found",
        "bad_request",
        "internal",
        "refused",
        "changed_elsewhere",
        "watch.name",
        "watch.location",
        "watch.target",
        "watch.table",
        "watch.format",
        "watch.keys",
        "watch.mode",
        "watch.every",
        "watch.duplicate",
        "ingest.delimiter",
        "ingest.slices",
        "ingest.folder",
        "ingest.no_poc",
        "ingest.nothing_loaded",
        "model.confirm",
        "model.reason_long",
        "model.version_required",
        "user.duplicate_email",
        "user.last_admin",
        "user.self_change",
        "role.unknown",
        "email.empty",
        "email.too_long",
        "email.malformed",
        "name.empty",
        "name.too_long",
        "name.control",
        "password.too_short",
        "password.too_long",
        "lang.unknown",
        "cost.rules",
        "cost.stale",
        "cost.duplicate",
        "period.closed",
        "period.already_closed",
        "reason.required",
        "month.invalid",
        "cursor.invalid",
        "order.invalid",
        "format.unknown",
        "budget.negative",
        "campaign.unknown",
        "amount.empty",
        "amount.malformed",
        "amount.grouping",
        "amount.precision",
        "amount.too_large",
        "file.rows",
        "fx.columns",
        "fx.empty",
        "fx.currency_unknown",
        "fx.currency_reporting",
        "fx.date_invalid",
        "fx.rate_invalid",
        "fx.rate_precision",
        "fx.rate_not_positive",
        "fx.source_missing",
        "fx.duplicate",
        "import.mapping_unknown",
        "import.mapping_twice",
        "vendor.unknown",
        "import.too_large",
        "import.too_many_rows",
        "import.too_wide",
        "import.row_changed",
        "import.unpacked_too_large",
        "import.empty",
        "import.unreadable",
        "import.encoding",
        "import.ragged",
        "import.formula",
        "import.excel_serial",
        "import.date_ambiguous",
        "import.symbol_mismatch",
        "import.amount_ambiguous",
        "import.vat",
        "import.corrects",
        "import.duplicate_in_file",
        "import.already_imported",
        "import.missing_columns",
        "import.has_errors",
        "import.warnings_unaccepted",
        "code.invalid",
        "code.country",
        "game.unknown",
        "channel.unknown",
        "date.invalid",
        "date.range",
        "flight.reversed",
        "band.invalid",
        "currency.unknown",
        "currency.reporting",
        "partner.name",
        "partner.contact",
        "partner.duplicate",
        "partner.unknown_code",
        "partner.confirm_suspend",
        "key.label",
        "key.scope_unknown",
        "key.scopes_empty",
        "key.expiry_invalid",
        "key.expiry_past",
        "key.rate_invalid",
        "key.quota_invalid",
        "key.grace_invalid",
        "key.confirm",
        "allowlist.invalid",
        "allowlist.host_bits",
        "stats.columns",
        "stats.empty",
        "stats.game_unknown",
        "stats.channel_unknown",
        "stats.day_invalid",
        "stats.count_invalid",
        "stats.counts_inconsistent",
        "stats.revenue_invalid",
        "stats.currency_unknown",
        "stats.duplicate",
        "poc.columns",
        "poc.empty",
        "poc.system_missing",
        "poc.scenario_missing",
        "poc.system_unknown",
        "poc.scenario_unknown",
        "poc.format_unknown",
        "poc.compression_unknown",
        "poc.count_invalid",
        "poc.measure_invalid",
        "poc.cost_invalid",
        "poc.outcome_missing",
        "poc.outcome_both",
        "poc.latency_order",
        "poc.date_invalid",
        "poc.run_by_missing",
        "poc.status_unknown",
        "poc.decision_missing",
        "poc.decision_long",
        "poc.token_label",
        "pipeline.problems",
        "pipeline.name",
        "pipeline.note_long",
        "pipeline.name_taken",
        "pipeline.changed",
        "pipeline.not_running",
        "pipeline.cron",
        "pipeline.retries",
        "secret.needs_script",
    ];

    #[test]
    fn both_catalogues_translate_every_error_code() {
        for lang in Lang::ALL {
            let t = Texts::for_lang(lang);
            for code in CODES {
                assert_ne!(t.error_code(code), t.error_generic, "{lang:?} lacks a message for {code}");
            }
            assert_eq!(t.errors.len(), CODES.len(), "{lang:?} has messages for codes nobody sends");
        }
    }

    /// Every kind of pipeline problem has its Korean sentence, naming the same values.
    #[test]
    fn every_pipeline_problem_speaks_korean_with_its_values() {
        use domain::pipeline::ProblemKind as K;
        let v = |s: &str| s.to_owned();
        let kinds = [
            K::Syntax(v("v0")),
            K::TooLarge,
            K::Version(7),
            K::NoSteps,
            K::StepName(v("v0")),
            K::DuplicateStep(v("v0")),
            K::NoKind(v("v0")),
            K::SeveralKinds(v("v0")),
            K::UnknownStep(v("v0")),
            K::ReadsSink(v("v0")),
            K::Cycle(v("v0")),
            K::UnknownConnection(v("v0")),
            K::WrongConnection { name: v("v0"), kind: "v1", needs: "v2" },
            K::QueryOrTable,
            K::TableName(v("v0")),
            K::NeedsKeys("v0", "v1"),
            K::Step { step: v("v0"), reason: v("v1") },
            K::UnknownParam(v("v0")),
            K::MissingParam(v("v0")),
            K::BadParam { name: v("v0"), value: v("v1"), kind: "v2" },
        ];
        let ko = Texts::for_lang(Lang::Ko).pipelines;
        for kind in kinds {
            let text =
                (ko.problem)(kind.code(), &kind.args()).unwrap_or_else(|| panic!("{} has no Korean", kind.code()));
            for arg in kind.args() {
                assert!(text.contains(&arg), "{}: {text} names {arg}", kind.code());
            }
            assert!(kind.to_string().chars().all(|c| c.is_ascii() || c == '…'), "English stays English");
            assert!(text.chars().any(|c| ('가'..='힣').contains(&c)), "{text}");
        }
        assert_eq!((Texts::for_lang(Lang::En).pipelines.problem)("pipeline.cycle", &[]), None);
    }

    #[test]
    fn catalogues_differ_where_they_should() {
        assert_ne!(en::TEXTS.sign_in, ko::TEXTS.sign_in);
        assert_eq!(Texts::for_lang(Lang::Ko).role(Role::Admin), "관리자");
        assert_eq!(Texts::for_lang(Lang::En).section(Section::PocReports).0, "PoC reports");
    }

    #[test]
    fn every_rule_speaks_both_languages_with_the_same_values() {
        let details = ["v0", "v1", "v2", "v3"];
        for &rule in Rule::ALL {
            let f = Finding { rule, details: details.iter().map(|d| d.to_string()).collect() };
            let (en, ko) = (Texts::for_lang(Lang::En).finding(&f), Texts::for_lang(Lang::Ko).finding(&f));
            assert_ne!(en, ko, "{rule:?} has a Korean message of its own");
            let named = |text: &str| details.iter().filter(|d| text.contains(*d)).collect::<Vec<_>>();
            assert_eq!(named(&en), named(&ko), "{rule:?} names the same values in both: {en} / {ko}");
        }
    }

    #[test]
    fn arguments_go_where_each_language_puts_them() {
        let f = |rule, details: &[&str]| Finding { rule, details: details.iter().map(|d| d.to_string()).collect() };
        let (en, ko) = (Texts::for_lang(Lang::En), Texts::for_lang(Lang::Ko));
        assert_eq!(
            en.finding(&f(Rule::AmountPrecision, &["KRW", "0", "1200.5"])),
            "KRW takes no decimals, got 1200.5."
        );
        assert_eq!(en.finding(&f(Rule::AmountPrecision, &["USD", "2", "1.234"])), "USD takes 2 decimals, got 1.234.");
        assert_eq!(
            ko.finding(&f(Rule::NoFxRate, &["USD", "KRW", "7", "2026-11-02"])),
            "2026-11-02 기준 7일 이내의 USD→KRW 환율이 없습니다."
        );
        assert_eq!((en.close)(&"2026-10"), "Close 2026-10");
        assert_eq!((ko.close)(&"2026-10"), "2026-10 마감");
        assert_eq!((ko.row_problem)(&RowProblem { row: &3, problem: &"통화" }), "3행: 통화");
        assert_eq!((en.row_problem)(&RowProblem { row: &3, problem: &"currency" }), "Row 3: currency");
    }

    /// Every key of the catalogues is read somewhere outside them (a rename or a removed screen
    /// leaves no text behind).
    #[test]
    fn no_key_is_dead() {
        let catalogue = include_str!("mod.rs");
        let mut keys = Vec::new();
        let mut inside = false;
        for line in catalogue.lines() {
            if line.starts_with("pub struct ") && line.contains("Texts") {
                inside = true;
            } else if line == "}" {
                inside = false;
            } else if let Some((key, _)) = line.trim().strip_prefix("pub ").and_then(|l| l.split_once(':'))
                && inside
            {
                keys.push(key);
            }
        }
        assert!(keys.len() > 300, "read the keys of the catalogue: {}", keys.len());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = String::new();
        for dir in [root.join("src"), root.join("../server/src")] {
            read_sources(&dir, &mut sources);
        }
        // The declarations themselves do not count as uses.
        let uses: String =
            sources.lines().filter(|l| !l.trim_start().starts_with("pub ")).collect::<Vec<_>>().join("\n");
        let used = |key: &str| {
            uses.match_indices(&format!(".{key}"))
                .any(|(i, m)| !uses[i + m.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        };
        let dead: Vec<_> = keys.into_iter().filter(|k| !used(k)).collect();
        assert!(dead.is_empty(), "keys nobody reads: {dead:?}");
    }

    fn read_sources(dir: &std::path::Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                read_sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("i18n/en.rs")
                && !path.ends_with("i18n/ko.rs")
            {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
                out.push('\n');
            }
        }
    }

    #[test]
    fn the_cookie_choice_beats_the_browser_header() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9".parse().unwrap());
        assert_eq!(lang_of_request(&h), Lang::Ko);
        h.insert(http::header::COOKIE, "a=b; mcms_lang=en; c=d".parse().unwrap());
        assert_eq!(lang_of_request(&h), Lang::En);
        h.insert(http::header::COOKIE, "mcms_lang=xx".parse().unwrap());
        assert_eq!(lang_of_request(&h), Lang::Ko, "an unknown choice is ignored");
    }
}
