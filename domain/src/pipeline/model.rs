//! The pipeline file, as serde reads it. Keys nobody knows are refused (`deny_unknown_fields`),
//! so a misspelt key is named with its line instead of being ignored. Names that other parts of
//! the file refer to carry their location (`Spanned`), so a wrong reference is named where it is.

use super::tree::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The one file version this build reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    #[schemars(with = "u32")]
    pub version: Spanned<u32>,
    #[serde(default)]
    pub description: String,
    /// Values the run is given (`--param month=2026-11`), used as `${month}` in strings.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// Where data lives, by name. Credentials are never in the file: only the names of the
    /// environment variables (`*_env`) the server reads them from.
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
    /// A cron expression (minute hour day-of-month month day-of-week), in the company's time zone.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub schedule: Option<Spanned<String>>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    #[serde(rename = "type")]
    pub kind: ParamKind,
    /// A literal value, or for a month `previous` / `current`, for a date `today` / `yesterday` /
    /// `N days ago` (on the company's clock when the run starts).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub default: Option<Spanned<String>>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// `YYYY-MM`.
    Month,
    /// `YYYY-MM-DD`.
    Date,
    Text,
    Integer,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Connection {
    /// PostgreSQL; the URL (with its password) from an environment variable.
    Postgres { url_env: String },
    /// Redshift, over PostgreSQL's protocol (a source); as a sink, through Parquet on S3 and COPY.
    Redshift { url_env: String },
    /// A SQLite database file.
    Sqlite { path: String },
    /// A folder on the server's disk.
    Folder { path: String },
    /// An S3 bucket (or an S3-compatible server at `endpoint_env`'s URL).
    S3 {
        bucket: String,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        endpoint_env: Option<String>,
        #[serde(default)]
        access_key_id_env: Option<String>,
        #[serde(default)]
        secret_access_key_env: Option<String>,
    },
}

impl Connection {
    pub fn kind(&self) -> &'static str {
        match self {
            Connection::Postgres { .. } => "postgres",
            Connection::Redshift { .. } => "redshift",
            Connection::Sqlite { .. } => "sqlite",
            Connection::Folder { .. } => "folder",
            Connection::S3 { .. } => "s3",
        }
    }

    /// Holds files (a folder or a bucket), as against tables.
    pub fn holds_files(&self) -> bool {
        matches!(self, Connection::Folder { .. } | Connection::S3 { .. })
    }
}

/// A named step: exactly one of the kinds below.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    #[serde(default)]
    pub source: Option<Source>,
    #[serde(default)]
    pub clean: Option<Clean>,
    #[serde(default)]
    pub transform: Option<Transform>,
    #[serde(default)]
    pub aggregate: Option<Aggregate>,
    #[serde(default)]
    pub check: Option<Check>,
    #[serde(default)]
    pub predict: Option<Predict>,
    #[serde(default)]
    pub sink: Option<Sink>,
}

/// A step's kind, borrowed from the step that has exactly one.
#[derive(Debug, Clone, Copy)]
pub enum StepKind<'a> {
    Source(&'a Source),
    Clean(&'a Clean),
    Transform(&'a Transform),
    Aggregate(&'a Aggregate),
    Check(&'a Check),
    Predict(&'a Predict),
    Sink(&'a Sink),
}

impl Step {
    /// The kinds this step has filled in (exactly one in a valid file).
    pub fn kinds(&self) -> Vec<StepKind<'_>> {
        let mut kinds = Vec::with_capacity(1);
        if let Some(s) = &self.source {
            kinds.push(StepKind::Source(s));
        }
        if let Some(s) = &self.clean {
            kinds.push(StepKind::Clean(s));
        }
        if let Some(s) = &self.transform {
            kinds.push(StepKind::Transform(s));
        }
        if let Some(s) = &self.aggregate {
            kinds.push(StepKind::Aggregate(s));
        }
        if let Some(s) = &self.check {
            kinds.push(StepKind::Check(s));
        }
        if let Some(s) = &self.predict {
            kinds.push(StepKind::Predict(s));
        }
        if let Some(s) = &self.sink {
            kinds.push(StepKind::Sink(s));
        }
        kinds
    }
}

/// Scores a step's rows with a registered model (docs/models.md): each of the model's features
/// is read from the column of its name, and the rows pass on with the answer's columns added:
/// `PREFIX label` and `class` (classifiers, clusterings), `probability` (of a binary model's
/// positive class), `value` (regressions) and `version` (the version that scored them).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Predict {
    #[schemars(with = "String")]
    pub input: Spanned<String>,
    /// The registered model's name.
    #[schemars(with = "String")]
    pub model: Spanned<String>,
    /// A version by number; by default the version in production when the step runs.
    #[serde(default)]
    pub version: Option<i32>,
    /// What the added columns' names start with; by default the model's name and `_`
    /// (`churn_label`, `churn_probability`, …).
    #[serde(default)]
    pub prefix: Option<String>,
}

impl Predict {
    /// The added columns' prefix.
    pub fn prefix(&self) -> String {
        self.prefix.clone().unwrap_or_else(|| format!("{}_", self.model.value))
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// The MCMS cost ledger's live entries of a month (`YYYY-MM`), in the warehouse's columns
    /// (docs/batch-schema.md).
    Ledger {
        #[schemars(with = "String")]
        month: Spanned<String>,
        /// Refuse the run, with the reasons, unless the month passes `mcms batch-check` (it is
        /// closed and every entry passes every rule). On by default: the warehouse's batch.
        #[serde(default = "yes")]
        batch_check: bool,
    },
    /// The partner API's daily statistics over a range of days.
    PartnerStats {
        #[schemars(with = "String")]
        from: Spanned<String>,
        #[schemars(with = "String")]
        to: Spanned<String>,
    },
    /// A PostgreSQL, Redshift or SQLite connection: a query, or a whole table.
    Database {
        #[schemars(with = "String")]
        connection: Spanned<String>,
        #[serde(default)]
        #[schemars(with = "Option<String>")]
        query: Option<Spanned<String>>,
        #[serde(default)]
        #[schemars(with = "Option<String>")]
        table: Option<Spanned<String>>,
    },
    /// Files by glob in a folder or bucket.
    Files {
        #[schemars(with = "String")]
        connection: Spanned<String>,
        #[schemars(with = "String")]
        glob: Spanned<String>,
        format: FileFormat,
        #[serde(default)]
        csv: CsvOptions,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Jsonl,
    Parquet,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    #[serde(default = "yes")]
    pub header: bool,
    #[serde(default = "comma")]
    pub delimiter: char,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { header: true, delimiter: ',' }
    }
}

fn yes() -> bool {
    true
}

fn comma() -> char {
    ','
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clean {
    #[schemars(with = "String")]
    pub input: Spanned<String>,
    /// Columns whose text loses surrounding blanks (`["*"]`: every text column).
    #[serde(default)]
    pub trim: Vec<String>,
    /// Old name → new name.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Column → type, with what to do with a value that does not convert.
    #[serde(default)]
    pub cast: BTreeMap<String, Cast>,
    /// Columns that must have a value: a row without one refuses the run.
    #[serde(default)]
    pub required: Vec<String>,
    /// Keys: of rows with the same keys, one is kept (the first read, as far as the reader
    /// keeps the files' order).
    #[serde(default)]
    pub dedupe: Vec<String>,
    /// Column → the value an empty cell gets (as SQL would write it: `0`, `'KRW'`).
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// A SQL predicate; rows for which it is not true are left out.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub filter: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cast {
    pub to: ColumnType,
    #[serde(default)]
    pub on_error: OnError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    Integer,
    Decimal,
    Float,
    Boolean,
    Date,
    Timestamp,
}

/// What a value that does not convert does to the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// The run fails, naming the column and a value (the default: nothing is lost quietly).
    #[default]
    Refuse,
    /// The row is left out.
    Drop,
    /// The cell becomes empty.
    Null,
}

/// SQL over earlier steps, which it names as tables.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transform {
    #[schemars(with = "String")]
    pub sql: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    #[schemars(with = "String")]
    pub input: Spanned<String>,
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Columns summed (the result keeps the column's name).
    #[serde(default)]
    pub sum: Vec<String>,
    /// The name of a column counting the rows of each group.
    #[serde(default)]
    pub count: Option<String>,
    /// Columns whose smallest value is kept, as `min_<column>`.
    #[serde(default)]
    pub min: Vec<String>,
    /// Columns whose largest value is kept, as `max_<column>`.
    #[serde(default)]
    pub max: Vec<String>,
    /// Columns whose distinct values are counted, as `distinct_<column>`.
    #[serde(default)]
    pub distinct: Vec<String>,
}

/// Checks on a step's rows; any failing stops the run before anything is written. The rows pass
/// on unchanged, so later steps may read the check.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    #[schemars(with = "String")]
    pub input: Spanned<String>,
    #[serde(default)]
    pub row_count: Option<RowCount>,
    #[serde(default)]
    pub not_null: Vec<String>,
    /// Columns whose values, together, appear once.
    #[serde(default)]
    pub unique: Vec<String>,
    /// Column → the values it may have.
    #[serde(default)]
    pub accepted: BTreeMap<String, Vec<String>>,
    /// Values that must exist in another step's column.
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default)]
    pub freshness: Option<Freshness>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowCount {
    #[serde(default)]
    pub min: Option<u64>,
    #[serde(default)]
    pub max: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub column: String,
    #[schemars(with = "String")]
    pub step: Spanned<String>,
    pub step_column: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    /// A date or timestamp column.
    pub column: String,
    /// The newest value must be at most this many hours old when the run starts.
    pub max_age_hours: u32,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Sink {
    /// Files in a folder or bucket, published whole once every file is written.
    Files {
        #[schemars(with = "String")]
        input: Spanned<String>,
        #[schemars(with = "String")]
        connection: Spanned<String>,
        #[schemars(with = "String")]
        path: Spanned<String>,
        format: FileFormat,
        #[serde(default)]
        partition_by: Vec<String>,
    },
    /// A PostgreSQL or SQLite table, written in one transaction.
    Table {
        #[schemars(with = "String")]
        input: Spanned<String>,
        #[schemars(with = "String")]
        connection: Spanned<String>,
        /// `name` or `schema.name`; made (with the step's columns) if it does not exist.
        #[schemars(with = "String")]
        table: Spanned<String>,
        #[serde(default)]
        mode: TableMode,
        /// For `upsert`: the key columns; for `replace_partition`: the columns whose values in
        /// this run's rows name the partition replaced.
        #[serde(default)]
        keys: Vec<String>,
    },
    /// Redshift: Parquet written to S3, and the `COPY … FORMAT AS PARQUET` that loads it.
    Redshift {
        #[schemars(with = "String")]
        input: Spanned<String>,
        /// The S3 connection the files go to.
        #[schemars(with = "String")]
        connection: Spanned<String>,
        #[schemars(with = "String")]
        path: Spanned<String>,
        #[schemars(with = "String")]
        table: Spanned<String>,
        /// The environment variable holding the IAM role's ARN that COPY names.
        iam_role_env: String,
    },
}

impl Sink {
    pub fn input(&self) -> &Spanned<String> {
        match self {
            Sink::Files { input, .. } | Sink::Table { input, .. } | Sink::Redshift { input, .. } => input,
        }
    }

    pub fn connection(&self) -> &Spanned<String> {
        match self {
            Sink::Files { connection, .. } | Sink::Table { connection, .. } | Sink::Redshift { connection, .. } => {
                connection
            }
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableMode {
    #[default]
    Append,
    ReplacePartition,
    Upsert,
}
