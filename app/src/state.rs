//! What the server functions need from the running server, provided to them as Leptos context
//! (server only).

use crate::costs::import::Progress;
use store::{Db, LoginThrottle};

/// What the server functions need from the running server, provided as Leptos context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub throttle: LoginThrottle,
    /// A session ends this long after sign-in, however active it is.
    pub absolute_session_secs: i64,
    pub costs: store::costs::CostSettings,
    /// The company's clock: "today" for the cost rules (Korea: UTC+09:00).
    pub business_offset: time::UtcOffset,
    /// Imports being checked or committed on this instance, by draft.
    pub import_progress: ImportProgress,
    /// The largest file and the most rows an import accepts.
    pub import_limits: domain::import::Limits,
    /// Proxies whose `X-Forwarded-For` names the client (sign-in throttle, partner API).
    pub trusted_proxies: std::sync::Arc<[domain::net::IpNet]>,
    /// Pipelines planned and run by the server's engine (the `server` crate provides it).
    pub pipelines: std::sync::Arc<dyn PipelineHost>,
    /// The registered models in memory (the prediction API and the pages' "try it" share them).
    pub serving: std::sync::Arc<service::models::Serving>,
    /// The ingestion lab's engine (the `server` crate provides it).
    pub ingest: std::sync::Arc<dyn IngestHost>,
}

/// A future the pipeline host answers with.
pub type Answer<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What the pipeline pages need from the engine, which lives in the server (DataFusion is not
/// compiled into this crate).
pub trait PipelineHost: Send + Sync + std::fmt::Debug {
    /// The file's own check ([`domain::pipeline::check_draft`]), then every step planned against
    /// its inputs' columns, reading no rows: every problem, with its line and column.
    fn check<'a>(&'a self, text: &'a str) -> Answer<'a, Vec<domain::pipeline::Problem>>;
    /// Records a run of a stored version and starts it on this instance; its id once recorded.
    fn start(&self, run: RunStart) -> Answer<'_, Result<i64, store::StoreError>>;
    /// A run going on on this instance: its steps so far (name, kind, rows so far, done).
    fn progress(&self, run: i64) -> Option<Vec<(String, &'static str, u64, bool)>>;
    /// Asks a run going on on this instance to stop; false if none is.
    fn cancel(&self, run: i64) -> bool;
    /// When a cron expression next names after now (Unix seconds, the company's time zone), or
    /// why it is not one.
    fn next_time(&self, cron: &str) -> Result<Option<i64>, String>;
}

/// What the ingestion lab's pages need from the engine, which lives in the server. Locations are
/// a path inside the data directory or an S3 prefix; anything else is refused.
pub trait IngestHost: Send + Sync + std::fmt::Debug {
    /// Lists and infers the files `ask` names, and plans their layout, estimated from `runs`.
    fn survey<'a>(
        &'a self,
        ask: &'a crate::ingest::Ask,
        runs: &'a [domain::poc::Run],
    ) -> Answer<'a, Result<(domain::ingest::Inferred, domain::ingest::plan::SplitPlan), String>>;
    /// Rewrites the files into the plan's layout, in the data directory's `ingest/{folder}`.
    fn rewrite<'a>(
        &'a self,
        ask: &'a crate::ingest::Ask,
        runs: &'a [domain::poc::Run],
        folder: &'a str,
    ) -> Answer<'a, Result<crate::ingest::Rewritten, String>>;
    /// A watch's load history, newest first, at most `limit` files (read from its target).
    fn history<'a>(
        &'a self,
        watch: &'a store::ingest::Watch,
        limit: i64,
    ) -> Answer<'a, Result<Vec<domain::ingest::watch::Load>, String>>;
}

/// A run to start: a stored version, its parameter values, who asked.
#[derive(Debug, Clone)]
pub struct RunStart {
    pub name: String,
    pub version: i32,
    pub text: String,
    pub params: std::collections::BTreeMap<String, String>,
    pub by: i64,
}

/// How far the checks and commits running on this instance are, for the page that waits on one.
#[derive(Clone, Debug, Default)]
pub struct ImportProgress(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, Progress>>>);

impl ImportProgress {
    pub fn set(&self, draft: i64, progress: Progress) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(draft, progress);
        }
    }

    pub fn get(&self, draft: i64) -> Option<Progress> {
        self.0.lock().ok()?.get(&draft).copied()
    }

    pub fn finish(&self, draft: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&draft);
        }
    }
}

impl AppState {
    pub fn today(&self) -> time::Date {
        time::OffsetDateTime::now_utc().to_offset(self.business_offset).date()
    }

    /// The use cases, over this server's database and settings.
    pub fn service(&self) -> service::Service<'_> {
        service::Service { db: &self.db, costs: &self.costs, today: self.today() }
    }
}
