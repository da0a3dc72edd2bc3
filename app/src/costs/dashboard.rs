//! The home page for people who work with costs: this month's spend against budget per game and
//! channel (an SVG chart drawn on the server), what needs attention (campaigns over budget, imports
//! waiting to be fixed) and which recent months are open or closed.

use crate::error::AppError;
use crate::i18n::use_texts;
use crate::poc::charts::{Bar, BarChart};
use domain::{Currency, format_amount};
use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardData {
    pub month: String,
    pub reporting_currency: Currency,
    /// How much of the month has passed, in percent.
    pub elapsed_pct: i64,
    /// Spend and budget per game and channel this month.
    pub spend: Vec<SpendLine>,
    /// Campaigns whose spend this month is past their budget.
    pub over_budget: Vec<SpendLine>,
    /// Imports uploaded and not yet committed (the caller's own; an admin's sees everyone's).
    pub drafts: Vec<DraftLine>,
    /// The last six months, newest first, and whether each is closed.
    pub months: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendLine {
    pub label: String,
    pub budget: Option<i64>,
    pub actual: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftLine {
    pub id: i64,
    pub file_name: String,
    pub owner: String,
    pub changed_on: String,
}

#[server(endpoint = "costs/dashboard", output = crate::codec::Json)]
pub async fn dashboard() -> Result<DashboardData, AppError> {
    use domain::Role;
    use store::costs::YearMonth;
    let caller = authorize(Access::AtLeast(Role::Viewer)).await?;
    let user = caller.user()?;
    let db = &caller.state.db;
    let today = caller.state.today();
    let month = YearMonth::of(today);
    let lines = db.budget_vs_actual(month).await?;
    let mut spend: Vec<SpendLine> = Vec::new();
    for l in &lines {
        let label = format!("{} / {}", l.game, l.channel);
        match spend.iter_mut().find(|s| s.label == label) {
            Some(s) => {
                s.actual = s.actual.saturating_add(l.actual);
                s.budget = match (s.budget, l.budget) {
                    (Some(a), Some(b)) => Some(a.saturating_add(b)),
                    (a, b) => a.or(b),
                };
            }
            None => spend.push(SpendLine { label, budget: l.budget, actual: l.actual }),
        }
    }
    spend.sort_by(|a, b| b.actual.cmp(&a.actual).then_with(|| a.label.cmp(&b.label)));
    let over_budget = lines
        .iter()
        .filter(|l| l.budget.is_some_and(|b| l.actual > b))
        .map(|l| SpendLine { label: format!("{} ({})", l.name, l.campaign), budget: l.budget, actual: l.actual })
        .collect();
    let drafts = if user.role.includes(Role::Marketer) {
        let owner = (!user.role.includes(Role::Admin)).then_some(user.id);
        db.open_drafts(owner)
            .await?
            .into_iter()
            .map(|(id, file_name, owner, at)| DraftLine { id, file_name, owner, changed_on: at.date().to_string() })
            .collect()
    } else {
        Vec::new()
    };
    let closed = db.closed_months().await?;
    let mut months = Vec::new();
    let mut m = month;
    for _ in 0..6 {
        months.push((m.to_string(), closed.contains(&m)));
        m = YearMonth::of(m.first_day() - time::Duration::days(1));
    }
    let days = (month.next().first_day() - month.first_day()).whole_days();
    Ok(DashboardData {
        month: month.to_string(),
        reporting_currency: caller.state.costs.reporting_currency,
        elapsed_pct: i64::from(today.day()) * 100 / days,
        spend,
        over_budget,
        drafts,
        months,
    })
}

/// The dashboard, for the home page.
#[component]
pub fn DashboardView() -> impl IntoView {
    let t = use_texts();
    let d = t.dashboard;
    let data = Resource::new_blocking(|| (), |_| dashboard());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let r = match data.await {
                    Ok(r) => r,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let cur = r.reporting_currency;
                let unit: &'static str = if cur == Currency::KRW { "KRW" } else { "" };
                let money = move |v: i64| format!("{} {cur}", format_amount(v, cur));
                let bars: Vec<Bar> = r.spend.iter().map(|s| {
                    let over = s.budget.is_some_and(|b| s.actual > b);
                    let of_budget = s.budget.map_or_else(|| d.no_budget.to_owned(), |b| format!("{} {}", d.of_budget, money(b)));
                    Bar {
                        label: s.label.clone(),
                        value: Some(major(s.actual, cur)),
                        class: if over { "failed".into() } else { "sys-0".into() },
                        title: format!("{}: {} {of_budget}", s.label, money(s.actual)),
                        note: "",
                    }
                }).collect();
                view! {
                    <section class="card" aria-labelledby="dash-spend">
                        <h2 id="dash-spend">{d.spend_title} " " {r.month.clone()}</h2>
                        <p class="muted">{(t.month_elapsed)(&r.elapsed_pct)}</p>
                        {if bars.is_empty() {
                            view! { <p>{d.no_spend}</p> }.into_any()
                        } else {
                            view! { <BarChart bars caption=format!("{} {}", d.spend_title, r.month) unit=unit/> }.into_any()
                        }}
                        <div class="table-wrap">
                            <table class="table table-compact">
                                <thead><tr>
                                    <th scope="col">{d.game_channel}</th>
                                    <th scope="col" class="num">{d.spent}</th>
                                    <th scope="col" class="num">{d.budget}</th>
                                    <th scope="col" class="num">"%"</th>
                                </tr></thead>
                                <tbody>
                                    {r.spend.iter().map(|s| view! {
                                        <tr>
                                            <th scope="row">{s.label.clone()}</th>
                                            <td class="num">{money(s.actual)}</td>
                                            <td class="num">{s.budget.map(money).unwrap_or_else(|| "—".into())}</td>
                                            <td class="num">{s.budget.filter(|b| *b > 0).map(|b| (s.actual.saturating_mul(100) / b).to_string()).unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <p><A href="/costs/budgets">{t.budgets_title}</A></p>
                    </section>
                    <section class="card" aria-labelledby="dash-attention">
                        <h2 id="dash-attention">{d.attention}</h2>
                        {(r.over_budget.is_empty() && r.drafts.is_empty()).then(|| view! { <p>{d.nothing_waits}</p> })}
                        <ul>
                            {r.over_budget.iter().map(|s| view! {
                                <li class="warning">{d.over_budget} " " <strong>{s.label.clone()}</strong> ": "
                                    {money(s.actual)} " / " {s.budget.map(money).unwrap_or_default()}</li>
                            }).collect_view()}
                            {r.drafts.clone().into_iter().map(|dr| view! {
                                <li>{d.import_waiting} " " <A href=format!("/costs/import/{}", dr.id)>{dr.file_name}</A>
                                    " · " {dr.owner} " · " {dr.changed_on}</li>
                            }).collect_view()}
                        </ul>
                    </section>
                    <section class="card" aria-labelledby="dash-months">
                        <h2 id="dash-months">{d.months}</h2>
                        <ul class="months">
                            {r.months.iter().map(|(m, closed)| view! {
                                <li>{m.clone()} " " <span class=if *closed { "status" } else { "status status-ok" }>
                                    {if *closed { d.closed } else { d.open }}</span></li>
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// Minor units as a number of major units, for the chart's scale.
fn major(minor: i64, cur: Currency) -> f64 {
    minor as f64 / cur.scale() as f64
}
