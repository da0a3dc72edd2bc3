//! The PoC report page: verdicts, the relative comparison, charts, filters and the run recorder.

use super::charts::{Bar, BarChart, Dot, Scatter, number};
use super::*;
use crate::i18n::{RunsShown, use_texts};
use leptos_router::hooks::use_query_map;

fn system_class(i: usize) -> String {
    format!("sys-{}", i % 4)
}

#[component]
pub fn PocPage() -> impl IntoView {
    let t = use_texts();
    let p = t.poc;
    let query = use_query_map();
    let record = ServerAction::<RecordRuns>::new();
    let decide = ServerAction::<DecidePoc>::new();
    let edit = ServerAction::<EditRun>::new();
    let withdraw = ServerAction::<WithdrawRun>::new();
    let revoke = ServerAction::<RevokePocToken>::new();
    let filter = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        ReportFilter { format: get("format"), compression: get("compression"), size: get("size") }
    };
    let report = Resource::new_blocking(
        move || {
            let versions = (
                record.version().get(),
                decide.version().get(),
                edit.version().get(),
                withdraw.version().get(),
                revoke.version().get(),
            );
            (filter(), versions)
        },
        |(f, _)| poc_report(f.format, f.compression, f.size),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let r = match report.await {
                    Ok(r) => r,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let export = format!(
                    "/poc/export.csv?format={}&compression={}&size={}",
                    r.filter.format, r.filter.compression, r.filter.size
                );
                view! {
                    <header class="page-head">
                        <h1>{r.title.clone()}</h1>
                        <p><span class="status status-ok">{p.status(&r.status)}</span> " " {r.goal.clone()}</p>
                        {(!r.decision.is_empty()).then(|| view! { <p class="decision"><strong>{p.decision} ": "</strong>{r.decision.clone()}</p> })}
                    </header>
                    <FilterForm r=r.clone() export/>
                    <p class="muted" role="status">{(p.runs_shown)(&RunsShown { runs: &r.runs, failed: &r.failed_runs })}</p>
                    <Summary r=r.clone()/>
                    <Verdicts r=r.clone()/>
                    <ComparisonTable r=r.clone()/>
                    <Failures r=r.clone()/>
                    <ScenarioCharts r=r.clone()/>
                    <Scatters r=r.clone()/>
                    <Systems r=r.clone()/>
                    <RecentRuns r=r.clone() edit withdraw/>
                    {r.can_record.then(|| view! {
                        <Decision r=r.clone() decide/>
                        <Recorder record/>
                        <Tokens tokens=r.tokens.clone() revoke/>
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

/// GET filters: a plain form; the report is drawn on the server for the filters in the URL.
#[component]
fn FilterForm(r: PocReportView, export: String) -> impl IntoView {
    let p = use_texts().poc;
    let options = |values: Vec<String>, current: String| {
        std::iter::once((String::new(), p.any.to_owned()))
            .chain(values.into_iter().map(|v| (v.clone(), v)))
            .map(|(value, label)| {
                let selected = value == current;
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let sizes: Vec<String> = r.sizes.iter().map(ToString::to_string).collect();
    view! {
        <section class="card no-print" aria-labelledby="poc-filters">
            <h2 id="poc-filters">{p.filters}</h2>
            <form action="/poc" method="get" class="form-grid">
                <div class="field">
                    <label for="poc-format">{p.format}</label>
                    <select id="poc-format" name="format">{options(r.formats.clone(), r.filter.format.clone())}</select>
                </div>
                <div class="field">
                    <label for="poc-compression">{p.compression}</label>
                    <select id="poc-compression" name="compression">{options(r.compressions.clone(), r.filter.compression.clone())}</select>
                </div>
                <div class="field">
                    <label for="poc-size">{p.file_size}</label>
                    <select id="poc-size" name="size">{options(sizes, r.filter.size.clone())}</select>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn">{p.apply}</button>
                    <a class="btn btn-quiet" href="/poc">{p.clear}</a>
                    <a class="btn btn-quiet" href=export rel="external" download="">{p.export_csv}</a>
                </div>
            </form>
        </section>
    }
}

#[component]
fn Summary(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    let bars = r
        .systems
        .iter()
        .zip(&r.summary)
        .enumerate()
        .map(|(i, (s, g))| Bar {
            label: s.name.clone(),
            value: *g,
            class: system_class(i),
            title: format!("{}: ×{}", s.name, g.map_or_else(|| "—".to_owned(), number)),
            note: p.no_run,
        })
        .collect();
    view! {
        <section class="card" aria-labelledby="poc-summary">
            <h2 id="poc-summary">{p.summary}</h2>
            <p class="hint">{p.summary_hint}</p>
            <BarChart bars caption=p.summary_caption.to_owned() unit="×"/>
        </section>
    }
}

#[component]
fn Verdicts(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    view! {
        <section class="card" aria-labelledby="poc-verdicts">
            <h2 id="poc-verdicts">{p.verdicts}</h2>
            <table class="table">
                <thead><tr>
                    <th scope="col">{p.scenario}</th>
                    <th scope="col">{p.best}</th>
                    {r.systems.iter().map(|s| view! { <th scope="col" class="num">{s.name.clone()}</th> }).collect_view()}
                    <th scope="col">{p.method}</th>
                </tr></thead>
                <tbody>
                    {r.verdicts.iter().map(|v| view! {
                        <tr>
                            <th scope="row">{v.scenario.clone()} <br/><small class="muted">{p.kind(&v.kind)}</small></th>
                            <td><strong>{v.best.clone().unwrap_or_else(|| p.no_run.to_owned())}</strong></td>
                            {v.geomeans.iter().map(|g| view! { <td class="num">{g.map_or_else(|| "—".to_owned(), |g| format!("×{}", number(g)))}</td> }).collect_view()}
                            <td><small>{v.method.clone()}</small></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn ComparisonTable(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    view! {
        <section class="card" aria-labelledby="poc-comparison">
            <h2 id="poc-comparison">{p.comparison}</h2>
            <p class="hint">{p.comparison_hint}</p>
            <div class="table-wrap">
                <table class="table table-compact">
                    <thead><tr>
                        <th scope="col">{p.scenario}</th>
                        <th scope="col">{p.format}</th>
                        <th scope="col" class="num">{p.files}</th>
                        {r.systems.iter().map(|s| view! { <th scope="col" class="num">{s.name.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {r.groups.iter().map(|g| view! {
                            <tr>
                                <th scope="row">{g.scenario.clone()}</th>
                                <td>{g.format.clone()} " / " {g.compression.clone()}</td>
                                <td class="num">{g.file_count} " × " {g.file_size_mb} " MB"</td>
                                {g.cells.iter().map(|c| match (c.seconds, c.ratio, &c.failed) {
                                    (Some(s), Some(ratio), _) => view! {
                                        <td class="num" class:best=ratio <= 1.0>{number(s)} " s " <small>"×" {number(ratio)}</small></td>
                                    }.into_any(),
                                    (_, _, Some(error)) => view! {
                                        <td class="num failed" title=error.clone()>{p.failed} " " <small>"×" {number(domain::poc::PENALTY_RATIO)}</small></td>
                                    }.into_any(),
                                    _ => view! { <td class="num missing">{p.no_run} " " <small>"×" {number(domain::poc::PENALTY_RATIO)}</small></td> }.into_any(),
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Every failed run, including those a retry made good: nothing is hidden.
#[component]
fn Failures(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    (!r.failures.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="poc-failures">
                <h2 id="poc-failures">{p.failures} " (" {r.failed_runs} ")"</h2>
                <table class="table table-compact">
                    <thead><tr>
                        <th scope="col">{p.system}</th><th scope="col">{p.scenario}</th><th scope="col">{p.format}</th>
                        <th scope="col" class="num">{p.failed_count}</th><th scope="col">{p.run_date}</th><th scope="col">{p.error}</th>
                    </tr></thead>
                    <tbody>
                        {r.failures.into_iter().map(|f| view! {
                            <tr>
                                <th scope="row">{f.system}</th><td>{f.scenario}</td><td>{f.params}</td>
                                <td class="num">{f.count} {f.retried.then(|| view! { <small class="muted">" · " {p.retried}</small> })}</td>
                                <td>{f.run_date}</td><td class="failed">{f.error}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    })
}

#[component]
fn ScenarioCharts(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    let scenarios: Vec<String> = r.verdicts.iter().map(|v| v.scenario.clone()).collect();
    view! {
        <section class="card" aria-labelledby="poc-scenarios">
            <h2 id="poc-scenarios">{p.per_scenario}</h2>
            {scenarios.into_iter().map(|scenario| {
                let bars: Vec<Bar> = r.groups.iter().filter(|g| g.scenario == scenario).flat_map(|g| {
                    let params = format!("{}/{} {} × {} MB", g.format, g.compression, g.file_count, g.file_size_mb);
                    r.systems.iter().enumerate().zip(&g.cells).map(move |((i, s), c)| Bar {
                        label: format!("{params} · {}", s.name),
                        value: c.seconds,
                        class: if c.failed.is_some() { "failed".to_owned() } else { system_class(i) },
                        title: match (&c.seconds, &c.failed) {
                            (Some(sec), _) => format!("{} {params}: {} s", s.name, number(*sec)),
                            (_, Some(e)) => format!("{} {params}: {e}", s.name),
                            _ => format!("{} {params}: {}", s.name, p.no_run),
                        },
                        note: if c.failed.is_some() { p.failed } else { p.no_run },
                    }).collect::<Vec<_>>()
                }).collect();
                (!bars.is_empty()).then(|| view! { <BarChart bars caption=format!("{scenario}: {}", p.seconds) unit="s"/> })
            }).collect_view()}
        </section>
    }
}

#[component]
fn Scatters(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    let batch: Vec<String> = r.verdicts.iter().filter(|v| v.kind == "batch_load").map(|v| v.scenario.clone()).collect();
    let index = |name: &str| r.systems.iter().position(|s| s.name == name).unwrap_or(0);
    let size_dots: Vec<Dot> = r
        .points
        .iter()
        .filter(|pt| batch.contains(&pt.scenario) && pt.file_size_mb > 0)
        .map(|pt| Dot {
            x: pt.file_size_mb as f64,
            y: pt.mb_per_s,
            class: system_class(index(&pt.system)),
            title: format!("{}: {} MB files, best {} MB/s", pt.system, pt.file_size_mb, number(pt.mb_per_s)),
        })
        .collect();
    let cost_dots: Vec<Dot> = r
        .points
        .iter()
        .filter_map(|pt| {
            Some(Dot {
                x: pt.seconds,
                y: pt.cost_usd?,
                class: system_class(index(&pt.system)),
                title: format!(
                    "{} {}: mean {} s, mean USD {}",
                    pt.system,
                    pt.scenario,
                    number(pt.seconds),
                    number(pt.cost_usd?)
                ),
            })
        })
        .collect();
    let legend = r
        .systems
        .iter()
        .enumerate()
        .map(|(i, s)| view! { <span class=format!("legend {}", system_class(i))>{s.name.clone()}</span> " " })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="poc-scatter">
            <h2 id="poc-scatter">{p.trade_offs}</h2>
            <p>{legend}</p>
            {(!size_dots.is_empty()).then(|| view! {
                <Scatter dots=size_dots caption=p.size_vs_throughput.to_owned() x_label=p.file_size_axis y_label=p.throughput_axis/>
            })}
            {(!cost_dots.is_empty()).then(|| view! {
                <Scatter dots=cost_dots caption=p.cost_vs_time.to_owned() x_label=p.seconds_axis y_label=p.cost_axis/>
            })}
        </section>
    }
}

#[component]
fn Systems(r: PocReportView) -> impl IntoView {
    let p = use_texts().poc;
    view! {
        <section class="card" aria-labelledby="poc-systems">
            <h2 id="poc-systems">{p.systems}</h2>
            <table class="table table-compact">
                <thead><tr><th scope="col">{p.system}</th><th scope="col">{p.edition}</th><th scope="col">{p.region}</th><th scope="col">{p.configuration}</th></tr></thead>
                <tbody>
                    {r.systems.into_iter().enumerate().map(|(i, s)| view! {
                        <tr>
                            <th scope="row"><span class=format!("legend {}", system_class(i))>{s.name}</span></th>
                            <td>{s.edition}</td><td>{s.region}</td><td>{s.configuration}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The PoC's status and decision (admins).
#[component]
fn Decision(r: PocReportView, decide: ServerAction<DecidePoc>) -> impl IntoView {
    let t = use_texts();
    let p = t.poc;
    view! {
        <section class="card no-print" aria-labelledby="poc-decide">
            <h2 id="poc-decide">{p.decide}</h2>
            <crate::components::FormAlert action=decide success=t.saved/>
            <ActionForm action=decide attr:class="stack">
                <div class="field">
                    <label for="poc-status">{t.status}</label>
                    <select id="poc-status" name="status">
                        {["planned", "running", "decided"].into_iter().map(|s| view! {
                            <option value=s selected=r.status == s>{p.status(s)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="poc-decision">{p.decision}</label>
                    <textarea id="poc-decision" name="decision" rows="3" maxlength="2000">{r.decision.clone()}</textarea>
                </div>
                <div class="form-actions"><button type="submit" class="btn">{t.save}</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
fn Recorder(record: ServerAction<RecordRuns>) -> impl IntoView {
    let p = use_texts().poc;
    view! {
        <section class="card no-print" aria-labelledby="poc-record">
            <h2 id="poc-record">{p.record}</h2>
            <p class="hint">{p.record_hint} " " <code>{domain::poc::RUN_COLUMNS.join(",")}</code></p>
            <crate::components::LoadOutcome action=record stored=p.recorded/>
            <ActionForm action=record attr:class="stack">
                <div class="field">
                    <label for="poc-runs">{p.record_file}</label>
                    <textarea id="poc-runs" name="csv" rows="6" class="mono" required></textarea>
                </div>
                <div class="form-actions"><button type="submit" class="btn">{p.record_button}</button></div>
            </ActionForm>
        </section>
    }
}

/// The recording tokens (admins): issue one (shown once), see each one's state, revoke one.
#[component]
fn Tokens(tokens: Vec<TokenLine>, revoke: ServerAction<RevokePocToken>) -> impl IntoView {
    let t = use_texts();
    let p = t.poc;
    let status = move |s: &str| match s {
        "works" => p.token_works,
        "revoked" => p.token_revoked,
        "expired" => p.token_expired,
        _ => p.token_issuer_inactive,
    };
    view! {
        <section class="card no-print" aria-labelledby="poc-tokens">
            <h2 id="poc-tokens">{p.tokens}</h2>
            <p class="hint">{p.tokens_hint}</p>
            <TokenIssuer/>
            <crate::components::FormAlert action=revoke success=t.saved/>
            <div class="table-wrap">
                <table class="table table-compact">
                    <thead><tr>
                        <th scope="col">{p.token_label}</th>
                        <th scope="col">{p.token_prefix}</th>
                        <th scope="col">{p.token_issued_by}</th>
                        <th scope="col">{p.token_expires_on}</th>
                        <th scope="col">{p.token_status}</th>
                        <th scope="col"></th>
                    </tr></thead>
                    <tbody>
                        {tokens.into_iter().map(|k| {
                            let live = k.status == "works";
                            let prefix = k.prefix.clone();
                            view! {
                                <tr>
                                    <td>{k.label.clone()}</td>
                                    <td><code>{k.prefix.clone()}</code></td>
                                    <td>{k.issued_by.clone()} " · " {k.created_on.clone()}</td>
                                    <td>{k.expires_on.clone().unwrap_or_else(|| p.token_never.to_owned())}</td>
                                    <td>{status(&k.status)}</td>
                                    <td>
                                        {live.then(|| view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <input type="hidden" name="prefix" value=prefix.clone()/>
                                                <label class="acknowledge">
                                                    <input type="checkbox" name="confirm" value="true" required/>
                                                    " " {p.token_revoke_confirm}
                                                </label>
                                                <button type="submit" class="btn btn-small btn-danger">{p.token_revoke}</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Issues a recording token and shows it this once: an island, since only the browser that asked
/// may see the token (the page is never sent again with it).
#[cfg_attr(any(not(feature = "only-islands"), feature = "token-issuer"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "token-issuer")), component)]
fn TokenIssuer() -> impl IntoView {
    let p = use_texts().poc;
    let issue = crate::post::FormPost::new::<IssuePocToken>();
    let ready = crate::post::hydrated();
    view! {
        {move || issue.value().get().and_then(Result::ok).map(|k| view! {
            <div class="new-key" role="alert">
                <p><strong>{p.token_new} " "</strong><code>{k.prefix.clone()}</code></p>
                <p class="alert alert-warning">{p.token_shown_once}</p>
                <label for="new-poc-token">{p.token_new}</label>
                <input id="new-poc-token" class="mono" type="text" readonly value=k.token.clone()/>
            </div>
        })}
        <crate::components::FormAlert action=issue/>
        <crate::post::PostForm post=issue attr:class="form-grid">
            <div class="field">
                <label for="poc-token-label">{p.token_label}</label>
                <input id="poc-token-label" name="label" type="text" maxlength="200" required/>
            </div>
            <div class="field">
                <label for="poc-token-expires">{p.token_expires_on}</label>
                <input id="poc-token-expires" name="expires_on" type="date"/>
            </div>
            {move || (!ready.get()).then(|| view! { <p class="hint">{p.token_needs_script}</p> })}
            <div class="form-actions"><button type="submit" class="btn" disabled=move || !ready.get()>{p.token_issue}</button></div>
        </crate::post::PostForm>
    }
}

/// The newest runs shown; admins correct or withdraw one (each audited).
#[component]
fn RecentRuns(r: PocReportView, edit: ServerAction<EditRun>, withdraw: ServerAction<WithdrawRun>) -> impl IntoView {
    let t = use_texts();
    let p = t.poc;
    let admin = r.can_record;
    let problems = move || match edit.value().get() {
        Some(Err(AppError::Rows { problems, .. })) => problems,
        _ => Vec::new(),
    };
    view! {
        <section class="card" aria-labelledby="poc-runs-recent">
            <h2 id="poc-runs-recent">{p.recent} " (" {r.recent.len()} ")"</h2>
            <crate::components::FormAlert action=withdraw success=t.saved/>
            <crate::components::FormAlert action=edit success=t.saved/>
            {move || {
                let rows = problems();
                (!rows.is_empty()).then(|| view! {
                    <ul class="problems">
                        {rows.into_iter().map(|r| view! { <li>{t.error_code(&r.code)} " " <code>{r.detail}</code></li> }).collect_view()}
                    </ul>
                })
            }}
            <div class="table-wrap">
                <table class="table table-compact">
                    <thead><tr>
                        <th scope="col">{p.run_on}</th><th scope="col">{p.system}</th><th scope="col">{p.scenario}</th>
                        <th scope="col">{p.format}</th><th scope="col" class="num">{p.seconds}</th><th scope="col">{p.run_by}</th>
                        <th scope="col">{p.notes}</th>{admin.then(|| view! { <th scope="col">{t.actions}</th> })}
                    </tr></thead>
                    <tbody>
                        {r.recent.into_iter().map(|run| {
                            let c = run.cells.clone();
                            let outcome = if c[13].is_empty() { c[8].clone() } else { format!("{} ({})", p.failed, c[13]) };
                            view! {
                                <tr>
                                    <td>{c[14].clone()}</td><th scope="row">{c[0].clone()}</th><td>{c[1].clone()}</td>
                                    <td>{format!("{}/{} {} × {} MB", c[2], c[3], c[4], c[5])}</td>
                                    <td class="num" class:failed=!c[13].is_empty()>{outcome}</td>
                                    <td>{c[16].clone()}</td><td><small>{c[17].clone()}</small></td>
                                    {admin.then(|| view! { <td><RunActions run=run.clone() edit withdraw/></td> })}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
fn RunActions(run: RunLine, edit: ServerAction<EditRun>, withdraw: ServerAction<WithdrawRun>) -> impl IntoView {
    let p = use_texts().poc;
    let id = run.id;
    view! {
        <details>
            <summary>{p.correct}</summary>
            <ActionForm action=edit attr:class="form-grid">
                <input type="hidden" name="id" value=id/>
                {domain::poc::RUN_COLUMNS.iter().zip(run.cells).enumerate().map(|(i, (column, value))| {
                    let field = format!("run-{id}-{column}");
                    view! {
                        <div class="field">
                            <label for=field.clone()>{*column}</label>
                            <input id=field type="text" name=format!("cells[{i}]") value=value/>
                        </div>
                    }
                }).collect_view()}
                <div class="form-actions"><button type="submit" class="btn btn-small">{p.save_run} " " {id}</button></div>
            </ActionForm>
        </details>
        <details>
            <summary>{p.withdraw}</summary>
            <ActionForm action=withdraw attr:class="stack">
                <input type="hidden" name="id" value=id/>
                <div class="field field-check">
                    <input id=format!("run-{id}-confirm") name="confirm" type="checkbox" value="true" required/>
                    <label for=format!("run-{id}-confirm")>{p.confirm_withdraw}</label>
                </div>
                <button type="submit" class="btn btn-small btn-danger">{p.withdraw} " " {id}</button>
            </ActionForm>
        </details>
    }
}
