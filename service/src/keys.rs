//! Partner API keys: issue, rotate and revoke (admins). A key is shown once, when it is made;
//! only its hash is kept. Its status at any moment is `domain::keys::KeyStatus::at`.

use crate::{Actor, Error, Result, Service};
use domain::Role;
use domain::keys::ApiKey;
use domain::net::IpNet;
use store::partners::{KeyInfo, KeySettings};
use time::{Duration, OffsetDateTime};

/// The longest a rotated key keeps working beside its successor.
pub const MAX_GRACE_HOURS: i64 = 24 * 30;

impl Service<'_> {
    /// Issues a key to partner `partner` with `settings`.
    pub async fn issue_key(&self, actor: &Actor, partner: i64, settings: &KeySettings) -> Result<(KeyInfo, ApiKey)> {
        actor.require(Role::Admin)?;
        let (info, key) = self.db.issue_key(partner, settings, actor.id).await?;
        tracing::info!(by = actor.id, partner, key = info.id, prefix = %info.prefix, "API key issued");
        Ok((info, key))
    }

    /// Replaces key `key` with a new one of the same settings; the old one keeps working for
    /// `grace_hours` (0 to [`MAX_GRACE_HOURS`]).
    pub async fn rotate_key(&self, actor: &Actor, key: i64, grace_hours: i64) -> Result<(KeyInfo, ApiKey)> {
        actor.require(Role::Admin)?;
        if !(0..=MAX_GRACE_HOURS).contains(&grace_hours) {
            return Err(Error::invalid("grace_hours", "key.grace_invalid"));
        }
        let grace = OffsetDateTime::now_utc() + Duration::hours(grace_hours);
        let (info, new) = self.db.rotate_key(key, grace, actor.id).await?;
        tracing::info!(by = actor.id, old = key, new = info.id, grace_hours, "API key rotated");
        Ok((info, new))
    }

    /// Revokes key `key`: refused everywhere within about a second.
    pub async fn revoke_key(&self, actor: &Actor, key: i64) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.revoke_key(key, actor.id).await?;
        tracing::info!(by = actor.id, key, "API key revoked");
        Ok(())
    }

    /// Changes a key's label, scopes, expiry and limits, and its own allowlist, in one go.
    pub async fn update_key(&self, actor: &Actor, key: i64, settings: &KeySettings, allowlist: &[IpNet]) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.update_key(key, settings, allowlist, actor.id).await?;
        tracing::info!(by = actor.id, key, "API key changed");
        Ok(())
    }

    /// Replaces the allowlist every key of partner `partner` is checked against.
    pub async fn set_partner_allowlist(&self, actor: &Actor, partner: i64, allowlist: &[IpNet]) -> Result<()> {
        actor.require(Role::Admin)?;
        self.db.partner(partner).await?.ok_or(store::StoreError::NotFound)?;
        self.db.set_allowlist(partner, None, allowlist, actor.id).await?;
        tracing::info!(by = actor.id, partner, entries = allowlist.len(), "partner allowlist set");
        Ok(())
    }
}
