//! Bulk imports: drafts (a file's cells while the user maps columns and fixes cells), batches
//! (entries committed all-or-nothing, rolled back as a whole) and column mappings per vendor.

use crate::costs::{ADD_TO_TOTALS, CostSettings, YearMonth, reference_from};
use crate::ledger::{BatchStamp, LedgerTx};
use crate::tx::{Audit, in_tx, json, write_audit};
use crate::{Db, Result, StoreError, on_db};
use domain::Currency;
use domain::costs::{BudgetMonth, CostEntry, CostForm, HashMap, Reference, invoice_key};
use domain::import::{CellProblem, Column, RowCheck, Sheet, check_rows, header_key, row_to_form};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::{Date, OffsetDateTime};

/// The SHA-256 of a file's bytes, in hex: the same content always gives the same batch key.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// An uploaded file while it is being mapped and fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub id: i64,
    pub owner_id: i64,
    pub file_name: String,
    pub content_hash: String,
    pub encoding: String,
    pub headers: Vec<String>,
    pub mapping: Vec<Option<Column>>,
    pub cells: Vec<Vec<String>>,
}

#[derive(sqlx::FromRow)]
struct DraftRow {
    id: i64,
    owner_id: i64,
    file_name: String,
    content_hash: String,
    encoding: String,
    headers: String,
    mapping: String,
    cells: String,
}

impl DraftRow {
    fn into_draft(self) -> Result<Draft> {
        let bad = |e: serde_json::Error| StoreError::Corrupt(format!("import draft {}: {e}", self.id));
        Ok(Draft {
            headers: serde_json::from_str(&self.headers).map_err(bad)?,
            mapping: serde_json::from_str(&self.mapping).map_err(bad)?,
            cells: serde_json::from_str(&self.cells).map_err(bad)?,
            id: self.id,
            owner_id: self.owner_id,
            file_name: self.file_name,
            content_hash: self.content_hash,
            encoding: self.encoding,
        })
    }
}

/// What a batch is called and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct NewBatch<'a> {
    pub file_name: &'a str,
    pub content_hash: &'a str,
    /// `web` or `cli`.
    pub source: &'a str,
}

/// A committed import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Batch {
    pub id: i64,
    pub file_name: String,
    pub content_hash: String,
    pub source: String,
    pub row_count: i64,
    /// JSON `[["KRW", 1200000], ...]`: the entries' totals per currency, in minor units.
    pub totals: String,
    pub reporting_minor: i64,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub rolled_back_at: Option<OffsetDateTime>,
}

impl Batch {
    pub fn totals(&self) -> Vec<(String, i64)> {
        serde_json::from_str(&self.totals).unwrap_or_default()
    }
}

/// What a file's rows need from the stored ledger to be checked.
#[derive(Debug, Default)]
pub struct ReferenceNeeds {
    pub first: Option<Date>,
    pub last: Option<Date>,
    /// (vendor, normalised invoice number)
    pub invoices: Vec<(String, String)>,
    pub corrects: Vec<i64>,
}

impl ReferenceNeeds {
    pub fn of(forms: &[CostForm]) -> ReferenceNeeds {
        let mut needs = ReferenceNeeds::default();
        forms.iter().for_each(|f| needs.add(f));
        needs
    }

    pub fn add(&mut self, form: &CostForm) {
        let look = form.lookups();
        if let Some(d) = look.date {
            self.first = Some(self.first.map_or(d, |f| f.min(d)));
            self.last = Some(self.last.map_or(d, |l| l.max(d)));
        }
        if let Some(invoice) = look.invoice_number() {
            self.invoices.push((look.vendor.to_owned(), domain::costs::normalised_invoice(invoice).collect()));
        }
        self.corrects.extend(look.corrects);
    }
}

type TotalsKey<'a> = (String, &'a str, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Entries and reporting total per running-totals row: one upsert per combination, not per entry.
fn sums(entries: &[CostEntry]) -> HashMap<TotalsKey<'_>, (i64, i64)> {
    let mut sums: HashMap<TotalsKey<'_>, (i64, i64)> = HashMap::default();
    for e in entries {
        let key = (
            YearMonth::of(e.date).to_string(),
            e.game.as_str(),
            e.channel.as_str(),
            e.campaign.as_str(),
            e.country.as_str(),
            e.vendor.as_str(),
            e.cost_type.as_str(),
        );
        let s = sums.entry(key).or_default();
        *s = (s.0 + 1, s.1.saturating_add(e.reporting_minor));
    }
    sums
}

const BATCH_COLUMNS: &str = "b.id, b.file_name, b.content_hash, b.source, b.row_count, b.totals, b.reporting_minor, \
    b.created_at, u.name AS created_by, b.rolled_back_at";

/// Rows per INSERT statement: 28 parameters each stays far below SQLite's and PostgreSQL's limits.
const CHUNK: usize = 500;

/// Rows checked between two reports of progress.
pub const PROGRESS_STEP: usize = 1_000;

impl Db {
    /// The live batch holding this content, if any.
    pub async fn batch_with_content(&self, hash: &str) -> Result<Option<i64>> {
        Ok(on_db!(self, pool => sqlx::query_scalar(
            "SELECT id FROM import_batches WHERE content_hash = $1 AND rolled_back_at IS NULL")
            .bind(hash).fetch_optional(pool).await)?)
    }

    /// Keeps an uploaded sheet as a draft of `owner`, its columns mapped by `mapping`.
    pub async fn create_draft(
        &self,
        owner: i64,
        file_name: &str,
        hash: &str,
        sheet: &Sheet,
        mapping: &[Option<Column>],
    ) -> Result<i64> {
        if let Some(batch) = self.batch_with_content(hash).await? {
            return Err(StoreError::AlreadyImported(batch));
        }
        let now = OffsetDateTime::now_utc();
        Ok(on_db!(self, pool => sqlx::query_scalar(
            "INSERT INTO import_drafts (owner_id, file_name, content_hash, encoding, headers, mapping, cells, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
            .bind(owner).bind(file_name).bind(hash).bind(&sheet.encoding).bind(json(&sheet.headers))
            .bind(json(&mapping)).bind(json(&sheet.rows)).bind(now).fetch_one(pool).await)?)
    }

    pub async fn draft(&self, id: i64) -> Result<Option<Draft>> {
        let row: Option<DraftRow> = on_db!(self, pool => sqlx::query_as(
            "SELECT id, owner_id, file_name, content_hash, encoding, headers, mapping, cells FROM import_drafts WHERE id = $1")
            .bind(id).fetch_optional(pool).await)?;
        row.map(DraftRow::into_draft).transpose()
    }

    /// Who owns draft `id`, without reading its cells.
    pub async fn draft_owner(&self, id: i64) -> Result<Option<i64>> {
        Ok(on_db!(self, pool => sqlx::query_scalar("SELECT owner_id FROM import_drafts WHERE id = $1")
            .bind(id).fetch_optional(pool).await)?)
    }

    /// Replaces a draft's column mapping (its cells are left as they are).
    pub async fn set_draft_mapping(&self, id: i64, mapping: &[Option<Column>]) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        on_db!(self, pool => sqlx::query("UPDATE import_drafts SET mapping = $1, updated_at = $2 WHERE id = $3")
            .bind(json(&mapping)).bind(now).bind(id).execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Replaces one row's cells (`row` numbered as the spreadsheet shows it, the header being 1),
    /// if the row still holds `before`, what the caller saw: a fix made in another tab is never
    /// silently overwritten ([`StoreError::Changed`]), and fixes of different rows never undo each
    /// other (the row is read and written in one transaction; on PostgreSQL the draft is locked).
    pub async fn edit_draft_row(&self, id: i64, row: usize, before: &[String], cells: &[String]) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let lock = if matches!(self, Db::Postgres(_)) { " FOR UPDATE" } else { "" };
        let select = format!("SELECT cells FROM import_drafts WHERE id = $1{lock}");
        in_tx!(self, tx => {
            let stored: String = sqlx::query_scalar(&select).bind(id).fetch_optional(&mut *tx).await?
                .ok_or(StoreError::NotFound)?;
            let mut rows: Vec<Vec<String>> = serde_json::from_str(&stored)
                .map_err(|e| StoreError::Corrupt(format!("import draft {id}: {e}")))?;
            let target = row.checked_sub(2).and_then(|i| rows.get_mut(i)).ok_or(StoreError::NotFound)?;
            let same = |a: &[String], b: &[String]| {
                let width = a.len().max(b.len());
                (0..width).all(|i| a.get(i).map_or("", String::as_str) == b.get(i).map_or("", String::as_str))
            };
            if !same(target, before) {
                return Err(StoreError::Changed("this row"));
            }
            let width = target.len().max(cells.len());
            *target = cells.to_vec();
            target.resize(width, String::new());
            sqlx::query("UPDATE import_drafts SET cells = $1, updated_at = $2 WHERE id = $3")
                .bind(json(&rows)).bind(now).bind(id).execute(&mut *tx).await?;
        })
    }

    /// Drafts waiting to be fixed and committed (`owner` `None`: everyone's), newest first:
    /// (id, file name, owner's email, last change).
    pub async fn open_drafts(&self, owner: Option<i64>) -> Result<Vec<(i64, String, String, OffsetDateTime)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT d.id, d.file_name, u.email, d.updated_at FROM import_drafts d JOIN users u ON u.id = d.owner_id \
             WHERE $1 IS NULL OR d.owner_id = $1 ORDER BY d.updated_at DESC, d.id DESC LIMIT 20")
            .bind(owner).fetch_all(pool).await)?)
    }

    /// Removes drafts nobody has touched since `before` (uploaded and left); returns how many.
    pub async fn delete_stale_drafts(&self, before: OffsetDateTime) -> Result<u64> {
        Ok(on_db!(self, pool => sqlx::query("DELETE FROM import_drafts WHERE updated_at < $1")
            .bind(before).execute(pool).await.map(|r| r.rows_affected()))?)
    }

    pub async fn delete_draft(&self, id: i64) -> Result<()> {
        on_db!(self, pool => sqlx::query("DELETE FROM import_drafts WHERE id = $1").bind(id).execute(pool).await.map(drop))?;
        Ok(())
    }

    /// The mapping saved for `vendor`: header key → column.
    pub async fn vendor_mapping(&self, vendor: &str) -> Result<Option<HashMap<String, Column>>> {
        let text: Option<String> = on_db!(self, pool => sqlx::query_scalar(
            "SELECT mapping FROM import_mappings WHERE vendor = $1").bind(vendor).fetch_optional(pool).await)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Remembers how `headers` map for `vendor`, so its next file maps itself.
    pub async fn save_vendor_mapping(
        &self,
        vendor: &str,
        headers: &[String],
        mapping: &[Option<Column>],
        actor: i64,
    ) -> Result<()> {
        let by_key: HashMap<String, Column> =
            headers.iter().zip(mapping).filter_map(|(h, c)| Some((header_key(h), (*c)?))).collect();
        let now = OffsetDateTime::now_utc();
        let exists: Option<String> = on_db!(self, pool => sqlx::query_scalar("SELECT code FROM vendors WHERE code = $1")
            .bind(vendor).fetch_optional(pool).await)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        on_db!(self, pool => sqlx::query("INSERT INTO import_mappings (vendor, mapping, updated_at, updated_by) \
            VALUES ($1, $2, $3, $4) ON CONFLICT (vendor) DO UPDATE SET mapping = excluded.mapping, \
            updated_at = excluded.updated_at, updated_by = excluded.updated_by")
            .bind(vendor).bind(json(&by_key)).bind(now).bind(actor).execute(pool).await.map(drop))?;
        Ok(())
    }

    /// The reference the rules need for a whole file: master data, the rates its dates can use,
    /// stored entries its rows could repeat, the entries it corrects and the budgets it burns.
    pub async fn import_reference(
        &self,
        forms: &[CostForm],
        today: Date,
        settings: &CostSettings,
    ) -> Result<Reference> {
        self.import_reference_for(&ReferenceNeeds::of(forms), today, settings).await
    }

    /// [`Db::import_reference`] from what the forms need, gathered without keeping the forms.
    pub async fn import_reference_for(
        &self,
        needs: &ReferenceNeeds,
        today: Date,
        settings: &CostSettings,
    ) -> Result<Reference> {
        let (Some(first), Some(last)) = (needs.first, needs.last) else {
            return Ok(reference_from(self.cost_master_data(today, 0).await?, today, settings));
        };
        let fx_days = (today - first).whole_days() + settings.fx_max_age_days;
        let mut r = reference_from(self.cost_master_data(today, fx_days.max(0)).await?, today, settings);

        let stored: Vec<(i64, String, String, String)> = on_db!(self, pool => sqlx::query_as(
            "SELECT id, natural_key, vendor, invoice_key FROM cost_entries \
             WHERE entry_date >= $1 AND entry_date <= $2 AND deleted_at IS NULL")
            .bind(first).bind(last).fetch_all(pool).await)?;
        for (id, key, vendor, invoice) in stored {
            r.natural_keys.insert(key, id);
            if !invoice.is_empty() {
                r.invoices.insert(invoice_key(&vendor, &invoice), id);
            }
        }
        // An invoice number is unique per vendor whatever the date.
        for chunk in needs.invoices.chunks(CHUNK) {
            let found: Vec<(i64, String, String)> = on_db!(self, pool => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT id, vendor, invoice_key FROM cost_entries WHERE deleted_at IS NULL AND (vendor, invoice_key) IN ");
                q.push_tuples(chunk, |mut t, (vendor, invoice)| {
                    t.push_bind(vendor.clone()).push_bind(invoice.clone());
                });
                q.build_query_as().fetch_all(pool).await
            })?;
            for (id, vendor, invoice) in found {
                r.invoices.insert(invoice_key(&vendor, &invoice), id);
            }
        }
        for chunk in needs.corrects.chunks(CHUNK) {
            let found: Vec<i64> = on_db!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT id FROM cost_entries WHERE deleted_at IS NULL AND id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                q.push(")");
                q.build_query_scalar().fetch_all(pool).await
            })?;
            r.entries.extend(found);
        }
        let (from, to) = (YearMonth::of(first).to_string(), YearMonth::of(last).to_string());
        let budgets: Vec<(String, String, i64, i64)> = on_db!(self, pool => sqlx::query_as(
            "SELECT b.campaign, b.month, b.amount_minor, CAST(COALESCE(SUM(t.reporting_minor), 0) AS BIGINT) \
             FROM budgets b LEFT JOIN cost_totals t ON t.campaign = b.campaign AND t.month = b.month \
             WHERE b.month >= $1 AND b.month <= $2 GROUP BY b.campaign, b.month, b.amount_minor")
            .bind(from).bind(to).fetch_all(pool).await)?;
        for (campaign, month, budget, spent) in budgets {
            if let Some(m) = YearMonth::parse(&month) {
                r.budgets.entry(campaign).or_default().insert((m.year, m.month), BudgetMonth { budget, spent });
            }
        }
        Ok(r)
    }

    /// Runs every non-blank row of a sheet through the rules, in file order (rows numbered as the
    /// spreadsheet shows them).
    ///
    /// Rows become forms twice, lazily (once to learn what reference data they need, once to be
    /// checked), so the forms of a large file are never all in memory at once.
    pub async fn check_sheet(
        &self,
        rows: &[Vec<String>],
        mapping: &[Option<Column>],
        today: Date,
        settings: &CostSettings,
    ) -> Result<Vec<RowCheck>> {
        self.check_sheet_with_progress(rows, mapping, today, settings, &|_| {}).await
    }

    /// [`Db::check_sheet`], telling `progress` how many rows are checked, every
    /// [`PROGRESS_STEP`] rows and once at the end.
    pub async fn check_sheet_with_progress(
        &self,
        rows: &[Vec<String>],
        mapping: &[Option<Column>],
        today: Date,
        settings: &CostSettings,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Vec<RowCheck>> {
        let read = || {
            rows.iter().enumerate().filter(|(_, cells)| !cells.is_empty()).map(|(i, cells)| {
                let (form, problems): (CostForm, Vec<CellProblem>) = row_to_form(cells, mapping);
                (i + 2, form, problems)
            })
        };
        let mut needs = ReferenceNeeds::default();
        read().for_each(|(_, form, _)| needs.add(&form));
        let mut reference = self.import_reference_for(&needs, today, settings).await?;
        let checks: Vec<RowCheck> = cpu_bound(|| {
            check_rows(read(), &mut reference)
                .enumerate()
                .map(|(n, check)| {
                    if n % PROGRESS_STEP == 0 {
                        progress(n);
                    }
                    check
                })
                .collect()
        });
        progress(checks.len());
        Ok(checks)
    }

    /// Stores every entry as one batch in one transaction: all land, or none does (a closed month,
    /// a duplicate that slipped in since the check, or the process dying midway leave nothing).
    pub async fn commit_import(
        &self,
        batch: NewBatch<'_>,
        entries: &[CostEntry],
        settings: &CostSettings,
        actor: i64,
    ) -> Result<Batch> {
        self.commit_import_with_progress(batch, entries, settings, actor, &|_| {}).await
    }

    /// [`Db::commit_import`], telling `progress` how many rows are written after each chunk.
    pub async fn commit_import_with_progress(
        &self,
        batch: NewBatch<'_>,
        entries: &[CostEntry],
        settings: &CostSettings,
        actor: i64,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Batch> {
        let now = OffsetDateTime::now_utc();
        let mut months: Vec<String> = entries.iter().map(|e| YearMonth::of(e.date).to_string()).collect();
        months.sort_unstable();
        months.dedup();
        let totals = domain::import::totals_by_currency(entries.iter().map(|e| &e.amount));
        let totals: Vec<(&str, i64)> = totals.iter().map(|(c, m)| (c.code(), *m)).collect();
        let reporting: i64 = entries.iter().map(|e| e.reporting_minor).fold(0, i64::saturating_add);
        let sources = self.rate_sources(entries).await?;
        // Test hook, compiled only with the `failpoints` feature (the server's tests turn it on).
        #[cfg(feature = "failpoints")]
        let crash_midway = std::env::var("MCMS_FAILPOINT").is_ok_and(|v| v == "import-commit");

        let id = in_tx!(self, tx => {
            for month in &months {
                crate::tx::refuse_closed_month!(self, tx, month);
            }
            let id: i64 = sqlx::query_scalar("INSERT INTO import_batches (file_name, content_hash, source, row_count, \
                totals, reporting_minor, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(batch.file_name).bind(batch.content_hash).bind(batch.source).bind(entries.len() as i64)
                .bind(json(&totals)).bind(reporting).bind(now).bind(actor)
                .fetch_one(&mut *tx).await
                .map_err(|e| match e.as_database_error() {
                    Some(d) if d.is_unique_violation() => StoreError::Duplicate(crate::Duplicate::Batch),
                    _ => StoreError::Database(e),
                })?;
            let stamp = BatchStamp {
                batch_id: id,
                actor,
                now,
                reporting_currency: settings.reporting_currency.code(),
                rate_sources: &sources,
                progress,
                #[cfg(feature = "failpoints")]
                crash_midway,
            };
            tx.add_dimensions(entries.iter()).await?;
            tx.insert_batch(entries, &stamp).await?;
            for ((month, game, channel, campaign, country, vendor, cost_type), (n, sum)) in sums(entries) {
                sqlx::query(ADD_TO_TOTALS).bind(month).bind(game).bind(channel).bind(campaign).bind(country)
                    .bind(vendor).bind(cost_type).bind(n).bind(sum).execute(&mut *tx).await?;
            }
            write_audit!(tx, Audit::new(now, actor, "import", "import_batch", id).after(json(&(batch.file_name, batch.content_hash, entries.len(), &totals))));
            id
        })?;
        self.batch(id).await?.ok_or(StoreError::NotFound)
    }

    /// The source of each rate the entries were converted with.
    async fn rate_sources(&self, entries: &[CostEntry]) -> Result<HashMap<(Currency, Date), String>> {
        let dates = entries.iter().filter_map(|e| e.fx_date);
        let (Some(first), Some(last)) = (dates.clone().min(), dates.max()) else {
            return Ok(HashMap::default());
        };
        let rows: Vec<(String, Date, String)> = on_db!(self, pool => sqlx::query_as(
            "SELECT currency, rate_date, source FROM fx_rates WHERE rate_date >= $1 AND rate_date <= $2")
            .bind(first).bind(last).fetch_all(pool).await)?;
        Ok(rows.into_iter().filter_map(|(c, d, s)| Some(((Currency::from_code(&c)?, d), s))).collect())
    }

    pub async fn batch(&self, id: i64) -> Result<Option<Batch>> {
        let sql =
            format!("SELECT {BATCH_COLUMNS} FROM import_batches b JOIN users u ON u.id = b.created_by WHERE b.id = $1");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The newest batches first.
    pub async fn batches(&self, limit: i64) -> Result<Vec<Batch>> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM import_batches b JOIN users u ON u.id = b.created_by ORDER BY b.id DESC LIMIT $1"
        );
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)?)
    }

    /// Takes a whole batch back: its live entries are soft-deleted and the batch marked, audited,
    /// while every month it touches is open. Its content may then be imported again.
    pub async fn rollback_batch(&self, id: i64, actor: i64) -> Result<usize> {
        let now = OffsetDateTime::now_utc();
        let batch = self.batch(id).await?.ok_or(StoreError::NotFound)?;
        if batch.rolled_back_at.is_some() {
            return Err(StoreError::NotFound);
        }
        in_tx!(self, tx => {
            let live: Vec<crate::costs::CostRow> = sqlx::query_as(&format!(
                "SELECT {} FROM cost_entries WHERE batch_id = $1 AND deleted_at IS NULL", crate::costs::COST_COLUMNS))
                .bind(id).fetch_all(&mut *tx).await?;
            let live: Vec<CostEntry> =
                live.into_iter().map(|r| r.into_stored().map(|s| s.entry)).collect::<Result<_>>()?;
            let mut months: Vec<String> = live.iter().map(|e| YearMonth::of(e.date).to_string()).collect();
            months.sort_unstable();
            months.dedup();
            for month in &months {
                crate::tx::refuse_closed_month!(self, tx, month);
            }
            sqlx::query("UPDATE cost_entries SET deleted_at = $1, deleted_by = $2, version = version + 1, \
                updated_at = $1, updated_by = $2 WHERE batch_id = $3 AND deleted_at IS NULL")
                .bind(now).bind(actor).bind(id).execute(&mut *tx).await?;
            for ((month, game, channel, campaign, country, vendor, cost_type), (n, sum)) in sums(&live) {
                sqlx::query(ADD_TO_TOTALS).bind(month).bind(game).bind(channel).bind(campaign).bind(country)
                    .bind(vendor).bind(cost_type).bind(-n).bind(-sum).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE import_batches SET rolled_back_at = $1, rolled_back_by = $2 WHERE id = $3")
                .bind(now).bind(actor).bind(id).execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "rollback", "import_batch", id).before(json(&(live.len(), &batch.file_name))));
            live.len()
        })
    }
}

/// Runs CPU-bound work (checking a large sheet takes a good part of a second) without holding up
/// the async workers: on a multi-threaded runtime this worker hands its other tasks to another
/// thread for the duration, so pages and the partner API keep being answered; on a
/// single-threaded runtime (the CLI, tests) it simply runs.
fn cpu_bound<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}
