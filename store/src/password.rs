//! Password hashing: argon2id with the OWASP-recommended parameters (19 MiB, 2 passes, 1 lane).
//! Hashing and verifying take tens of milliseconds of CPU and 19 MiB each, so both run on the
//! blocking pool, at most one per core at a time: a flood of sign-ins queues instead of taking
//! every thread and hundreds of megabytes.

use crate::{Result, StoreError};
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

static HASHING_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));

/// Runs `work` on the blocking pool once a hashing slot is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _slot = HASHING_SLOTS.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC-format argon2id hash string.
#[derive(Clone)]
pub struct PasswordHash(pub(crate) String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

impl PasswordHash {
    pub async fn new(password: &str) -> Result<PasswordHash> {
        let password = password.to_owned();
        hashing(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| PasswordHash(h.to_string()))
                .map_err(|e| StoreError::Hashing(e.to_string()))
        })
        .await
        .ok_or_else(|| StoreError::Hashing("the hashing task failed".into()))?
    }

    /// Whether `password` matches. A malformed stored hash counts as a mismatch.
    pub async fn verify(&self, password: &str) -> bool {
        let (hash, password) = (self.0.clone(), password.to_owned());
        hashing(move || {
            argon2::PasswordHash::new(&hash)
                .is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .unwrap_or(false)
    }

    /// A hash of no one's password. Verifying against it when an account does not exist makes
    /// "unknown user" cost the same time as "wrong password", so timing reveals nothing.
    pub fn decoy() -> PasswordHash {
        static DECOY: LazyLock<String> = LazyLock::new(|| {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(b"mcms decoy password, matches nothing", &salt)
                .expect("hashing a constant succeeds")
                .to_string()
        });
        PasswordHash(DECOY.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_only() {
        let hash = PasswordHash::new("correct horse battery").await.unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.0);
        assert!(hash.verify("correct horse battery").await);
        assert!(!hash.verify("correct horse batterY").await);
        assert!(!PasswordHash::decoy().verify("correct horse battery").await);
        assert!(!PasswordHash("not a phc string".into()).verify("x").await);
    }
}
