//! The one entry point of every partner API call: who presents which key, from where, within
//! which limits, for what.
//!
//! Order of the checks (and the answer to each): no key 401, malformed 401, bad checksum 401 (no
//! lookup for these), unknown 401, revoked 401, rotated and past its grace 401, expired 401,
//! partner suspended 403, address not allowed 403, rate limit 429, daily quota 429, scope not
//! granted 403. A key is looked up at most once a second per instance, so a revocation holds
//! everywhere within about a second.

use super::problem::Problem;
use domain::keys::{ApiKey, KeyError, KeyStatus, Scope};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use headers::{Authorization, HeaderMapExt};
use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use store::Db;
use store::partners::GateKey;
use subtle::ConstantTimeEq;
use time::{Date, OffsetDateTime};

/// How long a looked-up key is trusted before it is read again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);
/// How often counted requests are written to the database.
const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// A key as last read (`None`: no such key), and when.
type Cached = (Instant, Option<Arc<GateKey>>);
type Limiter = RateLimiter<governor::state::NotKeyed, governor::state::InMemoryState, DefaultClock>;

pub struct Gate {
    pub db: Db,
    pub trusted_proxies: Vec<IpNet>,
    keys: Mutex<HashMap<String, Cached>>,
    limits: Mutex<HashMap<i64, (i32, Arc<Limiter>)>>,
    usage: Mutex<Usage>,
}

#[derive(Default)]
struct Usage {
    /// (day, key, status, latency bucket) → requests not yet written.
    counts: HashMap<(Date, i64, i32, i32), i64>,
    last_used: HashMap<i64, OffsetDateTime>,
    /// Requests counted against each key's quota today (read from the database once a day).
    quota: HashMap<i64, (Date, i64)>,
    flushed: Option<Instant>,
}

/// A request the gate let through.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: Arc<GateKey>,
    pub client: IpAddr,
}

impl Gate {
    pub fn new(db: Db, trusted_proxies: Vec<IpNet>) -> Arc<Gate> {
        Arc::new(Gate {
            db,
            trusted_proxies,
            keys: Mutex::default(),
            limits: Mutex::default(),
            usage: Mutex::default(),
        })
    }

    /// Decides on a request: `authorization` is its bearer token ([`bearer`]), `peer` the
    /// socket's address, `forwarded_for` its X-Forwarded-For headers joined by commas.
    pub async fn check(
        &self,
        authorization: Bearer,
        peer: IpAddr,
        forwarded_for: Option<&str>,
        scope: Option<Scope>,
    ) -> Result<Caller, Problem> {
        let how = "Send the API key as `Authorization: Bearer <key>`.";
        let token = match authorization {
            Ok(Some(token)) => token,
            Ok(None) => return Err(Problem::unauthorized("missing-key", how)),
            Err(_) => return Err(Problem::unauthorized("malformed-key", how)),
        };
        let key = ApiKey::parse(token.token().trim()).map_err(|e| match e {
            KeyError::Malformed => Problem::unauthorized("malformed-key", &e.to_string()),
            KeyError::BadChecksum => Problem::unauthorized("bad-checksum", &e.to_string()),
        })?;
        let unknown = || Problem::unauthorized("unknown-key", "This API key is not known.");
        let found = self.lookup(key.prefix()).await?.ok_or_else(unknown)?;
        if !bool::from(found.hash.ct_eq(&store::partners::key_hash(&key))) {
            return Err(unknown());
        }
        let id = found.key.id;
        let now = OffsetDateTime::now_utc();
        let k = &found.key;
        let ended = || k.expires_at.map(|e| e.to_string()).unwrap_or_default();
        match KeyStatus::at(k.revoked_at.is_some(), k.replaced_by.is_some(), k.expires_at, now) {
            KeyStatus::Live | KeyStatus::Grace => {}
            KeyStatus::Revoked => {
                return Err(Problem::unauthorized("revoked-key", "This API key was revoked.").for_key(id));
            }
            KeyStatus::Replaced => {
                let detail = format!("This API key was replaced; its grace period ended at {}.", ended());
                return Err(Problem::unauthorized("rotated-key", &detail).for_key(id));
            }
            KeyStatus::Expired => {
                let detail = format!("This API key expired at {}.", ended());
                return Err(Problem::unauthorized("expired-key", &detail).for_key(id));
            }
        }
        if !found.partner.active {
            return Err(Problem::forbidden("partner-suspended", "This partner's access is suspended.").for_key(id));
        }
        let client = domain::net::client_ip(peer, forwarded_for, &self.trusted_proxies);
        let allowed = |list: &[IpNet]| list.is_empty() || domain::net::allows(list, client);
        if !allowed(&found.partner_allowlist) || !allowed(&found.allowlist) {
            let detail = format!("Requests with this key are not allowed from {client}.");
            return Err(Problem::forbidden("address-not-allowed", &detail).for_key(id));
        }
        self.rate_limit(&found)?;
        self.quota(&found, now.date()).await?;
        if let Some(scope) = scope
            && !found.key.scopes().contains(&scope)
        {
            let detail = format!("This API key lacks the scope {}.", scope.as_str());
            return Err(Problem::forbidden("scope-missing", &detail).for_key(id));
        }
        Ok(Caller { key: found, client })
    }

    async fn lookup(&self, prefix: &str) -> Result<Option<Arc<GateKey>>, Problem> {
        if let Some((at, key)) = self.keys.lock().ok().and_then(|k| k.get(prefix).cloned())
            && at.elapsed() < KEY_CACHE_TTL
        {
            return Ok(key);
        }
        let key = self.db.gate_key(prefix).await?.map(Arc::new);
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() > 10_000 {
                keys.retain(|_, (at, _)| at.elapsed() < KEY_CACHE_TTL);
            }
            keys.insert(prefix.to_owned(), (Instant::now(), key.clone()));
        }
        Ok(key)
    }

    fn rate_limit(&self, found: &GateKey) -> Result<(), Problem> {
        let (id, per_minute) = (found.key.id, found.key.rate_per_minute);
        let limiter = {
            let mut limits = self.limits.lock().map_err(|_| Problem::internal())?;
            let entry = limits.entry(id).or_insert_with(|| (0, Arc::new(limiter(per_minute))));
            if entry.0 != per_minute {
                *entry = (per_minute, Arc::new(limiter(per_minute)));
            }
            entry.1.clone()
        };
        limiter.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Problem::new(
                http::StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!("This API key may make {per_minute} requests a minute."),
            )
            .retry_after(wait.as_secs_f64().ceil().max(1.0) as u64)
            .for_key(id)
        })
    }

    async fn quota(&self, found: &GateKey, today: Date) -> Result<(), Problem> {
        let Some(quota) = found.key.daily_quota else { return Ok(()) };
        let id = found.key.id;
        let loaded = self.usage.lock().ok().is_some_and(|u| u.quota.get(&id).is_some_and(|(d, _)| *d == today));
        if !loaded {
            let used = self.db.requests_on(id, today).await?;
            if let Ok(mut u) = self.usage.lock() {
                let entry = u.quota.entry(id).or_insert((today, used));
                if entry.0 != today {
                    *entry = (today, used);
                }
            }
        }
        let mut u = self.usage.lock().map_err(|_| Problem::internal())?;
        let used = u.quota.entry(id).or_insert((today, 0));
        if used.1 >= quota {
            let tomorrow =
                today.next_day().map_or(0, |d| (d.midnight().assume_utc() - OffsetDateTime::now_utc()).whole_seconds());
            return Err(Problem::new(
                http::StatusCode::TOO_MANY_REQUESTS,
                "quota-exceeded",
                "Daily quota used up",
                format!("This API key may make {quota} requests a day (UTC)."),
            )
            .retry_after(tomorrow.max(1) as u64)
            .for_key(id));
        }
        used.1 += 1;
        Ok(())
    }

    /// Counts one answered request; writes the counts now and then.
    pub fn record(self: &Arc<Self>, key: i64, status: u16, elapsed: Duration) {
        let now = OffsetDateTime::now_utc();
        let micros = elapsed.as_micros().max(1);
        let bucket = (u128::BITS - micros.leading_zeros()) as i32;
        let due = {
            let Ok(mut u) = self.usage.lock() else { return };
            *u.counts.entry((now.date(), key, i32::from(status), bucket)).or_default() += 1;
            u.last_used.insert(key, now);
            let due = u.flushed.is_none_or(|at| at.elapsed() >= FLUSH_EVERY);
            if due {
                u.flushed = Some(Instant::now());
            }
            due
        };
        if due {
            let gate = Arc::downgrade(self);
            tokio::spawn(async move { flush(gate).await });
        }
    }

    /// Writes the counted requests and last-used times (also called at shutdown and by tests).
    pub async fn flush(&self) {
        let (counts, used) = match self.usage.lock() {
            Ok(mut u) => (std::mem::take(&mut u.counts), std::mem::take(&mut u.last_used)),
            Err(_) => return,
        };
        let counts: Vec<_> = counts.into_iter().map(|((d, k, s, b), n)| (d, k, s, b, n)).collect();
        let used: Vec<_> = used.into_iter().collect();
        if let Err(e) = self.db.add_usage(&counts).await {
            tracing::warn!(error = %e, "partner API usage not recorded");
        }
        if let Err(e) = self.db.touch_keys(&used).await {
            tracing::warn!(error = %e, "partner API last-used times not recorded");
        }
    }
}

async fn flush(gate: Weak<Gate>) {
    tokio::time::sleep(FLUSH_EVERY).await;
    if let Some(gate) = gate.upgrade() {
        gate.flush().await;
    }
}

fn limiter(per_minute: i32) -> Limiter {
    let n = NonZeroU32::new(u32::try_from(per_minute).unwrap_or(1).max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_minute(n))
}

/// A request's `Authorization: Bearer` token: `Ok(None)` when it sent none, `Err` when the header
/// is something else (another scheme, no token).
pub type Bearer = Result<Option<Authorization<headers::authorization::Bearer>>, headers::Error>;

/// Reads the bearer token of a request (the partner API's keys, the PoC's recording tokens).
pub fn bearer(request: &http::HeaderMap) -> Bearer {
    request.typed_try_get()
}
