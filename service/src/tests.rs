//! Who may do what, asked of the use cases themselves (every adapter goes through them), on
//! SQLite and PostgreSQL.

use crate::{Actor, Error, Service};
use domain::{Email, NewPassword, PersonName, Role};
use store::Db;
use store::costs::{CostSettings, YearMonth};
use store::partners::{KeySettings, PartnerForm};
use store::testing::TestDb;

async fn account(db: &Db, email: &str, role: Role) -> store::User {
    let (email, name) = (Email::parse(email).unwrap(), PersonName::parse("Test Person").unwrap());
    db.create_user(&email, &name, role, &NewPassword::parse("a long enough password").unwrap()).await.unwrap()
}

fn key_settings() -> KeySettings {
    KeySettings {
        label: "test".into(),
        scopes: vec![domain::keys::Scope::Stats],
        models: vec![],
        expires_at: None,
        rate_per_minute: 60,
        daily_quota: None,
    }
}

#[tokio::test]
async fn each_use_case_refuses_the_roles_it_does_not_allow() {
    for t in TestDb::each().await {
        let costs = CostSettings::default();
        let today = time::OffsetDateTime::now_utc().date();
        let service = Service { db: &t.db, costs: &costs, today };
        let admin = Actor::user(&account(&t.db, "admin@example.com", Role::Admin).await).unwrap();
        let marketer = Actor::user(&account(&t.db, "marketer@example.com", Role::Marketer).await).unwrap();
        let viewer = Actor::user(&account(&t.db, "viewer@example.com", Role::Viewer).await).unwrap();
        let partner =
            t.db.save_partner(
                None,
                &PartnerForm { name: "P", contact: "p@example.com", active: true, games: &[], channels: &[] },
                admin.id,
            )
            .await
            .unwrap();
        let month = YearMonth::parse("2026-01").unwrap();

        for who in [&viewer, &marketer] {
            assert!(matches!(service.close_month(who, month).await, Err(Error::Forbidden)));
            assert!(matches!(service.issue_key(who, partner, &key_settings()).await, Err(Error::Forbidden)));
            assert!(matches!(service.issue_poc_token(who, "script", None).await, Err(Error::Forbidden)));
        }
        let form = domain::costs::CostForm::default();
        assert!(matches!(service.save_cost(&viewer, &form, None, &[]).await, Err(Error::Forbidden)));
        assert!(matches!(service.rollback_import(&viewer, 1).await, Err(Error::Forbidden)));
        assert!(matches!(service.delete_cost(&viewer, 1, 1).await, Err(Error::Forbidden)));
        assert!(matches!(service.restore_cost(&marketer, 1).await, Err(Error::Forbidden)));
        assert!(matches!(service.set_budget(&viewer, "X", month, 100).await, Err(Error::Forbidden)));
        assert!(matches!(service.update_key(&marketer, 1, &key_settings(), &[]).await, Err(Error::Forbidden)));
        assert!(matches!(service.set_partner_allowlist(&marketer, partner, &[]).await, Err(Error::Forbidden)));
        // A marketer's budget: never negative, only for a campaign that exists.
        assert!(matches!(
            service.set_budget(&marketer, "X", month, -1).await,
            Err(Error::Invalid { field: "amount", .. })
        ));
        assert!(matches!(
            service.set_budget(&marketer, "NO-SUCH-CAMPAIGN", month, 100).await,
            Err(Error::Invalid { field: "campaign", .. })
        ));
        assert!(matches!(
            service.set_partner_allowlist(&admin, partner + 1000, &[]).await,
            Err(Error::Store(store::StoreError::NotFound))
        ));
        // A marketer gets as far as the rules (an empty form breaks them), a viewer never does.
        assert!(matches!(service.save_cost(&marketer, &form, None, &[]).await, Err(Error::Rules(_))));

        service.close_month(&admin, month).await.unwrap();
        let (info, _) = service.issue_key(&admin, partner, &key_settings()).await.unwrap();
        assert!(matches!(
            service.rotate_key(&admin, info.id, 24 * 31).await,
            Err(Error::Invalid { field: "grace_hours", .. })
        ));
        service.revoke_key(&admin, info.id).await.unwrap();

        // Accounts: admins only, and never their own role or activation.
        let person = (Email::parse("new@example.com").unwrap(), PersonName::parse("New Person").unwrap());
        let password = NewPassword::parse("a long enough password").unwrap();
        assert!(matches!(
            service.create_user(&marketer, &person.0, &person.1, Role::Viewer, &password).await,
            Err(Error::Forbidden)
        ));
        let created = service.create_user(&admin, &person.0, &person.1, Role::Viewer, &password).await.unwrap();
        assert_eq!(service.change_role(&admin, created.id, Role::Marketer).await.unwrap().role, Role::Marketer);
        assert!(matches!(service.change_role(&admin, admin.id, Role::Viewer).await, Err(Error::Conflict(_))));
        assert!(matches!(service.set_user_active(&admin, admin.id, false).await, Err(Error::Conflict(_))));
        assert!(matches!(service.set_user_active(&marketer, created.id, false).await, Err(Error::Forbidden)));

        // A PoC recording token may record runs and nothing else.
        let token = Actor::poc_token(admin.id);
        assert!(matches!(service.close_month(&token, month).await, Err(Error::Forbidden)));
        assert!(matches!(service.issue_key(&token, partner, &key_settings()).await, Err(Error::Forbidden)));
        assert!(matches!(service.record_runs(&viewer, 1, &[], "api").await, Err(Error::Forbidden)));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_deactivated_or_unknown_account_is_no_actor() {
    for t in TestDb::each().await {
        let admin = account(&t.db, "admin@example.com", Role::Admin).await;
        let former = account(&t.db, "former@example.com", Role::Marketer).await;
        let former = t.db.set_active(former.id, false, admin.id).await.unwrap();
        assert!(matches!(Actor::user(&former), Err(Error::Forbidden)));
        assert!(matches!(Actor::by_email(&t.db, "former@example.com").await, Err(Error::UnknownActor(_))));
        assert!(matches!(Actor::by_email(&t.db, "nobody@example.com").await, Err(Error::UnknownActor(_))));
        let found = Actor::by_email(&t.db, " ADMIN@example.com ").await.unwrap();
        assert_eq!(found.id, admin.id);
        found.require(Role::Admin).unwrap();
        t.finish().await;
    }
}

#[tokio::test]
async fn a_poc_token_needs_a_label_and_an_expiry_not_in_the_past() {
    for t in TestDb::each().await {
        let costs = CostSettings::default();
        let today = time::macros::date!(2026 - 06 - 15);
        let service = Service { db: &t.db, costs: &costs, today };
        let admin = Actor::user(&account(&t.db, "admin@example.com", Role::Admin).await).unwrap();
        let long = "x".repeat(201);
        for label in ["", "   ", long.as_str()] {
            assert!(matches!(
                service.issue_poc_token(&admin, label, None).await,
                Err(Error::Invalid { field: "label", .. })
            ));
        }
        let yesterday = time::macros::date!(2026 - 06 - 14);
        assert!(matches!(
            service.issue_poc_token(&admin, "script", Some(yesterday)).await,
            Err(Error::Invalid { field: "expires_on", .. })
        ));
        t.finish().await;
    }
}
