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
