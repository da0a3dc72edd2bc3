//! The statements that create a table for inferred files and load them, for Snowflake and
//! Redshift, ready to paste. Following the vendors' guidance:
//! - Snowflake: a stage over the S3 prefix with a named file format, `CREATE TABLE … USING
//!   TEMPLATE` over `INFER_SCHEMA` (or explicit columns), `COPY INTO … MATCH_BY_COLUMN_NAME`
//!   (CSV needs `PARSE_HEADER = TRUE` for it), Parquet through the vectorized scanner.
//! - Redshift: `CREATE TABLE` with mapped types and lengths (VARCHAR lengths are bytes), `COPY`
//!   from a manifest listing each file with its `content_length` (required for Parquet), Parquet
//!   columns mapped by position (the table's columns in the files' order), CSV and JSON options.

use super::{Column, ColumnType, Compression, Encoding, Format, Inferred, Problem};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What a load does with a file that has bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Nothing loads if anything is wrong (both warehouses' default).
    #[default]
    Abort,
    /// A file with a bad row is skipped whole (Snowflake only; Redshift aborts).
    SkipFile,
    /// Bad rows are skipped and the rest loads.
    Continue,
}

impl OnError {
    pub fn parse(text: &str) -> Option<OnError> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "abort" | "abort_statement" => Some(OnError::Abort),
            "skip_file" => Some(OnError::SkipFile),
            "continue" => Some(OnError::Continue),
            _ => None,
        }
    }
}

/// Where the files are loaded from and into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// `table` or `schema.table`.
    pub table: String,
    /// The S3 prefix the files are (or will be) in, `s3://bucket/prefix/`.
    pub location: String,
    pub on_error: OnError,
    /// Snowflake: explicit columns instead of `USING TEMPLATE`.
    pub explicit_columns: bool,
    /// Snowflake's storage integration for the bucket.
    pub integration: String,
    /// The IAM role Redshift assumes to read the bucket.
    pub iam_role: String,
}

impl Target {
    pub fn new(table: &str, location: &str) -> Target {
        Target {
            table: table.into(),
            location: location.into(),
            on_error: OnError::Abort,
            explicit_columns: false,
            integration: "s3_integration".into(),
            iam_role: "arn:aws:iam::123456789012:role/redshift-copy".into(),
        }
    }
}

/// Why statements cannot be written for a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("table name {0:?}: use letters, digits and _ (not first), optionally schema.table")]
    Table(String),
    #[error("location {0:?}: give the S3 prefix, s3://bucket/prefix/")]
    Location(String),
    #[error("{0:?}: a name or role without quotes, spaces or semicolons")]
    Name(String),
    #[error("no columns: nothing in the files could be read")]
    NoColumns,
}

/// The statements for both warehouses, and what to know before running them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statements {
    pub snowflake: String,
    pub redshift: String,
    /// The Redshift manifest (JSON), to upload beside the files as [`Statements::manifest_name`].
    pub manifest: String,
    pub manifest_name: String,
    pub notes: Vec<String>,
}

const RESERVED: &[&str] = &[
    "all",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "cast",
    "check",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "delete",
    "desc",
    "distinct",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "in",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "left",
    "like",
    "limit",
    "natural",
    "not",
    "null",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "right",
    "select",
    "session_user",
    "table",
    "then",
    "to",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "with",
];

fn simple(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A column name as both warehouses read it: bare when it is a plain name, quoted otherwise
/// (spaces, Korean, reserved words).
pub fn ident(name: &str) -> String {
    if simple(name) && !RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Snowflake's type for a column.
pub fn snowflake_type(c: &Column) -> String {
    match c.ty {
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Integer => "NUMBER(38, 0)".into(),
        ColumnType::Decimal => format!("NUMBER({}, {})", c.decimal().0, c.decimal().1),
        ColumnType::Float => "FLOAT".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Timestamp => "TIMESTAMP_NTZ".into(),
        ColumnType::TimestampTz => "TIMESTAMP_TZ".into(),
        ColumnType::Text => "VARCHAR".into(),
        ColumnType::Json => "VARIANT".into(),
    }
}

/// Redshift's longest VARCHAR, in bytes.
pub const REDSHIFT_MAX_VARCHAR: usize = 65_535;

/// A VARCHAR length with room to grow: the next power of two above the longest sampled value
/// and a quarter, at least 16 bytes; the maximum when the length is not known.
pub fn varchar_bytes(max_bytes: Option<usize>) -> usize {
    match max_bytes {
        Some(n) => (n + n / 4 + 1).next_power_of_two().clamp(16, REDSHIFT_MAX_VARCHAR),
        None => REDSHIFT_MAX_VARCHAR,
    }
}

/// Redshift's type for a column: the smallest integer that holds the range (a sample's with
/// headroom, see [`Column::integer_range`]).
pub fn redshift_type(c: &Column) -> String {
    match c.ty {
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Integer => match c.integer_range() {
            Some((lo, hi)) if lo >= i64::from(i16::MIN) && hi <= i64::from(i16::MAX) => "SMALLINT".into(),
            Some((lo, hi)) if lo >= i64::from(i32::MIN) && hi <= i64::from(i32::MAX) => "INTEGER".into(),
            _ => "BIGINT".into(),
        },
        ColumnType::Decimal => format!("DECIMAL({}, {})", c.decimal().0, c.decimal().1),
        ColumnType::Float => "DOUBLE PRECISION".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Text => format!("VARCHAR({})", varchar_bytes(c.max_bytes)),
        ColumnType::Json => "SUPER".into(),
    }
}

fn check(target: &Target) -> Result<(String, String), TargetError> {
    let parts: Vec<&str> = target.table.trim().split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| simple(p)) {
        return Err(TargetError::Table(target.table.clone()));
    }
    let table = parts.join(".");
    let location = target.location.trim();
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || "'\";\\".contains(c));
    if !location.starts_with("s3://") || location.len() <= "s3://".len() || !plain(location) {
        return Err(TargetError::Location(target.location.clone()));
    }
    for name in [&target.integration, &target.iam_role] {
        if !plain(name) {
            return Err(TargetError::Name(name.clone()));
        }
    }
    let location = if location.ends_with('/') { location.to_owned() } else { format!("{location}/") };
    Ok((table, location))
}

/// Writes both warehouses' statements for `inferred` files loaded into `target`.
pub fn statements(inferred: &Inferred, target: &Target) -> Result<Statements, TargetError> {
    let (table, location) = check(target)?;
    if inferred.columns.is_empty() {
        return Err(TargetError::NoColumns);
    }
    let base = table.rsplit('.').next().unwrap_or(&table).to_owned();
    let mut notes = Vec::new();
    let snowflake = snowflake(inferred, target, &table, &location, &mut notes);
    let redshift = redshift(inferred, target, &table, &base, &location, &mut notes);
    let manifest_name = format!("{base}.manifest");
    Ok(Statements { snowflake, redshift, manifest: manifest(inferred, &location), manifest_name, notes })
}

fn compression(inferred: &Inferred) -> Compression {
    inferred.files.first().map_or(Compression::None, |f| f.compression)
}

fn header(inferred: &Inferred, warehouse: &str, location: &str) -> String {
    let bytes = inferred.total_bytes();
    format!(
        "-- {warehouse}: {} file(s), {} bytes, {} from {location}\n",
        inferred.files.len(),
        bytes,
        inferred.format.name(),
    )
}

fn columns(inferred: &Inferred, ty: impl Fn(&Column) -> String) -> String {
    let lines: Vec<String> = inferred
        .columns
        .iter()
        .map(|c| format!("  {} {}{}", ident(&c.name), ty(c), if c.nullable { "" } else { " NOT NULL" }))
        .collect();
    format!("(\n{}\n)", lines.join(",\n"))
}

fn snowflake(inferred: &Inferred, target: &Target, table: &str, location: &str, notes: &mut Vec<String>) -> String {
    // Beside the table, in its schema.
    let format_name = format!("{table}_format");
    let stage = format!("{table}_stage");
    let mut sql = header(inferred, "Snowflake", location);
    let mut by_name = true;
    let _ = writeln!(sql, "CREATE FILE FORMAT IF NOT EXISTS {format_name}");
    match inferred.format {
        Format::Csv { delimiter, header, encoding } => {
            let _ = writeln!(sql, "  TYPE = CSV");
            let _ = writeln!(sql, "  FIELD_DELIMITER = {}", literal(&delimiter.to_string()));
            if header {
                let _ = writeln!(sql, "  PARSE_HEADER = TRUE");
            } else {
                by_name = false;
                notes.push(
                    "The files have no header: Snowflake loads their columns by position, into explicit columns."
                        .into(),
                );
            }
            let _ = writeln!(sql, "  FIELD_OPTIONALLY_ENCLOSED_BY = '\"'");
            let _ = writeln!(sql, "  EMPTY_FIELD_AS_NULL = TRUE");
            let _ = writeln!(sql, "  NULL_IF = ('\\\\N')");
            if encoding == Encoding::Cp949 {
                let _ = writeln!(sql, "  ENCODING = 'EUCKR'");
                notes.push("CP949: Snowflake reads it as EUCKR, which lacks the Hangul syllables only CP949 has; rewriting the files as UTF-8 (mcms ingest split) avoids the question.".into());
            } else {
                let _ = writeln!(sql, "  ENCODING = 'UTF8'");
            }
            let _ = writeln!(sql, "  COMPRESSION = {};", snowflake_compression(compression(inferred)));
        }
        Format::JsonLines => {
            let _ = writeln!(sql, "  TYPE = JSON");
            let _ = writeln!(sql, "  COMPRESSION = {};", snowflake_compression(compression(inferred)));
        }
        Format::Parquet => {
            let _ = writeln!(sql, "  TYPE = PARQUET");
            let _ = writeln!(sql, "  USE_VECTORIZED_SCANNER = TRUE;");
        }
    }
    let _ = writeln!(sql);
    let _ = writeln!(sql, "CREATE STAGE IF NOT EXISTS {stage}");
    let _ = writeln!(sql, "  URL = {}", literal(location));
    let _ = writeln!(sql, "  STORAGE_INTEGRATION = {}", target.integration);
    let _ = writeln!(sql, "  FILE_FORMAT = {format_name};");
    let _ = writeln!(sql);
    if target.explicit_columns || !by_name {
        let _ = writeln!(sql, "CREATE TABLE IF NOT EXISTS {table} {};", columns(inferred, snowflake_type));
    } else {
        let _ = writeln!(sql, "CREATE TABLE IF NOT EXISTS {table}");
        let _ = writeln!(sql, "  USING TEMPLATE (");
        let _ = writeln!(sql, "    SELECT ARRAY_AGG(OBJECT_CONSTRUCT(*)) WITHIN GROUP (ORDER BY order_id)");
        let _ = writeln!(
            sql,
            "    FROM TABLE(INFER_SCHEMA(LOCATION => '@{stage}', FILE_FORMAT => '{format_name}', IGNORE_CASE => TRUE))"
        );
        let _ = writeln!(sql, "  );");
    }
    let _ = writeln!(sql);
    let _ = writeln!(sql, "COPY INTO {table}");
    let _ = writeln!(sql, "  FROM @{stage}");
    if by_name {
        let _ = writeln!(sql, "  MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE");
    }
    let on_error = match target.on_error {
        OnError::Abort => "ABORT_STATEMENT",
        OnError::SkipFile => "SKIP_FILE",
        OnError::Continue => "CONTINUE",
    };
    let _ = writeln!(sql, "  ON_ERROR = {on_error};");
    sql
}

fn snowflake_compression(c: Compression) -> &'static str {
    match c {
        Compression::Gzip => "GZIP",
        Compression::Bzip2 => "BZ2",
        Compression::Zstd => "ZSTD",
        Compression::None => "NONE",
        Compression::Snappy | Compression::Lz4 => "AUTO",
    }
}

fn redshift(
    inferred: &Inferred,
    target: &Target,
    table: &str,
    base: &str,
    location: &str,
    notes: &mut Vec<String>,
) -> String {
    let mut sql = header(inferred, "Redshift", location);
    let _ = writeln!(sql, "CREATE TABLE IF NOT EXISTS {table} {};", columns(inferred, redshift_type));
    let _ = writeln!(sql);
    let _ = writeln!(sql, "COPY {table}");
    let _ = writeln!(sql, "  FROM {}", literal(&format!("{location}{base}.manifest")));
    let _ = writeln!(sql, "  IAM_ROLE {}", literal(&target.iam_role));
    let _ = writeln!(sql, "  MANIFEST");
    match inferred.format {
        Format::Csv { delimiter, header, encoding } => {
            let _ = writeln!(sql, "  FORMAT AS CSV");
            let _ = writeln!(sql, "  DELIMITER {}", literal(&delimiter.to_string()));
            if header {
                let _ = writeln!(sql, "  IGNOREHEADER 1");
            }
            let _ = writeln!(sql, "  EMPTYASNULL");
            let _ = writeln!(sql, "  NULL AS '\\\\N'");
            let _ = writeln!(sql, "  DATEFORMAT 'auto'");
            let _ = writeln!(sql, "  TIMEFORMAT 'auto'");
            if encoding == Encoding::Cp949 {
                notes.push("CP949: Redshift's COPY reads UTF-8 and UTF-16 only; rewrite the files as UTF-8 first (mcms ingest split).".into());
            }
            redshift_compression(&mut sql, compression(inferred));
            notes.push("Redshift: CSV columns load by position, in the order of the header.".into());
        }
        Format::JsonLines => {
            let _ = writeln!(sql, "  FORMAT AS JSON 'auto ignorecase'");
            let _ = writeln!(sql, "  TIMEFORMAT 'auto'");
            redshift_compression(&mut sql, compression(inferred));
        }
        Format::Parquet => {
            let _ = writeln!(sql, "  FORMAT AS PARQUET");
            notes.push("Redshift maps Parquet columns by position: the table's columns are in the files' order, and every file must have them all.".into());
            if inferred.problems.iter().any(|p| matches!(p, Problem::ColumnMissing { .. })) {
                notes.push("Some files lack columns others have: Redshift's Parquet COPY fails on them (column counts must match); rewrite them to one layout first.".into());
            }
        }
    }
    match target.on_error {
        OnError::Abort => {}
        OnError::SkipFile => {
            notes.push("Redshift has no SKIP_FILE: its COPY aborts on the first bad row (MAXERROR 0).".into());
        }
        OnError::Continue => {
            let _ = writeln!(sql, "  MAXERROR 100000");
        }
    }
    let _ = writeln!(sql, "  STATUPDATE ON;");
    sql
}

fn redshift_compression(sql: &mut String, c: Compression) {
    let option = match c {
        Compression::Gzip => "GZIP",
        Compression::Bzip2 => "BZIP2",
        Compression::Zstd => "ZSTD",
        _ => return,
    };
    let _ = writeln!(sql, "  {option}");
}

/// Redshift's manifest: every file, mandatory, with its length (Parquet requires it).
pub fn manifest(inferred: &Inferred, location: &str) -> String {
    let entries: Vec<serde_json::Value> = inferred
        .files
        .iter()
        .map(|f| {
            let name = f.name.trim_start_matches("./").trim_start_matches('/');
            serde_json::json!({
                "url": format!("{location}{name}"),
                "mandatory": true,
                "meta": { "content_length": f.bytes },
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "entries": entries })).unwrap_or_default()
}
