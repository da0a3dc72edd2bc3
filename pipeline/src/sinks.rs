//! Writing a step's rows as files: first under a temporary name beside the target, then published
//! whole by renaming, so a reader sees the old output or the new one, never half of either.

use crate::{RunError, refuse};
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
#[derive(Debug)]
pub(crate) struct Staged {
    pub step: String,
    pub target: PathBuf,
    pub rows: u64,
    temporary: PathBuf,
}

impl Staged {
    /// Replaces the target with the staged output (the earlier output of the same parameters, if
    /// any, goes away only once the new one is in place).
    pub fn publish(&self) -> std::io::Result<()> {
        let old = sibling(&self.target, "old");
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &old)?;
        }
        if let Err(e) = std::fs::rename(&self.temporary, &self.target) {
            if had_old {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(e);
        }
        if had_old {
            std::fs::remove_dir_all(&old)?;
        }
        Ok(())
    }

    pub fn discard(&self) {
        let _ = std::fs::remove_dir_all(&self.temporary);
    }
}

/// `.NAME.WHAT-PID-NANOS` beside `path`.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    path.with_file_name(format!(".{name}.{what}-{}-{nanos}", std::process::id()))
}

pub(crate) async fn stage_files(
    df: DataFrame,
    step: &str,
    root: &Path,
    path: &str,
    format: FileFormat,
    partition_by: &[String],
) -> Result<Staged, RunError> {
    let failed = crate::failed(step);
    let target = inside(root, path, step)?;
    if target == root {
        return Err(refuse(step, "give a path below the connection's folder".into()));
    }
    let temporary = sibling(&target, "tmp");
    let io = |e: std::io::Error| refuse(step, format!("cannot write {}: {e}", temporary.display()));
    std::fs::create_dir_all(&temporary).map_err(io)?;
    let staged = Staged { step: step.to_owned(), target, rows: 0, temporary };
    let rows = df.clone().count().await.map_err(&failed);
    let written = async {
        let rows = rows? as u64;
        let dir = format!("{}/", staged.temporary.display());
        let options = DataFrameWriteOptions::new().with_partition_by(partition_by.to_vec());
        match format {
            FileFormat::Parquet => df.write_parquet(&dir, options, None).await,
            FileFormat::Csv => df.write_csv(&dir, options, None).await,
            FileFormat::Jsonl => df.write_json(&dir, options, None).await,
        }
        .map_err(&failed)?;
        Ok(rows)
    }
    .await;
    match written {
        Ok(rows) => Ok(Staged { rows, ..staged }),
        Err(e) => {
            staged.discard();
            Err(e)
        }
    }
}
