//! Accounts (admins): create, change a role, deactivate or reactivate. An admin cannot demote or
//! deactivate themselves, and the last active admin stays (the store checks that atomically).

use crate::{Actor, Error, Result, Service};
use domain::{Email, NewPassword, PersonName, Role};
use store::User;

impl Service<'_> {
    pub async fn create_user(
        &self,
        actor: &Actor,
        email: &Email,
        name: &PersonName,
        role: Role,
        password: &NewPassword,
    ) -> Result<User> {
        actor.require(Role::Admin)?;
        let user = self.db.create_user_as(email, name, role, password, Some(actor.id)).await?;
        tracing::info!(by = actor.id, user_id = user.id, role = %role, "user created");
        Ok(user)
    }

    pub async fn change_role(&self, actor: &Actor, user: i64, role: Role) -> Result<User> {
        actor.require(Role::Admin)?;
        refuse_self(actor, user)?;
        let changed = self.db.set_role(user, role, actor.id).await?;
        tracing::info!(by = actor.id, user_id = user, role = %role, "role changed");
        Ok(changed)
    }

    /// Deactivating ends the person's sessions: every request re-reads the account.
    pub async fn set_user_active(&self, actor: &Actor, user: i64, active: bool) -> Result<User> {
        actor.require(Role::Admin)?;
        refuse_self(actor, user)?;
        let changed = self.db.set_active(user, active, actor.id).await?;
        tracing::info!(by = actor.id, user_id = user, active, "activation changed");
        Ok(changed)
    }
}

/// Nobody locks themselves out by a slip.
fn refuse_self(actor: &Actor, user: i64) -> Result<()> {
    if actor.id == user { Err(Error::Conflict("user.self_change")) } else { Ok(()) }
}
