//! The PoC: recording runs (admins, or a recording token) and the tokens scripts record with.

use crate::{Actor, Error, Grant, Result, Service};
use domain::Role;
use domain::keys::ApiKey;
use domain::poc::Run;
use store::poc::{Poc, PocScenario, PocSystem};
use time::Date;

impl Service<'_> {
    /// The PoC being run (MCMS keeps one).
    pub async fn current_poc(&self) -> Result<Poc> {
        self.db.pocs().await?.into_iter().next().ok_or(Error::Store(store::StoreError::NotFound))
    }

    /// Stores checked runs of PoC `poc`, all in one transaction. `source` says how they came
    /// (`file`, `api`).
    pub async fn record_runs(&self, actor: &Actor, poc: i64, runs: &[Run], source: &'static str) -> Result<usize> {
        if actor.grant != Grant::PocRecorder {
            actor.require(Role::Admin)?;
        }
        let n = self.db.record_runs(poc, runs, source, actor.id).await?;
        tracing::info!(by = actor.id, poc, runs = n, source, "PoC runs recorded");
        Ok(n)
    }

    /// Records a run MCMS measured itself (a rewrite or a watch's period, by the ingestion lab)
    /// under `run.system`, adding that system and the run's scenario to the PoC first when they
    /// are not in it. Admins only.
    pub async fn record_local_run(&self, actor: &Actor, poc: i64, run: &Run) -> Result<usize> {
        actor.require(Role::Admin)?;
        if !self.db.poc_systems(poc).await?.iter().any(|s| s.name == run.system) {
            let system = PocSystem {
                name: run.system.clone(),
                edition: "MCMS, measured locally".into(),
                region: "local".into(),
                configuration: "the machine MCMS runs on".into(),
            };
            self.db.add_poc_system(poc, &system).await?;
        }
        // Likewise its scenario: a rewrite is a batch load, a watch's period near-real-time.
        if !self.db.poc_scenarios(poc).await?.iter().any(|s| s.name == run.scenario) {
            let (kind, method) = match run.scenario.as_str() {
                "cdc_microbatch" => ("near_real_time", "files polled and loaded as they arrive (mcms ingest watch)"),
                _ => ("batch_load", "files rewritten into the planned layout (mcms ingest split)"),
            };
            let scenario = PocScenario { name: run.scenario.clone(), kind: kind.into(), method: method.into() };
            self.db.add_poc_scenario(poc, &scenario).await?;
        }
        self.record_runs(actor, poc, std::slice::from_ref(run), "ingest").await
    }

    /// Issues a recording token labelled `label` (1 to 200 characters). With `expires_on` it works
    /// to the end of that day (UTC), which may not be in the past.
    pub async fn issue_poc_token(&self, actor: &Actor, label: &str, expires_on: Option<Date>) -> Result<ApiKey> {
        actor.require(Role::Admin)?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(Error::invalid("label", "poc.token_label"));
        }
        let expires_at = match expires_on {
            Some(day) if day < self.today => return Err(Error::invalid("expires_on", "key.expiry_past")),
            Some(day) => Some(day.next_day().unwrap_or(day).midnight().assume_utc()),
            None => None,
        };
        let poc = self.current_poc().await?;
        let token = self.db.issue_poc_token(poc.id, label, expires_at, actor.id).await?;
        tracing::info!(by = actor.id, prefix = token.prefix(), "PoC token issued");
        Ok(token)
    }

    /// Revokes the recording token with this prefix.
    pub async fn revoke_poc_token(&self, actor: &Actor, prefix: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.revoke_poc_token(prefix.trim(), actor.id).await?;
        tracing::info!(by = actor.id, prefix = prefix.trim(), "PoC token revoked");
        Ok(())
    }
}
