//! S3 buckets (or S3-compatible servers) as a place for files: sources read them by glob, sinks
//! write under a temporary prefix and publish the whole output once every object is written.

use crate::{RunError, Secrets, refuse};
use domain::pipeline::Connection;
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use std::sync::Arc;
use std::time::Duration;

/// A bucket and the prefix the connection names, with a client for it.
#[derive(Clone)]
pub(crate) struct Bucket {
    pub store: Arc<AmazonS3>,
    /// `s3://bucket`, under which DataFusion finds the client.
    pub url: url::Url,
    pub prefix: String,
}

/// A request that takes longer than this fails (and is retried twice) rather than hanging a run.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The S3 connection's client. The keys come from the variables the connection names (by default
/// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`), the endpoint of an S3-compatible server from
/// `endpoint_env`'s value; none of them is ever in the file.
pub(crate) fn bucket(connection: &Connection, secrets: &Secrets, step: &str) -> Result<Bucket, RunError> {
    let Connection::S3 { bucket, prefix, region, endpoint_env, access_key_id_env, secret_access_key_env } = connection
    else {
        return Err(refuse(step, "this step needs an S3 bucket".into()));
    };
    let secret = |name: &str| {
        secrets.get(name).ok_or_else(|| refuse(step, format!("the environment variable `{name}` is not set")))
    };
    let region = region.clone().or_else(|| secrets.get("AWS_REGION")).unwrap_or_else(|| "us-east-1".into());
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_access_key_id(secret(access_key_id_env.as_deref().unwrap_or("AWS_ACCESS_KEY_ID"))?)
        .with_secret_access_key(secret(secret_access_key_env.as_deref().unwrap_or("AWS_SECRET_ACCESS_KEY"))?)
        .with_retry(RetryConfig { max_retries: 2, retry_timeout: Duration::from_secs(60), ..Default::default() });
    let mut options = ClientOptions::new().with_timeout(TIMEOUT).with_connect_timeout(Duration::from_secs(10));
    if let Some(name) = endpoint_env {
        let endpoint = secret(name)?;
        options = options.with_allow_http(endpoint.starts_with("http://"));
        builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
    }
    let store = builder
        .with_client_options(options)
        .build()
        .map_err(|e| refuse(step, format!("cannot use the bucket `{bucket}`: {}", said(&e))))?;
    let url = url::Url::parse(&format!("s3://{bucket}"))
        .map_err(|_| refuse(step, format!("`{bucket}` is not a bucket name")))?;
    Ok(Bucket { store: Arc::new(store), url, prefix: prefix.trim_matches('/').to_owned() })
}

/// An object store's error on one line.
pub(crate) fn said(e: &object_store::Error) -> String {
    e.to_string().replace('\n', " ")
}

impl Bucket {
    /// The key of `relative` under the connection's prefix.
    pub fn key(&self, relative: &str) -> String {
        let relative = relative.trim_matches('/');
        match (self.prefix.is_empty(), relative.is_empty()) {
            (true, _) => relative.to_owned(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{relative}", self.prefix),
        }
    }

    /// `s3://bucket/key`, as DataFusion reads and writes it.
    pub fn location(&self, key: &str) -> String {
        format!("{}/{key}", self.url.as_str().trim_end_matches('/'))
    }

    async fn keys(&self, prefix: &str) -> object_store::Result<Vec<Path>> {
        let prefix = Path::from(prefix);
        self.store.list(Some(&prefix)).map_ok(|meta| meta.location).try_collect().await
    }

    /// The objects whose keys `pattern` (a key with `*`, `?` or `[…]` in it, or a key or folder)
    /// matches, as `s3://` locations: DataFusion reads globs on local paths only.
    pub async fn matching(&self, pattern: &str) -> Result<Vec<String>, String> {
        // Listed from the folder above the first wildcard (or above the key itself: a listing's
        // prefix is whole segments, so a key never lists itself).
        let fixed = &pattern[..pattern.find(['*', '?', '[']).unwrap_or(pattern.len())];
        let listed = fixed.rfind('/').map_or("", |slash| &pattern[..slash]);
        let glob = glob::Pattern::new(pattern).map_err(|e| format!("`{pattern}` is not a pattern: {}", e.msg))?;
        let keys = self.keys(listed).await.map_err(|e| said(&e))?;
        let folder = format!("{pattern}/");
        let mut found: Vec<String> = keys
            .iter()
            .map(|k| k.as_ref())
            .filter(|k| k == &pattern || k.starts_with(&folder) || glob.matches(k))
            .map(|k| self.location(k))
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(format!("no files match `{}`", self.location(pattern)));
        }
        Ok(found)
    }

    /// The size of the objects under `prefix`.
    pub async fn size(&self, prefix: &str) -> object_store::Result<u64> {
        let prefix = Path::from(prefix);
        self.store.list(Some(&prefix)).try_fold(0, |sum, meta| async move { Ok(sum + meta.size) }).await
    }

    /// Moves every object under `temporary` to the same name under `target`, then removes what
    /// was under `target` before and is not in the new output: readers find the earlier output
    /// until the last copy, and never an output missing objects.
    pub async fn publish(&self, temporary: &str, target: &str) -> object_store::Result<()> {
        let staged = self.keys(temporary).await?;
        let old = self.keys(target).await?;
        let mut new = std::collections::HashSet::new();
        for from in &staged {
            let rest = from.as_ref().strip_prefix(temporary).unwrap_or(from.as_ref()).trim_start_matches('/');
            let to = Path::from(format!("{target}/{rest}"));
            self.store.copy(from, &to).await?;
            new.insert(to);
        }
        for path in old.iter().filter(|p| !new.contains(*p)).chain(&staged) {
            self.store.delete(path).await?;
        }
        Ok(())
    }

    /// Removes a staged output (best effort: what is left has a name no reader looks at).
    pub async fn discard(&self, temporary: &str) {
        if let Ok(keys) = self.keys(temporary).await {
            for key in keys {
                let _ = self.store.delete(&key).await;
            }
        }
    }
}
