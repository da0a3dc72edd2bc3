//! Partners, keys and statistics, on SQLite and (when reachable) PostgreSQL.

use crate::StoreError;
use crate::costs::tests::seed;
use crate::partners::{DailyStats, KeySettings, PartnerForm, key_hash};
use crate::testing::TestDb;
use domain::keys::{ApiKey, Scope};
use time::OffsetDateTime;
use time::macros::date;

fn settings() -> KeySettings {
    KeySettings {
        label: "reporting job".into(),
        scopes: vec![Scope::Stats, Scope::Games, Scope::Stats],
        models: vec![],
        expires_at: None,
        rate_per_minute: 600,
        daily_quota: Some(10_000),
    }
}

fn stats(day: time::Date, channel: &str, dau: i64) -> DailyStats {
    DailyStats {
        game: "LINEAGE".into(),
        channel: channel.into(),
        day,
        new_users: 10,
        daily_active: dau,
        paying_users: 2,
        revenue_minor: 99_000,
        currency: "KRW".into(),
    }
}

#[tokio::test]
async fn keys_are_issued_once_found_by_prefix_rotated_and_revoked() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        let (games, channels) = (["LINEAGE".to_owned()], ["GADS".to_owned()]);
        let form = PartnerForm {
            name: "Ad Partner",
            contact: "ops@partner.test",
            active: true,
            games: &games,
            channels: &channels,
        };
        let p = db.save_partner(None, &form, actor).await.unwrap();
        let dup = db.save_partner(None, &PartnerForm { games: &[], channels: &[], ..form }, actor).await;
        assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
        let nope = ["NOPE".to_owned()];
        let bad = db.save_partner(Some(p), &PartnerForm { games: &nope, ..form }, actor).await;
        assert!(matches!(bad, Err(StoreError::Unknown(_))), "{}: {bad:?}", db.backend());
        assert_eq!(db.partner(p).await.unwrap().unwrap().games, ["LINEAGE"], "nothing of the refused change");

        let (info, key) = db.issue_key(p, &settings(), actor).await.unwrap();
        assert_eq!(ApiKey::parse(key.reveal()), Ok(key.clone()));
        assert_eq!(info.prefix, key.prefix());
        assert_eq!(info.scopes(), [Scope::Games, Scope::Stats]);
        let gate = db.gate_key(key.prefix()).await.unwrap().unwrap();
        assert_eq!(gate.hash, key_hash(&key), "only the hash is stored, and it matches");
        assert_eq!((gate.partner.id, gate.partner.channels.clone()), (p, vec!["GADS".to_owned()]));
        assert!(db.gate_key("mcms_00000000").await.unwrap().is_none());

        let nets = domain::net::parse_list("203.0.113.0/24\n2001:db8::/32").unwrap();
        db.set_allowlist(p, Some(info.id), &nets, actor).await.unwrap();
        db.set_allowlist(p, None, &nets[..1], actor).await.unwrap();
        let gate = db.gate_key(key.prefix()).await.unwrap().unwrap();
        assert_eq!((gate.allowlist.len(), gate.partner_allowlist.len()), (2, 1), "{}", db.backend());
        assert!(matches!(db.set_allowlist(p + 1, Some(info.id), &nets, actor).await, Err(StoreError::NotFound)));
        // A key's settings and its list change together or not at all: a refused rate leaves the
        // list as it was.
        let bad = KeySettings { rate_per_minute: 0, ..settings() };
        assert!(db.update_key(info.id, &bad, &nets[..1], actor).await.is_err());
        assert_eq!(db.allowlist(p, Some(info.id)).await.unwrap(), nets, "{}: the list is untouched", db.backend());
        let changed = KeySettings { label: "nightly".into(), ..settings() };
        assert_eq!(db.update_key(info.id, &changed, &nets, actor).await.unwrap().label, "nightly");
        assert_eq!(db.allowlist(p, Some(info.id)).await.unwrap(), nets);

        let grace = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let (new_info, new_key) = db.rotate_key(info.id, grace, actor).await.unwrap();
        assert_ne!(new_key.reveal(), key.reveal());
        assert_eq!(new_info.scopes, info.scopes, "the successor keeps the settings");
        let old = db.key(info.id).await.unwrap().unwrap();
        assert_eq!(old.replaced_by, Some(new_info.id));
        assert_eq!(
            old.expires_at.map(|e| e.unix_timestamp()),
            Some(grace.unix_timestamp()),
            "works until the grace ends"
        );
        assert_eq!(db.allowlist(p, Some(new_info.id)).await.unwrap(), nets, "and its allowlist");
        assert!(matches!(db.rotate_key(info.id, grace, actor).await, Err(StoreError::NotFound)), "rotated once only");

        db.revoke_key(new_info.id, actor).await.unwrap();
        assert!(db.key(new_info.id).await.unwrap().unwrap().revoked_at.is_some());
        assert!(matches!(db.revoke_key(new_info.id, actor).await, Err(StoreError::NotFound)));

        let trail = db.audit_trail("api_key", &info.id.to_string()).await.unwrap();
        assert_eq!(trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["issue", "edit"]);
        let trail = db.audit_trail("api_key", &new_info.id.to_string()).await.unwrap();
        assert_eq!(trail.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["rotate", "revoke"]);
        assert_eq!(db.audit_trail("allowlist", &format!("{p}/{}", info.id)).await.unwrap().len(), 2);
        t.finish().await;
    }
}

#[tokio::test]
async fn statistics_load_whole_and_page_by_day_and_channel() {
    for t in TestDb::each().await {
        let db = &t.db;
        let actor = seed(db).await;
        db.put_code(crate::costs::MasterTable::Channels, "META", "Meta", true).await.unwrap();
        let mut rows = Vec::new();
        for d in 1..=5u8 {
            let day = date!(2026 - 11 - 01).replace_day(d).unwrap();
            rows.push(stats(day, "GADS", 100 + i64::from(d)));
            rows.push(stats(day, "META", 200 + i64::from(d)));
        }
        let mut bad = rows.clone();
        bad.push(DailyStats { channel: "NOPE".into(), ..rows[0].clone() });
        assert!(matches!(db.load_stats(&bad, actor).await, Err(StoreError::Unknown(_))));
        let gads = ["GADS".to_owned()];
        let all = db.daily_stats("LINEAGE", &gads, date!(2026 - 11 - 01), date!(2026 - 11 - 30), None, 100).await;
        assert!(all.unwrap().is_empty(), "{}: nothing of the refused load", db.backend());

        assert_eq!(db.load_stats(&rows, actor).await.unwrap(), 10);
        let first =
            db.daily_stats("LINEAGE", &gads, date!(2026 - 11 - 02), date!(2026 - 11 - 30), None, 2).await.unwrap();
        assert_eq!(first.iter().map(|s| s.daily_active).collect::<Vec<_>>(), [102, 103], "own channel only");
        let last = first.last().map(|s| (s.day, s.channel.clone()));
        let next =
            db.daily_stats("LINEAGE", &gads, date!(2026 - 11 - 02), date!(2026 - 11 - 30), last, 2).await.unwrap();
        assert_eq!(next.iter().map(|s| s.daily_active).collect::<Vec<_>>(), [104, 105]);
        let both = ["GADS".to_owned(), "META".to_owned()];
        let mixed =
            db.daily_stats("LINEAGE", &both, date!(2026 - 11 - 05), date!(2026 - 11 - 05), None, 9).await.unwrap();
        assert_eq!(mixed.iter().map(|s| s.channel.as_str()).collect::<Vec<_>>(), ["GADS", "META"]);
        t.finish().await;
    }
}
