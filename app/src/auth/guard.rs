//! The single authorization entry point. Every server function starts with [`authorize`].

use crate::error::AppError;
use crate::state::AppState;
use domain::Role;
use leptos::prelude::*;
use store::User;
use tower_sessions::Session;

/// Who may call a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself, language choice).
    Public,
    /// A signed-in, active user whose role includes this one.
    AtLeast(Role),
}

/// The caller of a server function, as established by [`authorize`].
pub struct Caller {
    pub state: AppState,
    pub session: Session,
    pub user: Option<User>,
    /// The browser sent a session cookie that no longer stands for a signed-in user: the session
    /// expired, was ended (sign-out elsewhere, deactivation) or the cookie was tampered with.
    pub session_ended: bool,
}

impl Caller {
    /// The signed-in user; present whenever `authorize` was asked for a role.
    pub fn user(&self) -> Result<&User, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The signed-in user as the use cases' [`service::Actor`].
    pub fn actor(&self) -> Result<service::Actor, AppError> {
        Ok(service::Actor::user(self.user()?)?)
    }
}

/// The session cookie's name; `__Host-` prefixed when cookies are `Secure`.
pub const SESSION_COOKIE: &str = "mcms_session";
pub const SECURE_SESSION_COOKIE: &str = "__Host-mcms_session";

pub(crate) const USER_ID: &str = "uid";
pub(crate) const SIGNED_IN_AT: &str = "signed_in_at";

/// Establishes the caller from the session and checks `access`. A session whose user was
/// deactivated, or that outlived the absolute limit, is ended here.
pub async fn authorize(access: Access) -> Result<Caller, AppError> {
    let state = use_context::<AppState>().ok_or_else(|| internal("AppState missing from context"))?;
    let parts = use_context::<http::request::Parts>().ok_or_else(|| internal("request parts missing"))?;
    authorize_request(state, &parts, access).await
}

/// The same check for plain HTTP handlers (downloads), given the request's parts.
pub async fn authorize_request(
    state: AppState,
    parts: &http::request::Parts,
    access: Access,
) -> Result<Caller, AppError> {
    let session = parts.extensions.get::<Session>().cloned().ok_or_else(|| internal("session layer missing"))?;
    let user = signed_in_user(&state, &session).await?;
    let session_ended = user.is_none() && sent_session_cookie(&parts.headers);
    match (access, &user) {
        (Access::Public, _) => {}
        (Access::AtLeast(_), None) => return Err(AppError::Unauthenticated),
        (Access::AtLeast(role), Some(u)) if !u.role.includes(role) => return Err(AppError::Forbidden),
        (Access::AtLeast(_), Some(_)) => {}
    }
    Ok(Caller { state, session, user, session_ended })
}

fn sent_session_cookie(headers: &http::HeaderMap) -> bool {
    request_cookies(headers).any(|c| matches!(c.name(), SESSION_COOKIE | SECURE_SESSION_COOKIE))
}

/// The cookies a request sent, over all its `Cookie` headers; unreadable ones are skipped.
pub fn request_cookies(headers: &http::HeaderMap) -> impl Iterator<Item = cookie::Cookie<'_>> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
}

async fn signed_in_user(state: &AppState, session: &Session) -> Result<Option<User>, AppError> {
    let id: Option<i64> = session.get(USER_ID).await.map_err(session_error)?;
    let Some(id) = id else { return Ok(None) };
    let signed_in_at: i64 = session.get(SIGNED_IN_AT).await.map_err(session_error)?.unwrap_or(0);
    let age = time::OffsetDateTime::now_utc().unix_timestamp() - signed_in_at;
    let user = match state.db.user(id).await? {
        Some(user) if user.active && age <= state.absolute_session_secs => Some(user),
        _ => None,
    };
    if user.is_none() {
        session.flush().await.map_err(session_error)?;
    }
    Ok(user)
}

pub(crate) fn session_error(err: tower_sessions::session::Error) -> AppError {
    internal(&err.to_string())
}

pub(crate) fn internal(what: &str) -> AppError {
    tracing::error!(cause = what, "internal error");
    AppError::Internal
}
