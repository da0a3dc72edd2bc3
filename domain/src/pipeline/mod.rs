//! Pipelines: the data team's extract, clean, transform, check and store jobs written as files
//! (YAML or JSON, one schema, `version: 1`) that people who do not write code can read and change.
//!
//! This module reads a file and checks its structure, the same in the browser (the editor checks
//! as one types) and on the server: unknown keys and step kinds, steps that name inputs or
//! connections that do not exist, cycles, parameters used but not declared or without a value.
//! Every problem carries the line and column it is about. Planning the SQL against the sources'
//! schemas, and running, is the `pipeline` crate's (DataFusion, on the server).
//!
//! ```yaml
//! version: 1
//! params:
//!   month: { type: month, default: previous }
//! connections:
//!   lake: { kind: folder, path: ./data/lake }
//! steps:
//!   - name: ledger
//!     source: { ledger: { month: "${month}" } }
//!   - name: daily
//!     aggregate: { input: ledger, group_by: [day, game, channel], sum: [amount_krw] }
//!   - name: store
//!     sink: { files: { input: daily, connection: lake, path: "daily/month=${month}", format: parquet } }
//! ```

mod check;
mod model;
pub(crate) mod tree;

pub use check::{
    Checked, MAX_FILE_BYTES, Problem, ProblemKind, check, check_draft, days_ago, is_pipeline_name, param_refs, parse,
};
pub use model::*;
pub use tree::{Place, Spanned};

/// The JSON Schema of pipeline files (draft 2020-12), from the same types that read them.
pub fn json_schema() -> schemars::Schema {
    let mut schema = schemars::schema_for!(Pipeline);
    schema.insert("title".into(), "MCMS pipeline, version 1".into());
    schema
}
