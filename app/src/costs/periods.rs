//! Closing and reopening months (admins). A closed month refuses every change to its entries.

use super::{CloseMonth, ReopenMonth, list_periods};
use crate::components::FormAlert;
use crate::i18n::use_texts;
use crate::shared::HistoryLine;
use leptos::prelude::*;

#[component]
pub fn PeriodsPage() -> impl IntoView {
    let t = use_texts();
    let close = ServerAction::<CloseMonth>::new();
    let reopen = ServerAction::<ReopenMonth>::new();
    let periods = Resource::new_blocking(move || (close.version().get(), reopen.version().get()), |_| list_periods());
    view! {
        <header class="page-head">
            <h1>{t.periods_title}</h1>
            <p class="muted">{t.periods_intro}</p>
        </header>
        <FormAlert action=close success=t.saved/>
        <FormAlert action=reopen success=t.saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let lines = match periods.await {
                    Ok(lines) => lines,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">{t.month}</th>
                                    <th scope="col">{t.status}</th>
                                    <th scope="col">{t.history}</th>
                                    <th scope="col">{t.actions}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {lines.into_iter().map(|p| {
                                    let month = p.month.clone();
                                    view! {
                                        <tr>
                                            <th scope="row">{p.month.clone()}</th>
                                            <td>
                                                <span class=if p.closed { "status status-off" } else { "status status-ok" }>
                                                    {if p.closed { t.closed } else { t.open }}
                                                </span>
                                            </td>
                                            <td><HistoryList lines=p.history/></td>
                                            <td>
                                                {if p.closed {
                                                    view! {
                                                        <ActionForm action=reopen attr:class="inline">
                                                            <input type="hidden" name="month" value=month.clone()/>
                                                            <label class="visually-hidden" for=format!("reason-{month}")>{(t.reopen_reason_for)(&month)}</label>
                                                            <input id=format!("reason-{month}") name="reason" type="text" required placeholder=t.reopen_reason/>
                                                            <button type="submit" class="btn btn-small">{(t.reopen)(&month)}</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                } else {
                                                    view! {
                                                        <ActionForm action=close attr:class="inline">
                                                            <input type="hidden" name="month" value=month.clone()/>
                                                            <button type="submit" class="btn btn-small btn-danger">{(t.close)(&month)}</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
pub fn HistoryList(lines: Vec<HistoryLine>) -> impl IntoView {
    view! {
        <ul class="history">
            {lines.into_iter().map(|l| view! {
                <li>
                    <time>{l.at}</time> " · " <strong>{l.action}</strong> " · " {l.actor}
                    {l.reason.map(|r| view! { " · “" {r} "”" })}
                </li>
            }).collect_view()}
        </ul>
    }
}
