//! Master data: games, channels, vendors and countries (admins change them), campaigns (marketers
//! and admins). Everyone who reads costs can see them.

use super::{CostTypeChoice, FormData, SaveCampaign, SaveCode, SaveCostType, SaveCurrency, cost_form_data};
use crate::components::FormAlert;
use crate::i18n::{Texts, use_texts};
use crate::shared::Choice;
use crate::shell::use_me;
use domain::Role;
use leptos::prelude::*;

#[component]
pub fn MasterDataPage() -> impl IntoView {
    let t = use_texts();
    let save_code = ServerAction::<SaveCode>::new();
    let save_campaign = ServerAction::<SaveCampaign>::new();
    let save_type = ServerAction::<SaveCostType>::new();
    let save_currency = ServerAction::<SaveCurrency>::new();
    let data = Resource::new_blocking(
        move || {
            (
                save_code.version().get(),
                save_campaign.version().get(),
                save_type.version().get(),
                save_currency.version().get(),
            )
        },
        |_| cost_form_data(),
    );
    let is_admin = use_me().is_some_and(|m| m.role.includes(Role::Admin));
    view! {
        <header class="page-head">
            <p><a href="/costs">{t.section(domain::Section::Costs).0}</a></p>
            <h1>{t.master_title}</h1>
            <p class="muted">{t.master_intro}</p>
        </header>
        <FormAlert action=save_code success=t.saved/>
        <FormAlert action=save_campaign success=t.saved/>
        <FormAlert action=save_type success=t.saved/>
        <FormAlert action=save_currency success=t.saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let d: FormData = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <p class="alert alert-error" role="alert">{t.error(&e)}</p> }.into_any(),
                };
                let campaigns_editable = d.can_edit;
                let games = d.games.clone();
                let channels = d.channels.clone();
                let reporting = d.reporting_currency.code().to_owned();
                let types = d.cost_types.clone();
                let currencies = d.currencies.clone();
                view! {
                    <CampaignSection d=d.clone() editable=campaigns_editable save=save_campaign games channels/>
                    {[("games", t.game, d.games), ("channels", t.channel, d.channels), ("vendors", t.vendor, d.vendors), ("countries", t.country, d.countries)]
                        .into_iter()
                        .map(|(kind, label, rows)| view! { <CodeSection kind label rows editable=is_admin save=save_code/> })
                        .collect_view()}
                    <CostTypeSection types reporting editable=is_admin save=save_type/>
                    <CurrencySection currencies editable=is_admin save=save_currency/>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn CodeSection(
    kind: &'static str,
    label: &'static str,
    rows: Vec<Choice>,
    editable: bool,
    save: ServerAction<SaveCode>,
) -> impl IntoView {
    let t: &'static Texts = use_texts();
    view! {
        <section class="card" aria-labelledby=format!("master-{kind}")>
            <h2 id=format!("master-{kind}")>{label}</h2>
            <table class="table table-compact">
                <thead><tr><th scope="col">{t.code}</th><th scope="col">{t.name}</th><th scope="col">{t.status}</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|c| view! {
                        <tr class:inactive=!c.active>
                            <td>{c.code}</td>
                            <td>{c.name}</td>
                            <td>{if c.active { t.active } else { t.inactive }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {editable.then(|| view! {
                <ActionForm action=save attr:class="form-grid master-form">
                    <input type="hidden" name="kind" value=kind/>
                    <div class="field">
                        <label for=format!("{kind}-code")>{t.code}</label>
                        <input id=format!("{kind}-code") name="code" type="text" required/>
                    </div>
                    <div class="field">
                        <label for=format!("{kind}-name")>{t.name}</label>
                        <input id=format!("{kind}-name") name="name" type="text" required/>
                    </div>
                    <div class="field field-check">
                        <input id=format!("{kind}-active") name="active" type="checkbox" value="true" checked=true/>
                        <label for=format!("{kind}-active")>{t.active}</label>
                    </div>
                    <div class="form-actions"><button type="submit" class="btn">{(t.add_or_change)(&label)}</button></div>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn CampaignSection(
    d: FormData,
    editable: bool,
    save: ServerAction<SaveCampaign>,
    games: Vec<Choice>,
    channels: Vec<Choice>,
) -> impl IntoView {
    let t = use_texts();
    let options = |rows: Vec<Choice>| {
        rows.into_iter()
            .filter(|c| c.active)
            .map(|c| view! { <option value=c.code.clone()>{format!("{} ({})", c.name, c.code)}</option> })
            .collect_view()
    };
    view! {
        <section class="card" aria-labelledby="master-campaigns">
            <h2 id="master-campaigns">{t.campaign}</h2>
            <table class="table table-compact">
                <thead>
                    <tr>
                        <th scope="col">{t.code}</th><th scope="col">{t.name}</th><th scope="col">{t.game}</th>
                        <th scope="col">{t.channel}</th><th scope="col">{t.flight}</th><th scope="col">{t.status}</th>
                    </tr>
                </thead>
                <tbody>
                    {d.campaigns.into_iter().map(|c| view! {
                        <tr class:inactive=!c.info.active>
                            <td>{c.code}</td>
                            <td>{c.name}</td>
                            <td>{c.info.game}</td>
                            <td>{c.info.channel}</td>
                            <td>{format!("{} – {}", c.info.flight_start, c.info.flight_end)}</td>
                            <td>{if c.info.active { t.active } else { t.inactive }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {editable.then(|| view! {
                <ActionForm action=save attr:class="form-grid master-form">
                    <div class="field"><label for="campaign-code">{t.code}</label><input id="campaign-code" name="code" type="text" required/></div>
                    <div class="field"><label for="campaign-name">{t.name}</label><input id="campaign-name" name="name" type="text" required/></div>
                    <div class="field"><label for="campaign-game">{t.game}</label><select id="campaign-game" name="game">{options(games)}</select></div>
                    <div class="field"><label for="campaign-channel">{t.channel}</label><select id="campaign-channel" name="channel">{options(channels)}</select></div>
                    <div class="field"><label for="campaign-start">{t.flight_start}</label><input id="campaign-start" name="flight_start" type="date" required/></div>
                    <div class="field"><label for="campaign-end">{t.flight_end}</label><input id="campaign-end" name="flight_end" type="date" required/></div>
                    <div class="field field-check">
                        <input id="campaign-active" name="active" type="checkbox" value="true" checked=true/>
                        <label for="campaign-active">{t.active}</label>
                    </div>
                    <div class="form-actions"><button type="submit" class="btn">{(t.add_or_change)(&t.campaign)}</button></div>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn CostTypeSection(
    types: Vec<CostTypeChoice>,
    reporting: String,
    editable: bool,
    save: ServerAction<SaveCostType>,
) -> impl IntoView {
    let t = use_texts();
    let cur = domain::Currency::from_code(&reporting).unwrap_or(domain::Currency::KRW);
    view! {
        <section class="card" aria-labelledby="master-cost-types">
            <h2 id="master-cost-types">{t.cost_type}</h2>
            <table class="table table-compact">
                <thead>
                    <tr>
                        <th scope="col">{t.code}</th><th scope="col">{t.name}</th><th scope="col">{t.unit_priced}</th>
                        <th scope="col">{t.plausible_band} " (" {reporting.clone()} ")"</th><th scope="col">{t.status}</th>
                    </tr>
                </thead>
                <tbody>
                    {types.into_iter().map(|c| view! {
                        <tr class:inactive=!c.info.active>
                            <td>{c.code}</td>
                            <td>{c.name}</td>
                            <td>{if c.info.unit_priced { "✓" } else { "" }}</td>
                            <td>{c.info.per_mille_band.map(|(lo, hi)| format!("{} – {}", domain::format_amount(lo, cur), domain::format_amount(hi, cur)))}</td>
                            <td>{if c.info.active { t.active } else { t.inactive }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {editable.then(|| view! {
                <ActionForm action=save attr:class="form-grid master-form">
                    <div class="field"><label for="type-code">{t.code}</label><input id="type-code" name="code" type="text" required/></div>
                    <div class="field"><label for="type-name">{t.name}</label><input id="type-name" name="name" type="text" required/></div>
                    <div class="field"><label for="type-min">{t.band_min}</label><input id="type-min" name="band_min" type="text" inputmode="decimal"/></div>
                    <div class="field"><label for="type-max">{t.band_max}</label><input id="type-max" name="band_max" type="text" inputmode="decimal"/></div>
                    <div class="field field-check">
                        <input id="type-unit" name="unit_priced" type="checkbox" value="true"/>
                        <label for="type-unit">{t.unit_priced}</label>
                    </div>
                    <div class="field field-check">
                        <input id="type-active" name="active" type="checkbox" value="true" checked=true/>
                        <label for="type-active">{t.active}</label>
                    </div>
                    <div class="form-actions"><button type="submit" class="btn">{(t.add_or_change)(&t.cost_type)}</button></div>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn CurrencySection(currencies: Vec<Choice>, editable: bool, save: ServerAction<SaveCurrency>) -> impl IntoView {
    let t = use_texts();
    let in_use: Vec<String> = currencies.iter().filter(|c| c.active).map(|c| c.code.clone()).collect();
    view! {
        <section class="card" aria-labelledby="master-currencies">
            <h2 id="master-currencies">{t.currency}</h2>
            <p>{t.currencies_in_use} " " <strong>{in_use.join(", ")}</strong></p>
            {editable.then(|| view! {
                <ActionForm action=save attr:class="form-grid master-form">
                    <div class="field"><label for="currency-code">{t.code}</label><input id="currency-code" name="code" type="text" required maxlength="3"/></div>
                    <div class="field field-check">
                        <input id="currency-active" name="active" type="checkbox" value="true" checked=true/>
                        <label for="currency-active">{t.active}</label>
                    </div>
                    <div class="form-actions"><button type="submit" class="btn">{(t.add_or_change)(&t.currency)}</button></div>
                </ActionForm>
            })}
        </section>
    }
}
