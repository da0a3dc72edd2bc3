//! PoC reports (viewers and up): the verdict per scenario, each system against the best for the
//! same scenario and parameters, charts drawn on the server, filters, CSV export; runs recorded
//! from a file (admins).

mod charts;
mod report;

pub use report::PocPage;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};
#[cfg(feature = "ssr")]
use domain::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ReportFilter {
    pub format: String,
    pub compression: String,
    /// File size in MB; empty: any.
    pub size: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub seconds: Option<f64>,
    pub ratio: Option<f64>,
    pub failed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupLine {
    pub scenario: String,
    pub format: String,
    pub compression: String,
    pub file_count: i64,
    pub file_size_mb: i64,
    /// Per system, in the order of [`PocReportView::systems`].
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub scenario: String,
    pub kind: String,
    pub method: String,
    /// The system with the lowest geometric mean in this scenario, if any ran.
    pub best: Option<String>,
    /// Per system; `None` where the scenario has no runs shown.
    pub geomeans: Vec<Option<f64>>,
    pub groups: usize,
}

/// A run that failed, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureLine {
    pub system: String,
    pub scenario: String,
    pub params: String,
    pub run_date: String,
    pub error: String,
}

/// One successful run, for the scatter charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub system: String,
    pub scenario: String,
    pub file_size_mb: i64,
    pub seconds: f64,
    pub mb_per_s: f64,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemLine {
    pub name: String,
    pub edition: String,
    pub region: String,
    pub configuration: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PocReportView {
    pub id: i64,
    pub title: String,
    pub goal: String,
    pub status: String,
    pub decision: String,
    pub systems: Vec<SystemLine>,
    /// Geometric mean of each system's ratios over every group shown (1.0 is best).
    pub summary: Vec<Option<f64>>,
    pub verdicts: Vec<Verdict>,
    pub groups: Vec<GroupLine>,
    pub points: Vec<Point>,
    /// Every failed run shown, retried or not.
    pub failures: Vec<FailureLine>,
    pub runs: usize,
    pub failed_runs: usize,
    pub filter: ReportFilter,
    pub formats: Vec<String>,
    pub compressions: Vec<String>,
    pub sizes: Vec<i64>,
    pub can_record: bool,
}

#[cfg(feature = "ssr")]
pub fn run_filter(f: &ReportFilter) -> store::poc::RunFilter {
    let pick = |v: &str, allowed: &[&str]| Some(v.trim().to_owned()).filter(|v| allowed.contains(&v.as_str()));
    let size = f.size.trim().parse::<i64>().ok().filter(|s| *s >= 0);
    store::poc::RunFilter {
        format: pick(&f.format, &domain::poc::FORMATS),
        compression: pick(&f.compression, &domain::poc::COMPRESSIONS),
        min_file_mb: size,
        max_file_mb: size,
    }
}

/// The report of the first PoC (the one MCMS records), with the runs `filter` lets through.
#[server(endpoint = "poc/report")]
pub async fn poc_report(
    #[server(default)] format: String,
    #[server(default)] compression: String,
    #[server(default)] size: String,
) -> Result<PocReportView, AppError> {
    use domain::poc::{Outcome, compare, geometric_mean};
    let filter = ReportFilter { format, compression, size };
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let db = &caller.state.db;
    let poc = db.pocs().await?.into_iter().next().ok_or(AppError::NotFound)?;
    let systems = db.poc_systems(poc.id).await?;
    let names: Vec<String> = systems.iter().map(|s| s.name.clone()).collect();
    let scenarios = db.poc_scenarios(poc.id).await?;
    let all = db.poc_runs(poc.id, &store::poc::RunFilter::default()).await?;
    let mut formats: Vec<String> = all.iter().map(|r| r.params.format.clone()).collect();
    let mut compressions: Vec<String> = all.iter().map(|r| r.params.compression.clone()).collect();
    let mut sizes: Vec<i64> = all.iter().map(|r| r.params.file_size_mb).collect();
    for list in [&mut formats, &mut compressions] {
        list.sort();
        list.dedup();
    }
    sizes.sort_unstable();
    sizes.dedup();
    let wanted = run_filter(&filter);
    let runs: Vec<_> = all
        .into_iter()
        .filter(|r| wanted.format.as_ref().is_none_or(|f| *f == r.params.format))
        .filter(|r| wanted.compression.as_ref().is_none_or(|c| *c == r.params.compression))
        .filter(|r| wanted.min_file_mb.is_none_or(|s| r.params.file_size_mb == s))
        .collect();
    let comparison = compare(&names, &runs);
    let verdicts = scenarios
        .iter()
        .map(|s| {
            let groups: Vec<_> = comparison.groups.iter().filter(|g| g.scenario == s.name).collect();
            let geomeans: Vec<Option<f64>> = (0..names.len())
                .map(|i| geometric_mean(groups.iter().map(|g| g.outcomes[i].counted_ratio())))
                .collect();
            let best = geomeans
                .iter()
                .enumerate()
                .filter_map(|(i, g)| Some((i, (*g)?)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| names[i].clone());
            Verdict {
                scenario: s.name.clone(),
                kind: s.kind.clone(),
                method: s.method.clone(),
                best,
                geomeans,
                groups: groups.len(),
            }
        })
        .collect();
    let groups = comparison
        .groups
        .iter()
        .map(|g| GroupLine {
            scenario: g.scenario.clone(),
            format: g.params.format.clone(),
            compression: g.params.compression.clone(),
            file_count: g.params.file_count,
            file_size_mb: g.params.file_size_mb,
            cells: g
                .outcomes
                .iter()
                .map(|o| match o {
                    Outcome::Ran { seconds, ratio } => {
                        Cell { seconds: Some(*seconds), ratio: Some(*ratio), failed: None }
                    }
                    Outcome::Failed { error } => Cell { seconds: None, ratio: None, failed: Some(error.clone()) },
                    Outcome::Missing => Cell { seconds: None, ratio: None, failed: None },
                })
                .collect(),
        })
        .collect();
    let points = runs
        .iter()
        .filter_map(|r| {
            Some(Point {
                system: r.system.clone(),
                scenario: r.scenario.clone(),
                file_size_mb: r.params.file_size_mb,
                seconds: r.load_seconds?,
                mb_per_s: r.mb_per_s()?,
                cost_usd: r.cost_cents.map(|c| c as f64 / 100.0),
            })
        })
        .collect();
    Ok(PocReportView {
        id: poc.id,
        title: poc.title,
        goal: poc.goal,
        status: poc.status,
        decision: poc.decision,
        systems: systems
            .into_iter()
            .map(|s| SystemLine { name: s.name, edition: s.edition, region: s.region, configuration: s.configuration })
            .collect(),
        summary: comparison.summary,
        verdicts,
        groups,
        points,
        failures: runs
            .iter()
            .filter(|r| !r.succeeded())
            .map(|r| FailureLine {
                system: r.system.clone(),
                scenario: r.scenario.clone(),
                params: format!(
                    "{}/{} {} × {} MB",
                    r.params.format, r.params.compression, r.params.file_count, r.params.file_size_mb
                ),
                run_date: r.run_date.to_string(),
                error: r.error.clone().unwrap_or_default(),
            })
            .collect(),
        failed_runs: runs.iter().filter(|r| !r.succeeded()).count(),
        runs: runs.len(),
        filter,
        formats,
        compressions,
        sizes,
        can_record: caller.user()?.role.includes(Role::Admin),
    })
}

/// Records a run file (admins): every row checked first; nothing is stored unless all are right.
#[server(endpoint = "poc/record")]
pub async fn record_runs(csv: String) -> Result<usize, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let actor = caller.user()?.id;
    let db = &caller.state.db;
    let poc = db.pocs().await?.into_iter().next().ok_or(AppError::NotFound)?;
    let systems = db.poc_systems(poc.id).await?;
    let scenarios = db.poc_scenarios(poc.id).await?;
    let runs = domain::poc::parse_runs_csv(
        &csv,
        |s| systems.iter().any(|x| x.name == s),
        |s| scenarios.iter().any(|x| x.name == s),
    )
    .map_err(|problems| AppError::Rows { problems })?;
    let n = db.record_runs(poc.id, &runs, "file", actor).await?;
    tracing::info!(by = actor, poc = poc.id, runs = n, "PoC runs recorded");
    Ok(n)
}
