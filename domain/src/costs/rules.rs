//! The rule catalogue: every check the cost engine makes, with its stable code, severity and the
//! field it concerns. A finding carries the rule and its details (the values the message names);
//! the words are in the UI's message catalogue (app::i18n), one per language.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks saving.
    Error,
    /// Saving needs an explicit acknowledgement of this code.
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Date,
    Game,
    Channel,
    Campaign,
    Country,
    Vendor,
    CostType,
    Currency,
    Amount,
    Units,
    InvoiceNumber,
    Memo,
    Corrects,
}

macro_rules! rules {
    ($($variant:ident => $code:literal, $severity:ident, $field:ident;)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Rule { $($variant),+ }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),+];

            /// Stable across releases: imports, logs and the warehouse refer to it.
            pub fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code),+ }
            }

            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity),+ }
            }

            pub fn field(self) -> Field {
                match self { $(Rule::$variant => Field::$field),+ }
            }

            pub fn from_code(code: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.code() == code)
            }
        }
    };
}

rules! {
    DateMissing => "date.missing", Error, Date;
    DateInvalid => "date.invalid", Error, Date;
    DateOutOfRange => "date.range", Error, Date;
    DateInFuture => "date.future", Error, Date;
    PeriodClosed => "period.closed", Error, Date;
    GameUnknown => "game.unknown", Error, Game;
    GameInactive => "game.inactive", Error, Game;
    ChannelUnknown => "channel.unknown", Error, Channel;
    ChannelInactive => "channel.inactive", Error, Channel;
    CampaignUnknown => "campaign.unknown", Error, Campaign;
    CampaignInactive => "campaign.inactive", Error, Campaign;
    CampaignMismatch => "campaign.mismatch", Error, Campaign;
    OutsideFlight => "campaign.flight", Error, Date;
    CountryUnknown => "country.unknown", Error, Country;
    CountryInactive => "country.inactive", Error, Country;
    VendorUnknown => "vendor.unknown", Error, Vendor;
    VendorInactive => "vendor.inactive", Error, Vendor;
    CostTypeUnknown => "cost_type.unknown", Error, CostType;
    CostTypeInactive => "cost_type.inactive", Error, CostType;
    CurrencyUnknown => "currency.unknown", Error, Currency;
    CurrencyInactive => "currency.inactive", Error, Currency;
    AmountMissing => "amount.empty", Error, Amount;
    AmountMalformed => "amount.malformed", Error, Amount;
    AmountGrouping => "amount.grouping", Error, Amount;
    AmountPrecision => "amount.precision", Error, Amount;
    AmountTooLarge => "amount.too_large", Error, Amount;
    AmountNotPositive => "amount.not_positive", Error, Amount;
    CorrectedEntryUnknown => "corrects.unknown", Error, Corrects;
    NoFxRate => "fx.missing", Error, Currency;
    UnitsMissing => "units.missing", Error, Units;
    UnitsInvalid => "units.invalid", Error, Units;
    UnitCostImplausible => "unit_cost.implausible", Warning, Amount;
    DuplicateNaturalKey => "duplicate.natural_key", Error, Date;
    DuplicateInvoice => "duplicate.invoice", Error, InvoiceNumber;
    MemoFormula => "memo.formula", Error, Memo;
    InvoiceFormula => "invoice.formula", Error, InvoiceNumber;
    BudgetOverrun => "budget.overrun", Warning, Campaign;
}
