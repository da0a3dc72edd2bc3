//! ISO 4217 currencies and their minor units (how many decimal digits an amount may carry).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An active ISO 4217 currency. Only codes in [`ISO_4217`] can be made, so a `Currency` always
/// knows its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// (code, minor units), sorted by code. ISO 4217 list of active codes.
pub const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    pub const KRW: Currency = Currency { code: *b"KRW", minor_units: 0 };
    pub const USD: Currency = Currency { code: *b"USD", minor_units: 2 };

    /// The currency for an ISO code such as `krw` or ` USD `; `None` when ISO 4217 has no such
    /// active code.
    pub fn from_code(code: &str) -> Option<Currency> {
        let code = code.trim();
        if code.len() != 3 {
            return None;
        }
        let upper = code.to_ascii_uppercase();
        let i = ISO_4217.binary_search_by(|(c, _)| (*c).cmp(upper.as_str())).ok()?;
        let (c, minor_units) = ISO_4217[i];
        Some(Currency { code: c.as_bytes().try_into().ok()?, minor_units })
    }

    pub fn code(&self) -> &str {
        // Always three ASCII capitals from ISO_4217.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    pub fn minor_units(self) -> u8 {
        self.minor_units
    }

    /// 10^minor_units: minor units per major unit.
    pub fn scale(self) -> i64 {
        10_i64.pow(u32::from(self.minor_units))
    }

    pub fn all() -> impl Iterator<Item = Currency> {
        ISO_4217.iter().filter_map(|(c, _)| Currency::from_code(c))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown currency {code:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique_so_lookups_find_every_code() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, minor) in ISO_4217 {
            let c = Currency::from_code(code).unwrap();
            assert_eq!((c.code(), c.minor_units()), (*code, *minor));
        }
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        let units = |c: &str| Currency::from_code(c).unwrap().minor_units();
        for (code, minor) in [("KRW", 0), ("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3), ("CLF", 4)] {
            assert_eq!(units(code), minor, "{code}");
        }
        assert_eq!(Currency::from_code(" krw "), Some(Currency::KRW));
        assert_eq!(Currency::USD.scale(), 100);
    }

    #[test]
    fn unknown_codes_are_refused() {
        for bad in ["", "US", "USDD", "XYZ", "12$", "원"] {
            assert_eq!(Currency::from_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn currencies_travel_as_their_code() {
        assert_eq!(serde_json::to_string(&Currency::KRW).unwrap(), "\"KRW\"");
        assert_eq!(serde_json::from_str::<Currency>("\"usd\"").unwrap(), Currency::USD);
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
    }
}
