//! Pipeline runs: each recorded when it starts (`running`) and finished once, as succeeded with
//! what each step did, or failed with the step and the reason. A run's parameters and steps are
//! kept as JSON text; the runner makes them, and nothing reads inside them but the pages.

use crate::tx::{Audit, in_tx, write_audit};
use crate::{Db, Result, StoreError, on_db};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartedVia {
    /// `mcms pipeline run`.
    Command,
    Page,
    Schedule,
}

impl StartedVia {
    pub fn as_str(self) -> &'static str {
        match self {
            StartedVia::Command => "command",
            StartedVia::Page => "page",
            StartedVia::Schedule => "schedule",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub pipeline: &'a str,
    pub file_sha256: &'a str,
    /// JSON object: each parameter's value for this run.
    pub params: &'a str,
    pub started_by: Option<i64>,
    pub via: StartedVia,
    /// The stored version that ran; `None` for a file run from disk.
    pub version: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PipelineRun {
    pub id: i64,
    pub pipeline: String,
    pub file_sha256: String,
    pub params: String,
    pub started_by: Option<i64>,
    pub started_via: String,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// running, succeeded or failed.
    pub state: String,
    pub failed_step: Option<String>,
    pub reason: Option<String>,
    /// JSON array: each step's name, kind, rows in and out, bytes, milliseconds and where it wrote.
    pub steps: String,
    pub version: Option<i32>,
    /// While it runs: JSON array of the steps so far (name, kind, rows so far, done), as of
    /// `beat_at`, the last time the instance running it said it was alive.
    pub progress: Option<String>,
    pub beat_at: Option<OffsetDateTime>,
    /// When someone asked it to stop (the instance running it stops it at its next beat).
    pub cancel_asked_at: Option<OffsetDateTime>,
}

/// What a running run's beat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Go on.
    Going,
    /// Someone asked it to stop.
    CancelAsked,
    /// It is no longer recorded as running (another server ended it as abandoned): stop, and
    /// write nothing.
    Ended,
}

/// One saved text of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PipelineVersion {
    pub name: String,
    pub version: i32,
    pub text: String,
    pub sha256: String,
    pub saved_by: i64,
    pub saved_at: OffsetDateTime,
    pub note: String,
}

/// A stored pipeline as the list shows it: its current version and its latest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StoredPipeline {
    pub name: String,
    pub version: i32,
    pub saved_at: OffsetDateTime,
    pub saved_by: i64,
}

/// What a save starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Whatever is current (`mcms pipeline save`: the file on disk is the truth).
    Any,
    /// Nothing: a new pipeline, refused if the name is taken.
    New,
    /// This version, refused if another has been saved since.
    Version(i32),
}

/// What saving did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new version with this number.
    New(i32),
    /// The text is the current version's: nothing changed.
    Unchanged(i32),
}

const RUN_COLUMNS: &str = "id, pipeline, file_sha256, params, started_by, started_via, started_at, finished_at, \
                           state, failed_step, reason, steps, version, progress, beat_at, cancel_asked_at";
const VERSION_COLUMNS: &str = "p.name, v.version, v.text, v.sha256, v.saved_by, v.saved_at, v.note";

impl Db {
    /// Records a run as started; its id finishes it.
    pub async fn start_pipeline_run(&self, run: &NewRun<'_>) -> Result<i64> {
        let sql = "INSERT INTO pipeline_runs (pipeline, file_sha256, params, started_by, started_via, started_at, \
                   state, version) VALUES ($1, $2, $3, $4, $5, $6, 'running', $7) RETURNING id";
        let now = OffsetDateTime::now_utc();
        let id: (i64,) = on_db!(self, pool => sqlx::query_as(sql)
            .bind(run.pipeline).bind(run.file_sha256).bind(run.params).bind(run.started_by)
            .bind(run.via.as_str()).bind(now).bind(run.version).fetch_one(pool).await)?;
        Ok(id.0)
    }

    /// Finishes a running run: its steps (JSON), and on failure the step (empty: the file as a
    /// whole) and the reason. A run finishes once; finishing it again changes nothing.
    pub async fn finish_pipeline_run(&self, id: i64, steps: &str, failure: Option<(&str, &str)>) -> Result<()> {
        let sql = "UPDATE pipeline_runs SET finished_at = $1, state = $2, failed_step = $3, reason = $4, steps = $5 \
                   WHERE id = $6 AND state = 'running'";
        let now = OffsetDateTime::now_utc();
        let state = if failure.is_some() { "failed" } else { "succeeded" };
        let (step, reason) = failure.unzip();
        let step = step.filter(|s| !s.is_empty());
        on_db!(self, pool => sqlx::query(sql)
            .bind(now).bind(state).bind(step).bind(reason).bind(steps).bind(id).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// A running run's beat: records how far it is (`progress`, JSON) and that it is alive, and
    /// answers whether someone asked it to stop or it was ended meanwhile.
    pub async fn beat_pipeline_run(&self, id: i64, progress: &str) -> Result<Beat> {
        let sql = "UPDATE pipeline_runs SET progress = $1, beat_at = $2 WHERE id = $3 AND state = 'running' \
                   RETURNING cancel_asked_at";
        let now = OffsetDateTime::now_utc();
        let asked: Option<(Option<OffsetDateTime>,)> = on_db!(self, pool => sqlx::query_as(sql)
            .bind(progress).bind(now).bind(id).fetch_optional(pool).await)?;
        Ok(match asked {
            None => Beat::Ended,
            Some((None,)) => Beat::Going,
            Some((Some(_),)) => Beat::CancelAsked,
        })
    }

    /// Asks a running run to stop, on whichever instance runs it; false if it is not running.
    /// The first ask is kept.
    pub async fn ask_to_cancel_pipeline_run(&self, id: i64, by: i64) -> Result<bool> {
        let sql = "UPDATE pipeline_runs SET cancel_asked_at = COALESCE(cancel_asked_at, $1), \
                   cancel_asked_by = COALESCE(cancel_asked_by, $2) WHERE id = $3 AND state = 'running'";
        let now = OffsetDateTime::now_utc();
        let asked = on_db!(self, pool => sqlx::query(sql).bind(now).bind(by).bind(id).execute(pool).await
            .map(|r| r.rows_affected()))?;
        Ok(asked > 0)
    }

    /// Ends, as failed, the runs still recorded as running whose last sign of life (their last
    /// beat, else their start) is before `silent_since`: runs whose server stopped (a crash, a
    /// kill) before it could record their end. Returns how many.
    pub async fn abandon_pipeline_runs(&self, silent_since: OffsetDateTime) -> Result<u64> {
        let sql = "UPDATE pipeline_runs SET finished_at = $1, state = 'failed', \
                   reason = 'the server stopped before the run ended; nothing it wrote was published' \
                   WHERE state = 'running' AND COALESCE(beat_at, started_at) < $2";
        let now = OffsetDateTime::now_utc();
        let done = on_db!(self, pool => sqlx::query(sql).bind(now).bind(silent_since).execute(pool).await
            .map(|r| r.rows_affected()))?;
        Ok(done)
    }

    /// Saves `text` as `name`'s next version (its first makes the pipeline), unless it is the
    /// current version's text. `based_on` is what the writer started from: if someone has saved
    /// since, nothing is saved (`Changed`), so no edit is silently lost. Audited.
    pub async fn save_pipeline(
        &self,
        name: &str,
        text: &str,
        sha256: &str,
        based_on: Base,
        note: &str,
        actor: i64,
    ) -> Result<Saved> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let current: Option<(i64, i32, String)> = sqlx::query_as(
                "SELECT p.id, p.version, v.sha256 FROM pipelines p \
                 JOIN pipeline_versions v ON v.pipeline_id = p.id AND v.version = p.version WHERE p.name = $1")
                .bind(name).fetch_optional(&mut *tx).await?;
            let stale = match based_on {
                Base::Any => false,
                Base::New => current.is_some(),
                Base::Version(v) => current.as_ref().map(|c| c.1) != Some(v),
            };
            if stale {
                return Err(StoreError::Changed("the pipeline"));
            }
            match current {
                Some((_, version, sha)) if sha == sha256 => Saved::Unchanged(version),
                Some((id, version, _)) => {
                    let next = version + 1;
                    sqlx::query("UPDATE pipelines SET version = $1 WHERE id = $2").bind(next).bind(id).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO pipeline_versions (pipeline_id, version, text, sha256, saved_by, saved_at, note) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(id).bind(next).bind(text).bind(sha256).bind(actor).bind(now).bind(note).execute(&mut *tx).await?;
                    write_audit!(tx, Audit::new(now, actor, "save", "pipeline", name).before(format!("version {version}")).after(format!("version {next}, sha256 {sha256}")).reason(note));
                    Saved::New(next)
                }
                None => {
                    let id: i64 = sqlx::query_scalar("INSERT INTO pipelines (name, version, created_at) VALUES ($1, 1, $2) RETURNING id")
                        .bind(name).bind(now).fetch_one(&mut *tx).await?;
                    sqlx::query("INSERT INTO pipeline_versions (pipeline_id, version, text, sha256, saved_by, saved_at, note) \
                                 VALUES ($1, 1, $2, $3, $4, $5, $6)")
                        .bind(id).bind(text).bind(sha256).bind(actor).bind(now).bind(note).execute(&mut *tx).await?;
                    write_audit!(tx, Audit::new(now, actor, "create", "pipeline", name).after(format!("version 1, sha256 {sha256}")).reason(note));
                    Saved::New(1)
                }
            }
        })
    }

    /// A pipeline's text: its current version, or the version asked for.
    pub async fn pipeline_version(&self, name: &str, version: Option<i32>) -> Result<Option<PipelineVersion>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM pipelines p JOIN pipeline_versions v ON v.pipeline_id = p.id \
             WHERE p.name = $1 AND v.version = COALESCE($2, p.version)"
        );
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(name).bind(version).fetch_optional(pool).await)?)
    }

    /// Every version of a pipeline, newest first.
    pub async fn pipeline_versions(&self, name: &str) -> Result<Vec<PipelineVersion>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM pipelines p JOIN pipeline_versions v ON v.pipeline_id = p.id \
             WHERE p.name = $1 ORDER BY v.version DESC"
        );
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(name).fetch_all(pool).await)?)
    }

    /// The stored pipelines by name, each with its current version.
    pub async fn pipelines(&self) -> Result<Vec<StoredPipeline>> {
        let sql = "SELECT p.name, p.version, v.saved_at, v.saved_by FROM pipelines p \
                   JOIN pipeline_versions v ON v.pipeline_id = p.id AND v.version = p.version ORDER BY p.name";
        Ok(on_db!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
    }

    /// The latest runs, newest first, of one pipeline or of all.
    pub async fn pipeline_runs(&self, pipeline: Option<&str>, limit: i64) -> Result<Vec<PipelineRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE ($1 IS NULL OR pipeline = $1) ORDER BY id DESC LIMIT $2"
        );
        on_db!(self, pool => sqlx::query_as(&sql).bind(pipeline).bind(limit).fetch_all(pool).await).map_err(Into::into)
    }

    /// Each pipeline's latest run.
    pub async fn latest_pipeline_runs(&self) -> Result<Vec<PipelineRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE id IN (SELECT max(id) FROM pipeline_runs GROUP BY pipeline) \
             ORDER BY pipeline"
        );
        on_db!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await).map_err(Into::into)
    }

    /// One run, by id.
    pub async fn pipeline_run(&self, id: i64) -> Result<Option<PipelineRun>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM pipeline_runs WHERE id = $1");
        on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    #[tokio::test]
    async fn a_run_is_recorded_running_then_finished_once() {
        for t in TestDb::each().await {
            let db = &t.db;
            let new = NewRun {
                pipeline: "month-batch",
                file_sha256: "ab12",
                params: r#"{"month":"2026-11"}"#,
                started_by: None,
                via: StartedVia::Command,
                version: None,
            };
            let first = db.start_pipeline_run(&new).await.unwrap();
            let second = db.start_pipeline_run(&NewRun { pipeline: "agency-csv", ..new.clone() }).await.unwrap();
            let runs = db.pipeline_runs(Some("month-batch"), 10).await.unwrap();
            assert_eq!(runs.len(), 1);
            let before_both = runs[0].started_at - time::Duration::seconds(1);
            assert_eq!(
                db.abandon_pipeline_runs(before_both).await.unwrap(),
                0,
                "{}: none started before",
                db.backend()
            );
            assert_eq!(db.pipeline_run(first).await.unwrap().map(|r| r.pipeline), Some("month-batch".into()));
            assert!(db.pipeline_run(second + 1).await.unwrap().is_none());
            assert_eq!((runs[0].id, runs[0].state.as_str(), runs[0].finished_at), (first, "running", None));

            db.finish_pipeline_run(first, "[]", Some(("ledger", "2026-11 is not closed"))).await.unwrap();
            db.finish_pipeline_run(first, r#"[{"name":"x"}]"#, None).await.unwrap();
            db.finish_pipeline_run(second, r#"[{"name":"sheets"}]"#, None).await.unwrap();
            let all = db.pipeline_runs(None, 10).await.unwrap();
            assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [second, first], "newest first");
            let latest: Vec<(String, i64)> =
                db.latest_pipeline_runs().await.unwrap().into_iter().map(|r| (r.pipeline, r.id)).collect();
            assert_eq!(latest, [("agency-csv".to_owned(), second), ("month-batch".to_owned(), first)]);
            let failed = &all[1];
            assert_eq!(
                (failed.state.as_str(), failed.failed_step.as_deref(), failed.reason.as_deref(), failed.steps.as_str()),
                ("failed", Some("ledger"), Some("2026-11 is not closed"), "[]"),
                "finished once: the second finish changed nothing"
            );
            assert!(failed.finished_at.is_some());
            assert_eq!((all[0].state.as_str(), all[0].started_via.as_str()), ("succeeded", "command"));

            // A run whose server stopped is ended as failed when a server starts; ended runs stay.
            let stranded = db.start_pipeline_run(&new).await.unwrap();
            let later = OffsetDateTime::now_utc() + time::Duration::seconds(1);
            assert_eq!(db.abandon_pipeline_runs(later).await.unwrap(), 1, "{}", db.backend());
            let run = db.pipeline_run(stranded).await.unwrap().unwrap();
            assert_eq!(run.state, "failed");
            assert!(run.reason.unwrap().starts_with("the server stopped before the run ended"));
            assert_eq!(db.pipeline_run(second).await.unwrap().unwrap().state, "succeeded");
            t.finish().await;
        }
    }

    #[tokio::test]
    async fn a_running_run_beats_is_asked_to_cancel_from_anywhere_and_is_ended_only_when_silent() {
        for t in TestDb::each().await {
            let db = &t.db;
            let asker = t.user("asker@mcms.example", domain::Role::Builder).await;
            let new = NewRun {
                pipeline: "agency-csv",
                file_sha256: "cd34",
                params: "{}",
                started_by: None,
                via: StartedVia::Page,
                version: Some(1),
            };
            let id = db.start_pipeline_run(&new).await.unwrap();
            let fresh = db.pipeline_run(id).await.unwrap().unwrap();
            assert_eq!((fresh.progress, fresh.beat_at, fresh.cancel_asked_at), (None, None, None));

            let progress = r#"[{"name":"sheets","kind":"source","rows":1200,"done":false}]"#;
            assert_eq!(db.beat_pipeline_run(id, progress).await.unwrap(), Beat::Going, "{}", db.backend());
            let beating = db.pipeline_run(id).await.unwrap().unwrap();
            assert_eq!(beating.progress.as_deref(), Some(progress));
            let beat = beating.beat_at.expect("the beat's time");
            // Silent since before its beat: alive, not ended.
            assert_eq!(db.abandon_pipeline_runs(beat - time::Duration::seconds(1)).await.unwrap(), 0);

            assert!(db.ask_to_cancel_pipeline_run(id, asker).await.unwrap());
            let asked = db.pipeline_run(id).await.unwrap().unwrap().cancel_asked_at.expect("asked");
            assert!(db.ask_to_cancel_pipeline_run(id, asker).await.unwrap(), "asking again is no error");
            assert_eq!(db.pipeline_run(id).await.unwrap().unwrap().cancel_asked_at, Some(asked), "the first ask kept");
            assert_eq!(db.beat_pipeline_run(id, progress).await.unwrap(), Beat::CancelAsked);

            db.finish_pipeline_run(id, "[]", Some(("", "the run was cancelled"))).await.unwrap();
            assert_eq!(db.beat_pipeline_run(id, progress).await.unwrap(), Beat::Ended);
            assert!(!db.ask_to_cancel_pipeline_run(id, asker).await.unwrap(), "an ended run is not asked");

            // A run whose beats stopped is ended by whoever looks later; the ender's run, which
            // beats on, then learns it was ended.
            let silent = db.start_pipeline_run(&new).await.unwrap();
            db.beat_pipeline_run(silent, "[]").await.unwrap();
            let later = OffsetDateTime::now_utc() + time::Duration::seconds(1);
            assert_eq!(db.abandon_pipeline_runs(later).await.unwrap(), 1, "{}", db.backend());
            assert_eq!(db.pipeline_run(silent).await.unwrap().unwrap().state, "failed");
            assert_eq!(db.beat_pipeline_run(silent, "[]").await.unwrap(), Beat::Ended);
            t.finish().await;
        }
    }

    #[tokio::test]
    async fn saving_numbers_versions_keeps_each_and_refuses_a_stale_base() {
        for t in TestDb::each().await {
            let db = &t.db;
            let admin = t.user("builder@mcms.example", domain::Role::Admin).await;
            let save = |text: &'static str, base| async move {
                let sha = format!("{:x}", text.len());
                db.save_pipeline("agency-csv", text, &sha, base, "why", admin).await
            };
            assert_eq!(save("version: 1", Base::New).await.unwrap(), Saved::New(1));
            assert!(matches!(save("version: 1 ", Base::New).await, Err(StoreError::Changed(_))), "the name is taken");
            assert_eq!(save("version: 1\n", Base::Version(1)).await.unwrap(), Saved::New(2));
            // Someone else saved version 2 meanwhile: an edit of version 1 is refused, not lost.
            assert!(matches!(save("version: 1 # mine", Base::Version(1)).await, Err(StoreError::Changed(_))));
            assert_eq!(save("version: 1\n", Base::Any).await.unwrap(), Saved::Unchanged(2), "same text");
            let versions = db.pipeline_versions("agency-csv").await.unwrap();
            assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 1]);
            assert_eq!(db.pipeline_version("agency-csv", Some(1)).await.unwrap().unwrap().text, "version: 1");
            assert_eq!(db.pipeline_version("agency-csv", None).await.unwrap().unwrap().text, "version: 1\n");
            assert_eq!(db.pipeline_version("nope", None).await.unwrap(), None);
            let listed = db.pipelines().await.unwrap();
            assert_eq!((listed.len(), listed[0].version, listed[0].saved_by), (1, 2, admin));
            let trail = db.audit_trail("pipeline", "agency-csv").await.unwrap();
            assert_eq!(trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["create", "save"]);
            t.finish().await;
        }
    }
}
