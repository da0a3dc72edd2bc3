//! The compiled site (`pkg/mcms.js`, `.wasm`, `.css`): carried inside the release binary, so
//! copying `mcms` anywhere serves a working, hydrating app, or read from a folder (`--site-root`).
//!
//! The release build (scripts/lib.sh, `build_site --release`) compresses the files (brotli, and
//! gzip -9) before it builds the server, so the binary embeds all three forms; a request gets the
//! smallest it accepts.
//! Debug builds read the same folder from disk while they run.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::PathBuf;

#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/site/"]
#[allow_missing = true]
struct Embedded;

/// Where the site's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// The files built with this binary.
    Embedded,
    /// A folder holding `pkg/`.
    Folder(PathBuf),
}

impl Site {
    /// Whether the JavaScript, wasm and CSS are there (without them pages work, unstyled, as
    /// without JavaScript).
    pub fn is_complete(&self) -> bool {
        match self {
            Site::Embedded => {
                ["pkg/mcms.js", "pkg/mcms.wasm", "pkg/mcms.css"].iter().all(|f| Embedded::get(f).is_some())
            }
            Site::Folder(root) => root.join("pkg").is_dir(),
        }
    }

    /// The smaller bundles of a release build (`pkg/bundles.json`, written by
    /// scripts/bundles-manifest.mjs), as the page script reads them; none if the build made none,
    /// or if they sit beside another build's whole bundle (stale files beside a newer build).
    /// A list that does not parse, or a bundle whose files are missing or oddly named, is left out
    /// with a warning: its pages then load the whole bundle, which holds every island.
    pub fn bundles(&self) -> Vec<Bundle> {
        let Some(text) = self.read("bundles.json") else {
            return Vec::new();
        };
        let cut: Cut = match serde_json::from_slice(&text) {
            Ok(cut) => cut,
            Err(error) => {
                tracing::warn!(%error, "pkg/bundles.json does not parse; every page loads the whole bundle");
                return Vec::new();
            }
        };
        let whole = self.read("mcms.wasm").map(|wasm| hex::encode(Sha256::digest(&wasm)));
        if whole.as_deref() != Some(cut.whole.as_str()) {
            tracing::warn!(
                "pkg/bundles.json was cut from another build of mcms.wasm; every page loads the whole bundle"
            );
            return Vec::new();
        }
        let plain = |s: &str, extra: char| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == extra);
        cut.bundles
            .into_iter()
            .filter(|b| {
                let usable = plain(&b.name, '-')
                    && b.islands.iter().all(|island| plain(island, '_'))
                    && ["js", "wasm"].iter().all(|ext| self.has(&format!("mcms-{}.{ext}", b.name)));
                if !usable {
                    tracing::warn!(bundle = %b.name, "a bundle in pkg/bundles.json is missing or misnamed; left out");
                }
                usable
            })
            .collect()
    }

    /// Whether `pkg/FILE` is there, without reading it (the embedded copy is borrowed).
    fn has(&self, file: &str) -> bool {
        match self {
            Site::Embedded => Embedded::get(&format!("pkg/{file}")).is_some(),
            Site::Folder(root) => root.join("pkg").join(file).is_file(),
        }
    }

    fn read(&self, file: &str) -> Option<Cow<'static, [u8]>> {
        match self {
            Site::Embedded => Embedded::get(&format!("pkg/{file}")).map(|f| f.data),
            Site::Folder(root) => std::fs::read(root.join("pkg").join(file)).ok().map(Cow::Owned),
        }
    }
}

/// `pkg/bundles.json`: the bundles and the whole bundle they were cut from (its SHA-256, hex).
#[derive(Deserialize)]
struct Cut {
    whole: String,
    bundles: Vec<Bundle>,
}

/// One of the release build's smaller bundles: its name (`pkg/mcms-NAME.js`, `.wasm`) and the
/// islands it holds (their `data-component` ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub name: String,
    pub islands: Vec<String>,
}

/// `GET /pkg/{file}` from the embedded site: brotli or gzip when the request accepts it and the
/// build made it, with an `ETag` so a revisit costs a 304.
pub async fn embedded_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("pkg/{file}");
    let Some(plain) = Embedded::get(&path) else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    let etag = HeaderValue::try_from(format!("\"{}\"", hex::encode(&plain.metadata.sha256_hash()[..16])))
        .expect("quoted hex is a valid header value");
    let mut response = if crate::api::cache::if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepted = accepted_encodings(&headers);
        let compressed = [("br", ".br"), ("gzip", ".gz")]
            .into_iter()
            .filter(|(coding, _)| accepted.contains(coding))
            .find_map(|(coding, ext)| Some((coding, Embedded::get(&format!("{path}{ext}"))?)));
        let mime = plain.metadata.mimetype().to_owned();
        let mut response = match compressed {
            Some((coding, file)) => {
                ([(header::CONTENT_ENCODING, HeaderValue::from_static(coding))], file.data).into_response()
            }
            None => plain.data.into_response(),
        };
        if let Ok(mime) = HeaderValue::from_str(&mime) {
            response.headers_mut().insert(header::CONTENT_TYPE, mime);
        }
        response
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    // The names do not change between releases: revalidate (a 304) rather than trust a copy.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The content codings a request accepts (`Accept-Encoding`), without those refused by `q=0`.
fn accepted_encodings(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next()?;
            let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
            (!refused && !coding.is_empty()).then_some(coding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site folder with a whole bundle, one cut bundle and the given `bundles.json`.
    fn site(name: &str, bundles_json: Option<&str>) -> Site {
        let root = std::env::temp_dir().join(format!("mcms-site-{}-{name}", std::process::id()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("mcms.wasm"), b"whole").unwrap();
        std::fs::write(pkg.join("mcms-form.wasm"), b"cut").unwrap();
        std::fs::write(pkg.join("mcms-form.js"), b"glue").unwrap();
        std::fs::write(pkg.join("mcms-nojs.wasm"), b"cut").unwrap();
        if let Some(json) = bundles_json {
            std::fs::write(pkg.join("bundles.json"), json).unwrap();
        }
        Site::Folder(root)
    }

    fn whole() -> String {
        hex::encode(Sha256::digest(b"whole"))
    }

    #[test]
    fn bundles_cut_from_this_build_are_offered_and_anything_doubtful_is_left_out() {
        let form = Bundle { name: "form".into(), islands: vec!["CostEditor_12".into()] };
        let json = |bundles: &str| format!(r#"{{"whole":"{}","bundles":[{bundles}]}}"#, whole());

        // A debug build cuts nothing: every page loads the whole bundle.
        assert_eq!(site("none", None).bundles(), []);
        let good = r#"{"name":"form","islands":["CostEditor_12"]}"#;
        assert_eq!(site("good", Some(&json(good))).bundles(), std::slice::from_ref(&form));
        // Cut from another build (a stale file beside a newer whole bundle): none of them.
        let stale = format!(r#"{{"whole":"{}","bundles":[{good}]}}"#, "0".repeat(64));
        assert_eq!(site("stale", Some(&stale)).bundles(), []);
        assert_eq!(site("broken", Some("{\"bundles\":")).bundles(), []);
        // A missing file, or a name that is not a plain bundle name or island id, drops that bundle only.
        let odd = [
            r#"{"name":"gone","islands":["CostEditor_12"]}"#,
            r#"{"name":"nojs","islands":["CostEditor_12"]}"#,
            r#"{"name":"../form","islands":["CostEditor_12"]}"#,
            r#"{"name":"form","islands":["</script>"]}"#,
        ];
        assert_eq!(site("odd", Some(&json(&[odd.join(","), good.into()].join(",")))).bundles(), [form]);
    }
}
