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

/// Keeps a redirect target on this site: a local path, never `//host` or a full URL; else `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => "/",
    }
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use guard::{Access, SIGNED_IN_AT, USER_ID, authorize, session_error};
    use store::ThrottleVerdict;

    let caller = authorize(Access::Public).await?;
    let (db, limits) = (&caller.state.db, &caller.state.throttle);
    let addr = client_address();
    if let ThrottleVerdict::Blocked { retry_after_secs } = db.login_allowed(limits, &email, &addr).await? {
        tracing::warn!(%addr, "sign-in throttled");
        return Err(AppError::Throttled { retry_after_secs });
    }
    let Some(user) = db.authenticate(&email, &password).await? else {
        db.record_login_failure(limits, &email, &addr).await?;
        tracing::info!(%addr, "sign-in refused");
        return Err(AppError::BadCredentials);
    };
    db.clear_login_failures(&email).await?;
    // A new id at the privilege change defeats session fixation.
    caller.session.cycle_id().await.map_err(session_error)?;
    caller.session.insert(USER_ID, user.id).await.map_err(session_error)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    caller.session.insert(SIGNED_IN_AT, now).await.map_err(session_error)?;
    tracing::info!(user_id = user.id, "signed in");
    let next = safe_next(next.as_deref());
    leptos_axum::redirect(if next.starts_with("/login") { "/" } else { next });
    Ok(())
}

#[server(endpoint = "logout")]
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

#[server(endpoint = "me")]
pub async fn current_user() -> Result<Visitor, AppError> {
    let caller = guard::authorize(guard::Access::Public).await?;
    let me = caller.user.map(|u| Me { id: u.id, email: u.email, name: u.name, role: u.role });
    Ok(Visitor { me, session_ended: caller.session_ended })
}

/// Remembers the language choice in a cookie and returns to `back`.
#[server(endpoint = "language")]
pub async fn set_language(lang: String, back: Option<String>) -> Result<(), AppError> {
    guard::authorize(guard::Access::Public).await?;
    let lang = domain::Lang::from_tag(&lang).ok_or_else(|| AppError::invalid("lang", "lang.unknown"))?;
    let cookie =
        format!("{}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly", crate::i18n::LANG_COOKIE, lang.code());
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response
        .append_header(http::header::SET_COOKIE, http::HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?);
    leptos_axum::redirect(safe_next(back.as_deref()));
    Ok(())
}

/// The client's address as the socket saw it.
#[cfg(feature = "ssr")]
fn client_address() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| {
            p.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("/login")), "/login");
        for bad in ["//evil.example", "https://evil.example", "/\\evil.example", "admin"] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
