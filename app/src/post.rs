//! Forms an island posts itself. With JavaScript the form's fields are sent as they are, the way
//! the browser would send them, to the server function named in its `action`, and the answer is
//! kept in the island; without JavaScript the same form posts and the page comes back.
//!
//! Leptos' `ActionForm` does the same job by rebuilding the server function's arguments from the
//! form (`serde_qs`) and encoding them again (`serde_qs`) before sending: two query-string codecs
//! per form compiled into the browser bundle, about a tenth of it. Sending the form's own
//! `application/x-www-form-urlencoded` body skips both; the server decodes it as before.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::de::DeserializeOwned;

/// The state of a form an island posts: its last answer, whether it is on its way, and how many
/// answers came back (to read something again after each).
pub struct FormPost<O: Send + Sync + 'static> {
    path: &'static str,
    value: RwSignal<Option<Result<O, AppError>>>,
    pending: RwSignal<bool>,
    version: RwSignal<usize>,
}

impl<O: Send + Sync + 'static> Clone for FormPost<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O: Send + Sync + 'static> Copy for FormPost<O> {}

impl<O> FormPost<O>
where
    O: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// A form for the server function `S`. A form posted without JavaScript came back with its
    /// error in the URL (`__err`): it starts out holding that error.
    pub fn new<S: ServerFn<Output = O, Error = AppError>>() -> Self {
        let sent_back = use_context::<leptos::server::ServerActionError>()
            .filter(|e| e.path() == S::PATH)
            .map(|e| Err(leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(e.err())));
        FormPost {
            path: S::PATH,
            value: RwSignal::new(sent_back),
            pending: RwSignal::new(false),
            version: RwSignal::new(0),
        }
    }

    /// The server function's path, which is also the form's `action`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    pub fn value(&self) -> RwSignal<Option<Result<O, AppError>>> {
        self.value
    }

    pub fn pending(&self) -> ReadSignal<bool> {
        self.pending.read_only()
    }

    pub fn version(&self) -> ReadSignal<usize> {
        self.version.read_only()
    }

    /// Sends `form`'s fields (those of elements outside it with `form=` its id included) and keeps
    /// the answer; a server function that redirects sends the browser on. False if the fields
    /// could not be read, and nothing was sent: the browser should post the form itself.
    #[cfg(feature = "hydrate")]
    pub fn submit(self, form: &web_sys::HtmlFormElement) -> bool {
        let body = web_sys::FormData::new_with_form(form)
            .and_then(|data| web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data));
        let Ok(body) = body else {
            return false;
        };
        self.pending.set(true);
        let path = self.path;
        leptos::task::spawn_local(async move {
            let answer = send(path, body).await;
            self.pending.set(false);
            match answer {
                Ok(Answer { redirect: Some(to), .. }) => {
                    let _ = window().location().set_href(&to);
                }
                Ok(Answer { status, text, .. }) if (400..600).contains(&status) => {
                    self.answer(Err(<AppError as server_fn::error::FromServerFnError>::de(text.into())))
                }
                Ok(Answer { text, .. }) => self.answer(
                    <crate::codec::JsonText as server_fn::Decodes<O>>::decode(text.into())
                        .map_err(|e| AppError::BadRequest(e.to_string())),
                ),
                // No answer at all (offline, the server gone): said as the server's failure.
                Err(_) => self.answer(Err(AppError::Internal)),
            }
        });
        true
    }

    #[cfg(feature = "hydrate")]
    fn answer(self, value: Result<O, AppError>) {
        self.value.set(Some(value));
        self.version.update(|v| *v += 1);
    }
}

#[cfg(feature = "hydrate")]
use leptos::server_fn;

#[cfg(feature = "hydrate")]
struct Answer {
    status: u16,
    redirect: Option<String>,
    text: String,
}

/// One `fetch` of the form's body to the server function; `Accept` says an island asked, so the
/// server answers JSON instead of sending the browser back to the page.
#[cfg(feature = "hydrate")]
async fn send(path: &str, body: web_sys::UrlSearchParams) -> Result<Answer, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let headers = web_sys::Headers::new()?;
    headers.set("Accept", "application/json")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers.into());
    init.set_body(&body.into());
    let response: web_sys::Response =
        JsFuture::from(window().fetch_with_str_and_init(path, &init)).await?.dyn_into()?;
    let redirect = match response.headers().get(server_fn::redirect::REDIRECT_HEADER)? {
        Some(_) => response.headers().get("Location")?,
        None => None,
    };
    let text = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    Ok(Answer { status: response.status(), redirect, text })
}

/// Whether the island has hydrated: false on the server and until then. A button whose answer
/// only the browser can show (a secret shown once) stays disabled in a page without JavaScript,
/// with a hint shown until then: not `<noscript>`, which a browser whose scripts are blocked (by a
/// content policy, say) or fail to load does not show.
pub fn hydrated() -> Signal<bool> {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    ready.into()
}

/// Refuses a form posted without JavaScript: the server would send the browser back to the page,
/// and a secret shown only in the answer would be lost. Called before anything is issued.
#[cfg(feature = "ssr")]
pub fn refuse_plain_form() -> Result<(), AppError> {
    match use_context::<http::request::Parts>() {
        Some(request) if asks_for_a_page(&request.headers) => Err(AppError::invalid("script", "secret.needs_script")),
        _ => Ok(()),
    }
}

/// Whether a request asks for a page back (`Accept: text/html`): a form the browser posted itself,
/// which leptos answers by sending the browser back to the page, as against an island's `fetch`.
#[cfg(feature = "ssr")]
pub fn asks_for_a_page(headers: &http::HeaderMap) -> bool {
    headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// A form posted by [`FormPost`]: a plain `<form method="post">` to the server function, which
/// the island sends itself once hydrated. Attributes (`attr:class`) go on the form.
#[component]
pub fn PostForm<O>(post: FormPost<O>, children: Children) -> impl IntoView
where
    O: DeserializeOwned + Clone + Send + Sync + 'static,
{
    view! {
        <form method="post" action=post.path() on:submit=move |ev| {
            #[cfg(feature = "hydrate")]
            if post.submit(&event_target::<web_sys::HtmlFormElement>(&ev)) {
                ev.prevent_default();
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = ev;
        }>
            {children()}
        </form>
    }
}
