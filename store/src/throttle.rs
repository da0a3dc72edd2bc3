//! Sign-in throttling, kept in the database so that every instance sees the same counts.
//!
//! Every sign-in attempt is recorded under two keys, the account and the client address, before
//! the password is checked, in the same transaction that checks the counts: so concurrent wrong
//! guesses cannot slip past the limit between a check and a record (on PostgreSQL an advisory lock
//! per key serialises them; SQLite's write transactions are serial already). A key with too many
//! attempts inside the window is refused until its oldest one ages out. A successful sign-in takes
//! its own attempt back and clears the account's count; the address keeps its failures.

use crate::{Db, Result, on_db};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    pub window_secs: i64,
    pub max_per_account: i64,
    pub max_per_address: i64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle { window_secs: 15 * 60, max_per_account: 5, max_per_address: 20 }
    }
}

/// A recorded attempt, to be taken back if the password was right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// When it was recorded, in microseconds since the epoch (its identity under the address key).
    at_micros: i64,
    email: String,
    addr: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleVerdict {
    /// The attempt is recorded; check the password, then report success with
    /// [`Db::login_succeeded`] (a failure needs nothing more: the attempt counts).
    Allowed(LoginAttempt),
    /// Too many recent attempts; try again after this many seconds. Nothing was recorded.
    Blocked { retry_after_secs: i64 },
}

fn account_key(email: &str) -> String {
    format!("acct:{}", email.trim().to_lowercase())
}

fn address_key(addr: &str) -> String {
    format!("addr:{addr}")
}

const MICROS: i64 = 1_000_000;

fn now_micros() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

impl Db {
    /// Checks the limits for `email` from `addr` and, when there is room, records the attempt, in
    /// one transaction.
    pub async fn begin_login_attempt(&self, t: &LoginThrottle, email: &str, addr: &str) -> Result<ThrottleVerdict> {
        let now = now_micros();
        let since = now - t.window_secs * MICROS;
        let keys = [(account_key(email), t.max_per_account), (address_key(addr), t.max_per_address)];
        let postgres = matches!(self, Db::Postgres(_));
        let verdict = on_db!(self, pool => async {
            let mut tx = crate::tx::WritePool::begin_write(pool).await?;
            let mut retry_after = 0;
            for (key, max) in &keys {
                if postgres {
                    // Held to the end of the transaction: attempts on one key queue here.
                    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(key).execute(&mut *tx).await?;
                }
                let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                    "SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE key = $1 AND failed_at > $2")
                    .bind(key).bind(since).fetch_one(&mut *tx).await?;
                if count >= *max {
                    let frees_at = oldest.unwrap_or(now) + t.window_secs * MICROS;
                    retry_after = retry_after.max(((frees_at - now) / MICROS).max(1));
                }
            }
            if retry_after > 0 {
                tx.rollback().await?;
                return Ok::<_, sqlx::Error>(ThrottleVerdict::Blocked { retry_after_secs: retry_after });
            }
            for (key, _) in &keys {
                sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
                    .bind(key).bind(now).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1").bind(since).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(ThrottleVerdict::Allowed(LoginAttempt { at_micros: now, email: email.to_owned(), addr: addr.to_owned() }))
        }.await)?;
        Ok(verdict)
    }

    /// The password was right: the attempt does not count against the address, and the account's
    /// earlier failures are forgiven.
    pub async fn login_succeeded(&self, attempt: &LoginAttempt) -> Result<()> {
        on_db!(self, pool => async {
            let mut tx = crate::tx::WritePool::begin_write(pool).await?;
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(account_key(&attempt.email)).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM login_failures WHERE key = $1 AND failed_at = $2")
                .bind(address_key(&attempt.addr)).bind(attempt.at_micros).execute(&mut *tx).await?;
            tx.commit().await
        }.await)?;
        Ok(())
    }
}
