//! The split plan: what each warehouse does with a set of files as they are, a layout that suits
//! both, and the load time and cost the PoC's recorded runs predict for it.
//!
//! The vendors' guidance it follows (docs/ingest.md cites it):
//! - Snowflake loads one file per thread and does not split a file, so the file count is the
//!   parallelism; it recommends files of about 100–250 MB compressed.
//! - Redshift loads in parallel across the cluster's slices: the file count should be a multiple
//!   of the slices, each file 1 MB–1 GB compressed. It splits large uncompressed CSV and Parquet
//!   files itself (from 128 MB), but never gzip (or other compressed) CSV, nor JSON.

use super::{Compression, FileSummary, Format};
use crate::poc::Run;
use serde::{Deserialize, Serialize};

pub const MB: u64 = 1 << 20;
/// Snowflake's recommended range for compressed files.
pub const SNOWFLAKE_MIN: u64 = 100 * MB;
pub const SNOWFLAKE_MAX: u64 = 250 * MB;
/// Redshift's recommended range for compressed files.
pub const REDSHIFT_MIN: u64 = MB;
pub const REDSHIFT_MAX: u64 = 1024 * MB;
/// The size from which Redshift splits a splittable file into chunks.
pub const REDSHIFT_SPLIT: u64 = 128 * MB;

/// The layout files are rewritten to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayoutFormat {
    Parquet,
    Csv,
}

impl LayoutFormat {
    pub fn name(self) -> &'static str {
        match self {
            LayoutFormat::Parquet => "parquet",
            LayoutFormat::Csv => "csv",
        }
    }

    /// The compression a rewrite uses: Snappy inside Parquet, gzip around CSV (the PoC's layouts).
    pub fn compression(self) -> Compression {
        match self {
            LayoutFormat::Parquet => Compression::Snappy,
            LayoutFormat::Csv => Compression::Gzip,
        }
    }
}

/// What one warehouse would do with a set of files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Use {
    pub warehouse: String,
    /// Whether the warehouse splits large files into parallel pieces itself.
    pub splittable: bool,
    /// Pieces loaded in parallel at most (files, or Redshift's chunks of splittable files).
    pub parallel: u64,
    /// What falls outside the warehouse's guidance.
    pub advice: Vec<String>,
}

/// A layout: format, compression, how many files of what size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub format: LayoutFormat,
    pub compression: Compression,
    pub files: u64,
    pub file_bytes: u64,
    pub total_bytes: u64,
}

/// A system's measured throughput for the layout's format over file size, and what it predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub system: String,
    /// (file size in MB, MB/s), the mean of the runs at each size.
    pub points: Vec<(f64, f64)>,
    /// MB/s = c0 + c1·ln(size) + c2·ln(size)², least squares over the points (fewer terms with
    /// fewer distinct sizes).
    pub fit: Vec<f64>,
    pub mb_per_s: f64,
    pub seconds: f64,
    /// US cents: the runs' mean cost per second times the estimated seconds.
    pub cost_cents: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitPlan {
    pub files: u64,
    pub total_bytes: u64,
    pub smallest: u64,
    pub largest: u64,
    pub compression: Compression,
    pub now: Vec<Use>,
    pub proposed: Layout,
    pub then: Vec<Use>,
    pub estimates: Vec<Estimate>,
    pub notes: Vec<String>,
}

fn mb(bytes: u64) -> String {
    if bytes >= 10 * MB { format!("{} MB", bytes / MB) } else { format!("{:.1} MB", bytes as f64 / MB as f64) }
}

/// Whether Redshift splits a file of this format and compression itself.
pub fn redshift_splits(format: &Format, compression: Compression) -> bool {
    match format {
        Format::Parquet => true,
        Format::Csv { .. } => compression == Compression::None,
        Format::JsonLines => false,
    }
}

/// What Snowflake and Redshift (with `slices` slices) would do with files of these sizes.
pub fn uses(sizes: &[u64], format: &Format, compression: Compression, slices: u64) -> Vec<Use> {
    let slices = slices.max(1);
    let n = sizes.len() as u64;
    let mut snowflake = Vec::new();
    let small = sizes.iter().filter(|b| **b < SNOWFLAKE_MIN).count();
    let large = sizes.iter().filter(|b| **b > SNOWFLAKE_MAX).count();
    if small > 0 {
        snowflake.push(format!(
            "{small} of {n} files are under 100 MB: per-file overhead dominates (Snowflake recommends 100–250 MB compressed)"
        ));
    }
    if large > 0 {
        snowflake
            .push(format!("{large} of {n} files are over 250 MB: Snowflake loads each file on one thread; split them"));
    }
    let splits = redshift_splits(format, compression);
    let chunks: u64 =
        sizes.iter().map(|b| if splits && *b >= REDSHIFT_SPLIT { b.div_ceil(REDSHIFT_SPLIT) } else { 1 }).sum();
    let mut redshift = Vec::new();
    if !splits && !n.is_multiple_of(slices) {
        redshift.push(format!(
            "{n} files on {slices} slices: the last round loads {} file(s) while {} slices wait; use a multiple of {slices}",
            n % slices,
            slices - n % slices
        ));
    }
    if !splits && n < slices {
        redshift.push(format!("{n} file(s) for {slices} slices: most slices sit idle"));
    }
    let tiny = sizes.iter().filter(|b| **b < REDSHIFT_MIN).count();
    let huge = sizes.iter().filter(|b| **b > REDSHIFT_MAX).count();
    if tiny > 0 {
        redshift.push(format!("{tiny} files are under 1 MB (Redshift recommends 1 MB–1 GB compressed)"));
    }
    if huge > 0 && !splits {
        let what = match format {
            Format::JsonLines => "JSON".to_owned(),
            _ => format!("{} CSV", compression.name()),
        };
        redshift.push(format!("{huge} files are over 1 GB and {what} is never split: one slice reads each"));
    }
    vec![
        Use { warehouse: "snowflake".into(), splittable: false, parallel: n, advice: snowflake },
        Use { warehouse: "redshift".into(), splittable: splits, parallel: chunks, advice: redshift },
    ]
}

/// A layout for `total_bytes` (after rewriting) that suits both: files of at most 250 MB, as
/// few as that allows, their count rounded up to a multiple of the slices while files stay ≥ 1 MB.
pub fn layout(total_bytes: u64, format: LayoutFormat, slices: u64) -> Layout {
    let slices = slices.max(1);
    let fewest = total_bytes.div_ceil(SNOWFLAKE_MAX).max(1);
    let rounded = fewest.div_ceil(slices) * slices;
    let files = if total_bytes / rounded >= REDSHIFT_MIN {
        rounded
    } else {
        // Too little data for a file per slice of at least 1 MB.
        (total_bytes / REDSHIFT_MIN).clamp(1, rounded)
    };
    Layout { format, compression: format.compression(), files, file_bytes: total_bytes.div_ceil(files), total_bytes }
}

/// Least squares polynomial of `degree` (≤ 2) through `points`.
fn fit(points: &[(f64, f64)], degree: usize) -> Option<Vec<f64>> {
    let k = degree + 1;
    let mut a = vec![vec![0.0; k + 1]; k];
    for &(x, y) in points {
        let powers: Vec<f64> = (0..k).map(|i| x.powi(i as i32)).collect();
        for r in 0..k {
            for c in 0..k {
                a[r][c] += powers[r] * powers[c];
            }
            a[r][k] += powers[r] * y;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..k {
        let pivot = (col..k).max_by(|x, y| a[*x][col].abs().total_cmp(&a[*y][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let factor = row[col] / pivot_row[col];
                for (cell, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *cell -= factor * p;
                }
            }
        }
    }
    Some((0..k).map(|i| a[i][k] / a[i][i]).collect())
}

/// Each system's estimate for `layout`, from the successful batch runs of the same format and
/// compression.
pub fn estimates(runs: &[Run], layout: &Layout) -> Vec<Estimate> {
    let mut systems: Vec<&str> = runs.iter().map(|r| r.system.as_str()).collect();
    systems.sort_unstable();
    systems.dedup();
    let mut out = Vec::new();
    for system in systems {
        let same: Vec<&Run> = runs
            .iter()
            .filter(|r| {
                r.system == system
                    && r.succeeded()
                    && r.scenario.contains("batch")
                    && r.params.format.eq_ignore_ascii_case(layout.format.name())
                    && r.params.compression.eq_ignore_ascii_case(layout.compression.name())
                    && r.params.file_size_mb > 0
            })
            .collect();
        let mut sizes: Vec<i64> = same.iter().map(|r| r.params.file_size_mb).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let points: Vec<(f64, f64)> = sizes
            .iter()
            .filter_map(|size| {
                let rates: Vec<f64> =
                    same.iter().filter(|r| r.params.file_size_mb == *size).filter_map(|r| r.mb_per_s()).collect();
                (!rates.is_empty()).then(|| (*size as f64, rates.iter().sum::<f64>() / rates.len() as f64))
            })
            .collect();
        if points.is_empty() {
            continue;
        }
        let logged: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), *y)).collect();
        let degree = (points.len() - 1).min(2);
        let Some(coefficients) = (0..=degree).rev().find_map(|d| fit(&logged, d)) else { continue };
        // Within the measured sizes only: no extrapolation.
        let (lo, hi) = (points[0].0, points[points.len() - 1].0);
        let x = (layout.file_bytes as f64 / MB as f64).clamp(lo, hi).ln();
        let predicted: f64 = coefficients.iter().enumerate().map(|(i, c)| c * x.powi(i as i32)).sum();
        let (min_rate, max_rate) = points.iter().fold((f64::MAX, 0.0f64), |(a, b), (_, y)| (a.min(*y), b.max(*y)));
        let mb_per_s = predicted.clamp(min_rate, max_rate);
        let seconds = layout.total_bytes as f64 / MB as f64 / mb_per_s;
        let per_second: Vec<f64> =
            same.iter().filter_map(|r| Some(r.cost_cents? as f64 / r.load_seconds.filter(|s| *s > 0.0)?)).collect();
        let cost_cents =
            (!per_second.is_empty()).then(|| per_second.iter().sum::<f64>() / per_second.len() as f64 * seconds);
        out.push(Estimate { system: system.to_owned(), points, fit: coefficients, mb_per_s, seconds, cost_cents });
    }
    out
}

/// The whole plan for `files` of `format`, rewritten to `to` at `ratio` output bytes per input
/// byte, on a Redshift cluster with `slices` slices.
pub fn plan(
    files: &[FileSummary],
    format: &Format,
    to: LayoutFormat,
    ratio: f64,
    slices: u64,
    runs: &[Run],
) -> SplitPlan {
    let sizes: Vec<u64> = files.iter().map(|f| f.bytes).collect();
    let total: u64 = sizes.iter().sum();
    let compression = files.first().map_or(Compression::None, |f| f.compression);
    let out_total = ((total as f64) * ratio.max(0.0)).round() as u64;
    let proposed = layout(out_total.max(1), to, slices);
    let sizes_then = vec![proposed.file_bytes; proposed.files as usize];
    let format_then = match to {
        LayoutFormat::Parquet => Format::Parquet,
        LayoutFormat::Csv => match format {
            Format::Csv { .. } => *format,
            _ => Format::Csv { delimiter: ',', header: true, encoding: super::Encoding::Utf8 },
        },
    };
    let mut notes = Vec::new();
    if proposed.file_bytes < SNOWFLAKE_MIN {
        notes.push(format!(
            "{} in all: too little for files of 100 MB; {} file(s) of {} keep Redshift's slices busy",
            mb(out_total),
            proposed.files,
            mb(proposed.file_bytes)
        ));
    }
    SplitPlan {
        files: files.len() as u64,
        total_bytes: total,
        smallest: sizes.iter().copied().min().unwrap_or(0),
        largest: sizes.iter().copied().max().unwrap_or(0),
        compression,
        now: uses(&sizes, format, compression, slices),
        then: uses(&sizes_then, &format_then, proposed.compression, slices),
        estimates: estimates(runs, &proposed),
        proposed,
        notes,
    }
}
/// What a rewrite into a layout did, in figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rewritten {
    /// Files read.
    pub inputs: u64,
    /// Files written.
    pub files: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub rows: u64,
    pub seconds: f64,
}

impl Rewritten {
    pub fn mb_per_s(&self) -> f64 {
        if self.seconds > 0.0 { self.bytes_in as f64 / MB as f64 / self.seconds } else { 0.0 }
    }

    /// The rewrite as a `batch_copy` run of `system` in `format`'s layout (what the command line
    /// and the pages record); `via` says where it was made.
    pub fn poc_run(&self, format: LayoutFormat, system: &str, run_by: &str, today: time::Date, via: &str) -> Run {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let files = clamp(self.files).max(1);
        Run {
            system: system.to_owned(),
            scenario: "batch_copy".into(),
            params: crate::poc::Params {
                format: format.name().into(),
                compression: format.compression().name().into(),
                file_count: files,
                file_size_mb: ((clamp(self.bytes_out) / files) >> 20).max(1),
            },
            total_bytes: clamp(self.bytes_out),
            rows: clamp(self.rows),
            load_seconds: Some(self.seconds),
            latency_p50_ms: None,
            latency_p95_ms: None,
            credits: None,
            cost_cents: None,
            error: None,
            run_date: today,
            system_version: env!("CARGO_PKG_VERSION").into(),
            run_by: run_by.to_owned(),
            notes: format!(
                "{via}: {} file(s), {} bytes in, {} MB/s",
                self.inputs,
                self.bytes_in,
                self.mb_per_s().round()
            ),
        }
    }
}
