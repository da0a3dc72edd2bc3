//! Prometheus metrics for operators: requests and latency by route and status, the database pool,
//! sign-in refusals, partner-key refusals by reason, import and job durations. They are served by
//! [`router`] on a listen address of their own (`mcms serve --metrics-addr`), never on the public
//! one.

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::cell::RefCell;
use std::collections::HashMap;
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
/// would make a series each), method (the standard ones; any other is "other", so a client
/// cannot add series at will) and status.
pub async fn record_requests(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let response = next.run(req).await;
    let (requests, duration) =
        series(route.as_ref().map_or("other", MatchedPath::as_str), method, response.status().as_u16());
    requests.increment(1);
    duration.record(started.elapsed().as_secs_f64());
    response
}

/// A request's method as a label: one of a fixed set.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN.iter().find(|known| *known == method).map_or("other", |known| known.as_str())
}

/// One route's series: (method, status) → its request counter and duration histogram.
type RouteSeries = Vec<(&'static str, u16, Counter, Histogram)>;

thread_local! {
    /// Each thread's handles to the series it has recorded, by route pattern. Looking a series up
    /// by its labels builds and hashes a key with owned labels each time (a dozen allocations a
    /// request); a handle is the same series without the lookup. Bounded: the routes are the
    /// router's patterns, the methods ten labels, the statuses three-digit numbers.
    static SERIES: RefCell<HashMap<String, RouteSeries>> = RefCell::new(HashMap::new());
}

fn series(route: &str, method: &'static str, status: u16) -> (Counter, Histogram) {
    SERIES.with_borrow_mut(|series| {
        if let Some(found) = series.get(route).and_then(|s| s.iter().find(|(m, st, ..)| *m == method && *st == status)) {
            return (found.2.clone(), found.3.clone());
        }
        let route = route.to_owned();
        let requests = metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status.to_string());
        let duration = metrics::histogram!("http_request_duration_seconds", "route" => route.clone(), "method" => method);
        series.entry(route).or_default().push((method, status, requests.clone(), duration.clone()));
        (requests, duration)
    })
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
