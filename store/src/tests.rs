//! The store suite: every test runs against SQLite and, when reachable, PostgreSQL.

use crate::testing::TestDb;
use crate::{Db, LoginThrottle, StoreError, ThrottleVerdict};
use domain::{Email, NewPassword, PersonName, Role};

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

        db.set_active(ana.id, false).await.unwrap();
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
        assert!(matches!(db.set_role(root.id, Role::Viewer).await, Err(StoreError::LastAdmin)), "{}", db.backend());
        assert!(matches!(db.set_active(root.id, false).await, Err(StoreError::LastAdmin)));
        assert_eq!(db.user(root.id).await.unwrap().unwrap().role, Role::Admin, "nothing changed");

        let second = add(db, "second@example.com", Role::Admin).await;
        assert_eq!(db.set_role(root.id, Role::Marketer).await.unwrap().role, Role::Marketer);
        assert!(matches!(db.set_active(second.id, false).await, Err(StoreError::LastAdmin)));
        assert!(matches!(db.set_role(4242, Role::Viewer).await, Err(StoreError::NotFound)));
        // Promoting and reactivating never need the guard.
        assert_eq!(db.set_role(root.id, Role::Admin).await.unwrap().role, Role::Admin);
        assert!(!db.set_active(second.id, false).await.unwrap().active);
        assert!(db.set_active(second.id, true).await.unwrap().active);
        t.finish().await;
    }
}

#[tokio::test]
async fn sign_in_failures_are_throttled_per_account_and_per_address() {
    let limits = LoginThrottle { window_secs: 600, max_per_account: 3, max_per_address: 5 };
    for t in TestDb::each().await {
        let db = &t.db;
        for _ in 0..3 {
            assert_eq!(
                db.login_allowed(&limits, "ana@example.com", "10.0.0.1").await.unwrap(),
                ThrottleVerdict::Allowed
            );
            db.record_login_failure(&limits, "Ana@example.com", "10.0.0.1").await.unwrap();
        }
        let blocked = db.login_allowed(&limits, "ana@example.com", "10.0.0.9").await.unwrap();
        assert!(
            matches!(blocked, ThrottleVerdict::Blocked { retry_after_secs } if (1..=600).contains(&retry_after_secs)),
            "{}: {blocked:?}",
            db.backend()
        );
        // Another account from the same address still has room, until the address budget is spent.
        assert_eq!(db.login_allowed(&limits, "bo@example.com", "10.0.0.1").await.unwrap(), ThrottleVerdict::Allowed);
        for _ in 0..2 {
            db.record_login_failure(&limits, "bo@example.com", "10.0.0.1").await.unwrap();
        }
        assert!(matches!(
            db.login_allowed(&limits, "cy@example.com", "10.0.0.1").await.unwrap(),
            ThrottleVerdict::Blocked { .. }
        ));
        // Success clears the account's count but not the address's.
        db.clear_login_failures("ana@example.com").await.unwrap();
        assert_eq!(db.login_allowed(&limits, "ana@example.com", "10.0.0.2").await.unwrap(), ThrottleVerdict::Allowed);
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

#[tokio::test]
async fn unsupported_urls_are_refused_by_name() {
    let err = Db::connect("mysql://localhost/x").await.unwrap_err();
    assert_eq!(err.to_string(), "database URL must start with sqlite: or postgres:, got \"mysql://localhost/x\"");
}
