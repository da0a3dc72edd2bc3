//! The pipeline pages rendered on the server: the list, a pipeline, its versions, a run. Their
//! forms are plain forms (they work without JavaScript); a run's page reloads itself every two
//! seconds while the run goes on.

use super::lineage::LineageGraph;
use super::*;
use crate::components::{FormAlert, Outcome, loaded};
use crate::error::PipelineProblem;
use crate::i18n::use_texts;
use leptos_meta::Meta;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The problems of a refused form, each with its line and column, below its message.
#[component]
pub(super) fn ProblemsAlert<A: Outcome>(action: A, #[prop(optional)] success: Option<&'static str>) -> impl IntoView {
    let problems = move || match action.outcome() {
        Some(Err(AppError::Pipeline { problems, .. })) => problems,
        _ => Vec::new(),
    };
    view! {
        <FormAlert action success=success.unwrap_or_default()/>
        <ProblemList problems=Signal::derive(problems)/>
    }
}

#[component]
pub(super) fn ProblemList(#[prop(into)] problems: Signal<Vec<PipelineProblem>>) -> impl IntoView {
    let t = use_texts();
    move || {
        let problems = problems.get();
        (!problems.is_empty()).then(|| {
            view! {
                <ul class="problems">
                    {problems.into_iter().map(|p| {
                        let place = if p.line == 0 { t.pipelines.whole_file.to_owned() } else { (t.pipelines.at)(&p.line, &p.column) };
                        let message = (t.pipelines.problem)(&p.code, &p.args).unwrap_or(p.message);
                        view! { <li data-line=p.line><span class="problem-place">{place}</span>" "{message}</li> }
                    }).collect_view()}
                </ul>
            }
        })
    }
}

fn state_badge(state: &str) -> impl IntoView + use<> {
    let t = use_texts();
    let (class, text) = match state {
        "succeeded" => ("badge badge-ok", t.pipelines.succeeded),
        "failed" => ("badge badge-error", t.pipelines.failed),
        _ => ("badge badge-running", t.pipelines.running),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
pub fn PipelinesPage() -> impl IntoView {
    let t = use_texts();
    let list = Resource::new_blocking(|| (), |_| list_pipelines());
    view! {
        <header class="page-head">
            <h1>{t.section(domain::Section::Pipelines).0}</h1>
            <p class="muted">{t.pipelines.intro}</p>
        </header>
        {loaded(list, move |list| view! { <PipelineTable list/> }.into_any())}
    }
}

#[component]
fn PipelineTable(list: PipelineList) -> impl IntoView {
    let t = use_texts();
    let tp = t.pipelines;
    let rows = list
        .pipelines
        .into_iter()
        .map(|p| {
            let href = format!("/pipelines/{}", p.name);
            let last = match p.last_run {
                Some(r) => {
                    let run_href = format!("/pipelines/{}/runs/{}", r.pipeline, r.id);
                    view! { <A href=run_href>{state_badge(&r.state)}" "{r.started_at}</A> }.into_any()
                }
                None => view! { <span class="muted">{tp.never_run}</span> }.into_any(),
            };
            let next = match (p.cron, p.next) {
                (Some(cron), next) => view! { <code>{cron}</code>" "{next.unwrap_or_default()} }.into_any(),
                (None, _) => view! { <span class="muted">{tp.not_scheduled}</span> }.into_any(),
            };
            view! {
                <tr>
                    <td><A href=href>{p.name}</A></td>
                    <td class="num">{p.version}</td>
                    <td>{p.saved_by}" · "{p.saved_at}</td>
                    <td>{last}</td>
                    <td>{next}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {list.can_build.then(|| view! { <p><A href="/pipelines/new" attr:class="btn btn-primary">{tp.new_pipeline}</A></p> })}
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">{t.section(domain::Section::Pipelines).0}</caption>
                <thead><tr>
                    <th scope="col">{tp.name}</th>
                    <th scope="col" class="num">{tp.version}</th>
                    <th scope="col">{tp.saved}</th>
                    <th scope="col">{tp.last_run}</th>
                    <th scope="col">{tp.next_run}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn PipelinePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let run = ServerAction::<StartRun>::new();
    let schedule = ServerAction::<SetSchedule>::new();
    let page = Resource::new_blocking(move || (name(), schedule.version().get()), |(name, _)| get_pipeline(name, None));
    view! {
        {loaded(page, move |view| view! { <PipelineView view run schedule/> }.into_any())}
    }
}

#[component]
fn PipelineView(view: PipelineView, run: ServerAction<StartRun>, schedule: ServerAction<SetSchedule>) -> impl IntoView {
    let t = use_texts();
    let tp = t.pipelines;
    let name = view.name.clone();
    let declared = view.params.clone();
    let param_inputs = move |prefix: &'static str, values: BTreeMap<String, String>| {
        declared
            .clone()
            .into_iter()
            .map(|p| {
                let id = format!("{prefix}-{}", p.name);
                let placeholder = p.default.clone().map(|d| (tp.default_is)(&d)).unwrap_or_default();
                let value = values.get(&p.name).cloned().unwrap_or_default();
                view! {
                    <div class="field">
                        <label for=id.clone()>{p.name.clone()}" "<span class="muted">"("{p.kind.clone()}")"</span></label>
                        <input id=id name=format!("params[{}]", p.name) type="text" value=value placeholder=placeholder
                            autocomplete="off" maxlength="100"/>
                        {(!p.description.is_empty()).then(|| view! { <p class="hint">{p.description.clone()}</p> })}
                    </div>
                }
            })
            .collect_view()
    };
    let run_name = name.clone();
    let run_params = param_inputs("run", BTreeMap::new());
    let run_form = view.can_build.then(|| {
        view! {
            <section class="card" aria-labelledby="run-title">
                <h2 id="run-title">{tp.run_title}</h2>
                <ActionForm action=run attr:class="form-grid">
                    <input type="hidden" name="name" value=run_name/>
                    {run_params}
                    <div class="form-actions">
                        <ProblemsAlert action=run/>
                        <button type="submit" class="btn btn-primary">{tp.run_button}</button>
                    </div>
                </ActionForm>
            </section>
        }
    });
    let current = view.schedule.clone();
    let schedule_params = param_inputs("schedule", current.as_ref().map(|s| s.params.clone()).unwrap_or_default());
    let schedule_name = name.clone();
    let schedule_form = view.can_build.then(|| {
        let cron = current.as_ref().map(|s| s.cron.clone()).unwrap_or_default();
        let retries = current.as_ref().map_or(0, |s| s.retries);
        view! {
            <ActionForm action=schedule attr:class="form-grid">
                <input type="hidden" name="name" value=schedule_name/>
                <div class="field">
                    <label for="schedule-cron">{tp.cron}</label>
                    <input id="schedule-cron" name="cron" type="text" value=cron placeholder="0 6 * * *"
                        autocomplete="off" maxlength="100" aria-describedby="schedule-cron-hint"/>
                    <p id="schedule-cron-hint" class="hint">{tp.cron_hint}</p>
                </div>
                <div class="field">
                    <label for="schedule-retries">{tp.retries}</label>
                    <input id="schedule-retries" name="retries" type="number" min="0" max="10" value=retries/>
                </div>
                {schedule_params}
                <div class="form-actions">
                    <ProblemsAlert action=schedule success=tp.schedule_saved/>
                    <button type="submit" class="btn btn-primary">{tp.schedule_button}</button>
                    {current.is_some().then(|| view! {
                        <button type="submit" name="off" value="true" class="btn">{tp.unschedule_button}</button>
                    })}
                </div>
            </ActionForm>
        }
    });
    let schedule_now = match &view.schedule {
        Some(s) => view! {
            <p><code>{s.cron.clone()}</code>" · "{tp.next_run}": "{s.next.clone().unwrap_or_default()}</p>
        }
        .into_any(),
        None => view! { <p class="muted">{tp.not_scheduled}</p> }.into_any(),
    };
    let edit_href = format!("/pipelines/{name}/edit");
    let versions_href = format!("/pipelines/{name}/versions");
    view! {
        <header class="page-head">
            <p class="crumbs"><A href="/pipelines">{t.section(domain::Section::Pipelines).0}</A></p>
            <h1>{name.clone()}</h1>
            <p class="muted">{view.description.clone()}</p>
            <p>
                {(tp.version_by)(&view.version)}" · "{view.saved_by.clone()}" · "{view.saved_at.clone()}
                " · "<A href=versions_href>{tp.versions}</A>
                {view.can_build.then(|| view! { " · "<A href=edit_href attr:class="btn">{tp.edit}</A> })}
            </p>
        </header>
        <section class="card" aria-labelledby="lineage-title">
            <h2 id="lineage-title">{tp.lineage}</h2>
            <div class="lineage-wrap">
                <LineageGraph lineage=view.lineage.clone() label=(tp.lineage_of)(&name)/>
            </div>
        </section>
        {run_form}
        <section class="card" aria-labelledby="schedule-title">
            <h2 id="schedule-title">{tp.schedule}</h2>
            {schedule_now}
            {schedule_form}
        </section>
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">{tp.history}</h2>
            <RunTable runs=view.runs/>
        </section>
        <details class="card">
            <summary>{tp.file}</summary>
            <pre class="pipeline-text">{view.text}</pre>
        </details>
    }
}

#[component]
fn RunTable(runs: Vec<RunLine>) -> impl IntoView {
    let tp = use_texts().pipelines;
    if runs.is_empty() {
        return view! { <p class="muted">{tp.never_run}</p> }.into_any();
    }
    let rows = runs
        .into_iter()
        .map(|r| {
            let href = format!("/pipelines/{}/runs/{}", r.pipeline, r.id);
            let outcome = match (&r.failed_step, &r.reason) {
                (Some(step), Some(reason)) => format!("{step}: {reason}"),
                (None, Some(reason)) => reason.clone(),
                _ => String::new(),
            };
            view! {
                <tr>
                    <td><A href=href>"#"{r.id}</A></td>
                    <td>{state_badge(&r.state)}</td>
                    <td>{r.started_at}</td>
                    <td>{r.by}" ("{r.via}")"</td>
                    <td class="num">{r.version.map(|v| v.to_string())}</td>
                    <td class="num">{r.seconds.map(|s| format!("{s:.1} s"))}</td>
                    <td class="reason">{outcome}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr>
                    <th scope="col">{tp.run}</th>
                    <th scope="col">{tp.state}</th>
                    <th scope="col">{tp.started}</th>
                    <th scope="col">{tp.by}</th>
                    <th scope="col" class="num">{tp.version}</th>
                    <th scope="col" class="num">{tp.time}</th>
                    <th scope="col">{tp.outcome}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} KB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or_default();
    let cancel = ServerAction::<CancelRun>::new();
    let run = Resource::new_blocking(move || (id(), cancel.version().get()), |(id, _)| get_run(id));
    view! {
        {loaded(run, move |view| view! { <RunView view cancel/> }.into_any())}
    }
}

#[component]
fn RunView(view: RunView, cancel: ServerAction<CancelRun>) -> impl IntoView {
    let t = use_texts();
    let tp = t.pipelines;
    let r = view.run;
    let running = r.state == "running";
    let pipeline_href = format!("/pipelines/{}", r.pipeline);
    let live = view.live.map(|steps| {
        let rows = steps
            .into_iter()
            .map(|s| {
                view! {
                    <tr>
                        <td>{s.name}</td>
                        <td>{s.kind}</td>
                        <td class="num">{s.rows}</td>
                        <td>{if s.done { tp.done } else { tp.running }}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table" aria-live="polite">
                <caption>{tp.progress}</caption>
                <thead><tr>
                    <th scope="col">{tp.step}</th>
                    <th scope="col">{tp.kind}</th>
                    <th scope="col" class="num">{tp.rows_so_far}</th>
                    <th scope="col">{tp.state}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let steps = (!view.steps.is_empty()).then(|| {
        let rows = view
            .steps
            .into_iter()
            .map(|s| {
                view! {
                    <tr>
                        <td>{s.name}</td>
                        <td>{s.kind}</td>
                        <td class="num">{s.rows_in}</td>
                        <td class="num">{s.rows}</td>
                        <td class="num">{bytes(s.bytes)}</td>
                        <td class="num">{format!("{:.2} s", s.millis as f64 / 1000.0)}</td>
                        <td><code>{s.wrote.unwrap_or_default()}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="table">
                    <caption>{tp.steps}</caption>
                    <thead><tr>
                        <th scope="col">{tp.step}</th>
                        <th scope="col">{tp.kind}</th>
                        <th scope="col" class="num">{tp.rows_in}</th>
                        <th scope="col" class="num">{tp.rows_out}</th>
                        <th scope="col" class="num">{tp.bytes}</th>
                        <th scope="col" class="num">{tp.time}</th>
                        <th scope="col">{tp.wrote}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    });
    let failure = r.reason.clone().map(|reason| {
        let text = match &r.failed_step {
            Some(step) => (tp.failed_at)(&step),
            None => tp.failed.to_owned(),
        };
        view! { <div class="alert alert-error" role="alert"><p><strong>{text}</strong></p><p class="reason">{reason}</p></div> }
    });
    let params =
        view.params.into_iter().map(|(k, v)| view! { <li><code>{k}</code>" = "<code>{v}</code></li> }).collect_view();
    view! {
        {running.then(|| view! { <Meta http_equiv="refresh" content="2"/> })}
        <header class="page-head">
            <p class="crumbs">
                <A href="/pipelines">{t.section(domain::Section::Pipelines).0}</A>" › "
                <A href=pipeline_href>{r.pipeline.clone()}</A>
            </p>
            <h1>{(tp.run_number)(&r.id)}" "{state_badge(&r.state)}</h1>
            <p>
                {r.started_at.clone()}" · "{r.by.clone()}" ("{r.via.clone()}")"
                {r.version.map(|v| view! { " · "{(tp.version_by)(&v)} })}
                {r.seconds.map(|s| format!(" · {s:.1} s"))}
            </p>
            <ul class="params">{params}</ul>
        </header>
        {failure}
        {running.then(|| view! { <p class="muted" role="status">{tp.running_note}</p> })}
        {view.quiet_since.map(|at| view! { <p class="alert alert-warning" role="status">{(tp.quiet_since)(&at)}</p> })}
        {view.cancel_asked.then(|| view! { <p class="alert alert-info" role="status">{tp.cancel_asked}</p> })}
        {live}
        {view.can_cancel.then(|| view! {
            <ActionForm action=cancel>
                <input type="hidden" name="id" value=r.id/>
                <FormAlert action=cancel success=tp.cancel_sent/>
                <button type="submit" class="btn btn-danger">{tp.cancel_button}</button>
            </ActionForm>
        })}
        {steps}
    }
}

#[component]
pub fn VersionsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let shown = move || query.read().get("v").and_then(|v| v.parse::<i32>().ok());
    let page = Resource::new_blocking(move || (name(), shown()), |(name, shown)| pipeline_versions(name, shown));
    view! {
        {loaded(page, move |view| view! { <VersionsView view/> }.into_any())}
    }
}

#[component]
fn VersionsView(view: VersionsView) -> impl IntoView {
    let t = use_texts();
    let tp = t.pipelines;
    let name = view.name.clone();
    let shown_version = view.shown.as_ref().map(|s| s.0);
    let rows = view
        .versions
        .into_iter()
        .map(|v| {
            let href = format!("/pipelines/{name}/versions?v={}", v.version);
            let current = Some(v.version) == shown_version;
            view! {
                <tr class:selected=current>
                    <td><A href=href attr:aria-current=current.then_some("true")>{(tp.version_by)(&v.version)}</A></td>
                    <td>{v.saved_by.clone()}</td>
                    <td>{v.saved_at.clone()}</td>
                    <td>{v.note.clone()}</td>
                    <td><code title=v.sha256.clone()>{v.sha256.chars().take(12).collect::<String>()}</code></td>
                </tr>
            }
        })
        .collect_view();
    let diff = view.shown.map(|(version, lines)| {
        let lines = lines
            .into_iter()
            .map(|l| {
                let class = match l.tag {
                    '+' => "diff-add",
                    '-' => "diff-del",
                    _ => "diff-same",
                };
                let number = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
                view! {
                    <tr class=class>
                        <td class="num">{number(l.old)}</td>
                        <td class="num">{number(l.new)}</td>
                        <td class="diff-tag">{l.tag.to_string()}</td>
                        <td><code>{l.text}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card" aria-labelledby="diff-title">
                <h2 id="diff-title">{(tp.diff_title)(&version)}</h2>
                <table class="diff">{lines}</table>
            </section>
        }
    });
    view! {
        <header class="page-head">
            <p class="crumbs">
                <A href="/pipelines">{t.section(domain::Section::Pipelines).0}</A>" › "
                <A href=format!("/pipelines/{name}")>{name.clone()}</A>
            </p>
            <h1>{tp.versions}</h1>
        </header>
        <div class="table-wrap">
            <table class="table">
                <thead><tr>
                    <th scope="col">{tp.version}</th>
                    <th scope="col">{tp.by}</th>
                    <th scope="col">{tp.saved}</th>
                    <th scope="col">{tp.note}</th>
                    <th scope="col">"SHA-256"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {diff}
    }
}
