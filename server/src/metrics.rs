//! Prometheus metrics for operators: requests and latency by route and status, the database pool,
//! sign-in refusals, partner-key refusals by reason, import and job durations. They are served by
//! [`router`] on a listen address of their own (`mcms serve --metrics-addr`), never on the public
//! one.

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use store::Db;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use (every router and test shares it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder can only be there if something else installed one first; then ours
        // still renders (empty) rather than failing the server.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts and times each request by its route pattern (never the raw path: ids and junk URLs
/// would make a series each), method and status.
pub async fn record_requests(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map_or("other", |m| m.as_str()).to_owned();
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` in the Prometheus text format, with the database pool read at scrape time.
pub fn router(db: Db) -> Router {
    handle();
    Router::new().route("/metrics", get(render)).with_state(db)
}

async fn render(State(db): State<Db>) -> impl IntoResponse {
    let (size, idle) = db.pool_connections();
    metrics::gauge!("mcms_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("mcms_db_pool_connections", "state" => "idle").set(idle as f64);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render())
}
