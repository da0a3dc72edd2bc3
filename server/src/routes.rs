//! The HTTP router: pages, server functions, health, static assets, and the layers around them.

use crate::{WebConfig, middleware};
use app::auth::guard::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
use app::{App, AppState, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json};
use axum::routing::{any, get};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use store::Db;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub fn router(db: Db, config: &WebConfig) -> Router {
    let options = LeptosOptions::builder()
        .output_name("mcms")
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .build();
    let state = AppState {
        db: db.clone(),
        throttle: config.throttle,
        absolute_session_secs: config.session_max_secs,
        costs: config.costs,
        business_offset: config.business_offset,
    };
    let export = {
        let state = state.clone();
        move |req: Request<Body>| export_month(state.clone(), req)
    };
    let context = move || provide_context(state.clone());
    let page = {
        let options = options.clone();
        move || shell(options.clone())
    };
    let sessions = SessionManagerLayer::new(db.session_store())
        .with_name(if config.secure_cookies { SECURE_SESSION_COOKIE } else { SESSION_COOKIE })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(config.session_idle_minutes)));
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

    Router::new()
        .route("/healthz", get(move || healthz(db.clone())))
        .route("/costs/export", get(export))
        // leptos_routes registers each server function under /api; anything else there is unknown.
        .route("/api/{*rest}", any(|| async { (StatusCode::NOT_FOUND, "No such API endpoint.") }))
        .leptos_routes_with_context(&options, generate_route_list(App), context.clone(), page)
        .fallback(file_and_error_handler_with_context(context, shell))
        .with_state(options)
        .layer(axum::middleware::from_fn(middleware::server_fn_errors))
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::refuse_cross_origin))
        .layer(observability)
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

/// `GET /costs/export?month=YYYY-MM&format=csv|jsonl`: the month's batch as a download (viewers
/// and up), in the schema of docs/batch-schema.md.
async fn export_month(state: AppState, req: Request<Body>) -> axum::response::Response {
    use app::auth::guard::{Access, authorize_request};
    use app::error::AppError;
    let (parts, _) = req.into_parts();
    let problem = |err: AppError| {
        (StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST), err.to_string()).into_response()
    };
    if let Err(err) = authorize_request(state.clone(), &parts, Access::AtLeast(domain::Role::Viewer)).await {
        return problem(err);
    }
    let query: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
    let Some(month) = query.get("month").and_then(|m| store::costs::YearMonth::parse(m)) else {
        return problem(AppError::invalid("month", "month.invalid"));
    };
    let rows = match crate::batch::month_entries(&state.db, month).await {
        Ok(rows) => rows,
        Err(err) => return problem(err.into()),
    };
    let (body, content_type, ext) = match query.get("format").map(String::as_str).unwrap_or("csv") {
        "csv" => match crate::batch::to_csv(&rows, &state.costs) {
            Ok(bytes) => (bytes, "text/csv; charset=utf-8", "csv"),
            Err(_) => return problem(AppError::Internal),
        },
        "jsonl" => {
            (crate::batch::to_jsonl(&rows, &state.costs).into_bytes(), "application/jsonl; charset=utf-8", "jsonl")
        }
        _ => return problem(AppError::invalid("format", "format.unknown")),
    };
    let disposition = format!("attachment; filename=\"mcms-costs-{month}.{ext}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}
