//! PoC reports (viewers and up): the verdict per scenario, each system against the best for the
//! same scenario and parameters, charts drawn on the server, filters, CSV export; runs recorded
//! from a file (admins).

pub(crate) mod charts;
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
    /// The latest failure's day.
    pub run_date: String,
    pub error: String,
    /// Failed runs with these parameters.
    pub count: i64,
    /// A later run with the same parameters succeeded.
    pub retried: bool,
}

/// One system's runs with one set of parameters, for the scatter charts: the best throughput,
/// the mean time and the mean cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub system: String,
    pub scenario: String,
    pub file_size_mb: i64,
    pub seconds: f64,
    pub mb_per_s: f64,
    pub cost_usd: Option<f64>,
}

/// One recorded run as its file cells (see [`domain::poc::RUN_COLUMNS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLine {
    pub id: i64,
    pub cells: Vec<String>,
}

/// Runs the report lists under "Recorded runs".
pub const RECENT_RUNS: i64 = 30;

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
    /// Every set of parameters with a failed run, retried or not.
    pub failures: Vec<FailureLine>,
    pub runs: usize,
    pub failed_runs: usize,
    pub filter: ReportFilter,
    pub formats: Vec<String>,
    pub compressions: Vec<String>,
    pub sizes: Vec<i64>,
    pub can_record: bool,
    /// The recording tokens (admins only; empty for others).
    pub tokens: Vec<TokenLine>,
    /// The newest runs shown, to check and (admins) correct.
    pub recent: Vec<RunLine>,
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
#[server(endpoint = "poc/report", output = crate::codec::Json)]
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
    // Runs come folded per system and parameters: the report costs the same for any number of runs.
    let every = db.poc_groups(poc.id, &store::poc::RunFilter::default()).await?;
    let mut formats: Vec<String> = every.iter().map(|g| g.format.clone()).collect();
    let mut compressions: Vec<String> = every.iter().map(|g| g.compression.clone()).collect();
    let mut sizes: Vec<i64> = every.iter().map(|g| g.file_size_mb).collect();
    for list in [&mut formats, &mut compressions] {
        list.sort();
        list.dedup();
    }
    sizes.sort_unstable();
    sizes.dedup();
    let shown = db.poc_groups(poc.id, &run_filter(&filter)).await?;
    // Each group as the comparison reads it: its best successful run, or one failure.
    let representatives: Vec<domain::poc::Run> = shown
        .iter()
        .map(|g| domain::poc::Run {
            system: g.system.clone(),
            scenario: g.scenario.clone(),
            params: domain::poc::Params {
                format: g.format.clone(),
                compression: g.compression.clone(),
                file_count: g.file_count,
                file_size_mb: g.file_size_mb,
            },
            total_bytes: g.total_bytes,
            rows: 0,
            load_seconds: g.best_seconds,
            latency_p50_ms: None,
            latency_p95_ms: None,
            credits: None,
            cost_cents: None,
            error: g.best_seconds.is_none().then(|| g.last_error.clone().unwrap_or_else(|| "failed".into())),
            run_date: g.last_failed.unwrap_or(time::Date::MIN),
            system_version: String::new(),
            run_by: String::new(),
            notes: String::new(),
        })
        .collect();
    let comparison = compare(&names, &representatives);
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
    let points = shown
        .iter()
        .filter_map(|g| {
            let best = g.best_seconds.filter(|s| *s > 0.0)?;
            Some(Point {
                system: g.system.clone(),
                scenario: g.scenario.clone(),
                file_size_mb: g.file_size_mb,
                seconds: g.mean_seconds.unwrap_or(best),
                mb_per_s: g.total_bytes as f64 / 1_048_576.0 / best,
                cost_usd: g.mean_cost_cents.map(|c| c / 100.0),
            })
        })
        .collect();
    let failures = shown
        .iter()
        .filter(|g| g.failures > 0)
        .map(|g| FailureLine {
            system: g.system.clone(),
            scenario: g.scenario.clone(),
            params: format!("{}/{} {} × {} MB", g.format, g.compression, g.file_count, g.file_size_mb),
            run_date: g.last_failed.map(|d| d.to_string()).unwrap_or_default(),
            error: g.last_error.clone().unwrap_or_default(),
            count: g.failures,
            retried: g.best_seconds.is_some(),
        })
        .collect();
    let recent = db
        .poc_recent_runs(poc.id, &run_filter(&filter), RECENT_RUNS)
        .await?
        .into_iter()
        .map(|(id, run)| RunLine { id, cells: domain::poc::run_cells(&run) })
        .collect();
    Ok(PocReportView {
        recent,
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
        failures,
        failed_runs: shown.iter().map(|g| g.failures).sum::<i64>() as usize,
        runs: shown.iter().map(|g| g.runs).sum::<i64>() as usize,
        filter,
        formats,
        compressions,
        sizes,
        can_record: caller.user()?.role.includes(Role::Admin),
        tokens: if caller.user()?.role.includes(Role::Admin) { token_lines(db, poc.id).await? } else { Vec::new() },
    })
}

/// Records a run file (admins): every row checked first; nothing is stored unless all are right.
#[server(endpoint = "poc/record", output = crate::codec::Json)]
pub async fn record_runs(csv: String) -> Result<usize, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let service = caller.state.service();
    let (db, poc) = (&caller.state.db, service.current_poc().await?);
    let systems = db.poc_systems(poc.id).await?;
    let scenarios = db.poc_scenarios(poc.id).await?;
    let runs = domain::poc::parse_runs_csv(
        &csv,
        |s| systems.iter().any(|x| x.name == s),
        |s| scenarios.iter().any(|x| x.name == s),
    )
    .map_err(AppError::rows)?;
    Ok(service.record_runs(&caller.actor()?, poc.id, &runs, "file").await?)
}

/// Records the PoC's status and decision (admins), audited.
#[server(endpoint = "poc/decide", output = crate::codec::Json)]
pub async fn decide_poc(status: String, #[server(default)] decision: String) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let actor = caller.user()?.id;
    if !["planned", "running", "decided"].contains(&status.as_str()) {
        return Err(AppError::invalid("status", "poc.status_unknown"));
    }
    let decision = decision.trim();
    if status == "decided" && decision.is_empty() {
        return Err(AppError::invalid("decision", "poc.decision_missing"));
    }
    if decision.chars().count() > 2_000 {
        return Err(AppError::invalid("decision", "poc.decision_long"));
    }
    let db = &caller.state.db;
    let poc = db.pocs().await?.into_iter().next().ok_or(AppError::NotFound)?;
    db.decide_poc(poc.id, &status, decision, actor).await?;
    tracing::info!(by = actor, poc = poc.id, status = %status, "PoC decision recorded");
    Ok(())
}

/// Corrects one recorded run (admins): checked by the same rules as a run file, audited.
#[server(endpoint = "poc/edit-run", output = crate::codec::Json)]
pub async fn edit_run(id: i64, #[server(default)] cells: Vec<String>) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let actor = caller.user()?.id;
    let db = &caller.state.db;
    let poc = db.pocs().await?.into_iter().next().ok_or(AppError::NotFound)?;
    let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
    let run = domain::poc::check_run(&refs).map_err(|problems| {
        let problems = problems
            .into_iter()
            .map(|(code, detail)| domain::fx::RowProblem { row: 1, code: code.into(), detail })
            .collect();
        AppError::rows(problems)
    })?;
    db.update_run(poc.id, id, &run, actor).await.map_err(|e| match e {
        store::StoreError::Unknown(_) => AppError::invalid("cells", "poc.system_unknown"),
        other => other.into(),
    })?;
    tracing::info!(by = actor, run = id, "PoC run corrected");
    Ok(())
}

/// Takes a mistaken run out of the record (admins), audited. Needs `confirm`.
#[server(endpoint = "poc/withdraw-run", output = crate::codec::Json)]
pub async fn withdraw_run(id: i64, #[server(default)] confirm: bool) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let actor = caller.user()?.id;
    if !confirm {
        return Err(AppError::invalid("confirm", "key.confirm"));
    }
    let db = &caller.state.db;
    let poc = db.pocs().await?.into_iter().next().ok_or(AppError::NotFound)?;
    db.delete_run(poc.id, id, actor).await?;
    tracing::info!(by = actor, run = id, "PoC run withdrawn");
    Ok(())
}

/// A recording token as the console lists it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLine {
    pub prefix: String,
    pub label: String,
    pub issued_by: String,
    pub created_on: String,
    pub expires_on: Option<String>,
    /// `works`, `revoked`, `expired` or `issuer_inactive`.
    pub status: String,
}

/// The PoC's recording tokens (admins).
#[server(endpoint = "poc/tokens", output = crate::codec::Json)]
pub async fn poc_tokens() -> Result<Vec<TokenLine>, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    let Some(poc) = db.pocs().await?.into_iter().next() else { return Ok(Vec::new()) };
    token_lines(db, poc.id).await
}

#[cfg(feature = "ssr")]
async fn token_lines(db: &store::Db, poc: i64) -> Result<Vec<TokenLine>, AppError> {
    let now = time::OffsetDateTime::now_utc();
    Ok(db
        .poc_tokens(poc)
        .await?
        .into_iter()
        .map(|t| TokenLine {
            status: t.state(now).into(),
            prefix: t.prefix,
            label: t.label,
            issued_by: t.issued_by,
            created_on: t.created_at.date().to_string(),
            expires_on: t.expires_at.map(|e| e.date().to_string()),
        })
        .collect())
}

/// A token just issued: shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub prefix: String,
    pub token: String,
}

/// Issues a recording token (admins), audited; it expires at the end of `expires_on` (UTC) if given.
#[server(endpoint = "poc/issue-token", output = crate::codec::Json)]
pub async fn issue_poc_token(label: String, #[server(default)] expires_on: String) -> Result<NewToken, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    crate::post::refuse_plain_form()?;
    let expires_on = match expires_on.trim() {
        "" => None,
        day => Some(domain::costs::parse_date_checked(day).map_err(|p| AppError::invalid("expires_on", p.code()))?),
    };
    let token = caller.state.service().issue_poc_token(&caller.actor()?, &label, expires_on).await?;
    Ok(NewToken { prefix: token.prefix().to_owned(), token: token.reveal().to_owned() })
}

/// Revokes a recording token (admins), audited. Needs `confirm`.
#[server(endpoint = "poc/revoke-token", output = crate::codec::Json)]
pub async fn revoke_poc_token(prefix: String, #[server(default)] confirm: bool) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    if !confirm {
        return Err(AppError::invalid("confirm", "key.confirm"));
    }
    Ok(caller.state.service().revoke_poc_token(&caller.actor()?, &prefix).await?)
}
