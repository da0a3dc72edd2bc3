//! Bulk import screens: upload (a file or pasted cells; the upload itself is a plain multipart POST
//! the server handles), the draft grid where columns are mapped and cells fixed, and batches.

use crate::components::FormAlert;
use crate::error::AppError;
use crate::i18n::{CellLabel, ImportSummary, Sending, Texts, use_texts};
use crate::post::{FormPost, PostForm};
use domain::import::{Column, RowProblem};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};
#[cfg(feature = "ssr")]
use domain::Role;

/// Rows per grid page.
pub const GRID_PAGE: usize = 100;

/// How far a long step of an import is, for the page that waits on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Rows are being stored (the commit); otherwise checked.
    pub storing: bool,
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchLine {
    pub id: i64,
    pub file_name: String,
    pub source: String,
    pub row_count: i64,
    /// Formatted per currency: `1,200,000 KRW`.
    pub totals: Vec<String>,
    pub created_at: String,
    pub created_by: String,
    pub rolled_back: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportsView {
    pub batches: Vec<BatchLine>,
    pub vendors: Vec<super::Choice>,
    /// The largest file accepted, in megabytes.
    pub max_mb: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRow {
    /// As the spreadsheet numbers it (header = 1).
    pub row: usize,
    pub cells: Vec<String>,
    pub problems: Vec<RowProblem>,
    pub has_errors: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftView {
    pub id: i64,
    pub file_name: String,
    pub encoding: String,
    pub headers: Vec<String>,
    /// Column name per header, `""` when not imported.
    pub mapping: Vec<String>,
    pub missing: Vec<String>,
    pub row_count: usize,
    pub error_rows: usize,
    pub warning_rows: usize,
    pub totals: Vec<String>,
    pub rows: Vec<GridRow>,
    pub page: usize,
    pub pages: usize,
    pub vendors: Vec<super::Choice>,
}

#[cfg(feature = "ssr")]
fn batch_line(b: store::imports::Batch) -> BatchLine {
    let totals = b
        .totals()
        .into_iter()
        .filter_map(|(c, minor)| {
            Some(format!("{} {c}", domain::format_amount(minor, domain::Currency::from_code(&c)?)))
        })
        .collect();
    BatchLine {
        id: b.id,
        row_count: b.row_count,
        totals,
        created_at: format!("{} {:02}:{:02} UTC", b.created_at.date(), b.created_at.hour(), b.created_at.minute()),
        rolled_back: b.rolled_back_at.is_some(),
        file_name: b.file_name,
        source: b.source,
        created_by: b.created_by,
    }
}

#[server(endpoint = "costs/import/overview", output = crate::codec::Json)]
pub async fn import_overview() -> Result<ImportsView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    let batches = caller.state.db.batches(50).await?.into_iter().map(batch_line).collect();
    let data = caller.state.db.cost_master_data(caller.state.today(), 0).await?;
    let vendors = data
        .vendors
        .into_iter()
        .filter(|v| v.2)
        .map(|(code, name, active)| super::Choice { code, name, active })
        .collect();
    Ok(ImportsView { batches, vendors, max_mb: caller.state.import_limits.max_bytes >> 20 })
}

#[server(endpoint = "costs/import/batch", output = crate::codec::Json)]
pub async fn import_batch(id: i64) -> Result<BatchLine, AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    Ok(batch_line(caller.state.db.batch(id).await?.ok_or(AppError::NotFound)?))
}

/// A draft its owner (or an admin) may see; anyone else is told it does not exist. The one check
/// for pages, server functions and the error-file download.
#[cfg(feature = "ssr")]
pub async fn draft_for(db: &store::Db, user: &store::User, id: i64) -> Result<store::imports::Draft, AppError> {
    match db.draft(id).await? {
        Some(draft) if may_use_draft(user, draft.owner_id) => Ok(draft),
        _ => Err(AppError::NotFound),
    }
}

/// Whose drafts a person may see and change: their own, or anyone's for an admin.
#[cfg(feature = "ssr")]
fn may_use_draft(user: &store::User, owner_id: i64) -> bool {
    owner_id == user.id || user.role.includes(Role::Admin)
}

#[cfg(feature = "ssr")]
async fn own_draft(id: i64) -> Result<(crate::auth::guard::Caller, store::imports::Draft), AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    let draft = draft_for(&caller.state.db, caller.user()?, id).await?;
    Ok((caller, draft))
}

/// Runs every row of the draft through the rules, telling waiting pages how far it is.
#[cfg(feature = "ssr")]
async fn check_draft(
    caller: &crate::auth::guard::Caller,
    draft: &store::imports::Draft,
) -> Result<Vec<domain::import::RowCheck>, AppError> {
    let (state, id) = (&caller.state, draft.id);
    let total = draft.cells.iter().filter(|cells| !cells.is_empty()).count();
    let report = |done| state.import_progress.set(id, Progress { storing: false, done, total });
    let checks =
        state.db.check_sheet_with_progress(&draft.cells, &draft.mapping, state.today(), &state.costs, &report).await;
    state.import_progress.finish(id);
    Ok(checks?)
}

#[server(endpoint = "costs/import/draft", output = crate::codec::Json)]
pub async fn import_draft(
    id: i64,
    #[server(default)] page: usize,
    #[server(default)] all: bool,
) -> Result<DraftView, AppError> {
    let (caller, draft) = own_draft(id).await?;
    let (db, lang) = (&caller.state.db, crate::i18n::page_lang());
    let t = Texts::for_lang(lang);
    let missing = domain::import::missing_columns(&draft.mapping);
    let checks = if missing.is_empty() { check_draft(&caller, &draft).await? } else { Vec::new() };
    let mut rows: Vec<GridRow> = if missing.is_empty() {
        checks
            .iter()
            .map(|c| GridRow {
                row: c.row,
                cells: draft.cells[c.row - 2].clone(),
                problems: c.problems(|code, detail| t.problem(code, detail), |f| t.finding(f)),
                has_errors: c.has_errors(),
            })
            .collect()
    } else {
        (draft.cells.iter().enumerate())
            .filter(|(_, cells)| !cells.is_empty())
            .map(|(i, cells)| GridRow { row: i + 2, cells: cells.clone(), problems: Vec::new(), has_errors: false })
            .collect()
    };
    let row_count = rows.len();
    let error_rows = rows.iter().filter(|r| r.has_errors).count();
    let warning_rows = rows.iter().filter(|r| !r.has_errors && r.problems.iter().any(|p| p.warning)).count();
    let entries: Vec<_> = checks.iter().filter(|c| !c.has_errors()).filter_map(|c| c.report.entry.as_ref()).collect();
    let totals = domain::import::totals_by_currency(entries.iter().map(|e| &e.amount))
        .into_iter()
        .map(|(c, minor)| format!("{} {c}", domain::format_amount(minor, c)))
        .collect();
    if !all {
        rows.retain(|r| !r.problems.is_empty());
    }
    let pages = rows.len().div_ceil(GRID_PAGE).max(1);
    let page = page.min(pages - 1);
    let rows = rows.into_iter().skip(page * GRID_PAGE).take(GRID_PAGE).collect();
    let vendors = db
        .cost_master_data(caller.state.today(), 0)
        .await?
        .vendors
        .into_iter()
        .filter(|v| v.2)
        .map(|(code, name, active)| super::Choice { code, name, active })
        .collect();
    Ok(DraftView {
        id: draft.id,
        file_name: draft.file_name,
        encoding: draft.encoding,
        mapping: draft.mapping.iter().map(|c| c.map_or("", Column::as_str).to_owned()).collect(),
        headers: draft.headers,
        missing: missing.iter().map(|c| c.as_str().to_owned()).collect(),
        row_count,
        error_rows,
        warning_rows,
        totals,
        rows,
        page,
        pages,
        vendors,
    })
}

/// Replaces one row's cells (the grid's fix of a cell) if the row still holds `before`, the cells
/// the page showed: a fix made meanwhile in another tab is reported, not overwritten.
#[server(endpoint = "costs/import/edit-row", output = crate::codec::Json)]
pub async fn edit_import_row(
    id: i64,
    row: usize,
    #[server(default)] before: Vec<String>,
    #[server(default)] cells: Vec<String>,
) -> Result<(), AppError> {
    let (caller, draft) = own_draft(id).await?;
    let mut cells = cells;
    cells.resize(draft.headers.len(), String::new());
    caller.state.db.edit_draft_row(draft.id, row, &before, &cells).await.map_err(|e| match e {
        store::StoreError::Changed(_) => AppError::Conflict { code: "import.row_changed".into() },
        other => other.into(),
    })?;
    Ok(())
}

/// Maps headers to columns (`""`: not imported); optionally remembers the mapping for a vendor.
#[server(endpoint = "costs/import/map", output = crate::codec::Json)]
pub async fn set_import_mapping(
    id: i64,
    #[server(default)] mapping: Vec<String>,
    #[server(default)] save_for: String,
) -> Result<(), AppError> {
    let (caller, draft) = own_draft(id).await?;
    let mut columns: Vec<Option<Column>> = Vec::with_capacity(draft.headers.len());
    for name in mapping.iter().chain(std::iter::repeat(&String::new())).take(draft.headers.len()) {
        let column = match name.trim() {
            "" => None,
            n => Some(Column::parse(n).ok_or_else(|| AppError::invalid("mapping", "import.mapping_unknown"))?),
        };
        if column.is_some() && columns.contains(&column) {
            return Err(AppError::invalid("mapping", "import.mapping_twice"));
        }
        columns.push(column);
    }
    let db = &caller.state.db;
    db.set_draft_mapping(draft.id, &columns).await?;
    if !save_for.trim().is_empty() {
        db.save_vendor_mapping(save_for.trim(), &draft.headers, &columns, caller.user()?.id).await.map_err(
            |e| match e {
                store::StoreError::NotFound => AppError::invalid("save_for", "vendor.unknown"),
                other => other.into(),
            },
        )?;
    }
    Ok(())
}

/// Checks every row again and stores them all as one batch, or nothing.
#[server(endpoint = "costs/import/commit", output = crate::codec::Json)]
pub async fn commit_import(id: i64, #[server(default)] accept_warnings: bool) -> Result<i64, AppError> {
    let (caller, draft) = own_draft(id).await?;
    if !domain::import::missing_columns(&draft.mapping).is_empty() {
        return Err(AppError::invalid("mapping", "import.missing_columns"));
    }
    let checks = check_draft(&caller, &draft).await?;
    let batch =
        store::imports::NewBatch { file_name: &draft.file_name, content_hash: &draft.content_hash, source: "web" };
    let progress = caller.state.import_progress.clone();
    let report = |done, total| progress.set(draft.id, Progress { storing: true, done, total });
    let stored = caller.state.service().commit_import(&caller.actor()?, batch, checks, accept_warnings, &report).await;
    progress.finish(draft.id);
    let stored = stored?;
    caller.state.db.delete_draft(draft.id).await?;
    leptos_axum::redirect(&format!("/costs/import/batches/{}", stored.id));
    Ok(stored.id)
}

/// How far this draft's check or commit is, while one runs on this instance.
#[server(endpoint = "costs/import/progress", output = crate::codec::Json)]
pub async fn import_progress(id: i64) -> Result<Option<Progress>, AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    let user = caller.user()?;
    // Asked twice a second while a large draft is checked: the owner alone, not the cells.
    match caller.state.db.draft_owner(id).await? {
        Some(owner) if may_use_draft(user, owner) => Ok(caller.state.import_progress.get(id)),
        _ => Err(AppError::NotFound),
    }
}

#[server(endpoint = "costs/import/discard", output = crate::codec::Json)]
pub async fn discard_import(id: i64) -> Result<(), AppError> {
    let (caller, draft) = own_draft(id).await?;
    caller.state.db.delete_draft(draft.id).await?;
    leptos_axum::redirect("/costs/import");
    Ok(())
}

/// Takes a whole batch back while its months are open (marketers and admins), audited.
#[server(endpoint = "costs/import/rollback", output = crate::codec::Json)]
pub async fn rollback_import(batch: i64) -> Result<usize, AppError> {
    let caller = authorize(Access::AtLeast(Role::Marketer)).await?;
    Ok(caller.state.service().rollback_import(&caller.actor()?, batch).await?)
}

fn column_label(t: &Texts, column: Column) -> &'static str {
    match column {
        Column::Date => t.date,
        Column::Game => t.game,
        Column::Channel => t.channel,
        Column::Campaign => t.campaign,
        Column::Country => t.country,
        Column::Vendor => t.vendor,
        Column::CostType => t.cost_type,
        Column::Currency => t.currency,
        Column::Amount => t.amount,
        Column::Units => t.units,
        Column::InvoiceNumber => t.invoice_number,
        Column::Memo => t.memo,
        Column::VatIncluded => t.vat_included,
        Column::Corrects => t.corrects,
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let rollback = ServerAction::<RollbackImport>::new();
    let overview = Resource::new_blocking(move || rollback.version().get(), |_| import_overview());
    let refused = move || {
        let q = query.read();
        let code = q.get("error")?;
        let detail = q.get("detail").filter(|d| !d.is_empty());
        let batch = q.get("batch").and_then(|b| b.parse::<i64>().ok());
        Some((code, detail, batch))
    };
    view! {
        <header class="page-head">
            <p><a href="/costs">{t.section(domain::Section::Costs).0}</a></p>
            <h1>{t.import_title}</h1>
            <p class="muted">{t.import_intro}</p>
        </header>
        {move || refused().map(|(code, detail, batch)| view! {
            <p class="alert alert-error" role="alert">
                {t.error_code(&code)}
                {detail.map(|d| format!(" ({d})"))}
                {batch.map(|b| view! { " " <a href=format!("/costs/import/batches/{b}")>{(t.import_batch)(&b)}</a> })}
            </p>
        })}
        <FormAlert action=rollback success=t.import_rolled_back/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let o = match overview.await {
                    Ok(o) => o,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let vendors = o.vendors.clone();
                view! {
                    <section class="card" aria-labelledby="upload">
                        <h2 id="upload">{t.import_upload}</h2>
                        <UploadForm vendors max_mb=o.max_mb/>
                    </section>
                    <section class="card" aria-labelledby="batches">
                        <h2 id="batches">{t.import_batches}</h2>
                        {if o.batches.is_empty() {
                            view! { <p class="muted">{t.import_no_batches}</p> }.into_any()
                        } else {
                            view! { <BatchTable batches=o.batches rollback/> }.into_any()
                        }}
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// The upload form, an island. Without JavaScript it is a plain multipart POST; hydrated, it sends
/// the file itself so the page can show how much is sent, then that the server is reading it, and
/// follows the server's answer (the draft's grid, or this page saying why the file was refused).
#[cfg_attr(any(not(feature = "only-islands"), feature = "upload-form"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "upload-form")), component)]
fn UploadForm(vendors: Vec<super::Choice>, max_mb: usize) -> impl IntoView {
    let t = use_texts();
    let sending = RwSignal::new(None::<(u64, u64)>);
    let reading = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        if upload::send(&ev, upload::Steps { sending, reading, failed }).is_ok() {
            ev.prevent_default();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &ev;
    };
    view! {
        <form method="post" action="/costs/import/upload" enctype="multipart/form-data" class="stack" on:submit=on_submit>
            <div class="field">
                <label for="import-file">{t.import_file}</label>
                <input id="import-file" name="file" type="file" accept=".csv,.txt,.tsv,.xlsx,text/csv"/>
            </div>
            <div class="field">
                <label for="import-paste">{t.import_paste}</label>
                <textarea id="import-paste" name="pasted" rows="5" class="mono"></textarea>
            </div>
            <div class="field">
                <label for="import-vendor">{t.import_vendor}</label>
                <select id="import-vendor" name="vendor">
                    <option value="">{t.any}</option>
                    {vendors.into_iter().map(|v| view! { <option value=v.code.clone()>{v.name} " (" {v.code.clone()} ")"</option> }).collect_view()}
                </select>
            </div>
            <p class="hint">{(t.import_hint)(&max_mb)}</p>
            <div aria-live="polite">
                {move || sending.get().map(|(sent, total)| view! {
                    <p>{(t.import_sending)(&Sending { sent: &megabytes(sent), total: &megabytes(total) })}</p>
                    <progress max=total.max(1) value=sent></progress>
                })}
                {move || reading.get().then(|| view! { <p>{t.import_reading}</p> <progress></progress> })}
                {move || failed.get().then(|| view! { <p class="alert alert-error" role="alert">{t.import_upload_failed}</p> })}
            </div>
            <div class="form-actions">
                <button type="submit" class="btn btn-primary" disabled=move || sending.get().is_some() || reading.get()>{t.import_read}</button>
            </div>
        </form>
    }
}

/// Bytes in MB with one decimal, in integers: float formatting would add 15 KB to the browser code.
fn megabytes(bytes: u64) -> String {
    let tenths = (bytes.saturating_mul(10) + 524_288) / 1_048_576;
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(feature = "hydrate")]
mod upload {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::{FormData, HtmlFormElement, ProgressEvent, XmlHttpRequest};

    #[derive(serde::Deserialize)]
    struct Next {
        location: String,
    }

    pub struct Steps {
        pub sending: RwSignal<Option<(u64, u64)>>,
        pub reading: RwSignal<bool>,
        pub failed: RwSignal<bool>,
    }

    /// Posts the form's fields as the browser would, reporting progress into `steps`. An error
    /// means nothing was sent, and the browser should submit the form itself.
    pub fn send(ev: &leptos::ev::SubmitEvent, steps: Steps) -> Result<(), JsValue> {
        let form: HtmlFormElement = ev.target().ok_or(JsValue::NULL)?.dyn_into()?;
        let data = FormData::new_with_form(&form)?;
        let xhr = XmlHttpRequest::new()?;
        xhr.open("POST", &form.action())?;
        xhr.set_request_header("Accept", "application/json")?;
        let Steps { sending, reading, failed } = steps;
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() {
                sending.set(Some((e.loaded() as u64, e.total() as u64)));
            }
        });
        let on_sent = Closure::<dyn FnMut()>::new(move || {
            sending.set(None);
            reading.set(true);
        });
        let answered = xhr.clone();
        let on_done = Closure::<dyn FnMut()>::new(move || {
            reading.set(false);
            sending.set(None);
            // The server names the next page: the draft's grid, or this page saying why not.
            let location = (answered.status().is_ok_and(|s| s == 200))
                .then(|| answered.response_text().ok().flatten())
                .flatten()
                .and_then(|body| serde_json::from_str::<Next>(&body).ok())
                .map(|next| next.location)
                .filter(|to| to.starts_with('/') && !to.starts_with("//"));
            match location {
                Some(to) => {
                    if window().location().set_href(&to).is_err() {
                        failed.set(true);
                    }
                }
                None => failed.set(true),
            }
        });
        let on_error = Closure::<dyn FnMut()>::new(move || {
            sending.set(None);
            reading.set(false);
            failed.set(true);
        });
        let upload = xhr.upload()?;
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        upload.set_onload(Some(on_sent.as_ref().unchecked_ref()));
        xhr.set_onload(Some(on_done.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        failed.set(false);
        sending.set(Some((0, 0)));
        xhr.send_with_opt_form_data(Some(&data))?;
        // The request owns its handlers from here on; each upload leaves these few behind.
        on_progress.forget();
        on_sent.forget();
        on_done.forget();
        on_error.forget();
        Ok(())
    }
}

#[component]
fn BatchTable(batches: Vec<BatchLine>, rollback: ServerAction<RollbackImport>) -> impl IntoView {
    let t = use_texts();
    view! {
        <table class="table table-compact">
            <thead>
                <tr>
                    <th scope="col">{t.import_batch_title}</th>
                    <th scope="col">{t.import_file_name}</th>
                    <th scope="col" class="num">{t.import_rows}</th>
                    <th scope="col">{t.total}</th>
                    <th scope="col">{t.audit_when}</th>
                    <th scope="col">{t.audit_actor}</th>
                    <th scope="col">{t.status}</th>
                </tr>
            </thead>
            <tbody>
                {batches.into_iter().map(|b| view! {
                    <tr class:inactive=b.rolled_back>
                        <td><a href=format!("/costs/import/batches/{}", b.id)>{b.id}</a></td>
                        <td>{b.file_name.clone()} <span class="muted">" · " {b.source.clone()}</span></td>
                        <td class="num">{b.row_count}</td>
                        <td>{b.totals.join(", ")}</td>
                        <td>{b.created_at.clone()}</td>
                        <td>{b.created_by.clone()}</td>
                        <td>
                            {if b.rolled_back {
                                view! { <span>{t.import_rolled_back}</span> }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=rollback attr:class="inline">
                                        <input type="hidden" name="batch" value=b.id/>
                                        <button type="submit" class="btn btn-small">{t.import_rollback}</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn BatchPage() -> impl IntoView {
    let t = use_texts();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let rollback = ServerAction::<RollbackImport>::new();
    let batch = Resource::new_blocking(move || (id(), rollback.version().get()), |(id, _)| import_batch(id));
    view! {
        <header class="page-head">
            <p><a href="/costs/import">{t.import_title}</a></p>
            <h1>{move || (t.import_batch)(&id())}</h1>
        </header>
        <FormAlert action=rollback success=t.import_rolled_back/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match batch.await {
                    Ok(b) => view! { <BatchTable batches=vec![b] rollback/> }.into_any(),
                    Err(e) => {
                        if e == AppError::NotFound {
                            crate::shell::set_status(404);
                        }
                        view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn DraftPage() -> impl IntoView {
    let t = use_texts();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let page = move || query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
    let all = move || query.read().get("all").is_some_and(|a| a == "1");
    let draft = Resource::new_blocking(move || (id(), page(), all()), |(id, page, all)| import_draft(id, page, all));
    view! {
        <Suspense fallback=move || view! { <StepProgress id=id() active=true/> }>
            {move || Suspend::new(async move {
                match draft.await {
                    Ok(draft) => view! { <DraftEditor draft all=all()/> }.into_any(),
                    Err(e) => {
                        if e == AppError::NotFound {
                            crate::shell::set_status(404);
                        }
                        view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The draft's mapping, grid and commit, an island. Hydrated, a changed cell is sent and checked
/// at once and the draft is read again; without JavaScript each row has its button and the page
/// comes back checked.
#[cfg_attr(any(not(feature = "only-islands"), feature = "draft-editor"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "draft-editor")), component)]
fn DraftEditor(draft: DraftView, all: bool) -> impl IntoView {
    let t = use_texts();
    let (id, page) = (draft.id, draft.page);
    let edit = FormPost::new::<EditImportRow>();
    let map = FormPost::new::<SetImportMapping>();
    let commit = FormPost::new::<CommitImport>();
    let discard = FormPost::new::<DiscardImport>();
    let current = RwSignal::new(draft);
    // After a fix or a new mapping the server has checked the draft again: read what it found.
    Effect::watch(
        move || (edit.version().get(), map.version().get()),
        move |_, _, _| {
            leptos::task::spawn_local(async move {
                if let Ok(d) = import_draft(id, page, all).await {
                    current.set(d);
                }
            })
        },
        false,
    );
    let nav =
        move |page: usize, all: bool| format!("/costs/import/{id}?page={page}{}", if all { "&all=1" } else { "" });
    view! {
        <FormAlert action=map success=t.saved/>
        <FormAlert action=edit success=t.saved/>
        <FormAlert action=commit success=t.saved/>
        {move || {
            let d = current.get();
            let summary = (t.import_summary)(&ImportSummary {
                rows: &d.row_count,
                errors: &d.error_rows,
                warnings: &d.warning_rows,
            });
            let ready = d.missing.is_empty() && d.error_rows == 0 && d.row_count > 0;
            view! {
                <header class="page-head">
                    <p><a href="/costs/import">{t.import_title}</a></p>
                    <h1>{d.file_name.clone()}</h1>
                    <p class="muted">{d.encoding.clone()} " · " {summary}</p>
                    {(!d.totals.is_empty()).then(|| view! { <p>{t.total} ": " {d.totals.join(", ")}</p> })}
                </header>
                <MappingForm d=d.clone() map/>
                <nav class="button-row" aria-label=t.import_rows>
                    <a class="btn btn-quiet" href=nav(0, false) aria-current=(!all).then_some("page")>{t.import_show_problems}</a>
                    <a class="btn btn-quiet" href=nav(0, true) aria-current=all.then_some("page")>{t.import_show_all}</a>
                    {(d.error_rows > 0).then(|| view! {
                        <a class="btn" href=format!("/costs/import/{id}/errors.csv") rel="external" download="">{t.import_error_file}</a>
                    })}
                </nav>
                <Grid d=d.clone() edit/>
                {(d.pages > 1).then(|| view! {
                    <p class="pager">
                        {(d.page > 0).then(|| view! { <a class="btn" href=nav(d.page - 1, all)>{t.previous_page}</a> })}
                        " " {d.page + 1} " / " {d.pages} " "
                        {(d.page + 1 < d.pages).then(|| view! { <a class="btn" href=nav(d.page + 1, all) rel="next">{t.next_page}</a> })}
                    </p>
                })}
                <section class="card" aria-labelledby="commit">
                    <h2 id="commit">{t.import_commit}</h2>
                    {if ready { view! { <p>{t.import_ready}</p> }.into_any() } else { view! { <p class="muted">{t.import_not_ready}</p> }.into_any() }}
                    <StepProgress id active=commit.pending()/>
                    <PostForm post=commit attr:class="stack">
                        <input type="hidden" name="id" value=id/>
                        {(d.warning_rows > 0).then(|| view! {
                            <div class="field field-check">
                                <input id="accept-warnings" name="accept_warnings" type="checkbox" value="true"/>
                                <label for="accept-warnings">{t.import_accept_warnings}</label>
                            </div>
                        })}
                        <div class="form-actions">
                            <button type="submit" class="btn btn-primary" disabled=!ready>{t.import_commit}</button>
                        </div>
                    </PostForm>
                    <PostForm post=discard>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="btn btn-quiet">{t.import_discard}</button>
                    </PostForm>
                </section>
            }
        }}
    }
}

/// While `active`, how far the draft's check or commit is (asked twice a second).
#[component]
fn StepProgress(id: i64, #[prop(into)] active: Signal<bool>) -> impl IntoView {
    let t = use_texts();
    let now = RwSignal::new(None::<Progress>);
    Effect::new(move |_| {
        if !active.get() {
            now.set(None);
            return;
        }
        let ask = move || {
            leptos::task::spawn_local(async move {
                if active.get_untracked()
                    && let Ok(p) = import_progress(id).await
                {
                    now.set(p);
                }
            })
        };
        ask();
        if let Ok(handle) = set_interval_with_handle(ask, std::time::Duration::from_millis(500)) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <div aria-live="polite">
            {move || now.get().filter(|_| active.get()).map(|p| view! {
                <p>{if p.storing { t.import_storing } else { t.import_checking }} " " {p.done} " / " {p.total}</p>
                <progress max=p.total.max(1) value=p.done></progress>
            })}
        </div>
    }
}

#[component]
fn MappingForm(d: DraftView, map: FormPost<()>) -> impl IntoView {
    let t = use_texts();
    let missing: Vec<&'static str> =
        d.missing.iter().filter_map(|m| Column::parse(m)).map(|c| column_label(t, c)).collect();
    view! {
        <section class="card" aria-labelledby="mapping">
            <h2 id="mapping">{t.import_mapping}</h2>
            {(!missing.is_empty()).then(|| view! {
                <p class="alert alert-error" role="alert">{t.error_code("import.missing_columns")} " " {missing.join(", ")}</p>
            })}
            <PostForm post=map attr:class="form-grid">
                <input type="hidden" name="id" value=d.id/>
                {d.headers.iter().zip(&d.mapping).enumerate().map(|(i, (header, current))| {
                    let current = current.clone();
                    view! {
                        <div class="field">
                            <label for=format!("map-{i}")>{header.clone()}</label>
                            <select id=format!("map-{i}") name=format!("mapping[{i}]")>
                                <option value="" selected=current.is_empty()>{t.import_not_imported}</option>
                                {Column::ALL.into_iter().map(|c| view! {
                                    <option value=c.as_str() selected=current == c.as_str()>{column_label(t, c)}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    }
                }).collect_view()}
                <div class="field">
                    <label for="map-save">{t.import_save_mapping}</label>
                    <select id="map-save" name="save_for">
                        <option value="">"—"</option>
                        {d.vendors.iter().map(|v| view! { <option value=v.code.clone()>{v.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="form-actions"><button type="submit" class="btn">{t.import_apply_mapping}</button></div>
            </PostForm>
        </section>
    }
}

#[component]
fn Grid(d: DraftView, edit: FormPost<()>) -> impl IntoView {
    let t = use_texts();
    if d.rows.is_empty() {
        return view! { <p class="card empty-state">{t.import_no_problem_rows}</p> }.into_any();
    }
    let columns: Vec<Option<Column>> = d.mapping.iter().map(|m| Column::parse(m)).collect();
    let id = d.id;
    view! {
        <div class="table-wrap">
            <table class="table table-compact grid">
                <thead>
                    <tr>
                        <th scope="col">"#"</th>
                        {d.headers.iter().map(|h| view! { <th scope="col">{h.clone()}</th> }).collect_view()}
                        <th scope="col">{t.import_problems}</th>
                    </tr>
                </thead>
                <tbody>
                    {d.rows.into_iter().map(|r| {
                        let form_id = format!("row-{}", r.row);
                        let row = r.row;
                        // What the server holds for the row, sent as `before[i]` with a change; a
                        // change sent is taken as held until the draft is read again.
                        let held = RwSignal::new(r.cells.clone());
                        let row_level: Vec<RowProblem> = r.problems.iter()
                            .filter(|p| p.column.is_none_or(|c| !columns.contains(&Some(c))))
                            .cloned().collect();
                        view! {
                            <tr class:row-error=r.has_errors>
                                <th scope="row">{row}</th>
                                {r.cells.iter().enumerate().map(|(i, value)| {
                                    let column = columns.get(i).copied().flatten();
                                    let mine: Vec<RowProblem> = r.problems.iter().filter(|p| column.is_some() && p.column == column).cloned().collect();
                                    let invalid = mine.iter().any(|p| !p.warning);
                                    let warned = !invalid && !mine.is_empty();
                                    let label = (t.cell_label)(&CellLabel { row: &row, column: &d.headers.get(i).map_or("", String::as_str) });
                                    view! {
                                        <td class:cell-error=invalid class:cell-warning=warned>
                                            <input form=form_id.clone() name=format!("cells[{i}]") value=value.clone()
                                                aria-label=label aria-invalid=invalid.then_some("true")
                                                on:change=move |ev| {
                                                    #[cfg(feature = "hydrate")]
                                                    {
                                                        let input = event_target::<leptos::web_sys::HtmlInputElement>(&ev);
                                                        // Not sent from here: the browser posts the row itself.
                                                        if let Some(form) = input.form()
                                                            && !edit.submit(&form)
                                                        {
                                                            let _ = form.submit();
                                                        }
                                                        held.update(|c| if let Some(cell) = c.get_mut(i) { *cell = input.value() });
                                                    }
                                                    #[cfg(not(feature = "hydrate"))]
                                                    let _ = (&ev, held, edit);
                                                }/>
                                            <input type="hidden" form=form_id.clone() name=format!("before[{i}]") value=value.clone()
                                                prop:value=move || held.with(|c| c.get(i).cloned().unwrap_or_default())/>
                                            {mine.into_iter().map(|p| view! { <small class=if p.warning { "cell-note warning" } else { "cell-note" }>{p.message}</small> }).collect_view()}
                                        </td>
                                    }
                                }).collect_view()}
                                <td>
                                    {row_level.into_iter().map(|p| view! { <small class=if p.warning { "cell-note warning" } else { "cell-note" }>{p.message}</small> }).collect_view()}
                                    <PostForm post=edit attr:id=form_id.clone() attr:class="inline">
                                        <input type="hidden" name="id" value=id/>
                                        <input type="hidden" name="row" value=row/>
                                        <button type="submit" class="btn btn-small" title=t.import_save_row>{t.import_save_row}</button>
                                    </PostForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::megabytes;

    #[test]
    fn megabytes_round_to_one_decimal_as_floats_would() {
        for (bytes, shown) in [
            (0, "0.0"),
            (52_428, "0.0"),
            (52_429, "0.1"),
            (1_048_576, "1.0"),
            (1_572_864, "1.5"),
            (10_433_332, "10.0"),
            (10_433_331, "9.9"),
            (10_433_536, "10.0"),
            (52_428_800, "50.0"),
        ] {
            assert_eq!(megabytes(bytes), shown, "{bytes} B");
            assert_eq!(shown, format!("{:.1}", bytes as f64 / 1_048_576.0), "{bytes} B");
        }
    }
}
