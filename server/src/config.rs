//! Settings of the web server and how the database URL is found.

use std::path::Path;
use store::LoginThrottle;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where the compiled site (pkg/mcms.js, .wasm, .css) comes from.
    pub site: crate::site::Site,
    /// Mark cookies `Secure` (and name the session cookie `__Host-…`); set when served over https.
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in, however active.
    pub session_max_secs: i64,
    pub throttle: LoginThrottle,
    pub costs: store::costs::CostSettings,
    /// The company's clock for "today" in the cost rules.
    pub business_offset: time::UtcOffset,
    /// The largest file and the most rows an import accepts.
    pub import_limits: domain::import::Limits,
    /// Proxies whose `X-Forwarded-For` names the partner API's client (empty: the socket does).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A request still unanswered after this long is answered 408 (and its work dropped, which
    /// rolls back any transaction it had open).
    pub request_timeout: std::time::Duration,
    /// Requests handled at once; more wait for a turn (inside the request timeout).
    pub max_in_flight: usize,
    /// How long a partner API statistics page is kept per instance (zero: read every time).
    pub api_cache: std::time::Duration,
    /// Pipelines' folder and SQLite connections' paths are inside it.
    pub data_dir: std::path::PathBuf,
    /// Pipeline connections' secrets from the server's configuration (else the environment).
    pub pipeline_secrets: pipeline::Secrets,
    /// Where pipelines run: here, or on a Ballista cluster.
    pub pipeline_engine: pipeline::Engine,
    /// Stops the pipeline runs started from the pages when the server stops.
    pub stopping: crate::runs::Stopping,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            site: crate::site::Site::Embedded,
            secure_cookies: false,
            session_idle_minutes: 8 * 60,
            session_max_secs: 7 * 24 * 3600,
            throttle: LoginThrottle::default(),
            costs: store::costs::CostSettings::default(),
            business_offset: time::UtcOffset::from_hms(9, 0, 0).expect("UTC+09:00 is a valid offset"),
            import_limits: domain::import::Limits::default(),
            trusted_proxies: Vec::new(),
            request_timeout: std::time::Duration::from_secs(60),
            max_in_flight: 512,
            api_cache: std::time::Duration::from_secs(1),
            data_dir: "data".into(),
            pipeline_secrets: pipeline::Secrets::default(),
            pipeline_engine: pipeline::Engine::Embedded,
            stopping: Default::default(),
        }
    }
}

/// The database URL: the explicit one, or an SQLite file in `data_dir` (created if missing).
pub fn database_url(explicit: Option<&str>, data_dir: &Path) -> std::io::Result<String> {
    match explicit.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => Ok(url.to_owned()),
        None => {
            std::fs::create_dir_all(data_dir)?;
            let path = std::path::absolute(data_dir.join("mcms.db"))?;
            Ok(format!("sqlite://{}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_database_is_an_sqlite_file_in_the_data_dir() {
        let dir = std::env::temp_dir().join(format!("mcms-config-{}", std::process::id()));
        let url = database_url(None, &dir).unwrap();
        assert!(url.starts_with("sqlite:///") && url.ends_with("/mcms.db"), "{url}");
        assert!(dir.is_dir(), "the data dir is created");
        assert_eq!(database_url(Some(" postgres://x/y "), &dir).unwrap(), "postgres://x/y");
        assert!(database_url(Some(""), &dir).unwrap().starts_with("sqlite://"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
