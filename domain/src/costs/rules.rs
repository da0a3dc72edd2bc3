//! The rule catalogue: every check the cost engine makes, with its stable code, severity, the
//! field it concerns and its message in English and Korean. `{0}`, `{1}` stand for the details a
//! finding carries.

use crate::Lang;
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
    ($($variant:ident => $code:literal, $severity:ident, $field:ident, $en:literal, $ko:literal;)+) => {
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

            /// The message template in `lang`; `{0}`, `{1}` are filled from the finding's details.
            pub fn template(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Rule::$variant, Lang::En) => $en, (Rule::$variant, Lang::Ko) => $ko,)+
                }
            }

            pub fn from_code(code: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.code() == code)
            }
        }
    };
}

rules! {
    DateMissing => "date.missing", Error, Date,
        "Enter the date of the cost (YYYY-MM-DD).", "비용 발생일을 입력하세요 (YYYY-MM-DD).";
    DateInvalid => "date.invalid", Error, Date,
        "{0} is not a date; write it as YYYY-MM-DD.", "{0}은(는) 날짜가 아닙니다. YYYY-MM-DD 형식으로 쓰세요.";
    DateOutOfRange => "date.range", Error, Date,
        "{0} is outside the dates MCMS keeps ({1} to {2}); check the year.",
        "{0}은(는) MCMS가 다루는 기간({1} ~ {2}) 밖입니다. 연도를 확인하세요.";
    DateInFuture => "date.future", Error, Date,
        "{0} is in the future; costs are entered once incurred.", "{0}은(는) 미래 날짜입니다. 비용은 발생한 뒤에 입력합니다.";
    PeriodClosed => "period.closed", Error, Date,
        "{0} is closed; ask an administrator to reopen it.", "{0}은(는) 마감되었습니다. 관리자에게 재오픈을 요청하세요.";
    GameUnknown => "game.unknown", Error, Game,
        "Unknown game {0}.", "알 수 없는 게임입니다: {0}.";
    GameInactive => "game.inactive", Error, Game,
        "Game {0} is no longer active.", "게임 {0}은(는) 더 이상 활성 상태가 아닙니다.";
    ChannelUnknown => "channel.unknown", Error, Channel,
        "Unknown channel {0}.", "알 수 없는 채널입니다: {0}.";
    ChannelInactive => "channel.inactive", Error, Channel,
        "Channel {0} is no longer active.", "채널 {0}은(는) 더 이상 활성 상태가 아닙니다.";
    CampaignUnknown => "campaign.unknown", Error, Campaign,
        "Unknown campaign {0}.", "알 수 없는 캠페인입니다: {0}.";
    CampaignInactive => "campaign.inactive", Error, Campaign,
        "Campaign {0} is no longer active.", "캠페인 {0}은(는) 더 이상 활성 상태가 아닙니다.";
    CampaignMismatch => "campaign.mismatch", Error, Campaign,
        "Campaign {0} belongs to {1}, not to this entry's game and channel.",
        "캠페인 {0}은(는) {1}에 속하며, 이 항목의 게임·채널과 다릅니다.";
    OutsideFlight => "campaign.flight", Error, Date,
        "{0} is outside the campaign's flight ({1}).", "{0}은(는) 캠페인 집행 기간({1}) 밖입니다.";
    CountryUnknown => "country.unknown", Error, Country,
        "Unknown country {0} (use ISO 3166-1 alpha-2, e.g. KR).", "알 수 없는 국가입니다: {0} (ISO 3166-1 두 글자, 예: KR).";
    CountryInactive => "country.inactive", Error, Country,
        "Country {0} is not in use.", "국가 {0}은(는) 사용하지 않습니다.";
    VendorUnknown => "vendor.unknown", Error, Vendor,
        "Unknown vendor {0}.", "알 수 없는 거래처입니다: {0}.";
    VendorInactive => "vendor.inactive", Error, Vendor,
        "Vendor {0} is no longer active.", "거래처 {0}은(는) 더 이상 활성 상태가 아닙니다.";
    CostTypeUnknown => "cost_type.unknown", Error, CostType,
        "Unknown cost type {0}.", "알 수 없는 비용 유형입니다: {0}.";
    CostTypeInactive => "cost_type.inactive", Error, CostType,
        "Cost type {0} is no longer active.", "비용 유형 {0}은(는) 더 이상 활성 상태가 아닙니다.";
    CurrencyUnknown => "currency.unknown", Error, Currency,
        "Unknown currency {0} (use an ISO 4217 code, e.g. KRW).", "알 수 없는 통화입니다: {0} (ISO 4217 코드, 예: KRW).";
    CurrencyInactive => "currency.inactive", Error, Currency,
        "Currency {0} is not in use.", "통화 {0}은(는) 사용하지 않습니다.";
    AmountMissing => "amount.empty", Error, Amount,
        "Enter the amount.", "금액을 입력하세요.";
    AmountMalformed => "amount.malformed", Error, Amount,
        "{0} is not a number.", "{0}은(는) 숫자가 아닙니다.";
    AmountGrouping => "amount.grouping", Error, Amount,
        "{0}: thousands separators must split digits in groups of three.", "{0}: 천 단위 구분 기호는 세 자리마다 넣어야 합니다.";
    AmountPrecision => "amount.precision", Error, Amount,
        "{0} takes {1} decimals, got {2}.", "{0}은(는) 소수점 {1}자리까지 쓸 수 있는데 {2}을(를) 입력했습니다.";
    AmountTooLarge => "amount.too_large", Error, Amount,
        "{0} is too large.", "{0}은(는) 너무 큽니다.";
    AmountNotPositive => "amount.not_positive", Error, Amount,
        "The amount must be above zero; a credit or adjustment must name the entry it corrects.",
        "금액은 0보다 커야 합니다. 크레딧·조정 항목은 정정 대상 항목을 지정해야 합니다.";
    CorrectedEntryUnknown => "corrects.unknown", Error, Corrects,
        "Entry {0}, which this one corrects, does not exist.", "정정 대상 항목 {0}이(가) 없습니다.";
    NoFxRate => "fx.missing", Error, Currency,
        "No {0}→{1} exchange rate on or up to {2} days before {3}.", "{3} 기준 {2}일 이내의 {0}→{1} 환율이 없습니다.";
    UnitsMissing => "units.missing", Error, Units,
        "{0} costs need the number of units (installs, clicks or impressions).", "{0} 비용에는 단위 수(설치·클릭·노출)가 필요합니다.";
    UnitsInvalid => "units.invalid", Error, Units,
        "{0} is not a whole number of units above zero.", "{0}은(는) 0보다 큰 정수 단위 수가 아닙니다.";
    UnitCostImplausible => "unit_cost.implausible", Warning, Amount,
        "The implied unit cost {0} is outside the usual range {1}–{2}.", "계산된 단가 {0}이(가) 일반 범위 {1}–{2}를 벗어납니다.";
    DuplicateNaturalKey => "duplicate.natural_key", Error, Date,
        "An entry for this date, channel, campaign, country, cost type and currency already exists ({0}).",
        "같은 날짜·채널·캠페인·국가·비용 유형·통화의 항목이 이미 있습니다 ({0}).";
    DuplicateInvoice => "duplicate.invoice", Error, InvoiceNumber,
        "Invoice {0} from this vendor is already entered ({1}).", "이 거래처의 송장 {0}이(가) 이미 입력되어 있습니다 ({1}).";
    MemoFormula => "memo.formula", Error, Memo,
        "The memo starts like a spreadsheet formula ({0}); begin it with a letter or a digit.",
        "메모가 스프레드시트 수식처럼 시작합니다 ({0}). 글자나 숫자로 시작하세요.";
    InvoiceFormula => "invoice.formula", Error, InvoiceNumber,
        "The invoice number starts like a spreadsheet formula ({0}); begin it with a letter or a digit.",
        "송장 번호가 스프레드시트 수식처럼 시작합니다 ({0}). 글자나 숫자로 시작하세요.";
    BudgetOverrun => "budget.overrun", Warning, Campaign,
        "This entry takes the campaign's {0} spend to {1}, over its budget of {2}.",
        "이 항목으로 캠페인의 {0} 지출이 {1}이(가) 되어 예산 {2}을(를) 넘습니다.";
}

impl Rule {
    /// The message in `lang` with `details` in place of `{0}`, `{1}`, ….
    pub fn message(self, lang: Lang, details: &[String]) -> String {
        let template = match (self, details.get(1).map(String::as_str), lang) {
            // "KRW takes no decimals, got 1200.5." reads better than "takes 0 decimals".
            (Rule::AmountPrecision, Some("0"), Lang::En) => "{0} takes no decimals, got {2}.",
            (Rule::AmountPrecision, Some("0"), Lang::Ko) => "{0}은(는) 소수점을 쓸 수 없는데 {2}을(를) 입력했습니다.",
            _ => self.template(lang),
        };
        let mut text = template.to_owned();
        for (i, d) in details.iter().enumerate() {
            text = text.replace(&format!("{{{i}}}"), d);
        }
        text
    }
}
