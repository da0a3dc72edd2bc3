//! The partner data API under `/api/v1`: every handler starts at the [`gate::Gate`], answers JSON,
//! and refuses with `application/problem+json`. Another partner's data answers 404.

pub mod cache;
pub mod gate;
pub mod models;
pub mod problem;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use cache::{Answer, AnswerCache};
use domain::keys::Scope;
use gate::{Caller, Gate};
use problem::{Document, FieldError, Problem};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use time::Date;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::{OpenApi, ToSchema};

/// The longest date range one statistics request may ask for, in days.
pub const MAX_SPAN_DAYS: i64 = 92;
pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 500;

/// The OpenAPI 3.1 document of the partner API, generated from the handlers and types below.
#[derive(OpenApi)]
#[openapi(
    info(title = "MCMS partner data API", version = "1",
        description = "Game statistics for channeling partners. Every request carries the partner's API key as \
            `Authorization: Bearer mcms_…`; refusals are `application/problem+json`."),
    paths(me, games, daily_stats, models::list, models::describe, models::predict, models::predict_version, models::upload,
        models::v2_server, models::v2_live, models::v2_metadata, models::v2_version_metadata, models::v2_ready,
        models::v2_version_ready, models::v2_infer, models::v2_version_infer),
    components(schemas(Document, FieldError)),
    modifiers(&BearerKey),
    tags((name = "partner", description = "What a partner's key may read"),
        (name = "models", description = "Predictions from the model registry (scope `models:predict:NAME` per model), and uploads (`models:write`)"),
        (name = "kserve-v2", description = "The same models over the KServe Open Inference Protocol v2, for its existing clients")),
)]
pub struct ApiDoc;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("mcms_ + 30 letters and digits + 6-character checksum")
            .description(Some("A partner API key issued in the console; scopes decide what it may read."))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Set on a response by whatever knew the request's key, so its usage is counted.
#[derive(Debug, Clone, Copy)]
pub struct UsedKey(pub i64);

/// Statistics pages by what was asked: game, the partner's channels, from, to, cursor, limit.
type StatsKey = (String, Vec<String>, Date, Date, Option<(Date, String)>, i64);

/// The partner API takes queries, not bodies.
const BODY_LIMIT: usize = 64 * 1024;

/// The partner API; statistics pages are kept for `cache_ttl` (zero: never).
pub fn routes(gate: Arc<Gate>, cache_ttl: std::time::Duration) -> Router {
    let stats: Arc<AnswerCache<StatsKey>> = Arc::new(AnswerCache::new(cache_ttl));
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/games", get(games))
        .route("/api/v1/games/{game}/daily-stats", get(daily_stats))
        .route("/api/v1/{*rest}", get(|| async { Problem::not_found() }))
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
        // One stack, so each request clones one boxed service for all three, not one per layer.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::Extension(stats))
                .layer(axum::middleware::from_fn_with_state(gate.clone(), count_usage))
                .layer(RequestBodyLimitLayer::new(BODY_LIMIT)),
        )
        .with_state(gate)
}

/// Times every answered request and counts it against the key it presented.
async fn count_usage(State(gate): State<Arc<Gate>>, req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(req).await;
    if let Some(UsedKey(key)) = response.extensions().get::<UsedKey>().copied() {
        gate.record(key, response.status().as_u16(), started.elapsed());
    }
    response
}

async fn admit(gate: &Gate, headers: &HeaderMap, peer: SocketAddr, scope: Option<Scope>) -> Result<Caller, Problem> {
    let forwarded: Vec<&str> = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    let admitted = gate.check(gate::bearer(headers), peer.ip(), forwarded.as_deref(), scope).await;
    if let Err(problem) = &admitted {
        let reason = problem.kind().rsplit('/').next().unwrap_or("unknown").to_owned();
        metrics::counter!("mcms_api_key_refusals_total", "reason" => reason).increment(1);
    }
    admitted
}

/// A JSON answer with its `ETag` (304 when the request already holds it), counted against `key`.
fn answer<T: Serialize>(key: i64, body: &T, request: &HeaderMap) -> Result<Response, Problem> {
    let answer = Answer::json(body).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise an answer");
        Problem::internal().for_key(key)
    })?;
    Ok(counted(key, answer.respond(request)))
}

fn counted(key: i64, mut response: Response) -> Response {
    response.extensions_mut().insert(UsedKey(key));
    response
}

/// Parses a query string into `T`, refusing parameters `T` does not name.
fn query<T: for<'de> Deserialize<'de>>(raw: Option<&str>) -> Result<T, Problem> {
    serde_urlencoded::from_str(raw.unwrap_or_default()).map_err(|e| {
        let message = e.to_string();
        let field = message.split('`').nth(1).unwrap_or("query").to_owned();
        Problem::invalid(vec![FieldError { field, message }])
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub partner: PartnerRef,
    pub key: KeyView,
    /// The address the request came from, as the API sees it.
    #[schema(example = "203.0.113.7")]
    pub client_ip: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerRef {
    pub id: i64,
    #[schema(example = "Blue Ads")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The key's public part; the whole key is shown once, when issued.
    #[schema(example = "mcms_3fK9qLzA")]
    pub prefix: String,
    pub label: String,
    #[schema(value_type = Vec<String>, example = json!(["games:read", "stats:read"]))]
    pub scopes: Vec<Scope>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<time::OffsetDateTime>,
    pub rate_per_minute: i32,
    pub daily_quota: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// Who am I: the key's partner, scopes, limits and expiry.
#[utoipa::path(get, path = "/api/v1/me", tag = "partner", security(("bearer" = [])),
    responses(
        (status = 200, description = "The key presented", body = Me,
            headers(("ETag" = String, description = "Send it back in `If-None-Match` to get a 304 while the answer is the same"))),
        (status = 304, description = "Not modified: `If-None-Match` names the answer's current `ETag`"),
        (status = 400, description = "A query parameter was sent (none are accepted)", body = Document, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, or scope not granted", body = Document, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn me(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let caller = admit(&gate, &headers, peer, None).await?;
    let id = caller.key.key.id;
    query::<NoParams>(raw.as_deref()).map_err(|p| p.for_key(id))?;
    let k = &caller.key.key;
    let me = Me {
        partner: PartnerRef { id: caller.key.partner.id, name: caller.key.partner.name.clone() },
        key: KeyView {
            prefix: k.prefix.clone(),
            label: k.label.clone(),
            scopes: k.scopes(),
            expires_at: k.expires_at,
            rate_per_minute: k.rate_per_minute,
            daily_quota: k.daily_quota,
        },
        client_ip: caller.client.to_string(),
    };
    answer(id, &me, &headers)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GameList {
    pub data: Vec<Game>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Game {
    #[schema(example = "STARFALL")]
    pub code: String,
    #[schema(example = "Starfall")]
    pub name: String,
}

/// The games this partner may see (scope `games:read`).
#[utoipa::path(get, path = "/api/v1/games", tag = "partner", security(("bearer" = ["games:read"])),
    responses(
        (status = 200, description = "The partner's games", body = GameList,
            headers(("ETag" = String, description = "Send it back in `If-None-Match` to get a 304 while the answer is the same"))),
        (status = 304, description = "Not modified: `If-None-Match` names the answer's current `ETag`"),
        (status = 400, description = "A query parameter was sent (none are accepted)", body = Document, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, or scope not granted", body = Document, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn games(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let caller = admit(&gate, &headers, peer, Some(Scope::Games)).await?;
    let id = caller.key.key.id;
    query::<NoParams>(raw.as_deref()).map_err(|p| p.for_key(id))?;
    let games = gate.db.partner_games(caller.key.partner.id).await.map_err(|e| Problem::from(e).for_key(id))?;
    let data = games.into_iter().map(|(code, name)| Game { code, name }).collect();
    answer(id, &GameList { data }, &headers)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsPage {
    #[schema(example = "STARFALL")]
    pub game: String,
    #[schema(format = Date, example = "2026-10-01")]
    pub from: String,
    #[schema(format = Date, example = "2026-10-31")]
    pub to: String,
    pub data: Vec<DayStats>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayStats {
    #[schema(format = Date, example = "2026-10-01")]
    pub day: String,
    #[schema(example = "GOOGLE_ADS")]
    pub channel: String,
    pub new_users: i64,
    pub daily_active_users: i64,
    pub paying_users: i64,
    /// In minor units of `currency` (KRW has none: 1,000 KRW is 1000).
    #[schema(example = 2_500_000)]
    pub revenue_minor: i64,
    #[schema(example = "KRW")]
    pub currency: String,
}

struct StatsRequest {
    from: Date,
    to: Date,
    after: Option<(Date, String)>,
    limit: i64,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_owned(), message: message.into() }
}

fn parse_stats(p: StatsParams) -> Result<StatsRequest, Problem> {
    let mut errors = Vec::new();
    let mut date = |name: &str, value: Option<String>| match value.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(field(name, "required, as YYYY-MM-DD"));
            None
        }
        Some(v) => domain::costs::parse_date(v).or_else(|| {
            errors.push(field(name, format!("“{v}” is not a date as YYYY-MM-DD")));
            None
        }),
    };
    let (from, to) = (date("from", p.from), date("to", p.to));
    // A parameter sent empty is a mistake, not a request for the default.
    let limit = match p.limit.as_deref().map(str::trim) {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(field("limit", format!("a whole number from 1 to {MAX_LIMIT}")));
                DEFAULT_LIMIT
            }
        },
    };
    let after = match p.cursor.as_deref().map(str::trim) {
        None => None,
        Some(c) => match decode_cursor(c) {
            Some(after) => Some(after),
            None => {
                errors.push(field("cursor", "not a cursor this API gave out"));
                None
            }
        },
    };
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            errors.push(field("to", "must not be before from"));
        } else if (to - from).whole_days() + 1 > MAX_SPAN_DAYS {
            errors.push(field("to", format!("at most {MAX_SPAN_DAYS} days after from, both included")));
        }
    }
    match (from, to) {
        (Some(from), Some(to)) if errors.is_empty() => Ok(StatsRequest { from, to, after, limit }),
        _ => Err(Problem::invalid(errors)),
    }
}

fn encode_cursor(day: Date, channel: &str) -> String {
    hex::encode(format!("{day}_{channel}"))
}

fn decode_cursor(text: &str) -> Option<(Date, String)> {
    if !text.len().is_multiple_of(2) || text.len() > 256 {
        return None;
    }
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    let (day, channel) = text.split_once('_')?;
    Some((domain::costs::parse_date(day)?, channel.to_owned()))
}

/// Daily statistics of one game for the partner's own channels, oldest first, a page at a time
/// (scope `stats:read`). Another partner's game answers 404, as a game that does not exist does.
#[utoipa::path(get, path = "/api/v1/games/{game}/daily-stats", tag = "partner", security(("bearer" = ["stats:read"])),
    params(
        ("game" = String, Path, description = "Game code, from /api/v1/games", example = "STARFALL"),
        ("from" = String, Query, format = Date, description = "First day, YYYY-MM-DD", example = "2026-10-01"),
        ("to" = String, Query, format = Date, description = "Last day, YYYY-MM-DD; at most 92 days after `from`, both included", example = "2026-10-31"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Rows per page (default 100)"),
    ),
    responses(
        (status = 200, description = "One page of days", body = StatsPage,
            headers(("ETag" = String, description = "Send it back in `If-None-Match` to get a 304 while the answer is the same"))),
        (status = 304, description = "Not modified: `If-None-Match` names the answer's current `ETag`"),
        (status = 400, description = "A parameter is missing, malformed or unknown; each is named in `errors`", body = Document, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, or scope not granted", body = Document, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 404, description = "No such game for this partner", body = Document, content_type = "application/problem+json"),
    ))]
async fn daily_stats(
    State(gate): State<Arc<Gate>>,
    axum::Extension(stats): axum::Extension<Arc<AnswerCache<StatsKey>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(game): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let caller = admit(&gate, &headers, peer, Some(Scope::Stats)).await?;
    let id = caller.key.key.id;
    let partner = &caller.key.partner;
    if !partner.games.contains(&game) {
        return Err(Problem::not_found().for_key(id));
    }
    let req = query::<StatsParams>(raw.as_deref()).and_then(parse_stats).map_err(|p| p.for_key(id))?;
    let key = (game, partner.channels.clone(), req.from, req.to, req.after.clone(), req.limit);
    let page = stats.get_or_make(key, |key| stats_page(&gate, key.clone())).await.map_err(|p| p.for_key(id))?;
    Ok(counted(id, page.respond(&headers)))
}

/// One page of a game's days on the given channels, read from the database.
async fn stats_page(gate: &Gate, (game, channels, from, to, after, limit): StatsKey) -> Result<Answer, Problem> {
    let mut rows = gate.db.daily_stats(&game, &channels, from, to, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(|r| encode_cursor(r.day, &r.channel))).flatten();
    let data = rows
        .into_iter()
        .map(|r| DayStats {
            day: r.day.to_string(),
            channel: r.channel,
            new_users: r.new_users,
            daily_active_users: r.daily_active,
            paying_users: r.paying_users,
            revenue_minor: r.revenue_minor,
            currency: r.currency,
        })
        .collect();
    let page = StatsPage { game, from: from.to_string(), to: to.to_string(), data, next_cursor };
    Answer::json(&page).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise a statistics page");
        Problem::internal()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let day = Date::from_calendar_date(2026, time::Month::November, 3).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(day, "GOOGLE_ADS")), Some((day, "GOOGLE_ADS".to_owned())));
        for junk in ["", "zz", "abc", "00", &"ab".repeat(200)] {
            assert_eq!(decode_cursor(junk), None, "{junk}");
        }
    }
}
