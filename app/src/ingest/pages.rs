//! The ingestion lab's pages, rendered on the server; their forms are plain forms.

use super::*;
use crate::components::{FormAlert, loaded};
use crate::i18n::use_texts;
use crate::poc::charts::{Dot, Scatter, number};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// A size as people read it: 812 B, 7.1 KB, 96.3 MB, 1.2 GB.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_024 => format!("{bytes} B"),
        1_024..1_048_576 => format!("{:.1} KB", b / 1_024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MB", b / 1_048_576.0),
        _ => format!("{:.1} GB", b / 1_073_741_824.0),
    }
}

/// A count with its thousands grouped: 1,000,000.
fn whole(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A block of text to paste, with a copy button (shown once the page's script runs; without it
/// the text is selected as any other).
#[component]
fn Pasteable(id: String, title: String, text: String) -> impl IntoView {
    let t = use_texts().ingest;
    view! {
        <div class="pasteable">
            <div class="pasteable-head">
                <h3 id=format!("{id}-title")>{title}</h3>
                <button type="button" class="btn btn-small" data-copy=id.clone() data-copied=t.copied hidden>{t.copy}</button>
                <span class="copied muted" role="status"></span>
            </div>
            <pre id=id.clone() aria-labelledby=format!("{id}-title") tabindex="0"><code>{text}</code></pre>
        </div>
    }
}

#[component]
pub fn IngestPage() -> impl IntoView {
    let t = use_texts();
    let ti = t.ingest;
    let query = use_query_map();
    let field = move |k: &str| query.read().get(k).unwrap_or_default();
    let asked = move || {
        let location = field("location");
        (!location.trim().is_empty()).then(|| {
            (
                location,
                field("format"),
                field("delimiter"),
                field("no_header") == "true",
                field("layout"),
                field("slices").parse::<u64>().ok(),
                LoadTarget {
                    table: field("table"),
                    load_from: field("load_from"),
                    on_error: field("on_error"),
                    explicit_columns: field("explicit_columns") == "true",
                },
            )
        })
    };
    // A refusal in the engine's words (no files match, S3 unreachable) is shown as it is.
    let survey = Resource::new_blocking(asked, |asked| async move {
        let Some((location, format, delimiter, no_header, layout, slices, target)) = asked else {
            return Ok(None);
        };
        match survey_files(location, format, delimiter, no_header, layout, slices, target).await {
            Ok(s) => Ok(Some(Ok(s))),
            Err(AppError::Refused { message }) => Ok(Some(Err(message))),
            Err(e) => Err(e),
        }
    });
    let selected = move |k: &'static str, v: &'static str| field(k) == v;
    view! {
        <header class="page-head">
            <h1>{t.section(domain::Section::Ingest).0}</h1>
            <p class="muted">{ti.intro}</p>
            <p><A href="/ingest/watches">{ti.watches_link}</A></p>
        </header>
        <section class="card" aria-labelledby="survey-title">
            <h2 id="survey-title">{ti.survey_title}</h2>
            <form method="get" action="/ingest" class="form-grid">
                <div class="field field-wide">
                    <label for="survey-location">{ti.location}</label>
                    <input id="survey-location" name="location" type="text" required maxlength="500" placeholder="agency/*.csv"
                        value=move || field("location") aria-describedby="survey-location-hint"/>
                    <p id="survey-location-hint" class="hint">{ti.location_hint}</p>
                </div>
                <div class="field">
                    <label for="survey-format">{ti.format}</label>
                    <select id="survey-format" name="format">
                        <option value="" selected=move || selected("format", "")>{ti.format_auto}</option>
                        <option value="csv" selected=move || selected("format", "csv")>"CSV"</option>
                        <option value="jsonl" selected=move || selected("format", "jsonl")>"JSON Lines"</option>
                        <option value="parquet" selected=move || selected("format", "parquet")>"Parquet"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="survey-delimiter">{ti.delimiter}</label>
                    <input id="survey-delimiter" name="delimiter" type="text" maxlength="1" size="2" value=move || field("delimiter")
                        aria-describedby="survey-delimiter-hint"/>
                    <p id="survey-delimiter-hint" class="hint">{ti.delimiter_hint}</p>
                </div>
                <div class="field field-check">
                    <input id="survey-no-header" name="no_header" type="checkbox" value="true" checked=move || field("no_header") == "true"/>
                    <label for="survey-no-header">{ti.no_header}</label>
                </div>
                <div class="field">
                    <label for="survey-table">{ti.table}</label>
                    <input id="survey-table" name="table" type="text" maxlength="127" placeholder="analytics.players" value=move || field("table")/>
                </div>
                <div class="field">
                    <label for="survey-load-from">{ti.load_from}</label>
                    <input id="survey-load-from" name="load_from" type="text" maxlength="500" placeholder="s3://bucket/prefix/"
                        value=move || field("load_from") aria-describedby="survey-load-from-hint"/>
                    <p id="survey-load-from-hint" class="hint">{ti.load_from_hint}</p>
                </div>
                <div class="field">
                    <label for="survey-on-error">{ti.on_error}</label>
                    <select id="survey-on-error" name="on_error">
                        <option value="abort" selected=move || selected("on_error", "abort")>"ABORT_STATEMENT"</option>
                        <option value="skip_file" selected=move || selected("on_error", "skip_file")>"SKIP_FILE"</option>
                        <option value="continue" selected=move || selected("on_error", "continue")>"CONTINUE"</option>
                    </select>
                </div>
                <div class="field field-check">
                    <input id="survey-explicit" name="explicit_columns" type="checkbox" value="true" checked=move || field("explicit_columns") == "true"/>
                    <label for="survey-explicit">{ti.explicit_columns}</label>
                </div>
                <div class="field">
                    <label for="survey-layout">{ti.layout}</label>
                    <select id="survey-layout" name="layout">
                        <option value="parquet" selected=move || !selected("layout", "csv")>"Parquet (Snappy)"</option>
                        <option value="csv" selected=move || selected("layout", "csv")>"CSV (gzip)"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="survey-slices">{ti.slices}</label>
                    <input id="survey-slices" name="slices" type="number" min="1" max="10000"
                        value=move || { let s = field("slices"); if s.is_empty() { "4".to_owned() } else { s } }/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary">{ti.survey_button}</button>
                </div>
            </form>
        </section>
        <section class="card" aria-labelledby="upload-title">
            <h2 id="upload-title">{ti.upload_title}</h2>
            <form method="post" action="/ingest/upload" enctype="multipart/form-data" class="form-grid">
                <div class="field field-wide">
                    <label for="upload-files">{ti.upload_files}</label>
                    <input id="upload-files" name="files" type="file" multiple required accept=".csv,.tsv,.txt,.json,.jsonl,.ndjson,.parquet,.gz,.zst"
                        aria-describedby="upload-files-hint"/>
                    <p id="upload-files-hint" class="hint">{ti.upload_hint}</p>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn">{ti.upload_button}</button>
                </div>
            </form>
        </section>
        {move || query.read().get("refused").map(|why| view! {
            <p class="alert alert-error" role="alert">{t.error_code("refused")}" "{why}</p>
        })}
        <RewriteOutcome/>
        {loaded(survey, move |found| match found {
            Some(Ok(s)) => view! { <SurveyView s/> }.into_any(),
            Some(Err(why)) => view! { <p class="alert alert-error" role="alert">{why}</p> }.into_any(),
            None => ().into_any(),
        })}
    }
}

/// What a rewrite posted from this page did (`rewrite_files` sends the browser back with it).
#[component]
fn RewriteOutcome() -> impl IntoView {
    let ti = use_texts().ingest;
    let query = use_query_map();
    move || {
        let q = query.read();
        let folder = q.get("rewritten")?;
        let n = |k: &str| q.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let count = |k: &str| whole(n(k) as u64);
        let (bytes_in, bytes_out, secs) = (n("r_in"), n("r_out"), n("r_secs"));
        let rate = if secs > 0.0 { bytes_in / 1_048_576.0 / secs } else { 0.0 };
        let text = (ti.rewritten)(
            &folder,
            &count("r_inputs"),
            &count("r_files"),
            &size(bytes_in as u64),
            &size(bytes_out as u64),
            &count("r_rows"),
            &number(secs),
            &number(rate),
        );
        let recorded = q.get("recorded").map(|poc| view! { " " {(ti.recorded)(&poc)} });
        Some(view! { <p class="alert alert-ok" role="alert">{text}{recorded}</p> })
    }
}

#[component]
fn SurveyView(s: Surveyed) -> impl IntoView {
    let t = use_texts();
    let ti = t.ingest;
    let columns = s
        .inferred
        .columns
        .iter()
        .map(|c| {
            let range = c.range.map(|(lo, hi)| format!("{lo} … {hi}"));
            let detail = match (c.ty, c.max_bytes) {
                (domain::ingest::ColumnType::Decimal, _) => format!("({}, {})", c.precision, c.scale),
                (_, Some(b)) => (ti.max_bytes)(&b),
                _ => String::new(),
            };
            view! {
                <tr>
                    <td><code>{c.name.clone()}</code></td>
                    <td>{c.ty.name()}" "<span class="muted">{detail}</span></td>
                    <td>{if c.nullable { ti.yes } else { ti.no }}</td>
                    <td>{range.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let files = s
        .inferred
        .files
        .iter()
        .map(|f| {
            view! {
                <tr>
                    <td><code>{f.name.clone()}</code></td>
                    <td class="num">{size(f.bytes)}</td>
                    <td>{f.compression.name()}</td>
                    <td class="num">{whole(f.rows)}{f.sampled.then_some(" *")}</td>
                </tr>
            }
        })
        .collect_view();
    let problems = (!s.problems.is_empty()).then(|| {
        view! {
            <div class="alert alert-warning" role="alert">
                <p>{(ti.problems)(&s.problems.len())}</p>
                <ul>{s.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
            </div>
        }
    });
    let format = s.inferred.format.name();
    let statements = match s.statements.clone() {
        Ok(st) => view! {
            <Pasteable id="snowflake".into() title="Snowflake".into() text=st.snowflake/>
            <Pasteable id="redshift".into() title="Redshift".into() text=st.redshift/>
            <Pasteable id="manifest".into() title=(ti.manifest)(&st.manifest_name) text=st.manifest/>
            {(!st.notes.is_empty()).then(|| view! { <ul class="muted">{st.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul> })}
        }
        .into_any(),
        Err(why) => view! { <p class="alert alert-error" role="alert">{why}</p> }.into_any(),
    };
    // The survey's fields go with the rewrite (the statements' as `target[…]`), so the page
    // comes back as it was asked for.
    let ask_fields = {
        let q = use_query_map();
        let q = q.read_untracked();
        let plain = ["location", "format", "delimiter", "no_header", "layout", "slices"];
        let nested = ["table", "load_from", "on_error", "explicit_columns"];
        let fields: Vec<(String, String)> = q
            .clone()
            .into_iter()
            .filter_map(|(k, v)| {
                if plain.contains(&&*k) {
                    Some((k.to_string(), v))
                } else {
                    nested.contains(&&*k).then(|| (format!("target[{k}]"), v))
                }
            })
            .collect();
        fields.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()
    };
    let rewrite = ServerAction::<RewriteFiles>::new();
    view! {
        <section aria-labelledby="inferred-title">
            <h2 id="inferred-title">{(ti.inferred)(&format, &s.inferred.files.len())}</h2>
            {problems}
            <div class="table-wrap">
                <table>
                    <caption class="visually-hidden">{ti.columns}</caption>
                    <thead><tr>
                        <th scope="col">{ti.column}</th>
                        <th scope="col">{ti.type_}</th>
                        <th scope="col">{ti.nullable}</th>
                        <th scope="col">{ti.range}</th>
                    </tr></thead>
                    <tbody>{columns}</tbody>
                </table>
            </div>
            <details>
                <summary>{(ti.files)(&s.inferred.files.len(), &size(s.inferred.total_bytes()))}</summary>
                <div class="table-wrap">
                    <table>
                        <caption class="visually-hidden">{ti.files_caption}</caption>
                        <thead><tr>
                            <th scope="col">{ti.file}</th>
                            <th scope="col" class="num">{ti.size}</th>
                            <th scope="col">{ti.compression}</th>
                            <th scope="col" class="num">{ti.rows_read}</th>
                        </tr></thead>
                        <tbody>{files}</tbody>
                    </table>
                </div>
                <p class="hint">{ti.sampled_hint}</p>
            </details>
        </section>
        <section aria-labelledby="statements-title">
            <h2 id="statements-title">{ti.statements_title}</h2>
            {statements}
        </section>
        <PlanView plan=s.plan.clone()/>
        <section class="card" aria-labelledby="rewrite-title">
            <h2 id="rewrite-title">{ti.rewrite_title}</h2>
            <p class="muted">{(ti.rewrite_hint)(&s.plan.proposed.files, &size(s.plan.proposed.file_bytes), &s.plan.proposed.format.name())}</p>
            <FormAlert action=rewrite/>
            <ActionForm action=rewrite attr:class="form-grid">
                {ask_fields}
                <div class="field">
                    <label for="rewrite-folder">{ti.folder}</label>
                    <input id="rewrite-folder" name="folder" type="text" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]*"
                        aria-describedby="rewrite-folder-hint"/>
                    <p id="rewrite-folder-hint" class="hint">{ti.folder_hint}</p>
                </div>
                {s.can_record.then(|| view! {
                    <div class="field field-check">
                        <input id="rewrite-record" name="record" type="checkbox" value="true"/>
                        <label for="rewrite-record">{ti.record}</label>
                    </div>
                })}
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary">{ti.rewrite_button}</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PlanView(plan: SplitPlan) -> impl IntoView {
    let ti = use_texts().ingest;
    let uses = |uses: &[domain::ingest::plan::Use]| {
        uses.iter()
            .map(|u| {
                let how = if u.splittable { ti.splittable } else { ti.not_splittable };
                view! {
                    <li>
                        <strong>{u.warehouse.clone()}</strong>": "{how}", "{(ti.parallel)(&u.parallel)}
                        {(!u.advice.is_empty()).then(|| view! { <ul>{u.advice.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul> })}
                    </li>
                }
            })
            .collect_view()
    };
    let p = &plan.proposed;
    let estimates = plan
        .estimates
        .iter()
        .map(|e| {
            let cost = e.cost_cents.map(|c| format!("US${:.2}", c / 100.0)).unwrap_or_else(|| "—".into());
            let fit = e.fit.iter().enumerate().map(|(i, c)| match i {
                0 => format!("{c:.2}"),
                1 => format!("{c:+.2}·ln(MB)"),
                _ => format!("{c:+.3}·ln(MB)²"),
            }).collect::<Vec<_>>().join(" ");
            let dots: Vec<Dot> = e
                .points
                .iter()
                .map(|(mb, rate)| Dot { x: *mb, y: *rate, class: "sys-0".into(), title: format!("{} MB: {} MB/s", number(*mb), number(*rate)) })
                .collect();
            view! {
                <tr>
                    <td>{e.system.clone()}</td>
                    <td class="num">{number(e.mb_per_s)}</td>
                    <td class="num">{number(e.seconds)}</td>
                    <td class="num">{cost}</td>
                    <td><code>{fit}</code></td>
                </tr>
                <tr class="chart-row">
                    <td colspan="5">
                        <Scatter dots caption=(ti.points_caption)(&e.system, &e.points.len()) x_label=ti.file_mb y_label=ti.mb_per_s/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="plan-title">
            <h2 id="plan-title">{ti.plan_title}</h2>
            <p>{(ti.plan_now)(&plan.files, &size(plan.total_bytes), &size(plan.smallest), &size(plan.largest), &plan.compression.name())}</p>
            <ul>{uses(&plan.now)}</ul>
            <h3>{ti.proposed}</h3>
            <p>{(ti.layout_line)(&p.format.name(), &p.compression.name(), &p.files, &size(p.file_bytes), &size(p.total_bytes))}</p>
            <ul>{uses(&plan.then)}</ul>
            <h3>{ti.estimates}</h3>
            {if plan.estimates.is_empty() {
                view! { <p class="muted">{ti.no_estimates}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <caption class="visually-hidden">{ti.estimates}</caption>
                            <thead><tr>
                                <th scope="col">{ti.system}</th>
                                <th scope="col" class="num">{ti.mb_per_s}</th>
                                <th scope="col" class="num">{ti.seconds}</th>
                                <th scope="col" class="num">{ti.cost}</th>
                                <th scope="col">{ti.fit}</th>
                            </tr></thead>
                            <tbody>{estimates}</tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {(!plan.notes.is_empty()).then(|| view! { <ul class="muted">{plan.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul> })}
        </section>
    }
}

// ---- watches -------------------------------------------------------------------------------

fn state_badge(w: &WatchLine) -> impl IntoView + use<> {
    let ti = use_texts().ingest;
    let (class, text) = match (w.running, w.held, &w.last_error) {
        (false, _, _) => ("badge", ti.stopped),
        (true, _, Some(_)) => ("badge badge-error", ti.failing),
        (true, true, None) => ("badge badge-ok", ti.running),
        (true, false, None) => ("badge badge-running", ti.starting),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
pub fn WatchesPage() -> impl IntoView {
    let t = use_texts();
    let ti = t.ingest;
    let list = Resource::new_blocking(|| (), |_| list_watches());
    let create = ServerAction::<CreateWatch>::new();
    view! {
        <header class="page-head">
            <h1>{ti.watches_title}</h1>
            <p class="muted">{ti.watches_intro}</p>
            <p><A href="/ingest">{t.section(domain::Section::Ingest).0}</A></p>
        </header>
        {loaded(list, move |list| {
            if list.watches.is_empty() {
                return view! { <p class="muted">{ti.no_watches}</p> }.into_any();
            }
            let rows = list.watches.into_iter().map(|w| {
                let href = format!("/ingest/watches/{}", crate::url::query_value(&w.name));
                let badge = state_badge(&w);
                view! {
                    <tr>
                        <td><A href=href>{w.name.clone()}</A></td>
                        <td>{badge}</td>
                        <td><code>{w.location.clone()}</code></td>
                        <td>{w.target.clone()}" · "<code>{w.table.clone()}</code></td>
                        <td>{w.mode.clone()}</td>
                        <td class="num">{w.every_secs.to_string()}" s"</td>
                    </tr>
                }
            }).collect_view();
            view! {
                <div class="table-wrap">
                    <table>
                        <caption class="visually-hidden">{ti.watches_title}</caption>
                        <thead><tr>
                            <th scope="col">{ti.name}</th>
                            <th scope="col">{ti.state}</th>
                            <th scope="col">{ti.location}</th>
                            <th scope="col">{ti.target}</th>
                            <th scope="col">{ti.mode}</th>
                            <th scope="col" class="num">{ti.every}</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }.into_any()
        })}
        <section class="card" aria-labelledby="new-watch-title">
            <h2 id="new-watch-title">{ti.new_watch}</h2>
            <FormAlert action=create/>
            <ActionForm action=create attr:class="form-grid">
                <div class="field">
                    <label for="watch-name">{ti.name}</label>
                    <input id="watch-name" name="name" type="text" required maxlength="64" pattern="[A-Za-z][A-Za-z0-9_\\-]*"/>
                </div>
                <div class="field field-wide">
                    <label for="watch-location">{ti.location}</label>
                    <input id="watch-location" name="location" type="text" required maxlength="500" aria-describedby="watch-location-hint"/>
                    <p id="watch-location-hint" class="hint">{ti.location_hint}</p>
                </div>
                <div class="field">
                    <label for="watch-target-kind">{ti.target_kind}</label>
                    <select id="watch-target-kind" name="target_kind">
                        <option value="sqlite">"SQLite"</option>
                        <option value="postgres">"PostgreSQL"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="watch-target">{ti.target}</label>
                    <input id="watch-target" name="target" type="text" required maxlength="500" aria-describedby="watch-target-hint"/>
                    <p id="watch-target-hint" class="hint">{ti.target_hint}</p>
                </div>
                <div class="field">
                    <label for="watch-table">{ti.table}</label>
                    <input id="watch-table" name="table" type="text" required maxlength="63" pattern="[A-Za-z_][A-Za-z0-9_]*"/>
                </div>
                <div class="field">
                    <label for="watch-format">{ti.format}</label>
                    <select id="watch-format" name="format">
                        <option value="">{ti.format_auto}</option>
                        <option value="csv">"CSV"</option>
                        <option value="jsonl">"JSON Lines"</option>
                        <option value="parquet">"Parquet"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="watch-keys">{ti.keys}</label>
                    <input id="watch-keys" name="keys" type="text" maxlength="500" aria-describedby="watch-keys-hint"/>
                    <p id="watch-keys-hint" class="hint">{ti.keys_hint}</p>
                </div>
                <div class="field">
                    <label for="watch-every">{ti.every}</label>
                    <input id="watch-every" name="every_secs" type="number" min="1" max="86400" step="any" value="1"/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary">{ti.create_watch}</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn WatchPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let page = Resource::new_blocking(name, get_watch);
    view! { {loaded(page, move |view| view! { <WatchView view/> }.into_any())} }
}

#[component]
fn WatchView(view: WatchView) -> impl IntoView {
    let ti = use_texts().ingest;
    let w = view.line.clone();
    let toggle = ServerAction::<SetWatchRunning>::new();
    let record = ServerAction::<RecordWatch>::new();
    let record_name = w.name.clone();
    let query = use_query_map();
    let badge = state_badge(&w);
    let summary = view.summary.clone().map(|s| {
        view! {
            <p>{(ti.summary)(&s.loaded, &s.skipped, &whole(s.rows), &size(s.bytes), &number(s.p50_ms), &number(s.p95_ms), &number(s.max_ms))}</p>
        }
    });
    let chart = (!view.loads.is_empty())
        .then(|| view! { <LatencyChart loads=view.loads.clone() p95=view.summary.as_ref().map(|s| s.p95_ms)/> });
    let rows = view
        .loads
        .iter()
        .map(|l| {
            let outcome = if l.loaded {
                view! { <span class="badge badge-ok">{ti.loaded}</span> }.into_any()
            } else {
                view! { <span class="badge badge-error">{ti.skipped}</span> }.into_any()
            };
            view! {
                <tr>
                    <td><code>{l.file.clone()}</code><br/><span class="muted mono" title=ti.etag>{l.etag.chars().take(20).collect::<String>()}</span></td>
                    <td>{outcome}{l.error.clone().map(|e| view! { <br/><span class="error-text">{e}</span> })}</td>
                    <td class="num">{whole(l.rows)}</td>
                    <td class="num">{size(l.bytes)}</td>
                    <td>{l.arrived.clone()}</td>
                    <td>{l.finished.clone()}</td>
                    <td class="num">{number(l.latency_ms)}</td>
                    <td class="num">{number(l.load_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <header class="page-head">
            <h1>{(ti.watch_title)(&w.name)}" "{badge}</h1>
            <p><A href="/ingest/watches">{ti.watches_title}</A></p>
        </header>
        <dl class="facts">
            <dt>{ti.location}</dt><dd><code>{w.location.clone()}</code></dd>
            <dt>{ti.target}</dt><dd>{w.target.clone()}" · "<code>{w.table.clone()}</code></dd>
            <dt>{ti.mode}</dt><dd>{w.mode.clone()}</dd>
            <dt>{ti.every}</dt><dd>{w.every_secs.to_string()}" s"</dd>
            <dt>{ti.created}</dt><dd>{w.created.clone()}</dd>
        </dl>
        {w.last_error.clone().map(|e| view! { <p class="alert alert-error" role="alert">{ti.poll_failed}" "{e}</p> })}
        <FormAlert action=toggle success=if w.running { ti.stop_asked } else { ti.start_asked }/>
        <ActionForm action=toggle>
            <input type="hidden" name="name" value=w.name.clone()/>
            <input type="hidden" name="running" value=if w.running { "false" } else { "true" }/>
            <button type="submit" class="btn">{if w.running { ti.stop } else { ti.start }}</button>
        </ActionForm>
        {move || query.read().get("recorded").map(|poc| view! {
            <p class="alert alert-ok" role="alert">{(ti.recorded_watch)(&poc)}</p>
        })}
        {(view.can_record && view.summary.is_some()).then(|| view! {
            <FormAlert action=record/>
            <ActionForm action=record>
                <input type="hidden" name="name" value=record_name/>
                <button type="submit" class="btn">{ti.record_watch}</button>
                " "<span class="muted">{ti.record_watch_hint}</span>
            </ActionForm>
        })}
        <section aria-labelledby="history-title">
            <h2 id="history-title">{ti.history_title}</h2>
            {view.history_error.clone().map(|e| view! { <p class="alert alert-error" role="alert">{e}</p> })}
            {summary}
            {chart}
            {if view.loads.is_empty() {
                view! { <p class="muted">{ti.no_loads}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <caption class="visually-hidden">{ti.history_title}</caption>
                            <thead><tr>
                                <th scope="col">{ti.file}</th>
                                <th scope="col">{ti.outcome}</th>
                                <th scope="col" class="num">{ti.rows}</th>
                                <th scope="col" class="num">{ti.size}</th>
                                <th scope="col">{ti.arrived}</th>
                                <th scope="col">{ti.queryable}</th>
                                <th scope="col" class="num">{ti.latency_ms}</th>
                                <th scope="col" class="num">{ti.load_ms}</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// Each loaded file's latency from arrival to queryable, oldest on the left, with the p95 line;
/// skipped files are marked on the axis.
#[component]
fn LatencyChart(loads: Vec<LoadLine>, p95: Option<f64>) -> impl IntoView {
    let ti = use_texts().ingest;
    let (w, h, left, bottom) = (640.0_f64, 220.0_f64, 56.0_f64, 28.0_f64);
    let n = loads.len().max(2) as f64;
    let y_max = loads.iter().map(|l| l.latency_ms).fold(p95.unwrap_or(0.0), f64::max).max(1.0) * 1.1;
    let px = move |i: usize| left + i as f64 / (n - 1.0) * (w - left - 10.0);
    let py = move |ms: f64| h - bottom - ms / y_max * (h - bottom - 10.0);
    // Oldest first.
    let marks = loads
        .iter()
        .rev()
        .enumerate()
        .map(|(i, l)| {
            let title = format!("{}: {} ms", l.file, number(l.latency_ms));
            if l.loaded {
                view! { <circle cx=px(i) cy=py(l.latency_ms) r="3" class="sys-0"><title>{title}</title></circle> }.into_any()
            } else {
                let title = format!("{}: {}", l.file, l.error.clone().unwrap_or_default());
                view! { <rect x=px(i) - 3.0 y=h - bottom - 3.0 width="6" height="6" class="failed-mark"><title>{title}</title></rect> }.into_any()
            }
        })
        .collect_view();
    let p95_line = p95.map(|p| {
        view! {
            <line x1=left y1=py(p) x2=w - 10.0 y2=py(p) class="guide"></line>
            <text x=w - 12.0 y=py(p) - 4.0 text-anchor="end" class="tick">{format!("p95 {} ms", number(p))}</text>
        }
    });
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=ti.latency_caption>
                <line x1=left y1=h - bottom x2=w - 10.0 y2=h - bottom class="axis"></line>
                <line x1=left y1=10.0 x2=left y2=h - bottom class="axis"></line>
                <text x=left - 6.0 y=14.0 text-anchor="end" class="tick">{number(y_max)}</text>
                <text x=left - 6.0 y=h - bottom text-anchor="end" class="tick">"0"</text>
                <text x=(w + left) / 2.0 y=h - 6.0 text-anchor="middle" class="label">{ti.latency_x}</text>
                {p95_line}
                {marks}
            </svg>
            <figcaption>{ti.latency_caption}</figcaption>
        </figure>
    }
}
