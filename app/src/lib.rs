//! The MCMS user interface: routes, pages and the server functions behind them.
//! Server-only code (database, sessions) sits behind the `ssr` feature.

// The server and the browser must render the same tree, or hydration fails in the browser
// ("failed_to_cast_marker_node"): both erase component types. .cargo/config.toml sets the flag for
// every build; a RUSTFLAGS variable replaces that list, so say so instead of building a mismatch.
#[cfg(not(erase_components))]
compile_error!(
    "MCMS builds with `--cfg erase_components` on the server and in the browser (.cargo/config.toml). \
     RUSTFLAGS in the environment replaces the configured flags: add `--cfg erase_components` to it."
);

pub mod admin;
pub mod auth;
pub mod codec;
mod components;
pub mod costs;
pub mod error;
pub mod i18n;
pub mod ingest;
pub mod models;
pub mod partners;
pub mod pipelines;
pub mod poc;
pub mod post;
mod shared;
mod shell;
#[cfg(feature = "ssr")]
pub mod state;
pub mod url;

use crate::i18n::{page_lang, use_texts};
use crate::shell::{RequireRole, Shell, set_status};
use domain::{Role, Section};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{A, ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

#[cfg(feature = "ssr")]
pub use state::AppState;

/// The browser's entry: the page is server-rendered HTML, and only its islands (`#[island]`
/// components: the cost form, the importer, the key console …) hydrate. Islands cannot see the
/// server's context, so what they share is provided here, once, from the page itself: its
/// language (`<html lang>`) and the outcome of a form posted before the page hydrated (`__err`,
/// `__ok` in the URL, as the server read them). `islands.js` calls it, then each island.
#[cfg(feature = "hydrate")]
pub fn hydrate_islands() {
    leptos::mount::hydrate_islands();
    provide_context(i18n::page_lang());
    let search = window().location().search().unwrap_or_default();
    if let Ok(query) = web_sys::UrlSearchParams::new_with_str(&search) {
        if let (Some(path), Some(err)) = (query.get("__path"), query.get("__err")) {
            provide_context(leptos::server::ServerActionError::new(&path, &err));
        }
        provide_context(url::Flash(query.get(url::FLASH)));
    }
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = page_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="stylesheet" href="/pkg/mcms.css"/>
                <link rel="icon" href="data:,"/>
                <IslandScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The smaller browser bundles of a release build, as the page script reads them: a JSON list of
/// `{"name": "cost-form", "islands": [island ids]}` (`pkg/mcms-cost-form.js`, `.wasm`), smallest
/// first, from the site's `pkg/bundles.json` (frontend/bundles; the server checks it when it
/// starts). Without it (debug builds) every page loads the whole bundle.
#[derive(Clone, Debug)]
pub struct Bundles(pub std::sync::Arc<str>);

/// The page's one script, in place of leptos' `HydrationScripts`: on a page with islands it
/// loads the smallest bundle holding them and hydrates them (`islands.js`); on a page without, it
/// loads nothing. (Leptos' own island script preloads and loads the whole bundle on every page.)
#[component]
fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    // As in islands mode: the page itself is not hydrated, so nothing outside an island is
    // serialised for the browser.
    if let Some(sc) = Owner::current_shared_context() {
        sc.set_is_hydrating(false);
    }
    let bundles = use_context::<Bundles>().map_or_else(|| "[]".into(), |b| b.0);
    let script = include_str!("islands.js")
        .replace("__DIR__", &format!("/{}", options.site_pkg_dir))
        .replace("__NAME__", &options.output_name)
        .replace("__BUNDLES__", &bundles);
    view! { <script type="module" nonce=leptos::nonce::use_nonce()>{script}</script> }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(page_lang());
    let t = use_texts();
    // Every route renders only once its data is loaded (SsrMode::Async), so a page is complete
    // without JavaScript and can still set its status or redirect.
    view! {
        // Every route names itself ("Budgets · MCMS"), so tabs and history say where one is.
        <Title formatter=move |page: String| if page.is_empty() { t.app_name.to_owned() } else { format!("{page} · {}", t.app_name) }/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=move || view! { <Title text=t.sign_in/> <auth::LoginPage/> } ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=move || view! { <Title text=t.home_title/> <Home/> } ssr=SsrMode::Async/>
                    <Route path=path!("costs") view=move || view! {
                        <Title text=t.section(Section::Costs).0/>
                        <RequireRole role=Role::Viewer><costs::CostListPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/budgets") view=move || view! {
                        <Title text=t.budgets_title/>
                        <RequireRole role=Role::Viewer><costs::BudgetsPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/master") view=move || view! {
                        <Title text=t.master_title/>
                        <RequireRole role=Role::Viewer><costs::MasterDataPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/rates") view=move || view! {
                        <Title text=t.rates_title/>
                        <RequireRole role=Role::Viewer><costs::RatesPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/import") view=move || view! {
                        <Title text=t.import_title/>
                        <RequireRole role=Role::Marketer><costs::ImportPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/import/batches/:id") view=move || view! {
                        <Title text=t.import_batch_title/>
                        <RequireRole role=Role::Marketer><costs::BatchPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/import/:id") view=move || view! {
                        <Title text=t.import_title/>
                        <RequireRole role=Role::Marketer><costs::DraftPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/new") view=move || view! {
                        <Title text=t.new_cost/>
                        <RequireRole role=Role::Marketer><costs::CostFormPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("costs/:id") view=move || view! {
                        <Title text=t.cost_detail/>
                        <RequireRole role=Role::Viewer><costs::CostFormPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("partners") view=move || view! {
                        <Title text=t.section(Section::Partners).0/>
                        <RequireRole role=Role::Admin><partners::PartnersPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("partners/:id") view=move || view! {
                        <Title text=t.section(Section::Partners).0/>
                        <RequireRole role=Role::Admin><partners::PartnerPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("poc") view=move || view! {
                        <Title text=t.section(Section::PocReports).0/>
                        <RequireRole role=Role::Viewer><poc::PocPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("pipelines") view=move || view! {
                        <Title text=t.section(Section::Pipelines).0/>
                        <RequireRole role=Role::Viewer><pipelines::PipelinesPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/new") view=move || view! {
                        <Title text=t.pipelines.new_pipeline/>
                        <RequireRole role=Role::Builder><pipelines::EditorPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/:name") view=move || view! {
                        <Title text=t.section(Section::Pipelines).0/>
                        <RequireRole role=Role::Viewer><pipelines::PipelinePage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/:name/edit") view=move || view! {
                        <Title text=t.pipelines.edit/>
                        <RequireRole role=Role::Builder><pipelines::EditorPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/:name/versions") view=move || view! {
                        <Title text=t.pipelines.versions/>
                        <RequireRole role=Role::Viewer><pipelines::VersionsPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/:name/runs/:id") view=move || view! {
                        <Title text=t.pipelines.run/>
                        <RequireRole role=Role::Viewer><pipelines::RunPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("models") view=move || view! {
                        <Title text=t.section(Section::Models).0/>
                        <RequireRole role=Role::Viewer><models::ModelsPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("models/:name") view=move || view! {
                        <Title text=t.section(Section::Models).0/>
                        <RequireRole role=Role::Viewer><models::ModelPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("ingest") view=move || view! {
                        <Title text=t.section(Section::Ingest).0/>
                        <RequireRole role=Role::Builder><ingest::IngestPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("ingest/watches") view=move || view! {
                        <Title text=t.ingest.watches_title/>
                        <RequireRole role=Role::Builder><ingest::WatchesPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("ingest/watches/:name") view=move || view! {
                        <Title text=t.ingest.watches_title/>
                        <RequireRole role=Role::Builder><ingest::WatchPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("admin/audit") view=move || view! {
                        <Title text=t.audit_title/>
                        <RequireRole role=Role::Admin><AdminTabs/><admin::AuditPageView/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("admin/periods") view=move || view! {
                        <Title text=t.periods_title/>
                        <RequireRole role=Role::Admin><AdminTabs/><costs::PeriodsPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                    <Route path=path!("admin/users") view=move || view! {
                        <Title text=t.users_title/>
                        <RequireRole role=Role::Admin><AdminTabs/><admin::UsersPage/></RequireRole>
                    } ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    let t = use_texts();
    view! {
        <RequireRole role=Role::Viewer>
            <header class="page-head">
                <h1>{t.home_title}</h1>
                <p class="muted">{t.home_intro}</p>
            </header>
            <costs::DashboardView/>
            <ul class="cards">
                {shell::use_me().map(|me| Section::visible_to(me.role).map(|s| {
                    let (title, body) = t.section(s);
                    view! {
                        <li class="card card-link">
                            <h2><A href=s.path()>{title}</A></h2>
                            <p class="muted">{body}</p>
                        </li>
                    }
                }).collect_view())}
            </ul>
        </RequireRole>
    }
}

/// A top-level section whose screens are still being built: its title, what it is for, and the
/// same role gate the finished section will have.
/// Links between the admin pages.
#[component]
fn AdminTabs() -> impl IntoView {
    let t = use_texts();
    view! {
        <nav class="tabs" aria-label=t.section(Section::Admin).0>
            <A href="/admin/users">{t.nav_users}</A>
            <A href="/admin/periods">{t.nav_periods}</A>
            <A href="/admin/audit">{t.nav_audit}</A>
        </nav>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let t = use_texts();
    set_status(404);
    view! {
        <Title text=t.not_found_title/>
        <main id="main" class="page">
            <section class="card empty-state">
                <h1>{t.not_found_title}</h1>
                <p>{t.not_found_body}</p>
                <p><a href="/">{t.nav_home}</a></p>
            </section>
        </main>
    }
}
