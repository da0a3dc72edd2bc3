//! The signed-in frame: header with role-based navigation, and the role gate for pages.

use crate::auth::{Me, SignOutButton, Visitor, page_visitor};
use crate::components::LanguageSwitch;
use crate::error::AppError;
use crate::i18n::use_texts;
use domain::{Role, Section};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

/// The signed-in user, for the pages inside the [`Shell`] (which provides it once loaded).
pub fn use_me() -> Option<Me> {
    use_context::<Me>()
}

/// Sets the HTTP status of a server-rendered page (no-op in the browser).
pub fn set_status(_code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(code)) = (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(_code)) {
        res.set_status(code);
    }
}

fn login_path(next: &str, session_ended: bool) -> String {
    let encoded = crate::url::path_value(next);
    let ended = if session_ended { "&session=ended" } else { "" };
    format!("/login?next={encoded}{ended}")
}

/// The frame of every signed-in page: the header and the page (the router's outlet) for a
/// signed-in user, who is then in context for the page ([`use_me`]); a visitor is sent to sign in.
#[component]
pub fn Shell() -> impl IntoView {
    let t = use_texts();
    let here = use_location().pathname;
    let frame = match page_visitor().unwrap_or(Err(AppError::Internal)) {
        Ok(Visitor { me: Some(me), .. }) => {
            provide_context(me.clone());
            view! {
                <Header me/>
                <main id="main" class="page" tabindex="-1">
                    <Outlet/>
                </main>
            }
            .into_any()
        }
        Ok(Visitor { me: None, session_ended }) => {
            view! { <Redirect path=login_path(&here.get_untracked(), session_ended)/> }.into_any()
        }
        Err(err) => view! {
            <main id="main" class="page" tabindex="-1">
                <p class="alert alert-error" role="alert">{t.error(&err)}</p>
            </main>
        }
        .into_any(),
    };
    view! {
        <a class="skip-link" href="#main">{t.skip_to_content}</a>
        {frame}
    }
}

#[component]
fn Header(me: Me) -> impl IntoView {
    let t = use_texts();
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">{t.app_name}</A>
            <nav aria-label=t.nav_label class="nav">
                <ul>
                    {Section::visible_to(me.role)
                        .map(|s| view! { <li><A href=s.path()>{t.section(s).0}</A></li> })
                        .collect_view()}
                </ul>
            </nav>
            <div class="user-box">
                <span class="user-name" title=me.email.clone()>
                    <span class="visually-hidden">{(t.signed_in_as)(&me.name)}</span><span aria-hidden="true">{me.name.clone()}</span>
                </span>
                <span class="badge">{t.role(me.role)}</span>
                <LanguageSwitch/>
                <SignOutButton/>
            </div>
        </header>
    }
}

/// Renders `children` only for a user whose role includes `role`; others get a 403 page.
/// The server functions behind the children check again: this gate only decides what to show.
#[component]
pub fn RequireRole(role: Role, children: ChildrenFn) -> impl IntoView {
    match use_me() {
        Some(me) if me.role.includes(role) => children().into_any(),
        Some(_) => view! { <Forbidden/> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
fn Forbidden() -> impl IntoView {
    let t = use_texts();
    set_status(403);
    view! {
        <section class="card empty-state">
            <h1>{t.forbidden_title}</h1>
            <p>{t.forbidden_body}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn return_paths_are_escaped() {
        assert_eq!(super::login_path("/admin/users", false), "/login?next=/admin/users");
        assert_eq!(super::login_path("/a b&c", false), "/login?next=/a%20b%26c");
        assert_eq!(super::login_path("/", true), "/login?next=/&session=ended");
    }
}
