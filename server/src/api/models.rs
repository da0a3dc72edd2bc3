//! Model serving over HTTP: `/api/v1/models/…` (MCMS's own shape, refusals as problem+json) and
//! the KServe Open Inference Protocol v2 under `/v2/…` (its shape, refusals as `{"error": …}`),
//! both behind the partner API's gate: the same keys, allowlists, rate limits and quotas, with the
//! scope `models:predict:NAME` per model (`models:write` to upload).

use super::gate::{Caller, Gate};
use super::problem::{Document, FieldError, Problem};
use super::{admit, counted};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::keys::Scope;
use domain::models::{Batch, Instance, Instances, MAX_BATCH, Signature};
use serde::{Deserialize, Serialize, Serializer};
use service::models::{Loaded, Sent, ServeError, Serving, Upload, Via};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceBuilder;
use utoipa::ToSchema;

/// Problems a refusal names at most (a batch of 1,000 empty instances has 8,000).
const MAX_PROBLEMS: usize = 100;

/// A prediction request's largest body: [`MAX_BATCH`] instances of a few hundred bytes.
pub const PREDICT_BODY_LIMIT: usize = 2 << 20;

#[derive(Clone)]
pub struct Models {
    pub gate: Arc<Gate>,
    pub serving: Arc<Serving>,
    pub costs: store::costs::CostSettings,
}

pub fn routes(models: Models) -> Router {
    let upload_limit = domain::models::MAX_MODEL_BYTES + domain::models::MAX_SIGNATURE_BYTES + (64 << 10);
    Router::new()
        .route("/api/v1/models", get(list))
        .route("/api/v1/models/{name}", get(describe))
        .route("/api/v1/models/{name}/predict", post(predict))
        .route("/api/v1/models/{name}/versions/{version}/predict", post(predict_version))
        .route("/api/v1/models/{name}/versions", post(upload).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/v2", get(v2_server))
        .route("/v2/health/live", get(v2_live))
        .route("/v2/health/ready", get(v2_live))
        .route("/v2/models/{name}", get(v2_metadata))
        .route("/v2/models/{name}/ready", get(v2_ready))
        .route("/v2/models/{name}/infer", post(v2_infer))
        .route("/v2/models/{name}/versions/{version}", get(v2_version_metadata))
        .route("/v2/models/{name}/versions/{version}/ready", get(v2_version_ready))
        .route("/v2/models/{name}/versions/{version}/infer", post(v2_version_infer))
        // One stack, so each request clones one boxed service for both layers, not one per layer.
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(models.gate.clone(), super::count_usage))
                .layer(DefaultBodyLimit::max(PREDICT_BODY_LIMIT)),
        )
        .with_state(models)
}

/// Admits a request for `model`: the gate's checks, then the key's grant for that model.
async fn admit_for(m: &Models, headers: &HeaderMap, peer: SocketAddr, model: &str) -> Result<Caller, Problem> {
    let caller = admit(&m.gate, headers, peer, None).await?;
    if !caller.key.key.may_predict(model) {
        let detail = format!("This API key lacks the scope {}{model}.", domain::keys::PREDICT_SCOPE);
        return Err(Problem::forbidden("scope-missing", &detail).for_key(caller.key.key.id));
    }
    Ok(caller)
}

fn serve_problem(e: ServeError) -> Problem {
    let not_found = |detail: String| Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail);
    match e {
        ServeError::NoModel(_) | ServeError::NoProduction(_) | ServeError::NoVersion(..) => not_found(e.to_string()),
        ServeError::Archived(..) => {
            Problem::new(StatusCode::CONFLICT, "version-archived", "Version archived", e.to_string())
        }
        ServeError::BatchSize(_) => {
            Problem::invalid(vec![FieldError { field: "instances".into(), message: e.to_string() }])
        }
        ServeError::Instances(problems) => {
            let more = problems.len().saturating_sub(MAX_PROBLEMS);
            let mut errors: Vec<FieldError> = problems
                .into_iter()
                .take(MAX_PROBLEMS)
                .map(|(i, f)| FieldError { field: format!("instances[{i}].{}", f.feature), message: f.message })
                .collect();
            if more > 0 {
                errors.push(FieldError { field: "instances".into(), message: format!("and {more} more problems") });
            }
            Problem::invalid(errors)
        }
        ServeError::Predict(_) | ServeError::Broken(_) | ServeError::Store(_) => {
            tracing::error!(error = %e, "a model could not answer");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "model-failed",
                "Model failed",
                "The model could not answer; it is logged.",
            )
        }
    }
}

/// A JSON body as `T`, or a refusal naming where it broke.
fn json_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Problem> {
    json_body_with(body, std::marker::PhantomData)
}

/// A JSON body read by `seed`, or a refusal naming where it broke. The body's UTF-8 is checked
/// once, as a whole, rather than string by string as the text is read.
fn json_body_with<'a, S: serde::de::DeserializeSeed<'a>>(body: &'a [u8], seed: S) -> Result<S::Value, Problem> {
    let refuse = |message: String| Problem::invalid(vec![FieldError { field: "body".into(), message }]);
    let text = std::str::from_utf8(body).map_err(|e| refuse(format!("not UTF-8 text ({e})")))?;
    let mut d = serde_json::Deserializer::from_str(text);
    let read = seed.deserialize(&mut d).and_then(|value| d.end().map(|()| value));
    read.map_err(|e| {
        let mut message = e.to_string();
        if message.contains("NaN") || body.windows(3).any(|w| w == b"NaN") || body.windows(8).any(|w| w == b"Infinity")
        {
            message.push_str(" (JSON has no NaN or Infinity: send a finite number)");
        }
        refuse(message)
    })
}

fn json_response<T: Serialize>(key: i64, status: StatusCode, body: &T) -> Result<Response, Problem> {
    let bytes = serde_json::to_vec(body).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise an answer");
        Problem::internal().for_key(key)
    })?;
    let response = (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response();
    Ok(counted(key, response))
}

// ---- /api/v1/models -------------------------------------------------------------------------

/// `{"instances": [{feature: value, …}, …]}`, with `sticky_id` keeping a caller on one side of a
/// canary. The request's shape, as the OpenAPI document shows it; the handler reads it with
/// [`ReadRequest`], straight into the rows of the version that answers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest<'a> {
    /// 1 to 1,000 instances, each an object of the model's features (see `GET /api/v1/models/{name}`).
    #[schema(value_type = Vec<Object>, example = json!([{"days_since_install": 244, "days_since_last_session": 4,
        "sessions_7d": 2, "minutes_7d": 20.9, "level": 41, "purchases_28d": 0, "spend_28d_krw": 0, "platform": "android"}]))]
    #[serde(borrow)]
    pub instances: Vec<Instance<'a>>,
    /// The caller's id for this player or user: while a canary runs, the same id is always
    /// answered by the same version.
    #[serde(default)]
    pub sticky_id: Option<String>,
}

/// Reads a [`PredictRequest`] for one signature: its instances straight into a [`Batch`] of
/// rows (no instance kept), `sticky_id` checked (it was read before, when a canary needed it),
/// anything else refused as the derived reading refuses it.
struct ReadRequest<'s> {
    signature: &'s Signature,
}

impl<'de> serde::de::DeserializeSeed<'de> for ReadRequest<'_> {
    type Value = Batch;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Batch, D::Error> {
        d.deserialize_struct("PredictRequest", &["instances", "sticky_id"], self)
    }
}

impl<'de> serde::de::Visitor<'de> for ReadRequest<'_> {
    type Value = Batch;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("struct PredictRequest")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Batch, A::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "snake_case")]
        enum Field {
            Instances,
            StickyId,
        }
        let (mut batch, mut sticky) = (None, false);
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Instances if batch.is_some() => return Err(A::Error::duplicate_field("instances")),
                Field::Instances => batch = Some(map.next_value_seed(Instances { signature: self.signature })?),
                Field::StickyId if sticky => return Err(A::Error::duplicate_field("sticky_id")),
                Field::StickyId => sticky = map.next_value::<Option<String>>().map(|_| true)?,
            }
        }
        batch.ok_or_else(|| A::Error::missing_field("instances"))
    }
}

/// The caller's id in a prediction request, if it has a readable one.
fn sticky_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Sticky {
        #[serde(default)]
        sticky_id: Option<String>,
    }
    serde_json::from_slice::<Sticky>(body).ok()?.sticky_id
}

/// The predictions, in the order of the instances, and the version that made them.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"model": "churn", "version": 1, "stage": "production",
    "predictions": [{"label": "no", "class": 0, "probability": 0.3127, "probabilities": {"no": 0.6873, "yes": 0.3127}}]}))]
pub struct PredictResponse {
    pub model: String,
    pub version: i32,
    /// `production`, or `staging` for a canary or a version asked for by number.
    pub stage: String,
    /// Per instance: `label` (class or segment name) and `class` (its index); binary models add
    /// `probability` (of the positive class) and `probabilities` by class; clustering models
    /// `scores` by segment (distance to its centre); regression models `value`.
    #[schema(value_type = Vec<Object>)]
    pub predictions: Vec<()>,
}

async fn run_predict(
    m: Models,
    peer: SocketAddr,
    headers: HeaderMap,
    name: String,
    version: Option<i32>,
    body: Bytes,
) -> Result<Response, Problem> {
    let started = Instant::now();
    let caller = admit_for(&m, &headers, peer, &name).await?;
    let key = caller.key.key.id;
    let (loaded, stage) =
        m.serving.pick_for(&name, version, || sticky_id(&body)).await.map_err(|e| serve_problem(e).for_key(key))?;
    let answered = loaded.version;
    let batch = json_body_with(&body, ReadRequest { signature: loaded.inner.signature() });
    match batch.and_then(|batch| Serving::predict(loaded, batch).map_err(serve_problem)) {
        Ok(answer) => {
            let mut written = Vec::with_capacity(128 + 128 * answer.predictions.rows);
            answer.write_json(stage.as_str(), &mut written);
            let response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], written).into_response();
            m.serving.record(&name, answered, 200, started.elapsed(), Some((&answer, Sent::Json(&body))));
            Ok(counted(key, response))
        }
        Err(problem) => {
            let problem = problem.for_key(key);
            m.serving.record(&name, answered, problem.status(), started.elapsed(), None);
            Err(problem)
        }
    }
}

/// Predicts with the model's production version (or, for its share of callers, its canary).
#[utoipa::path(post, path = "/api/v1/models/{name}/predict", tag = "models", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn")),
    request_body = PredictRequest,
    responses(
        (status = 200, description = "One prediction per instance, and the version that made them", body = PredictResponse),
        (status = 400, description = "A body that is not JSON of this shape, 0 or more than 1,000 instances, or instances that do not fit the model's signature: each problem named in `errors` as `instances[i].feature`", body = Document, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, or the key lacks `models:predict:{name}`", body = Document, content_type = "application/problem+json"),
        (status = 404, description = "No such model, or it has no production version yet", body = Document, content_type = "application/problem+json"),
        (status = 413, description = "A body larger than 2 MB"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn predict(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    run_predict(m, peer, headers, name, None, body).await
}

/// Predicts with one version by number (staging or production; an archived version answers 409).
#[utoipa::path(post, path = "/api/v1/models/{name}/versions/{version}/predict", tag = "models", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn"),
        ("version" = i32, Path, description = "The version's number", example = 1)),
    request_body = PredictRequest,
    responses(
        (status = 200, description = "One prediction per instance", body = PredictResponse),
        (status = 400, description = "A body that is not JSON of this shape, 0 or more than 1,000 instances, or instances that do not fit the version's signature (`errors`: `instances[i].feature`)", body = Document, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, or the key lacks `models:predict:{name}`", body = Document, content_type = "application/problem+json"),
        (status = 404, description = "No such model or version", body = Document, content_type = "application/problem+json"),
        (status = 409, description = "The version is archived", body = Document, content_type = "application/problem+json"),
        (status = 413, description = "A body larger than 2 MB"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn predict_version(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let Ok(version) = version.parse::<i32>() else {
        let caller = admit_for(&m, &headers, peer, &name).await?;
        return Err(Problem::not_found().for_key(caller.key.key.id));
    };
    run_predict(m, peer, headers, name, Some(version), body).await
}

/// A model as the API describes it: what it does, its features and outputs, its versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    #[schema(example = "churn")]
    pub name: String,
    #[schema(example = "binary_classification")]
    pub task: String,
    pub production: Option<i32>,
    /// The staging version answering a share of production requests, and the share in percent.
    pub canary: Option<i32>,
    pub canary_percent: i32,
    /// The production version's signature (features with types and allowed values, outputs,
    /// metrics); the latest version's while none is in production.
    #[schema(value_type = Object)]
    pub signature: Option<Signature>,
    pub versions: Vec<VersionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: i32,
    #[schema(example = "production")]
    pub stage: String,
    pub sha256: String,
    #[schema(value_type = Object)]
    pub metrics: BTreeMap<String, f64>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: time::OffsetDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    pub data: Vec<ModelView>,
}

/// A model as the API shows it, from its versions (newest first).
fn model_view(model: &store::models::StoredModel, versions: &[store::models::ModelVersion]) -> ModelView {
    let signature_of = |v: &store::models::ModelVersion| serde_json::from_str::<Signature>(&v.signature).ok();
    let shown = versions.iter().find(|v| Some(v.version) == model.production).or(versions.first());
    ModelView {
        name: model.name.clone(),
        task: model.task.clone(),
        production: model.production,
        canary: model.canary,
        canary_percent: model.canary_percent,
        signature: shown.and_then(signature_of),
        versions: versions
            .iter()
            .filter(|v| v.stage() != domain::models::Stage::Archived)
            .map(|v| VersionView {
                version: v.version,
                stage: v.stage.clone(),
                sha256: v.sha256.clone(),
                metrics: signature_of(v).map(|s| s.metrics).unwrap_or_default(),
                uploaded_at: v.uploaded_at,
            })
            .collect(),
    }
}

/// The models this key may predict with, each with its features and versions.
#[utoipa::path(get, path = "/api/v1/models", tag = "models", security(("bearer" = [])),
    responses(
        (status = 200, description = "The models the key's `models:predict:…` scopes name (none: an empty list)", body = ModelList),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended or address not allowed", body = Document, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn list(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let caller = admit(&m.gate, &headers, peer, None).await?;
    let key = caller.key.key.id;
    let db = &m.gate.db;
    let models = db.models().await.map_err(|e| Problem::from(e).for_key(key))?;
    let versions = db.all_model_versions().await.map_err(|e| Problem::from(e).for_key(key))?;
    let mut by_model: HashMap<String, Vec<store::models::ModelVersion>> = HashMap::new();
    for v in versions {
        by_model.entry(v.model.clone()).or_default().push(v); // newest first, as read
    }
    let data = models
        .iter()
        .filter(|model| caller.key.key.may_predict(&model.name))
        .map(|model| model_view(model, by_model.get(&model.name).map_or(&[], Vec::as_slice)))
        .collect();
    json_response(key, StatusCode::OK, &ModelList { data })
}

/// One model: its task, features, outputs, metrics and versions.
#[utoipa::path(get, path = "/api/v1/models/{name}", tag = "models", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn")),
    responses(
        (status = 200, description = "The model", body = ModelView),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, or the key lacks `models:predict:{name}`", body = Document, content_type = "application/problem+json"),
        (status = 404, description = "No such model", body = Document, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn describe(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let caller = admit_for(&m, &headers, peer, &name).await?;
    let key = caller.key.key.id;
    let db = &m.gate.db;
    let model = db.model(&name).await.map_err(|e| Problem::from(e).for_key(key))?;
    let model = model.ok_or_else(|| Problem::not_found().for_key(key))?;
    let versions = db.model_versions(&model.name).await.map_err(|e| Problem::from(e).for_key(key))?;
    let view = model_view(&model, &versions);
    json_response(key, StatusCode::OK, &view)
}

/// What an upload made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    pub model: String,
    pub version: i32,
    /// `false`: this model already had a version of the same file and signature (that one is
    /// answered).
    pub new: bool,
    pub sha256: String,
    #[schema(example = "staging")]
    pub stage: String,
}

/// The upload form: the ONNX file, its signature (YAML or JSON) and a note.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The ONNX file (at most 64 MB).
    #[schema(value_type = String, format = Binary)]
    model: Vec<u8>,
    /// The signature, YAML or JSON (docs/models.md).
    #[schema(value_type = String, format = Binary)]
    signature: Vec<u8>,
    /// Why this version (at most 500 characters).
    note: Option<String>,
}

/// Uploads a model version (scope `models:write`): stored in staging if the graph loads, matches
/// its signature and predicts the signature's example; recorded under the admin who issued the key.
#[utoipa::path(post, path = "/api/v1/models/{name}/versions", tag = "models", security(("bearer" = ["models:write"])),
    params(("name" = String, Path, description = "The model's name: lowercase letters, digits, _ and -", example = "churn")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "A new version, in staging", body = Uploaded),
        (status = 200, description = "The model already had a version of this file and signature", body = Uploaded),
        (status = 400, description = "Not a multipart form with `model` and `signature`", body = Document, content_type = "application/problem+json"),
        (status = 401, description = "No key, or a key that is malformed, mistyped, unknown, revoked, expired or replaced", body = Document, content_type = "application/problem+json"),
        (status = 403, description = "Partner suspended, address not allowed, the key lacks `models:write`, or its issuer may no longer upload", body = Document, content_type = "application/problem+json"),
        (status = 413, description = "A body larger than the largest model"),
        (status = 422, description = "The model was refused: `detail` says why (not ONNX, an op tract lacks, a signature that does not match the graph, a failed smoke prediction)", body = Document, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit or daily quota reached", body = Document, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn upload(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, Problem> {
    let caller = admit(&m.gate, &headers, peer, Some(Scope::ModelsWrite)).await?;
    let key = caller.key.key.id;
    let bad = |message: &str| {
        Problem::invalid(vec![FieldError { field: "body".into(), message: message.into() }]).for_key(key)
    };
    let mut form = Multipart::from_request(request, &()).await.map_err(|e| bad(&e.body_text()))?;
    let (mut onnx, mut signature, mut note) = (None, None, String::new());
    while let Some(field) = form.next_field().await.map_err(|e| bad(&e.body_text()))? {
        let field_name = field.name().unwrap_or_default().to_owned();
        let data = field.bytes().await.map_err(|e| bad(&e.body_text()))?;
        match field_name.as_str() {
            "model" => onnx = Some(data),
            "signature" => signature = Some(String::from_utf8_lossy(&data).into_owned()),
            "note" => note = String::from_utf8_lossy(&data).trim().to_owned(),
            _ => {}
        }
    }
    let (Some(onnx), Some(signature)) = (onnx, signature) else {
        return Err(bad("send the ONNX file as `model` and its signature as `signature`"));
    };
    let issuer = m.gate.db.key_issuer(key).await.map_err(|e| Problem::from(e).for_key(key))?;
    let user = match issuer {
        Some(id) => m.gate.db.user(id).await.map_err(|e| Problem::from(e).for_key(key))?,
        None => None,
    };
    let actor = user.as_ref().and_then(|u| service::Actor::user(u).ok()).ok_or_else(|| {
        Problem::forbidden("issuer-inactive", "The account that issued this key can no longer upload models.")
            .for_key(key)
    })?;
    let today = time::OffsetDateTime::now_utc().date();
    let service = service::Service { db: &m.gate.db, costs: &m.costs, today };
    let prefix = caller.key.key.prefix.clone();
    let up = Upload { model: &name, onnx: &onnx, signature: &signature, note: &note, via: Via::Key(&prefix) };
    match service.upload_model(&actor, up).await {
        Ok(done) => {
            let status = if done.new { StatusCode::CREATED } else { StatusCode::OK };
            let stage = done.stage.as_str().to_owned();
            let body = Uploaded { model: name, version: done.version, new: done.new, sha256: done.sha256, stage };
            json_response(key, status, &body)
        }
        Err(service::Error::Refused(reason)) => {
            Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "model-refused", "Model refused", reason).for_key(key))
        }
        Err(service::Error::Forbidden) => {
            Err(Problem::forbidden("issuer-inactive", "The account that issued this key may not upload models.")
                .for_key(key))
        }
        Err(e) => {
            tracing::error!(error = %e, "model upload failed");
            Err(Problem::internal().for_key(key))
        }
    }
}

// ---- KServe Open Inference Protocol v2 ------------------------------------------------------

/// A refusal in the v2 protocol's form: `{"error": "…"}`, same status and headers.
pub struct V2Error(Problem);

impl From<Problem> for V2Error {
    fn from(p: Problem) -> V2Error {
        V2Error(p)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        self.0.into_v2_response()
    }
}

/// `GET /v2`: the server's metadata (no key needed; it names nothing but the server).
#[utoipa::path(get, path = "/v2", tag = "kserve-v2",
    responses((status = 200, description = "The server's name, version and protocol extensions", body = Object,
        example = json!({"name": "mcms", "version": "0.1.0", "extensions": []}))))]
async fn v2_server() -> Response {
    let body = serde_json::json!({ "name": "mcms", "version": env!("CARGO_PKG_VERSION"), "extensions": [] });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `GET /v2/health/live` and `/v2/health/ready`: 200 while the server answers (no key needed).
#[utoipa::path(get, path = "/v2/health/live", tag = "kserve-v2",
    responses((status = 200, description = "The server is up", body = Object, example = json!({"live": true}))))]
async fn v2_live() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"live":true,"ready":true}"#).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TensorMetadata {
    #[schema(example = "features")]
    pub name: String,
    #[schema(example = "FP32")]
    pub datatype: &'static str,
    /// -1: any number of instances.
    #[schema(example = json!([-1, 8]))]
    pub shape: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct V2ModelMetadata {
    #[schema(example = "churn")]
    pub name: String,
    /// The versions that answer (production and staging).
    pub versions: Vec<String>,
    #[schema(example = "onnx")]
    pub platform: &'static str,
    pub inputs: Vec<TensorMetadata>,
    pub outputs: Vec<TensorMetadata>,
    /// The task, and the features in the input's column order (a category is sent as its index).
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
}

fn v2_metadata_of(name: &str, versions: Vec<String>, s: &Signature) -> V2ModelMetadata {
    let classes = s.outputs.label.as_ref().map_or(0, |l| l.classes.len()) as i64;
    let mut outputs = Vec::new();
    let mut out = |o: Option<&String>, datatype, shape: Vec<i64>| {
        if let Some(name) = o {
            outputs.push(TensorMetadata { name: name.clone(), datatype, shape });
        }
    };
    out(s.outputs.label.as_ref().map(|o| &o.output), "INT64", vec![-1]);
    out(s.outputs.probabilities.as_ref().map(|o| &o.output), "FP32", vec![-1, classes]);
    out(s.outputs.scores.as_ref().map(|o| &o.output), "FP32", vec![-1, classes]);
    out(s.outputs.value.as_ref().map(|o| &o.output), "FP32", vec![-1]);
    let features: Vec<serde_json::Value> = s
        .input
        .features
        .iter()
        .map(|f| serde_json::json!({ "name": f.name, "type": f.kind.as_str(), "categories": f.categories }))
        .collect();
    V2ModelMetadata {
        name: name.to_owned(),
        versions,
        platform: "onnx",
        inputs: vec![TensorMetadata {
            name: s.input.name.clone(),
            datatype: "FP32",
            shape: vec![-1, s.width() as i64],
        }],
        outputs,
        parameters: serde_json::json!({ "task": s.task, "features": features,
            "classes": s.outputs.label.as_ref().map(|l| &l.classes) }),
    }
}

async fn v2_describe(
    m: &Models,
    headers: &HeaderMap,
    peer: SocketAddr,
    name: &str,
    version: Option<&str>,
) -> Result<Response, V2Error> {
    let caller = admit_for(m, headers, peer, name).await?;
    let key = caller.key.key.id;
    let version = parse_version(version).map_err(|p| p.for_key(key))?;
    let (loaded, _) = m.serving.pick(name, version, None).await.map_err(|e| serve_problem(e).for_key(key))?;
    let versions = m.gate.db.model_versions(name).await.map_err(|e| Problem::from(e).for_key(key))?;
    let answering = versions
        .iter()
        .filter(|v| v.stage() != domain::models::Stage::Archived)
        .map(|v| v.version.to_string())
        .collect();
    let meta = v2_metadata_of(name, answering, loaded.inner.signature());
    Ok(json_response(key, StatusCode::OK, &meta)?)
}

fn parse_version(version: Option<&str>) -> Result<Option<i32>, Problem> {
    version.map(|v| v.parse::<i32>().map_err(|_| Problem::not_found())).transpose()
}

/// A model's metadata: its input tensor (FP32 [instances, features]) and outputs.
#[utoipa::path(get, path = "/v2/models/{name}", tag = "kserve-v2", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn")),
    responses(
        (status = 200, description = "The production version's tensors", body = V2ModelMetadata),
        (status = 401, description = "No key, or a key that is not valid", body = Object, example = json!({"error": "This API key is not known."})),
        (status = 403, description = "The key lacks `models:predict:{name}`, or the address is not allowed", body = Object),
        (status = 404, description = "No such model, or no production version", body = Object),
        (status = 429, description = "Rate limit or daily quota reached", body = Object),
    ))]
async fn v2_metadata(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, V2Error> {
    v2_describe(&m, &headers, peer, &name, None).await
}

/// One version's metadata.
#[utoipa::path(get, path = "/v2/models/{name}/versions/{version}", tag = "kserve-v2", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn"), ("version" = String, Path, description = "The version's number", example = "1")),
    responses(
        (status = 200, description = "The version's tensors", body = V2ModelMetadata),
        (status = 401, description = "No key, or a key that is not valid", body = Object),
        (status = 403, description = "The key lacks `models:predict:{name}`, or the address is not allowed", body = Object),
        (status = 404, description = "No such model or version", body = Object),
        (status = 409, description = "The version is archived", body = Object),
        (status = 429, description = "Rate limit or daily quota reached", body = Object),
    ))]
async fn v2_version_metadata(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, V2Error> {
    v2_describe(&m, &headers, peer, &name, Some(&version)).await
}

async fn v2_readiness(
    m: &Models,
    headers: &HeaderMap,
    peer: SocketAddr,
    name: &str,
    version: Option<&str>,
) -> Result<Response, V2Error> {
    let caller = admit_for(m, headers, peer, name).await?;
    let key = caller.key.key.id;
    let version = parse_version(version).map_err(|p| p.for_key(key))?;
    m.serving.pick(name, version, None).await.map_err(|e| serve_problem(e).for_key(key))?;
    Ok(json_response(key, StatusCode::OK, &serde_json::json!({ "name": name, "ready": true }))?)
}

/// 200 when the model's production version is loaded and answers; 4xx (with the reason) when not.
#[utoipa::path(get, path = "/v2/models/{name}/ready", tag = "kserve-v2", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn")),
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"name": "churn", "ready": true})),
        (status = 401, description = "No key, or a key that is not valid", body = Object),
        (status = 403, description = "The key lacks `models:predict:{name}`, or the address is not allowed", body = Object),
        (status = 404, description = "Not ready: no such model, or no production version", body = Object),
        (status = 429, description = "Rate limit or daily quota reached", body = Object),
    ))]
async fn v2_ready(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, V2Error> {
    v2_readiness(&m, &headers, peer, &name, None).await
}

/// 200 when the version is loaded and answers; 4xx (with the reason) when not.
#[utoipa::path(get, path = "/v2/models/{name}/versions/{version}/ready", tag = "kserve-v2", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn"), ("version" = String, Path, description = "The version's number", example = "1")),
    responses(
        (status = 200, description = "Ready", body = Object),
        (status = 401, description = "No key, or a key that is not valid", body = Object),
        (status = 403, description = "The key lacks `models:predict:{name}`, or the address is not allowed", body = Object),
        (status = 404, description = "Not ready: no such model or version", body = Object),
        (status = 409, description = "Not ready: the version is archived", body = Object),
        (status = 429, description = "Rate limit or daily quota reached", body = Object),
    ))]
async fn v2_version_ready(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, V2Error> {
    v2_readiness(&m, &headers, peer, &name, Some(&version)).await
}

/// An inference request: one input tensor, FP32 (or FP64, INT32, INT64) of shape
/// [instances, features], its data flat in row-major order (or as rows).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inputs": [{"name": "features", "shape": [1, 8], "datatype": "FP32",
    "data": [244, 4, 2, 20.9, 41, 0, 0, 0]}]}))]
pub struct InferRequest {
    #[serde(default)]
    pub id: Option<String>,
    pub inputs: Vec<InferInput>,
    /// The outputs wanted, by name (all when left out).
    #[serde(default)]
    pub outputs: Option<Vec<RequestedOutput>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InferInput {
    pub name: String,
    pub shape: Vec<i64>,
    pub datatype: String,
    /// Numbers, flat (row-major) or as rows.
    #[schema(value_type = Vec<f64>)]
    pub data: serde_json::Value,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestedOutput {
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InferResponse {
    #[schema(example = "churn")]
    pub model_name: String,
    #[schema(example = "1")]
    pub model_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub outputs: Vec<OutputTensor>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutputTensor {
    #[schema(example = "probabilities")]
    pub name: String,
    #[schema(example = "FP32")]
    pub datatype: &'static str,
    pub shape: Vec<usize>,
    #[schema(value_type = Vec<f64>)]
    pub data: OutputData,
}

#[derive(Debug)]
pub enum OutputData {
    Int(Vec<i64>),
    Float(Vec<f32>),
}

impl Serialize for OutputData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OutputData::Int(v) => v.serialize(s),
            OutputData::Float(v) => v.serialize(s),
        }
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem::invalid(vec![FieldError { field: field.into(), message: message.into() }])
}

/// The numbers of `data`, flat or as rows (at most two levels), or a refusal naming the place.
fn flat_numbers(data: &serde_json::Value, out: &mut Vec<f64>, depth: usize) -> Result<(), String> {
    match data {
        serde_json::Value::Number(n) => n.as_f64().map(|x| out.push(x)).ok_or_else(|| format!("{n} is not a number")),
        serde_json::Value::Array(items) if depth < 2 => {
            items.iter().try_for_each(|item| flat_numbers(item, out, depth + 1))
        }
        serde_json::Value::Array(_) => Err("nested more than two levels deep".into()),
        other => Err(format!("expected numbers, got {other}").chars().take(120).collect()),
    }
}

async fn run_infer(
    m: Models,
    peer: SocketAddr,
    headers: HeaderMap,
    name: String,
    version: Option<&str>,
    body: Bytes,
) -> Result<Response, V2Error> {
    let started = Instant::now();
    let caller = admit_for(&m, &headers, peer, &name).await?;
    let key = caller.key.key.id;
    let fail = |p: Problem| V2Error(p.for_key(key));
    let version = parse_version(version).map_err(fail)?;
    let req: InferRequest = json_body(&body).map_err(fail)?;
    let (loaded, _) = m.serving.pick(&name, version, None).await.map_err(|e| fail(serve_problem(e)))?;
    let answered = loaded.version;
    let result = infer_with(&m, loaded, req, name.clone(), key, started);
    if let Err(problem) = &result {
        m.serving.record(&name, answered, problem.status(), started.elapsed(), None);
    }
    result.map_err(fail)
}

/// Answers an inference request with the version picked for it.
fn infer_with(
    m: &Models,
    loaded: Arc<Loaded>,
    req: InferRequest,
    name: String,
    key: i64,
    started: Instant,
) -> Result<Response, Problem> {
    let s = loaded.inner.signature();
    let width = s.width();
    let [input] = &req.inputs[..] else {
        return Err(invalid("inputs", format!("send one input, `{}`, not {}", s.input.name, req.inputs.len())));
    };
    if input.name != s.input.name {
        return Err(invalid(
            "inputs[0].name",
            format!("the model's input is `{}`, not `{}`", s.input.name, input.name),
        ));
    }
    if !["FP32", "FP64", "INT32", "INT64"].contains(&input.datatype.as_str()) {
        return Err(invalid("inputs[0].datatype", format!("FP32, FP64, INT32 or INT64, not {}", input.datatype)));
    }
    let rows = match input.shape[..] {
        [n, w] if w == width as i64 && n >= 1 => n as usize,
        [w] if w == width as i64 => 1,
        _ => return Err(invalid("inputs[0].shape", format!("[instances, {width}], not {:?}", input.shape))),
    };
    if rows > MAX_BATCH {
        return Err(invalid("inputs[0].shape", format!("at most {MAX_BATCH} instances, not {rows}")));
    }
    let mut values = Vec::with_capacity(rows * width);
    flat_numbers(&input.data, &mut values, 0).map_err(|m| invalid("inputs[0].data", m))?;
    if values.len() != rows * width {
        return Err(invalid("inputs[0].data", format!("{} numbers for shape {:?}", values.len(), input.shape)));
    }
    let mut encoded = Vec::with_capacity(values.len());
    let mut problems = Vec::new();
    for (i, instance) in values.chunks(width).enumerate() {
        if let Err(errors) = domain::models::encode_numbers(s, instance, &mut encoded) {
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| FieldError { field: format!("inputs[0].data[{i}].{}", e.feature), message: e.message }),
            );
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(MAX_PROBLEMS);
        problems.truncate(MAX_PROBLEMS);
        if more > 0 {
            problems.push(FieldError { field: "inputs[0].data".into(), message: format!("and {more} more problems") });
        }
        return Err(Problem::invalid(problems));
    }
    let answer = Serving::predict_rows(loaded.clone(), &encoded).map_err(serve_problem)?;
    m.serving.record(&name, answer.model.version, 200, started.elapsed(), Some((&answer, Sent::Rows(&encoded))));
    let p = answer.predictions;
    let mut outputs = Vec::new();
    let o = &s.outputs;
    if let Some(l) = &o.label {
        outputs.push(OutputTensor {
            name: l.output.clone(),
            datatype: "INT64",
            shape: vec![p.rows],
            data: OutputData::Int(p.labels),
        });
    }
    if let Some(x) = &o.probabilities {
        outputs.push(OutputTensor {
            name: x.output.clone(),
            datatype: "FP32",
            shape: vec![p.rows, p.classes],
            data: OutputData::Float(p.probabilities),
        });
    }
    if let Some(x) = &o.scores {
        outputs.push(OutputTensor {
            name: x.output.clone(),
            datatype: "FP32",
            shape: vec![p.rows, p.clusters],
            data: OutputData::Float(p.scores),
        });
    }
    if let Some(x) = &o.value {
        outputs.push(OutputTensor {
            name: x.output.clone(),
            datatype: "FP32",
            shape: vec![p.rows],
            data: OutputData::Float(p.values),
        });
    }
    if let Some(wanted) = &req.outputs {
        if let Some(unknown) = wanted.iter().find(|w| !outputs.iter().any(|o| o.name == w.name)) {
            let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
            return Err(invalid(
                "outputs",
                format!("the model has no output `{}` (its outputs: {})", unknown.name, names.join(", ")),
            ));
        }
        outputs.retain(|o| wanted.iter().any(|w| w.name == o.name));
    }
    let response =
        InferResponse { model_name: name, model_version: answer.model.version.to_string(), id: req.id, outputs };
    json_response(key, StatusCode::OK, &response)
}

/// Inference with the production version (KServe Open Inference Protocol v2).
#[utoipa::path(post, path = "/v2/models/{name}/infer", tag = "kserve-v2", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn")),
    request_body = InferRequest,
    responses(
        (status = 200, description = "The outputs, one row per instance", body = InferResponse),
        (status = 400, description = "A request of the wrong shape, or values that do not fit the model's features", body = Object,
            example = json!({"error": "inputs[0].data[0].level: 0 is below the minimum 1"})),
        (status = 401, description = "No key, or a key that is not valid", body = Object),
        (status = 403, description = "The key lacks `models:predict:{name}`, or the address is not allowed", body = Object),
        (status = 404, description = "No such model, or no production version", body = Object),
        (status = 413, description = "A body larger than 2 MB"),
        (status = 429, description = "Rate limit or daily quota reached", body = Object),
    ))]
async fn v2_infer(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, V2Error> {
    run_infer(m, peer, headers, name, None, body).await
}

/// Inference with one version by number.
#[utoipa::path(post, path = "/v2/models/{name}/versions/{version}/infer", tag = "kserve-v2", security(("bearer" = ["models:predict:{name}"])),
    params(("name" = String, Path, description = "The model's name", example = "churn"), ("version" = String, Path, description = "The version's number", example = "1")),
    request_body = InferRequest,
    responses(
        (status = 200, description = "The outputs, one row per instance", body = InferResponse),
        (status = 400, description = "A request of the wrong shape, or values that do not fit the model's features", body = Object),
        (status = 401, description = "No key, or a key that is not valid", body = Object),
        (status = 403, description = "The key lacks `models:predict:{name}`, or the address is not allowed", body = Object),
        (status = 404, description = "No such model or version", body = Object),
        (status = 409, description = "The version is archived", body = Object),
        (status = 413, description = "A body larger than 2 MB"),
        (status = 429, description = "Rate limit or daily quota reached", body = Object),
    ))]
async fn v2_version_infer(
    State(m): State<Models>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, V2Error> {
    run_infer(m, peer, headers, name, Some(&version), body).await
}
