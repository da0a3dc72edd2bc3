//! The pipeline editor: the YAML in a text area, checked as one types. The file's structure is
//! checked in the browser by the same code as the server's (`domain::pipeline::check_draft`) on
//! every keystroke; when that finds nothing, the server plans the SQL against the sources'
//! columns a moment after typing stops. Saving checks the structure again on the server and
//! refuses a save over a newer version, keeping the text. Without JavaScript the form still
//! saves, and comes back with the text and the problems if it is refused.

use super::*;
use crate::components::FormAlert;
use crate::error::PipelineProblem;
use crate::i18n::use_texts;
use crate::post::{FormPost, hydrated};
use leptos_router::hooks::use_params_map;

#[component]
pub fn EditorPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name");
    let data = Resource::new_blocking(name, load_editor);
    crate::components::loaded(data, move |data| view! { <PipelineEditor data/> }.into_any())
}

/// The problems the browser finds in `text` (the file's own check).
fn local_problems(text: &str) -> Vec<PipelineProblem> {
    match domain::pipeline::check_draft(text) {
        Ok(_) => Vec::new(),
        Err(found) => found
            .into_iter()
            .map(|p| PipelineProblem {
                line: p.line,
                column: p.column,
                code: p.kind.code().to_owned(),
                message: p.kind.to_string(),
                args: p.kind.args(),
            })
            .collect(),
    }
}

/// What a refused save sent back (the page came back without JavaScript): the name and the text.
fn sent_back<O: Clone>(answer: Option<Result<O, AppError>>) -> Option<(String, String)> {
    match answer {
        Some(Err(AppError::Pipeline { name, submitted, .. } | AppError::PipelineConflict { name, submitted, .. }))
            if !submitted.is_empty() =>
        {
            Some((name, submitted))
        }
        _ => None,
    }
}

#[cfg_attr(any(not(feature = "only-islands"), feature = "pipeline-editor"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "pipeline-editor")), component)]
fn PipelineEditor(data: EditorData) -> impl IntoView {
    let t = use_texts();
    let tp = t.pipelines;
    let save = FormPost::new::<SavePipeline>();
    let check = FormPost::new::<CheckPipeline>();
    let (typed_name, initial) = sent_back(save.value().get_untracked()).unwrap_or((String::new(), data.text));
    let text = RwSignal::new(initial.clone());
    let local = Memo::new(move |_| text.with(|t| local_problems(t)));
    // The server's answer holds for the text it was sent.
    let sent = RwSignal::new(None::<String>);
    let server = move || match (check.value().get(), sent.get()) {
        (Some(Err(AppError::Pipeline { problems, .. })), Some(s)) if text.with(|t| *t == s) => problems,
        _ => Vec::new(),
    };
    let server_ok =
        move || matches!(check.value().get(), Some(Ok(()))) && sent.get().is_some_and(|s| text.with(|t| *t == s));
    let save_problems = move || match save.value().get() {
        Some(Err(AppError::Pipeline { problems, .. })) => problems,
        _ => Vec::new(),
    };
    let problems = move || {
        let mut all = local.get();
        if all.is_empty() {
            all = server();
        }
        if all.is_empty() && !save.value().with(|v| v.is_none()) && sent.get().is_none() {
            all = save_problems();
        }
        all
    };
    let form = NodeRef::<leptos::html::Form>::new();
    let ready = hydrated();
    // A moment after typing stops, a text the browser finds sound is planned on the server.
    let typed = RwSignal::new(0u64);
    let ask_server = move || {
        let sound = local.with_untracked(Vec::is_empty);
        #[cfg(feature = "hydrate")]
        if let Some(form) = form.get_untracked().filter(|_| sound) {
            sent.set(Some(text.get_untracked()));
            check.submit(&form);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (sound, form, sent, check);
    };
    let on_input = move |ev: leptos::ev::Event| {
        text.set(event_target_value(&ev));
        typed.update(|n| *n += 1);
        let mine = typed.get_untracked();
        set_timeout(
            move || {
                if typed.get_untracked() == mine {
                    ask_server();
                }
            },
            std::time::Duration::from_millis(700),
        );
    };
    let is_new = data.name.is_none();
    let name = data.name.clone().unwrap_or_default();
    let cancel_href = if is_new { "/pipelines".to_owned() } else { format!("/pipelines/{name}") };
    let line_count = move || text.with(|t| t.lines().count());
    let status = move || {
        let n = problems().len();
        if n > 0 {
            (tp.problems_found)(&n)
        } else if check.pending().get() {
            tp.checking_sql.to_owned()
        } else if server_ok() {
            tp.sound_with_sql.to_owned()
        } else {
            tp.sound.to_owned()
        }
    };
    view! {
        <header class="page-head">
            <p class="crumbs"><a href="/pipelines">{t.section(domain::Section::Pipelines).0}</a></p>
            <h1>{if is_new { tp.new_pipeline.to_owned() } else { (tp.editing)(&name) }}</h1>
            <p class="muted">{tp.editor_intro}" "<a href="/pipelines/schema.json">"schema.json"</a></p>
        </header>
        <form node_ref=form method="post" action=save.path() class="form-grid pipeline-editor" on:submit=move |ev| {
            #[cfg(feature = "hydrate")]
            if save.submit(&event_target::<web_sys::HtmlFormElement>(&ev)) {
                sent.set(None);
                ev.prevent_default();
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = ev;
        }>
            {match is_new {
                true => view! {
                    <div class="field">
                        <label for="pipeline-name">{tp.name}</label>
                        <input id="pipeline-name" name="name" type="text" required maxlength="63" value=typed_name
                            pattern="[a-z][a-z0-9\\-]*" autocomplete="off" aria-describedby="pipeline-name-hint"/>
                        <p id="pipeline-name-hint" class="hint">{tp.name_hint}</p>
                    </div>
                }.into_any(),
                false => view! {
                    <input type="hidden" name="name" value=name.clone()/>
                    <input type="hidden" name="base" value=data.base.map(|b| b.to_string()).unwrap_or_default()/>
                }.into_any(),
            }}
            <div class="field field-wide">
                <label for="pipeline-text">{tp.file}" "<span class="muted">{move || (tp.lines)(&line_count())}</span></label>
                <textarea id="pipeline-text" name="text" rows="24" spellcheck="false" autocapitalize="off"
                    class="code" aria-describedby="pipeline-status" aria-invalid=move || (!problems().is_empty()).to_string()
                    on:input=on_input>{initial}</textarea>
                <p id="pipeline-status" class="hint" aria-live="polite">{status}</p>
                <super::pages::ProblemList problems=Signal::derive(problems)/>
            </div>
            <div class="field field-wide">
                <label for="pipeline-note">{tp.note}</label>
                <input id="pipeline-note" name="note" type="text" maxlength="500" autocomplete="off"
                    placeholder=tp.note_hint/>
            </div>
            <div class="form-actions">
                <FormAlert action=save/>
                <button type="button" class="btn" disabled=move || !ready.get() || check.pending().get()
                    on:click=move |_| ask_server()>{tp.check_button}</button>
                <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>{tp.save_button}</button>
                <a href=cancel_href class="btn">{t.cancel}</a>
            </div>
        </form>
    }
}
