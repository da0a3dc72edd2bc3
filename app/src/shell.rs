//! The signed-in frame: header with role-based navigation, and the role gate for pages.

use crate::auth::{Me, SignOutButton, Visitor, current_user};
use crate::components::LanguageSwitch;
use crate::error::AppError;
use crate::i18n::use_texts;
use domain::{Role, Section};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

#[derive(Clone, Copy)]
struct MeResource(Resource<Result<Visitor, AppError>>);

/// The signed-in user, once the shell has loaded it.
pub fn use_me() -> Option<Me> {
    use_context::<MeResource>().and_then(|r| r.0.get_untracked()).and_then(Result::ok).and_then(|v| v.me)
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

#[component]
pub fn Shell() -> impl IntoView {
    let t = use_texts();
    let me = Resource::new_blocking(|| (), |_| current_user());
    provide_context(MeResource(me));
    let here = use_location().pathname;
    view! {
        <a class="skip-link" href="#main">{t.skip_to_content}</a>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Visitor { me: Some(me), .. }) => view! { <Header me/> }.into_any(),
                    Ok(Visitor { me: None, session_ended }) => {
                        view! { <Redirect path=login_path(&here.get_untracked(), session_ended)/> }.into_any()
                    }
                    Err(err) => view! { <p class="alert alert-error" role="alert">{t.error(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
        <main id="main" class="page" tabindex="-1">
            <Outlet/>
        </main>
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
                    <span class="visually-hidden">{t.signed_in_as} " "</span>{me.name.clone()}
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
    let me = expect_context::<MeResource>().0;
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await.map(|v| v.me) {
                    Ok(Some(me)) if me.role.includes(role) => children.with_value(|c| c()).into_any(),
                    Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
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
