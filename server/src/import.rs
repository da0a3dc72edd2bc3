//! `mcms import`: a cost file from the command line, through the same reading, rules and
//! all-or-nothing commit as the web importer; and the error file both write.

use anyhow::{Context, bail};
use app::i18n::Texts;
use domain::import::{Column, Limits, RowCheck, Sheet, auto_mapping, missing_columns, read_file};
use domain::{Lang, Role};
use std::fmt::Write;
use std::path::Path;
use store::Db;
use store::costs::CostSettings;
use store::imports::{NewBatch, content_hash};

/// What to import and how.
pub struct ImportJob<'a> {
    pub path: &'a Path,
    pub as_email: &'a str,
    pub dry_run: bool,
    pub accept_warnings: bool,
    /// Use the column mapping saved for this vendor.
    pub vendor: Option<&'a str>,
    pub limits: Limits,
}

/// Reads, checks and (unless a dry run) commits a file. `Ok` holds the report for standard output;
/// `Err` the report with the reason nothing was stored.
pub async fn import_file(
    db: &Db,
    job: &ImportJob<'_>,
    settings: &CostSettings,
    today: time::Date,
) -> anyhow::Result<String> {
    let t = Texts::for_lang(Lang::En);
    let size = std::fs::metadata(job.path).with_context(|| format!("cannot read {}", job.path.display()))?.len();
    if size > job.limits.max_bytes as u64 {
        bail!("{}: {} ({size} > {} bytes)", job.path.display(), t.error_code("import.too_large"), job.limits.max_bytes);
    }
    let bytes = std::fs::read(job.path).with_context(|| format!("cannot read {}", job.path.display()))?;
    let actor = service::Actor::by_email(db, job.as_email)
        .await
        .and_then(|a| a.require(Role::Marketer).map(|()| a))
        .map_err(|_| anyhow::anyhow!("--as: no active marketer or admin with the email {:?}", job.as_email))?;
    let hash = content_hash(&bytes);
    if let Some(batch) = db.batch_with_content(&hash).await? {
        bail!("{} (batch {batch}, /costs/import/batches/{batch})", t.error_code("import.already_imported"));
    }
    let started = std::time::Instant::now();
    let sheet = read_file(&bytes, job.limits)
        .map_err(|p| anyhow::anyhow!("{}: {} ({})", job.path.display(), t.error_code(&p.code), p.detail))?;
    drop(bytes);
    let mut mapping = auto_mapping(&sheet.headers);
    if let Some(vendor) = job.vendor {
        let saved = db.vendor_mapping(vendor).await?;
        let saved = saved.with_context(|| format!("--vendor: no mapping is saved for {vendor:?}"))?;
        apply_saved(&sheet.headers, &mut mapping, &saved);
    }
    let missing = missing_columns(&mapping);
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|c| c.as_str()).collect();
        bail!(
            "{} {} (the file's headers: {})",
            t.error_code("import.missing_columns"),
            names.join(", "),
            sheet.headers.join(", ")
        );
    }
    let checks = db.check_sheet(&sheet.rows, &mapping, today, settings).await?;
    let encoding = sheet.encoding;
    drop(sheet.rows); // the checks hold what is left to store
    tracing::info!(rows = checks.len(), ms = started.elapsed().as_millis() as u64, "import read and checked");
    let mut report = format!("{}: {} rows read ({encoding})\n", job.path.display(), checks.len());
    let (mut errors, mut warnings) = (0, 0);
    for check in &checks {
        let problems = check.problems(|code, detail| t.problem(code, detail), |f| t.finding(f));
        errors += usize::from(check.has_errors());
        warnings += usize::from(!check.has_errors() && problems.iter().any(|p| p.warning));
        for p in problems {
            let column = p.column.map_or("row", Column::as_str);
            let kind = if p.warning { "warning" } else { "error" };
            let _ = writeln!(report, "row {}: {kind}: {column}: {}", check.row, p.message);
        }
    }
    // The same verdict the commit applies, said here with the counts and before a dry run ends.
    match domain::import::verdict(&checks, job.accept_warnings) {
        Ok(()) => {}
        Err("import.has_errors") => bail!("{report}{errors} row(s) with errors; nothing was imported"),
        Err("import.warnings_unaccepted") => {
            bail!("{report}{warnings} row(s) with warnings; read them, then pass --accept-warnings");
        }
        Err(code) => bail!("{report}{}", t.error_code(code)),
    }
    let totals =
        domain::import::totals_by_currency(checks.iter().filter_map(|c| c.report.entry.as_ref().map(|e| &e.amount)));
    let totals: Vec<String> =
        totals.iter().map(|(c, minor)| format!("{} {c}", domain::format_amount(*minor, *c))).collect();
    if job.dry_run {
        let _ = writeln!(
            report,
            "dry run: {} entries would be imported ({}); nothing stored",
            checks.len(),
            totals.join(", ")
        );
        return Ok(report);
    }
    let name = job.path.file_name().map_or_else(|| "import".into(), |n| n.to_string_lossy().into_owned());
    let batch = NewBatch { file_name: &name, content_hash: &hash, source: "cli" };
    let service = service::Service { db, costs: settings, today };
    let stored = service
        .commit_import(&actor, batch, checks, job.accept_warnings, &|_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{report}nothing was imported: {e}"))?;
    let _ = writeln!(report, "imported batch {}: {} entries ({})", stored.id, stored.row_count, totals.join(", "));
    Ok(report)
}

/// Overrides `mapping` with a vendor's saved choices, header by header.
pub fn apply_saved(headers: &[String], mapping: &mut [Option<Column>], saved: &domain::costs::HashMap<String, Column>) {
    for (header, column) in headers.iter().zip(mapping.iter_mut()) {
        if let Some(c) = saved.get(&domain::import::header_key(header)) {
            *column = Some(*c);
        }
    }
}

/// The rows with an error, as the file had them (after fixes), with an `errors` column saying what
/// is wrong in `lang`: fixed offline, it can be uploaded again.
pub fn error_file(sheet: &Sheet, checks: &[RowCheck], lang: Lang) -> Vec<u8> {
    let t = Texts::for_lang(lang);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = sheet.headers.clone();
    header.push("errors".into());
    let _ = out.write_record(header.iter().map(|h| domain::sheet::cell(h).into_owned()));
    for check in checks.iter().filter(|c| c.has_errors()) {
        let Some(cells) = sheet.rows.get(check.row - 2) else { continue };
        let problems: Vec<String> = check
            .problems(|code, detail| t.problem(code, detail), |f| t.finding(f))
            .into_iter()
            .filter(|p| !p.warning)
            .map(|p| format!("{}: {}", p.column.map_or("row", Column::as_str), p.message))
            .collect();
        let mut record = cells.clone();
        record.resize(sheet.headers.len(), String::new());
        record.push(problems.join("; "));
        // The cells go back to a spreadsheet: a formula the file had is shown, not run.
        let _ = out.write_record(record.iter().map(|c| domain::sheet::cell(c).into_owned()));
    }
    out.into_inner().unwrap_or_default()
}
