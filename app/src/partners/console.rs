//! The console's pages: the partner list (with the statistics loader) and one partner (details,
//! allowlist, keys, usage, history).

use super::*;
use crate::components::{FormAlert, LoadOutcome};
use crate::costs::periods::HistoryList;
use crate::i18n::{RowProblem, use_texts};
use crate::post::{FormPost, PostForm, hydrated};
use domain::keys::Scope;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

#[component]
pub fn PartnersPage() -> impl IntoView {
    let t = use_texts();
    let p = t.partners;
    let save = ServerAction::<SavePartner>::new();
    let load = ServerAction::<LoadStats>::new();
    let overview = Resource::new_blocking(move || save.version().get(), |_| partners_overview());
    view! {
        <header class="page-head">
            <h1>{t.section(domain::Section::Partners).0}</h1>
            <p class="muted">{p.intro} " " <a href="/api/docs/" rel="external">{p.api_docs}</a></p>
        </header>
        <FormAlert action=save success=t.saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let v = match overview.await {
                    Ok(v) => v,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                view! {
                    <section class="card" aria-labelledby="partner-list">
                        <h2 id="partner-list">{p.partners}</h2>
                        {if v.partners.is_empty() {
                            view! { <p class="muted">{p.none}</p> }.into_any()
                        } else {
                            view! {
                                <table class="table">
                                    <thead><tr>
                                        <th scope="col">{t.name}</th>
                                        <th scope="col">{p.contact}</th>
                                        <th scope="col">{t.game}</th>
                                        <th scope="col">{t.channel}</th>
                                        <th scope="col">{t.status}</th>
                                    </tr></thead>
                                    <tbody>
                                        {v.partners.into_iter().map(|x| view! {
                                            <tr>
                                                <th scope="row"><a href=format!("/partners/{}", x.id)>{x.name}</a></th>
                                                <td>{x.contact}</td>
                                                <td>{x.games.join(", ")}</td>
                                                <td>{x.channels.join(", ")}</td>
                                                <td><PartnerStatus active=x.active/></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    </section>
                    <section class="card" aria-labelledby="partner-add">
                        <h2 id="partner-add">{p.add}</h2>
                        <PartnerFields action=save partner=None games=v.games channels=v.channels/>
                    </section>
                }.into_any()
            })}
        </Suspense>
        <StatsLoader load/>
    }
}

#[component]
fn PartnerStatus(active: bool) -> impl IntoView {
    let p = use_texts().partners;
    view! {
        <span class=if active { "status status-ok" } else { "status status-off" }>
            {if active { p.active } else { p.suspended }}
        </span>
    }
}

/// Name, contact, games, channels and status; adding a partner or changing one.
#[component]
fn PartnerFields(
    action: ServerAction<SavePartner>,
    partner: Option<PartnerLine>,
    games: Vec<Choice>,
    channels: Vec<Choice>,
) -> impl IntoView {
    let t = use_texts();
    let p = t.partners;
    let id = partner.as_ref().map(|x| x.id);
    let suffix = id.map_or_else(|| "new".to_owned(), |id| id.to_string());
    let (name, contact) =
        partner.as_ref().map_or((String::new(), String::new()), |x| (x.name.clone(), x.contact.clone()));
    let chosen_games = partner.as_ref().map(|x| x.games.clone()).unwrap_or_default();
    let chosen_channels = partner.as_ref().map(|x| x.channels.clone()).unwrap_or_default();
    let active = partner.as_ref().is_none_or(|x| x.active);
    let boxes = move |field: &'static str, options: Vec<Choice>, chosen: Vec<String>| {
        let suffix = suffix.clone();
        options
            .into_iter()
            .filter(|c| c.active || chosen.contains(&c.code))
            .enumerate()
            .map(|(i, c)| {
                let box_id = format!("{field}-{suffix}-{}", c.code);
                view! {
                    <span class="field-check inline">
                        <input id=box_id.clone() type="checkbox" name=format!("{field}[{i}]") value=c.code.clone()
                            checked=chosen.contains(&c.code)/>
                        <label for=box_id>{c.name}</label>
                    </span>
                }
            })
            .collect_view()
    };
    let field_id = move |f: &str| format!("partner-{f}-{}", id.map_or_else(|| "new".to_owned(), |i| i.to_string()));
    view! {
        <ActionForm action attr:class="stack">
            {id.map(|id| view! { <input type="hidden" name="id" value=id/> })}
            <div class="form-grid">
                <div class="field">
                    <label for=field_id("name")>{t.name}</label>
                    <input id=field_id("name") name="name" type="text" required maxlength="100" value=name/>
                </div>
                <div class="field">
                    <label for=field_id("contact")>{p.contact}</label>
                    <input id=field_id("contact") name="contact" type="text" maxlength="200" value=contact/>
                </div>
            </div>
            <fieldset><legend>{p.games_seen}</legend>{boxes("games", games, chosen_games)}</fieldset>
            <fieldset><legend>{p.channels_own}</legend>{boxes("channels", channels, chosen_channels)}</fieldset>
            <div class="field field-check">
                <input id=field_id("active") name="active" type="checkbox" value="true" checked=active/>
                <label for=field_id("active")>{p.active}</label>
            </div>
            {id.map(|_| view! {
                <div class="field field-check">
                    <input id=field_id("confirm") name="confirm" type="checkbox" value="true"/>
                    <label for=field_id("confirm")>{p.confirm_suspend}</label>
                </div>
            })}
            <div class="form-actions"><button type="submit" class="btn btn-primary">{t.save}</button></div>
        </ActionForm>
    }
}

#[component]
fn StatsLoader(load: ServerAction<LoadStats>) -> impl IntoView {
    let p = use_texts().partners;
    view! {
        <section class="card" aria-labelledby="stats-load">
            <h2 id="stats-load">{p.stats_title}</h2>
            <p class="hint">{p.stats_hint} " " <code>{domain::stats::STATS_COLUMNS.join(",")}</code></p>
            <LoadOutcome action=load stored=p.stats_loaded/>
            <ActionForm action=load attr:class="stack">
                <div class="field">
                    <label for="stats-csv">{p.stats_file}</label>
                    <textarea id="stats-csv" name="csv" rows="6" class="mono" required></textarea>
                </div>
                <div class="form-actions"><button type="submit" class="btn">{p.stats_load}</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn PartnerPage() -> impl IntoView {
    let t = use_texts();
    let p = t.partners;
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
    let save = ServerAction::<SavePartner>::new();
    let allow = ServerAction::<SetPartnerAllowlist>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let update = ServerAction::<UpdateKey>::new();
    let detail = Resource::new_blocking(id, partner_detail);
    view! {
        <FormAlert action=save success=t.saved/>
        <FormAlert action=allow success=t.saved/>
        <FormAlert action=revoke success=p.revoked/>
        <FormAlert action=update success=t.saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(e) => {
                        if e == AppError::NotFound {
                            crate::shell::set_status(404);
                        }
                        return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any();
                    }
                };
                let partner_id = d.partner.id;
                view! {
                    <header class="page-head">
                        <p><a href="/partners">{t.section(domain::Section::Partners).0}</a></p>
                        <h1>{d.partner.name.clone()} " " <PartnerStatus active=d.partner.active/></h1>
                        <p class="muted">{d.partner.contact.clone()}</p>
                    </header>
                    <section class="card" aria-labelledby="partner-keys">
                        <h2 id="partner-keys">{p.keys}</h2>
                        <KeyConsole partner=partner_id keys=d.keys.clone() models=d.models.clone()/>
                    </section>
                    <section class="card" aria-labelledby="partner-usage">
                        <h2 id="partner-usage">{p.usage}</h2>
                        <UsageChart days=d.days.clone()/>
                        <StatusChart statuses=d.statuses.clone()/>
                        <LatencyChart keys=d.keys.clone()/>
                    </section>
                    <section class="card" aria-labelledby="partner-allowlist">
                        <h2 id="partner-allowlist">{p.allowlist}</h2>
                        <p class="hint">{p.allowlist_hint}</p>
                        <AllowlistEditor action=allow partner=partner_id current=d.partner.allowlist.join("\n")/>
                    </section>
                    <section class="card" aria-labelledby="partner-details">
                        <h2 id="partner-details">{p.details}</h2>
                        <PartnerFields action=save partner=Some(d.partner.clone()) games=d.games channels=d.channels/>
                    </section>
                    <section class="card" aria-labelledby="partner-history">
                        <h2 id="partner-history">{t.history}</h2>
                        <HistoryList lines=d.history/>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The partner's keys, an island: a key issued or rotated is shown this once, in this browser, and
/// the table is read again; revoking or changing a key posts as a plain form (the page comes back
/// with the outcome and the history).
#[cfg_attr(any(not(feature = "only-islands"), feature = "key-console"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "key-console")), component)]
fn KeyConsole(partner: i64, keys: Vec<KeyLine>, models: Vec<String>) -> impl IntoView {
    let issue = FormPost::new::<IssueKey>();
    let rotate = FormPost::new::<RotateKey>();
    let keys = RwSignal::new(keys);
    Effect::watch(
        move || (issue.version().get(), rotate.version().get()),
        move |_, _, _| {
            leptos::task::spawn_local(async move {
                if let Ok(lines) = partner_keys(partner).await {
                    keys.set(lines);
                }
            })
        },
        false,
    );
    view! {
        <NewKey issue rotate/>
        <FormAlert action=issue/>
        <FormAlert action=rotate/>
        {
            let models = models.clone();
            move || view! { <KeyTable keys=keys.get() rotate models=models.clone()/> }
        }
        <IssueForm partner issue models/>
    }
}

/// A key just issued or rotated: shown this once, with a copy button.
#[component]
fn NewKey(issue: FormPost<IssuedKey>, rotate: FormPost<IssuedKey>) -> impl IntoView {
    let p = use_texts().partners;
    let shown = move || {
        let from_issue = issue.value().get().and_then(Result::ok);
        from_issue.or_else(|| rotate.value().get().and_then(Result::ok))
    };
    let copied = RwSignal::new(false);
    view! {
        {move || shown().map(|k| {
            let key = k.key.clone();
            view! {
                <section class="card new-key" role="alert" aria-labelledby="new-key">
                    <h2 id="new-key">{p.new_key} " " <code>{k.prefix.clone()}</code></h2>
                    <p class="alert alert-warning">{p.shown_once}</p>
                    <div class="field">
                        <label for="new-key-value">{p.key}</label>
                        <input id="new-key-value" class="mono" type="text" readonly value=k.key.clone()
                            on:focus=|ev| { event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); }/>
                    </div>
                    <button type="button" class="btn" on:click=move |_| {
                        #[cfg(feature = "hydrate")]
                        {
                            let _ = window().navigator().clipboard().write_text(&key);
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = &key;
                        copied.set(true);
                    }>{p.copy}</button>
                    {move || copied.get().then(|| view! { <span role="status">" " {p.copied}</span> })}
                </section>
            }
        })}
    }
}

#[component]
fn KeyTable(keys: Vec<KeyLine>, rotate: FormPost<IssuedKey>, models: Vec<String>) -> impl IntoView {
    let t = use_texts();
    let p = t.partners;
    if keys.is_empty() {
        return view! { <p class="muted">{p.no_keys}</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr>
                    <th scope="col">{p.key}</th>
                    <th scope="col">{p.scopes}</th>
                    <th scope="col">{t.status}</th>
                    <th scope="col">{p.expires}</th>
                    <th scope="col">{p.last_used}</th>
                    <th scope="col" class="num">{p.requests}</th>
                    <th scope="col" class="num">{p.p95}</th>
                    <th scope="col">{t.actions}</th>
                </tr></thead>
                <tbody>
                    {keys.into_iter().map(|k| {
                        let live = matches!(k.status, KeyStatus::Live | KeyStatus::Grace);
                        view! {
                            <tr class:inactive=!live>
                                <th scope="row"><code>{k.prefix.clone()}</code><br/><small>{k.label.clone()}</small></th>
                                <td>{k.scopes.join(" ")}</td>
                                <td>{p.key_status(k.status)}</td>
                                <td>{k.expires_at.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{k.last_used.clone().unwrap_or_else(|| p.never.into())}</td>
                                <td class="num">{k.requests}</td>
                                <td class="num">{k.p95_ms.clone().map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
                                <td>{live.then(|| view! { <KeyActions k=k.clone() rotate models=models.clone()/> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn KeyActions(k: KeyLine, rotate: FormPost<IssuedKey>, models: Vec<String>) -> impl IntoView {
    let t = use_texts();
    let p = t.partners;
    let ready = hydrated();
    let id = k.id;
    let f = move |what: &str| format!("key-{id}-{what}");
    let (rotate_label, revoke_label, save_label) =
        ((p.rotate_key)(&k.prefix), (p.revoke_key)(&k.prefix), (p.save_key)(&k.prefix));
    view! {
        <details>
            <summary>{p.rotate}</summary>
            <PostForm post=rotate attr:class="stack">
                <input type="hidden" name="key" value=id/>
                <div class="field">
                    <label for=f("grace")>{p.grace_hours}</label>
                    <input id=f("grace") name="grace_hours" type="number" min="0" max="720" value="24" required/>
                </div>
                <div class="field field-check">
                    <input id=f("rotate-confirm") name="confirm" type="checkbox" value="true" required/>
                    <label for=f("rotate-confirm")>{p.confirm_rotate}</label>
                </div>
                {move || (!ready.get()).then(|| view! { <p class="hint">{p.needs_script}</p> })}
                <button type="submit" class="btn btn-small" disabled=move || !ready.get()>{rotate_label}</button>
            </PostForm>
        </details>
        <details>
            <summary>{p.revoke}</summary>
            <form method="post" action=RevokeKey::url() class="stack">
                <input type="hidden" name="key" value=id/>
                <div class="field field-check">
                    <input id=f("revoke-confirm") name="confirm" type="checkbox" value="true" required/>
                    <label for=f("revoke-confirm")>{p.confirm_revoke}</label>
                </div>
                <button type="submit" class="btn btn-small btn-danger">{revoke_label}</button>
            </form>
        </details>
        <details>
            <summary>{p.change}</summary>
            <form method="post" action=UpdateKey::url() class="stack">
                <input type="hidden" name="key" value=id/>
                <KeySettingsFields prefix=f("edit") label=k.label.clone() scopes=k.scopes.clone() expires_on=k.expires_on.clone()
                    rate=k.rate_per_minute quota=k.daily_quota models/>
                <AllowlistField id=f("allowlist") current=k.allowlist.join("\n")/>
                <div class="field field-check">
                    <input id=f("update-confirm") name="confirm" type="checkbox" value="true" required/>
                    <label for=f("update-confirm")>{p.confirm_change}</label>
                </div>
                <button type="submit" class="btn btn-small">{save_label}</button>
            </form>
        </details>
    }
}

#[component]
fn KeySettingsFields(
    prefix: String,
    label: String,
    scopes: Vec<String>,
    expires_on: String,
    rate: i32,
    quota: Option<i64>,
    /// The registered models, each a `models:predict:NAME` scope of its own.
    models: Vec<String>,
) -> impl IntoView {
    let p = use_texts().partners;
    let f = move |what: &str| format!("{prefix}-{what}");
    view! {
        <div class="form-grid">
            <div class="field">
                <label for=f("label")>{p.label}</label>
                <input id=f("label") name="label" type="text" required maxlength="100" value=label/>
            </div>
            <div class="field">
                <label for=f("expires")>{p.expires_on}</label>
                <input id=f("expires") name="expires_on" type="date" value=expires_on/>
            </div>
            <div class="field">
                <label for=f("rate")>{p.rate}</label>
                <input id=f("rate") name="rate_per_minute" type="number" min="1" max="1000000" required value=rate/>
            </div>
            <div class="field">
                <label for=f("quota")>{p.quota}</label>
                <input id=f("quota") name="daily_quota" type="number" min="1" value=quota.map(|q| q.to_string()).unwrap_or_default()/>
            </div>
        </div>
        <fieldset>
            <legend>{p.scopes}</legend>
            {Scope::ALL.into_iter().enumerate().map(|(i, s)| {
                let box_id = f(&format!("scope-{i}"));
                view! {
                    <span class="field-check inline">
                        <input id=box_id.clone() type="checkbox" name=format!("scopes[{i}]") value=s.as_str()
                            checked=scopes.iter().any(|x| x == s.as_str())/>
                        <label for=box_id>{s.as_str()} " — " {p.scope_text(s)}</label>
                    </span>
                }
            }).collect_view()}
        </fieldset>
        <fieldset>
            <legend>{p.predict_scopes}</legend>
            {std::iter::once(("*".to_owned(), p.every_model)).chain(models.into_iter().map(|m| (m, ""))).enumerate().map(|(i, (m, note))| {
                let box_id = f(&format!("predict-{i}"));
                let scope = format!("{}{m}", domain::keys::PREDICT_SCOPE);
                let checked = scopes.contains(&scope);
                view! {
                    <span class="field-check inline">
                        <input id=box_id.clone() type="checkbox" name=format!("scopes[{}]", Scope::ALL.len() + i) value=scope.clone() checked=checked/>
                        <label for=box_id>{scope} {(!note.is_empty()).then(|| format!(" — {note}"))}</label>
                    </span>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn IssueForm(partner: i64, issue: FormPost<IssuedKey>, models: Vec<String>) -> impl IntoView {
    let p = use_texts().partners;
    let ready = hydrated();
    // A new key reads the partner's data; uploading and predicting are ticked on purpose.
    let all: Vec<String> = [Scope::Games, Scope::Stats].iter().map(|s| s.as_str().to_owned()).collect();
    view! {
        <details>
            <summary class="btn">{p.issue}</summary>
            <PostForm post=issue attr:class="stack">
                <input type="hidden" name="partner" value=partner/>
                <KeySettingsFields prefix="issue".to_owned() label=String::new() scopes=all expires_on=String::new() rate=600 quota=None models/>
                {move || (!ready.get()).then(|| view! { <p class="hint">{p.needs_script}</p> })}
                <div class="form-actions"><button type="submit" class="btn btn-primary" disabled=move || !ready.get()>{p.issue}</button></div>
            </PostForm>
        </details>
    }
}

/// [`AllowlistField`] as an island of its own, for the partner's allowlist form.
#[cfg_attr(any(not(feature = "only-islands"), feature = "allowlist-input"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "allowlist-input")), component)]
fn AllowlistInput(id: String, current: String) -> impl IntoView {
    view! { <AllowlistField id current/> }
}

/// One address or CIDR range per line, checked as typed by the parser the server uses.
#[component]
fn AllowlistField(id: String, current: String) -> impl IntoView {
    let t = use_texts();
    let p = t.partners;
    let text = RwSignal::new(current.clone());
    let problems = move || match domain::net::parse_list(&text.get()) {
        Ok(_) => Vec::new(),
        Err(found) => found,
    };
    let hint_id = format!("{id}-problems");
    // What was typed before the page hydrated stays, and is checked once it has.
    let area = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move || {
        if let Some(el) = area.get() {
            text.set(el.value());
        }
    });
    view! {
        <div class="field">
            <label for=id.clone()>{p.allowlist}</label>
            <textarea id=id name="allowlist" rows="3" class="mono" aria-describedby=hint_id.clone() node_ref=area
                on:input=move |ev| text.set(event_target_value(&ev))>{current}</textarea>
            <div id=hint_id aria-live="polite">
                {move || problems().into_iter().map(|(line, e)| view! {
                    <small class="cell-note">{(t.row_problem)(&RowProblem { row: &line, problem: &t.problem(e.code(), &e.to_string()) })}</small>
                }).collect_view()}
            </div>
        </div>
    }
}

#[component]
fn AllowlistEditor(action: ServerAction<SetPartnerAllowlist>, partner: i64, current: String) -> impl IntoView {
    let t = use_texts();
    view! {
        <ActionForm action attr:class="stack">
            <input type="hidden" name="partner" value=partner/>
            <AllowlistInput id="partner-allowlist-entries".to_owned() current/>
            <div class="form-actions"><button type="submit" class="btn">{t.save}</button></div>
        </ActionForm>
    }
}

/// Requests per day as stacked bars (answered, refused, failed), drawn on the server; each bar
/// names its numbers on hover and to screen readers.
#[component]
pub fn UsageChart(days: Vec<DayUsage>) -> impl IntoView {
    let p = use_texts().partners;
    let top = days.iter().map(|d| d.ok + d.refused + d.failed).max().unwrap_or(0).max(1);
    let (bar, gap, height) = (14.0_f64, 4.0_f64, 120.0_f64);
    let width = days.len() as f64 * (bar + gap);
    let total: i64 = days.iter().map(|d| d.ok + d.refused + d.failed).sum();
    let scale = move |n: i64| n as f64 / top as f64 * height;
    // The bars stretch to the page's width; the day numbers are text under them (in the SVG they
    // would stretch too).
    let ticks: Vec<String> = days.iter().map(|d| d.day.get(8..).unwrap_or_default().to_owned()).collect();
    let columns = format!("grid-template-columns: repeat({}, 1fr)", ticks.len().max(1));
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {width} {height}") role="img" aria-label=format!("{} ({total})", p.usage_chart)
                preserveAspectRatio="none" class="bars">
                {days.into_iter().enumerate().map(|(i, d)| {
                    let x = i as f64 * (bar + gap) + gap / 2.0;
                    let (ok, refused, failed) = (scale(d.ok), scale(d.refused), scale(d.failed));
                    let label = format!("{}: {} {}, {} {}, {} {}", d.day, d.ok, p.answered, d.refused, p.refused, d.failed, p.failed);
                    view! {
                        <g>
                            <title>{label}</title>
                            <rect class="bar-ok" x=x y=height - ok width=bar height=ok></rect>
                            <rect class="bar-refused" x=x y=height - ok - refused width=bar height=refused></rect>
                            <rect class="bar-failed" x=x y=height - ok - refused - failed width=bar height=failed></rect>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <div class="ticks" style=columns aria-hidden="true">
                {ticks.into_iter().map(|t| view! { <span>{t}</span> }).collect_view()}
            </div>
            <figcaption>
                {p.usage_chart} " · "
                <span class="legend bar-ok">{p.answered}</span> " "
                <span class="legend bar-refused">{p.refused}</span> " "
                <span class="legend bar-failed">{p.failed}</span>
            </figcaption>
        </figure>
    }
}

/// Requests per answer status over the days shown: answered, refused (4xx, 429 included) and
/// failed (5xx) in their own colours.
#[component]
fn StatusChart(statuses: Vec<(u16, i64)>) -> impl IntoView {
    use crate::poc::charts::{Bar, BarChart};
    let p = use_texts().partners;
    (!statuses.is_empty()).then(|| {
        let bars = statuses
            .into_iter()
            .map(|(status, n)| Bar {
                label: status.to_string(),
                value: Some(n as f64),
                class: match status {
                    500.. => "failed",
                    400.. => "sys-3",
                    _ => "sys-1",
                }
                .to_owned(),
                title: format!("{status}: {n}"),
                note: "",
            })
            .collect();
        view! { <BarChart bars caption=p.by_status.to_owned() unit=""/> }
    })
}

/// Each key's 95th-percentile answer time over the days shown.
#[component]
fn LatencyChart(keys: Vec<KeyLine>) -> impl IntoView {
    use crate::poc::charts::{Bar, BarChart};
    let p = use_texts().partners;
    let bars: Vec<Bar> = keys
        .into_iter()
        .filter(|k| k.requests > 0)
        .map(|k| {
            let ms = k.p95_ms.as_deref().and_then(|m| m.parse::<f64>().ok());
            Bar {
                title: format!(
                    "{} ({}): p95 {} ms, {} requests",
                    k.prefix,
                    k.label,
                    k.p95_ms.clone().unwrap_or_default(),
                    k.requests
                ),
                label: k.prefix,
                value: ms,
                class: "sys-0".to_owned(),
                note: "—",
            }
        })
        .collect();
    (!bars.is_empty()).then(|| view! { <BarChart bars caption=p.p95_chart.to_owned() unit="ms"/> })
}
