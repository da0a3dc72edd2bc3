//! The use cases of MCMS, each written once: who may do it, what is checked, what is stored and
//! what is logged. Server functions, plain HTTP handlers and CLI commands are thin adapters that
//! turn their input into these calls and the [`Error`] into their own answer.
//!
//! Data flows one way: adapter → [`Service`] → `store` → database.

pub mod costs;
pub mod imports;
pub mod ingest;
pub mod keys;
mod model_monitor;
pub mod models;
#[cfg(test)]
mod models_tests;
pub mod poc;
#[cfg(test)]
mod tests;
pub mod users;

use domain::Role;
use store::costs::CostSettings;
use store::{Db, StoreError};
use time::Date;

/// What a use case runs against: the database, the ledger's settings and the company's today.
#[derive(Debug, Clone, Copy)]
pub struct Service<'a> {
    pub db: &'a Db,
    pub costs: &'a CostSettings,
    pub today: Date,
}

/// Who asks: an account (signed in, or named on the command line) with its role, or a PoC
/// recording token acting for the admin who issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: i64,
    grant: Grant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Role(Role),
    /// May record PoC runs, nothing else.
    PocRecorder,
}

impl Actor {
    /// An account; a deactivated one may do nothing.
    pub fn user(user: &store::User) -> Result<Actor, Error> {
        if !user.active {
            return Err(Error::Forbidden);
        }
        Ok(Actor { id: user.id, grant: Grant::Role(user.role) })
    }

    /// The active account with this email (case-insensitive), for commands run as someone.
    pub async fn by_email(db: &Db, email: &str) -> Result<Actor, Error> {
        let email = email.trim();
        let user = db.users().await?.into_iter().find(|u| u.active && u.email.eq_ignore_ascii_case(email));
        user.map_or_else(|| Err(Error::UnknownActor(email.to_owned())), |u| Actor::user(&u))
    }

    /// A PoC recording token, acting for the admin who issued it (see `Db::poc_token`, which only
    /// answers for tokens whose issuer is still an active admin).
    pub fn poc_token(issuer: i64) -> Actor {
        Actor { id: issuer, grant: Grant::PocRecorder }
    }

    /// Refuses unless the actor's role includes `role`.
    pub fn require(&self, role: Role) -> Result<(), Error> {
        match self.grant {
            Grant::Role(r) if r.includes(role) => Ok(()),
            _ => Err(Error::Forbidden),
        }
    }
}

/// Why a use case refused or failed. Codes are the message catalogue's keys.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("your role does not allow this")]
    Forbidden,
    #[error("no active account with the email {0:?}")]
    UnknownActor(String),
    /// A value the use case checks itself was not right.
    #[error("{field}: {code}")]
    Invalid { field: &'static str, code: &'static str },
    /// What was asked conflicts with stored state or with who asks (`code` says how).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The cost rules refused the entry (errors, or warnings not acknowledged).
    #[error("the entry breaks {} rule(s)", .0.len())]
    Rules(Vec<domain::costs::Finding>),
    /// Someone saved a newer version of the entry meanwhile; `changed` names the fields where it
    /// differs from what was submitted.
    #[error("version {} was saved meanwhile", .current.version)]
    Stale { current: Box<store::costs::StoredCost>, changed: Vec<&'static str> },
    /// Refused for a reason only words can give (a model that does not load, and why).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    pub fn invalid(field: &'static str, code: &'static str) -> Error {
        Error::Invalid { field, code }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
