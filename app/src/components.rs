//! Small pieces shared by pages.

use crate::auth::SetLanguage;
use crate::error::AppError;
use crate::i18n::{RowProblem, use_lang, use_texts};
use crate::post::FormPost;
use domain::Lang;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_location;

/// Where a form's outcome is read from: a server action (a page's plain forms) or a form an
/// island posts itself ([`FormPost`]).
pub trait Outcome: Copy + Send + Sync + 'static {
    /// The server function's path; a plain form sent back after success names it in `__ok`.
    fn path(&self) -> &'static str;
    /// The last answer: a success, or its error (tracked).
    fn outcome(&self) -> Option<Result<(), AppError>>;
}

impl<S> Outcome for ServerAction<S>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    fn path(&self) -> &'static str {
        S::PATH
    }

    fn outcome(&self) -> Option<Result<(), AppError>> {
        self.value().with(settled)
    }
}

impl<O> Outcome for FormPost<O>
where
    O: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    fn path(&self) -> &'static str {
        FormPost::path(self)
    }

    fn outcome(&self) -> Option<Result<(), AppError>> {
        self.value().with(settled)
    }
}

/// An answer without its value: whether it succeeded, or its error.
fn settled<O>(answer: &Option<Result<O, AppError>>) -> Option<Result<(), AppError>> {
    answer.as_ref().map(|r| r.as_ref().map(|_| ()).map_err(Clone::clone))
}

/// The outcome of a form, announced to screen readers. A form outside an island posts as a plain
/// form and the server sends the browser back to the page: with the error in the URL, which the
/// action starts out holding, or with the form's name in `__ok` (see [`crate::url::flash`]).
#[component]
pub fn FormAlert<A: Outcome>(action: A, #[prop(optional)] success: Option<&'static str>) -> impl IntoView {
    let t = use_texts();
    let sent_back_ok = crate::url::flash().is_some_and(|path| path == action.path());
    let message = move || match action.outcome() {
        Some(Err(AppError::Refused { message })) => {
            Some(("alert alert-error", format!("{} {message}", t.error_code("refused"))))
        }
        Some(Err(err)) => Some(("alert alert-error", t.error(&err).to_owned())),
        Some(Ok(())) => success.map(|m| ("alert alert-ok", m.to_owned())),
        None => success.filter(|_| sent_back_ok).map(|m| ("alert alert-ok", m.to_owned())),
    };
    view! {
        <div aria-live="polite">
            {move || message().map(|(class, text)| view! { <p class=class role="alert">{text}</p> })}
        </div>
    }
}

/// What became of a file that is loaded whole or not at all: how many rows were stored (after
/// `stored`; a plain form sent back after success only knows that it was saved), or the error and
/// every refused row with its reason.
#[component]
pub fn LoadOutcome<S>(action: ServerAction<S>, stored: &'static str) -> impl IntoView
where
    S: ServerFn<Error = AppError, Output = usize> + Clone + Send + Sync + 'static,
{
    let t = use_texts();
    let value = action.value();
    let sent_back_ok = crate::url::flash().is_some_and(|path| path == S::PATH);
    let outcome = move || match value.get() {
        Some(Ok(n)) => Some(("alert alert-ok", format!("{stored} {n}"))),
        Some(Err(e)) => Some(("alert alert-error", t.error(&e).to_owned())),
        None => sent_back_ok.then(|| ("alert alert-ok", t.saved.to_owned())),
    };
    let problems = move || match value.get() {
        Some(Err(AppError::Rows { problems, .. })) => problems,
        _ => Vec::new(),
    };
    let more = move || match value.get() {
        Some(Err(AppError::Rows { more, .. })) if more > 0 => Some(more),
        _ => None,
    };
    view! {
        <div aria-live="polite">
            {move || outcome().map(|(class, text)| view! { <p class=class role="alert">{text}</p> })}
            <ul class="problems">
                {move || problems().into_iter().map(|p| view! {
                    <li>{(t.row_problem)(&RowProblem { row: &p.row, problem: &t.problem(&p.code, &p.detail) })}</li>
                }).collect_view()}
                {move || more().map(|n| view! { <li>{(t.more_rows_with_problems)(&n)}</li> })}
            </ul>
        </div>
    }
}

/// Two buttons that switch the UI language. A plain form, so it works the same with or without
/// JavaScript and reloads the page in the new language.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let t = use_texts();
    let current = use_lang();
    let location = use_location();
    let back = move || location.pathname.get();
    let action = <SetLanguage as ServerFn>::url();
    view! {
        <form method="post" action=action class="lang-switch" aria-label=t.language>
            <input type="hidden" name="back" value=back/>
            {Lang::ALL.into_iter().map(|lang| {
                let label = match lang { Lang::En => "English", Lang::Ko => "한국어" };
                view! {
                    <button type="submit" name="lang" value=lang.code() class="btn btn-quiet"
                        aria-pressed=if lang == current { "true" } else { "false" }
                        lang=lang.code()>{label}</button>
                }
            }).collect_view()}
        </form>
    }
}

/// A page's data once loaded, shown by `show`, or why it could not be.
pub(crate) fn loaded<T>(
    data: Resource<Result<T, AppError>>,
    show: impl Fn(T) -> AnyView + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(value) => show(value),
                    Err(err) => error_view(err),
                }
            })}
        </Suspense>
    }
}

fn error_view(err: AppError) -> AnyView {
    let t = use_texts();
    if err == AppError::NotFound {
        crate::shell::set_status(404);
    }
    view! { <p class="alert alert-error" role="alert">{t.error(&err)}</p> }.into_any()
}
