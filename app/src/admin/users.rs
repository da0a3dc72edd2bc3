//! User administration: list, create, change role, deactivate and reactivate.

use crate::components::FormAlert;
use crate::error::AppError;
use crate::i18n::use_texts;
use crate::shell::use_me;
use domain::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An account as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

#[cfg(feature = "ssr")]
impl From<store::User> for Account {
    fn from(u: store::User) -> Self {
        Account { id: u.id, email: u.email, name: u.name, role: u.role, active: u.active }
    }
}

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};

#[server(endpoint = "admin/users", output = crate::codec::Json)]
pub async fn list_users() -> Result<Vec<Account>, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    Ok(caller.state.db.users().await?.into_iter().map(Account::from).collect())
}

#[server(endpoint = "admin/users/create", output = crate::codec::Json)]
pub async fn create_user(email: String, name: String, role: String, password: String) -> Result<Account, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let email = domain::Email::parse(&email).map_err(|e| AppError::invalid("email", e.code()))?;
    let name = domain::PersonName::parse(&name).map_err(|e| AppError::invalid("name", e.code()))?;
    let role = Role::parse(&role).ok_or_else(|| AppError::invalid("role", "role.unknown"))?;
    let password = domain::NewPassword::parse(&password).map_err(|e| AppError::invalid("password", e.code()))?;
    let user = caller.state.service().create_user(&caller.actor()?, &email, &name, role, &password).await?;
    Ok(user.into())
}

#[server(endpoint = "admin/users/role", output = crate::codec::Json)]
pub async fn change_role(user_id: i64, role: String) -> Result<Account, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let role = Role::parse(&role).ok_or_else(|| AppError::invalid("role", "role.unknown"))?;
    Ok(caller.state.service().change_role(&caller.actor()?, user_id, role).await?.into())
}

/// Deactivating ends the person's sessions: every request re-reads the account and drops the
/// session of a deactivated one.
#[server(endpoint = "admin/users/active", output = crate::codec::Json)]
pub async fn set_user_active(user_id: i64, active: bool) -> Result<Account, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    Ok(caller.state.service().set_user_active(&caller.actor()?, user_id, active).await?.into())
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let t = use_texts();
    let create = ServerAction::<CreateUser>::new();
    let change = ServerAction::<ChangeRole>::new();
    let toggle = ServerAction::<SetUserActive>::new();
    // Blocking: the server waits for it before sending the page anyway (SsrMode::Async), and a
    // non-blocking resource here cost a ~30 ms p90 tail in the page benchmark.
    let users = Resource::new_blocking(
        move || (create.version().get(), change.version().get(), toggle.version().get()),
        |_| list_users(),
    );
    let me_id = use_me().map(|m| m.id);
    view! {
        <header class="page-head">
            <h1>{t.users_title}</h1>
            <p class="muted">{t.users_intro}</p>
        </header>
        <FormAlert action=change success=t.saved/>
        <FormAlert action=toggle success=t.saved/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! { <UsersTable users=list me_id change toggle/> }.into_any(),
                    Err(err) => view! { <p class="alert alert-error" role="alert">{t.error(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card" aria-labelledby="create-user">
            <h2 id="create-user">{t.create_user_title}</h2>
            <ActionForm action=create attr:class="form-grid" attr:novalidate=true>
                <div class="field">
                    <label for="new-email">{t.email}</label>
                    <input id="new-email" name="email" type="email" autocomplete="off" required/>
                </div>
                <div class="field">
                    <label for="new-name">{t.name}</label>
                    <input id="new-name" name="name" type="text" autocomplete="off" required maxlength="100"/>
                </div>
                <div class="field">
                    <label for="new-role">{t.role}</label>
                    <RoleSelect id="new-role" selected=Role::Viewer/>
                </div>
                <div class="field">
                    <label for="new-password">{t.initial_password}</label>
                    <input id="new-password" name="password" type="password" autocomplete="new-password"
                        required minlength="12" maxlength="128" aria-describedby="new-password-hint"/>
                    <p id="new-password-hint" class="hint">{t.password_hint}</p>
                </div>
                <div class="form-actions">
                    <FormAlert action=create success=t.user_created/>
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        {t.create_user_button}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn UsersTable(
    users: Vec<Account>,
    me_id: Option<i64>,
    change: ServerAction<ChangeRole>,
    toggle: ServerAction<SetUserActive>,
) -> impl IntoView {
    let t = use_texts();
    let rows = users
        .into_iter()
        .map(|u| {
            let is_me = Some(u.id) == me_id;
            let role_label = (t.role_for)(&u.email);
            view! {
                <tr class:inactive=!u.active>
                    <td>{u.email.clone()} {is_me.then(|| view! { <span class="badge">{t.you}</span> })}</td>
                    <td>{u.name.clone()}</td>
                    <td>
                        <ActionForm action=change attr:class="inline">
                            <input type="hidden" name="user_id" value=u.id/>
                            <RoleSelect selected=u.role label=role_label disabled=is_me/>
                            <button type="submit" class="btn btn-small" disabled=is_me>{t.change_role}</button>
                        </ActionForm>
                    </td>
                    <td>
                        <span class=if u.active { "status status-ok" } else { "status status-off" }>
                            {if u.active { t.active } else { t.inactive }}
                        </span>
                    </td>
                    <td>
                        <ActionForm action=toggle attr:class="inline">
                            <input type="hidden" name="user_id" value=u.id/>
                            <input type="hidden" name="active" value=if u.active { "false" } else { "true" }/>
                            <button type="submit" class="btn btn-small" class:btn-danger=u.active disabled=is_me
                                aria-label=if u.active { (t.deactivate_user)(&u.email) } else { (t.reactivate_user)(&u.email) }>
                                {if u.active { t.deactivate } else { t.reactivate }}
                            </button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{t.email}</th>
                        <th scope="col">{t.name}</th>
                        <th scope="col">{t.role}</th>
                        <th scope="col">{t.status}</th>
                        <th scope="col">{t.actions}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn RoleSelect(
    selected: Role,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional, into)] label: Option<String>,
    #[prop(optional)] disabled: bool,
) -> impl IntoView {
    let t = use_texts();
    view! {
        <select name="role" id=id aria-label=label disabled=disabled>
            {Role::ALL.into_iter().map(|r| view! {
                <option value=r.as_str() selected=r == selected>{t.role(r)}</option>
            }).collect_view()}
        </select>
    }
}
