//! Request-level rules that hold for every route.

use app::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
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

/// Establishes who asks for a page before the page renders (see [`app::auth::PageVisitor`]): the
/// same check every server function makes, done once per page request. Layered on the page router
/// only; its server functions (`/api/…`) and site files (`/pkg/…`) pass untouched.
pub async fn load_visitor(State(state): State<app::AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() != Method::GET || path.starts_with("/api/") || path.starts_with("/pkg/") {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let visitor = app::auth::guard::authorize_request(state, &parts, app::auth::guard::Access::Public)
        .await
        .map(|caller| app::auth::Visitor::of(&caller));
    parts.extensions.insert(app::auth::PageVisitor(visitor));
    next.run(Request::from_parts(parts, body)).await
}

/// Tells a page what became of the plain form posted from it. Leptos sends a form posted without
/// JavaScript (or outside an island) back to its `Referer`: with `__path` and `__err` appended when
/// it failed (after any earlier pair, which the page would read first), with nothing when it
/// succeeded. This leaves exactly one outcome in that URL: the latest error, or
/// `__ok=<server function path>` for a success, so the form's `FormAlert` can say "Saved." on the
/// page it comes back to. Redirects a server function chose itself (sign-in, a new draft) pass.
pub async fn form_outcome(req: Request, next: Next) -> Response {
    let is_form_post = req.method() == Method::POST
        && req.uri().path().starts_with("/api/")
        && app::post::asks_for_a_page(req.headers());
    let referer = req.headers().get(http::header::REFERER).cloned();
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    if !is_form_post || res.status() != StatusCode::FOUND {
        return res;
    }
    let Some(location) = res.headers().get(http::header::LOCATION).and_then(|l| l.to_str().ok()) else {
        return res;
    };
    // Leptos drops an earlier `__err` from the page it sends a success back to.
    let same_page = |referer: &str| with_outcome(referer, Some("")) == with_outcome(location, Some(""));
    let errors = location.matches("__err=").count();
    let back = if errors == 0 && referer.as_ref().and_then(|r| r.to_str().ok()).is_some_and(same_page) {
        with_outcome(location, Some(&path))
    } else if errors > 1 {
        with_outcome(location, None)
    } else {
        None
    };
    if let Some(value) = back.and_then(|b| http::HeaderValue::from_str(&b).ok()) {
        res.headers_mut().insert(http::header::LOCATION, value);
    }
    res
}

/// `url` with one form outcome: `__ok=ok` when given, else the last `__path`/`__err` pair in it.
fn with_outcome(url: &str, ok: Option<&str>) -> Option<String> {
    let mut url = url::Url::parse(url).ok()?;
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let last = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let error = ok.is_none().then(|| last("__path").zip(last("__err"))).flatten();
    let kept = pairs.iter().filter(|(k, _)| !matches!(k.as_str(), "__ok" | "__err" | "__path"));
    let mut query = url.query_pairs_mut();
    query.clear().extend_pairs(kept);
    match (ok, error) {
        (Some(path), _) => drop(query.append_pair(app::url::FLASH, path)),
        (None, Some((path, err))) => drop(query.append_pair("__path", &path).append_pair("__err", &err)),
        (None, None) => {}
    }
    drop(query);
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().unwrap(), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn a_form_comes_back_with_one_outcome() {
        assert_eq!(
            with_outcome("http://h/admin/users", Some("/api/admin/users/create")).as_deref(),
            Some("http://h/admin/users?__ok=%2Fapi%2Fadmin%2Fusers%2Fcreate")
        );
        assert_eq!(
            with_outcome("http://h/costs/budgets?month=2026-11&__path=%2Fapi%2Fx&__err=abc", Some("/api/y")).as_deref(),
            Some("http://h/costs/budgets?month=2026-11&__ok=%2Fapi%2Fy"),
            "an earlier failure is forgotten"
        );
        assert_eq!(
            with_outcome(
                "http://h/r?__ok=%2Fapi%2Fy&m=1&__path=%2Fapi%2Fx&__err=old&__path=%2Fapi%2Fz&__err=new",
                None
            )
            .as_deref(),
            Some("http://h/r?m=1&__path=%2Fapi%2Fz&__err=new"),
            "only the latest failure is kept"
        );
        assert_eq!(with_outcome("not a url", Some("/api/y")), None);
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
