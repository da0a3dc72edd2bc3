//! The pipeline scheduler, in every server instance. Every 30 seconds (and once at start) each
//! schedule's latest time at or before now is due; the instance that claims its slot first runs
//! the pipeline's current version (`store::schedules`: exactly once however many instances share
//! the database). A failed run is tried again after 1, 4, 16… minutes, as many times as the
//! schedule says. Times missed while no instance ran are not all made up: the latest one runs,
//! once, when an instance starts.

use crate::pipelines::{McmsData, Start, run_recorded};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use store::costs::CostSettings;
use store::pipelines::StartedVia;
use store::schedules::{Schedule, SlotEnd};
use store::{Db, StoreError};
use time::{OffsetDateTime, UtcOffset};

/// How long a claim holds: a run still going after this may be taken over by another instance.
const LEASE_SECS: i64 = 6 * 3600;

/// A five-field cron expression (`0 6 * * *`: 06:00 every day), read by croner (POSIX
/// weekdays: 0 and 7 are Sunday), or why it is not one.
pub fn parse_cron(text: &str) -> Result<croner::Cron, String> {
    if text.split_whitespace().count() != 5 {
        return Err(format!(
            "`{text}` is not a cron expression of five fields (minute hour day-of-month month day-of-week)"
        ));
    }
    croner::Cron::from_str(text).map_err(|e| format!("`{text}` is not a cron expression: {e}"))
}

fn zoned(at: i64, offset: UtcOffset) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let zone = chrono::FixedOffset::east_opt(offset.whole_seconds())?;
    Some(chrono::DateTime::from_timestamp(at, 0)?.with_timezone(&zone))
}

/// The time a schedule is due at `now` (Unix seconds): the latest its cron names at or before
/// `now` in the company's time zone, if that is not before the schedule was set.
pub fn due(cron: &str, set_at: i64, now: i64, offset: UtcOffset) -> Result<Option<i64>, String> {
    let cron = parse_cron(cron)?;
    let now = zoned(now, offset).ok_or("the time is out of range")?;
    let due = cron.find_previous_occurrence(&now, true).map_err(|e| e.to_string())?.timestamp();
    Ok((due >= set_at).then_some(due))
}

/// The next time after `now` a schedule runs (Unix seconds), for the list.
pub fn next(cron: &str, now: i64, offset: UtcOffset) -> Option<i64> {
    let cron = parse_cron(cron).ok()?;
    Some(cron.find_next_occurrence(&zoned(now, offset)?, false).ok()?.timestamp())
}

/// Seconds before trying a failed attempt again: 1, 4, 16 minutes…, at most a day.
fn backoff(attempt: i32) -> i64 {
    (60 * 4i64.saturating_pow(attempt.saturating_sub(1).clamp(0, 10) as u32)).min(86_400)
}

/// What the scheduler runs pipelines with.
#[derive(Clone)]
pub struct Scheduler {
    pub db: Db,
    /// This instance's name in the slots it claims.
    pub instance: String,
    /// The company's time zone: schedules and `today` are in it.
    pub offset: UtcOffset,
    pub costs: CostSettings,
    /// Folder and SQLite connections' paths are inside it.
    pub data_dir: PathBuf,
    pub secrets: pipeline::Secrets,
    /// Where the runs execute: here, or on a Ballista cluster.
    pub engine: pipeline::Engine,
}

impl Scheduler {
    /// An instance name that differs between processes.
    pub fn instance_name() -> String {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000;
        format!("{}-{}-{nanos}", host.trim(), std::process::id())
    }

    /// Ticks every 30 seconds, the first at once, until `stop` is cancelled.
    pub async fn run_forever(self, stop: tokio_util::sync::CancellationToken) {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.tick(OffsetDateTime::now_utc(), &stop).await {
                tracing::warn!(error = %e, "the pipeline scheduler could not read or record its work");
            }
        }
    }

    /// Runs what is due at `now`: each schedule's latest time, and slots whose retry is due or
    /// whose instance stopped. Returns the runs it recorded.
    pub async fn tick(
        &self,
        now: OffsetDateTime,
        stop: &tokio_util::sync::CancellationToken,
    ) -> Result<Vec<i64>, StoreError> {
        // Runs whose server stopped before recording their end (they no longer beat) are ended.
        let abandoned = self.db.abandon_pipeline_runs(now - crate::pipelines::SILENT).await?;
        if abandoned > 0 {
            tracing::warn!(runs = abandoned, "pipeline runs whose server stopped are recorded as failed");
        }
        let at = now.unix_timestamp();
        let schedules = self.db.schedules().await?;
        let mut work: Vec<(&Schedule, i64)> = Vec::new();
        for s in &schedules {
            match due(&s.cron, s.set_at, at, self.offset) {
                Ok(Some(due)) => work.push((s, due)),
                Ok(None) => {}
                Err(e) => tracing::warn!(pipeline = %s.name, "schedule skipped: {e}"),
            }
        }
        for (name, due) in self.db.slots_to_resume(at).await? {
            if let Some(s) = schedules.iter().find(|s| s.name == name) {
                work.push((s, due));
            }
        }
        let mut runs = Vec::new();
        for (s, due) in work {
            let Some(claim) = self.db.claim_slot(&s.name, due, &self.instance, at, at + LEASE_SECS).await? else {
                continue;
            };
            let (run, ok) = self.run(s, now, stop).await?;
            let end = match (ok, claim.attempt <= s.retries) {
                (true, _) => SlotEnd::Succeeded,
                (false, true) => SlotEnd::RetryAt(at + backoff(claim.attempt)),
                (false, false) => SlotEnd::Failed,
            };
            self.db.end_slot(&s.name, due, &self.instance, run, end).await?;
            runs.extend(run);
        }
        Ok(runs)
    }

    /// Runs the schedule's pipeline (its current version) with the schedule's parameters.
    async fn run(
        &self,
        s: &Schedule,
        now: OffsetDateTime,
        stop: &tokio_util::sync::CancellationToken,
    ) -> Result<(Option<i64>, bool), StoreError> {
        let Some(stored) = self.db.pipeline_version(&s.name, None).await? else {
            return Ok((None, false));
        };
        let given: BTreeMap<String, String> = serde_json::from_str(&s.params).unwrap_or_default();
        let today = now.to_offset(self.offset).date();
        let settings = pipeline::Settings {
            today,
            base_dir: self.data_dir.clone(),
            secrets: self.secrets.clone(),
            mode: pipeline::Mode::Run,
            // Stopping the server cancels the run: nothing half-written, the slot's lease then
            // lets the next instance to start run it again.
            cancel: stop.child_token(),
            progress: Default::default(),
            engine: self.engine.clone(),
        };
        let mcms = McmsData { db: self.db.clone(), settings: self.costs, today };
        let start = Start {
            name: &s.name,
            version: Some(stored.version),
            text: &stored.text,
            by: None,
            via: StartedVia::Schedule,
        };
        let recorded = run_recorded(&self.db, &start, &given, &settings, &mcms).await?;
        if let Err(e) = &recorded.outcome {
            tracing::warn!(pipeline = %s.name, run = recorded.id, "scheduled run failed: {e}");
        }
        Ok((Some(recorded.id), recorded.outcome.is_ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_due_time_is_the_latest_at_or_before_now_in_the_company_time_zone() {
        let seoul = UtcOffset::from_hms(9, 0, 0).unwrap();
        // 2026-12-04 05:10 UTC is 14:10 in Seoul; "0 6 * * *" was due at 06:00 Seoul = 21:00 UTC the day before.
        let now = time::macros::datetime!(2026-12-04 05:10 UTC).unix_timestamp();
        let due = due("0 6 * * *", 0, now, seoul).unwrap().unwrap();
        assert_eq!(due, time::macros::datetime!(2026-12-03 21:00 UTC).unix_timestamp());
        assert_eq!(super::due("0 6 * * *", due + 1, now, seoul).unwrap(), None, "not due before it was set");
        assert_eq!(next("0 6 * * *", now, seoul), Some(due + 86_400));
        // POSIX weekdays: 1 is Monday (2026-11-30 was a Monday).
        let monday = super::due("0 6 * * 1", 0, now, seoul).unwrap().unwrap();
        assert_eq!(monday, time::macros::datetime!(2026-11-29 21:00 UTC).unix_timestamp());
        assert!(parse_cron("0 6 * *").unwrap_err().contains("five fields"));
        assert!(parse_cron("0 25 * * *").unwrap_err().contains("is not a cron expression"));
        assert_eq!([1, 2, 3].map(backoff), [60, 240, 960]);
        assert_eq!(backoff(50), 86_400);
    }
}
