//! UI languages and the choice of one from an `Accept-Language` header.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    /// Parses a language tag such as `ko`, `ko-KR` or `EN-us`; `None` for languages MCMS lacks.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// Picks the best supported language from an `Accept-Language` value, honouring q-values;
    /// English when nothing matches or the header is malformed.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(Lang, f32)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else { continue };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0);
            if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map_or(Lang::En, |(l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_regions_and_case_are_understood() {
        assert_eq!(Lang::from_tag("ko-KR"), Some(Lang::Ko));
        assert_eq!(Lang::from_tag("EN_us"), Some(Lang::En));
        assert_eq!(Lang::from_tag("ja"), None);
    }

    #[test]
    fn negotiation_honours_quality_values() {
        assert_eq!(Lang::negotiate("ko-KR,ko;q=0.9,en-US;q=0.8"), Lang::Ko);
        assert_eq!(Lang::negotiate("en;q=0.5, ko;q=0.6"), Lang::Ko);
        assert_eq!(Lang::negotiate("ja, ko;q=0.1"), Lang::Ko);
        assert_eq!(Lang::negotiate("fr-FR, en;q=0.3"), Lang::En);
    }

    #[test]
    fn unusable_headers_fall_back_to_english() {
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("ko;q=0"), Lang::En);
        assert_eq!(Lang::negotiate("ko;q=abc"), Lang::En);
        assert_eq!(Lang::negotiate(";;,,"), Lang::En);
    }
}
