//! Pipeline runs: each recorded when it starts (`running`) and finished once, as succeeded with
//! what each step did, or failed with the step and the reason. A run's parameters and steps are
//! kept as JSON text; the runner makes them, and nothing reads inside them but the pages.

use crate::{Db, Result, on_db};
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
    /// JSON array: each step's name, kind, rows, milliseconds and where it wrote.
    pub steps: String,
}

impl Db {
    /// Records a run as started; its id finishes it.
    pub async fn start_pipeline_run(&self, run: &NewRun<'_>) -> Result<i64> {
        let sql = "INSERT INTO pipeline_runs (pipeline, file_sha256, params, started_by, started_via, started_at, state) \
                   VALUES ($1, $2, $3, $4, $5, $6, 'running') RETURNING id";
        let now = OffsetDateTime::now_utc();
        let id: (i64,) = on_db!(self, pool => sqlx::query_as(sql)
            .bind(run.pipeline).bind(run.file_sha256).bind(run.params).bind(run.started_by)
            .bind(run.via.as_str()).bind(now).fetch_one(pool).await)?;
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

    /// The latest runs, newest first, of one pipeline or of all.
    pub async fn pipeline_runs(&self, pipeline: Option<&str>, limit: i64) -> Result<Vec<PipelineRun>> {
        let sql = "SELECT id, pipeline, file_sha256, params, started_by, started_via, started_at, finished_at, state, \
                   failed_step, reason, steps FROM pipeline_runs WHERE ($1 IS NULL OR pipeline = $1) \
                   ORDER BY id DESC LIMIT $2";
        on_db!(self, pool => sqlx::query_as(sql).bind(pipeline).bind(limit).fetch_all(pool).await).map_err(Into::into)
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
            };
            let first = db.start_pipeline_run(&new).await.unwrap();
            let second = db.start_pipeline_run(&NewRun { pipeline: "agency-csv", ..new.clone() }).await.unwrap();
            let runs = db.pipeline_runs(Some("month-batch"), 10).await.unwrap();
            assert_eq!(runs.len(), 1);
            assert_eq!((runs[0].id, runs[0].state.as_str(), runs[0].finished_at), (first, "running", None));

            db.finish_pipeline_run(first, "[]", Some(("ledger", "2026-11 is not closed"))).await.unwrap();
            db.finish_pipeline_run(first, r#"[{"name":"x"}]"#, None).await.unwrap();
            db.finish_pipeline_run(second, r#"[{"name":"sheets"}]"#, None).await.unwrap();
            let all = db.pipeline_runs(None, 10).await.unwrap();
            assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [second, first], "newest first");
            let failed = &all[1];
            assert_eq!(
                (failed.state.as_str(), failed.failed_step.as_deref(), failed.reason.as_deref(), failed.steps.as_str()),
                ("failed", Some("ledger"), Some("2026-11 is not closed"), "[]"),
                "finished once: the second finish changed nothing"
            );
            assert!(failed.finished_at.is_some());
            assert_eq!((all[0].state.as_str(), all[0].started_via.as_str()), ("succeeded", "command"));
            t.finish().await;
        }
    }
}
