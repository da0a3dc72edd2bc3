//! The store suite: every test runs against SQLite and, when reachable, PostgreSQL.

use crate::testing::TestDb;
use crate::{Db, LoginThrottle, StoreError, ThrottleVerdict};
use domain::{Email, NewPassword, PersonName, Role};
use sqlx::SqlitePool;

async fn add(db: &Db, email: &str, role: Role) -> crate::User {
    db.create_user(
        &Email::parse(email).unwrap(),
        &PersonName::parse("Test Person").unwrap(),
        role,
        &NewPassword::parse("a long enough password").unwrap(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn accounts_are_created_listed_and_unique_by_email() {
    for t in TestDb::each().await {
        let db = &t.db;
        let ana = add(db, "Ana@Example.com", Role::Marketer).await;
        assert_eq!((ana.email.as_str(), ana.role, ana.active), ("ana@example.com", Role::Marketer, true));
        assert_eq!(db.user(ana.id).await.unwrap(), Some(ana.clone()), "{}", db.backend());

        let again = db
            .create_user(
                &Email::parse("ANA@example.com").unwrap(),
                &PersonName::parse("Other").unwrap(),
                Role::Viewer,
                &NewPassword::parse("another long password").unwrap(),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Duplicate(_))), "{}: {again:?}", db.backend());

        add(db, "bo@example.com", Role::Viewer).await;
        let emails: Vec<_> = db.users().await.unwrap().into_iter().map(|u| u.email).collect();
        assert_eq!(emails, ["ana@example.com", "bo@example.com"]);
        assert_eq!(db.user(9999).await.unwrap(), None);
        t.finish().await;
    }
}

#[tokio::test]
async fn authentication_accepts_only_the_right_password_of_an_active_account() {
    for t in TestDb::each().await {
        let db = &t.db;
        let ana = add(db, "ana@example.com", Role::Viewer).await;
        let ok = db.authenticate(" ANA@example.com", "a long enough password").await.unwrap();
        assert_eq!(ok.map(|u| u.id), Some(ana.id), "{}", db.backend());
        assert_eq!(db.authenticate("ana@example.com", "wrong password!!").await.unwrap(), None);
        assert_eq!(db.authenticate("nobody@example.com", "a long enough password").await.unwrap(), None);
        assert_eq!(db.authenticate("not an email", "a long enough password").await.unwrap(), None);

        db.set_active(ana.id, false, ana.id).await.unwrap();
        assert_eq!(
            db.authenticate("ana@example.com", "a long enough password").await.unwrap(),
            None,
            "{}: a deactivated account cannot sign in",
            db.backend()
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated() {
    for t in TestDb::each().await {
        let db = &t.db;
        let root = add(db, "root@example.com", Role::Admin).await;
        assert!(
            matches!(db.set_role(root.id, Role::Viewer, root.id).await, Err(StoreError::LastAdmin)),
            "{}",
            db.backend()
        );
        assert!(matches!(db.set_active(root.id, false, root.id).await, Err(StoreError::LastAdmin)));
        assert_eq!(db.user(root.id).await.unwrap().unwrap().role, Role::Admin, "nothing changed");

        let second = add(db, "second@example.com", Role::Admin).await;
        assert_eq!(db.set_role(root.id, Role::Marketer, root.id).await.unwrap().role, Role::Marketer);
        assert!(matches!(db.set_active(second.id, false, root.id).await, Err(StoreError::LastAdmin)));
        assert!(matches!(db.set_role(4242, Role::Viewer, root.id).await, Err(StoreError::NotFound)));
        // Promoting and reactivating never need the guard.
        assert_eq!(db.set_role(root.id, Role::Admin, root.id).await.unwrap().role, Role::Admin);
        assert!(!db.set_active(second.id, false, root.id).await.unwrap().active);
        assert!(db.set_active(second.id, true, root.id).await.unwrap().active);
        t.finish().await;
    }
}

/// Two admins demote each other at the same moment, many times: one demotion stands, never both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    for t in TestDb::each().await {
        let db = &t.db;
        let ann = add(db, "ann@example.com", Role::Admin).await;
        let ben = add(db, "ben@example.com", Role::Admin).await;
        for round in 0..25 {
            let (a, b) = (db.clone(), db.clone());
            let one = tokio::spawn(async move { a.set_role(ben.id, Role::Viewer, ann.id).await });
            let two = tokio::spawn(async move { b.set_role(ann.id, Role::Viewer, ben.id).await });
            let outcomes = [one.await.unwrap().is_ok(), two.await.unwrap().is_ok()];
            let admins = db.users().await.unwrap().iter().filter(|u| u.role == Role::Admin && u.active).count();
            assert_eq!(admins, 1, "{}: round {round}: {outcomes:?}", db.backend());
            assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{}", db.backend());
            db.set_role(ann.id, Role::Admin, ann.id).await.unwrap();
            db.set_role(ben.id, Role::Admin, ann.id).await.unwrap();
        }
        // Every change is in the audit trail, with who made it and the account before and after.
        let trail = db.audit_trail("user", &ben.id.to_string()).await.unwrap();
        assert_eq!(trail.first().map(|a| a.action.as_str()), Some("create"), "{}", db.backend());
        assert!(trail.iter().any(|a| a.action == "role"
            && a.actor_id == ann.id
            && a.after.as_deref().is_some_and(|j| j.contains("viewer"))));
        t.finish().await;
    }
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_account_and_per_address() {
    let limits = LoginThrottle { window_secs: 600, max_per_account: 3, max_per_address: 5 };
    for t in TestDb::each().await {
        let db = &t.db;
        let allowed = |v: ThrottleVerdict| match v {
            ThrottleVerdict::Allowed(attempt) => attempt,
            blocked => panic!("{}: {blocked:?}", db.backend()),
        };
        for _ in 0..3 {
            allowed(db.begin_login_attempt(&limits, "Ana@example.com", "10.0.0.1").await.unwrap());
        }
        let blocked = db.begin_login_attempt(&limits, "ana@example.com", "10.0.0.9").await.unwrap();
        assert!(
            matches!(blocked, ThrottleVerdict::Blocked { retry_after_secs } if (1..=600).contains(&retry_after_secs)),
            "{}: {blocked:?}",
            db.backend()
        );
        // Another account from the same address still has room, until the address budget is spent.
        let bo = allowed(db.begin_login_attempt(&limits, "bo@example.com", "10.0.0.1").await.unwrap());
        allowed(db.begin_login_attempt(&limits, "bo@example.com", "10.0.0.1").await.unwrap());
        assert!(matches!(
            db.begin_login_attempt(&limits, "cy@example.com", "10.0.0.1").await.unwrap(),
            ThrottleVerdict::Blocked { .. }
        ));
        // A success takes its own attempt back from the address and clears the account.
        db.login_succeeded(&bo).await.unwrap();
        allowed(db.begin_login_attempt(&limits, "cy@example.com", "10.0.0.1").await.unwrap());
        // The blocked account stays blocked from any address.
        assert!(matches!(
            db.begin_login_attempt(&limits, "ana@example.com", "10.0.0.3").await.unwrap(),
            ThrottleVerdict::Blocked { .. }
        ));
        t.finish().await;
    }
}

#[tokio::test]
async fn concurrent_wrong_guesses_never_exceed_the_account_limit() {
    let limits = LoginThrottle { window_secs: 600, max_per_account: 5, max_per_address: 1000 };
    for t in TestDb::each().await {
        let guesses = (0..40).map(|i| {
            let db = t.db.clone();
            tokio::spawn(
                async move { db.begin_login_attempt(&limits, "ana@example.com", &format!("10.0.1.{i}")).await },
            )
        });
        let mut allowed = 0;
        for guess in guesses.collect::<Vec<_>>() {
            if matches!(guess.await.unwrap().unwrap(), ThrottleVerdict::Allowed(_)) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "{}: 40 guesses at once, 5 may be tried", t.db.backend());
        t.finish().await;
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_ping_answers() {
    for t in TestDb::each().await {
        t.db.migrate().await.unwrap();
        t.db.ping().await.unwrap();
        t.finish().await;
    }
}

/// SQLite databases migrated under the old numbers (0006 partners … 0009 cost totals exact) keep
/// migrating after the numbers were aligned with PostgreSQL's, without re-running anything.
#[tokio::test]
async fn a_sqlite_database_with_the_old_migration_numbers_still_migrates() {
    let t = TestDb::sqlite().await;
    let Db::Sqlite(pool) = &t.db else { unreachable!("a sqlite database") };
    let versions = |pool: SqlitePool| async move {
        sqlx::query_as::<_, (i64, String)>("SELECT version, description FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let aligned = versions(pool.clone()).await;
    assert!(aligned.contains(&(7, "partners".into())) && aligned.contains(&(12, "cost totals exact".into())));
    for (old, new, description) in crate::SQLITE_RENUMBERED.iter().rev() {
        sqlx::query("UPDATE _sqlx_migrations SET version = $1 WHERE version = $2 AND description = $3")
            .bind(old)
            .bind(new)
            .bind(description)
            .execute(pool)
            .await
            .unwrap();
    }
    assert!(versions(pool.clone()).await.contains(&(6, "partners".into())), "the old layout is back");
    t.db.migrate().await.unwrap();
    assert_eq!(versions(pool.clone()).await, aligned);
    // Nothing ran twice: the partner tables are still there and usable.
    t.db.ping().await.unwrap();
    assert!(t.db.partners().await.unwrap().is_empty());
    t.finish().await;
}

/// The pipeline builder role came after the users table: an SQLite database made before it gets
/// the role when it migrates, and keeps its users and every row that refers to one.
#[tokio::test]
async fn a_sqlite_database_from_before_the_builder_role_gets_it_and_keeps_its_users() {
    let t = TestDb::sqlite().await;
    let Db::Sqlite(pool) = &t.db else { unreachable!("a sqlite database") };
    let admin = add(&t.db, "admin@example.com", Role::Admin).await;
    t.db.save_pipeline("p", "version: 1", "sha", crate::pipelines::Base::New, "", admin.id).await.unwrap();
    crate::remake_sqlite_users(pool, "'viewer', 'marketer', 'admin'").await.unwrap();
    let refused =
        t.db.create_user(
            &Email::parse("early@example.com").unwrap(),
            &PersonName::parse("Early").unwrap(),
            Role::Builder,
            &NewPassword::parse("a long enough password").unwrap(),
        )
        .await;
    assert!(refused.is_err(), "the old table has no builder role");

    t.db.migrate().await.unwrap();
    let builder = add(&t.db, "data@example.com", Role::Builder).await;
    assert_eq!(t.db.user(builder.id).await.unwrap().map(|u| u.role), Some(Role::Builder));
    assert_eq!(t.db.user(admin.id).await.unwrap(), Some(admin.clone()));
    let saved = t.db.pipeline_version("p", None).await.unwrap().unwrap();
    assert_eq!(saved.saved_by, admin.id);
    // References are still checked: a version by nobody is refused.
    let orphan = t.db.save_pipeline("q", "version: 1", "sha", crate::pipelines::Base::New, "", 9999).await;
    assert!(orphan.is_err(), "foreign keys are on again");
    t.db.migrate().await.unwrap();
    t.finish().await;
}

#[tokio::test]
async fn accounts_of_every_role_are_stored() {
    for t in TestDb::each().await {
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let user = add(&t.db, &format!("r{i}@example.com"), role).await;
            assert_eq!(t.db.user(user.id).await.unwrap().map(|u| u.role), Some(role), "{}", t.db.backend());
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused_by_name() {
    let err = Db::connect("mysql://localhost/x").await.unwrap_err();
    assert_eq!(err.to_string(), "database URL must start with sqlite: or postgres:, got \"mysql://localhost/x\"");
}

/// A test that panics before `finish` leaves no database behind.
#[tokio::test]
async fn a_test_database_is_removed_even_when_its_test_panics() {
    let Some(t) = TestDb::postgres().await else { return };
    let name = t.url.rsplit('/').next().unwrap().to_owned();
    let sqlite = TestDb::sqlite().await;
    let file = sqlite.url.strip_prefix("sqlite://").unwrap().to_owned();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let (_pg, _file) = (t, sqlite);
        panic!("a failing test");
    }));
    assert!(unwound.is_err());
    let admin = std::env::var("MCMS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let Db::Postgres(pool) = Db::connect(&admin).await.unwrap() else { unreachable!("a postgres URL") };
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "{name} was dropped");
    assert!(!std::path::Path::new(&file).exists(), "{file} was removed");
}
