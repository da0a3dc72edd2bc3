//! Exchange rates: the recent ones, and loading a rate file (admins).

use super::{ImportRates, SaveRate, list_rates};
use crate::components::{FormAlert, LoadOutcome};
use crate::i18n::use_texts;
use leptos::prelude::*;

#[component]
pub fn RatesPage() -> impl IntoView {
    let t = use_texts();
    let import = ServerAction::<ImportRates>::new();
    let save = ServerAction::<SaveRate>::new();
    let rates = Resource::new_blocking(move || (import.version().get(), save.version().get()), |_| list_rates());
    view! {
        <header class="page-head">
            <p><a href="/costs">{t.section(domain::Section::Costs).0}</a></p>
            <h1>{t.rates_title}</h1>
            <p class="muted">{t.rates_intro}</p>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let view = match rates.await {
                    Ok(v) => v,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let reporting = view.reporting_currency.code().to_owned();
                let currencies = view.currencies.clone();
                let rate_label = (t.rate_in)(&reporting);
                view! {
                    {view.can_import.then(|| view! {
                        <section class="card" aria-labelledby="one-rate">
                            <h2 id="one-rate">{t.rate_one}</h2>
                            <FormAlert action=save success=t.saved/>
                            <ActionForm action=save attr:class="form-grid">
                                <div class="field">
                                    <label for="rate-currency">{t.currency}</label>
                                    <select id="rate-currency" name="currency" required>
                                        {currencies.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="rate-date">{t.date}</label>
                                    <input id="rate-date" name="date" type="date" required/>
                                </div>
                                <div class="field">
                                    <label for="rate-rate">{rate_label}</label>
                                    <input id="rate-rate" name="rate" type="text" inputmode="decimal" required placeholder="1385.50"/>
                                </div>
                                <div class="field">
                                    <label for="rate-source">{t.source}</label>
                                    <input id="rate-source" name="source" type="text" required/>
                                </div>
                                <p class="hint">{t.rate_one_hint}</p>
                                <div class="form-actions"><button type="submit" class="btn">{t.save}</button></div>
                            </ActionForm>
                        </section>
                    })}
                    {view.can_import.then(|| view! {
                        <section class="card" aria-labelledby="import-rates">
                            <h2 id="import-rates">{t.rates_import}</h2>
                            <ActionForm action=import attr:class="stack">
                                <div class="field">
                                    <label for="rates-csv">{t.rates_csv}</label>
                                    <textarea id="rates-csv" name="csv" rows="6" class="mono" required
                                        placeholder="currency,date,rate,source\nUSD,2026-11-02,1385.50,Bank of Korea"></textarea>
                                    <p class="hint">{t.rates_hint}</p>
                                </div>
                                <LoadOutcome action=import stored=t.rates_loaded/>
                                <button type="submit" class="btn btn-primary">{t.rates_import}</button>
                            </ActionForm>
                        </section>
                    })}
                    <div class="table-wrap">
                        <table class="table table-compact">
                            <thead>
                                <tr>
                                    <th scope="col">{t.date}</th>
                                    <th scope="col">{t.currency}</th>
                                    <th scope="col" class="num">{(t.rate_in)(&reporting)}</th>
                                    <th scope="col">{t.source}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {view.lines.into_iter().map(|l| view! {
                                    <tr>
                                        <td>{l.date}</td>
                                        <td>{l.currency}</td>
                                        <td class="num">{l.rate}</td>
                                        <td>{l.source}</td>
                                    </tr>
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
