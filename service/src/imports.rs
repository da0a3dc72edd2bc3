//! Imports: storing a checked file as one batch (from the web draft or the command line), and
//! taking a batch back.

use crate::{Actor, Error, Result, Service};
use domain::Role;
use domain::import::RowCheck;
use store::imports::{Batch, NewBatch};

impl Service<'_> {
    /// Stores checked rows as one batch, all or nothing, if [`domain::import::verdict`] allows:
    /// no empty file, no row with an error, warnings only when `accept_warnings`. `progress` hears
    /// how many of how many rows are written.
    pub async fn commit_import(
        &self,
        actor: &Actor,
        batch: NewBatch<'_>,
        checks: Vec<RowCheck>,
        accept_warnings: bool,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Batch> {
        actor.require(Role::Marketer)?;
        domain::import::verdict(&checks, accept_warnings).map_err(|code| {
            Error::invalid(if code == "import.warnings_unaccepted" { "accept_warnings" } else { "rows" }, code)
        })?;
        let started = std::time::Instant::now();
        let entries: Vec<_> = checks.into_iter().filter_map(|c| c.report.entry).collect();
        let total = entries.len();
        progress(0, total);
        let stored = self
            .db
            .commit_import_with_progress(batch, &entries, self.costs, actor.id, &|done| progress(done, total))
            .await?;
        tracing::info!(by = actor.id, batch = stored.id, rows = stored.row_count, "import committed");
        metrics::histogram!("mcms_import_commit_seconds").record(started.elapsed().as_secs_f64());
        Ok(stored)
    }

    /// Takes a whole batch back while its months are open (marketers and admins), audited.
    pub async fn rollback_import(&self, actor: &Actor, batch: i64) -> Result<usize> {
        actor.require(Role::Marketer)?;
        let removed = self.db.rollback_batch(batch, actor.id).await?;
        tracing::info!(by = actor.id, batch, removed, "import rolled back");
        Ok(removed)
    }
}
