//! Partners of the data API, their keys and allowlists (every change audited), the statistics
//! they read, and what the API gate needs to decide on a request.

use crate::tx::{Audit, in_tx, json, write_audit};
use crate::{Db, Result, StoreError, on_db, unique_as};
use domain::keys::{ApiKey, Scope};
use ipnet::IpNet;
use password_hash::rand_core::{OsRng, RngCore};
use serde::Serialize;
use sha2::Digest;
use time::{Date, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    pub contact: String,
    /// `false`: suspended; every key of the partner is refused.
    pub active: bool,
    pub games: Vec<String>,
    pub channels: Vec<String>,
    /// Addresses every key of the partner may be used from (empty: anywhere).
    pub allowlist: Vec<String>,
}

/// A partner as added or changed.
#[derive(Debug, Clone, Copy)]
pub struct PartnerForm<'a> {
    pub name: &'a str,
    pub contact: &'a str,
    pub active: bool,
    pub games: &'a [String],
    pub channels: &'a [String],
}

/// What the console shows of a key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct KeyInfo {
    pub id: i64,
    pub partner_id: i64,
    pub label: String,
    pub prefix: String,
    pub scopes: String,
    pub rate_per_minute: i32,
    pub daily_quota: Option<i64>,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub replaced_by: Option<i64>,
    pub last_used_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

impl KeyInfo {
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes.split_whitespace().filter_map(Scope::parse).collect()
    }

    /// The models this key may predict with (`*`: every model), from its `models:predict:NAME`
    /// scopes.
    pub fn models(&self) -> Vec<String> {
        self.scopes.split_whitespace().filter_map(domain::keys::predict_grant).map(str::to_owned).collect()
    }

    pub fn may_predict(&self, model: &str) -> bool {
        self.scopes.split_whitespace().filter_map(domain::keys::predict_grant).any(|m| m == "*" || m == model)
    }
}

const KEY_COLUMNS: &str = "id, partner_id, label, prefix, scopes, rate_per_minute, daily_quota, expires_at, revoked_at, \
    replaced_by, last_used_at, created_at";

/// A key's settings, as issued or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySettings {
    pub label: String,
    pub scopes: Vec<Scope>,
    /// The models it may predict with (`*`: every model), kept as `models:predict:NAME` scopes.
    pub models: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    pub rate_per_minute: i32,
    pub daily_quota: Option<i64>,
}

/// Everything the API gate needs about a presented key, in one read.
#[derive(Debug, Clone)]
pub struct GateKey {
    pub key: KeyInfo,
    /// SHA-256 of the whole key.
    pub hash: [u8; 32],
    pub partner: Partner,
    /// Addresses this key may be used from (empty: wherever the partner's list allows).
    pub allowlist: Vec<IpNet>,
    pub partner_allowlist: Vec<IpNet>,
}

/// One day of one game's statistics for one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DailyStats {
    pub game: String,
    pub channel: String,
    pub day: Date,
    pub new_users: i64,
    pub daily_active: i64,
    pub paying_users: i64,
    pub revenue_minor: i64,
    pub currency: String,
}

pub fn key_hash(key: &ApiKey) -> [u8; 32] {
    sha2::Sha256::digest(key.reveal().as_bytes()).into()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// A new key from the operating system's randomness.
pub(crate) fn new_key() -> ApiKey {
    let mut pool = [0u8; 64];
    let mut next = 0;
    OsRng.fill_bytes(&mut pool);
    ApiKey::generate(|| {
        if next == pool.len() {
            OsRng.fill_bytes(&mut pool);
            next = 0;
        }
        next += 1;
        pool[next - 1]
    })
}

fn scopes_text(settings: &KeySettings) -> String {
    let mut s: Vec<String> = settings.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    s.extend(settings.models.iter().map(|m| format!("{}{m}", domain::keys::PREDICT_SCOPE)));
    s.sort_unstable();
    s.dedup();
    s.join(" ")
}

/// Replaces the partner's allowlist (`key` `None`) or one key's, audited, inside a transaction.
macro_rules! replace_allowlist {
    ($tx:ident, $now:expr, $actor:expr, $partner:expr, $key:expr, $before:expr, $after:expr) => {{
        let (partner, key): (i64, Option<i64>) = ($partner, $key);
        match key {
            None => {
                sqlx::query("DELETE FROM api_allowlist WHERE partner_id = $1 AND key_id IS NULL")
                    .bind(partner)
                    .execute(&mut *$tx)
                    .await?
            }
            Some(k) => {
                sqlx::query("DELETE FROM api_allowlist WHERE partner_id = $1 AND key_id = $2")
                    .bind(partner)
                    .bind(k)
                    .execute(&mut *$tx)
                    .await?
            }
        };
        for net in $after {
            sqlx::query("INSERT INTO api_allowlist (partner_id, key_id, cidr) VALUES ($1, $2, $3)")
                .bind(partner)
                .bind(key)
                .bind(net)
                .execute(&mut *$tx)
                .await?;
        }
        let entity_id = match key {
            Some(k) => format!("{partner}/{k}"),
            None => partner.to_string(),
        };
        write_audit!(
            $tx,
            Audit::new($now, $actor, "set", "allowlist", entity_id).before(json($before)).after(json($after))
        );
    }};
}

impl Db {
    pub async fn partners(&self) -> Result<Vec<Partner>> {
        let ids: Vec<i64> =
            on_db!(self, pool => sqlx::query_scalar("SELECT id FROM partners ORDER BY name").fetch_all(pool).await)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.partner(id).await?);
        }
        Ok(out)
    }

    pub async fn partner(&self, id: i64) -> Result<Option<Partner>> {
        let row: Option<(i64, String, String, bool)> = on_db!(self, pool => sqlx::query_as(
            "SELECT id, name, contact, active FROM partners WHERE id = $1").bind(id).fetch_optional(pool).await)?;
        let Some((id, name, contact, active)) = row else { return Ok(None) };
        let games: Vec<String> = on_db!(self, pool => sqlx::query_scalar(
            "SELECT game FROM partner_games WHERE partner_id = $1 ORDER BY game").bind(id).fetch_all(pool).await)?;
        let channels: Vec<String> = on_db!(self, pool => sqlx::query_scalar(
            "SELECT channel FROM partner_channels WHERE partner_id = $1 ORDER BY channel").bind(id).fetch_all(pool).await)?;
        let allowlist = self.allowlist(id, None).await?.iter().map(IpNet::to_string).collect();
        Ok(Some(Partner { id, name, contact, active, games, channels, allowlist }))
    }

    /// Adds a partner (`id` `None`) or changes one, with the games and channels it may see.
    pub async fn save_partner(&self, id: Option<i64>, p: &PartnerForm<'_>, actor: i64) -> Result<i64> {
        let PartnerForm { name, contact, active, games, channels } = *p;
        let now = OffsetDateTime::now_utc();
        let before = match id {
            Some(id) => Some(self.partner(id).await?.ok_or(StoreError::NotFound)?),
            None => None,
        };
        in_tx!(self, tx => {
            let id: i64 = match id {
                None => sqlx::query_scalar("INSERT INTO partners (name, contact, active, created_at, updated_at) \
                    VALUES ($1, $2, $3, $4, $4) RETURNING id")
                    .bind(name).bind(contact).bind(active).bind(now).fetch_one(&mut *tx).await
                    .map_err(unique_as(crate::Duplicate::Partner))?,
                Some(id) => {
                    sqlx::query("UPDATE partners SET name = $1, contact = $2, active = $3, updated_at = $4 WHERE id = $5")
                        .bind(name).bind(contact).bind(active).bind(now).bind(id).execute(&mut *tx).await
                        .map_err(unique_as(crate::Duplicate::Partner))?;
                    id
                }
            };
            sqlx::query("DELETE FROM partner_games WHERE partner_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM partner_channels WHERE partner_id = $1").bind(id).execute(&mut *tx).await?;
            for game in games {
                sqlx::query("INSERT INTO partner_games (partner_id, game) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id).bind(game).execute(&mut *tx).await.map_err(|e| code_missing(e, "game"))?;
            }
            for channel in channels {
                sqlx::query("INSERT INTO partner_channels (partner_id, channel) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id).bind(channel).execute(&mut *tx).await.map_err(|e| code_missing(e, "channel"))?;
            }
            write_audit!(tx, Audit::new(now, actor, if before.is_some() { "edit" } else { "create" }, "partner", id).before(before.as_ref().map(json)).after(json(&(name, contact, active, games, channels))));
            id
        })
    }

    /// The games a partner may see, with their names (active games only).
    pub async fn partner_games(&self, partner: i64) -> Result<Vec<(String, String)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT g.code, g.name FROM partner_games pg JOIN games g ON g.code = pg.game \
             WHERE pg.partner_id = $1 AND g.active ORDER BY g.code")
            .bind(partner).fetch_all(pool).await)?)
    }

    pub async fn keys(&self, partner: i64) -> Result<Vec<KeyInfo>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE partner_id = $1 ORDER BY id DESC");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(partner).fetch_all(pool).await)?)
    }

    pub async fn key(&self, id: i64) -> Result<Option<KeyInfo>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        Ok(on_db!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The account that issued a key (what its uploads are recorded under).
    pub async fn key_issuer(&self, id: i64) -> Result<Option<i64>> {
        let sql = "SELECT created_by FROM api_keys WHERE id = $1";
        Ok(on_db!(self, pool => sqlx::query_scalar(sql).bind(id).fetch_optional(pool).await)?)
    }

    /// Issues a key: returned whole this once, stored only as its hash.
    pub async fn issue_key(&self, partner: i64, settings: &KeySettings, actor: i64) -> Result<(KeyInfo, ApiKey)> {
        self.partner(partner).await?.ok_or(StoreError::NotFound)?;
        let (info, key) = self.insert_key(partner, settings, None, actor).await?;
        Ok((info, key))
    }

    async fn insert_key(
        &self,
        partner: i64,
        s: &KeySettings,
        replaces: Option<(i64, OffsetDateTime)>,
        actor: i64,
    ) -> Result<(KeyInfo, ApiKey)> {
        let now = OffsetDateTime::now_utc();
        let key = new_key();
        let scopes = scopes_text(s);
        let id = in_tx!(self, tx => {
            let id: i64 = sqlx::query_scalar("INSERT INTO api_keys (partner_id, label, prefix, hash, scopes, \
                rate_per_minute, daily_quota, expires_at, created_at, created_by) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
                .bind(partner).bind(&s.label).bind(key.prefix()).bind(hex::encode(key_hash(&key))).bind(&scopes)
                .bind(s.rate_per_minute).bind(s.daily_quota).bind(s.expires_at).bind(now).bind(actor)
                .fetch_one(&mut *tx).await.map_err(unique_as(crate::Duplicate::KeyPrefix))?;
            if let Some((old, grace_until)) = replaces {
                let changed = sqlx::query("UPDATE api_keys SET replaced_by = $1, \
                    expires_at = CASE WHEN expires_at IS NULL OR expires_at > $2 THEN $2 ELSE expires_at END \
                    WHERE id = $3 AND revoked_at IS NULL AND replaced_by IS NULL")
                    .bind(id).bind(grace_until).bind(old).execute(&mut *tx).await?.rows_affected();
                if changed != 1 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query("INSERT INTO api_allowlist (partner_id, key_id, cidr) \
                    SELECT partner_id, $1, cidr FROM api_allowlist WHERE key_id = $2")
                    .bind(id).bind(old).execute(&mut *tx).await?;
            }
            let (action, detail) = match replaces {
                Some((old, grace)) => ("rotate", json(&(key.prefix(), &scopes, old, grace))),
                None => ("issue", json(&(key.prefix(), &s.label, &scopes, s.expires_at, s.rate_per_minute, s.daily_quota))),
            };
            write_audit!(tx, Audit::new(now, actor, action, "api_key", id).after(detail));
            id
        })?;
        Ok((self.key(id).await?.ok_or(StoreError::NotFound)?, key))
    }

    /// Replaces a live key with a new one of the same settings; the old one keeps working until
    /// `grace_until` (or its own earlier expiry).
    pub async fn rotate_key(&self, id: i64, grace_until: OffsetDateTime, actor: i64) -> Result<(KeyInfo, ApiKey)> {
        let old = self.key(id).await?.ok_or(StoreError::NotFound)?;
        let settings = KeySettings {
            label: old.label.clone(),
            scopes: old.scopes(),
            models: old.models(),
            expires_at: old.expires_at.filter(|e| *e > grace_until),
            rate_per_minute: old.rate_per_minute,
            daily_quota: old.daily_quota,
        };
        self.insert_key(old.partner_id, &settings, Some((id, grace_until)), actor).await
    }

    /// Revokes a key at once; the gate stops accepting it within its cache time (one second).
    pub async fn revoke_key(&self, id: i64, actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let changed = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
            if changed != 1 {
                return Err(StoreError::NotFound);
            }
            write_audit!(tx, Audit::new(now, actor, "revoke", "api_key", id));
        })
    }

    /// Changes a key's label, scopes, expiry, rate limit and quota, and its own allowlist, in one
    /// transaction: the gate never sees new settings with the old list, or the other way round.
    pub async fn update_key(&self, id: i64, s: &KeySettings, allowlist: &[IpNet], actor: i64) -> Result<KeyInfo> {
        let now = OffsetDateTime::now_utc();
        let before = self.key(id).await?.ok_or(StoreError::NotFound)?;
        let partner = before.partner_id;
        let list_before: Vec<String> = self.allowlist(partner, Some(id)).await?.iter().map(IpNet::to_string).collect();
        let list_after: Vec<String> = allowlist.iter().map(IpNet::to_string).collect();
        let scopes = scopes_text(s);
        in_tx!(self, tx => {
            replace_allowlist!(tx, now, actor, partner, Some(id), &list_before, &list_after);
            sqlx::query("UPDATE api_keys SET label = $1, scopes = $2, expires_at = $3, rate_per_minute = $4, \
                daily_quota = $5 WHERE id = $6")
                .bind(&s.label).bind(&scopes).bind(s.expires_at).bind(s.rate_per_minute).bind(s.daily_quota).bind(id)
                .execute(&mut *tx).await?;
            write_audit!(tx, Audit::new(now, actor, "edit", "api_key", id).before(json(&before)).after(json(&(&s.label, &scopes, s.expires_at, s.rate_per_minute, s.daily_quota))));
        })?;
        self.key(id).await?.ok_or(StoreError::NotFound)
    }

    /// The partner's list (`key` `None`) or one key's list.
    pub async fn allowlist(&self, partner: i64, key: Option<i64>) -> Result<Vec<IpNet>> {
        let rows: Vec<String> = match key {
            None => on_db!(self, pool => sqlx::query_scalar(
                "SELECT cidr FROM api_allowlist WHERE partner_id = $1 AND key_id IS NULL ORDER BY id")
                .bind(partner).fetch_all(pool).await)?,
            Some(k) => on_db!(self, pool => sqlx::query_scalar(
                "SELECT cidr FROM api_allowlist WHERE partner_id = $1 AND key_id = $2 ORDER BY id")
                .bind(partner).bind(k).fetch_all(pool).await)?,
        };
        rows.iter().map(|c| c.parse().map_err(|_| StoreError::Corrupt(format!("allowlist entry {c:?}")))).collect()
    }

    /// Replaces the partner's list (`key` `None`) or one key's list, audited.
    pub async fn set_allowlist(&self, partner: i64, key: Option<i64>, nets: &[IpNet], actor: i64) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        if let Some(k) = key
            && self.key(k).await?.is_none_or(|info| info.partner_id != partner)
        {
            return Err(StoreError::NotFound);
        }
        let before: Vec<String> = self.allowlist(partner, key).await?.iter().map(IpNet::to_string).collect();
        let after: Vec<String> = nets.iter().map(IpNet::to_string).collect();
        in_tx!(self, tx => {
            replace_allowlist!(tx, now, actor, partner, key, &before, &after);
        })
    }

    /// The key with this prefix and everything the gate decides with, or `None`.
    pub async fn gate_key(&self, prefix: &str) -> Result<Option<GateKey>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            key: KeyInfo,
            hash: String,
        }
        let sql = format!("SELECT {KEY_COLUMNS}, hash FROM api_keys WHERE prefix = $1");
        let row: Option<Row> = on_db!(self, pool => sqlx::query_as(&sql).bind(prefix).fetch_optional(pool).await)?;
        let Some(Row { key, hash }) = row else { return Ok(None) };
        let partner = self.partner(key.partner_id).await?.ok_or(StoreError::NotFound)?;
        let allowlist = self.allowlist(key.partner_id, Some(key.id)).await?;
        let partner_allowlist = self.allowlist(key.partner_id, None).await?;
        let hash = unhex(&hash).ok_or_else(|| StoreError::Corrupt(format!("hash of key {}", key.id)))?;
        Ok(Some(GateKey { key, hash, partner, allowlist, partner_allowlist }))
    }

    /// Records when keys were last used (the gate collects these and writes them now and then).
    pub async fn touch_keys(&self, used: &[(i64, OffsetDateTime)]) -> Result<()> {
        for (id, at) in used {
            on_db!(self, pool => sqlx::query("UPDATE api_keys SET last_used_at = $1 \
                WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
                .bind(*at).bind(*id).execute(pool).await.map(drop))?;
        }
        Ok(())
    }

    /// Adds counted requests: (day, key, status, latency bucket, requests).
    pub async fn add_usage(&self, counts: &[(Date, i64, i32, i32, i64)]) -> Result<()> {
        in_tx!(self, tx => {
            for (day, key, status, bucket, n) in counts {
                sqlx::query("INSERT INTO api_usage (day, key_id, status, bucket, requests) VALUES ($1, $2, $3, $4, $5) \
                    ON CONFLICT (day, key_id, status, bucket) DO UPDATE SET requests = api_usage.requests + excluded.requests")
                    .bind(*day).bind(*key).bind(*status).bind(*bucket).bind(*n).execute(&mut *tx).await?;
            }
        })
    }

    /// Requests a key made on `day` that counted against its quota (all but those refused with
    /// 429), as recorded so far.
    pub async fn requests_on(&self, key: i64, day: Date) -> Result<i64> {
        let n: Option<i64> = on_db!(self, pool => sqlx::query_scalar(
            "SELECT CAST(SUM(requests) AS BIGINT) FROM api_usage WHERE key_id = $1 AND day = $2 AND status <> 429")
            .bind(key).bind(day).fetch_one(pool).await)?;
        Ok(n.unwrap_or(0))
    }

    /// Usage rows (day, key, status, bucket, requests) of a partner's keys since `from`.
    pub async fn usage(&self, partner: i64, from: Date) -> Result<Vec<(Date, i64, i32, i32, i64)>> {
        Ok(on_db!(self, pool => sqlx::query_as(
            "SELECT u.day, u.key_id, u.status, u.bucket, u.requests FROM api_usage u JOIN api_keys k ON k.id = u.key_id \
             WHERE k.partner_id = $1 AND u.day >= $2 ORDER BY u.day, u.key_id, u.status, u.bucket")
            .bind(partner).bind(from).fetch_all(pool).await)?)
    }

    /// Loads statistics rows whole or not at all (a row for an existing day and channel replaces it).
    pub async fn load_stats(&self, rows: &[DailyStats], actor: i64) -> Result<usize> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            for r in rows {
                sqlx::query("INSERT INTO partner_stats (game, channel, day, new_users, daily_active, paying_users, \
                    revenue_minor, currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                    ON CONFLICT (game, channel, day) DO UPDATE SET new_users = excluded.new_users, \
                    daily_active = excluded.daily_active, paying_users = excluded.paying_users, \
                    revenue_minor = excluded.revenue_minor, currency = excluded.currency")
                    .bind(&r.game).bind(&r.channel).bind(r.day).bind(r.new_users).bind(r.daily_active)
                    .bind(r.paying_users).bind(r.revenue_minor).bind(&r.currency)
                    .execute(&mut *tx).await.map_err(|e| code_missing(e, "game, channel or currency"))?;
            }
            write_audit!(tx, Audit::new(now, actor, "load", "partner_stats", rows.len()).after(json(&rows.len())));
            rows.len()
        })
    }

    /// Days of one game's statistics for some channels, from `from` to `to` inclusive, after the
    /// (day, channel) cursor, at most `limit` rows, oldest first.
    pub async fn daily_stats(
        &self,
        game: &str,
        channels: &[String],
        from: Date,
        to: Date,
        after: Option<(Date, String)>,
        limit: i64,
    ) -> Result<Vec<DailyStats>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..channels.len()).map(|i| format!("${}", i + 7)).collect();
        let sql = format!(
            "SELECT game, channel, day, new_users, daily_active, paying_users, revenue_minor, currency FROM partner_stats \
             WHERE game = $1 AND day >= $2 AND day <= $3 AND (day > $4 OR (day = $4 AND channel > $5)) \
             AND channel IN ({}) ORDER BY day, channel LIMIT $6",
            marks.join(", ")
        );
        let (after_day, after_channel) = after.unwrap_or((from - time::Duration::days(1), String::new()));
        on_db!(self, pool => {
            let mut q = sqlx::query_as(&sql).bind(game).bind(from).bind(to).bind(after_day).bind(&after_channel).bind(limit);
            for c in channels {
                q = q.bind(c);
            }
            q.fetch_all(pool).await
        })
        .map_err(Into::into)
    }

    /// Every game's and channel's statistics from `from` to `to` inclusive, by day, game, channel.
    pub async fn stats_between(&self, from: Date, to: Date) -> Result<Vec<DailyStats>> {
        let sql = "SELECT game, channel, day, new_users, daily_active, paying_users, revenue_minor, currency \
                   FROM partner_stats WHERE day >= $1 AND day <= $2 ORDER BY day, game, channel";
        on_db!(self, pool => sqlx::query_as(sql).bind(from).bind(to).fetch_all(pool).await).map_err(Into::into)
    }
}

/// A foreign-key violation means a code that is not in the master data.
fn code_missing(err: sqlx::Error, what: &'static str) -> StoreError {
    match err.as_database_error() {
        Some(db) if db.is_foreign_key_violation() => StoreError::Unknown(what),
        _ => StoreError::Database(err),
    }
}
