//! What an account is made of: a sign-in address, a display name and a password.
//!
//! Parse, don't validate: a value of these types is always well-formed, so the store and the
//! server functions never re-check them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A sign-in address, trimmed and lower-cased so that `Ana@Example.com` and `ana@example.com`
/// are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("enter an email address")]
    Empty,
    #[error("an email address has at most 254 characters")]
    TooLong,
    #[error("this is not an email address")]
    Malformed,
}

impl EmailError {
    /// Stable code; the UI catalogues key their messages on it.
    pub fn code(self) -> &'static str {
        match self {
            EmailError::Empty => "email.empty",
            EmailError::TooLong => "email.too_long",
            EmailError::Malformed => "email.malformed",
        }
    }
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::Malformed)?;
        let domain_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !(domain_ok && local_ok) {
            return Err(EmailError::Malformed);
        }
        Ok(Email(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's display name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("enter a name")]
    Empty,
    #[error("a name has at most 100 characters")]
    TooLong,
    #[error("a name cannot hold control characters")]
    ControlCharacter,
}

impl PersonNameError {
    pub fn code(self) -> &'static str {
        match self {
            PersonNameError::Empty => "name.empty",
            PersonNameError::TooLong => "name.too_long",
            PersonNameError::ControlCharacter => "name.control",
        }
    }
}

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<PersonName, PersonNameError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError::TooLong);
        }
        if s.chars().any(char::is_control) {
            return Err(PersonNameError::ControlCharacter);
        }
        Ok(PersonName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password chosen for an account. Length is what protects a password (NIST SP 800-63B): at least
/// 12 characters, at most 128 so hashing cost stays bounded; no composition rules.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least 12 characters")]
    TooShort,
    #[error("a password has at most 128 characters")]
    TooLong,
}

impl PasswordError {
    pub fn code(self) -> &'static str {
        match self {
            PasswordError::TooShort => "password.too_short",
            PasswordError::TooLong => "password.too_long",
        }
    }
}

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<NewPassword, PasswordError> {
        match raw.chars().count() {
            n if n < Self::MIN_CHARS => Err(PasswordError::TooShort),
            n if n > Self::MAX_CHARS => Err(PasswordError::TooLong),
            _ => Ok(NewPassword(raw.to_owned())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(Email::parse("  Ana.Kim@Example.COM ").unwrap().as_str(), "ana.kim@example.com");
        assert_eq!(Email::parse("a+tag@sub.example.co.kr").unwrap().as_str(), "a+tag@sub.example.co.kr");
    }

    #[test]
    fn each_bad_email_gets_its_reason() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        assert_eq!(Email::parse(&format!("{}@example.com", "a".repeat(250))), Err(EmailError::TooLong));
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@localhost",
            "a b@example.com",
            "ana@@example.com",
            "ana@example..com",
            ".ana@example.com",
            "ana@-example.com",
            "ana@exam_ple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  김민지 ").unwrap().as_str(), "김민지");
        assert_eq!(PersonName::parse(""), Err(PersonNameError::Empty));
        assert_eq!(PersonName::parse(&"가".repeat(101)), Err(PersonNameError::TooLong));
        assert!(PersonName::parse(&"가".repeat(100)).is_ok());
        assert_eq!(PersonName::parse("a\u{7}b"), Err(PersonNameError::ControlCharacter));
    }

    #[test]
    fn passwords_are_judged_by_length_in_characters() {
        assert_eq!(NewPassword::parse("short"), Err(PasswordError::TooShort));
        // 12 Hangul syllables are 36 bytes but 12 characters: long enough.
        assert!(NewPassword::parse(&"비".repeat(12)).is_ok());
        assert_eq!(NewPassword::parse(&"비".repeat(11)), Err(PasswordError::TooShort));
        assert_eq!(NewPassword::parse(&"x".repeat(129)), Err(PasswordError::TooLong));
        assert_eq!(format!("{:?}", NewPassword::parse("correct horse battery").unwrap()), "NewPassword(***)");
    }
}
