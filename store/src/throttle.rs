//! Sign-in throttling, kept in the database so that every instance sees the same counts.
//!
//! Each failed sign-in is recorded under two keys: the account and the client address. A key
//! with too many failures inside the window is refused until its oldest failure ages out.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleVerdict {
    Allowed,
    /// Too many recent failures; try again after this many seconds.
    Blocked {
        retry_after_secs: i64,
    },
}

fn account_key(email: &str) -> String {
    format!("acct:{}", email.trim().to_lowercase())
}

fn address_key(addr: &str) -> String {
    format!("addr:{addr}")
}

impl Db {
    /// Whether a sign-in for `email` from `addr` may be attempted now.
    pub async fn login_allowed(&self, t: &LoginThrottle, email: &str, addr: &str) -> Result<ThrottleVerdict> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let since = now - t.window_secs;
        let mut retry_after = 0;
        for (key, max) in [(account_key(email), t.max_per_account), (address_key(addr), t.max_per_address)] {
            let (count, oldest): (i64, Option<i64>) = on_db!(self, pool => sqlx::query_as(
                "SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE key = $1 AND failed_at > $2")
                .bind(&key).bind(since).fetch_one(pool).await)?;
            if count >= max {
                retry_after = retry_after.max(oldest.unwrap_or(now) + t.window_secs - now).max(1);
            }
        }
        Ok(if retry_after > 0 {
            ThrottleVerdict::Blocked { retry_after_secs: retry_after }
        } else {
            ThrottleVerdict::Allowed
        })
    }

    /// Records a failed sign-in against the account and the address, and forgets failures older
    /// than the window.
    pub async fn record_login_failure(&self, t: &LoginThrottle, email: &str, addr: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        on_db!(self, pool => async {
            let mut tx = crate::costs::WritePool::begin_write(pool).await?;
            for key in [account_key(email), address_key(addr)] {
                sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
                    .bind(key).bind(now).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
                .bind(now - t.window_secs).execute(&mut *tx).await?;
            tx.commit().await
        }.await)?;
        Ok(())
    }

    /// A successful sign-in clears the account's failures (the address keeps its count).
    pub async fn clear_login_failures(&self, email: &str) -> Result<()> {
        on_db!(self, pool => sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(account_key(email)).execute(pool).await.map(drop))?;
        Ok(())
    }
}
