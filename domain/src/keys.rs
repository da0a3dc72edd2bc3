//! Partner API keys: their format and their scopes.
//!
//! A key reads `mcms_` + 30 base62 characters (about 178 random bits) + a 6-character base62
//! CRC-32 of everything before it. The checksum lets a typo or a truncated copy be refused
//! without a database lookup; the first 8 random characters (the key's id, shown with `mcms_` as
//! its prefix) find the stored hash. The whole key is shown once and stored only as its SHA-256.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const KEY_PREFIX: &str = "mcms_";
const BODY_LEN: usize = 30;
const ID_LEN: usize = 8;
const CHECK_LEN: usize = 6;
pub const KEY_LEN: usize = KEY_PREFIX.len() + BODY_LEN + CHECK_LEN;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key whose format and checksum are right (it may still be unknown, revoked or expired).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Why a presented key is refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("an API key starts with mcms_ and is {KEY_LEN} letters and digits long")]
    Malformed,
    #[error("the API key's checksum does not match: it was mistyped or cut short")]
    BadChecksum,
}

impl ApiKey {
    /// A new key from a source of random bytes (the server passes the operating system's).
    pub fn generate(mut random_byte: impl FnMut() -> u8) -> ApiKey {
        let mut key = String::with_capacity(KEY_LEN);
        key.push_str(KEY_PREFIX);
        while key.len() < KEY_PREFIX.len() + BODY_LEN {
            // Rejection keeps every character equally likely: 248 = 4 × 62.
            let b = random_byte();
            if b < 248 {
                key.push(BASE62[usize::from(b % 62)] as char);
            }
        }
        let check = checksum(&key);
        key.push_str(&check);
        ApiKey(key)
    }

    pub fn parse(text: &str) -> Result<ApiKey, KeyError> {
        let text = text.trim();
        let well_formed = text.len() == KEY_LEN
            && text.starts_with(KEY_PREFIX)
            && text[KEY_PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            return Err(KeyError::Malformed);
        }
        let (body, check) = text.split_at(KEY_LEN - CHECK_LEN);
        if checksum(body) != check {
            return Err(KeyError::BadChecksum);
        }
        Ok(ApiKey(text.to_owned()))
    }

    /// What the console shows of a key after it is issued, and what finds it: `mcms_` + its id.
    pub fn prefix(&self) -> &str {
        &self.0[..KEY_PREFIX.len() + ID_LEN]
    }

    /// The whole key: shown once, never stored.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// Never prints the secret part, so a key cannot leak through a log line.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…)", self.prefix())
    }
}

fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a key may read. Every key may ask who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// The games the partner may see.
    #[serde(rename = "games:read")]
    Games,
    /// Daily statistics of those games, for the partner's channels.
    #[serde(rename = "stats:read")]
    Stats,
    /// Uploads model versions to the registry (the data team's notebooks and jobs).
    #[serde(rename = "models:write")]
    ModelsWrite,
}

/// A key's grant to predict with one model is the scope `models:predict:NAME`
/// (`models:predict:*`: every model), kept beside the [`Scope`]s.
pub const PREDICT_SCOPE: &str = "models:predict:";

/// The model a `models:predict:NAME` scope grants (`*` for every model), if `text` is one.
pub fn predict_grant(text: &str) -> Option<&str> {
    let name = text.trim().strip_prefix(PREDICT_SCOPE)?;
    (name == "*" || crate::models::is_model_name(name)).then_some(name)
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Games, Scope::Stats, Scope::ModelsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Games => "games:read",
            Scope::Stats => "stats:read",
            Scope::ModelsWrite => "models:write",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

/// Where a key stands, the one reading the console shows and the gate acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Live,
    /// Replaced by rotation, still accepted until its grace ends.
    Grace,
    Expired,
    /// Replaced by rotation, and its grace is over.
    Replaced,
    Revoked,
}

impl KeyStatus {
    /// A key revoked or not, replaced by rotation or not, with its expiry (a rotation sets the
    /// grace's end as the expiry), at `now`.
    pub fn at(
        revoked: bool,
        replaced: bool,
        expires_at: Option<time::OffsetDateTime>,
        now: time::OffsetDateTime,
    ) -> KeyStatus {
        let over = expires_at.is_some_and(|e| e <= now);
        match (revoked, replaced, over) {
            (true, _, _) => KeyStatus::Revoked,
            (false, true, true) => KeyStatus::Replaced,
            (false, false, true) => KeyStatus::Expired,
            (false, true, false) => KeyStatus::Grace,
            (false, false, false) => KeyStatus::Live,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> ApiKey {
        let mut n = seed;
        ApiKey::generate(|| {
            n = n.wrapping_mul(31).wrapping_add(17);
            n
        })
    }

    #[test]
    fn a_generated_key_parses_and_shows_only_its_prefix() {
        let k = key(1);
        assert_eq!(k.reveal().len(), KEY_LEN);
        assert_eq!(ApiKey::parse(k.reveal()), Ok(k.clone()));
        assert_eq!(k.prefix().len(), 13);
        assert!(k.reveal().starts_with(k.prefix()));
        assert_eq!(format!("{k:?}"), format!("ApiKey({}…)", k.prefix()));
    }

    #[test]
    fn every_kind_of_damage_is_told_apart_without_a_lookup() {
        let k = key(7).reveal().to_owned();
        assert_eq!(ApiKey::parse(""), Err(KeyError::Malformed));
        assert_eq!(ApiKey::parse(&k[..KEY_LEN - 1]), Err(KeyError::Malformed), "cut short");
        assert_eq!(ApiKey::parse(&format!("{k}x")), Err(KeyError::Malformed), "too long");
        assert_eq!(ApiKey::parse(&k.replacen("mcms_", "mcmz_", 1)), Err(KeyError::Malformed));
        assert_eq!(ApiKey::parse(&k.replacen('_', "-", 1)), Err(KeyError::Malformed));
        let mut typo = k.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(ApiKey::parse(std::str::from_utf8(&typo).unwrap()), Err(KeyError::BadChecksum));
        let mut swapped = k.clone().into_bytes();
        swapped.swap(KEY_LEN - 1, KEY_LEN - 2);
        if swapped != k.as_bytes() {
            assert_eq!(ApiKey::parse(std::str::from_utf8(&swapped).unwrap()), Err(KeyError::BadChecksum));
        }
        let mut non_ascii = k.clone();
        non_ascii.replace_range(KEY_LEN - 2.., "é");
        assert_eq!(ApiKey::parse(&non_ascii), Err(KeyError::Malformed));
    }

    #[test]
    fn characters_are_spread_over_the_whole_alphabet() {
        let mut counter = 0u8;
        let k = ApiKey::generate(|| {
            counter = counter.wrapping_add(1);
            counter
        });
        // Bytes 248..=255 are skipped; the rest map onto all 62 characters in turn.
        assert_eq!(&k.reveal()[5..35], "123456789ABCDEFGHIJKLMNOPQRSTU");
    }

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Scope::parse("admin"), None);
        assert_eq!(Scope::parse("models:predict:churn"), None);
        assert_eq!(predict_grant("models:predict:churn"), Some("churn"));
        assert_eq!(predict_grant(" models:predict:* "), Some("*"));
        for bad in ["models:predict:", "models:predict:Churn", "models:predict", "games:read"] {
            assert_eq!(predict_grant(bad), None, "{bad}");
        }
    }
}

/// The latency under which `percent` of requests were answered, from counts per bucket (bucket
/// `b`: under 2^b microseconds), as the bucket's upper bound; `None` without requests.
pub fn percentile_micros(buckets: &[(i32, i64)], percent: u32) -> Option<u64> {
    percentile_bucket(buckets, percent).map(|b| 1u64.checked_shl(b.clamp(0, 63) as u32).unwrap_or(u64::MAX))
}

/// The bucket holding the `percent`th percentile of requests counted per bucket (buckets in
/// increasing order of latency); `None` without requests.
pub fn percentile_bucket(buckets: &[(i32, i64)], percent: u32) -> Option<i32> {
    let total: i64 = buckets.iter().map(|(_, n)| n).sum();
    if total <= 0 {
        return None;
    }
    let mut sorted = buckets.to_vec();
    sorted.sort_unstable();
    let wanted = (total * i64::from(percent) + 99) / 100;
    let mut seen = 0;
    sorted.into_iter().find_map(|(bucket, n)| {
        seen += n;
        (seen >= wanted).then_some(bucket)
    })
}

#[cfg(test)]
mod percentile_tests {
    use super::{KeyStatus, percentile_micros};

    #[test]
    fn the_95th_percentile_is_the_bound_of_the_bucket_holding_it() {
        assert_eq!(percentile_micros(&[], 95), None);
        // 90 requests under 1 ms (bucket 10), 10 under 16 ms (bucket 14).
        assert_eq!(percentile_micros(&[(14, 10), (10, 90)], 95), Some(16_384));
        assert_eq!(percentile_micros(&[(14, 4), (10, 96)], 95), Some(1_024));
        assert_eq!(percentile_micros(&[(10, 1)], 50), Some(1_024));
    }

    #[test]
    fn a_keys_status_follows_revocation_rotation_and_expiry() {
        let now = time::macros::datetime!(2026-12-03 08:00 UTC);
        let (past, future) = (Some(now - time::Duration::hours(1)), Some(now + time::Duration::hours(1)));
        assert_eq!(KeyStatus::at(false, false, None, now), KeyStatus::Live);
        assert_eq!(KeyStatus::at(false, false, future, now), KeyStatus::Live);
        assert_eq!(KeyStatus::at(false, false, past, now), KeyStatus::Expired);
        assert_eq!(KeyStatus::at(false, true, future, now), KeyStatus::Grace);
        assert_eq!(KeyStatus::at(false, true, past, now), KeyStatus::Replaced);
        assert_eq!(KeyStatus::at(true, true, future, now), KeyStatus::Revoked);
        assert_eq!(KeyStatus::at(false, false, Some(now), now), KeyStatus::Expired, "the expiry itself is over");
    }
}
