//! The ingestion lab's rules: what a set of files holds (columns, types, the problems a warehouse
//! load would hit), the statements that load them into Snowflake and Redshift, and how they
//! should be laid out for it. Pure: the files' bytes (a bounded sample of each, or a Parquet
//! footer's schema) come from the caller.

pub mod cdc;
pub mod infer;
pub mod plan;
pub mod statements;
pub mod watch;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use std::fmt;

/// How the files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Format {
    Csv { delimiter: char, header: bool, encoding: Encoding },
    JsonLines,
    Parquet,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv { .. } => "csv",
            Format::JsonLines => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

/// A text file's character encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    /// Korean Windows' code page (a superset of EUC-KR), as Korean Excel saves CSV.
    Cp949,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Cp949 => "CP949",
        }
    }
}

/// How a file is compressed as a whole (Parquet compresses inside: its codec is reported here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Zstd,
    Snappy,
    Lz4,
}

impl Compression {
    /// From a file name's last extension (`.gz`, `.bz2`, `.zst`); anything else is uncompressed.
    pub fn from_name(name: &str) -> Compression {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".gz") || lower.ends_with(".gzip") {
            Compression::Gzip
        } else if lower.ends_with(".bz2") {
            Compression::Bzip2
        } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
        }
    }
}

/// A column's type, as wide as every sampled value needs (see [`infer`] for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Boolean,
    Integer,
    Decimal,
    Float,
    Date,
    /// Date and time without a zone.
    Timestamp,
    /// Date and time with a zone or offset (`Z`, `+09:00`).
    TimestampTz,
    Text,
    /// A JSON object or array (JSON Lines only).
    Json,
}

impl ColumnType {
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Boolean => "boolean",
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Float => "float",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::TimestampTz => "timestamp with zone",
            ColumnType::Text => "text",
            ColumnType::Json => "json",
        }
    }

    /// The narrowest type that holds values of both, widening within numbers (integer, decimal,
    /// float) and within times (date, timestamp, timestamp with zone); anything else is text.
    pub fn join(self, other: ColumnType) -> ColumnType {
        use ColumnType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Integer | Decimal | Float, Integer | Decimal | Float) => self.max(other),
            (Date | Timestamp | TimestampTz, Date | Timestamp | TimestampTz) => self.max(other),
            _ => Text,
        }
    }

    /// Whether a value of type `self` loads into a column of type `into` unchanged.
    pub fn fits(self, into: ColumnType) -> bool {
        self.join(into) == into
    }
}

/// One inferred column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    /// A null or empty value was seen, or some file lacks the column.
    pub nullable: bool,
    /// Integers: the smallest and largest value seen (a Parquet footer: the physical type's range).
    pub range: Option<(i64, i64)>,
    /// Decimals: digits in all and after the point.
    pub precision: u8,
    pub scale: u8,
    /// Text: the longest value seen, in UTF-8 bytes; `None` when not known (a Parquet footer).
    pub max_bytes: Option<usize>,
    /// Known from a sample of the values (so the rest may go further), not declared by the file.
    pub sampled: bool,
}

/// Decimal digits a sampled decimal column gets at least (Redshift keeps up to 18 in 8 bytes).
pub const SAMPLED_PRECISION: u8 = 18;
/// How much further than the sampled values a sampled integer column's type must reach.
pub const SAMPLED_HEADROOM: i64 = 100;

impl Column {
    /// A column known only by its type (as a Parquet footer gives it).
    pub fn typed(name: &str, ty: ColumnType, nullable: bool) -> Column {
        Column { name: name.into(), ty, nullable, range: None, precision: 0, scale: 0, max_bytes: None, sampled: false }
    }

    /// The decimal's precision and scale to declare: a sample's precision gets room to grow (at
    /// least [`SAMPLED_PRECISION`] digits, at most 38).
    pub fn decimal(&self) -> (u8, u8) {
        let precision = if self.sampled { self.precision.max(SAMPLED_PRECISION) } else { self.precision };
        (precision.clamp(1, 38).max(self.scale), self.scale)
    }

    /// The integer range the declared type must hold: a sample's range times
    /// [`SAMPLED_HEADROOM`]; a file's declared range as it is; `None` when unknown.
    pub fn integer_range(&self) -> Option<(i64, i64)> {
        let (lo, hi) = self.range?;
        Some(if self.sampled {
            (lo.min(0).saturating_mul(SAMPLED_HEADROOM), hi.max(0).saturating_mul(SAMPLED_HEADROOM))
        } else {
            (lo, hi)
        })
    }
}

/// One file that was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub name: String,
    pub bytes: u64,
    pub compression: Compression,
    /// Data rows read (CSV and JSON Lines: the sample's; Parquet: the footer's count of all rows).
    pub rows: u64,
    /// Only the first part of the file was read.
    pub sampled: bool,
}

/// What a load of these files would hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Problem {
    /// A file that cannot be read as its format at all.
    Unreadable { file: String, reason: String },
    /// A column some files have and others lack.
    ColumnMissing { column: String, missing_in: Vec<String>, files: usize },
    /// A column whose type differs between files in a way no single type holds unchanged.
    TypesDisagree { column: String, types: Vec<(String, ColumnType)>, chosen: ColumnType },
    /// A value that does not fit the type the rest of its column has (a load would reject the row).
    DoesNotFit { file: String, row: u64, column: String, value: String, ty: ColumnType },
    /// A CSV row with more or fewer fields than the header.
    Ragged { file: String, row: u64, expected: usize, found: usize },
    /// A JSON Lines line that is not a JSON object.
    NotJson { file: String, row: u64, reason: String },
}

/// How many files a problem lists by name, and how many rows per column are named as not fitting.
pub const LISTED: usize = 10;

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable { file, reason } => write!(f, "{file}: {reason}"),
            Problem::ColumnMissing { column, missing_in, files } => {
                write!(f, "column {column} is missing from {} of {files} files: {}", missing_in.len(), list(missing_in))
            }
            Problem::TypesDisagree { column, types, chosen } => {
                let seen: Vec<String> = types.iter().map(|(file, ty)| format!("{} in {file}", ty.name())).collect();
                write!(f, "column {column} is {}; loaded as {}", list(&seen), chosen.name())
            }
            Problem::DoesNotFit { file, row, column, value, ty } => {
                write!(f, "{file} row {row}: {column} {value:?} is not a {}", ty.name())
            }
            Problem::Ragged { file, row, expected, found } => {
                write!(f, "{file} row {row}: {found} fields where the header has {expected}")
            }
            Problem::NotJson { file, row, reason } => write!(f, "{file} line {row}: not a JSON object ({reason})"),
        }
    }
}

fn list(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(LISTED).map(String::as_str).collect();
    match items.len().saturating_sub(LISTED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// What a set of files holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inferred {
    pub format: Format,
    pub columns: Vec<Column>,
    pub files: Vec<FileSummary>,
    pub problems: Vec<Problem>,
}

impl Inferred {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}
