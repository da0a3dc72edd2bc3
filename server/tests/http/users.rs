//! User administration: what each kind of bad input gets, and that it changes nothing.

use crate::common::{PASSWORD, TestApp};
use domain::Role;
use http::StatusCode;

#[tokio::test]
async fn creating_users_validates_every_field_specifically() {
    for app in TestApp::each().await {
        let (mut admin, _) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let create = |email: &'static str, name: &'static str, role: &'static str, password: &'static str| {
            [("email", email), ("name", name), ("role", role), ("password", password)]
        };
        type Case = ([(&'static str, &'static str); 4], StatusCode, &'static str);
        let cases: [Case; 7] = [
            (
                create("not-an-email", "Ana", "viewer", PASSWORD),
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"Invalid":{"field":"email","code":"email.malformed"}}"#,
            ),
            (
                create("", "Ana", "viewer", PASSWORD),
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"Invalid":{"field":"email","code":"email.empty"}}"#,
            ),
            (
                create("ana@mcms.test", "  ", "viewer", PASSWORD),
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"Invalid":{"field":"name","code":"name.empty"}}"#,
            ),
            (
                create("ana@mcms.test", "Ana", "root", PASSWORD),
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"Invalid":{"field":"role","code":"role.unknown"}}"#,
            ),
            (
                create("ana@mcms.test", "Ana", "viewer", "short"),
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"Invalid":{"field":"password","code":"password.too_short"}}"#,
            ),
            (create("ANA@mcms.test", "Ana", "marketer", PASSWORD), StatusCode::OK, r#""email":"ana@mcms.test""#),
            (
                create("ana@MCMS.test", "Ana again", "viewer", PASSWORD),
                StatusCode::CONFLICT,
                r#"{"Conflict":{"code":"user.duplicate_email"}}"#,
            ),
        ];
        for (form, status, body) in cases {
            let r = admin.call("/api/admin/users/create", &form).await;
            assert_eq!(r.status, status, "{}: {form:?}: {}", app.backend(), r.body);
            assert!(r.body.contains(body), "{form:?}: {}", r.body);
        }
        let emails: Vec<_> = app.t.db.users().await.unwrap().into_iter().map(|u| u.email).collect();
        assert_eq!(emails, ["admin@mcms.test", "ana@mcms.test"], "only the valid request created a user");
        app.finish().await;
    }
}

#[tokio::test]
async fn admins_cannot_lock_themselves_or_everyone_out() {
    for app in TestApp::each().await {
        let (mut admin, me) = app.signed_in("admin@mcms.test", Role::Admin).await;
        let my_id = me.id.to_string();
        let r = admin.call("/api/admin/users/role", &[("user_id", &my_id), ("role", "viewer")]).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::CONFLICT, r#"{"Conflict":{"code":"user.self_change"}}"#));
        let r = admin.call("/api/admin/users/active", &[("user_id", &my_id), ("active", "false")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);

        // With a second admin signed in, demoting the first leaves one; the last is protected.
        let (mut other, other_user) = app.signed_in("other@mcms.test", Role::Admin).await;
        let r = other.call("/api/admin/users/role", &[("user_id", &my_id), ("role", "marketer")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        app.t.db.set_role(me.id, Role::Admin, me.id).await.unwrap();
        app.t.db.set_active(me.id, false, me.id).await.unwrap();
        let r =
            other.call("/api/admin/users/role", &[("user_id", &other_user.id.to_string()), ("role", "viewer")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "self change is refused first");

        let r = other.call("/api/admin/users/active", &[("user_id", "999999"), ("active", "true")]).await;
        assert_eq!((r.status, r.body.as_str()), (StatusCode::NOT_FOUND, "\"NotFound\""));
        let r = other.call("/api/admin/users/role", &[("user_id", "abc"), ("role", "viewer")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        app.finish().await;
    }
}
