//! The server's integration suites, linked as one test binary: the real router in-process
//! (`common`), the real server over TCP (`slow_clients`) and the `mcms` binary (`cli`), on SQLite
//! and PostgreSQL.

mod common;

mod api;
mod authorization;
mod batch;
mod cli;
mod costs;
mod import;
mod ingest;
mod models;
mod pages;
mod partners;
mod pipelines;
mod poc;
mod schedules;
mod sessions;
mod slow_clients;
mod users;
