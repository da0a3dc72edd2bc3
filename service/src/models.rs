//! Model serving's use cases: upload a model version (checked by loading it), promote, roll back,
//! archive and canary (confirmed by the generation the person saw), and [`Serving`], which
//! answers predictions from the models in memory and swaps them when any instance changes what
//! answers.
//!
//! Who may: builders (the data team) and admins change the registry; everyone signed in reads it.
//! Predictions come through the partner API's gate (scope `models:predict:NAME`), not here.

use crate::model_monitor::Outcome;
pub use crate::model_monitor::Sent;
use crate::{Actor, Error, Result, Service};
use domain::Role;
use domain::models::{Batch, FeatureError, Signature, Stage, is_model_name};
use inference::{Model, Predictions};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};
use store::Db;
use store::models::{NewVersion, RollOut, Routing, Uploaded};

/// How a version came in, for its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via<'a> {
    Page,
    Command,
    /// Over the API, with this key (its prefix).
    Key(&'a str),
}

/// An upload: the ONNX file and the signature file beside it.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub model: &'a str,
    pub onnx: &'a [u8],
    pub signature: &'a str,
    pub note: &'a str,
    pub via: Via<'a>,
}

/// What an upload did: a new version (staging) or the version that already has this file and
/// signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOutcome {
    pub version: i32,
    pub new: bool,
    pub sha256: String,
    /// The version's stage now (an upload the model already had may be in production).
    pub stage: Stage,
}

/// Reads and checks a signature and the graph against it, off the async threads. The refusal
/// says what to fix.
pub async fn check_model(onnx: Vec<u8>, signature: &str) -> Result<(Model, Signature)> {
    let signature = Signature::parse(signature).map_err(|e| Error::Refused(e.to_string()))?;
    let for_load = signature.clone();
    let model = tokio::task::spawn_blocking(move || Model::load(&onnx, for_load))
        .await
        .map_err(|e| Error::Refused(format!("the model could not be checked: {e}")))?
        .map_err(|e| Error::Refused(e.to_string()))?;
    Ok((model, signature))
}

impl Service<'_> {
    /// Stores an upload as the model's next version, in staging, if the graph loads, fits its
    /// signature and predicts the signature's example. Builders and admins.
    pub async fn upload_model(&self, actor: &Actor, up: Upload<'_>) -> Result<UploadOutcome> {
        actor.require(Role::Builder)?;
        if !is_model_name(up.model) {
            return Err(Error::Refused(format!(
                "“{}” is not a model name: 1 to 64 lowercase letters, digits, _ or -, starting with a letter",
                up.model
            )));
        }
        if up.note.chars().count() > 500 {
            return Err(Error::Refused("the note is longer than 500 characters".into()));
        }
        let (_, signature) = check_model(up.onnx.to_vec(), up.signature).await?;
        let sha256 = hex::encode(Sha256::digest(up.onnx));
        let signature_json = serde_json::to_string(&signature).map_err(|e| Error::Refused(e.to_string()))?;
        let via = match up.via {
            Via::Page => "page".to_owned(),
            Via::Command => "command".to_owned(),
            Via::Key(prefix) => format!("key {prefix}"),
        };
        let uploaded = self
            .db
            .add_model_version(&NewVersion {
                model: up.model,
                bytes: up.onnx,
                sha256: &sha256,
                task: signature.task.as_str(),
                signature: &signature_json,
                uploaded_by: actor.id,
                via: &via,
                note: up.note,
            })
            .await?;
        let (version, new) = match uploaded {
            Uploaded::New(v) => (v, true),
            Uploaded::Same(v) => (v, false),
        };
        tracing::info!(by = actor.id, model = up.model, version, new, %sha256, via, "model uploaded");
        let stored = self.db.model_version(up.model, version).await?;
        let stage = stored.map_or(Stage::Staging, |v| v.stage());
        Ok(UploadOutcome { version, new, sha256, stage })
    }

    /// Changes what answers a model's predictions (promote, roll back, archive, canary), as
    /// confirmed by someone who saw the model at generation `seen`.
    pub async fn change_roll_out(
        &self,
        actor: &Actor,
        model: &str,
        change: RollOut,
        seen: Option<i64>,
        reason: &str,
    ) -> Result<i64> {
        actor.require(Role::Builder)?;
        let generation = self.db.change_model_roll_out(model, change, seen, actor.id, reason).await?;
        tracing::info!(by = actor.id, model, ?change, generation, "model roll-out changed");
        Ok(generation)
    }
}

impl Service<'_> {
    /// Sets the share of a model's prediction requests whose instances and answers are kept
    /// (0 to 100%; 0, the default, keeps none). Builders and admins; audited.
    pub async fn set_sampling(&self, actor: &Actor, model: &str, percent: i32, reason: &str) -> Result<()> {
        actor.require(Role::Builder)?;
        self.db.set_model_sampling(model, percent, actor.id, reason).await?;
        tracing::info!(by = actor.id, model, percent, "model sampling changed");
        Ok(())
    }
}

/// A version in memory, ready to answer.
pub struct Loaded {
    pub model: String,
    pub version: i32,
    pub inner: Model,
    /// What every answer of this version repeats, escaped once: made by the first answer.
    names: OnceLock<Names>,
}

impl Loaded {
    pub fn new(model: String, version: i32, inner: Model) -> Loaded {
        Loaded { model, version, inner, names: OnceLock::new() }
    }
}

/// Why a prediction was not made.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("there is no model {0}")]
    NoModel(String),
    #[error("{0} has no production version yet")]
    NoProduction(String),
    #[error("{0} has no version {1}")]
    NoVersion(String, i32),
    #[error("version {1} of {0} is archived and answers nothing; use the production version or a staging one")]
    Archived(String, i32),
    /// Instances that do not fit the signature: (instance index, problem).
    #[error("{} problem(s) with the instances", .0.len())]
    Instances(Vec<(usize, FeatureError)>),
    #[error("send 1 to {max} instances, not {0}", max = domain::models::MAX_BATCH)]
    BatchSize(usize),
    #[error(transparent)]
    Predict(#[from] inference::PredictError),
    #[error("the stored version does not load any more: {0}")]
    Broken(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// What answered a request: the version, and its predictions in the instances' order.
pub struct Answer {
    pub model: Arc<Loaded>,
    pub predictions: Predictions,
}

/// A model's roll-out as this instance last read it, with each version's stage.
#[derive(Debug, Clone)]
struct Route {
    routing: Routing,
    stages: HashMap<i32, Stage>,
}

/// The roll-outs by model, and when they were read.
type Routes = (Option<Instant>, HashMap<String, Arc<Route>>);

/// The models in memory and what answers each, refreshed from the database at most once a
/// second (a promotion on any instance is served by every instance within about a second). A
/// request holds its version by `Arc`, so a swap never drops a request in flight.
pub struct Serving {
    db: Db,
    monitor: crate::model_monitor::Monitor,
    routes: RwLock<Routes>,
    loaded: Mutex<HashMap<(String, i32), Arc<Loaded>>>,
    /// One refresh at a time, and one load at a time.
    refreshing: tokio::sync::Mutex<()>,
    loading: tokio::sync::Mutex<()>,
}

/// How long the roll-outs read are trusted.
pub const ROUTES_TTL: Duration = Duration::from_secs(1);
/// Versions kept loaded (the least recently asked for goes first beyond it).
const MAX_LOADED: usize = 32;

impl std::fmt::Debug for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let loaded = self.loaded.lock().map(|l| l.len()).unwrap_or(0);
        f.debug_struct("Serving").field("loaded", &loaded).finish_non_exhaustive()
    }
}

impl Serving {
    pub fn new(db: Db) -> Arc<Serving> {
        Arc::new(Serving {
            db,
            monitor: Default::default(),
            routes: RwLock::new((None, HashMap::new())),
            loaded: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
            loading: tokio::sync::Mutex::new(()),
        })
    }

    async fn route(&self, model: &str) -> Result<Option<Arc<Route>>, ServeError> {
        let fresh = |r: &Routes| r.0.is_some_and(|at| at.elapsed() < ROUTES_TTL);
        if let Ok(r) = self.routes.read()
            && fresh(&r)
        {
            return Ok(r.1.get(model).cloned());
        }
        let _one = self.refreshing.lock().await;
        if let Ok(r) = self.routes.read()
            && fresh(&r)
        {
            return Ok(r.1.get(model).cloned());
        }
        let known: HashMap<String, Arc<Route>> = self.routes.read().map(|r| r.1.clone()).unwrap_or_default();
        let mut next = HashMap::new();
        for routing in self.db.model_routing().await? {
            let route = match known.get(&routing.name) {
                // Same generation, same stages; the sample rate may have changed.
                Some(r) if r.routing.generation == routing.generation => {
                    Arc::new(Route { routing, stages: r.stages.clone() })
                }
                _ => {
                    let versions = self.db.model_versions(&routing.name).await?;
                    let stages = versions.iter().map(|v| (v.version, v.stage())).collect();
                    Arc::new(Route { routing, stages })
                }
            };
            next.insert(route.routing.name.clone(), route);
        }
        let found = next.get(model).cloned();
        if let Ok(mut r) = self.routes.write() {
            *r = (Some(Instant::now()), next);
        }
        Ok(found)
    }

    /// The version that answers `model` for this request: `version` if asked for (not archived),
    /// else production, or the canary for its share of callers (`sticky`, the caller's id, keeps
    /// a caller on one side; without it each request is drawn).
    pub async fn pick(
        &self,
        model: &str,
        version: Option<i32>,
        sticky: Option<&str>,
    ) -> Result<(Arc<Loaded>, Stage), ServeError> {
        self.pick_for(model, version, || sticky.map(str::to_owned)).await
    }

    /// [`Serving::pick`] with the caller's id read only when a canary asks for it (the
    /// prediction API finds it in the request's body, which it otherwise reads once, for the
    /// version's signature).
    pub async fn pick_for(
        &self,
        model: &str,
        version: Option<i32>,
        sticky: impl FnOnce() -> Option<String>,
    ) -> Result<(Arc<Loaded>, Stage), ServeError> {
        let route = self.route(model).await?.ok_or_else(|| ServeError::NoModel(model.to_owned()))?;
        let version = match version {
            Some(v) => match route.stages.get(&v) {
                None => return Err(ServeError::NoVersion(model.to_owned(), v)),
                Some(Stage::Archived) => return Err(ServeError::Archived(model.to_owned(), v)),
                Some(_) => v,
            },
            None => {
                let r = &route.routing;
                let production = r.production.ok_or_else(|| ServeError::NoProduction(model.to_owned()))?;
                match r.canary {
                    Some(c) if bucket(model, sticky().as_deref()) < u64::try_from(r.canary_percent).unwrap_or(0) => c,
                    _ => production,
                }
            }
        };
        let stage = route.stages.get(&version).copied().unwrap_or(Stage::Staging);
        Ok((self.load(model, version).await?, stage))
    }

    async fn load(&self, model: &str, version: i32) -> Result<Arc<Loaded>, ServeError> {
        let key = (model.to_owned(), version);
        if let Some(l) = self.loaded.lock().ok().and_then(|l| l.get(&key).cloned()) {
            return Ok(l);
        }
        let _one = self.loading.lock().await;
        if let Some(l) = self.loaded.lock().ok().and_then(|l| l.get(&key).cloned()) {
            return Ok(l);
        }
        let v = self
            .db
            .model_version(model, version)
            .await?
            .ok_or_else(|| ServeError::NoVersion(model.to_owned(), version))?;
        let bytes =
            self.db.model_file(&v.sha256).await?.ok_or_else(|| ServeError::Broken("its file is missing".into()))?;
        let signature: Signature = serde_json::from_str(&v.signature).map_err(|e| ServeError::Broken(e.to_string()))?;
        let inner = tokio::task::spawn_blocking(move || Model::load(&bytes, signature))
            .await
            .map_err(|e| ServeError::Broken(e.to_string()))?
            .map_err(|e| ServeError::Broken(e.to_string()))?;
        let loaded = Arc::new(Loaded::new(model.to_owned(), version, inner));
        if let Ok(mut l) = self.loaded.lock() {
            if l.len() >= MAX_LOADED {
                // Keep what answers now; the rest load again when asked for.
                let keep: Vec<(String, i32)> = self
                    .routes
                    .read()
                    .map(|r| {
                        r.1.values()
                            .flat_map(|r| {
                                [r.routing.production, r.routing.canary]
                                    .into_iter()
                                    .flatten()
                                    .map(|v| (r.routing.name.clone(), v))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                l.retain(|k, _| keep.contains(k));
            }
            l.insert(key, loaded.clone());
        }
        tracing::info!(model, version, "model version loaded");
        Ok(loaded)
    }

    /// Predicts a batch read for the version's signature ([`domain::models::Instances`]) in one
    /// run of the model: refused whole when it is empty or too large, or names every problem of
    /// its instances.
    pub fn predict(loaded: Arc<Loaded>, batch: Batch) -> Result<Answer, ServeError> {
        if batch.count == 0 || batch.count > domain::models::MAX_BATCH {
            return Err(ServeError::BatchSize(batch.count));
        }
        if !batch.problems.is_empty() {
            return Err(ServeError::Instances(batch.problems));
        }
        let predictions = loaded.inner.predict(&batch.rows)?;
        Ok(Answer { model: loaded, predictions })
    }

    /// Counts an answered (or refused) request for the version's monitoring; the counts are
    /// written by a task every couple of seconds.
    pub fn record(
        self: &Arc<Self>,
        model: &str,
        version: i32,
        status: u16,
        elapsed: Duration,
        answered: Option<(&Answer, Sent<'_>)>,
    ) {
        let sample_percent =
            self.routes.read().ok().and_then(|r| r.1.get(model).map(|r| r.routing.sample_percent)).unwrap_or(0);
        let outcome = Outcome { model, version, status, elapsed, answered, sample_percent };
        if self.monitor.count(&outcome) {
            let serving = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep(crate::model_monitor::FLUSH_EVERY).await;
                if let Some(serving) = serving.upgrade() {
                    serving.flush().await;
                }
            });
        }
    }

    /// Writes the monitoring counted so far (also called by tests).
    pub async fn flush(&self) {
        self.monitor.flush(&self.db).await;
    }

    /// Predicts rows already encoded and checked (a tensor of numbers, the KServe protocol).
    pub fn predict_rows(loaded: Arc<Loaded>, rows: &[f32]) -> Result<Answer, ServeError> {
        let predictions = loaded.inner.predict(rows)?;
        Ok(Answer { model: loaded, predictions })
    }
}

/// Which hundredth of callers `sticky` falls in for `model`; without it, requests take the
/// hundredths in turn (so a 10% canary answers every tenth).
fn bucket(model: &str, sticky: Option<&str>) -> u64 {
    static TURN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let Some(id) = sticky else {
        return TURN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 100;
    };
    let digest = Sha256::digest(format!("{model}\u{0}{id}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first) % 100
}

/// One instance's prediction as the API answers it, read from the batch's columns: `label`
/// (class or segment name) and `class`, binary models' `probability` and `probabilities` by
/// class, clustering models' `scores` by segment, regression models' `value`.
pub struct Row<'a> {
    pub signature: &'a Signature,
    pub p: &'a Predictions,
    pub i: usize,
}

/// Class (or segment) names paired with numbers, as a JSON object.
struct Named<'a>(&'a [String], &'a [f32]);

impl serde::Serialize for Named<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.1.len()))?;
        for (i, x) in self.1.iter().enumerate() {
            match self.0.get(i) {
                Some(name) => m.serialize_entry(name, x)?,
                None => m.serialize_entry(&i.to_string(), x)?,
            }
        }
        m.end()
    }
}

impl serde::Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (sig, p, i) = (self.signature, self.p, self.i);
        let classes: &[String] = sig.outputs.label.as_ref().map_or(&[], |l| &l.classes);
        let mut m = s.serialize_map(None)?;
        if let Some(class) = p.label(i) {
            m.serialize_entry("label", &sig.class_name(class))?;
            m.serialize_entry("class", &class)?;
        }
        if !p.probabilities.is_empty() {
            let probabilities = p.probabilities(i);
            if let Some(positive) = sig.outputs.probabilities.as_ref().and_then(|o| o.positive) {
                m.serialize_entry("probability", &probabilities.get(positive))?;
            }
            m.serialize_entry("probabilities", &Named(classes, probabilities))?;
        }
        if !p.scores.is_empty() {
            m.serialize_entry("scores", &Named(classes, p.scores(i)))?;
        }
        if let Some(v) = p.value(i) {
            m.serialize_entry("value", &v)?;
        }
        m.end()
    }
}

impl Answer {
    /// The answer as the prediction API sends it, `{"model", "version", "stage", "predictions"}`,
    /// appended to `out`: byte for byte what serde_json makes of the same fields with a [`Row`]
    /// per instance, but with the names (keys and class names) escaped once per loaded version
    /// instead of once per row (a batch of 100 spent a tenth of its time escaping the same words;
    /// escaping them per answer was a dozen allocations for a single instance).
    pub fn write_json(&self, stage: &str, out: &mut Vec<u8>) {
        let (sig, p) = (self.model.inner.signature(), &self.predictions);
        let width = p.classes.max(p.clusters);
        let fresh;
        let names = match self.model.names.get_or_init(|| Names::new(&self.model.model, sig, width)) {
            // One graph answers with one width; should another come, its names are made here.
            names if names.width == width => names,
            _ => {
                fresh = Names::new(&self.model.model, sig, width);
                &fresh
            }
        };
        let positive = sig.outputs.probabilities.as_ref().and_then(|o| o.positive);

        out.extend_from_slice(b"{\"model\":");
        out.extend_from_slice(&names.model);
        out.extend_from_slice(b",\"version\":");
        out.extend_from_slice(itoa::Buffer::new().format(self.model.version).as_bytes());
        out.extend_from_slice(b",\"stage\":");
        out.extend_from_slice(json_text(stage).as_bytes());
        out.extend_from_slice(b",\"predictions\":[");
        for i in 0..p.rows {
            if i > 0 {
                out.push(b',');
            }
            let mut fields = Fields { out: &mut *out, first: true };
            if let Some(class) = p.label(i) {
                match usize::try_from(class).ok().and_then(|c| names.labels.get(c)) {
                    Some(written) => fields.put(written),
                    None => fields.put(&label_field(sig, class)),
                }
            }
            if !p.probabilities.is_empty() {
                let probabilities = p.probabilities(i);
                if let Some(positive) = positive {
                    fields.put(b"\"probability\":");
                    number(fields.out, probabilities.get(positive).copied());
                }
                fields.put(b"\"probabilities\":");
                named(fields.out, &names.keys, probabilities);
            }
            if !p.scores.is_empty() {
                fields.put(b"\"scores\":");
                named(fields.out, &names.keys, p.scores(i));
            }
            if let Some(v) = p.value(i) {
                fields.put(b"\"value\":");
                number(fields.out, Some(v));
            }
            fields.end();
        }
        out.extend_from_slice(b"]}");
    }
}

/// A version's names as its answers write them.
struct Names {
    /// How many probabilities or scores a row has.
    width: usize,
    /// The model's name, as a JSON string.
    model: Vec<u8>,
    /// Per class number: `"label":"name","class":n`.
    labels: Vec<Vec<u8>>,
    /// Per probability or score: `"name":` (the class's name, else its number).
    keys: Vec<Vec<u8>>,
}

impl Names {
    fn new(model: &str, sig: &Signature, width: usize) -> Names {
        let classes: &[String] = sig.outputs.label.as_ref().map_or(&[], |l| &l.classes);
        Names {
            width,
            model: json_text(model).into_bytes(),
            labels: (0..classes.len() as i64).map(|class| label_field(sig, class)).collect(),
            keys: (0..width)
                .map(|i| {
                    format!("{}:", classes.get(i).map_or_else(|| json_text(&i.to_string()), |c| json_text(c)))
                        .into_bytes()
                })
                .collect(),
        }
    }
}

/// Text as a JSON string.
fn json_text(t: &str) -> String {
    serde_json::to_string(t).unwrap_or_else(|_| "null".to_owned())
}

/// A row's label fields for class number `class`.
fn label_field(sig: &Signature, class: i64) -> Vec<u8> {
    let name = sig.class_name(class).map_or_else(|| "null".to_owned(), json_text);
    format!("\"label\":{name},\"class\":{class}").into_bytes()
}

/// One row's object, written a field at a time: its `{` before the first, commas between.
struct Fields<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl Fields<'_> {
    /// A whole field (`"name":value`), or a field's key (`"name":`) with its value to follow.
    fn put(&mut self, written: &[u8]) {
        self.out.push(if std::mem::replace(&mut self.first, false) { b'{' } else { b',' });
        put(self.out, written);
    }

    fn end(self) {
        if self.first {
            self.out.push(b'{');
        }
        self.out.push(b'}');
    }
}

/// Appends a short piece (a name, a number's digits) a byte at a time. Copied as a slice, each
/// piece was a call to `memcpy`, and the profile put most of those calls' time on one wide load
/// (of digits only just written, a load that waits for their stores): written this way, a batch
/// of 100 took a tenth less of the server's time (docs/benchmarks.md, session 23).
fn put(out: &mut Vec<u8>, piece: &[u8]) {
    for &byte in piece {
        out.push(byte);
    }
}

/// A number as serde_json writes an `Option<f32>`: shortest form, `null` for none, NaN or infinity.
fn number(out: &mut Vec<u8>, x: Option<f32>) {
    match x {
        Some(x) if x.is_finite() => put(out, zmij::Buffer::new().format_finite(x).as_bytes()),
        _ => out.extend_from_slice(b"null"),
    }
}

/// Numbers under their names (`keys[i]` is `"name":`), as [`Named`] serialises them.
fn named(out: &mut Vec<u8>, keys: &[Vec<u8>], xs: &[f32]) {
    out.push(b'{');
    for (i, &x) in xs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match keys.get(i) {
            Some(key) => put(out, key),
            None => out.extend_from_slice(format!("\"{i}\":").as_bytes()),
        }
        number(out, Some(x));
    }
    out.push(b'}');
}
