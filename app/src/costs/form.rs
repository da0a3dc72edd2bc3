//! Create and edit a cost entry. In the browser the domain's rule engine checks every keystroke
//! (the form is an island); the server checks again on save (it alone knows duplicates and
//! budgets). Without JavaScript the form posts as usual and comes back filled in, with the
//! server's findings. The entry's actions and history are server-rendered.

use super::{CostRecord, DeleteCost, FormData, RestoreCost, SaveCost, cost_form_data, cost_history, get_cost};
use crate::error::AppError;
use crate::i18n::{Texts, use_lang, use_texts};
use crate::post::{FormPost, PostForm};
use domain::costs::{CostForm, Field, Finding, Severity, validate};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

fn form_of(r: &CostRecord) -> CostForm {
    r.entry.to_form(Some(r.id))
}

#[component]
pub fn CostFormPage() -> impl IntoView {
    let t = use_texts();
    let params = use_params_map();
    // No id: a new entry. An id that is not a number (`/costs/periods`) names no entry.
    let id = move || params.read().get("id").map(|s| s.parse::<i64>().ok());
    let data = Resource::new_blocking(|| (), |_| cost_form_data());
    let existing = Resource::new_blocking(id, |id| async move {
        match id {
            Some(Some(id)) => get_cost(id).await.map(Some),
            Some(None) => Err(AppError::NotFound),
            None => Ok(None),
        }
    });
    let history = Resource::new_blocking(id, |id| async move {
        match id {
            Some(Some(id)) => cost_history(id).await,
            _ => Ok(Vec::new()),
        }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match (data.await, existing.await, history.await) {
                    (Ok(data), Ok(existing), Ok(lines)) => {
                        let history = existing.is_some().then(|| view! { <History lines/> });
                        let actions = existing.clone().map(|r| view! { <EntryActions record=r can_edit=data.can_edit/> });
                        view! { <CostEditor data existing/> {actions} {history} }.into_any()
                    }
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        if e == AppError::NotFound {
                            crate::shell::set_status(404);
                        }
                        view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// An island: the rule engine runs in the browser on every keystroke. Everything it needs comes in
/// its props (serialised into the page), since the browser has no server context.
#[cfg_attr(any(not(feature = "only-islands"), feature = "cost-editor"), island)]
#[cfg_attr(all(feature = "only-islands", not(feature = "cost-editor")), component)]
fn CostEditor(data: FormData, existing: Option<CostRecord>) -> impl IntoView {
    let t = use_texts();
    let lang = use_lang();
    let save = FormPost::new::<SaveCost>();
    let blank = CostForm {
        date: data.today.to_string(),
        currency: data.reporting_currency.code().to_owned(),
        ..Default::default()
    };
    // A form posted without JavaScript comes back with what was submitted in the error.
    let initial = match save.value().get_untracked() {
        Some(Err(AppError::Rules { submitted, .. } | AppError::Stale { submitted: Some(submitted), .. })) => *submitted,
        _ => existing.as_ref().map(form_of).unwrap_or(blank),
    };
    let version = existing.as_ref().map(|r| r.version);
    let read_only = !data.can_edit || existing.as_ref().is_some_and(|r| r.deleted);
    let reference = StoredValue::new(data.reference());
    let form = RwSignal::new(initial.clone());
    let touched = RwSignal::new(Vec::<Field>::new());
    let local = Memo::new(move |_| form.with(|f| reference.with_value(|r| validate(f, r)).findings));
    let server: Signal<Vec<Finding>> = Signal::derive(move || match save.value().get() {
        Some(Err(AppError::Rules { findings, .. })) => findings,
        _ => Vec::new(),
    });
    // The messages of one field: the server's answer, then the browser's for touched fields.
    let messages = move |field: Field| {
        let mut out: Vec<(Severity, String, &'static str)> = Vec::new();
        let local_on = touched.with(|t| t.contains(&field));
        let local_findings = if local_on { local.get() } else { Vec::new() };
        for f in server.get().iter().chain(local_findings.iter()).filter(|f| f.rule.field() == field) {
            if !out.iter().any(|(_, _, code)| *code == f.rule.code()) {
                out.push((f.rule.severity(), Texts::for_lang(lang).finding(f), f.rule.code()));
            }
        }
        out
    };
    let warnings = move || {
        server
            .get()
            .into_iter()
            .filter(|f| f.rule.severity() == Severity::Warning)
            .map(|f| f.rule.code())
            .collect::<Vec<_>>()
    };
    let stale = move || match save.value().get() {
        Some(Err(AppError::Stale { version, changed, .. })) => Some((version, changed)),
        _ => None,
    };
    let other_error = move || match save.value().get() {
        Some(Err(e)) => Some(t.error(&e)),
        _ => None,
    };

    let field_messages = move |field: Field| {
        move || {
            messages(field)
                .into_iter()
                .map(|(sev, text, _)| {
                    view! { <p class=if sev == Severity::Error { "field-error" } else { "field-warning" }>{text}</p> }
                })
                .collect_view()
        }
    };
    let text_field = move |field: Field,
                           name: &'static str,
                           label: &'static str,
                           kind: &'static str,
                           value: String,
                           hint: Option<&'static str>| {
        let id = format!("cost-{name}");
        let err_id = format!("{id}-msg");
        let described = err_id.clone();
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input id=id type=kind name=format!("form[{name}]") value=value disabled=read_only
                    inputmode=if name == "amount" { Some("decimal") } else { None }
                    aria-invalid=move || if messages(field).iter().any(|m| m.0 == Severity::Error) { "true" } else { "false" }
                    aria-describedby=described
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| set_field(f, name, v));
                        touched.update(|t| if !t.contains(&field) { t.push(field) });
                    }/>
                <div id=err_id class="field-messages">
                    {hint.map(|h| view! { <p class="hint">{h}</p> })}
                    {field_messages(field)}
                </div>
            </div>
        }
    };
    let select_field = move |field: Field,
                             name: &'static str,
                             label: &'static str,
                             choices: Vec<(String, String)>,
                             value: String| {
        let id = format!("cost-{name}");
        let err_id = format!("{id}-msg");
        let described = err_id.clone();
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <select id=id name=format!("form[{name}]") disabled=read_only aria-describedby=described
                    aria-invalid=move || if messages(field).iter().any(|m| m.0 == Severity::Error) { "true" } else { "false" }
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| set_field(f, name, v));
                        touched.update(|t| if !t.contains(&field) { t.push(field) });
                    }>
                    <option value="" selected=value.is_empty()>"—"</option>
                    {choices.into_iter().map(|(code, label)| {
                        let selected = code == value;
                        view! { <option value=code selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                <div id=err_id class="field-messages">
                    {field_messages(field)}
                </div>
            </div>
        }
    };
    let named = |list: &[super::Choice]| -> Vec<(String, String)> {
        list.iter().filter(|c| c.active).map(|c| (c.code.clone(), format!("{} ({})", c.name, c.code))).collect()
    };
    let campaigns: Vec<(String, String)> = data
        .campaigns
        .iter()
        .filter(|c| c.info.active)
        .map(|c| (c.code.clone(), format!("{} — {} / {}", c.name, c.info.game, c.info.channel)))
        .collect();
    let cost_types: Vec<(String, String)> = data
        .cost_types
        .iter()
        .filter(|c| c.info.active)
        .map(|c| (c.code.clone(), format!("{} ({})", c.name, c.code)))
        .collect();
    let currencies: Vec<(String, String)> =
        data.currencies.iter().filter(|c| c.active).map(|c| (c.code.clone(), c.code.clone())).collect();
    let title = match (&existing, read_only) {
        (None, _) => t.new_cost,
        (Some(_), false) => t.edit_cost,
        (Some(_), true) => t.cost_detail,
    };
    let i = initial;
    view! {
        <header class="page-head">
            <p><a href="/costs">{t.section(domain::Section::Costs).0}</a></p>
            <h1>{title}</h1>
            {read_only.then(|| view! { <p class="alert alert-info" role="status">{t.read_only}</p> })}
        </header>
        <PostForm post=save attr:class="card form-grid cost-form" attr:novalidate=true>
            {existing.as_ref().map(|r| view! {
                <input type="hidden" name="form[editing]" value=r.id/>
            })}
            {version.map(|v| view! { <input type="hidden" name="version" value=v/> })}
            {text_field(Field::Date, "date", t.date, "date", i.date.clone(), None)}
            {select_field(Field::Game, "game", t.game, named(&data.games), i.game.clone())}
            {select_field(Field::Channel, "channel", t.channel, named(&data.channels), i.channel.clone())}
            {select_field(Field::Campaign, "campaign", t.campaign, campaigns, i.campaign.clone())}
            {select_field(Field::Country, "country", t.country, named(&data.countries), i.country.clone())}
            {select_field(Field::Vendor, "vendor", t.vendor, named(&data.vendors), i.vendor.clone())}
            {select_field(Field::CostType, "cost_type", t.cost_type, cost_types, i.cost_type.clone())}
            {select_field(Field::Currency, "currency", t.currency, currencies, i.currency.clone())}
            {text_field(Field::Amount, "amount", t.amount, "text", i.amount.clone(), Some(t.amount_hint))}
            {text_field(Field::Units, "units", t.units, "text", i.units.clone(), Some(t.units_hint))}
            {text_field(Field::InvoiceNumber, "invoice_number", t.invoice_number, "text", i.invoice_number.clone(), None)}
            <div class="field">
                <label for="cost-corrects">{t.corrects}</label>
                <input id="cost-corrects" type="number" min="1" step="1" name="form[corrects]"
                    value=i.corrects.map(|c| c.to_string()) disabled=read_only aria-describedby="cost-corrects-msg"
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| f.corrects = v.trim().parse().ok());
                        touched.update(|t| if !t.contains(&Field::Corrects) { t.push(Field::Corrects) });
                    }/>
                <div id="cost-corrects-msg" class="field-messages">
                    <p class="hint">{t.corrects_hint}</p>
                    {field_messages(Field::Corrects)}
                </div>
            </div>
            <div class="field field-wide">
                <label for="cost-memo">{t.memo}</label>
                <input id="cost-memo" type="text" name="form[memo]" value=i.memo.clone() disabled=read_only maxlength="500"
                    on:input=move |ev| form.update(|f| f.memo = event_target_value(&ev))/>
            </div>
            <div class="field field-check">
                <input id="cost-vat" type="checkbox" name="form[vat_included]" value="true" checked=i.vat_included disabled=read_only
                    on:change=move |ev| form.update(|f| f.vat_included = event_target_checked(&ev))/>
                <label for="cost-vat">{t.vat_included}</label>
            </div>
            <div class="form-actions" aria-live="polite">
                <div>
                    {move || other_error().map(|m| view! { <p class="alert alert-error" role="alert">{m}</p> })}
                    {move || stale().map(|(v, changed)| view! {
                        <p class="alert alert-error">"v" {v} " · " {(t.stale_changed)(&changed.join(", "))}</p>
                    })}
                    {move || {
                        let codes = warnings();
                        (!codes.is_empty()).then(|| view! {
                            <label class="acknowledge">
                                <input type="checkbox" name="acknowledge" value=codes.join(",")/>
                                " " {t.acknowledge}
                            </label>
                        })
                    }}
                </div>
                <div class="button-row">
                    <a href="/costs" class="btn btn-quiet">{t.cancel}</a>
                    {(!read_only).then(|| view! {
                        <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>{t.save}</button>
                    })}
                </div>
            </div>
        </PostForm>
    }
}

fn set_field(f: &mut CostForm, name: &str, v: String) {
    match name {
        "date" => f.date = v,
        "game" => f.game = v,
        "channel" => f.channel = v,
        "campaign" => f.campaign = v,
        "country" => f.country = v,
        "vendor" => f.vendor = v,
        "cost_type" => f.cost_type = v,
        "currency" => f.currency = v,
        "amount" => f.amount = v,
        "units" => f.units = v,
        "invoice_number" => f.invoice_number = v,
        _ => {}
    }
}

/// Delete (marketers and admins) or restore (admins) an entry.
#[component]
fn EntryActions(record: CostRecord, can_edit: bool) -> impl IntoView {
    let t = use_texts();
    let delete = ServerAction::<DeleteCost>::new();
    let restore = ServerAction::<RestoreCost>::new();
    let is_admin = crate::shell::use_me().is_some_and(|m| m.role == domain::Role::Admin);
    view! {
        {(can_edit && !record.deleted).then(|| view! {
            <ActionForm action=delete attr:class="inline entry-action">
                <input type="hidden" name="id" value=record.id/>
                <input type="hidden" name="version" value=record.version/>
                <button type="submit" class="btn btn-danger">{t.delete_entry}</button>
            </ActionForm>
            <crate::components::FormAlert action=delete/>
        })}
        {(record.deleted && is_admin).then(|| view! {
            <p class="alert alert-info" role="status">{t.deleted_entry}</p>
            <ActionForm action=restore attr:class="inline entry-action">
                <input type="hidden" name="id" value=record.id/>
                <button type="submit" class="btn">{t.restore}</button>
            </ActionForm>
            <crate::components::FormAlert action=restore success=t.saved/>
        })}
    }
}

#[component]
fn History(lines: Vec<crate::shared::HistoryLine>) -> impl IntoView {
    let t = use_texts();
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">{t.history}</h2>
            <crate::costs::periods::HistoryList lines/>
        </section>
    }
}
