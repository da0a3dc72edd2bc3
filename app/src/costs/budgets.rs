//! Budget against actual per campaign and month, with how much of each budget is burnt.

use super::{BudgetRow, SetBudget, budget_report};
use crate::components::FormAlert;
use crate::i18n::use_texts;
use domain::{Currency, format_amount};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BudgetsPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let set = ServerAction::<SetBudget>::new();
    let report = Resource::new_blocking(
        move || (query.read().get("month").unwrap_or_default(), set.version().get()),
        |(month, _)| budget_report(month),
    );
    view! {
        <header class="page-head">
            <p><a href="/costs">{t.section(domain::Section::Costs).0}</a></p>
            <h1>{t.budgets_title}</h1>
            <p class="muted">{t.budgets_intro}</p>
        </header>
        <FormAlert action=set success=t.saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let r = match report.await {
                    Ok(r) => r,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let (cur, month, can_edit, elapsed) = (r.reporting_currency, r.month.clone(), r.can_edit, r.elapsed_pct);
                let changes = r.changes;
                view! {
                    <form method="get" action="/costs/budgets" class="card filters" aria-label=t.filters>
                        <div class="field">
                            <label for="budget-month">{t.month}</label>
                            <input id="budget-month" name="month" type="month" value=month.clone()/>
                        </div>
                        <div class="form-actions"><button type="submit" class="btn">{t.apply_filters}</button></div>
                    </form>
                    {elapsed.map(|p| view! { <p class="muted">{(t.month_elapsed)(&p)}</p> })}
                    <div class="table-wrap">
                        <table class="table table-compact">
                            <thead>
                                <tr>
                                    <th scope="col">{t.campaign}</th>
                                    <th scope="col" class="num">{t.budget} " (" {cur.code().to_owned()} ")"</th>
                                    <th scope="col" class="num">{t.actual}</th>
                                    <th scope="col">{t.burn}</th>
                                    {can_edit.then(|| view! { <th scope="col">{t.set_budget}</th> })}
                                </tr>
                            </thead>
                            <tbody>
                                {r.lines.into_iter().map(|line| view! {
                                    <BudgetLine line cur month=month.clone() can_edit elapsed set/>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <section class="card" aria-labelledby="budget-changes">
                        <h2 id="budget-changes">{t.budget_changes}</h2>
                        {if changes.is_empty() {
                            view! { <p class="muted">{t.no_budget_changes}</p> }.into_any()
                        } else {
                            let amount = move |a: Option<i64>| a.map(|a| format_amount(a, cur)).unwrap_or_else(|| "—".into());
                            view! {
                                <table class="table table-compact">
                                    <thead>
                                        <tr>
                                            <th scope="col">{t.audit_when}</th>
                                            <th scope="col">{t.audit_actor}</th>
                                            <th scope="col">{t.campaign}</th>
                                            <th scope="col" class="num">{t.audit_before}</th>
                                            <th scope="col" class="num">{t.audit_after}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {changes.into_iter().map(|c| view! {
                                            <tr>
                                                <td>{c.at}</td>
                                                <td>{c.actor}</td>
                                                <td>{c.campaign}</td>
                                                <td class="num">{amount(c.before)}</td>
                                                <td class="num">{amount(Some(c.after))}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    </section>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn BudgetLine(
    line: BudgetRow,
    cur: Currency,
    month: String,
    can_edit: bool,
    elapsed: Option<i64>,
    set: ServerAction<SetBudget>,
) -> impl IntoView {
    let t = use_texts();
    let over = line.burn_pct.is_some_and(|p| p > 100);
    let ahead = !over && line.burn_pct.zip(elapsed).is_some_and(|(burn, time)| burn > time + 10);
    let status = match (line.budget, over, ahead) {
        (None, ..) => t.no_budget,
        (_, true, _) => t.over_budget,
        (_, false, true) => t.ahead_of_pace,
        _ => t.on_track,
    };
    let width = line.burn_pct.unwrap_or(0).clamp(0, 100);
    let input_id = format!("budget-{}", line.campaign);
    view! {
        <tr class:over=over>
            <th scope="row">{line.name.clone()} <span class="muted">" " {line.campaign.clone()}</span></th>
            <td class="num">{line.budget.map(|b| format_amount(b, cur)).unwrap_or_else(|| "—".into())}</td>
            <td class="num">{format_amount(line.actual, cur)}</td>
            <td>
                <div class="burn" role="img" aria-label=format!("{}%", line.burn_pct.unwrap_or(0))>
                    <span class="burn-bar" class:burn-over=over style=format!("width: {width}%")></span>
                </div>
                <span class="burn-label" class:status-over=over>
                    {line.burn_pct.map(|p| format!("{p}% · ")).unwrap_or_default()} {status}
                </span>
            </td>
            {can_edit.then(|| view! {
                <td>
                    <ActionForm action=set attr:class="inline">
                        <input type="hidden" name="campaign" value=line.campaign.clone()/>
                        <input type="hidden" name="month" value=month.clone()/>
                        <label class="visually-hidden" for=input_id.clone()>{(t.set_budget_for)(&line.campaign)}</label>
                        <input id=input_id name="amount" type="text" inputmode="decimal" class="input-small"
                            value=line.budget.map(|b| format_amount(b, cur))/>
                        <button type="submit" class="btn btn-small">{t.save}</button>
                    </ActionForm>
                </td>
            })}
        </tr>
    }
}
