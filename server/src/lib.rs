//! The `mcms` server: configuration, the HTTP router and its middleware, demo data.

pub mod api;
pub mod batch;
pub mod config;
pub mod demo;
pub mod import;
pub mod ingest;
pub mod metrics;
mod middleware;
pub mod pipelines;
pub mod poc;
mod routes;
pub mod runs;
pub mod schedules;
pub mod serve;
pub mod site;

pub use config::WebConfig;
pub use routes::router;
