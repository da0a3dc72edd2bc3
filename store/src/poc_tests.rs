//! The PoC record, on SQLite and (when reachable) PostgreSQL.

use crate::StoreError;
use crate::costs::tests::seed;
use crate::poc::{PocScenario, PocSystem, RunFilter};
use crate::testing::TestDb;
use domain::poc::parse_runs_csv;
use time::OffsetDateTime;

const HEADER: &str = "system,scenario,format,compression,file_count,file_size_mb,total_bytes,rows,load_seconds,\
latency_p50_ms,latency_p95_ms,credits,cost_usd,error,run_date,system_version,run_by,notes\n";

#[tokio::test]
async fn runs_are_recorded_whole_filtered_and_tokens_found_by_hash() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let poc = db.create_poc("Warehouse PoC", "Pick a warehouse", "running", "").await.unwrap();
        for name in ["redshift", "snowflake"] {
            let s = PocSystem {
                name: name.into(),
                edition: "e".into(),
                region: "ap-northeast-2".into(),
                configuration: "c".into(),
            };
            db.add_poc_system(poc, &s).await.unwrap();
        }
        let again = PocSystem {
            name: "redshift".into(),
            edition: String::new(),
            region: String::new(),
            configuration: String::new(),
        };
        assert!(matches!(db.add_poc_system(poc, &again).await, Err(StoreError::Duplicate(_))));
        let batch = PocScenario { name: "batch".into(), kind: "batch_load".into(), method: "COPY from S3".into() };
        db.add_poc_scenario(poc, &batch).await.unwrap();

        let file = format!(
            "{HEADER}redshift,batch,parquet,snappy,80,128,10737418240,90000000,95.5,,,1.5,4.20,,2026-10-01,1.0,jkim,\n\
             snowflake,batch,csv,gzip,80,128,10737418240,90000000,,,,,,Load timed out,2026-10-01,8.39,jkim,retry next week\n"
        );
        let runs = parse_runs_csv(&file, |_| true, |_| true).unwrap();
        let mut unknown = runs.clone();
        unknown[1].scenario = "streaming".into();
        let refused = db.record_runs(poc, &unknown, "file", actor).await;
        assert!(matches!(refused, Err(StoreError::Unknown(_))), "{}: {refused:?}", db.backend());
        assert!(db.poc_runs(poc, &RunFilter::default()).await.unwrap().is_empty(), "nothing of a refused file");

        assert_eq!(db.record_runs(poc, &runs, "file", actor).await.unwrap(), 2);
        let stored = db.poc_runs(poc, &RunFilter::default()).await.unwrap();
        assert_eq!(stored, runs, "{}: stored exactly", db.backend());
        let parquet = RunFilter { format: Some("parquet".into()), ..RunFilter::default() };
        assert_eq!(db.poc_runs(poc, &parquet).await.unwrap().len(), 1);
        let small = RunFilter { max_file_mb: Some(100), ..RunFilter::default() };
        assert!(db.poc_runs(poc, &small).await.unwrap().is_empty());

        // Tokens: issued by an admin, listed by label, refused once revoked, expired, or when
        // their issuer is no longer an active admin.
        let admin = db
            .create_user(
                &domain::Email::parse("admin@mcms.test").unwrap(),
                &domain::PersonName::parse("Admin").unwrap(),
                domain::Role::Admin,
                &domain::NewPassword::parse("a long enough password").unwrap(),
            )
            .await
            .unwrap()
            .id;
        let token = db.issue_poc_token(poc, "airflow", None, admin).await.unwrap();
        assert_eq!(db.poc_token(&token).await.unwrap(), Some((poc, admin)));
        let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
        let expired = db.issue_poc_token(poc, "last week's job", Some(past), admin).await.unwrap();
        assert_eq!(db.poc_token(&expired).await.unwrap(), None, "{}: expired", db.backend());
        let by_marketer = db.issue_poc_token(poc, "not an admin's", None, actor).await.unwrap();
        assert_eq!(db.poc_token(&by_marketer).await.unwrap(), None, "only an admin's token records");
        let listed = db.poc_tokens(poc).await.unwrap();
        let labels: Vec<&str> = listed.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["not an admin's", "last week's job", "airflow"], "{}: newest first", db.backend());
        assert_eq!(listed[2].prefix, token.prefix());
        db.revoke_poc_token(token.prefix(), admin).await.unwrap();
        assert_eq!(db.poc_token(&token).await.unwrap(), None, "revoked");
        assert!(matches!(db.revoke_poc_token(token.prefix(), admin).await, Err(StoreError::NotFound)));
        let second = db.issue_poc_token(poc, "cron", None, admin).await.unwrap();
        let other_admin = db
            .create_user(
                &domain::Email::parse("boss@mcms.test").unwrap(),
                &domain::PersonName::parse("Boss").unwrap(),
                domain::Role::Admin,
                &domain::NewPassword::parse("a long enough password").unwrap(),
            )
            .await
            .unwrap()
            .id;
        db.set_active(admin, false, other_admin).await.unwrap();
        assert_eq!(db.poc_token(&second).await.unwrap(), None, "{}: its issuer was deactivated", db.backend());
        let trail = db.audit_trail("poc_token", token.prefix()).await.unwrap();
        assert_eq!(trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["issue", "revoke"]);
        let other = domain::keys::ApiKey::generate({
            let mut n = 3u8;
            move || {
                n = n.wrapping_mul(7).wrapping_add(1);
                n
            }
        });
        assert_eq!(db.poc_token(&other).await.unwrap(), None);
        assert!(matches!(db.issue_poc_token(poc + 99, "x", None, actor).await, Err(StoreError::NotFound)));

        db.decide_poc(poc, "decided", "Snowflake", actor).await.unwrap();
        assert_eq!(db.poc(poc).await.unwrap().unwrap().decision, "Snowflake");
        let trail = db.audit_trail("poc", &poc.to_string()).await.unwrap();
        assert_eq!(trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["record", "edit"]);
        t.finish().await;
    }
}
