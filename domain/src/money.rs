//! Exact money: an integer count of minor units with its currency. Never a float.
//!
//! Amounts are read as people type them (`1,234.56`, `-80`, `+12.5`) and written with the
//! currency's own number of decimals and thousands grouping.

use crate::currency::Currency;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount, in minor units, that MCMS reads: ten trillion (10,000,000,000,000 KRW, or
/// 100,000,000,000.00 USD). Far above any real cost line, and far enough below `i64::MAX` that
/// converting to the reporting currency and summing a month of entries stays exact on both
/// databases instead of overflowing differently on each.
pub const MAX_MINOR: i64 = 10_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount in minor units (cents for USD, won for KRW).
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("enter an amount")]
    Empty,
    #[error("{0:?} is not a number (digits, an optional sign, thousands commas and a decimal point)")]
    Malformed(String),
    #[error("thousands separators must split the digits in groups of three, got {0:?}")]
    Grouping(String),
    #[error("{currency} takes {} decimals, got {text}", if *allowed == 0 { "no".to_string() } else { allowed.to_string() })]
    TooPrecise { currency: Currency, allowed: u8, text: String },
    #[error("{0:?} is too large")]
    TooLarge(String),
}

impl AmountError {
    pub fn code(&self) -> &'static str {
        match self {
            AmountError::Empty => "amount.empty",
            AmountError::Malformed(_) => "amount.malformed",
            AmountError::Grouping(_) => "amount.grouping",
            AmountError::TooPrecise { .. } => "amount.precision",
            AmountError::TooLarge(_) => "amount.too_large",
        }
    }
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Reads `text` as an amount of `currency`. Decimals beyond the currency's minor units are
    /// refused unless they are zeros (`1200.00` KRW is 1200 won; `1200.5` KRW is an error).
    pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
        parse_minor(text, currency).map(|minor| Money { minor, currency })
    }
}

fn parse_minor(text: &str, currency: Currency) -> Result<i64, AmountError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(AmountError::Empty);
    }
    let malformed = || AmountError::Malformed(s.to_owned());
    let (negative, unsigned) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return Err(malformed());
    }
    if int_part.contains(',') {
        let mut groups = int_part.split(',');
        let first = groups.next().unwrap_or_default();
        let grouped = (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3);
        if !grouped {
            return Err(AmountError::Grouping(s.to_owned()));
        }
    }
    let frac = match frac_part {
        Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => return Err(malformed()),
        Some(f) => f,
        None => "",
    };
    let allowed = usize::from(currency.minor_units());
    let (kept, extra) = frac.split_at(frac.len().min(allowed));
    if extra.bytes().any(|b| b != b'0') {
        return Err(AmountError::TooPrecise { currency, allowed: currency.minor_units(), text: s.to_owned() });
    }
    let too_large = || AmountError::TooLarge(s.to_owned());
    let mut minor: i64 = 0;
    let digits = int_part
        .bytes()
        .filter(|b| *b != b',')
        .chain(kept.bytes())
        .chain(std::iter::repeat_n(b'0', allowed - kept.len()));
    for d in digits {
        minor = minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(d - b'0'))).ok_or_else(too_large)?;
        if minor > MAX_MINOR {
            return Err(too_large());
        }
    }
    Ok(if negative { -minor } else { minor })
}

impl fmt::Display for Money {
    /// `1,234.56 USD`, `-1,200 KRW`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", format_amount(self.minor, self.currency), self.currency)
    }
}

/// The amount alone, with the currency's decimals and comma thousands grouping: `-1,234.56`.
pub fn format_amount(minor: i64, currency: Currency) -> String {
    let scale = currency.scale().unsigned_abs();
    let abs = minor.unsigned_abs();
    let (major, fraction) = (abs / scale, abs % scale);
    let digits = major.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 8);
    if minor < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if currency.minor_units() > 0 {
        out.push('.');
        out.push_str(&format!("{fraction:0width$}", width = usize::from(currency.minor_units())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn amounts_are_read_exactly() {
        let minor = |t: &str, c: &str| Money::parse(t, cur(c)).map(|m| m.minor);
        assert_eq!(minor("1,234.56", "USD"), Ok(123_456));
        assert_eq!(minor("0.1", "USD"), Ok(10));
        assert_eq!(minor("-80", "USD"), Ok(-8_000));
        assert_eq!(minor("+1200", "KRW"), Ok(1_200));
        assert_eq!(minor("1200.00", "KRW"), Ok(1_200));
        assert_eq!(minor(" 12.345 ", "KWD"), Ok(12_345));
        assert_eq!(minor("1,000,000", "JPY"), Ok(1_000_000));
    }

    #[test]
    fn each_bad_amount_gets_its_reason() {
        let err = |t: &str, c: &str| Money::parse(t, cur(c)).unwrap_err();
        assert_eq!(err("", "USD"), AmountError::Empty);
        assert_eq!(err("12a", "USD").code(), "amount.malformed");
        assert_eq!(err("1.2.3", "USD").code(), "amount.malformed");
        assert_eq!(err("12.", "USD").code(), "amount.malformed");
        assert_eq!(err("-", "USD").code(), "amount.malformed");
        assert_eq!(err("$12", "USD").code(), "amount.malformed");
        assert_eq!(err("1e5", "USD").code(), "amount.malformed");
        assert_eq!(err("12,34", "USD").code(), "amount.grouping");
        assert_eq!(err("1234,567", "USD").code(), "amount.grouping");
        assert_eq!(err("99999999999999999999", "KRW").code(), "amount.too_large");
        assert_eq!(err("9,223,372,036,854,775,807", "KRW").code(), "amount.too_large", "i64::MAX");
        assert_eq!(err("-9223372036854775808", "KRW").code(), "amount.too_large", "i64::MIN");
        assert_eq!(err("10000000000000.01", "KRW").code(), "amount.precision");
        assert_eq!(err("100,000,000,000.01", "USD").code(), "amount.too_large", "one cent over the bound");
        assert_eq!(Money::parse("100,000,000,000.00", cur("USD")).map(|m| m.minor), Ok(MAX_MINOR));
        assert_eq!(Money::parse("-10,000,000,000,000", cur("KRW")).map(|m| m.minor), Ok(-MAX_MINOR));
        assert_eq!(err("1200.5", "KRW").to_string(), "KRW takes no decimals, got 1200.5");
        assert_eq!(err("1.234", "USD").to_string(), "USD takes 2 decimals, got 1.234");
        assert_eq!(err("1.2345", "KWD").code(), "amount.precision");
    }

    #[test]
    fn amounts_are_written_with_the_currencys_digits() {
        assert_eq!(format_amount(123_456, cur("USD")), "1,234.56");
        assert_eq!(format_amount(-5, cur("USD")), "-0.05");
        assert_eq!(format_amount(1_200_000, cur("KRW")), "1,200,000");
        assert_eq!(format_amount(12_345, cur("KWD")), "12.345");
        assert_eq!(format_amount(0, cur("JPY")), "0");
        assert_eq!(Money::new(-120_000, Currency::KRW).to_string(), "-120,000 KRW");
        assert_eq!(format_amount(i64::MIN, cur("USD")), "-92,233,720,368,547,758.08");
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(Currency::all().collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_same_amount(minor in -MAX_MINOR..=MAX_MINOR, c in any_currency()) {
            let text = format_amount(minor, c);
            prop_assert_eq!(Money::parse(&text, c), Ok(Money::new(minor, c)));
        }

        #[test]
        fn grouping_is_optional_when_reading(minor in -MAX_MINOR..=MAX_MINOR, c in any_currency()) {
            let text = format_amount(minor, c).replace(',', "");
            prop_assert_eq!(Money::parse(&text, c).map(|m| m.minor), Ok(minor));
        }

        #[test]
        fn any_text_gives_an_amount_or_a_reason_never_a_panic(text in "\\PC{0,40}", c in any_currency()) {
            let _ = Money::parse(&text, c);
        }

        #[test]
        fn numeric_looking_text_round_trips_or_is_refused_with_a_code(text in "[-+]?[0-9,]{1,22}(\\.[0-9]{0,5})?", c in any_currency()) {
            match Money::parse(&text, c) {
                Ok(m) => prop_assert_eq!(Money::parse(&format_amount(m.minor, c), c), Ok(m)),
                Err(e) => prop_assert!(e.code().starts_with("amount.")),
            }
        }
    }
}
