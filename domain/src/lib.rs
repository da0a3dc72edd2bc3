//! Types and rules that the browser (wasm) and the server share.
//!
//! Nothing here does I/O: every function is a pure parse or decision, so the same code gives the
//! instant answer in the browser and the authoritative one on the server.

pub mod account;
pub mod costs;
pub mod country;
pub mod currency;
pub mod fx;
pub mod import;
pub mod ingest;
pub mod keys;
pub mod lang;
pub mod models;
pub mod money;
pub mod net;
pub mod pipeline;
pub mod poc;
pub mod role;
pub mod sheet;
pub mod stats;

pub use account::{Email, EmailError, NewPassword, PasswordError, PersonName, PersonNameError};
pub use currency::Currency;
pub use lang::Lang;
pub use money::{AmountError, Money, format_amount};
pub use role::{Role, Section};
