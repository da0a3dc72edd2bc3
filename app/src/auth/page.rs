use super::{Login, Logout};
use crate::components::{FormAlert, LanguageSwitch};
use crate::i18n::use_texts;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let ended = move || query.read().get("session").is_some_and(|s| s == "ended");
    view! {
        <main id="main" class="auth-page">
            <section class="card auth-card" aria-labelledby="login-title">
                <p class="brand brand-large">{t.app_name}</p>
                <h1 id="login-title">{t.login_title}</h1>
                <p class="muted">{t.login_intro}</p>
                <Show when=ended>
                    <p class="alert alert-info" role="status">{t.session_ended}</p>
                </Show>
                <LoginForm next=next()/>
            </section>
            <LanguageSwitch/>
        </main>
    }
}

/// A plain form, not an island: the sign-in page is everyone's first visit, so it loads no browser
/// code. A refused sign-in comes back with the error in the URL, with or without JavaScript.
#[component]
fn LoginForm(next: String) -> impl IntoView {
    let t = use_texts();
    let login = ServerAction::<Login>::new();
    view! {
        <ActionForm action=login attr:class="stack" attr:novalidate=true>
            <input type="hidden" name="next" value=next/>
            <div class="field">
                <label for="email">{t.email}</label>
                <input id="email" name="email" type="email" autocomplete="username" required/>
            </div>
            <div class="field">
                <label for="password">{t.password}</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
            </div>
            <FormAlert action=login/>
            <button type="submit" class="btn btn-primary">{t.sign_in}</button>
        </ActionForm>
    }
}

#[component]
pub fn SignOutButton() -> impl IntoView {
    let t = use_texts();
    let logout = ServerAction::<Logout>::new();
    view! {
        <ActionForm action=logout attr:class="inline">
            <button type="submit" class="btn btn-quiet">{t.sign_out}</button>
        </ActionForm>
    }
}
