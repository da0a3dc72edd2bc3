//! Fresh databases for tests: a new SQLite file, and a new PostgreSQL database on the server named
//! by `MCMS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! When PostgreSQL cannot be reached its tests are skipped with a printed reason, unless
//! `MCMS_REQUIRE_POSTGRES=1` (the project's test command sets it), which turns that into a failure.

use crate::Db;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    format!("mcms_test_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A migrated database that exists only for one test.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pg_drop: Option<(String, String)>,
}

/// A test that panicked never reaches [`TestDb::finish`]: its database is removed all the same
/// (on a thread of its own, since the test's runtime may be unwinding).
impl Drop for TestDb {
    fn drop(&mut self) {
        let (url, pg) = (std::mem::take(&mut self.url), self.pg_drop.take());
        if url.is_empty() && pg.is_none() {
            return; // finished
        }
        let _ = std::thread::spawn(move || remove(&url, pg)).join();
    }
}

fn remove(url: &str, pg: Option<(String, String)>) {
    if let Some((admin_url, name)) = pg {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async {
            if let Ok(Db::Postgres(pool)) = Db::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
                pool.close().await;
            }
        });
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}

impl TestDb {
    /// A new active user with `role` (the tests' password); its id.
    pub async fn user(&self, email: &str, role: domain::Role) -> i64 {
        self.db
            .create_user(
                &domain::Email::parse(email).expect("a test email"),
                &domain::PersonName::parse("Test User").expect("a test name"),
                role,
                &domain::NewPassword::parse("a long enough password").expect("a test password"),
            )
            .await
            .expect("the test user is created")
            .id
    }

    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join("mcms-tests");
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let url = format!("sqlite://{}/{}.db", dir.display(), unique_name());
        let db = Db::connect(&url).await.expect("sqlite opens");
        db.migrate().await.expect("sqlite migrates");
        TestDb { db, url, pg_drop: None }
    }

    /// `None` (after printing why) when PostgreSQL is unreachable and not required.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("MCMS_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let required = std::env::var("MCMS_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let admin = match Db::connect(&admin_url).await {
            Ok(db) => db,
            Err(e) if !required => {
                eprintln!("SKIPPED PostgreSQL half of this test: cannot reach {admin_url}: {e}");
                return None;
            }
            Err(e) => panic!("PostgreSQL is required (MCMS_REQUIRE_POSTGRES=1) but {admin_url} fails: {e}"),
        };
        let name = unique_name();
        let Db::Postgres(pool) = &admin else { panic!("MCMS_TEST_POSTGRES_URL must be a postgres:// URL") };
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.expect("create test database");
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').expect("URL names a database");
        let url = format!("{base}/{name}");
        let db = Db::connect(&url).await.expect("test database opens");
        db.migrate().await.expect("postgres migrates");
        Some(TestDb { db, url, pg_drop: Some((admin_url, name)) })
    }

    /// Every backend that can run here: SQLite always, PostgreSQL when reachable.
    pub async fn each() -> Vec<TestDb> {
        let mut all = vec![TestDb::sqlite().await];
        all.extend(TestDb::postgres().await);
        all
    }

    /// Closes the pool and removes the database.
    pub async fn finish(mut self) {
        self.db.close().await;
        let (url, pg) = (std::mem::take(&mut self.url), self.pg_drop.take());
        if let Some((admin_url, name)) = pg {
            if let Ok(Db::Postgres(pool)) = Db::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await;
                pool.close().await;
            }
        } else {
            remove(&url, None);
        }
    }
}
