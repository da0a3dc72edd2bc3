//! The ingestion lab's file work: finding files (a local folder or an S3 prefix, by glob), reading
//! a bounded sample of each (decompressed as it is read) or a Parquet file's footer, and handing
//! them to `domain::ingest` for the schema and the problems.

pub mod files;
pub mod split;
pub mod watch;

#[cfg(test)]
mod tests;

use crate::Secrets;
use datafusion::arrow::datatypes::DataType;
use domain::ingest::infer::{self, CsvOptions, FileSample, Observed};
use domain::ingest::{Column, ColumnType, Compression, Format, Inferred};
pub use files::{Files, Found};
use futures_util::StreamExt;
use std::io::Read;

/// Bytes read from the start of each CSV or JSON Lines file (after decompression).
pub const SAMPLE_BYTES: usize = 1 << 20;
/// Rows read from each CSV or JSON Lines file.
pub const SAMPLE_ROWS: usize = 10_000;
/// Compressed bytes read for a sample: enough for [`SAMPLE_BYTES`] at a ratio of 8.
const SAMPLE_RAW_BYTES: u64 = 8 << 20;
/// Files read at once.
const CONCURRENT: usize = 8;

/// Why files cannot be looked at (the location, the listing): a file that cannot be read is a
/// problem in the result instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IngestError(pub String);

/// What to read and how.
#[derive(Debug, Clone, Default)]
pub struct InferOptions {
    /// `None`: from the first file's name (`.csv`, `.tsv`, `.txt`, `.jsonl`, `.ndjson`, `.json`,
    /// `.parquet`, each optionally `.gz` or `.zst`).
    pub format: Option<FormatKind>,
    pub csv: CsvOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatKind {
    Csv,
    JsonLines,
    Parquet,
}

impl FormatKind {
    pub fn parse(text: &str) -> Option<FormatKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "txt" => Some(FormatKind::Csv),
            "jsonl" | "ndjson" | "json" => Some(FormatKind::JsonLines),
            "parquet" => Some(FormatKind::Parquet),
            _ => None,
        }
    }

    /// From a file name, compression extensions aside.
    pub fn of(name: &str) -> Option<FormatKind> {
        let lower = name.to_ascii_lowercase();
        let bare =
            [".gz", ".gzip", ".zst", ".zstd", ".bz2"].iter().find_map(|ext| lower.strip_suffix(ext)).unwrap_or(&lower);
        bare.rsplit_once('.').and_then(|(_, ext)| FormatKind::parse(ext))
    }
}

/// Infers the schema of the files `location` names: a folder, a file, or a glob (`data/*.csv`,
/// `s3://bucket/events/2026-12-*/*.jsonl.gz`).
pub async fn infer(location: &str, secrets: &Secrets, options: &InferOptions) -> Result<Inferred, IngestError> {
    let (files, pattern) = Files::open(location, secrets)?;
    let found = files.list(&pattern).await?;
    if found.is_empty() {
        return Err(IngestError(format!("no files match {location}")));
    }
    let kind = match options.format {
        Some(kind) => kind,
        None => FormatKind::of(&found[0].name).ok_or_else(|| {
            IngestError(format!("{}: cannot tell the format from the name; say csv, jsonl or parquet", found[0].name))
        })?,
    };
    Ok(infer_found(&files, found, kind, options).await)
}

/// Infers the schema of files already listed.
pub async fn infer_found(files: &Files, found: Vec<Found>, kind: FormatKind, options: &InferOptions) -> Inferred {
    let samples: Vec<(FileSample, Option<Format>)> =
        futures_util::stream::iter(found).map(|f| sample(files, f, kind, options)).buffered(CONCURRENT).collect().await;
    let format = samples.iter().find_map(|(_, f)| *f).unwrap_or(match kind {
        FormatKind::Csv => {
            Format::Csv { delimiter: ',', header: !options.csv.no_header, encoding: domain::ingest::Encoding::Utf8 }
        }
        FormatKind::JsonLines => Format::JsonLines,
        FormatKind::Parquet => Format::Parquet,
    });
    infer::merge(format, samples.into_iter().map(|(s, _)| s).collect())
}

async fn sample(files: &Files, found: Found, kind: FormatKind, options: &InferOptions) -> (FileSample, Option<Format>) {
    let summary = infer::summary(&found.name, found.bytes);
    if let Some(other) = FormatKind::of(&found.name).filter(|k| *k != kind) {
        let reason = format!("a {other:?} file among {kind:?} files; infer them apart").to_lowercase();
        return (FileSample::unreadable(summary, reason), None);
    }
    match kind {
        FormatKind::Parquet => (parquet(files, &found, summary).await, Some(Format::Parquet)),
        FormatKind::Csv | FormatKind::JsonLines => {
            let raw = match files.range(&found.name, 0..found.bytes.min(SAMPLE_RAW_BYTES)).await {
                Ok(raw) => raw,
                Err(e) => return (FileSample::unreadable(summary, e.0), None),
            };
            let (bytes, cut) = match decompress(&raw, summary.compression, found.bytes > raw.len() as u64) {
                Ok(decoded) => decoded,
                Err(reason) => return (FileSample::unreadable(summary, reason), None),
            };
            if kind == FormatKind::Csv {
                let options = CsvOptions { max_rows: SAMPLE_ROWS, ..options.csv };
                let (sample, format) = infer::sample_csv(summary, &bytes, cut, options);
                (sample, Some(format))
            } else {
                (infer::sample_jsonl(summary, &bytes, cut, SAMPLE_ROWS), Some(Format::JsonLines))
            }
        }
    }
}

/// A reader of `raw`'s content (gzip members one after another, or zstd frames).
fn decoder<'a>(raw: &'a [u8], compression: Compression) -> Result<Box<dyn Read + 'a>, String> {
    match compression {
        Compression::None => Ok(Box::new(raw)),
        Compression::Gzip => Ok(Box::new(flate2::read::MultiGzDecoder::new(raw))),
        Compression::Zstd => zstd::stream::read::Decoder::new(raw)
            .map(|d| Box::new(d) as Box<dyn Read>)
            .map_err(|e| format!("not zstd data: {e}")),
        other => Err(format!("{} files are not read here; use gzip or zstd", other.name())),
    }
}

/// The first [`SAMPLE_BYTES`] of a file's content, and whether that is not all of it
/// (`raw_cut`: the compressed bytes are only the file's start).
pub fn decompress(raw: &[u8], compression: Compression, raw_cut: bool) -> Result<(Vec<u8>, bool), String> {
    let mut out = Vec::new();
    match decoder(raw, compression)?.take(SAMPLE_BYTES as u64 + 1).read_to_end(&mut out) {
        Ok(_) => {
            let more = out.len() > SAMPLE_BYTES;
            out.truncate(SAMPLE_BYTES);
            Ok((out, raw_cut || more))
        }
        // The sample ends inside the compressed stream: what was decoded is the sample.
        Err(_) if raw_cut && !out.is_empty() => Ok((out, true)),
        Err(e) => Err(format!("not {} data: {e}", compression.name())),
    }
}

/// All of a file's content.
pub fn decompress_all(raw: &[u8], compression: Compression) -> Result<Vec<u8>, String> {
    if compression == Compression::None {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::new();
    decoder(raw, compression)?
        .read_to_end(&mut out)
        .map(|_| out)
        .map_err(|e| format!("not {} data: {e}", compression.name()))
}

/// A Parquet file's columns and row count, from its footer alone.
async fn parquet(files: &Files, found: &Found, mut summary: domain::ingest::FileSummary) -> FileSample {
    const TAIL: u64 = 8;
    if found.bytes < 12 {
        return FileSample::unreadable(summary, format!("{} bytes: too short for Parquet", found.bytes));
    }
    let tail = match files.range(&found.name, found.bytes - TAIL..found.bytes).await {
        Ok(t) => t,
        Err(e) => return FileSample::unreadable(summary, e.0),
    };
    let Ok(tail) = <[u8; 8]>::try_from(&tail[..]) else {
        return FileSample::unreadable(summary, "the file changed while it was read".to_owned());
    };
    let footer = match parquet::file::metadata::FooterTail::try_new(&tail) {
        Ok(f) if !f.is_encrypted_footer() => f,
        Ok(_) => return FileSample::unreadable(summary, "an encrypted footer; it cannot be read here"),
        Err(_) => {
            return FileSample::unreadable(summary, "no Parquet footer at the end (truncated, or not Parquet)");
        }
    };
    let length = footer.metadata_length() as u64;
    if length + TAIL + 4 > found.bytes {
        return FileSample::unreadable(
            summary,
            format!("the footer says {length} bytes of metadata; the file is shorter (truncated)"),
        );
    }
    let start = found.bytes - TAIL - length;
    let metadata = match files.range(&found.name, start..found.bytes - TAIL).await {
        Ok(m) => m,
        Err(e) => return FileSample::unreadable(summary, e.0),
    };
    let metadata = match parquet::file::metadata::ParquetMetaDataReader::decode_metadata(&metadata) {
        Ok(m) => m,
        Err(e) => return FileSample::unreadable(summary, format!("the footer cannot be read: {e}")),
    };
    let file = metadata.file_metadata();
    summary.rows = u64::try_from(file.num_rows()).unwrap_or(0);
    summary.compression = metadata
        .row_groups()
        .first()
        .and_then(|g| g.columns().first())
        .map_or(Compression::None, |c| codec(c.compression()));
    let schema = match parquet::arrow::parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata()) {
        Ok(s) => s,
        Err(e) => return FileSample::unreadable(summary, format!("the schema cannot be read: {e}")),
    };
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let mut column = Column::typed(field.name(), column_type(field.data_type()), field.is_nullable());
            match field.data_type() {
                DataType::Int8 => column.range = Some((i8::MIN.into(), i8::MAX.into())),
                DataType::Int16 | DataType::UInt8 => column.range = Some((i16::MIN.into(), i16::MAX.into())),
                DataType::Int32 | DataType::UInt16 => column.range = Some((i32::MIN.into(), i32::MAX.into())),
                DataType::UInt32 => column.range = Some((0, u32::MAX.into())),
                DataType::UInt64 => (column.precision, column.scale) = (20, 0),
                DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
                    (column.precision, column.scale) = (*p, u8::try_from(*s).unwrap_or(0));
                }
                _ => {}
            }
            (field.name().clone(), Observed::declared(column))
        })
        .collect();
    FileSample { summary, columns, problems: Vec::new() }
}

fn codec(c: parquet::basic::Compression) -> Compression {
    use parquet::basic::Compression as C;
    match c {
        C::SNAPPY => Compression::Snappy,
        C::GZIP(_) => Compression::Gzip,
        C::ZSTD(_) => Compression::Zstd,
        C::LZ4 | C::LZ4_RAW => Compression::Lz4,
        _ => Compression::None,
    }
}

/// The load type of an Arrow type (as Parquet's footer gives it).
pub fn column_type(t: &DataType) -> ColumnType {
    match t {
        DataType::Boolean => ColumnType::Boolean,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => ColumnType::Integer,
        DataType::UInt64 => ColumnType::Decimal,
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) => ColumnType::Decimal,
        DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal256(..) => ColumnType::Float,
        DataType::Date32 | DataType::Date64 => ColumnType::Date,
        DataType::Timestamp(_, None) => ColumnType::Timestamp,
        DataType::Timestamp(_, Some(_)) => ColumnType::TimestampTz,
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => ColumnType::Json,
        _ => ColumnType::Text,
    }
}
