//! The PoC's HTTP edges outside the pages: the CSV export of what a report shows, and the JSON
//! endpoint scripts record runs with (a token an admin issued with `mcms issue-poc-token`).

use app::AppState;
use app::auth::guard::{Access, authorize_request};
use app::error::AppError;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use domain::keys::ApiKey;
use domain::poc::{RUN_COLUMNS, Run};
use serde_json::{Value, json};

/// `GET /poc/export.csv?format=&compression=&size=` (viewers and up): the runs the report with
/// the same filters shows, in the recording file's columns, so an export can be recorded again.
pub async fn export(
    State(state): State<AppState>,
    parts: http::request::Parts,
    Query(filter): Query<app::poc::ReportFilter>,
) -> Result<Response, AppError> {
    authorize_request(state.clone(), &parts, Access::AtLeast(domain::Role::Viewer)).await?;
    let poc = state.db.pocs().await?.into_iter().next().ok_or(AppError::NotFound)?;
    let runs = state.db.poc_runs(poc.id, &app::poc::run_filter(&filter)).await?;
    let body = to_csv(&runs).map_err(|e| {
        tracing::error!(error = %e, "PoC export failed");
        AppError::Internal
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"mcms-poc-runs.csv\""),
        ],
        body,
    )
        .into_response())
}

/// The runs as a recording file (header [`RUN_COLUMNS`]).
pub fn to_csv(runs: &[Run]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(RUN_COLUMNS)?;
    for r in runs {
        w.write_record(domain::poc::run_cells(r).iter().map(|c| domain::sheet::cell(c).into_owned()))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn refuse(status: StatusCode, detail: impl Into<String>, errors: Value) -> Response {
    let body = json!({ "status": status.as_u16(), "detail": detail.into(), "errors": errors });
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
    response
}

/// `POST /api/poc/runs` with `Authorization: Bearer <PoC token>` and `{"runs": [{...}, ...]}`,
/// each run an object with the recording file's columns as keys (numbers or strings; missing or
/// null for empty). Every run is checked by the same rules as the file; all are stored, or none,
/// and every problem is named with its index.
pub async fn record(State(state): State<AppState>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let token = crate::api::gate::bearer(&parts.headers).ok().flatten();
    let Some(Ok(key)) = token.map(|t| ApiKey::parse(t.token().trim())) else {
        return refuse(StatusCode::UNAUTHORIZED, "Send a PoC token as `Authorization: Bearer <token>`.", json!([]));
    };
    let (poc, issuer) = match state.db.poc_token(&key).await {
        Ok(Some(found)) => found,
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "This token is not known or was revoked.", json!([])),
        Err(e) => {
            tracing::error!(error = %e, "PoC token lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let bytes = match axum::body::to_bytes(body, 10 << 20).await {
        Ok(b) => b,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "At most 10 MB of runs per request.", json!([])),
    };
    let doc: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("The body is not JSON: {e}"), json!([])),
    };
    let Some(items) =
        doc.get("runs").and_then(Value::as_array).filter(|_| doc.as_object().is_some_and(|o| o.len() == 1))
    else {
        return refuse(StatusCode::BAD_REQUEST, "The body is {\"runs\": [ ... ]} and nothing else.", json!([]));
    };
    let (systems, scenarios) = match (state.db.poc_systems(poc).await, state.db.poc_scenarios(poc).await) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let (mut runs, mut problems) = (Vec::new(), Vec::new());
    for (index, item) in items.iter().enumerate() {
        let mut found: Vec<(&str, String)> = Vec::new();
        let cells = match cells_of(item) {
            Ok(cells) => cells,
            Err(field) => {
                problems.push(json!({ "index": index, "code": "poc.field_unknown", "detail": field }));
                continue;
            }
        };
        if !cells[0].is_empty() && !systems.iter().any(|s| s.name == cells[0]) {
            found.push(("poc.system_unknown", cells[0].clone()));
        }
        if !cells[1].is_empty() && !scenarios.iter().any(|s| s.name == cells[1]) {
            found.push(("poc.scenario_unknown", cells[1].clone()));
        }
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        match domain::poc::check_run(&refs) {
            Ok(run) if found.is_empty() => runs.push(run),
            Ok(_) => {}
            Err(more) => found.extend(more),
        }
        problems
            .extend(found.into_iter().map(|(code, detail)| json!({ "index": index, "code": code, "detail": detail })));
    }
    if items.is_empty() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "No runs in the request.", json!([]));
    }
    if !problems.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nothing was recorded: some runs are not right.",
            json!(problems),
        );
    }
    match state.service().record_runs(&service::Actor::poc_token(issuer), poc, &runs, "api").await {
        Ok(n) => (StatusCode::CREATED, Json(json!({ "recorded": n }))).into_response(),
        Err(e) => {
            let err: AppError = e.into();
            refuse(
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                err.to_string(),
                json!([]),
            )
        }
    }
}

/// A run object as cells in the order of [`RUN_COLUMNS`], or the first key it should not have.
fn cells_of(item: &Value) -> Result<Vec<String>, String> {
    let object = item.as_object().ok_or_else(|| "a run is a JSON object".to_owned())?;
    if let Some(unknown) = object.keys().find(|k| !RUN_COLUMNS.contains(&k.as_str())) {
        return Err(unknown.clone());
    }
    RUN_COLUMNS
        .iter()
        .map(|column| match object.get(*column) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err((*column).to_owned()),
        })
        .collect()
}
