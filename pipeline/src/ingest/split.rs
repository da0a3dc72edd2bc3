//! Rewriting files into a planned layout with DataFusion: read with the inferred schema, dealt
//! round-robin into the planned number of files, written as Parquet (Snappy) or CSV (gzip) into a
//! hidden folder beside the output and moved into place only when every file is written.

use super::files::{Files, Found, Place};
use super::{FormatKind, IngestError, decompress_all};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionContext};
use domain::ingest::plan::{Layout, LayoutFormat};
use domain::ingest::{ColumnType, Compression, Encoding, Format, Inferred};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// One file written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub name: String,
    pub bytes: u64,
    pub rows: u64,
}

/// What a rewrite did.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewrite {
    pub files: Vec<Written>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub rows: u64,
    pub seconds: f64,
}

impl Rewrite {
    /// The rewrite in figures, `inputs` files having been read.
    pub fn figures(&self, inputs: usize) -> domain::ingest::plan::Rewritten {
        domain::ingest::plan::Rewritten {
            inputs: inputs as u64,
            files: self.files.len() as u64,
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            rows: self.rows,
            seconds: self.seconds,
        }
    }
}

/// The Arrow schema a rewrite reads CSV and JSON Lines with: the inferred types (so a value that
/// does not fit stops the rewrite, naming it, instead of changing the column).
pub fn arrow_schema(inferred: &Inferred) -> SchemaRef {
    let fields: Vec<Field> = inferred
        .columns
        .iter()
        .map(|c| {
            let t = match c.ty {
                ColumnType::Boolean => DataType::Boolean,
                ColumnType::Integer => DataType::Int64,
                ColumnType::Decimal => DataType::Decimal128(c.decimal().0, c.decimal().1 as i8),
                ColumnType::Float => DataType::Float64,
                ColumnType::Date => DataType::Date32,
                ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
                ColumnType::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                ColumnType::Text | ColumnType::Json => DataType::Utf8,
            };
            Field::new(&c.name, t, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Rewrites `found` (inferred as `inferred`) into `layout` under `out` (a local folder), named
/// `part-00000.parquet`…; files already there with those names are replaced, others are kept.
pub async fn rewrite(
    files: &Files,
    found: &[Found],
    inferred: &Inferred,
    layout: &Layout,
    out: &Path,
) -> Result<Rewrite, IngestError> {
    let started = Instant::now();
    std::fs::create_dir_all(out).map_err(|e| IngestError(format!("{}: {e}", out.display())))?;
    let staging = out.join(format!(".mcms-rewrite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| IngestError(format!("{}: {e}", staging.display())))?;
    let result = write_all(files, found, inferred, layout, &staging).await;
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    for w in &written {
        std::fs::rename(staging.join(&w.name), out.join(&w.name))
            .map_err(|e| IngestError(format!("{}: {e}", out.join(&w.name).display())))?;
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(Rewrite {
        bytes_in: found.iter().map(|f| f.bytes).sum(),
        bytes_out: written.iter().map(|w| w.bytes).sum(),
        rows: written.iter().map(|w| w.rows).sum(),
        files: written,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn write_all(
    files: &Files,
    found: &[Found],
    inferred: &Inferred,
    layout: &Layout,
    staging: &Path,
) -> Result<Vec<Written>, IngestError> {
    let ctx = SessionContext::new();
    let kind = match inferred.format {
        Format::Csv { .. } => FormatKind::Csv,
        Format::JsonLines => FormatKind::JsonLines,
        Format::Parquet => FormatKind::Parquet,
    };
    let readable: Vec<&Found> = found
        .iter()
        .filter(|f| {
            !inferred
                .problems
                .iter()
                .any(|p| matches!(p, domain::ingest::Problem::Unreadable { file, .. } if *file == f.name))
        })
        .collect();
    if readable.is_empty() {
        return Err(IngestError("no readable files to rewrite".into()));
    }
    let paths = inputs(files, &readable, inferred, &ctx, staging).await?;
    let said = |e: datafusion::error::DataFusionError| IngestError(e.to_string().replace('\n', " "));
    let df = match (kind, inferred.format) {
        (FormatKind::Csv, Format::Csv { delimiter, header, .. }) => {
            let schema = arrow_schema(inferred);
            let delimiter =
                u8::try_from(delimiter).map_err(|_| IngestError(format!("delimiter {delimiter:?} is not one byte")))?;
            let options =
                CsvReadOptions::new().schema(&schema).has_header(header).delimiter(delimiter).file_extension("");
            ctx.read_csv(paths, options).await.map_err(said)?
        }
        (FormatKind::JsonLines, _) => {
            let schema = arrow_schema(inferred);
            let options = JsonReadOptions::default().schema(&schema).newline_delimited(true).file_extension("");
            ctx.read_json(paths, options).await.map_err(said)?
        }
        _ => ctx.read_parquet(paths, ParquetReadOptions::default().file_extension("")).await.map_err(said)?,
    };
    // When the row count is known (every file read whole, or Parquet), each file is filled in
    // turn with its share of the rows: exactly the planned count, one writer open at a time.
    // Otherwise batches are dealt round-robin to all the files at once (DataFusion's own
    // round-robin repartition is optimised away when the scan has enough partitions), with row
    // groups sized so the writers together buffer about 256 MB.
    let parts = usize::try_from(layout.files.max(1)).unwrap_or(1);
    let rows_in: u64 = inferred.files.iter().map(|f| f.rows).sum();
    let known = rows_in > 0 && !inferred.files.iter().any(|f| f.sampled);
    let share = if known { rows_in.div_ceil(parts as u64) as usize } else { 0 };
    let row_bytes = if known { (found.iter().map(|f| f.bytes).sum::<u64>() / rows_in).max(8) } else { 100 };
    let open_at_once = if known { 1 } else { parts as u64 };
    let group_rows = ((256u64 << 20) / (open_at_once * row_bytes)).clamp(8_192, 1 << 20) as usize;
    let extension = match layout.format {
        LayoutFormat::Parquet => "parquet",
        LayoutFormat::Csv => "csv.gz",
    };
    let mut stream = df.execute_stream().await.map_err(said)?;
    let schema = stream.schema();
    let mut sinks: Vec<Option<(Sink, u64)>> = (0..parts).map(|_| None).collect();
    let (mut dealt, mut current) = (0usize, 0usize);
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(said)?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let (slot, piece) = if known {
                let filled = sinks[current].as_ref().map_or(0, |(_, rows)| *rows as usize);
                if filled >= share && current + 1 < parts {
                    current += 1;
                    continue;
                }
                let room = if current + 1 < parts { share - filled } else { usize::MAX };
                (current, batch.slice(offset, room.min(batch.num_rows() - offset)))
            } else {
                dealt += 1;
                ((dealt - 1) % parts, batch.slice(offset, batch.num_rows() - offset))
            };
            offset += piece.num_rows();
            let sink = &mut sinks[slot];
            if sink.is_none() {
                let path = staging.join(format!("part-{slot:05}.{extension}"));
                let file = std::fs::File::create(&path).map_err(|e| IngestError(format!("{}: {e}", path.display())))?;
                *sink = Some((Sink::new(layout.format, file, &schema, group_rows)?, 0));
            }
            if let Some((sink, rows)) = sink {
                sink.write(&piece)?;
                *rows += piece.num_rows() as u64;
            }
        }
    }
    let mut written = Vec::new();
    for (i, slot) in sinks.into_iter().enumerate() {
        // More files planned than batches to deal: no empty files.
        let Some((sink, rows)) = slot else { continue };
        sink.close()?;
        let name = format!("part-{i:05}.{extension}");
        let bytes = std::fs::metadata(staging.join(&name)).map(|m| m.len()).unwrap_or(0);
        written.push(Written { name, bytes, rows });
    }
    // Staged inputs (decompressed or re-encoded) go with the staging folder.
    let _ = std::fs::remove_dir_all(staging.join("in"));
    Ok(written)
}

/// The paths DataFusion reads: the files themselves when it can read them as they are, otherwise
/// a decompressed UTF-8 copy in the staging folder (DataFusion reads neither gzip nor CP949 here).
async fn inputs(
    files: &Files,
    found: &[&Found],
    inferred: &Inferred,
    ctx: &SessionContext,
    staging: &Path,
) -> Result<Vec<String>, IngestError> {
    let cp949 = matches!(inferred.format, Format::Csv { encoding: Encoding::Cp949, .. });
    let mut paths = Vec::new();
    for f in found {
        let compression = Compression::from_name(&f.name);
        let as_is = compression == Compression::None && !cp949;
        match &files.0 {
            Place::Local { root } if as_is => paths.push(root.join(&f.name).to_string_lossy().into_owned()),
            Place::S3 { bucket, folder, .. } if as_is => {
                ctx.register_object_store(&bucket.url, bucket.store.clone());
                let key = if folder.is_empty() { f.name.clone() } else { format!("{folder}/{}", f.name) };
                paths.push(bucket.location(&key));
            }
            _ => {
                let raw = files.read(f).await?;
                let mut bytes =
                    decompress_all(&raw, compression).map_err(|e| IngestError(format!("{}: {e}", f.name)))?;
                if cp949 {
                    let (text, _, bad) = encoding_rs::EUC_KR.decode(&bytes);
                    if bad {
                        return Err(IngestError(format!("{}: not CP949 throughout", f.name)));
                    }
                    bytes = text.into_owned().into_bytes();
                }
                let path: PathBuf = staging.join("in").join(format!("{:05}", paths.len()));
                std::fs::create_dir_all(staging.join("in")).map_err(|e| IngestError(e.to_string()))?;
                std::fs::write(&path, bytes).map_err(|e| IngestError(format!("{}: {e}", path.display())))?;
                paths.push(path.to_string_lossy().into_owned());
            }
        }
    }
    Ok(paths)
}

enum Sink {
    Parquet(Box<parquet::arrow::ArrowWriter<std::fs::File>>),
    Csv(Box<datafusion::arrow::csv::Writer<flate2::write::GzEncoder<std::fs::File>>>),
}

impl Sink {
    fn new(
        format: LayoutFormat,
        file: std::fs::File,
        schema: &SchemaRef,
        group_rows: usize,
    ) -> Result<Sink, IngestError> {
        Ok(match format {
            LayoutFormat::Parquet => {
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(group_rows))
                    .build();
                Sink::Parquet(Box::new(
                    parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props))
                        .map_err(|e| IngestError(e.to_string()))?,
                ))
            }
            LayoutFormat::Csv => {
                let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
                Sink::Csv(Box::new(datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(gz)))
            }
        })
    }

    fn write(&mut self, batch: &datafusion::arrow::array::RecordBatch) -> Result<(), IngestError> {
        match self {
            Sink::Parquet(w) => w.write(batch).map_err(|e| IngestError(e.to_string())),
            Sink::Csv(w) => w.write(batch).map_err(|e| IngestError(e.to_string())),
        }
    }

    fn close(self) -> Result<(), IngestError> {
        match self {
            Sink::Parquet(w) => w.close().map(|_| ()).map_err(|e| IngestError(e.to_string())),
            Sink::Csv(w) => (*w).into_inner().finish().map(|_| ()).map_err(|e| IngestError(e.to_string())),
        }
    }
}

/// Output bytes per input byte for rewriting these files into `format`, measured by rewriting the
/// first readable file when it is small (at most 16 MB), else `None` (then the plan assumes 1).
pub async fn trial_ratio(files: &Files, found: &[Found], inferred: &Inferred, format: LayoutFormat) -> Option<f64> {
    const MOST: u64 = 16 << 20;
    let first = found.iter().find(|f| {
        f.bytes > 0
            && !inferred
                .problems
                .iter()
                .any(|p| matches!(p, domain::ingest::Problem::Unreadable { file, .. } if *file == f.name))
    })?;
    if first.bytes > MOST {
        return None;
    }
    let scratch = std::env::temp_dir().join(format!("mcms-trial-{}-{}", std::process::id(), first.bytes));
    let layout = Layout {
        format,
        compression: format.compression(),
        files: 1,
        file_bytes: first.bytes,
        total_bytes: first.bytes,
    };
    let done = rewrite(files, std::slice::from_ref(first), inferred, &layout, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let done = done.ok()?;
    (done.bytes_in > 0).then(|| done.bytes_out as f64 / done.bytes_in as f64)
}

/// Files surveyed for a load: where they are, what they hold, and how to lay them out.
pub struct Survey {
    pub files: Files,
    pub found: Vec<Found>,
    pub inferred: Inferred,
    pub plan: domain::ingest::plan::SplitPlan,
}

/// Lists and infers the files `location` names, then plans their layout for `to` on a Redshift
/// cluster of `slices` slices, estimating from the PoC's recorded `runs` (the command line and
/// the pages plan alike).
pub async fn survey(
    location: &str,
    secrets: &crate::Secrets,
    options: &super::InferOptions,
    to: LayoutFormat,
    slices: u64,
    runs: &[domain::poc::Run],
) -> Result<Survey, IngestError> {
    let (files, pattern) = Files::open(location, secrets)?;
    let found = files.list(&pattern).await?;
    let Some(first) = found.first() else {
        return Err(IngestError(format!("no files match {location}")));
    };
    let kind = match options.format {
        Some(kind) => kind,
        None => FormatKind::of(&first.name).ok_or_else(|| {
            IngestError(format!("{}: cannot tell the format from the name; say csv, jsonl or parquet", first.name))
        })?,
    };
    let inferred = super::infer_found(&files, found.clone(), kind, options).await;
    let ratio = match inferred.format {
        Format::Parquet if to == LayoutFormat::Parquet => Some(1.0),
        _ => trial_ratio(&files, &found, &inferred, to).await,
    };
    let mut plan =
        domain::ingest::plan::plan(&inferred.files, &inferred.format, to, ratio.unwrap_or(1.0), slices, runs);
    if ratio.is_none() {
        plan.notes.push(
            "the rewritten size is assumed equal to the input's (the first file is too large to try); a split measures it"
                .into(),
        );
    }
    Ok(Survey { files, found, inferred, plan })
}

/// [`rewrite`] into `out`: a local folder, or `s3://bucket/prefix/`. For S3 the files are written
/// in a local scratch folder first, then each is put under the prefix (an object appears whole or
/// not at all; objects of the same names are replaced, others kept, as in a folder). The time
/// reported includes the upload.
pub async fn rewrite_to(
    files: &Files,
    found: &[Found],
    inferred: &Inferred,
    layout: &Layout,
    out: &str,
    secrets: &crate::Secrets,
) -> Result<Rewrite, IngestError> {
    use object_store::ObjectStoreExt as _;
    let Some(rest) = out.strip_prefix("s3://") else {
        return rewrite(files, found, inferred, layout, Path::new(out)).await;
    };
    let started = Instant::now();
    let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if name.is_empty() {
        return Err(IngestError(format!("{out}: no bucket name")));
    }
    let connection = domain::pipeline::Connection::S3 {
        bucket: name.to_owned(),
        prefix: prefix.trim_matches('/').to_owned(),
        region: None,
        endpoint_env: secrets.get("AWS_ENDPOINT_URL").map(|_| "AWS_ENDPOINT_URL".to_owned()),
        access_key_id_env: None,
        secret_access_key_env: None,
    };
    let bucket = crate::objects::bucket(&connection, secrets, "split").map_err(|e| IngestError(e.to_string()))?;
    let scratch =
        std::env::temp_dir().join(format!("mcms-split-{}-{}", std::process::id(), started.elapsed().as_nanos()));
    let result = async {
        let mut done = rewrite(files, found, inferred, layout, &scratch).await?;
        for w in &done.files {
            let bytes =
                tokio::fs::read(scratch.join(&w.name)).await.map_err(|e| IngestError(format!("{}: {e}", w.name)))?;
            let key = object_store::path::Path::from(bucket.key(&w.name));
            bucket
                .store
                .put(&key, bytes.into())
                .await
                .map_err(|e| IngestError(format!("{}: {}", bucket.location(key.as_ref()), crate::objects::said(&e))))?;
        }
        done.seconds = started.elapsed().as_secs_f64();
        Ok(done)
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
