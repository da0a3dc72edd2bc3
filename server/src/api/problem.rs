//! Errors of the partner API as `application/problem+json` (RFC 9457).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One refused request: a stable `type` per kind, a human `detail`, field details when the
/// request itself was wrong, and `Retry-After` when waiting helps. Boxed: it travels in `Err`s.
#[derive(Debug, Clone)]
pub struct Problem(Box<Document>);

/// A refusal, as `application/problem+json` carries it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "type": "/api/v1/problems/invalid-request", "title": "Invalid request", "status": 400,
    "detail": "to: at most 92 days after from, both included",
    "errors": [{ "field": "to", "message": "at most 92 days after from, both included" }]
}))]
pub struct Document {
    /// Stable per kind of refusal: `/api/v1/problems/<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// The key the request presented, when known (for usage records).
    #[serde(skip)]
    pub key_id: Option<i64>,
}

/// What is wrong with one parameter.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl Problem {
    /// The refusal's `type`, `/api/v1/problems/<kind>`.
    pub fn status(&self) -> u16 {
        self.0.status
    }

    pub fn kind(&self) -> &str {
        &self.0.kind
    }

    pub fn new(status: StatusCode, slug: &str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem(Box::new(Document {
            kind: format!("/api/v1/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            key_id: None,
        }))
    }

    pub fn unauthorized(slug: &str, detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, slug, "Not authenticated", detail)
    }

    pub fn forbidden(slug: &str, detail: &str) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, slug, "Not allowed", detail)
    }

    /// The same answer for "does not exist" and "not yours", so nothing leaks.
    pub fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", "There is no such resource.")
    }

    pub fn invalid(errors: Vec<FieldError>) -> Problem {
        let detail = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        let mut p = Problem::new(StatusCode::BAD_REQUEST, "invalid-request", "Invalid request", detail);
        p.0.errors = errors;
        p
    }

    pub fn internal() -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Server error", "The request could not be served.")
    }

    pub fn for_key(mut self, key: i64) -> Problem {
        self.0.key_id = Some(key);
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Problem {
        self.0.retry_after = Some(secs);
        self
    }
}

impl From<store::StoreError> for Problem {
    fn from(err: store::StoreError) -> Problem {
        tracing::error!(error = %err, "partner API store failure");
        Problem::internal()
    }
}

impl Problem {
    /// The refusal as the KServe v2 protocol gives it: `{"error": detail}`, same status and
    /// headers.
    pub fn into_v2_response(self) -> Response {
        self.respond(true)
    }

    fn respond(self, v2: bool) -> Response {
        let Problem(doc) = self;
        let doc = *doc;
        let status = StatusCode::from_u16(doc.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (body, content_type) = match v2 {
            false => (serde_json::to_vec(&doc).unwrap_or_default(), "application/problem+json"),
            true => (
                serde_json::to_vec(&serde_json::json!({ "error": doc.detail })).unwrap_or_default(),
                "application/json",
            ),
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"mcms partner API\""));
        }
        if let Some(secs) = doc.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(key) = doc.key_id {
            response.extensions_mut().insert(super::UsedKey(key));
        }
        response
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        self.respond(false)
    }
}
