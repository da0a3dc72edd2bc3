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
