//! The demo dataset loaded by `mcms serve --demo`: accounts for every role and a cost ledger.

use domain::costs::CostForm;
use domain::{Email, NewPassword, PersonName, Role};
use store::costs::CostSettings;
use store::pipelines::Base;
use store::{Db, StoreError};
use time::{Date, Duration};

/// The password of every demo account (printed by the README).
pub const DEMO_PASSWORD: &str = "mcms-demo-2026";

/// (email, name, role, active)
pub const DEMO_USERS: &[(&str, &str, Role, bool)] = &[
    ("admin@mcms.example", "Hana Park", Role::Admin, true),
    ("marketer@mcms.example", "Minjun Lee", Role::Marketer, true),
    ("growth@mcms.example", "Sofia Garcia", Role::Marketer, true),
    ("viewer@mcms.example", "Daniel Kim", Role::Viewer, true),
    ("data@mcms.example", "Yuna Jung", Role::Builder, true),
    ("former@mcms.example", "Jisoo Choi", Role::Marketer, false),
];

/// Adds the demo accounts that are missing; existing accounts are left as they are.
pub async fn load(db: &Db) -> Result<usize, StoreError> {
    let password = NewPassword::parse(DEMO_PASSWORD).expect("the demo password is long enough");
    let mut added = 0;
    for &(email, name, role, active) in DEMO_USERS {
        let email = Email::parse(email).expect("demo emails are valid");
        let name = PersonName::parse(name).expect("demo names are valid");
        match db.create_user(&email, &name, role, &password).await {
            Ok(user) => {
                added += 1;
                if !active {
                    db.set_active(user.id, false, user.id).await?;
                }
            }
            Err(StoreError::Duplicate(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(added)
}

/// The pipelines shipped in `pipelines/`, as the demo stores them (by name, saved by the admin).
pub const SHIPPED_PIPELINES: [(&str, &str); 4] = [
    ("month-batch", include_str!("../../pipelines/month-batch.yaml")),
    ("partner-weekly", include_str!("../../pipelines/partner-weekly.yaml")),
    ("agency-csv", include_str!("../../pipelines/agency-csv.yaml")),
    ("player-scores", include_str!("../../pipelines/player-scores.yaml")),
];

/// Stores the shipped pipelines that are not stored yet (a pipeline already stored, perhaps
/// edited since, is left as it is).
pub async fn load_pipelines(db: &Db) -> Result<usize, StoreError> {
    use sha2::Digest;
    let admin = db
        .users()
        .await?
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(DEMO_USERS[0].0))
        .ok_or(StoreError::NotFound)?;
    let mut added = 0;
    for (name, text) in SHIPPED_PIPELINES {
        let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        match db.save_pipeline(name, text, &sha, Base::New, "shipped with MCMS", admin.id).await {
            Ok(_) => added += 1,
            Err(StoreError::Changed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(added)
}

/// The demo's three models (trained by models/train.py): name, ONNX file, signature.
pub const SHIPPED_MODELS: [(&str, &[u8], &str); 3] = [
    (
        "first_purchase",
        include_bytes!("../../models/first_purchase/model.onnx"),
        include_str!("../../models/first_purchase/signature.yaml"),
    ),
    ("churn", include_bytes!("../../models/churn/model.onnx"), include_str!("../../models/churn/signature.yaml")),
    ("segment", include_bytes!("../../models/segment/model.onnx"), include_str!("../../models/segment/signature.yaml")),
];

/// Registers the shipped models that are not registered yet, each checked like any upload and
/// put in production, recorded under the demo's pipeline builder. A model already registered
/// (perhaps with newer versions) is left as it is.
pub async fn load_models(db: &Db) -> Result<usize, service::Error> {
    let builder = db
        .users()
        .await?
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(DEMO_USERS[4].0))
        .ok_or(StoreError::NotFound)?;
    let actor = service::Actor::user(&builder)?;
    let costs = CostSettings::default();
    let service = service::Service { db, costs: &costs, today: time::OffsetDateTime::now_utc().date() };
    let registered: Vec<String> = db.models().await?.into_iter().map(|m| m.name).collect();
    let mut added = 0;
    for (name, onnx, signature) in SHIPPED_MODELS {
        if registered.iter().any(|m| m == name) {
            continue;
        }
        let via = service::models::Via::Command;
        let up =
            service::models::Upload { model: name, onnx, signature, note: "shipped with MCMS (models/train.py)", via };
        let done = service.upload_model(&actor, up).await?;
        let promote = store::models::RollOut::Promote(done.version);
        service.change_roll_out(&actor, name, promote, None, "the demo's first version").await?;
        added += 1;
    }
    Ok(added)
}

/// Master data, rates, campaigns, budgets and about three months of entries, each entry checked by
/// the same rules as the form. Loaded once: skipped when the ledger already has entries.
pub async fn load_costs(db: &Db, settings: &CostSettings, today: Date) -> Result<usize, StoreError> {
    use domain::Currency;
    use store::costs::{MasterTable, NewCampaign, YearMonth};

    if db.list_costs(&Default::default(), None, 1).await?.total_count > 0 {
        return Ok(0);
    }
    for (code, name) in [
        ("STARFALL", "Starfall Legends"),
        ("PUZZLE", "Puzzle Harbor"),
        ("DRAGONVALE", "Dragon Vale Online"),
        ("RACERS", "Pocket Racers"),
    ] {
        db.put_code(MasterTable::Games, code, name, true).await?;
    }
    for (code, name) in [
        ("GOOGLE_ADS", "Google Ads"),
        ("META", "Meta"),
        ("APPLE_SEARCH_ADS", "Apple Search Ads"),
        ("TIKTOK", "TikTok"),
        ("UNITY_ADS", "Unity Ads"),
        ("APPLOVIN", "AppLovin"),
        ("NAVER", "Naver"),
        ("KAKAO", "Kakao"),
    ] {
        db.put_code(MasterTable::Channels, code, name, true).await?;
    }
    for (code, name, active) in [
        ("DIRECT", "Direct (no agency)", true),
        ("SEOUL_PERF", "Seoul Performance Partners", true),
        ("PACIFIC_GROWTH", "Pacific Growth Agency", true),
        ("TOKYO_MOBILE", "Tokyo Mobile Media", true),
        ("OLD_AGENCY", "Hanbit Media (contract ended)", false),
    ] {
        db.put_code(MasterTable::Vendors, code, name, active).await?;
    }
    // Countries: `migrate` loads every ISO 3166-1 code.
    for c in Currency::all() {
        let used = ["KRW", "USD", "JPY", "EUR", "TWD", "THB", "KWD"].contains(&c.code());
        db.put_currency(c, used).await?;
    }
    // Usual cost per 1,000 units, in won.
    db.put_cost_type("CPI", "Cost per install", true, Some((300_000, 30_000_000))).await?;
    db.put_cost_type("CPC", "Cost per click", true, Some((30_000, 5_000_000))).await?;
    db.put_cost_type("CPM", "Cost per 1,000 impressions", true, Some((100, 40_000))).await?;
    db.put_cost_type("CPA", "Cost per action", true, Some((1_000_000, 150_000_000))).await?;
    db.put_cost_type("FLAT", "Flat fee", false, None).await?;
    db.put_cost_type("CREATIVE", "Creative production", false, None).await?;

    let owner = db.users().await?.into_iter().find(|u| u.role == domain::Role::Marketer).map(|u| u.id);
    let start = today - Duration::days(120);
    let end = today + Duration::days(60);
    let campaigns = [
        ("SF_LAUNCH_KR", "Starfall launch Korea", "STARFALL", "GOOGLE_ADS"),
        ("SF_META_GLOBAL", "Starfall Meta global", "STARFALL", "META"),
        ("SF_ASA_JP", "Starfall Apple Search Japan", "STARFALL", "APPLE_SEARCH_ADS"),
        ("PH_TIKTOK_SEA", "Puzzle Harbor TikTok SEA", "PUZZLE", "TIKTOK"),
        ("PH_UNITY_US", "Puzzle Harbor Unity US", "PUZZLE", "UNITY_ADS"),
        ("DV_NAVER_KR", "Dragon Vale Naver brand", "DRAGONVALE", "NAVER"),
        ("DV_KAKAO_KR", "Dragon Vale Kakao", "DRAGONVALE", "KAKAO"),
        ("PR_APPLOVIN_GL", "Pocket Racers AppLovin global", "RACERS", "APPLOVIN"),
    ];
    for (code, name, game, channel) in campaigns {
        db.put_campaign(&NewCampaign {
            code,
            name,
            game,
            channel,
            flight_start: start,
            flight_end: end,
            owner_id: owner,
            active: true,
        })
        .await?;
    }
    // Daily reference rates (won per unit), gently drifting; source named on every row.
    for day in 0..=130 {
        let date = today - Duration::days(day);
        let wobble = (day % 7) * 1_500_000;
        for (code, base) in [
            ("USD", 1_385_000_000_i64),
            ("JPY", 9_250_000),
            ("EUR", 1_495_000_000),
            ("TWD", 43_100_000),
            ("THB", 39_800_000),
            ("KWD", 4_520_000_000),
        ] {
            let micros = base + if code == "JPY" || code == "TWD" || code == "THB" { wobble / 150 } else { wobble };
            db.put_fx_rate(
                Currency::from_code(code).expect("ISO code"),
                date,
                micros,
                "demo: fixed daily reference rates",
            )
            .await?;
        }
    }
    let this_month = YearMonth::of(today);
    let mut months = vec![this_month];
    for _ in 0..3 {
        let first = months.last().expect("one month").first_day() - Duration::days(1);
        months.push(YearMonth::of(first));
    }
    for m in &months {
        for (code, ..) in campaigns {
            db.put_budget(code, *m, 60_000_000).await?;
        }
    }
    // (campaign, country, vendor, cost type, currency, amount, units)
    let lines: [(&str, &str, &str, &str, &str, &str, &str); 8] = [
        ("SF_LAUNCH_KR", "KR", "SEOUL_PERF", "CPI", "KRW", "1,840,000", "920"),
        ("SF_META_GLOBAL", "US", "PACIFIC_GROWTH", "CPI", "USD", "1,264.50", "610"),
        ("SF_ASA_JP", "JP", "TOKYO_MOBILE", "CPC", "JPY", "84,000", "1,150"),
        ("PH_TIKTOK_SEA", "TH", "PACIFIC_GROWTH", "CPM", "THB", "9,800.00", "1,450,000"),
        ("PH_UNITY_US", "US", "DIRECT", "CPI", "USD", "702.30", "540"),
        ("DV_NAVER_KR", "KR", "DIRECT", "FLAT", "KRW", "1,500,000", ""),
        ("DV_KAKAO_KR", "KR", "SEOUL_PERF", "CPC", "KRW", "412,000", "2,060"),
        ("PR_APPLOVIN_GL", "TW", "DIRECT", "CPI", "TWD", "18,240.00", "380"),
    ];
    let actor = owner.or(db.users().await?.first().map(|u| u.id)).ok_or(StoreError::NotFound)?;
    let mut added = 0;
    for day in (1..=95).rev() {
        let date = today - Duration::days(day);
        for (i, (campaign, country, vendor, cost_type, currency, amount, units)) in lines.into_iter().enumerate() {
            if !(day as usize + i).is_multiple_of(3) {
                continue;
            }
            let channel = campaigns.iter().find(|c| c.0 == campaign).map_or("", |c| c.3);
            let game = campaigns.iter().find(|c| c.0 == campaign).map_or("", |c| c.2);
            let form = CostForm {
                date: date.to_string(),
                game: game.into(),
                channel: channel.into(),
                campaign: campaign.into(),
                country: country.into(),
                vendor: vendor.into(),
                cost_type: cost_type.into(),
                currency: currency.into(),
                amount: amount.into(),
                units: units.into(),
                invoice_number: if vendor == "DIRECT" {
                    String::new()
                } else {
                    format!("{}-{}-{i}", vendor.split('_').next().unwrap_or("INV"), date)
                },
                ..CostForm::default()
            };
            let reference = db.cost_reference(&form, today, settings).await?;
            let report = domain::costs::validate(&form, &reference);
            let clean = report.warnings().next().is_none();
            if let Some(entry) = report.entry.as_ref().filter(|_| clean) {
                db.create_cost(entry, settings, actor).await?;
                added += 1;
            } else {
                tracing::warn!(codes = ?report.codes(), "demo entry skipped");
            }
        }
    }
    // The month before last is closed, as after a finished warehouse batch.
    db.close_period(months[2], actor).await?;
    Ok(added)
}

/// (name, contact, games, channel): channeling partners and what each may see.
pub const DEMO_PARTNERS: &[(&str, &str, &[&str], &str)] = &[
    ("Kakao Games Channeling", "partner-ops@kakao.example", &["STARFALL", "DRAGONVALE"], "KAKAO"),
    ("Naver Game Lounge", "lounge-data@naver.example", &["PUZZLE", "RACERS"], "NAVER"),
];

/// The demo partners and 120 days of daily statistics per game and channel, up to yesterday.
/// Loaded once: skipped when partners exist. Keys are not part of the demo: they are shown only
/// when issued (`mcms issue-key`, or the console).
pub async fn load_partners(db: &Db, today: Date) -> Result<usize, StoreError> {
    use store::partners::{DailyStats, PartnerForm};
    if !db.partners().await?.is_empty() {
        return Ok(0);
    }
    let admin = db.users().await?.into_iter().find(|u| u.role == Role::Admin).ok_or(StoreError::NotFound)?.id;
    for &(name, contact, games, channel) in DEMO_PARTNERS {
        let games: Vec<String> = games.iter().map(|g| (*g).to_owned()).collect();
        let channels = [channel.to_owned()];
        let form = PartnerForm { name, contact, active: true, games: &games, channels: &channels };
        db.save_partner(None, &form, admin).await?;
    }
    let games = ["STARFALL", "PUZZLE", "DRAGONVALE", "RACERS"];
    let channels = ["GOOGLE_ADS", "META", "APPLE_SEARCH_ADS", "TIKTOK", "UNITY_ADS", "APPLOVIN", "NAVER", "KAKAO"];
    let mut rows = Vec::new();
    for back in (1..=120i64).rev() {
        let day = today - Duration::days(back);
        // Weekends bring more players; each game and channel has its own size.
        let weekend = matches!(day.weekday(), time::Weekday::Saturday | time::Weekday::Sunday);
        for (g, game) in games.iter().enumerate() {
            for (c, channel) in channels.iter().enumerate() {
                let size = 400 + 150 * (g as i64 + 1) * (c as i64 % 4 + 1);
                let wave = (back * 7 + g as i64 * 13 + c as i64 * 5) % 23;
                let new_users = size / 10 + wave * 3 + if weekend { size / 25 } else { 0 };
                let daily_active = size * 6 + (120 - back) * 4 + wave * 11;
                let paying_users = daily_active / 40 + wave;
                rows.push(DailyStats {
                    game: (*game).to_owned(),
                    channel: (*channel).to_owned(),
                    day,
                    new_users,
                    daily_active,
                    paying_users,
                    revenue_minor: paying_users * (9_900 + wave * 700),
                    currency: "KRW".to_owned(),
                });
            }
        }
    }
    db.load_stats(&rows, admin).await
}

/// Files the shipped pipelines (`pipelines/`) read in the demo: two agencies' cost sheets for the
/// month before `today`, as agencies send them (blanks, a repeated row, a missing currency), in
/// `DATA_DIR/agency`, and the empty lake they write to. Existing files are left as they are.
pub fn pipeline_files(data_dir: &std::path::Path, today: Date) -> std::io::Result<usize> {
    std::fs::create_dir_all(data_dir.join("lake"))?;
    let inbox = data_dir.join("agency");
    std::fs::create_dir_all(&inbox)?;
    let month = today.replace_day(1).map_or(today, |d| d - Duration::days(1));
    let mut written = 0;
    for (agency, games, channel) in [
        ("seoul-performance", ["STARFALL", "PUZZLE"], "GOOGLE_ADS"),
        ("pacific-growth", ["DRAGONVALE", "RACERS"], "META"),
    ] {
        let path = inbox.join(format!("{agency}-{}-{:02}.csv", month.year(), u8::from(month.month())));
        if path.exists() {
            continue;
        }
        let mut sheet = String::from("Date,Game,Media,Campaign,Spend,Currency\n");
        for day in 1..=month.day() {
            let date = month.replace_day(day).unwrap_or(month);
            for (i, game) in games.iter().enumerate() {
                let spend = 150_000 + 10_000 * ((u32::from(day) * 7 + i as u32 * 3) % 11);
                let currency = if day % 9 == 0 { "" } else { "KRW" };
                sheet.push_str(&format!(
                    "{date}, {game} ,{channel},{}_always_on,{spend},{currency}\n",
                    game.to_lowercase()
                ));
            }
        }
        // The agency pasted the first day twice.
        let first = sheet.lines().nth(1).unwrap_or_default().to_owned();
        sheet.push_str(&first);
        sheet.push('\n');
        std::fs::write(path, sheet)?;
        written += 1;
    }
    let players = data_dir.join("players");
    std::fs::create_dir_all(&players)?;
    let path = players.join("players.csv");
    if !path.exists() {
        std::fs::write(path, demo_players(2_000))?;
        written += 1;
    }
    Ok(written)
}

/// `n` synthetic players' activity, in the shipped models' features (models/train.py), the same
/// every time: the nightly scoring pipeline's input in the demo.
fn demo_players(n: u32) -> String {
    // A small linear congruential generator: the demo needs variety, not randomness.
    let mut state: u64 = 20_261_204;
    let mut next = move |below: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % below.max(1)
    };
    let mut csv = String::from(
        "player_id,days_since_install,days_since_last_session,sessions_7d,minutes_7d,level,purchases_28d,spend_28d_krw,platform\n",
    );
    for i in 1..=n {
        let installed = 1 + next(720);
        let last = next(installed.min(30) + 1);
        let sessions = if last > 7 { 0 } else { next(30) };
        let minutes = sessions * (5 + next(40));
        let level = (1 + installed / 6 + next(20)).min(200);
        let purchases = if next(4) == 0 { next(4) } else { 0 };
        let spend = purchases * (1_000 + next(50) * 1_000);
        let platform = if next(3) == 0 { "ios" } else { "android" };
        csv.push_str(&format!(
            "player-{i:05},{installed},{last},{sessions},{minutes}.0,{level},{purchases},{spend},{platform}\n"
        ));
    }
    csv
}

/// The demo PoC's runs: synthetic, shaped by the vendors' published guidance named in the file.
const POC_RUNS: &str = include_str!("../data/poc-demo-runs.csv");

/// The demo proof of concept (Redshift vs Snowflake ingestion) with its recorded runs. Loaded
/// once: skipped when a PoC exists.
pub async fn load_poc(db: &Db) -> Result<usize, StoreError> {
    use store::poc::{PocScenario, PocSystem};
    if !db.pocs().await?.is_empty() {
        return Ok(0);
    }
    let admin = db.users().await?.into_iter().find(|u| u.role == Role::Admin).ok_or(StoreError::NotFound)?.id;
    let poc = db
        .create_poc(
            "Warehouse ingestion PoC: Amazon Redshift vs Snowflake",
            "Choose the warehouse that loads the game event lake (about 100 GB a day) fastest and cheapest, \
             in batch from S3 and near real time from the transactional databases.",
            "decided",
            "Snowflake for batch and CDC ingestion: faster at every file size from 16 MB up and cheaper per load; \
             keep files at 100-250 MB compressed. Redshift stays for the finance marts until their contract ends.",
        )
        .await?;
    for (name, edition, configuration) in [
        ("redshift", "Amazon Redshift RA3, provisioned", "4 × ra3.4xlarge (16 slices), managed storage, COPY from S3"),
        (
            "snowflake",
            "Snowflake Enterprise",
            "Large warehouse (8 credits/hour), auto-suspend 60 s, COPY INTO / Snowpipe",
        ),
    ] {
        let system = PocSystem {
            name: name.into(),
            edition: edition.into(),
            region: "ap-northeast-2 (Seoul)".into(),
            configuration: configuration.into(),
        };
        db.add_poc_system(poc, &system).await?;
    }
    for (name, kind, method) in [
        (
            "batch_copy",
            "batch_load",
            "Load 100 GB (600 M rows, TPC-H lineitem shape) from S3 with COPY / COPY INTO, \
            the same data split into files of 1 MB to 10 GB, as CSV (gzip and plain), Parquet (snappy) and JSON.",
        ),
        (
            "cdc_microbatch",
            "near_real_time",
            "Debezium change events written to S3 every 60 s, loaded by Redshift \
            auto-copy and by Snowpipe; latency measured from the source commit to the row being visible to a query.",
        ),
        (
            "data_share",
            "data_sharing",
            "Share a 100 GB schema with a second account; time until the consumer's first \
            query answers.",
        ),
        (
            "kafka_sink",
            "connector",
            "Kafka Connect sink connector at 50,000 events/s for 10 minutes; time until every \
            event is queryable.",
        ),
    ] {
        let scenario = PocScenario { name: name.into(), kind: kind.into(), method: method.into() };
        db.add_poc_scenario(poc, &scenario).await?;
    }
    let body: String = POC_RUNS.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    let runs = domain::poc::parse_runs_csv(&body, |_| true, |_| true)
        .map_err(|problems| StoreError::Corrupt(format!("demo PoC runs: {problems:?}")))?;
    db.record_runs(poc, &runs, "demo", admin).await
}
