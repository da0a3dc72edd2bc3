//! Auto-ingest's decisions, apart from reading and writing: which of a listing's files to load and
//! in what order, what the load history says about a period (files, rows, latency from a file's
//! arrival to its rows being queryable), and such a period as a PoC run.
//!
//! A file is known by its name and ETag, as Snowflake's load metadata knows it: a file rewritten
//! under the same name with new content is a new file and loads again; the same content listed
//! again does not.

use crate::poc::{Params, Run};
use std::collections::HashSet;
use time::{Date, OffsetDateTime};

/// A file as the listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub bytes: u64,
    /// S3's ETag, or for a local file its size and modification time.
    pub etag: String,
    /// When it arrived (its last modification).
    pub arrived: OffsetDateTime,
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its rows were committed with its history row.
    Loaded,
    /// It could not be loaded (its error is recorded); it is not tried again unless it changes.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Loaded => "loaded",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [Outcome::Loaded, Outcome::Skipped].into_iter().find(|o| o.as_str() == text)
    }
}

/// One row of the load history (like Snowflake's `COPY_HISTORY`).
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    pub file: String,
    pub bytes: u64,
    pub etag: String,
    pub rows: u64,
    pub outcome: Outcome,
    /// Why it was skipped (per line where the file says).
    pub error: Option<String>,
    pub arrived: OffsetDateTime,
    /// When reading it began.
    pub started: OffsetDateTime,
    /// When its rows became queryable (the commit), or it was skipped.
    pub finished: OffsetDateTime,
}

impl Load {
    /// From the file's arrival to its rows being queryable, in milliseconds.
    pub fn latency_ms(&self) -> f64 {
        ((self.finished - self.arrived).whole_microseconds() as f64 / 1000.0).max(0.0)
    }

    /// The time spent reading and writing it, in seconds.
    pub fn load_seconds(&self) -> f64 {
        ((self.finished - self.started).whole_microseconds() as f64 / 1e6).max(0.0)
    }
}

/// The files of `listed` not in `history` (name and ETag), oldest first, then by name: a stream
/// of change files applies in the order it was written.
pub fn pending<'a>(listed: &'a [Listed], history: &HashSet<(String, String)>) -> Vec<&'a Listed> {
    let mut new: Vec<&Listed> =
        listed.iter().filter(|f| !history.contains(&(f.name.clone(), f.etag.clone()))).collect();
    new.sort_by(|a, b| a.arrived.cmp(&b.arrived).then_with(|| a.name.cmp(&b.name)));
    new
}

/// A period of the load history, summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub files: u64,
    pub loaded: u64,
    pub skipped: u64,
    pub rows: u64,
    pub bytes: u64,
    /// Arrival to queryable, over the loaded files (nearest rank).
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_max_ms: f64,
    /// The loaded files' load times, summed.
    pub load_seconds: f64,
    pub first: OffsetDateTime,
    pub last: OffsetDateTime,
}

/// The `percent`th percentile of `sorted` by nearest rank.
fn nearest_rank(sorted: &[f64], percent: u32) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() * percent as usize).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// The period's figures, or none when nothing loaded in it.
pub fn summarise(loads: &[Load]) -> Option<Period> {
    let loaded: Vec<&Load> = loads.iter().filter(|l| l.outcome == Outcome::Loaded).collect();
    if loaded.is_empty() {
        return None;
    }
    let mut latencies: Vec<f64> = loaded.iter().map(|l| l.latency_ms()).collect();
    latencies.sort_by(f64::total_cmp);
    Some(Period {
        files: loads.len() as u64,
        loaded: loaded.len() as u64,
        skipped: (loads.len() - loaded.len()) as u64,
        rows: loaded.iter().map(|l| l.rows).sum(),
        bytes: loaded.iter().map(|l| l.bytes).sum(),
        latency_p50_ms: nearest_rank(&latencies, 50),
        latency_p95_ms: nearest_rank(&latencies, 95),
        latency_max_ms: latencies.last().copied().unwrap_or(0.0),
        load_seconds: loaded.iter().map(|l| l.load_seconds()).sum(),
        first: loaded.iter().map(|l| l.arrived).min().unwrap_or(OffsetDateTime::UNIX_EPOCH),
        last: loaded.iter().map(|l| l.finished).max().unwrap_or(OffsetDateTime::UNIX_EPOCH),
    })
}

/// A watch period as a PoC run of the `cdc_microbatch` scenario under `system`.
pub fn poc_run(period: &Period, format: &str, compression: &str, system: &str, run_by: &str, today: Date) -> Run {
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let files = clamp(period.loaded).max(1);
    Run {
        system: system.to_owned(),
        scenario: "cdc_microbatch".into(),
        params: Params {
            format: format.to_owned(),
            compression: compression.to_owned(),
            file_count: files,
            file_size_mb: ((clamp(period.bytes) / files) >> 20).max(1),
        },
        total_bytes: clamp(period.bytes),
        rows: clamp(period.rows),
        load_seconds: Some(period.load_seconds),
        latency_p50_ms: Some(period.latency_p50_ms),
        latency_p95_ms: Some(period.latency_p95_ms),
        credits: None,
        cost_cents: None,
        error: None,
        run_date: today,
        system_version: env!("CARGO_PKG_VERSION").into(),
        run_by: run_by.to_owned(),
        notes: format!(
            "mcms ingest watch: {} file(s) loaded, {} skipped, latency max {:.0} ms",
            period.loaded, period.skipped, period.latency_max_ms
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn at(ms: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::milliseconds(ms)
    }

    fn listed(name: &str, etag: &str, ms: i64) -> Listed {
        Listed { name: name.into(), bytes: 1 << 20, etag: etag.into(), arrived: at(ms) }
    }

    #[test]
    fn new_and_rewritten_files_are_pending_oldest_first() {
        let files = [listed("b.json", "e2", 100), listed("a.json", "e1", 100), listed("c.json", "e3", 50)];
        let history: HashSet<(String, String)> = [("c.json".into(), "e3".into())].into_iter().collect();
        let names: Vec<&str> = pending(&files, &history).iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.json", "b.json"], "ties by name");
        let rewritten = [listed("c.json", "e4", 200)];
        assert_eq!(pending(&rewritten, &history).len(), 1, "same name, new content: loads again");
        assert!(pending(&files[2..], &history).is_empty(), "the same content listed again does not");
    }

    fn load(file: &str, arrived: i64, finished: i64, outcome: Outcome) -> Load {
        Load {
            file: file.into(),
            bytes: 2 << 20,
            etag: "e".into(),
            rows: 1000,
            outcome,
            error: (outcome == Outcome::Skipped).then(|| "line 3: not JSON".into()),
            arrived: at(arrived),
            started: at(finished - 40),
            finished: at(finished),
        }
    }

    #[test]
    fn a_period_sums_loaded_files_and_takes_latency_percentiles() {
        let mut loads: Vec<Load> =
            (0..20).map(|i| load(&format!("f{i}"), i * 100, i * 100 + 300 + i * 10, Outcome::Loaded)).collect();
        loads.push(load("bad", 0, 5000, Outcome::Skipped));
        let p = summarise(&loads).unwrap();
        assert_eq!((p.files, p.loaded, p.skipped, p.rows, p.bytes), (21, 20, 1, 20_000, 40 << 20));
        // Latencies 300, 310, …, 490 ms: the 10th and 19th of 20 by nearest rank.
        assert_eq!((p.latency_p50_ms, p.latency_p95_ms, p.latency_max_ms), (390.0, 480.0, 490.0));
        assert!((p.load_seconds - 0.8).abs() < 1e-9, "{}", p.load_seconds);
        assert!(summarise(&loads[20..]).is_none(), "nothing loaded: no period");

        let run = poc_run(&p, "json", "gzip", "mcms-local", "admin@mcms.example", at(0).date());
        assert_eq!((run.scenario.as_str(), run.params.file_count, run.params.file_size_mb), ("cdc_microbatch", 20, 2));
        assert_eq!((run.latency_p50_ms, run.latency_p95_ms, run.rows), (Some(390.0), Some(480.0), 20_000));
        assert!(run.succeeded());
        assert_eq!(Outcome::parse("skipped"), Some(Outcome::Skipped));
    }
}
