//! Files in a local folder or an S3 bucket, found by glob and read by byte range.

use super::IngestError;
use crate::Secrets;
use crate::objects::{Bucket, bucket, said};
use domain::pipeline::Connection;
use futures_util::TryStreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The most files one location may name.
pub const MAX_FILES: usize = 10_000;

/// Where files are.
#[derive(Clone)]
pub struct Files(pub(crate) Place);

#[derive(Clone)]
pub(crate) enum Place {
    Local {
        root: PathBuf,
    },
    /// A bucket, and the folder (key prefix) names are relative to.
    S3 {
        bucket: Bucket,
        name: String,
        folder: String,
    },
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// One file found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The path under the location's folder (`2026/12/a.csv`).
    pub name: String,
    pub bytes: u64,
    /// S3's ETag; a local file has none.
    pub etag: Option<String>,
    pub modified: Option<time::OffsetDateTime>,
}

fn wildcard(text: &str) -> Option<usize> {
    text.find(['*', '?', '['])
}

/// A location split where its wildcards start: the folder to list, and the pattern under it.
fn split(location: &str) -> (&str, &str) {
    let fixed_end = wildcard(location).unwrap_or(location.len());
    match location[..fixed_end].rfind('/') {
        Some(slash) => (&location[..slash], &location[slash + 1..]),
        None => ("", location),
    }
}

fn options() -> glob::MatchOptions {
    glob::MatchOptions { case_sensitive: true, require_literal_separator: true, require_literal_leading_dot: true }
}

impl Files {
    /// Where `location` points (`s3://bucket/prefix/*.csv`, `data/agency`, `/srv/in/*.jsonl`), and
    /// the glob under it. S3's keys come from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, an
    /// S3-compatible server's address from `AWS_ENDPOINT_URL`.
    pub fn open(location: &str, secrets: &Secrets) -> Result<(Files, String), IngestError> {
        let location = location.trim();
        if location.is_empty() {
            return Err(IngestError("no location: give a folder, a file, a glob or an s3:// prefix".into()));
        }
        if let Some(rest) = location.strip_prefix("s3://") {
            let (name, key) = rest.split_once('/').unwrap_or((rest, ""));
            if name.is_empty() {
                return Err(IngestError(format!("{location}: no bucket name")));
            }
            let connection = Connection::S3 {
                bucket: name.to_owned(),
                prefix: String::new(),
                region: None,
                endpoint_env: secrets.get("AWS_ENDPOINT_URL").map(|_| "AWS_ENDPOINT_URL".to_owned()),
                access_key_id_env: None,
                secret_access_key_env: None,
            };
            let bucket = bucket(&connection, secrets, "ingest").map_err(|e| IngestError(e.to_string()))?;
            let key = key.trim_end_matches('/');
            // Without wildcards, a key with a file extension is a file, anything else a folder.
            let (folder, pattern) = match wildcard(key) {
                Some(_) => {
                    let (folder, pattern) = split(key);
                    (folder.to_owned(), pattern.to_owned())
                }
                None if super::FormatKind::of(key).is_some() => {
                    let (folder, name) = key.rsplit_once('/').unwrap_or(("", key));
                    (folder.to_owned(), glob::Pattern::escape(name))
                }
                None => (key.to_owned(), "**/*".to_owned()),
            };
            return Ok((Files(Place::S3 { bucket, name: name.to_owned(), folder }), pattern));
        }
        let path = Path::new(location);
        if wildcard(location).is_none() {
            if path.is_dir() {
                return Ok((Files(Place::Local { root: path.to_path_buf() }), "**/*".into()));
            }
            if path.is_file() {
                let root = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                return Ok((Files(Place::Local { root }), glob::Pattern::escape(&name)));
            }
            return Err(IngestError(format!("{location}: no such file or folder")));
        }
        let (folder, pattern) = split(location);
        let root = if folder.is_empty() { PathBuf::from(".") } else { PathBuf::from(folder) };
        if !root.is_dir() {
            return Err(IngestError(format!("{}: no such folder", root.display())));
        }
        Ok((Files(Place::Local { root }), pattern.to_owned()))
    }

    /// `s3://bucket` or the local folder, for messages.
    pub fn describe(&self) -> String {
        match &self.0 {
            Place::Local { root } => root.display().to_string(),
            Place::S3 { name, folder, .. } if folder.is_empty() => format!("s3://{name}"),
            Place::S3 { name, folder, .. } => format!("s3://{name}/{folder}"),
        }
    }

    /// The files `pattern` matches under the location, by name. `*` stays within a folder; `**`
    /// crosses folders. Names starting with `.` (hidden, or a writer's temporary file) are left out.
    pub async fn list(&self, pattern: &str) -> Result<Vec<Found>, IngestError> {
        let glob =
            glob::Pattern::new(pattern).map_err(|e| IngestError(format!("{pattern:?} is not a pattern: {}", e.msg)))?;
        let mut found = match &self.0 {
            Place::Local { root } => {
                let root = root.clone();
                let pattern = pattern.to_owned();
                tokio::task::spawn_blocking(move || list_local(&root, &pattern))
                    .await
                    .map_err(|e| IngestError(e.to_string()))??
            }
            Place::S3 { bucket, folder, .. } => {
                let prefix = Key::from(folder.as_str());
                let mut listing = bucket.store.list(if folder.is_empty() { None } else { Some(&prefix) });
                let mut found = Vec::new();
                while let Some(meta) = listing.try_next().await.map_err(|e| IngestError(said(&e)))? {
                    let key = meta.location.as_ref();
                    let relative = if folder.is_empty() { key } else { key[folder.len()..].trim_start_matches('/') };
                    let base = relative.rsplit('/').next().unwrap_or(relative);
                    if base.starts_with('.') || !glob.matches_with(relative, options()) {
                        continue;
                    }
                    found.push(Found {
                        name: relative.to_owned(),
                        bytes: meta.size,
                        etag: meta.e_tag.clone(),
                        modified: meta
                            .last_modified
                            .timestamp_nanos_opt()
                            .and_then(|n| time::OffsetDateTime::from_unix_timestamp_nanos(n.into()).ok()),
                    });
                    if found.len() > MAX_FILES {
                        break;
                    }
                }
                found
            }
        };
        if found.len() > MAX_FILES {
            return Err(IngestError(format!(
                "more than {MAX_FILES} files match {pattern:?} in {}; narrow the pattern",
                self.describe()
            )));
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Bytes `range` of a file (fewer if the file is shorter now).
    pub async fn range(&self, name: &str, range: Range<u64>) -> Result<Vec<u8>, IngestError> {
        match &self.0 {
            Place::Local { root } => {
                let path = root.join(name);
                tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Seek, SeekFrom};
                    let mut file =
                        std::fs::File::open(&path).map_err(|e| IngestError(format!("{}: {e}", path.display())))?;
                    file.seek(SeekFrom::Start(range.start))
                        .map_err(|e| IngestError(format!("{}: {e}", path.display())))?;
                    let mut out = Vec::new();
                    file.take(range.end.saturating_sub(range.start))
                        .read_to_end(&mut out)
                        .map_err(|e| IngestError(format!("{}: {e}", path.display())))?;
                    Ok(out)
                })
                .await
                .map_err(|e| IngestError(e.to_string()))?
            }
            Place::S3 { bucket, name: bucket_name, folder } => {
                let key = if folder.is_empty() { name.to_owned() } else { format!("{folder}/{name}") };
                bucket
                    .store
                    .get_range(&Key::from(key.as_str()), range)
                    .await
                    .map(|b| b.to_vec())
                    .map_err(|e| IngestError(format!("s3://{bucket_name}/{key}: {}", said(&e))))
            }
        }
    }

    /// A whole file.
    pub async fn read(&self, found: &Found) -> Result<Vec<u8>, IngestError> {
        self.range(&found.name, 0..found.bytes).await
    }
}

fn list_local(root: &Path, pattern: &str) -> Result<Vec<Found>, IngestError> {
    let full = format!("{}/{pattern}", glob::Pattern::escape(&root.to_string_lossy()));
    let paths = glob::glob_with(&full, options()).map_err(|e| IngestError(format!("{pattern:?}: {}", e.msg)))?;
    let mut out = Vec::new();
    for path in paths.flatten() {
        let Ok(meta) = path.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        out.push(Found {
            name,
            bytes: meta.len(),
            etag: None,
            modified: meta.modified().ok().map(time::OffsetDateTime::from),
        });
        if out.len() > MAX_FILES {
            break;
        }
    }
    Ok(out)
}
