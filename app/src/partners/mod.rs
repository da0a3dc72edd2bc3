//! The partner key console (admins): partners and what they may see, API keys (issued once,
//! rotated with a grace period, revoked, re-scoped), IP allowlists, usage, statistics files.
// The browser's stub of `update_key` (eight form fields) carries none of its attributes.
#![cfg_attr(feature = "hydrate", allow(clippy::too_many_arguments))]

mod console;

pub use console::{PartnerPage, PartnersPage, UsageChart};

use crate::error::AppError;
use crate::shared::{Choice, HistoryLine};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::auth::guard::{Access, authorize};
#[cfg(feature = "ssr")]
use domain::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerLine {
    pub id: i64,
    pub name: String,
    pub contact: String,
    pub active: bool,
    pub games: Vec<String>,
    pub channels: Vec<String>,
    /// The partner-wide allowlist, one entry per line (empty: anywhere).
    pub allowlist: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnersView {
    pub partners: Vec<PartnerLine>,
    pub games: Vec<Choice>,
    pub channels: Vec<Choice>,
}

pub use domain::keys::KeyStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLine {
    pub id: i64,
    pub label: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub status: KeyStatus,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub expires_at: Option<String>,
    /// As `<input type="date">` wants it.
    pub expires_on: String,
    pub last_used: Option<String>,
    pub rate_per_minute: i32,
    pub daily_quota: Option<i64>,
    pub allowlist: Vec<String>,
    /// Over the days shown.
    pub requests: i64,
    pub p95_ms: Option<String>,
}

/// One day of a partner's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayUsage {
    pub day: String,
    pub ok: i64,
    pub refused: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerView {
    pub partner: PartnerLine,
    pub keys: Vec<KeyLine>,
    pub days: Vec<DayUsage>,
    /// Requests per answer status over the days shown.
    pub statuses: Vec<(u16, i64)>,
    pub history: Vec<HistoryLine>,
    pub games: Vec<Choice>,
    pub channels: Vec<Choice>,
    /// The registered models, for the keys' `models:predict:NAME` scopes.
    pub models: Vec<String>,
}

/// A key as issued: shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedKey {
    pub key: String,
    pub prefix: String,
}

/// Days of usage the console shows.
pub const USAGE_DAYS: i64 = 30;

#[cfg(feature = "ssr")]
fn when(at: time::OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

#[cfg(feature = "ssr")]
fn partner_line(p: store::partners::Partner) -> PartnerLine {
    PartnerLine {
        id: p.id,
        name: p.name,
        contact: p.contact,
        active: p.active,
        games: p.games,
        channels: p.channels,
        allowlist: p.allowlist,
    }
}

#[cfg(feature = "ssr")]
async fn choices(db: &store::Db, today: time::Date) -> Result<(Vec<Choice>, Vec<Choice>), AppError> {
    let data = db.cost_master_data(today, 0).await?;
    let pick = |rows: Vec<(String, String, bool)>| -> Vec<Choice> {
        rows.into_iter().map(|(code, name, active)| Choice { code, name, active }).collect()
    };
    Ok((pick(data.games), pick(data.channels)))
}

#[server(endpoint = "partners/overview", output = crate::codec::Json)]
pub async fn partners_overview() -> Result<PartnersView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    let partners = db.partners().await?.into_iter().map(partner_line).collect();
    let (games, channels) = choices(db, caller.state.today()).await?;
    Ok(PartnersView { partners, games, channels })
}

/// Adds a partner (`id` empty) or changes one. Suspending needs `confirm`.
#[server(endpoint = "partners/save", output = crate::codec::Json)]
pub async fn save_partner(
    #[server(default)] id: Option<i64>,
    name: String,
    #[server(default)] contact: String,
    #[server(default)] active: bool,
    #[server(default)] games: Vec<String>,
    #[server(default)] channels: Vec<String>,
    #[server(default)] confirm: bool,
) -> Result<i64, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let actor = caller.user()?.id;
    let db = &caller.state.db;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "partner.name"));
    }
    let contact = contact.trim();
    if contact.chars().count() > 200 {
        return Err(AppError::invalid("contact", "partner.contact"));
    }
    if let Some(id) = id {
        let before = db.partner(id).await?.ok_or(AppError::NotFound)?;
        if before.active && !active && !confirm {
            return Err(AppError::invalid("confirm", "partner.confirm_suspend"));
        }
    }
    let form = store::partners::PartnerForm { name, contact, active, games: &games, channels: &channels };
    let id = db.save_partner(id, &form, actor).await.map_err(|e| match e {
        store::StoreError::Unknown(_) => AppError::invalid("games", "partner.unknown_code"),
        other => other.into(),
    })?;
    tracing::info!(by = actor, partner = id, active, "partner saved");
    Ok(id)
}

#[server(endpoint = "partners/detail", output = crate::codec::Json)]
pub async fn partner_detail(id: i64) -> Result<PartnerView, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    let partner = db.partner(id).await?.ok_or(AppError::NotFound)?;
    let now = time::OffsetDateTime::now_utc();
    let since = now.date() - time::Duration::days(USAGE_DAYS - 1);
    let usage = db.usage(id, since).await?;
    let keys = key_lines(db, id, &usage, now).await?;
    let mut days: Vec<DayUsage> = (0..USAGE_DAYS)
        .map(|back| DayUsage {
            day: (now.date() - time::Duration::days(USAGE_DAYS - 1 - back)).to_string(),
            ok: 0,
            refused: 0,
            failed: 0,
        })
        .collect();
    let mut statuses: Vec<(u16, i64)> = Vec::new();
    for (day, _, status, _, n) in &usage {
        let index = (*day - since).whole_days();
        if let Some(d) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) {
            match status {
                500.. => d.failed += n,
                400.. => d.refused += n,
                _ => d.ok += n,
            }
        }
        let status = u16::try_from(*status).unwrap_or(0);
        match statuses.iter_mut().find(|(s, _)| *s == status) {
            Some(entry) => entry.1 += n,
            None => statuses.push((status, *n)),
        }
    }
    statuses.sort_unstable();
    let history = partner_history(db, id, &keys).await?;
    let (games, channels) = choices(db, caller.state.today()).await?;
    let models = db.models().await?.into_iter().map(|m| m.name).collect();
    Ok(PartnerView { partner: partner_line(partner), keys, days, statuses, history, games, channels, models })
}

/// The partner's keys alone, as the key console reads them again after issuing or rotating one.
#[server(endpoint = "partners/keys", output = crate::codec::Json)]
pub async fn partner_keys(id: i64) -> Result<Vec<KeyLine>, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let db = &caller.state.db;
    db.partner(id).await?.ok_or(AppError::NotFound)?;
    let now = time::OffsetDateTime::now_utc();
    let usage = db.usage(id, now.date() - time::Duration::days(USAGE_DAYS - 1)).await?;
    key_lines(db, id, &usage, now).await
}

/// Each key of a partner with its status, allowlist and use over the usage window (`usage`).
#[cfg(feature = "ssr")]
async fn key_lines(
    db: &store::Db,
    partner: i64,
    usage: &[(time::Date, i64, i32, i32, i64)],
    now: time::OffsetDateTime,
) -> Result<Vec<KeyLine>, AppError> {
    let stored_keys = db.keys(partner).await?;
    let mut keys = Vec::with_capacity(stored_keys.len());
    for k in stored_keys {
        let status = KeyStatus::at(k.revoked_at.is_some(), k.replaced_by.is_some(), k.expires_at, now);
        let mine: Vec<(i32, i64)> = usage.iter().filter(|u| u.1 == k.id).map(|u| (u.3, u.4)).collect();
        let p95 = domain::keys::percentile_micros(&mine, 95);
        let allowlist = db.allowlist(partner, Some(k.id)).await?.iter().map(ToString::to_string).collect();
        keys.push(KeyLine {
            id: k.id,
            scopes: k.scopes.split_whitespace().map(str::to_owned).collect(),
            status,
            expires_at: k.expires_at.map(when),
            expires_on: k.expires_at.map(|e| e.date().to_string()).unwrap_or_default(),
            last_used: k.last_used_at.map(when),
            rate_per_minute: k.rate_per_minute,
            daily_quota: k.daily_quota,
            allowlist,
            requests: mine.iter().map(|(_, n)| n).sum(),
            p95_ms: p95.map(|us| format!("{:.1}", us as f64 / 1000.0)),
            label: k.label,
            prefix: k.prefix,
        });
    }
    Ok(keys)
}

/// Every change to the partner, its keys and its allowlists, newest first.
#[cfg(feature = "ssr")]
async fn partner_history(db: &store::Db, id: i64, keys: &[KeyLine]) -> Result<Vec<HistoryLine>, AppError> {
    let users = db.users().await?;
    let name = |id: i64| users.iter().find(|u| u.id == id).map_or_else(|| format!("#{id}"), |u| u.email.clone());
    let mut records = db.audit_trail("partner", &id.to_string()).await?;
    records.extend(db.audit_trail("allowlist", &id.to_string()).await?);
    for k in keys {
        records.extend(db.audit_trail("api_key", &k.id.to_string()).await?);
        records.extend(db.audit_trail("allowlist", &format!("{id}/{}", k.id)).await?);
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.id));
    let prefix = |entity: &str, entity_id: &str| match entity {
        "api_key" => keys.iter().find(|k| k.id.to_string() == entity_id).map(|k| k.prefix.clone()),
        "allowlist" => Some(match entity_id.split_once('/') {
            Some((_, key)) => {
                format!("allowlist {}", keys.iter().find(|k| k.id.to_string() == key).map_or("", |k| &k.prefix))
            }
            None => "allowlist".to_owned(),
        }),
        _ => None,
    };
    Ok(records
        .into_iter()
        .map(|a| HistoryLine {
            at: when(a.at),
            actor: name(a.actor_id),
            action: match prefix(&a.entity, &a.entity_id) {
                Some(what) => format!("{} {what}", a.action),
                None => a.action.clone(),
            },
            reason: a.after.filter(|_| a.entity == "allowlist"),
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn key_settings(
    label: &str,
    scopes: &[String],
    expires_on: &str,
    rate_per_minute: i32,
    daily_quota: &str,
) -> Result<store::partners::KeySettings, AppError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(AppError::invalid("label", "key.label"));
    }
    // A key's scopes, and the models it may predict with (`models:predict:NAME`).
    let mut models = Vec::new();
    let mut granted = Vec::new();
    for s in scopes {
        match (domain::keys::Scope::parse(s), domain::keys::predict_grant(s)) {
            (Some(scope), _) => granted.push(scope),
            (None, Some(model)) => models.push(model.to_owned()),
            (None, None) => return Err(AppError::invalid("scopes", "key.scope_unknown")),
        }
    }
    let scopes = granted;
    if scopes.is_empty() && models.is_empty() {
        return Err(AppError::invalid("scopes", "key.scopes_empty"));
    }
    let expires_at = match expires_on.trim() {
        "" => None,
        day => {
            let day =
                domain::costs::parse_date(day).ok_or_else(|| AppError::invalid("expires_on", "key.expiry_invalid"))?;
            // The key works through the whole day it expires on (UTC).
            let end = day.next_day().ok_or_else(|| AppError::invalid("expires_on", "key.expiry_invalid"))?;
            let end = end.midnight().assume_utc();
            if end <= time::OffsetDateTime::now_utc() {
                return Err(AppError::invalid("expires_on", "key.expiry_past"));
            }
            Some(end)
        }
    };
    if !(1..=1_000_000).contains(&rate_per_minute) {
        return Err(AppError::invalid("rate_per_minute", "key.rate_invalid"));
    }
    let daily_quota = match daily_quota.trim().replace(',', "").as_str() {
        "" => None,
        q => Some(
            q.parse::<i64>()
                .ok()
                .filter(|q| *q > 0)
                .ok_or_else(|| AppError::invalid("daily_quota", "key.quota_invalid"))?,
        ),
    };
    Ok(store::partners::KeySettings {
        label: label.to_owned(),
        scopes,
        models,
        expires_at,
        rate_per_minute,
        daily_quota,
    })
}

/// Issues a key. The answer carries the whole key: it is shown this once, then only its prefix.
#[server(endpoint = "partners/keys/issue", output = crate::codec::Json)]
pub async fn issue_key(
    partner: i64,
    label: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] expires_on: String,
    rate_per_minute: i32,
    #[server(default)] daily_quota: String,
) -> Result<IssuedKey, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    crate::post::refuse_plain_form()?;
    let settings = key_settings(&label, &scopes, &expires_on, rate_per_minute, &daily_quota)?;
    let (info, key) = caller.state.service().issue_key(&caller.actor()?, partner, &settings).await?;
    Ok(IssuedKey { key: key.reveal().to_owned(), prefix: info.prefix })
}

/// Replaces a key with a new one of the same settings; the old one works until `grace_hours`
/// from now. Needs `confirm`.
#[server(endpoint = "partners/keys/rotate", output = crate::codec::Json)]
pub async fn rotate_key(key: i64, grace_hours: i64, #[server(default)] confirm: bool) -> Result<IssuedKey, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    crate::post::refuse_plain_form()?;
    if !confirm {
        return Err(AppError::invalid("confirm", "key.confirm"));
    }
    let (info, new) = caller.state.service().rotate_key(&caller.actor()?, key, grace_hours).await?;
    Ok(IssuedKey { key: new.reveal().to_owned(), prefix: info.prefix })
}

/// Revokes a key: refused everywhere within about a second. Needs `confirm`.
#[server(endpoint = "partners/keys/revoke", output = crate::codec::Json)]
pub async fn revoke_key(key: i64, #[server(default)] confirm: bool) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    if !confirm {
        return Err(AppError::invalid("confirm", "key.confirm"));
    }
    Ok(caller.state.service().revoke_key(&caller.actor()?, key).await?)
}

/// Changes a key's label, scopes, expiry and limits, and its own allowlist. Needs `confirm`.
#[server(endpoint = "partners/keys/update", output = crate::codec::Json)]
#[allow(clippy::too_many_arguments)]
pub async fn update_key(
    key: i64,
    label: String,
    #[server(default)] scopes: Vec<String>,
    #[server(default)] expires_on: String,
    rate_per_minute: i32,
    #[server(default)] daily_quota: String,
    #[server(default)] allowlist: String,
    #[server(default)] confirm: bool,
) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let settings = key_settings(&label, &scopes, &expires_on, rate_per_minute, &daily_quota)?;
    let nets = parse_allowlist(&allowlist)?;
    if !confirm {
        return Err(AppError::invalid("confirm", "key.confirm"));
    }
    Ok(caller.state.service().update_key(&caller.actor()?, key, &settings, &nets).await?)
}

#[cfg(feature = "ssr")]
fn parse_allowlist(text: &str) -> Result<Vec<domain::net::IpNet>, AppError> {
    domain::net::parse_list(text).map_err(|problems| {
        let code = problems.first().map_or("allowlist.invalid", |(_, e)| e.code());
        AppError::invalid("allowlist", code)
    })
}

/// Replaces the partner-wide allowlist (one address or CIDR range per line).
#[server(endpoint = "partners/allowlist", output = crate::codec::Json)]
pub async fn set_partner_allowlist(partner: i64, #[server(default)] allowlist: String) -> Result<(), AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let nets = parse_allowlist(&allowlist)?;
    Ok(caller.state.service().set_partner_allowlist(&caller.actor()?, partner, &nets).await?)
}

/// Loads a statistics file whole, or not at all (every problem named with its row).
#[server(endpoint = "partners/stats/load", output = crate::codec::Json)]
pub async fn load_stats(csv: String) -> Result<usize, AppError> {
    let caller = authorize(Access::AtLeast(Role::Admin)).await?;
    let actor = caller.user()?.id;
    let db = &caller.state.db;
    let data = db.cost_master_data(caller.state.today(), 0).await?;
    let parsed = domain::stats::parse_stats_csv(
        &csv,
        |g| data.games.iter().any(|(code, _, _)| code == g),
        |c| data.channels.iter().any(|(code, _, _)| code == c),
    )
    .map_err(AppError::rows)?;
    let rows: Vec<store::partners::DailyStats> = parsed
        .into_iter()
        .map(|r| store::partners::DailyStats {
            currency: r.revenue.currency.code().to_owned(),
            revenue_minor: r.revenue.minor,
            game: r.game,
            channel: r.channel,
            day: r.day,
            new_users: r.new_users,
            daily_active: r.daily_active,
            paying_users: r.paying_users,
        })
        .collect();
    let n = db.load_stats(&rows, actor).await?;
    tracing::info!(by = actor, rows = n, "partner statistics loaded");
    Ok(n)
}
