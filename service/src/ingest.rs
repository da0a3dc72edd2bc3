//! Auto-ingest watches: defined, started and stopped by pipeline builders and admins. What a
//! watch reads and writes is checked here, before it is stored: a location inside the data
//! directory or an S3 prefix, a SQLite file inside the data directory or a PostgreSQL URL held
//! in an environment variable, a plain table name, and a poll interval of 1 s to a day.

use crate::{Actor, Error, Result, Service};
use domain::Role;
use store::ingest::NewWatch;

/// The longest name, location or target a watch takes.
const MOST_CHARS: usize = 500;

fn plain_name(text: &str, most: usize) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && text.len() <= most
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn identifier(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && text.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A path that stays inside the folder it is read from: relative, without `..`.
pub fn inside_data_dir(path: &str) -> bool {
    let p = std::path::Path::new(path);
    !path.is_empty()
        && !path.contains('\0')
        && p.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
}

/// A location a page may name: an S3 prefix, or a path inside the data directory.
pub fn location_allowed(location: &str) -> bool {
    match location.strip_prefix("s3://") {
        Some(rest) => rest.split('/').next().is_some_and(|bucket| !bucket.is_empty()) && !location.contains(".."),
        None => inside_data_dir(location),
    }
}

impl Service<'_> {
    /// Checks and stores a new watch, running. Builders and admins.
    pub async fn create_watch(&self, actor: &Actor, mut w: NewWatch) -> Result<i64> {
        actor.require(Role::Builder)?;
        w.name = w.name.trim().to_owned();
        w.location = w.location.trim().to_owned();
        w.target = w.target.trim().to_owned();
        w.target_table = w.target_table.trim().to_owned();
        if !plain_name(&w.name, 64) {
            return Err(Error::invalid("name", "watch.name"));
        }
        if w.location.len() > MOST_CHARS || !location_allowed(&w.location) {
            return Err(Error::invalid("location", "watch.location"));
        }
        let target_ok = match w.target_kind.as_str() {
            "sqlite" => w.target.len() <= MOST_CHARS && inside_data_dir(&w.target),
            "postgres" => {
                w.target.len() <= 100
                    && w.target.chars().next().is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                    && w.target.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            }
            _ => false,
        };
        if !target_ok {
            return Err(Error::invalid("target", "watch.target"));
        }
        if !identifier(&w.target_table) {
            return Err(Error::invalid("table", "watch.table"));
        }
        w.format = w.format.map(|f| f.trim().to_ascii_lowercase()).filter(|f| !f.is_empty());
        if w.format.as_deref().is_some_and(|f| !["csv", "jsonl", "parquet"].contains(&f)) {
            return Err(Error::invalid("format", "watch.format"));
        }
        let keys: Vec<&str> = w.keys.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
        match w.mode.as_str() {
            "append" if keys.is_empty() => {}
            "cdc" if !keys.is_empty() && keys.iter().all(|k| identifier(k)) => {}
            "append" | "cdc" => return Err(Error::invalid("keys", "watch.keys")),
            _ => return Err(Error::invalid("mode", "watch.mode")),
        }
        w.keys = keys.join(",");
        if !(w.every_secs.is_finite() && (1.0..=86_400.0).contains(&w.every_secs)) {
            return Err(Error::invalid("every_secs", "watch.every"));
        }
        Ok(self.db.create_ingest_watch(&w, actor.id).await?)
    }

    /// Starts or stops a watch (false: it already was). Builders and admins.
    pub async fn set_watch_running(&self, actor: &Actor, name: &str, running: bool) -> Result<bool> {
        actor.require(Role::Builder)?;
        Ok(self.db.set_ingest_watch_running(name, running, actor.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_name_only_the_data_directory_or_s3() {
        for ok in ["arrivals", "arrivals/*.csv", "./landing/2026-12-*.jsonl.gz", "s3://lake/events/", "s3://lake"] {
            assert!(location_allowed(ok), "{ok}");
        }
        for refused in
            ["", "/etc", "/work/data", "../secrets", "landing/../../etc", "s3://", "s3:///x", "s3://lake/../x"]
        {
            assert!(!location_allowed(refused), "{refused}");
        }
        assert!(plain_name("nightly-events_2", 64));
        assert!(!plain_name("2nightly", 64) && !plain_name("a b", 64) && !plain_name("", 64));
        assert!(identifier("players_2026") && identifier("_t"));
        assert!(!identifier("players;drop") && !identifier("public.players") && !identifier("1x"));
    }
}
