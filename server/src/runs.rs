//! Pipelines for the pages: checked by planning every step, and run in the background on this
//! instance. The record of a run is in the database, with its progress as of its last beat
//! (every second), so every instance shows it and a cancel asked on any instance reaches it
//! (`pipelines::run_watched`); the instance running it shows its progress as it is and cancels
//! it at once.

use crate::pipelines::{McmsData, Start, record_end, record_start, run_watched};
use app::state::{Answer, PipelineHost, RunStart};
use pipeline::{CancellationToken, Progress, RunError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store::costs::CostSettings;
use store::pipelines::StartedVia;
use store::{Db, StoreError};
use time::{OffsetDateTime, UtcOffset};

/// The runs going on on this instance, by id, and what they run with.
#[derive(Clone)]
pub struct Runs {
    pub db: Db,
    pub costs: CostSettings,
    /// The company's time zone: `today` and schedules are in it.
    pub offset: UtcOffset,
    /// Folder and SQLite connections' paths are inside it.
    pub data_dir: PathBuf,
    pub secrets: pipeline::Secrets,
    pub engine: pipeline::Engine,
    stopping: Stopping,
    going: Arc<Mutex<HashMap<i64, (CancellationToken, Progress)>>>,
}

impl std::fmt::Debug for Runs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runs").field("data_dir", &self.data_dir).finish_non_exhaustive()
    }
}

impl Runs {
    pub fn new(db: Db, config: &crate::WebConfig) -> Runs {
        Runs {
            db,
            costs: config.costs,
            offset: config.business_offset,
            data_dir: config.data_dir.clone(),
            secrets: config.pipeline_secrets.clone(),
            engine: config.pipeline_engine.clone(),
            stopping: config.stopping.clone(),
            going: Default::default(),
        }
    }

    fn today(&self) -> time::Date {
        OffsetDateTime::now_utc().to_offset(self.offset).date()
    }

    fn settings(&self, mode: pipeline::Mode) -> pipeline::Settings {
        pipeline::Settings {
            today: self.today(),
            base_dir: self.data_dir.clone(),
            secrets: self.secrets.clone(),
            mode,
            cancel: self.stopping.token.child_token(),
            progress: Progress::default(),
            engine: self.engine.clone(),
        }
    }

    fn mcms(&self) -> McmsData {
        McmsData { db: self.db.clone(), settings: self.costs, today: self.today() }
    }
}

/// The server's stop, for the work it runs in the background (page runs, the scheduler): cancelled
/// when the server stops, which then waits a while for that work to record how it ended.
#[derive(Debug, Clone, Default)]
pub struct Stopping {
    token: CancellationToken,
    tasks: tokio_util::task::TaskTracker,
}

impl Stopping {
    /// Runs `work` until it ends or the server stops (its token, cancelled then, is given).
    pub fn spawn<F>(&self, work: impl FnOnce(CancellationToken) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(work(self.token.clone()));
    }

    /// Cancels the runs going on and waits, at most `within`, until each has recorded its end.
    /// Whether they all did.
    pub async fn stop(&self, within: std::time::Duration) -> bool {
        self.token.cancel();
        self.tasks.close();
        tokio::time::timeout(within, self.tasks.wait()).await.is_ok()
    }
}

impl PipelineHost for Runs {
    fn check<'a>(&'a self, text: &'a str) -> Answer<'a, Vec<domain::pipeline::Problem>> {
        Box::pin(async move {
            let checked = match domain::pipeline::check_draft(text) {
                Ok(checked) => checked,
                Err(problems) => return problems,
            };
            let settings = self.settings(pipeline::Mode::Plan);
            match pipeline::check(text, &checked.params, &settings, &self.mcms()).await {
                Ok(_) => Vec::new(),
                Err(problems) => problems,
            }
        })
    }

    fn start(&self, run: RunStart) -> Answer<'_, Result<i64, StoreError>> {
        Box::pin(async move {
            let settings = self.settings(pipeline::Mode::Run);
            let start = Start {
                name: &run.name,
                version: Some(run.version),
                text: &run.text,
                by: Some(run.by),
                via: StartedVia::Page,
            };
            let id = record_start(&self.db, &start, &run.params, settings.today).await?;
            if let Ok(mut going) = self.going.lock() {
                going.insert(id, (settings.cancel.clone(), settings.progress.clone()));
            }
            let this = self.clone();
            self.stopping.spawn(|_| async move {
                let mcms = this.mcms();
                let outcome = match run_watched(&this.db, id, &run.text, &run.params, &settings, &mcms).await {
                    Err(RunError::Cancelled) if this.stopping.token.is_cancelled() => Err(RunError::Step {
                        step: String::new(),
                        reason: "the server stopped during the run; nothing was written".into(),
                    }),
                    outcome => outcome,
                };
                if let Err(e) = record_end(&this.db, id, &outcome).await {
                    tracing::error!(run = id, error = %e, "a pipeline run's end could not be recorded");
                }
                if let Ok(mut going) = this.going.lock() {
                    going.remove(&id);
                }
            });
            Ok(id)
        })
    }

    fn progress(&self, run: i64) -> Option<Vec<(String, &'static str, u64, bool)>> {
        let going = self.going.lock().ok()?;
        let (_, progress) = going.get(&run)?;
        Some(progress.snapshot().into_iter().map(|l| (l.name, l.kind, l.rows, l.done)).collect())
    }

    fn cancel(&self, run: i64) -> bool {
        let going = self.going.lock();
        match going.as_ref().ok().and_then(|g| g.get(&run)) {
            Some((cancel, _)) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }

    fn next_time(&self, cron: &str) -> Result<Option<i64>, String> {
        crate::schedules::parse_cron(cron)?;
        Ok(crate::schedules::next(cron, OffsetDateTime::now_utc().unix_timestamp(), self.offset))
    }
}
