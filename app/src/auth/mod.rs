//! Signing in and out, the caller's identity and the language choice.

#[cfg(feature = "ssr")]
pub mod guard;
mod page;

pub use page::{LoginPage, SignOutButton};

use crate::error::AppError;
use domain::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the browser may know about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// Keeps a redirect target on this site: a local path of visible ASCII, else `/`.
///
/// Browsers drop tabs and line breaks from URLs and read `\\` as `/`, so `/\t/evil.example` and
/// `/\\evil.example` would lead to another host; spaces, control and non-ASCII characters cannot
/// stand in a `Location` header at all. So a target must start with exactly one `/` and hold only
/// the visible ASCII characters other than `\\`, at most 2,000 of them.
pub fn safe_next(next: Option<&str>) -> &str {
    let local = |p: &str| {
        let b = p.as_bytes();
        b.first() == Some(&b'/')
            && !matches!(b.get(1), Some(b'/' | b'\\'))
            && b.len() <= 2000
            && b.iter().all(|c| c.is_ascii_graphic() && *c != b'\\')
    };
    match next {
        Some(p) if local(p) => p,
        _ => "/",
    }
}

#[server(endpoint = "login", output = crate::codec::Json)]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use guard::{Access, SIGNED_IN_AT, USER_ID, authorize, session_error};
    use store::ThrottleVerdict;

    let caller = authorize(Access::Public).await?;
    let (db, limits) = (&caller.state.db, &caller.state.throttle);
    let addr = client_address(&caller.state.trusted_proxies);
    // The attempt is recorded before the password is checked, so guesses sent at once cannot
    // outrun the limit.
    let attempt = match db.begin_login_attempt(limits, &email, &addr).await? {
        ThrottleVerdict::Allowed(attempt) => attempt,
        ThrottleVerdict::Blocked { retry_after_secs } => {
            tracing::warn!(%addr, "sign-in throttled");
            metrics::counter!("mcms_sign_in_refusals_total", "reason" => "throttled").increment(1);
            return Err(AppError::Throttled { retry_after_secs });
        }
    };
    let Some(user) = db.authenticate(&email, &password).await? else {
        tracing::info!(%addr, "sign-in refused");
        metrics::counter!("mcms_sign_in_refusals_total", "reason" => "bad_credentials").increment(1);
        return Err(AppError::BadCredentials);
    };
    db.login_succeeded(&attempt).await?;
    // A new id at the privilege change defeats session fixation.
    caller.session.cycle_id().await.map_err(session_error)?;
    caller.session.insert(USER_ID, user.id).await.map_err(session_error)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    caller.session.insert(SIGNED_IN_AT, now).await.map_err(session_error)?;
    tracing::info!(user_id = user.id, "signed in");
    // Back to the sign-in page would look like a sign-in that did nothing.
    let next = safe_next(next.as_deref());
    leptos_axum::redirect(if next == "/login" || next.starts_with("/login?") { "/" } else { next });
    Ok(())
}

#[server(endpoint = "logout", output = crate::codec::Json)]
pub async fn logout() -> Result<(), AppError> {
    let caller = guard::authorize(guard::Access::Public).await?;
    caller.session.flush().await.map_err(guard::session_error)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Who is asking: the signed-in user, or a visitor whose earlier session may have ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    pub me: Option<Me>,
    /// A session cookie came along but no longer signs anyone in (expired, ended, tampered).
    pub session_ended: bool,
}

#[server(endpoint = "me", output = crate::codec::Json)]
pub async fn current_user() -> Result<Visitor, AppError> {
    Ok(Visitor::of(&guard::authorize(guard::Access::Public).await?))
}

#[cfg(feature = "ssr")]
impl Visitor {
    pub fn of(caller: &guard::Caller) -> Visitor {
        let me =
            caller.user.as_ref().map(|u| Me { id: u.id, email: u.email.clone(), name: u.name.clone(), role: u.role });
        Visitor { me, session_ended: caller.session_ended }
    }
}

/// Who asked for the page being rendered, established once per request before rendering starts
/// (server::middleware::load_visitor puts it in the request's extensions): pages read it
/// synchronously, with no resource and no second wait on the same data.
#[derive(Debug, Clone)]
pub struct PageVisitor(pub Result<Visitor, AppError>);

/// This page's visitor; `None` outside a page request (and in the browser, where no page code runs).
pub fn page_visitor() -> Option<Result<Visitor, AppError>> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()?.extensions.get::<PageVisitor>().map(|v| v.0.clone())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Remembers the language choice in a cookie and returns to `back`.
#[server(endpoint = "language", output = crate::codec::Json)]
pub async fn set_language(lang: String, back: Option<String>) -> Result<(), AppError> {
    guard::authorize(guard::Access::Public).await?;
    let lang = domain::Lang::from_tag(&lang).ok_or_else(|| AppError::invalid("lang", "lang.unknown"))?;
    let cookie = cookie::Cookie::build((crate::i18n::LANG_COOKIE, lang.code()))
        .path("/")
        .max_age(time::Duration::days(365))
        .same_site(cookie::SameSite::Lax)
        .http_only(true)
        .build()
        .to_string();
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response
        .append_header(http::header::SET_COOKIE, http::HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?);
    leptos_axum::redirect(safe_next(back.as_deref()));
    Ok(())
}

/// The client's address: the socket's, or for connections from a trusted proxy the one its
/// `X-Forwarded-For` names, read exactly as the partner API reads it.
#[cfg(feature = "ssr")]
fn client_address(trusted: &[domain::net::IpNet]) -> String {
    let Some(parts) = use_context::<http::request::Parts>() else { return "unknown".into() };
    let Some(peer) = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>() else {
        return "unknown".into();
    };
    let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    domain::net::client_ip(peer.0.ip(), forwarded, trusted).to_string()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for good in [
            "/",
            "/login",
            "/admin/users",
            "/costs?month=2026-11&game=LINEAGE",
            "/costs/12#history",
            "/%2F%2Fevil",
            "/a%0d%0ab",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        let bad = [
            "//evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "\t//evil.example",
            " //evil.example",
            "/ /evil.example",
            "/\u{0}",
            "/\u{7f}",
            "/\u{3000}/evil.example",
            "/café",
            "admin",
            "",
        ];
        for bad in bad {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/", "too long");
        assert_eq!(safe_next(None), "/");
        // Whatever it lets through is a valid header value (the redirect would panic otherwise).
        for any in ["/\u{1}x", "/x\u{ff}", "/ok"] {
            assert!(http_header_safe(safe_next(Some(any))), "{any:?}");
        }
    }

    fn http_header_safe(v: &str) -> bool {
        v.bytes().all(|b| b.is_ascii_graphic())
    }
}
