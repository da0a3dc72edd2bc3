//! The cost list: filters in the URL (a plain GET form, so it works without JavaScript), keyset
//! pages, and the total of everything the filters match in the reporting currency.

use super::{CostQuery, FormData, cost_form_data, list_costs};
use crate::i18n::{Texts, use_texts};
use crate::shared::Choice;
use domain::format_amount;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The orders the list offers, as named in URLs (the store's `CostOrder`), in the order of `Texts::orders`.
const ORDERS: [&str; 4] = ["newest", "oldest", "largest", "smallest"];

fn query_string(q: &CostQuery, after: Option<&str>) -> String {
    let pairs = [
        ("month", q.month.as_str()),
        ("game", &q.game),
        ("channel", &q.channel),
        ("campaign", &q.campaign),
        ("country", &q.country),
        ("vendor", &q.vendor),
        ("cost_type", &q.cost_type),
        ("order", &q.order),
        ("after", after.unwrap_or("")),
    ];
    let mut out = String::new();
    for (k, v) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&crate::url::query_value(v));
    }
    out
}

#[component]
pub fn CostListPage() -> impl IntoView {
    let t = use_texts();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        let get = |k: &str| p.get(k).unwrap_or_default();
        CostQuery {
            month: get("month"),
            game: get("game"),
            channel: get("channel"),
            campaign: get("campaign"),
            country: get("country"),
            vendor: get("vendor"),
            cost_type: get("cost_type"),
            order: get("order"),
            after: get("after"),
        }
    });
    let page = Resource::new_blocking(move || query.get(), list_costs);
    let data = Resource::new_blocking(|| (), |_| cost_form_data());
    let (title, intro) = t.section(domain::Section::Costs);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let data = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let q = query.get_untracked();
                let results = match page.await {
                    Ok(p) => view! { <CostTable page=p query=q.clone()/> }.into_any(),
                    Err(e) => view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                view! {
                    <header class="page-head page-head-row">
                        <div>
                            <h1>{title}</h1>
                            <p class="muted">{intro}</p>
                        </div>
                        <div class="button-row">
                            <a class="btn" href="/costs/budgets">{t.budgets_title}</a>
                            <a class="btn" href="/costs/rates">{t.rates_title}</a>
                            <a class="btn" href="/costs/master">{t.master_title}</a>
                            {data.can_edit.then(|| view! { <a class="btn" href="/costs/import">{t.import_title}</a> })}
                            {data.can_edit.then(|| view! { <a class="btn btn-primary" href="/costs/new">{t.new_cost}</a> })}
                        </div>
                    </header>
                    <Filters data q=q.clone()/>
                    {(!q.month.is_empty()).then(|| {
                        let month = q.month.clone();
                        view! {
                            <p class="downloads">
                                {(t.export_month)(&month)} " "
                                <a href=format!("/costs/export?month={month}&format=csv") rel="external" download="">"CSV"</a>
                                " · "
                                <a href=format!("/costs/export?month={month}&format=jsonl") rel="external" download="">"JSON Lines"</a>
                            </p>
                        }
                    })}
                    {results}
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Filters(data: FormData, q: CostQuery) -> impl IntoView {
    let t = use_texts();
    let select = |name: &'static str, label: &'static str, choices: Vec<Choice>, current: String| {
        view! {
            <div class="field">
                <label for=format!("filter-{name}")>{label}</label>
                <select id=format!("filter-{name}") name=name>
                    <option value="">{t.any}</option>
                    {choices.into_iter().map(|c| {
                        let selected = c.code == current;
                        let label = format!("{} ({})", c.name, c.code);
                        view! { <option value=c.code selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let campaigns = data
        .campaigns
        .iter()
        .map(|c| Choice { code: c.code.clone(), name: c.name.clone(), active: c.info.active })
        .collect();
    let cost_types = data
        .cost_types
        .iter()
        .map(|c| Choice { code: c.code.clone(), name: c.name.clone(), active: c.info.active })
        .collect();
    view! {
        <form method="get" action="/costs" class="card filters" aria-label=t.filters>
            <div class="field">
                <label for="filter-month">{t.month}</label>
                <input id="filter-month" name="month" type="month" value=q.month.clone() placeholder="YYYY-MM"/>
            </div>
            {select("game", t.game, data.games, q.game.clone())}
            {select("channel", t.channel, data.channels, q.channel.clone())}
            {select("campaign", t.campaign, campaigns, q.campaign.clone())}
            {select("country", t.country, data.countries, q.country.clone())}
            {select("vendor", t.vendor, data.vendors, q.vendor.clone())}
            {select("cost_type", t.cost_type, cost_types, q.cost_type.clone())}
            <div class="field">
                <label for="filter-order">{t.sort_by}</label>
                <select id="filter-order" name="order">
                    {ORDERS.into_iter().zip(t.orders).map(|(value, label)| {
                        let selected = q.order == value || (q.order.is_empty() && value == ORDERS[0]);
                        view! { <option value=value selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="form-actions">
                <a href="/costs" class="btn btn-quiet">{t.clear_filters}</a>
                <button type="submit" class="btn">{t.apply_filters}</button>
            </div>
        </form>
    }
}

#[component]
fn CostTable(page: super::CostPageView, query: CostQuery) -> impl IntoView {
    let t: &'static Texts = use_texts();
    if page.rows.is_empty() {
        return view! { <p class="card empty-state">{t.no_costs}</p> }.into_any();
    }
    let rep = page.reporting_currency;
    let next = page.next_after.as_deref().map(|after| format!("/costs{}", query_string(&query, Some(after))));
    view! {
        <div class="table-wrap">
            <table class="table table-compact">
                <thead>
                    <tr>
                        <th scope="col">{t.date}</th>
                        <th scope="col">{t.channel}</th>
                        <th scope="col">{t.campaign}</th>
                        <th scope="col">{t.country}</th>
                        <th scope="col">{t.vendor}</th>
                        <th scope="col">{t.cost_type}</th>
                        <th scope="col" class="num">{t.amount}</th>
                        <th scope="col" class="num">{t.units}</th>
                        <th scope="col" class="num">{t.reporting_amount} " (" {rep.code().to_owned()} ")"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|r| {
                        let e = r.entry;
                        view! {
                            <tr>
                                <td><a href=format!("/costs/{}", r.id)>{e.date.to_string()}</a></td>
                                <td>{e.channel}</td>
                                <td>{e.campaign}</td>
                                <td>{e.country}</td>
                                <td>{e.vendor}</td>
                                <td>{e.cost_type}</td>
                                <td class="num">{e.amount.to_string()}</td>
                                <td class="num">{e.units.map(|u| format_amount(u, domain::Currency::KRW))}</td>
                                <td class="num">{format_amount(e.reporting_minor, rep)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan="8">{(t.entries_total)(&page.total_count)}</th>
                        <td class="num"><strong>{format_amount(page.total_reporting_minor, rep)}</strong></td>
                    </tr>
                </tfoot>
            </table>
        </div>
        {next.map(|href| view! { <p class="pager"><a class="btn" href=href rel="next">{t.next_page}</a></p> })}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters_and_escape_them() {
        let q =
            CostQuery { month: "2026-11".into(), country: "KR".into(), campaign: "A B&C".into(), ..Default::default() };
        assert_eq!(
            query_string(&q, Some("2026-11-02.41")),
            "?month=2026-11&campaign=A%20B%26C&country=KR&after=2026-11-02.41"
        );
        let q = CostQuery { order: "smallest".into(), ..Default::default() };
        assert_eq!(query_string(&q, Some("-150000.7")), "?order=smallest&after=-150000.7");
        assert_eq!(query_string(&CostQuery::default(), None), "");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn offered_orders_are_the_stores() {
        let names: Vec<_> = store::costs::CostOrder::ALL.into_iter().map(|o| o.as_str()).collect();
        assert_eq!(names, ORDERS);
    }
}
