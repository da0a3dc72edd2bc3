//! The data-warehouse proof of concept: recorded ingestion runs, the file they are loaded from,
//! and the relative comparison the reports show (in the manner of ClickBench: each run against the
//! best system for the same scenario and parameters, summarised by a geometric mean; a failed or
//! missing run counts, with a penalty, and is shown as such).

use crate::fx::RowProblem;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// The ratio a failed or missing run counts as: ten times slower than the best.
pub const PENALTY_RATIO: f64 = 10.0;
/// Added to both times of a ratio, so that sub-second loads do not decide everything.
pub const RATIO_FLOOR_SECONDS: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScenarioKind {
    BatchLoad,
    NearRealTime,
    DataSharing,
    Connector,
}

impl ScenarioKind {
    pub const ALL: [ScenarioKind; 4] =
        [ScenarioKind::BatchLoad, ScenarioKind::NearRealTime, ScenarioKind::DataSharing, ScenarioKind::Connector];

    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioKind::BatchLoad => "batch_load",
            ScenarioKind::NearRealTime => "near_real_time",
            ScenarioKind::DataSharing => "data_sharing",
            ScenarioKind::Connector => "connector",
        }
    }

    pub fn parse(text: &str) -> Option<ScenarioKind> {
        ScenarioKind::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }
}

/// The parameters that make two runs comparable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Params {
    pub format: String,
    pub compression: String,
    pub file_count: i64,
    pub file_size_mb: i64,
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub system: String,
    pub scenario: String,
    pub params: Params,
    pub total_bytes: i64,
    pub rows: i64,
    /// `None` when the run failed.
    pub load_seconds: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub credits: Option<f64>,
    /// US cents.
    pub cost_cents: Option<i64>,
    pub error: Option<String>,
    pub run_date: Date,
    pub system_version: String,
    pub run_by: String,
    pub notes: String,
}

impl Run {
    pub fn succeeded(&self) -> bool {
        self.load_seconds.is_some() && self.error.is_none()
    }

    /// Megabytes per second, from the bytes loaded and the time it took.
    pub fn mb_per_s(&self) -> Option<f64> {
        self.load_seconds.filter(|s| *s > 0.0).map(|s| self.total_bytes as f64 / 1_048_576.0 / s)
    }

    pub fn rows_per_s(&self) -> Option<f64> {
        self.load_seconds.filter(|s| *s > 0.0).map(|s| self.rows as f64 / s)
    }
}

/// How one system did in one group (scenario + parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Its best time and the ratio to the best system's.
    Ran { seconds: f64, ratio: f64 },
    /// It ran and failed every time (the last error).
    Failed { error: String },
    /// It never ran in this group.
    Missing,
}

impl Outcome {
    /// The ratio this outcome counts as in the summary.
    pub fn counted_ratio(&self) -> f64 {
        match self {
            Outcome::Ran { ratio, .. } => *ratio,
            Outcome::Failed { .. } | Outcome::Missing => PENALTY_RATIO,
        }
    }
}

/// One group: a scenario with one set of parameters, and each system's outcome in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub scenario: String,
    pub params: Params,
    /// Per system, in the order of [`Comparison::systems`].
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub systems: Vec<String>,
    pub groups: Vec<Group>,
    /// Per system: the geometric mean of its counted ratios over every group (1.0 is best);
    /// `None` when there is no group.
    pub summary: Vec<Option<f64>>,
}

/// Compares every system in every group any system ran in. Within a group a system's best
/// successful time counts; the best of those is 1.0; a system that only failed, or never ran,
/// counts as [`PENALTY_RATIO`].
pub fn compare<'a>(systems: &[String], runs: impl IntoIterator<Item = &'a Run>) -> Comparison {
    // Per group, per system: its best successful time, and its last error.
    type Slot = (Option<f64>, Option<String>);
    let mut groups: BTreeMap<(String, Params), Vec<Slot>> = BTreeMap::new();
    for run in runs {
        let Some(i) = systems.iter().position(|s| *s == run.system) else { continue };
        let slots = groups
            .entry((run.scenario.clone(), run.params.clone()))
            .or_insert_with(|| vec![(None, None); systems.len()]);
        let slot = &mut slots[i];
        if run.succeeded() {
            let seconds = run.load_seconds.unwrap_or(f64::INFINITY);
            slot.0 = Some(slot.0.map_or(seconds, |best: f64| best.min(seconds)));
        } else {
            slot.1 = Some(run.error.clone().unwrap_or_else(|| "failed".to_owned()));
        }
    }
    let groups: Vec<Group> = groups
        .into_iter()
        .map(|((scenario, params), slots)| {
            let best = slots.iter().filter_map(|s| s.0).fold(f64::INFINITY, f64::min);
            let outcomes = slots
                .into_iter()
                .map(|(seconds, error)| match (seconds, error) {
                    (Some(s), _) => {
                        Outcome::Ran { seconds: s, ratio: (s + RATIO_FLOOR_SECONDS) / (best + RATIO_FLOOR_SECONDS) }
                    }
                    (None, Some(error)) => Outcome::Failed { error },
                    (None, None) => Outcome::Missing,
                })
                .collect();
            Group { scenario, params, outcomes }
        })
        .collect();
    let summary =
        (0..systems.len()).map(|i| geometric_mean(groups.iter().map(|g| g.outcomes[i].counted_ratio()))).collect();
    Comparison { systems: systems.to_vec(), groups, summary }
}

/// The geometric mean, `None` for no values.
pub fn geometric_mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u32);
    for v in values {
        sum += v.ln();
        n += 1;
    }
    (n > 0).then(|| (sum / f64::from(n)).exp())
}

/// The header a run file must have, in this order (`load_seconds` empty and `error` set for a
/// failed run).
pub const RUN_COLUMNS: [&str; 18] = [
    "system",
    "scenario",
    "format",
    "compression",
    "file_count",
    "file_size_mb",
    "total_bytes",
    "rows",
    "load_seconds",
    "latency_p50_ms",
    "latency_p95_ms",
    "credits",
    "cost_usd",
    "error",
    "run_date",
    "system_version",
    "run_by",
    "notes",
];

/// A run as the cells of a run file, in the order of [`RUN_COLUMNS`]: what the CSV export writes
/// and the edit form shows, so that either reads back as the same run.
pub fn run_cells(r: &Run) -> Vec<String> {
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    vec![
        r.system.clone(),
        r.scenario.clone(),
        r.params.format.clone(),
        r.params.compression.clone(),
        r.params.file_count.to_string(),
        r.params.file_size_mb.to_string(),
        r.total_bytes.to_string(),
        r.rows.to_string(),
        opt(r.load_seconds),
        opt(r.latency_p50_ms),
        opt(r.latency_p95_ms),
        opt(r.credits),
        r.cost_cents.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default(),
        r.error.clone().unwrap_or_default(),
        r.run_date.to_string(),
        r.system_version.clone(),
        r.run_by.clone(),
        r.notes.clone(),
    ]
}

pub const FORMATS: [&str; 4] = ["csv", "parquet", "json", "avro"];
pub const COMPRESSIONS: [&str; 4] = ["none", "gzip", "zstd", "snappy"];

/// Checks one run given as its cells in the order of [`RUN_COLUMNS`] (from a file row, or from a
/// JSON object the recording endpoint received): the run, or every (code, detail) wrong with it.
/// Which systems and scenarios exist is for the store to say.
pub fn check_run(r: &[&str]) -> Result<Run, Vec<(&'static str, String)>> {
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    if r.len() != RUN_COLUMNS.len() {
        return Err(vec![("poc.columns", format!("{} cells", r.len()))]);
    }
    let text = |i: usize| r[i].trim();
    for (i, code) in [(0, "poc.system_missing"), (1, "poc.scenario_missing")] {
        if text(i).is_empty() {
            problems.push((code, String::new()));
        }
    }
    let format = text(2).to_ascii_lowercase();
    if !FORMATS.contains(&format.as_str()) {
        problems.push(("poc.format_unknown", text(2).to_owned()));
    }
    let compression = text(3).to_ascii_lowercase();
    if !COMPRESSIONS.contains(&compression.as_str()) {
        problems.push(("poc.compression_unknown", text(3).to_owned()));
    }
    let mut count = |i: usize, min: i64| match text(i).replace(',', "").parse::<i64>() {
        Ok(n) if n >= min => n,
        _ => {
            problems.push(("poc.count_invalid", format!("{}: {}", RUN_COLUMNS[i], text(i))));
            0
        }
    };
    let (file_count, file_size_mb, total_bytes, rows) = (count(4, 1), count(5, 0), count(6, 0), count(7, 0));
    let mut measure = |i: usize| -> Option<f64> {
        match text(i) {
            "" => None,
            v => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
                _ => {
                    problems.push(("poc.measure_invalid", format!("{}: {v}", RUN_COLUMNS[i])));
                    None
                }
            },
        }
    };
    let (load_seconds, p50, p95, credits) = (measure(8), measure(9), measure(10), measure(11));
    let cost_cents = match text(12) {
        "" => None,
        v => match crate::Money::parse(v, crate::Currency::USD) {
            Ok(m) if m.minor >= 0 => Some(m.minor),
            _ => {
                problems.push(("poc.cost_invalid", v.to_owned()));
                None
            }
        },
    };
    let error = Some(text(13).to_owned()).filter(|e| !e.is_empty());
    match (load_seconds, &error) {
        (None, None) => problems.push(("poc.outcome_missing", String::new())),
        (Some(_), Some(e)) => problems.push(("poc.outcome_both", e.clone())),
        _ => {}
    }
    if let (Some(p50), Some(p95)) = (p50, p95)
        && p95 < p50
    {
        problems.push(("poc.latency_order", format!("{p95} < {p50}")));
    }
    let run_date = crate::costs::parse_date(text(14));
    if run_date.is_none() {
        problems.push(("poc.date_invalid", text(14).to_owned()));
    }
    if text(16).is_empty() {
        problems.push(("poc.run_by_missing", String::new()));
    }
    match run_date {
        Some(run_date) if problems.is_empty() => Ok(Run {
            system: text(0).to_owned(),
            scenario: text(1).to_owned(),
            params: Params { format, compression, file_count, file_size_mb },
            total_bytes,
            rows,
            load_seconds,
            latency_p50_ms: p50,
            latency_p95_ms: p95,
            credits,
            cost_cents,
            error,
            run_date,
            system_version: text(15).to_owned(),
            run_by: text(16).to_owned(),
            notes: text(17).to_owned(),
        }),
        _ => Err(problems),
    }
}

/// Reads a run file. Either every row is good and all come back, or every problem comes back
/// with its row; `known_system` and `known_scenario` say which names the PoC has.
pub fn parse_runs_csv(
    text: &str,
    known_system: impl Fn(&str) -> bool,
    known_scenario: impl Fn(&str) -> bool,
) -> Result<Vec<Run>, Vec<RowProblem>> {
    let known = |cells: &[&str]| -> Vec<(&'static str, String)> {
        let mut found = Vec::new();
        if cells.first().is_some_and(|s| !s.trim().is_empty() && !known_system(s.trim())) {
            found.push(("poc.system_unknown", cells[0].trim().to_owned()));
        }
        if cells.get(1).is_some_and(|s| !s.trim().is_empty() && !known_scenario(s.trim())) {
            found.push(("poc.scenario_unknown", cells[1].trim().to_owned()));
        }
        found
    };
    let problem = |row: usize, code: &str, detail: &str| RowProblem { row, code: code.into(), detail: detail.into() };
    let (records, mut problems) = crate::fx::table_rows(text, &RUN_COLUMNS, "poc.columns");
    let mut runs = Vec::new();
    for (row, r) in records {
        let cells: Vec<&str> = r.iter().collect();
        let mut found = known(&cells);
        match check_run(&cells) {
            Ok(run) if found.is_empty() => runs.push(run),
            Ok(_) => {}
            Err(more) => found.extend(more),
        }
        problems.extend(found.into_iter().map(|(code, detail)| problem(row, code, &detail)));
    }
    if runs.is_empty() && problems.is_empty() {
        problems.push(problem(1, "poc.empty", ""));
    }
    // Ragged rows were set aside while reading: every problem in row order.
    problems.sort_by_key(|p| p.row);
    if problems.is_empty() { Ok(runs) } else { Err(problems) }
}

#[cfg(test)]
mod tests;
