//! The HTTP router: pages, server functions, health, static assets, and the layers around them.

use crate::site::Site;
use crate::{WebConfig, middleware};
use app::auth::guard::{Access, authorize_request};
use app::auth::guard::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
use app::error::AppError;
use app::{App, AppState, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{any, get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use store::Db;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::body::Limited;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub fn router(db: Db, config: &WebConfig) -> Router {
    // Metrics are recorded from the first request on, whether or not anyone scrapes them.
    crate::metrics::handle();
    let options = LeptosOptions::builder()
        .output_name("mcms")
        .site_root(match &config.site {
            Site::Folder(root) => root.to_string_lossy().into_owned(),
            Site::Embedded => String::new(),
        })
        .site_pkg_dir("pkg")
        .build();
    let state = AppState {
        db: db.clone(),
        throttle: config.throttle,
        absolute_session_secs: config.session_max_secs,
        costs: config.costs,
        business_offset: config.business_offset,
        import_progress: Default::default(),
        import_limits: config.import_limits,
        trusted_proxies: config.trusted_proxies.clone().into(),
        pipelines: std::sync::Arc::new(crate::runs::Runs::new(db.clone(), config)),
        serving: service::models::Serving::new(db.clone()),
        ingest: std::sync::Arc::new(crate::ingest::Lab {
            data_dir: config.data_dir.clone(),
            secrets: config.pipeline_secrets.clone(),
        }),
    };
    let serving = state.serving.clone();
    let import_limits = config.import_limits;
    // Downloads and uploads outside the pages: plain handlers with their state and typed queries.
    let files = Router::new()
        .route("/costs/export", get(export_month))
        .route(
            "/costs/import/upload",
            // Room for the multipart framing around a file of the largest accepted size.
            post(upload_import).layer(DefaultBodyLimit::max(import_limits.max_bytes.saturating_add(1 << 20))),
        )
        .route("/costs/import/{id}/errors.csv", get(import_errors))
        .route("/poc/export.csv", get(crate::poc::export))
        .route("/api/poc/runs", post(crate::poc::record))
        .route("/pipelines/schema.json", get(pipeline_schema))
        .route(
            "/models/upload",
            post(upload_model).layer(DefaultBodyLimit::max(
                domain::models::MAX_MODEL_BYTES + domain::models::MAX_SIGNATURE_BYTES + (64 << 10),
            )),
        )
        .with_state(state.clone());
    let lab_uploads = Router::new()
        .route(
            "/ingest/upload",
            post(crate::ingest::upload).layer(DefaultBodyLimit::max(crate::ingest::UPLOAD_MAX_BYTES + (1 << 20))),
        )
        .with_state((state.clone(), config.data_dir.clone()));
    let files = files.merge(lab_uploads);
    let visitor_state = state.clone();
    let bundles = app::Bundles(serde_json::to_string(&config.site.bundles()).expect("plain strings serialise").into());
    let context = move || {
        provide_context(state.clone());
        provide_context(bundles.clone());
    };
    let page = {
        let options = options.clone();
        move || shell(options.clone())
    };
    // Unknown paths get the app's "not found" page; from a folder, its files first.
    let pages =
        Router::new().leptos_routes_with_context(&options, generate_route_list(App), context.clone(), page.clone());
    let pages = match &config.site {
        Site::Folder(_) => pages.fallback(file_and_error_handler_with_context(context, shell)),
        // Never a folder on disk: an empty site root would be the working directory.
        Site::Embedded => pages
            .route("/pkg/{*file}", get(crate::site::embedded_file))
            .fallback(leptos_axum::render_app_async_with_context(context, page)),
    };
    // Pages only: health checks, downloads and the partner API establish their caller themselves.
    let pages = pages.layer(axum::middleware::from_fn_with_state(visitor_state, middleware::load_visitor));
    let sessions = SessionManagerLayer::new(db.session_store())
        .with_name(if config.secure_cookies { SECURE_SESSION_COOKIE } else { SESSION_COOKIE })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(config.session_idle_minutes)))
        // Saved on every request, so the idle expiry slides from the last request, not sign-in.
        .with_always_save(true);
    let observability = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"),
        ));

    let gate = crate::api::gate::Gate::new(db.clone(), config.trusted_proxies.clone());
    // The models' API: predictions take bodies (2 MB), uploads a model file (its own limit).
    let models_api =
        crate::api::models::routes(crate::api::models::Models { gate: gate.clone(), serving, costs: config.costs });
    // The partner API carries no cookies: it gets the request ids and tracing, not sessions.
    let partner_api = crate::api::routes(gate, config.api_cache);
    // Pages, server functions and files: cross-origin writes refused, a session, form outcomes.
    let pages_and_files = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(middleware::refuse_cross_origin))
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::form_outcome))
        .layer(axum::middleware::from_fn(middleware::server_fn_errors));
    // Every request: timed for the metrics, an answer within `request_timeout` (408 otherwise), a
    // turn among `max_in_flight`, a request id, tracing and the security headers. Outside the APIs,
    // a body no larger than the largest import (files, pasted cells and CSV boxes go through server
    // functions that read the whole body). Each `Router::layer` boxes every route once more and a
    // request clones each box it passes, so the layers come in as few stacks as they can.
    let every_request = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(crate::metrics::record_requests))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(GlobalConcurrencyLimitLayer::new(config.max_in_flight.max(1)))
        // The timeout's own answer needs a body type with a default; tracing's does not have one.
        .map_response(IntoResponse::into_response)
        .layer(observability);
    let body_limit = import_limits.max_bytes.saturating_add(1 << 20);
    Router::new()
        .route("/healthz", get(move || healthz(db.clone())))
        // leptos_routes registers each server function under /api; anything else there is unknown.
        .route("/api/{*rest}", any(|| async { (StatusCode::NOT_FOUND, "No such API endpoint.") }))
        .merge(pages.with_state(options))
        .merge(files)
        .layer(
            ServiceBuilder::new()
                .layer(RequestBodyLimitLayer::new(body_limit))
                .map_request(|req: Request<Limited<Body>>| req.map(Body::new))
                .layer(pages_and_files),
        )
        .merge(partner_api)
        .merge(models_api)
        .layer(every_request)
}

/// 200 when the database answers, 503 when it does not.
async fn healthz(db: Db) -> impl IntoResponse {
    match db.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok", "database": db.backend() }))),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": db.backend() })),
            )
        }
    }
}

/// The month export's query: `?month=YYYY-MM&format=csv|jsonl`.
#[derive(serde::Deserialize)]
struct ExportQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    format: Option<String>,
}

/// `GET /costs/export?month=YYYY-MM&format=csv|jsonl`: the month's batch as a download (viewers
/// and up), in the schema of docs/batch-schema.md.
async fn export_month(
    State(state): State<AppState>,
    parts: http::request::Parts,
    Query(query): Query<ExportQuery>,
) -> Result<Response, AppError> {
    authorize_request(state.clone(), &parts, Access::AtLeast(domain::Role::Viewer)).await?;
    let month =
        store::costs::YearMonth::parse(&query.month).ok_or_else(|| AppError::invalid("month", "month.invalid"))?;
    let rows = crate::batch::month_entries(&state.db, month).await?;
    let (body, content_type, ext) = match query.format.as_deref().unwrap_or("csv") {
        "csv" => (
            crate::batch::to_csv(&rows, &state.costs).map_err(|_| AppError::Internal)?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        "jsonl" => {
            (crate::batch::to_jsonl(&rows, &state.costs).into_bytes(), "application/jsonl; charset=utf-8", "jsonl")
        }
        _ => return Err(AppError::invalid("format", "format.unknown")),
    };
    let disposition = format!("attachment; filename=\"mcms-costs-{month}.{ext}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

/// `POST /models/upload` (multipart: `name`, `model`, `signature`, `note`), the models pages' upload
/// form (pipeline builders and admins): a version checked like any upload, then the model's page
/// with `uploaded=VERSION`, or the page the form was on with `refused=` and the reason.
async fn upload_model(State(state): State<AppState>, req: Request<Body>) -> Response {
    use axum::extract::{FromRequest, Multipart};
    use axum::response::Redirect;
    let (parts, body) = req.into_parts();
    let caller = match authorize_request(state.clone(), &parts, Access::AtLeast(domain::Role::Builder)).await {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    let Some(user) = caller.user else { return AppError::Unauthenticated.into_response() };
    let (mut name, mut onnx, mut signature, mut note) = (String::new(), Vec::new(), String::new(), String::new());
    let back = |name: &str, why: &str| {
        let page = if domain::models::is_model_name(name) { format!("/models/{name}") } else { "/models".to_owned() };
        Redirect::to(&format!("{page}?refused={}", app::url::query_value(why))).into_response()
    };
    let mut form = match Multipart::from_request(Request::from_parts(parts, body), &()).await {
        Ok(m) => m,
        Err(e) => return back("", &e.body_text()),
    };
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let field_name = field.name().unwrap_or_default().to_owned();
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(e) => return back(&name, &e.body_text()),
                };
                match field_name.as_str() {
                    "name" => name = String::from_utf8_lossy(&data).trim().to_owned(),
                    "model" => onnx = data.to_vec(),
                    "signature" => signature = String::from_utf8_lossy(&data).into_owned(),
                    "note" => note = String::from_utf8_lossy(&data).trim().to_owned(),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return back(&name, &e.body_text()),
        }
    }
    let actor = match service::Actor::user(&user) {
        Ok(a) => a,
        Err(_) => return AppError::Forbidden.into_response(),
    };
    let up = service::models::Upload {
        model: &name,
        onnx: &onnx,
        signature: &signature,
        note: &note,
        via: service::models::Via::Page,
    };
    match state.service().upload_model(&actor, up).await {
        Ok(done) => Redirect::to(&format!("/models/{name}?uploaded={}", done.version)).into_response(),
        Err(service::Error::Refused(why)) => back(&name, &why),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// `POST /costs/import/upload` (multipart: `file` or `pasted`, optional `vendor`): reads the file
/// into a draft and sends the browser to its grid; a file that cannot be read, or whose content
/// was imported already, sends it back to the upload page saying why. Nothing is kept then.
/// Asked with `Accept: application/json`, it answers `{"location": …}` instead of redirecting.
async fn upload_import(State(state): State<AppState>, req: Request<Body>) -> Response {
    use axum::extract::{FromRequest, Multipart};
    let limits = state.import_limits;
    use axum::response::Redirect;
    // The hydrated form sends the file itself and asks for the next page as JSON, not a redirect.
    let as_json = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) == Some("application/json");
    let go = move |to: String| {
        if as_json {
            Json(serde_json::json!({ "location": to })).into_response()
        } else {
            Redirect::to(&to).into_response()
        }
    };
    let back = |code: &str, detail: &str, batch: Option<i64>| {
        let mut to = format!("/costs/import?error={}", app::url::query_value(code));
        if !detail.is_empty() {
            to.push_str(&format!("&detail={}", app::url::query_value(detail)));
        }
        if let Some(b) = batch {
            to.push_str(&format!("&batch={b}"));
        }
        go(to)
    };
    let (parts, body) = req.into_parts();
    let caller = match authorize_request(state.clone(), &parts, Access::AtLeast(domain::Role::Marketer)).await {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    let Some(user) = caller.user else { return AppError::Unauthenticated.into_response() };
    let mut multipart = match Multipart::from_request(Request::from_parts(parts, body), &()).await {
        Ok(m) => m,
        Err(_) => return back("import.empty", "", None),
    };
    let (mut name, mut bytes, mut pasted, mut vendor) = (String::new(), Vec::new(), String::new(), String::new());
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let field_name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(_) => return back("import.too_large", &format!("> {} MB", limits.max_bytes >> 20), None),
                };
                match field_name.as_str() {
                    "file" => (name, bytes) = (file_name, data.to_vec()),
                    "pasted" => pasted = String::from_utf8_lossy(&data).into_owned(),
                    "vendor" => vendor = String::from_utf8_lossy(&data).trim().to_owned(),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return back("import.too_large", &format!("> {} MB", limits.max_bytes >> 20), None),
        }
    }
    if bytes.is_empty() && !pasted.trim().is_empty() {
        (name, bytes) = ("pasted cells".into(), pasted.into_bytes());
    }
    if bytes.is_empty() {
        return back("import.empty", "", None);
    }
    let name = if name.is_empty() { "upload".to_owned() } else { name };
    let hash = store::imports::content_hash(&bytes);
    match state.db.batch_with_content(&hash).await {
        Ok(Some(batch)) => return back("import.already_imported", "", Some(batch)),
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "import upload failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    // Reading a workbook is CPU work of up to seconds: on the blocking pool, so the async workers
    // keep answering the partner API and other pages meanwhile.
    let sheet = match tokio::task::spawn_blocking(move || domain::import::read_file(&bytes, limits)).await {
        Ok(Ok(sheet)) => sheet,
        Ok(Err(problem)) => return back(&problem.code, &problem.detail, None),
        Err(e) => {
            tracing::error!(error = %e, "reading an import file failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut mapping = domain::import::auto_mapping(&sheet.headers);
    if !vendor.is_empty()
        && let Ok(Some(saved)) = state.db.vendor_mapping(&vendor).await
    {
        crate::import::apply_saved(&sheet.headers, &mut mapping, &saved);
    }
    match state.db.create_draft(user.id, &name, &hash, &sheet, &mapping).await {
        Ok(id) => {
            tracing::info!(by = user.id, draft = id, rows = sheet.rows.len(), "import file read");
            go(format!("/costs/import/{id}"))
        }
        Err(store::StoreError::AlreadyImported(batch)) => back("import.already_imported", "", Some(batch)),
        Err(e) => {
            tracing::error!(error = %e, "import upload failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /costs/import/{id}/errors.csv`: the draft's rows with errors and an `errors` column, in the
/// page's language, to fix offline and upload again.
async fn import_errors(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    parts: http::request::Parts,
) -> Result<Response, AppError> {
    let lang = app::i18n::lang_of_request(&parts.headers);
    let caller = authorize_request(state.clone(), &parts, Access::AtLeast(domain::Role::Marketer)).await?;
    let user = caller.user.ok_or(AppError::Unauthenticated)?;
    let draft = app::costs::import::draft_for(&state.db, &user, id).await?;
    let today = time::OffsetDateTime::now_utc().to_offset(state.business_offset).date();
    let checks = state.db.check_sheet(&draft.cells, &draft.mapping, today, &state.costs).await?;
    let sheet = domain::import::Sheet { headers: draft.headers, rows: draft.cells, ..Default::default() };
    let body = crate::import::error_file(&sheet, &checks, lang);
    let stem = draft.file_name.rsplit_once('.').map_or(draft.file_name.as_str(), |(s, _)| s);
    let stem: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{stem}-errors.csv\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// The JSON Schema of pipeline files, made from the types that read them, so editors check a file
/// as it is typed. Public: it describes the format, nothing of anyone's data.
async fn pipeline_schema() -> Response {
    static SCHEMA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let schema =
        SCHEMA.get_or_init(|| serde_json::to_string(&domain::pipeline::json_schema()).expect("a schema is JSON"));
    ([(header::CONTENT_TYPE, "application/schema+json")], schema.as_str()).into_response()
}
