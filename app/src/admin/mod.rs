//! Administration: user accounts and roles.

mod users;

pub use users::*;
mod audit;

pub use audit::*;
