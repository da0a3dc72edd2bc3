//! The audit trail across MCMS (admins): who changed what, when, filtered by kind, person and action.

use crate::error::AppError;
use crate::i18n::use_texts;
#[cfg(feature = "ssr")]
use domain::Role;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};

/// The filters as they travel in the page's query string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub entity: String,
    pub actor: String,
    pub action: String,
    pub before: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub reason: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    pub older: Option<i64>,
    pub actors: Vec<(i64, String)>,
}

pub const ENTITIES: [&str; 15] = [
    "user",
    "cost_entry",
    "period",
    "budget",
    "fx_rates",
    "master",
    "campaign",
    "import_batch",
    "partner",
    "api_key",
    "allowlist",
    "partner_stats",
    "poc",
    "poc_token",
    "poc_run",
];
pub const ACTIONS: [&str; 17] = [
    "create",
    "edit",
    "delete",
    "restore",
    "close",
    "reopen",
    "set",
    "import",
    "rollback",
    "issue",
    "rotate",
    "revoke",
    "load",
    "record",
    "role",
    "activate",
    "deactivate",
];

#[server(endpoint = "admin/audit", output = crate::codec::Json)]
pub async fn audit_log(#[server(default)] query: AuditQuery) -> Result<AuditPage, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    let number = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
        match text.trim() {
            "" => Ok(None),
            t => t.parse().map(Some).map_err(|_| AppError::invalid(field, "bad_request")),
        }
    };
    let pick = |text: &str, allowed: &[&str]| Some(text.trim().to_owned()).filter(|t| allowed.contains(&t.as_str()));
    let filter = store::audit::AuditFilter {
        entity: pick(&query.entity, &ENTITIES),
        actor_id: number("actor", &query.actor)?,
        action: pick(&query.action, &ACTIONS),
        before_id: number("before", &query.before)?,
    };
    const PAGE: i64 = 100;
    let records = db.audit_search(&filter, PAGE + 1).await?;
    let users = db.users().await?;
    let name = |id: i64| users.iter().find(|u| u.id == id).map_or_else(|| format!("#{id}"), |u| u.email.clone());
    let mut lines: Vec<AuditLine> = records
        .into_iter()
        .map(|a| AuditLine {
            id: a.id,
            at: format!("{} {:02}:{:02} UTC", a.at.date(), a.at.hour(), a.at.minute()),
            actor: name(a.actor_id),
            action: a.action,
            entity: a.entity,
            entity_id: a.entity_id,
            reason: a.reason,
            before: a.before,
            after: a.after,
        })
        .collect();
    let older = (lines.len() as i64 > PAGE).then(|| {
        lines.truncate(PAGE as usize);
        lines.last().map(|l| l.id)
    });
    Ok(AuditPage { lines, older: older.flatten(), actors: users.iter().map(|u| (u.id, u.email.clone())).collect() })
}

#[component]
pub fn AuditPageView() -> impl IntoView {
    let t = use_texts();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        AuditQuery {
            entity: p.get("entity").unwrap_or_default(),
            actor: p.get("actor").unwrap_or_default(),
            action: p.get("action").unwrap_or_default(),
            before: p.get("before").unwrap_or_default(),
        }
    });
    let page = Resource::new_blocking(move || query.get(), audit_log);
    view! {
        <header class="page-head">
            <h1>{t.audit_title}</h1>
            <p class="muted">{t.audit_intro}</p>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                let p = match page.await {
                    Ok(p) => p,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let options = |all: &[&'static str], current: &str| {
                    all.iter().map(|v| view! { <option value=*v selected=*v == current>{*v}</option> }).collect_view()
                };
                let older = p.older.map(|id| {
                    format!("/admin/audit?entity={}&actor={}&action={}&before={id}", q.entity, q.actor, q.action)
                });
                view! {
                    <form method="get" action="/admin/audit" class="card filters" aria-label=t.filters>
                        <div class="field">
                            <label for="audit-entity">{t.audit_entity}</label>
                            <select id="audit-entity" name="entity">
                                <option value="">{t.any}</option>
                                {options(&ENTITIES, &q.entity)}
                            </select>
                        </div>
                        <div class="field">
                            <label for="audit-actor">{t.audit_actor}</label>
                            <select id="audit-actor" name="actor">
                                <option value="">{t.any}</option>
                                {p.actors.iter().map(|(id, email)| {
                                    let selected = id.to_string() == q.actor;
                                    view! { <option value=id.to_string() selected=selected>{email.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="audit-action">{t.audit_action}</label>
                            <select id="audit-action" name="action">
                                <option value="">{t.any}</option>
                                {options(&ACTIONS, &q.action)}
                            </select>
                        </div>
                        <div class="form-actions">
                            <a href="/admin/audit" class="btn btn-quiet">{t.clear_filters}</a>
                            <button type="submit" class="btn">{t.apply_filters}</button>
                        </div>
                    </form>
                    <div class="table-wrap">
                        <table class="table table-compact audit">
                            <thead>
                                <tr>
                                    <th scope="col">{t.audit_when}</th>
                                    <th scope="col">{t.audit_actor}</th>
                                    <th scope="col">{t.audit_action}</th>
                                    <th scope="col">{t.audit_entity}</th>
                                    <th scope="col">{t.audit_change}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {p.lines.into_iter().map(|l| {
                                    let target = if l.entity == "cost_entry" {
                                        view! { <a href=format!("/costs/{}", l.entity_id)>{format!("{} #{}", l.entity, l.entity_id)}</a> }.into_any()
                                    } else {
                                        view! { <span>{format!("{} {}", l.entity, l.entity_id)}</span> }.into_any()
                                    };
                                    view! {
                                        <tr>
                                            <td>{l.at}</td>
                                            <td>{l.actor}</td>
                                            <td><strong>{l.action}</strong></td>
                                            <td>{target}</td>
                                            <td class="change">
                                                {l.reason.map(|r| view! { <p>"“" {r} "”"</p> })}
                                                {l.before.map(|b| view! { <details><summary>{t.audit_before}</summary><pre>{b}</pre></details> })}
                                                {l.after.map(|a| view! { <details><summary>{t.audit_after}</summary><pre>{a}</pre></details> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {older.map(|href| view! { <p class="pager"><a class="btn" href=href>{t.audit_older}</a></p> })}
                }
                .into_any()
            })}
        </Suspense>
    }
}
