//! Answers of the partner API kept for a moment, with an `ETag` each. Partners poll the same
//! ranges over and over; a statistics page is read from the database at most once per `ttl` per
//! instance (as keys are: a change shows everywhere within about a second), and a poll that
//! sends back the `ETag` it got is answered 304 without a body. The gate still admits, limits and
//! counts every request before its answer is looked up here.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use headers::HeaderMapExt;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The most answers kept; past it, stale ones go, and if none is stale, all.
const CAPACITY: usize = 4096;

/// A JSON answer ready to send again, and its validator.
#[derive(Debug)]
pub struct Answer {
    body: Bytes,
    etag: HeaderValue,
}

impl Answer {
    /// `value` as JSON with a strong `ETag` over the bytes.
    pub fn json<T: serde::Serialize>(value: &T) -> Result<Answer, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        let digest = Sha256::digest(&body);
        let etag = HeaderValue::try_from(format!("\"{}\"", hex::encode(&digest[..16])))
            .expect("quoted hex is a valid header value");
        Ok(Answer { body: body.into(), etag })
    }

    /// 304 when the request's `If-None-Match` names this answer, else 200 with the body.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let mut response = if if_none_match(request, &self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], self.body.clone()).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, self.etag.clone());
        // Partners' own caches may keep it, but must ask again (a conditional request) before use.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        response
    }
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`): the client holds this answer.
pub fn if_none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str().unwrap_or_default().parse::<headers::ETag>() else { return false };
    request.typed_get::<headers::IfNoneMatch>().is_some_and(|held| !held.precondition_passes(&etag))
}

/// Answers by what was asked (`K`), each kept for `ttl`. A `ttl` of zero keeps nothing.
pub struct AnswerCache<K> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, Arc<Answer>)>>,
}

impl<K: Hash + Eq> AnswerCache<K> {
    pub fn new(ttl: Duration) -> Self {
        AnswerCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The answer to `key` made less than `ttl` ago, or `make`'s (kept for the next asker);
    /// `make` runs only when there is none.
    pub async fn get_or_make<E, F: Future<Output = Result<Answer, E>>>(
        &self,
        key: K,
        make: impl FnOnce(&K) -> F,
    ) -> Result<Arc<Answer>, E> {
        if self.ttl.is_zero() {
            return make(&key).await.map(Arc::new);
        }
        let now = Instant::now();
        if let Some((made, answer)) = self.lock().get(&key)
            && now.duration_since(*made) < self.ttl
        {
            return Ok(answer.clone());
        }
        let answer = Arc::new(make(&key).await?);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.retain(|_, (made, _)| now.duration_since(*made) < self.ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (now, answer.clone()));
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, Arc<Answer>)>> {
        // A panic while holding the lock leaves a map that is still whole: keep using it.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(if_none_match: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(if_none_match).unwrap());
        h
    }

    #[test]
    fn a_matching_etag_gets_a_304_and_any_other_the_body() {
        let answer = Answer::json(&serde_json::json!({ "a": 1 })).unwrap();
        let etag = answer.etag.to_str().unwrap().to_owned();
        assert_eq!(answer.respond(&HeaderMap::new()).status(), StatusCode::OK);
        assert_eq!(answer.respond(&request(&etag)).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(answer.respond(&request(&format!("\"x\", W/{etag}"))).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(answer.respond(&request("\"0123\"")).status(), StatusCode::OK);
        let other = Answer::json(&serde_json::json!({ "a": 2 })).unwrap();
        assert_ne!(other.etag, answer.etag, "another body, another tag");
    }

    #[tokio::test]
    async fn an_answer_is_made_once_per_ttl_and_never_with_a_zero_ttl() {
        let made = std::sync::atomic::AtomicUsize::new(0);
        let make = |_: &&str| async {
            made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Answer::json(&1).map_err(|_| ())
        };
        let cache = AnswerCache::new(Duration::from_millis(200));
        cache.get_or_make("k", make).await.unwrap();
        cache.get_or_make("k", make).await.unwrap();
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
        cache.get_or_make("other", make).await.unwrap();
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_millis(250)).await;
        cache.get_or_make("k", make).await.unwrap();
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 3, "made again after the ttl");

        let off = AnswerCache::new(Duration::ZERO);
        off.get_or_make("k", make).await.unwrap();
        off.get_or_make("k", make).await.unwrap();
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 5);
    }
}
