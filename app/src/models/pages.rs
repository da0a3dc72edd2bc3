//! The model pages, rendered on the server; their forms are plain forms.

use super::*;
use crate::components::{FormAlert, loaded};
use crate::i18n::use_texts;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

fn metrics_text(metrics: &[(String, f64)]) -> String {
    metrics.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

fn stage_badge(stage: &str) -> impl IntoView + use<> {
    let t = use_texts().models;
    let (class, text) = match stage {
        "production" => ("badge badge-ok", t.production),
        "staging" => ("badge badge-running", t.staging),
        _ => ("badge", t.archived),
    };
    view! { <span class=class>{text}</span> }
}

/// Where an upload from this page went: its version, or why it was refused (`/models/upload`
/// sends the browser back with `uploaded=` or `refused=`).
#[component]
fn UploadOutcome() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    move || {
        let q = query.read();
        if let Some(v) = q.get("uploaded") {
            Some(view! { <p class="alert alert-ok" role="alert">{(t.models.uploaded)(&v)}</p> }.into_any())
        } else {
            q.get("refused").map(|why| {
                view! { <p class="alert alert-error" role="alert">{t.error_code("refused")}" "{why}</p> }.into_any()
            })
        }
    }
}

/// The upload form: a multipart post that works without JavaScript. `name` fixed on a model's
/// page, asked for on the list.
#[component]
fn UploadForm(name: Option<String>) -> impl IntoView {
    let t = use_texts().models;
    view! {
        <section class="card" aria-labelledby="upload-title">
            <h2 id="upload-title">{t.upload_title}</h2>
            <form method="post" action="/models/upload" enctype="multipart/form-data" class="form-grid">
                {match name {
                    Some(name) => view! { <input type="hidden" name="name" value=name/> }.into_any(),
                    None => view! {
                        <div class="field">
                            <label for="upload-name">{t.name}</label>
                            <input id="upload-name" name="name" type="text" required maxlength="64" pattern="[a-z][a-z0-9_\\-]*"
                                aria-describedby="upload-name-hint"/>
                            <p id="upload-name-hint" class="hint">{t.name_hint}</p>
                        </div>
                    }.into_any(),
                }}
                <div class="field">
                    <label for="upload-model">{t.onnx_file}</label>
                    <input id="upload-model" name="model" type="file" accept=".onnx" required/>
                </div>
                <div class="field">
                    <label for="upload-signature">{t.signature_file}</label>
                    <input id="upload-signature" name="signature" type="file" accept=".yaml,.yml,.json" required
                        aria-describedby="upload-signature-hint"/>
                    <p id="upload-signature-hint" class="hint">{t.signature_hint}</p>
                </div>
                <div class="field">
                    <label for="upload-note">{t.note}</label>
                    <input id="upload-note" name="note" type="text" maxlength="500"/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary">{t.upload_button}</button>
                </div>
            </form>
        </section>
    }
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let t = use_texts();
    let list = Resource::new_blocking(|| (), |_| list_models());
    view! {
        <header class="page-head">
            <h1>{t.section(domain::Section::Models).0}</h1>
            <p class="muted">{t.models.intro}</p>
        </header>
        <UploadOutcome/>
        {loaded(list, move |list| view! { <ModelTable list/> }.into_any())}
    }
}

#[component]
fn ModelTable(list: ModelList) -> impl IntoView {
    let t = use_texts();
    let tm = t.models;
    let none = || view! { <span class="muted">"—"</span> }.into_any();
    let empty = list.models.is_empty();
    let rows = list
        .models
        .into_iter()
        .map(|m| {
            let href = format!("/models/{}", m.name);
            let canary = match m.canary {
                Some(c) => view! { {(tm.canary_at)(&c, &m.canary_percent)} }.into_any(),
                None => none(),
            };
            view! {
                <tr>
                    <td><A href=href>{m.name.clone()}</A><br/><span class="muted">{m.description.clone()}</span></td>
                    <td>{m.task.clone()}</td>
                    <td>{m.production.map_or_else(none, |v| view! { {(tm.version)(&v)} }.into_any())}</td>
                    <td>{canary}</td>
                    <td>{(tm.version)(&m.latest)}</td>
                    <td>{metrics_text(&m.metrics)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {if empty { Some(view! { <p class="muted">{tm.none_yet}</p> }) } else { None }}
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">{t.section(domain::Section::Models).0}</caption>
                <thead><tr>
                    <th scope="col">{tm.name}</th>
                    <th scope="col">{tm.task}</th>
                    <th scope="col">{tm.production}</th>
                    <th scope="col">{tm.canary}</th>
                    <th scope="col">{tm.latest}</th>
                    <th scope="col">{tm.metrics}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {list.can_write.then(|| view! { <UploadForm name=None/> })}
    }
}

#[component]
pub fn ModelPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    // The "try it" form is a GET form: its values come back in the query, with `try`.
    let tried = move || {
        let q = query.read();
        q.get("try").map(|_| {
            q.clone()
                .into_iter()
                .filter_map(|(k, v)| k.strip_prefix("f.").map(|k| (k.to_owned(), v.clone())))
                .collect::<Vec<_>>()
        })
    };
    let version = move || query.read().get("version").and_then(|v| v.parse::<i32>().ok());
    let page = Resource::new_blocking(move || (name(), tried(), version()), |(n, t, v)| get_model(n, t, v));
    view! { {loaded(page, move |view| view! { <ModelView view/> }.into_any())} }
}

#[component]
fn ModelView(view: ModelView) -> impl IntoView {
    let t = use_texts();
    let tm = t.models;
    let name = view.line.name.clone();
    let roll_out = ServerAction::<ChangeRollOut>::new();
    let generation = view.generation;
    let can_write = view.can_write;
    let production = view.line.production;
    let canary = view.line.canary;
    let rows = view
        .versions
        .iter()
        .map(|v| {
            let name = name.clone();
            let actions = (can_write && v.stage != "archived").then(|| {
                let promote = (Some(v.version) != production).then(|| {
                    view! { <RollOutForm action=roll_out name=name.clone() generation kind="promote" version=v.version label=tm.promote/> }
                });
                let archive = (Some(v.version) != production).then(|| {
                    view! { <RollOutForm action=roll_out name=name.clone() generation kind="archive" version=v.version label=tm.archive/> }
                });
                let canary_form = (v.stage == "staging" && production.is_some() && canary != Some(v.version)).then(|| {
                    view! { <RollOutForm action=roll_out name=name.clone() generation kind="canary" version=v.version label=tm.start_canary/> }
                });
                view! { {promote}{canary_form}{archive} }
            });
            view! {
                <tr>
                    <td>{(tm.version)(&v.version)}</td>
                    <td>{stage_badge(&v.stage)}{(canary == Some(v.version)).then(|| view! { " "<span class="badge badge-running">{tm.canary}</span> })}</td>
                    <td>{metrics_text(&v.metrics)}</td>
                    <td>{v.uploaded_by.clone()}<br/><span class="muted">{v.uploaded_at.clone()}" · "{v.uploaded_via.clone()}</span></td>
                    <td>{v.note.clone()}</td>
                    <td><code title=v.sha256.clone()>{v.sha256.chars().take(12).collect::<String>()}</code><br/><span class="muted">{(tm.bytes)(&v.size)}</span></td>
                    <td>{actions}</td>
                </tr>
            }
        })
        .collect_view();
    let rollback = (can_write && view.rollback_to.is_some()).then(|| {
        let to = view.rollback_to.unwrap_or_default();
        view! { <RollOutForm action=roll_out name=name.clone() generation kind="rollback" version=to label=tm.rollback/> }
    });
    let end_canary = (can_write && canary.is_some()).then(|| {
        view! { <RollOutForm action=roll_out name=name.clone() generation kind="end_canary" version=canary.unwrap_or_default() label=tm.end_canary/> }
    });
    let training =
        view.versions.iter().find(|v| Some(v.version) == production).map(|v| v.training.clone()).unwrap_or_default();
    view! {
        <header class="page-head">
            <p class="crumbs"><A href="/models">{t.section(domain::Section::Models).0}</A></p>
            <h1>{name.clone()}</h1>
            <p class="muted">{view.line.description.clone()}" · "{view.line.task.clone()}</p>
            <p>
                {tm.production}": "{production.map_or("—".to_owned(), |v| (tm.version)(&v))}
                {canary.map(|c| view! { " · "{(tm.canary_at)(&c, &view.line.canary_percent)} })}
            </p>
            {(!training.is_empty()).then(|| view! {
                <p class="muted">{tm.training_data}": "{training.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")}</p>
            })}
        </header>
        <UploadOutcome/>
        <FormAlert action=roll_out success=tm.changed/>
        {rollback}{end_canary}
        <section aria-labelledby="versions-title">
            <h2 id="versions-title">{tm.versions}</h2>
            <div class="table-wrap">
                <table>
                    <thead><tr>
                        <th scope="col">{tm.version_col}</th>
                        <th scope="col">{tm.stage}</th>
                        <th scope="col">{tm.metrics}</th>
                        <th scope="col">{tm.uploaded_by}</th>
                        <th scope="col">{tm.note}</th>
                        <th scope="col">"SHA-256"</th>
                        <th scope="col"><span class="visually-hidden">{tm.actions}</span></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
        <TryForm name=name.clone() fields=view.fields.clone() tried=view.tried.clone()/>
        <Monitoring monitoring=view.monitoring.clone()/>
        {can_write.then(|| view! {
            <Sampling name=name.clone() percent=view.sample_percent samples=view.samples.clone()/>
            <UploadForm name=Some(name.clone())/>
        })}
    }
}

/// Per version: requests per day, latency percentiles, and today's scores against training.
#[component]
fn Monitoring(monitoring: Vec<Monitored>) -> impl IntoView {
    let tm = use_texts().models;
    let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("≤ {v:.2} ms"));
    view! {
        <section aria-labelledby="monitoring-title">
            <h2 id="monitoring-title">{tm.monitoring}</h2>
            {monitoring.is_empty().then(|| view! { <p class="muted">{tm.no_requests}</p> })}
            {monitoring.into_iter().map(|m| view! {
                <article class="card">
                    <h3>{(tm.version)(&m.version)}</h3>
                    <p>{(tm.latency)(&m.requests, &ms(m.p50_ms), &ms(m.p95_ms))}</p>
                    <crate::partners::UsageChart days=m.days/>
                    {(!m.drift.is_empty()).then(|| view! { <DriftChart bins=m.drift scored=m.scored_today/> })}
                </article>
            }).collect_view()}
        </section>
    }
}

/// Today's share of predictions per score bin (solid) beside the training share (outlined),
/// drawn on the server; each pair names its numbers on hover and to screen readers.
#[component]
fn DriftChart(bins: Vec<DriftBin>, scored: i64) -> impl IntoView {
    let tm = use_texts().models;
    let top = bins.iter().map(|b| b.today.max(b.training.unwrap_or(0.0))).fold(0.0_f64, f64::max).max(0.01);
    let (label_w, plot_w, row_h) = (110.0_f64, 300.0_f64, 26.0_f64);
    let height = bins.len() as f64 * row_h + 6.0;
    let scale = move |x: f64| x / top * plot_w;
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let caption = (tm.drift_caption)(&scored);
    view! {
        <figure class="chart chart-narrow">
            <svg viewBox=format!("0 0 {} {height}", label_w + plot_w + 120.0) role="img" aria-label=caption.clone()>
                {bins.into_iter().enumerate().map(|(i, b)| {
                    let y = i as f64 * row_h + 3.0;
                    let training = b.training.map_or("—".to_owned(), pct);
                    let title = format!("{}: {} {}, {} {}", b.name, tm.today, pct(b.today), tm.training, training);
                    view! {
                        <g>
                            <title>{title}</title>
                            <text x=label_w - 6.0 y=y + 15.0 text-anchor="end" class="label">{b.name.clone()}</text>
                            <rect class="bar-ok" x=label_w y=y width=scale(b.today) height=10.0></rect>
                            {b.training.map(|t| view! {
                                <rect class="bar-training" x=label_w y=y + 11.0 width=scale(t) height=10.0></rect>
                            })}
                            <text x=label_w + scale(b.today.max(b.training.unwrap_or(0.0))) + 4.0 y=y + 15.0 class="value">
                                {pct(b.today)}" / "{training}
                            </text>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption>
                {caption}" · "
                <span class="legend bar-ok">{tm.today}</span>" "
                <span class="legend bar-training">{tm.training}</span>
            </figcaption>
        </figure>
    }
}

/// The share of requests whose instances and answers are kept, and the latest kept.
#[component]
fn Sampling(name: String, percent: i32, samples: Vec<SampleLine>) -> impl IntoView {
    let tm = use_texts().models;
    let action = ServerAction::<SetSampling>::new();
    view! {
        <section class="card" aria-labelledby="sampling-title">
            <h2 id="sampling-title">{tm.sampling_title}</h2>
            <p>{(tm.sampling_now)(&percent)}</p>
            <p class="muted">{tm.sampling_hint}</p>
            <FormAlert action success=tm.sampling_changed/>
            <ActionForm action attr:class="form-grid">
                <input type="hidden" name="name" value=name/>
                <div class="field">
                    <label for="sampling-percent">{tm.sampling_percent}</label>
                    <input id="sampling-percent" name="percent" type="number" min="0" max="100" value=percent required/>
                </div>
                <div class="field">
                    <label for="sampling-reason">{tm.reason}</label>
                    <input id="sampling-reason" name="reason" type="text" maxlength="500"/>
                </div>
                <div class="field field-check">
                    <input id="sampling-confirm" name="confirm" type="checkbox" value="true" required/>
                    <label for="sampling-confirm">{tm.sampling_confirm}</label>
                </div>
                <div class="form-actions"><button type="submit" class="btn">{tm.sampling_button}</button></div>
            </ActionForm>
            {(!samples.is_empty()).then(|| view! {
                <div class="table-wrap">
                    <table>
                        <thead><tr>
                            <th scope="col">{tm.version_col}</th>
                            <th scope="col">{tm.when}</th>
                            <th scope="col">{tm.instance}</th>
                            <th scope="col">{tm.prediction}</th>
                        </tr></thead>
                        <tbody>
                            {samples.into_iter().map(|s| view! {
                                <tr>
                                    <td>{s.version}</td>
                                    <td>{s.at}</td>
                                    <td><code class="wrap">{s.instance}</code></td>
                                    <td><code class="wrap">{s.prediction}</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

/// One confirmed change (promote, archive, canary, rollback, end the canary): a plain form with
/// the generation the page showed, a reason, and a box to tick.
#[component]
fn RollOutForm(
    action: ServerAction<ChangeRollOut>,
    name: String,
    generation: i64,
    kind: &'static str,
    version: i32,
    label: &'static str,
) -> impl IntoView {
    let tm = use_texts().models;
    let id = format!("{kind}-{version}");
    view! {
        <details class="inline-action">
            <summary>{label}</summary>
            <ActionForm action attr:class="stack">
                <input type="hidden" name="name" value=name/>
                <input type="hidden" name="action" value=kind/>
                <input type="hidden" name="version" value=version/>
                <input type="hidden" name="generation" value=generation/>
                {(kind == "canary").then(|| view! {
                    <div class="field">
                        <label for=format!("{id}-percent")>{tm.percent}</label>
                        <input id=format!("{id}-percent") name="percent" type="number" min="1" max="100" value="10" required/>
                    </div>
                })}
                <div class="field">
                    <label for=format!("{id}-reason")>{tm.reason}</label>
                    <input id=format!("{id}-reason") name="reason" type="text" maxlength="500"/>
                </div>
                <div class="field field-check">
                    <input id=format!("{id}-confirm") name="confirm" type="checkbox" value="true" required/>
                    <label for=format!("{id}-confirm")>{(tm.confirm)(label, &version)}</label>
                </div>
                <button type="submit" class="btn btn-small">{label}</button>
            </ActionForm>
        </details>
    }
}

/// "Try it": one field per feature, sent as a GET form; the page shows the version's answer, or
/// every problem of the values.
#[component]
fn TryForm(name: String, fields: Vec<TryField>, tried: Option<Tried>) -> impl IntoView {
    let tm = use_texts().models;
    let inputs = fields
        .into_iter()
        .map(|f| {
            let id = format!("try-{}", f.name);
            let input = if f.kind == "category" {
                let value = f.value.clone();
                view! {
                    <select id=id.clone() name=format!("f.{}", f.name)>
                        {f.categories.iter().map(|c| view! { <option value=c.clone() selected=*c == value>{c.clone()}</option> }).collect_view()}
                    </select>
                }
                .into_any()
            } else {
                let hint = format!("{}{}", f.takes, if f.description.is_empty() { String::new() } else { format!(" · {}", f.description) });
                return view! {
                    <div class="field">
                        <label for=id.clone()>{f.name.clone()}</label>
                        <TryInput feature=f.feature.clone() value=f.value.clone() hint/>
                    </div>
                }
                .into_any();
            };
            view! {
                <div class="field">
                    <label for=id.clone()>{f.name.clone()}</label>
                    {input}
                    <p id=format!("{id}-hint") class="hint">{f.takes.clone()}{(!f.description.is_empty()).then(|| format!(" · {}", f.description))}</p>
                </div>
            }
            .into_any()
        })
        .collect_view();
    let answer = tried.map(|tried| match tried {
        Tried::Answer { version, label, numbers, value, scores } => view! {
            <div class="alert alert-ok" role="status">
                <p><strong>{label.unwrap_or_default()}</strong>{value.map(|v| format!(" {v}"))}" · "{(tm.version)(&version)}</p>
                <ul>
                    {numbers.into_iter().map(|(k, x)| view! { <li>{k}": "{format!("{x:.4}")}</li> }).collect_view()}
                </ul>
                {scores.then(|| view! { <p class="hint">{tm.scores_meaning}</p> })}
            </div>
        }
        .into_any(),
        Tried::Problems(problems) => view! {
            <div class="alert alert-error" role="alert">
                <ul class="problems">{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any(),
    });
    view! {
        <section class="card" aria-labelledby="try-title">
            <h2 id="try-title">{tm.try_title}</h2>
            <form method="get" action=format!("/models/{name}") class="form-grid">
                <input type="hidden" name="try" value="1"/>
                {inputs}
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary">{tm.try_button}</button>
                </div>
            </form>
            <div aria-live="polite">{answer}</div>
        </section>
    }
}

/// A "try it" value, checked as it is typed by the rule the API applies to it
/// (`domain::models::feed`); the form is still sent, and checked again, by the server.
#[cfg_attr(any(not(feature = "only-islands"), feature = "try-input"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "try-input")), component)]
fn TryInput(feature: domain::models::Feature, value: String, hint: String) -> impl IntoView {
    let id = format!("try-{}", feature.name);
    let text = RwSignal::new(value.clone());
    // What was typed before the page hydrated stays, and is checked once it has.
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move || {
        if let Some(el) = input.get() {
            text.set(el.value());
        }
    });
    let name = format!("f.{}", feature.name);
    let feature = StoredValue::new(feature);
    let problem =
        move || feature.with_value(|f| domain::models::feed(f, &domain::models::from_text(f, &text.get())).err());
    view! {
        <input id=id.clone() name=name type="text" inputmode="decimal" value=value node_ref=input
            aria-describedby=format!("{id}-hint {id}-problem") aria-invalid=move || problem().is_some().to_string()
            on:input=move |ev| text.set(event_target_value(&ev))/>
        <p id=format!("{id}-hint") class="hint">{hint}</p>
        <p id=format!("{id}-problem") class="cell-note" aria-live="polite">{problem}</p>
    }
}
