//! The model registry, on SQLite and (when reachable) PostgreSQL.

use crate::StoreError;
use crate::models::{NewVersion, RollOut, Uploaded};
use crate::testing::TestDb;
use domain::Role;

fn upload<'a>(model: &'a str, bytes: &'a [u8], sha: &'a str, signature: &'a str, by: i64) -> NewVersion<'a> {
    NewVersion {
        model,
        bytes,
        sha256: sha,
        task: "binary_classification",
        signature,
        uploaded_by: by,
        via: "command",
        note: "",
    }
}

#[tokio::test]
async fn versions_are_numbered_per_model_and_files_kept_once() {
    for t in TestDb::each().await {
        let db = &t.db;
        let by = t.user("ds@mcms.example", Role::Builder).await;
        assert_eq!(db.add_model_version(&upload("churn", b"one", "s1", "{}", by)).await.unwrap(), Uploaded::New(1));
        assert_eq!(db.add_model_version(&upload("churn", b"two", "s2", "{}", by)).await.unwrap(), Uploaded::New(2));
        // The same file and signature again is the version that has them.
        assert_eq!(db.add_model_version(&upload("churn", b"one", "s1", "{}", by)).await.unwrap(), Uploaded::Same(1));
        // The same file with another signature is a new version; the file is stored once.
        assert_eq!(
            db.add_model_version(&upload("churn", b"one", "s1", "{\"a\":1}", by)).await.unwrap(),
            Uploaded::New(3)
        );
        assert_eq!(db.add_model_version(&upload("segment", b"one", "s1", "{}", by)).await.unwrap(), Uploaded::New(1));
        let files: i64 =
            crate::on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM model_files").fetch_one(pool).await)
                .unwrap();
        assert_eq!(files, 2, "{}", db.backend());
        assert_eq!(db.model_file("s1").await.unwrap().as_deref(), Some(&b"one"[..]));
        assert_eq!(db.model_file("nope").await.unwrap(), None);

        let versions = db.model_versions("churn").await.unwrap();
        assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [3, 2, 1]);
        assert!(versions.iter().all(|v| v.stage == "staging" && v.uploaded_by_name == "Test User"));
        assert_eq!(versions[1].size, 3);
        let models = db.models().await.unwrap();
        assert_eq!(
            models.iter().map(|m| (m.name.as_str(), m.latest, m.production)).collect::<Vec<_>>(),
            [("churn", 3, None), ("segment", 1, None)]
        );
        let trail = db.audit_trail("model", "churn").await.unwrap();
        assert_eq!(trail.iter().filter(|r| r.action == "upload").count(), 3);
        t.finish().await;
    }
}

#[tokio::test]
async fn promotion_rollback_archive_and_canary_keep_one_production_version() {
    for t in TestDb::each().await {
        let db = &t.db;
        let by = t.user("ds@mcms.example", Role::Builder).await;
        for (bytes, sha) in [(&b"1"[..], "a1"), (b"2", "a2"), (b"3", "a3")] {
            db.add_model_version(&upload("churn", bytes, sha, "{}", by)).await.unwrap();
        }
        let routing = |db: &crate::Db| {
            let db = db.clone();
            async move { db.model_routing().await.unwrap().into_iter().find(|r| r.name == "churn").unwrap() }
        };
        let g0 = routing(db).await.generation;
        assert!(
            matches!(db.change_model_roll_out("churn", RollOut::Canary(Some((2, 10))), None, by, "").await, Err(StoreError::Refused(m)) if m.contains("promote one first"))
        );
        let g1 = db.change_model_roll_out("churn", RollOut::Promote(1), Some(g0), by, "first").await.unwrap();
        assert_eq!(routing(db).await.production, Some(1));
        // Someone who saw the model before that promotion changes nothing.
        assert!(matches!(
            db.change_model_roll_out("churn", RollOut::Promote(2), Some(g0), by, "late").await,
            Err(StoreError::Changed(_))
        ));
        assert!(
            matches!(db.change_model_roll_out("churn", RollOut::Promote(1), None, by, "").await, Err(StoreError::Refused(m)) if m.contains("already in production"))
        );
        assert!(
            matches!(db.change_model_roll_out("churn", RollOut::Promote(9), None, by, "").await, Err(StoreError::Refused(m)) if m.contains("no version 9"))
        );
        assert!(matches!(
            db.change_model_roll_out("nope", RollOut::Promote(1), None, by, "").await,
            Err(StoreError::NotFound)
        ));

        let g2 = db.change_model_roll_out("churn", RollOut::Canary(Some((2, 10))), Some(g1), by, "").await.unwrap();
        let r = routing(db).await;
        assert_eq!((r.production, r.canary, r.canary_percent, r.generation), (Some(1), Some(2), 10, g2));
        assert!(
            matches!(db.change_model_roll_out("churn", RollOut::Canary(Some((1, 10))), None, by, "").await, Err(StoreError::Refused(m)) if m.contains("is production"))
        );
        assert!(matches!(
            db.change_model_roll_out("churn", RollOut::Canary(Some((2, 101))), None, by, "").await,
            Err(StoreError::Refused(_))
        ));
        // Promoting the canary ends the canary and archives the version before it.
        db.change_model_roll_out("churn", RollOut::Promote(2), Some(g2), by, "canary was good").await.unwrap();
        let r = routing(db).await;
        assert_eq!((r.production, r.canary, r.canary_percent), (Some(2), None, 0));
        assert_eq!(db.model_version("churn", 1).await.unwrap().unwrap().stage, "archived");

        db.change_model_roll_out("churn", RollOut::Rollback, None, by, "v2 misbehaves").await.unwrap();
        assert_eq!(routing(db).await.production, Some(1));
        assert_eq!(db.model_version("churn", 2).await.unwrap().unwrap().stage, "archived");
        // Rolling back again goes to the version retired last.
        db.change_model_roll_out("churn", RollOut::Rollback, None, by, "").await.unwrap();
        assert_eq!(routing(db).await.production, Some(2));

        assert!(
            matches!(db.change_model_roll_out("churn", RollOut::Archive(2), None, by, "").await, Err(StoreError::Refused(m)) if m.contains("in production"))
        );
        db.change_model_roll_out("churn", RollOut::Archive(3), None, by, "never used").await.unwrap();
        assert!(
            matches!(db.change_model_roll_out("churn", RollOut::Archive(3), None, by, "").await, Err(StoreError::Refused(m)) if m.contains("already archived"))
        );
        let stages: Vec<(i32, String)> =
            db.model_versions("churn").await.unwrap().into_iter().map(|v| (v.version, v.stage)).collect();
        assert_eq!(stages, [(3, "archived".into()), (2, "production".into()), (1, "archived".into())]);

        let actions: Vec<String> =
            db.audit_trail("model", "churn").await.unwrap().into_iter().map(|r| r.action).collect();
        for action in ["promote", "canary", "rollback", "archive"] {
            assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
        }
        let promoted =
            db.audit_trail("model", "churn").await.unwrap().into_iter().find(|r| r.action == "promote").unwrap();
        assert_eq!(promoted.before.as_deref(), Some("no production version"));
        assert_eq!(promoted.after.as_deref(), Some("production version 1"));
        t.finish().await;
    }
}

#[tokio::test]
async fn a_model_without_a_rollback_target_says_so() {
    for t in TestDb::each().await {
        let db = &t.db;
        let by = t.user("ds@mcms.example", Role::Builder).await;
        db.add_model_version(&upload("churn", b"1", "a1", "{}", by)).await.unwrap();
        let e = db.change_model_roll_out("churn", RollOut::Rollback, None, by, "").await.unwrap_err();
        assert_eq!(e.to_string(), "churn has no earlier production version to roll back to");
        t.finish().await;
    }
}
