//! Writing a step's rows as files: first under a temporary name beside the target, then published
//! whole by renaming, so a reader sees the old output or the new one, never half of either.

use crate::objects::Bucket;
use crate::{RunError, refuse};
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::{DataFrame, DataFrameWriteOptions};
use domain::pipeline::FileFormat;
use std::path::{Component, Path, PathBuf};

/// A path from the file, inside the connection's folder: neither absolute nor climbing out.
pub(crate) fn inside(root: &Path, relative: &str, step: &str) -> Result<PathBuf, RunError> {
    let path = Path::new(relative);
    if path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        Ok(root.join(path))
    } else {
        Err(refuse(step, format!("`{relative}` leaves the connection's folder: give a path inside it")))
    }
}

/// Output written under a temporary name, waiting to be published.
pub(crate) struct Staged {
    pub step: String,
    /// Where it goes: a path, or `s3://bucket/key`.
    pub target: String,
    pub rows: u64,
    /// The size of the files written.
    pub bytes: u64,
    at: At,
}

enum At {
    Folder { temporary: PathBuf, target: PathBuf },
    Bucket { bucket: Bucket, temporary: String, target: String },
}

impl Staged {
    /// Replaces the target with the staged output (the earlier output of the same parameters, if
    /// any, goes away only once the new one is in place).
    pub async fn publish(&self) -> Result<(), RunError> {
        let failed = |e: &dyn std::fmt::Display| refuse(&self.step, format!("cannot publish {}: {e}", self.target));
        match &self.at {
            At::Folder { temporary, target } => replace_folder(temporary, target).map_err(|e| failed(&e)),
            At::Bucket { bucket, temporary, target } => {
                bucket.publish(temporary, target).await.map_err(|e| failed(&crate::objects::said(&e)))
            }
        }
    }

    pub async fn discard(&self) {
        match &self.at {
            At::Folder { temporary, .. } => {
                let _ = std::fs::remove_dir_all(temporary);
            }
            At::Bucket { bucket, temporary, .. } => bucket.discard(temporary).await,
        }
    }
}

fn replace_folder(temporary: &Path, target: &Path) -> std::io::Result<()> {
    let old = sibling(target, "old");
    let had_old = target.exists();
    if had_old {
        std::fs::rename(target, &old)?;
    }
    if let Err(e) = std::fs::rename(temporary, target) {
        if had_old {
            let _ = std::fs::rename(&old, target);
        }
        return Err(e);
    }
    if had_old {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// `.NAME.WHAT-PID-NANOS` beside `path`.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    path.with_file_name(format!(".{name}.{what}-{}-{nanos}", std::process::id()))
}

/// `.NAME.WHAT-PID-NANOS` beside `key` in a bucket.
fn sibling_key(key: &str, what: &str) -> String {
    let name = sibling(Path::new(key), what);
    name.to_string_lossy().into_owned()
}

pub(crate) async fn stage_files(
    df: DataFrame,
    step: &str,
    place: &Place,
    path: &str,
    format: FileFormat,
    partition_by: &[String],
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Staged, RunError> {
    let failed = crate::failed(step);
    let (dir, staged) = match place {
        Place::Folder(root) => {
            let target = inside(root, path, step)?;
            if target == *root {
                return Err(refuse(step, "give a path below the connection's folder".into()));
            }
            let temporary = sibling(&target, "tmp");
            std::fs::create_dir_all(&temporary)
                .map_err(|e| refuse(step, format!("cannot write {}: {e}", temporary.display())))?;
            let dir = format!("{}/", temporary.display());
            let shown = target.display().to_string();
            (
                dir,
                Staged {
                    step: step.to_owned(),
                    target: shown,
                    rows: 0,
                    bytes: 0,
                    at: At::Folder { temporary, target },
                },
            )
        }
        Place::Bucket(bucket) => {
            inside(Path::new(""), path, step)?;
            if path.trim_matches('/').is_empty() {
                return Err(refuse(step, "give a path below the connection's prefix".into()));
            }
            let target = bucket.key(path);
            let temporary = sibling_key(&target, "tmp");
            let dir = format!("{}/", bucket.location(&temporary));
            let shown = bucket.location(&target);
            let at = At::Bucket { bucket: bucket.clone(), temporary, target };
            (dir, Staged { step: step.to_owned(), target: shown, rows: 0, bytes: 0, at })
        }
    };
    let rows = df.clone().count().await.map_err(&failed);
    let written = async {
        let rows = rows? as u64;
        match partition_by {
            [] => write(df, dir.clone(), DataFrameWriteOptions::new(), format).await,
            keys => write_partitioned(df, &dir, keys, format).await,
        }
        .map_err(|e| match &staged.at {
            // DataFusion reports a write that ran out of space as an internal error of its own
            // ("error encountered while finalizing writes"): the disk is asked directly.
            At::Folder { temporary, .. } if disk_full(temporary) => refuse(
                step,
                format!(
                    "the disk holding {} is full (No space left on device): free some space or write elsewhere; \
                     nothing was published",
                    staged.target
                ),
            ),
            _ => match e {
                WriteError::Engine(e) => failed(e),
                value => refuse(step, value.to_string()),
            },
        })?;
        let bytes = match &staged.at {
            At::Folder { temporary, .. } => folder_size(temporary),
            At::Bucket { bucket, temporary, .. } => bucket
                .size(temporary)
                .await
                .map_err(|e| refuse(step, format!("cannot list what was written: {}", crate::objects::said(&e))))?,
        };
        Ok((rows, bytes))
    };
    let written = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(RunError::Cancelled),
        written = written => written,
    };
    match written {
        Ok((rows, bytes)) => Ok(Staged { rows, bytes, ..staged }),
        Err(e) => {
            staged.discard().await;
            Err(e)
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Engine(#[from] datafusion::error::DataFusionError),
    /// A partition column's value that cannot name a folder.
    #[error("{0}")]
    Value(String),
}

/// The step's rows as files in `dir` (a folder's path or a bucket's URL, ending in `/`), or as
/// the one file the options say.
async fn write(
    df: DataFrame,
    dir: String,
    options: DataFrameWriteOptions,
    format: FileFormat,
) -> Result<(), WriteError> {
    match format {
        FileFormat::Parquet => {
            let sample = df.clone().limit(0, Some(SAMPLE))?.collect().await?;
            let sample = datafusion::arrow::compute::concat_batches(df.schema().inner(), &sample)
                .map_err(|e| WriteError::Engine(e.into()))?;
            // The session's Parquet settings (`DATAFUSION_EXECUTION_PARQUET_*`), with MCMS's choices.
            let session = df.clone().into_parts().0.default_table_options().parquet;
            df.write_parquet(&dir, options, Some(parquet_options(session, &sample))).await?
        }
        FileFormat::Csv => df.write_csv(&dir, options, None).await?,
        FileFormat::Jsonl => df.write_json(&dir, options, None).await?,
    };
    Ok(())
}

/// The first rows of a Parquet file's rows, looked at to choose each column's encoding.
const SAMPLE: usize = 4096;

/// How the Parquet files of rows that begin as `sample` are written: the session's settings,
/// except that the compression is Snappy unless a setting chose another (what Redshift and
/// Snowflake load fastest, and cheap to write), and that text columns whose values hardly repeat
/// in the sample (ids, invoice numbers, notes) get no dictionary, which is work that saves
/// nothing there: the writer builds one until it reaches its size limit (1 MB) and then writes
/// the values plainly anyway. Measured in docs/benchmarks.md.
fn parquet_options(
    mut parquet: TableParquetOptions,
    sample: &datafusion::arrow::array::RecordBatch,
) -> TableParquetOptions {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::config::{ParquetColumnOptions, ParquetOptions};

    if parquet.global.compression == ParquetOptions::default().compression {
        parquet.global.compression = Some("snappy".into());
    }
    let rows = sample.num_rows().min(SAMPLE);
    // A few hundred rows say nothing of the rest.
    if rows < 1024 {
        return parquet;
    }
    for (field, column) in sample.schema().fields().iter().zip(sample.columns()) {
        let text = match field.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                datafusion::arrow::compute::cast(&column.slice(0, rows), &DataType::Utf8)
            }
            _ => continue,
        };
        let Ok(text) = text else { continue };
        let distinct: std::collections::HashSet<&str> = text.as_string::<i32>().iter().flatten().collect();
        if distinct.len() * 2 > rows {
            let plain = ParquetColumnOptions { dictionary_enabled: Some(false), ..Default::default() };
            parquet.column_specific_options.entry(field.name().clone()).or_insert(plain);
        }
    }
    parquet
}

/// The rows split by the values of the `keys` columns, each part written as one file in its
/// own folder, `dir/KEY=VALUE/…/part-0.EXT` (Hive's layout; an empty value is Hive's
/// `__HIVE_DEFAULT_PARTITION__`), the parts at the same time. DataFusion's own partitioned write
/// sends every row through one task that makes strings of each row's keys to find its part; here
/// the batches' keys are compared in arrow's row format on every thread, and each part's rows are
/// copied once, straight into the batches it is written from, in the task that writes it
/// (measured in docs/benchmarks.md).
async fn write_partitioned(df: DataFrame, dir: &str, keys: &[String], format: FileFormat) -> Result<(), WriteError> {
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::compute::{cast, interleave_record_batch};
    use datafusion::arrow::datatypes::DataType;
    use datafusion::arrow::error::ArrowError;
    use datafusion::arrow::row::{Row, RowConverter, SortField};
    use std::collections::HashMap;
    use std::sync::Arc;

    /// Rows per batch a part is written from: the Parquet writer took 0.78 s for the benchmark's
    /// parts as taken from each batch (a few hundred rows each) and 0.55 s joined.
    const ROWS: usize = 131_072;
    let engine = |e: ArrowError| WriteError::Engine(e.into());
    let schema = df.schema().as_arrow().clone();
    let at: Vec<usize> = keys.iter().map(|k| schema.index_of(k)).collect::<Result<_, _>>().map_err(engine)?;
    let kept: Vec<usize> = (0..schema.fields().len()).filter(|i| !at.contains(i)).collect();
    let converter = RowConverter::new(vec![SortField::new(DataType::Utf8); keys.len()]).map_err(engine)?;
    // The parts are written in the run's session (its object stores, its engine).
    let ctx = datafusion::prelude::SessionContext::new_with_state(df.clone().into_parts().0);
    let threads = ctx.state().config().target_partitions().clamp(1, 64);
    let batches = df.collect().await?;
    // Each batch's parts: the key (in the row format), its folder, and the batch's rows in it.
    let split = crate::in_parallel(threads, batches.len(), |b| {
        let batch = &batches[b];
        let values: Vec<_> =
            at.iter().map(|&i| cast(batch.column(i), &DataType::Utf8)).collect::<Result<_, _>>().map_err(engine)?;
        let rows = converter.convert_columns(&values).map_err(engine)?;
        let mut taken: HashMap<Row<'_>, Vec<usize>> = HashMap::new();
        for (r, row) in rows.iter().enumerate() {
            taken.entry(row).or_default().push(r);
        }
        taken
            .into_iter()
            .map(|(row, rows)| Ok((row.data().to_vec(), folder(keys, &values, rows[0])?, rows)))
            .collect::<Result<Vec<_>, WriteError>>()
    })?;
    // Each part's folder and rows, (batch, row) in the order they came.
    let mut parts: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    let mut part_of: HashMap<Vec<u8>, usize> = HashMap::new();
    for (b, batch_parts) in split.into_iter().enumerate() {
        for (key, folder, rows) in batch_parts {
            let part = *part_of.entry(key).or_insert_with(|| {
                parts.push((folder, Vec::new()));
                parts.len() - 1
            });
            parts[part].1.extend(rows.into_iter().map(|r| (b, r)));
        }
    }
    let batches: Arc<Vec<RecordBatch>> =
        Arc::new(batches.iter().map(|b| b.project(&kept)).collect::<Result<_, _>>().map_err(engine)?);
    let schema = Arc::new(schema.project(&kept).map_err(engine)?);
    let extension = match format {
        FileFormat::Parquet => "parquet",
        FileFormat::Csv => "csv",
        FileFormat::Jsonl => "json",
    };
    // Each part in a task of its own; dropped (a failure, a cancel), the others stop.
    let mut writing = tokio::task::JoinSet::new();
    for (folder, rows) in parts {
        let (ctx, batches, schema) = (ctx.clone(), batches.clone(), schema.clone());
        let path = format!("{dir}{folder}/part-0.{extension}");
        writing.spawn(async move {
            let from: Vec<&RecordBatch> = batches.iter().collect();
            let part = rows
                .chunks(ROWS)
                .map(|rows| interleave_record_batch(&from, rows))
                .collect::<Result<Vec<_>, _>>()
                .map_err(engine)?;
            let table = datafusion::datasource::MemTable::try_new(schema, vec![part])?;
            let part = ctx.read_table(Arc::new(table))?;
            write(part, path, DataFrameWriteOptions::new().with_single_file_output(true), format).await
        });
    }
    while let Some(done) = writing.join_next().await {
        done.map_err(|e| WriteError::Engine(datafusion::error::DataFusionError::External(Box::new(e))))??;
    }
    Ok(())
}

/// `KEY=VALUE/…` of the row `r` of the keys' `values` (as text).
fn folder(keys: &[String], values: &[datafusion::arrow::array::ArrayRef], r: usize) -> Result<String, WriteError> {
    use datafusion::arrow::array::{Array, AsArray};
    let mut path = Vec::new();
    for (key, v) in keys.iter().zip(values) {
        let v = v.as_string::<i32>();
        let value = if v.is_null(r) || v.value(r).is_empty() { "__HIVE_DEFAULT_PARTITION__" } else { v.value(r) };
        if value.contains(['/', '\\']) || value == "." || value == ".." {
            return Err(WriteError::Value(format!(
                "the column `{key}` has the value `{value}`, which cannot name a folder of the output \
                 (partition_by): change the value or partition by another column"
            )));
        }
        path.push(format!("{key}={value}"));
    }
    Ok(path.join("/"))
}

/// Whether the disk holding `dir` has no room for 64 KB more.
fn disk_full(dir: &Path) -> bool {
    let probe = dir.join(".mcms-space-probe");
    let full =
        matches!(std::fs::write(&probe, vec![0u8; 64 * 1024]), Err(e) if e.kind() == std::io::ErrorKind::StorageFull);
    let _ = std::fs::remove_file(&probe);
    full
}

/// The size of the files under `dir`, however deep.
fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => folder_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Where a file connection's files are: a folder inside the data folder, or a bucket's prefix.
pub(crate) enum Place {
    Folder(PathBuf),
    Bucket(Bucket),
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use std::sync::Arc;

    fn sample(rows: usize) -> RecordBatch {
        let repeating: ArrayRef = Arc::new(StringArray::from_iter_values((0..rows).map(|i| ["KR", "JP", "US"][i % 3])));
        let unique: ArrayRef = Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("INV-{i}"))));
        let numbers: ArrayRef = Arc::new(Int64Array::from_iter_values((0..rows).map(|i| i as i64)));
        RecordBatch::try_from_iter([("country", repeating), ("invoice", unique), ("amount", numbers)]).unwrap()
    }

    #[test]
    fn parquet_is_snappy_unless_set_and_text_that_hardly_repeats_gets_no_dictionary() {
        let options = parquet_options(TableParquetOptions::default(), &sample(5_000));
        assert_eq!(options.global.compression.as_deref(), Some("snappy"));
        let plain: Vec<&String> = options.column_specific_options.keys().collect();
        assert_eq!(plain, ["invoice"], "only the text column of distinct values");
        assert_eq!(options.column_specific_options["invoice"].dictionary_enabled, Some(false));

        // A compression the session chose (DATAFUSION_EXECUTION_PARQUET_COMPRESSION) stays.
        let mut chosen = TableParquetOptions::default();
        chosen.global.compression = Some("zstd(1)".into());
        assert_eq!(parquet_options(chosen, &sample(5_000)).global.compression.as_deref(), Some("zstd(1)"));
        // A few hundred rows say nothing of the rest: every column keeps its dictionary.
        assert!(parquet_options(TableParquetOptions::default(), &sample(500)).column_specific_options.is_empty());
    }
}
