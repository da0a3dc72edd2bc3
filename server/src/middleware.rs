//! Request-level rules that hold for every route.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Method, StatusCode};

/// Refuses a state-changing request sent by a page of another site (CSRF). Browsers say where a
/// request comes from in `Sec-Fetch-Site` and `Origin`; clients that send neither carry no
/// browser cookies and pass.
pub async fn refuse_cross_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_origin(req.headers()) {
        tracing::warn!(origin = ?req.headers().get(ORIGIN), "cross-origin request refused");
        return (StatusCode::FORBIDDEN, "Cross-origin request refused.").into_response();
    }
    next.run(req).await
}

fn is_cross_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(ORIGIN) else { return false };
    let origin_host = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, host)| host);
    origin_host.is_none() || origin_host != headers.get(HOST).and_then(|h| h.to_str().ok())
}

/// Gives server-function errors their HTTP status (401, 403, 409, 422, 429 …; only
/// [`AppError::Internal`] is a 500). Leptos answers every server-function error with 500; this
/// reads the error the body carries and sets the status it implies. Redirects (forms posted
/// without JavaScript, which carry the error in the URL) pass unchanged.
pub async fn server_fn_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if !res.headers().contains_key("serverfnerror") || res.status().is_redirection() {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let err: AppError = serde_json::from_slice(&bytes).unwrap_or(AppError::Internal);
    parts.status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn origin_rules() {
        assert!(!is_cross_origin(&headers(&[])), "no browser hints: not a browser");
        assert!(!is_cross_origin(&headers(&[("host", "mcms.local:3000"), ("origin", "http://mcms.local:3000")])));
        assert!(is_cross_origin(&headers(&[("host", "mcms.local:3000"), ("origin", "https://evil.example")])));
        assert!(is_cross_origin(&headers(&[("host", "mcms.local:3000"), ("origin", "null")])));
        assert!(is_cross_origin(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://mcms.local:3000"),
            ("host", "mcms.local:3000")
        ])));
        assert!(is_cross_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_origin(&headers(&[("sec-fetch-site", "same-origin")])));
    }
}
