//! Registered models, run in-process with tract: an ONNX graph is checked against its signature
//! when it is loaded (its input, its outputs, every op one tract can run, a smoke prediction of the
//! signature's example), optimised once for any number of instances, then shared by every request.
//!
//! Nothing a model file or an instance holds may bring the server down: loading and predicting
//! run under `catch_unwind`, and a model that panics is refused like one that fails.

use domain::models::{Signature, Task};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use tract_onnx::pb;
use tract_onnx::prelude::*;

mod arg_best;
mod columns;

/// Why a model was refused when it was loaded: each says what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("the file is {0} bytes; the registry takes models up to {max} bytes", max = domain::models::MAX_MODEL_BYTES)]
    TooLarge(usize),
    #[error("not an ONNX model: {0}")]
    NotOnnx(String),
    #[error(
        "the graph uses {} tract cannot run: {}; export without them (for scikit-learn pipelines: \
         options={{LogisticRegression: {{\"zipmap\": False}}, StandardScaler: {{\"div\": \"div\"}}}})",
        if .0.len() == 1 { "an op" } else { "ops" },
        .0.join(", ")
    )]
    UnsupportedOps(Vec<String>),
    #[error("the graph's input does not match the signature: {0}")]
    Input(String),
    #[error("the graph's outputs do not match the signature: {0}")]
    Output(String),
    #[error("the graph does not load: {0}")]
    Graph(String),
    #[error("the smoke prediction of the signature's example failed: {0}")]
    Smoke(String),
}

/// A prediction that could not be made (a model that loaded and passed its smoke test should
/// never give one; it is reported, not panicked on).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the model could not predict: {0}")]
pub struct PredictError(pub String);

/// A loaded, checked model, ready to predict from any thread.
pub struct Model {
    plan: Arc<TypedSimplePlan>,
    /// Run states of the plan, kept between runs: a run takes one (or makes one) and gives it
    /// back when it succeeds, so it does not set up the plan's per-run bookkeeping anew.
    states: Mutex<Vec<TypedSimpleState>>,
    signature: Signature,
    outputs: Vec<Role>,
}

/// Run states a model keeps (about one per thread predicting at once).
const MAX_KEPT_STATES: usize = 16;

/// What each of the plan's outputs (in order) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Label,
    Probabilities,
    Scores,
    Value,
}

/// The answers for a batch of instances, column by column (`probabilities` holds `classes`
/// numbers per instance, `scores` `clusters`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predictions {
    pub rows: usize,
    pub labels: Vec<i64>,
    pub classes: usize,
    pub probabilities: Vec<f32>,
    pub clusters: usize,
    pub scores: Vec<f32>,
    pub values: Vec<f32>,
}

impl Predictions {
    pub fn label(&self, i: usize) -> Option<i64> {
        self.labels.get(i).copied()
    }
    pub fn probabilities(&self, i: usize) -> &[f32] {
        self.probabilities.get(i * self.classes..(i + 1) * self.classes).unwrap_or_default()
    }
    pub fn scores(&self, i: usize) -> &[f32] {
        self.scores.get(i * self.clusters..(i + 1) * self.clusters).unwrap_or_default()
    }
    pub fn value(&self, i: usize) -> Option<f32> {
        self.values.get(i).copied()
    }
}

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the runtime stopped".to_owned())
}

/// The ONNX op types tract-onnx can build, by name (the `ai.onnx.ml` ones included).
fn unsupported_ops(onnx: &tract_onnx::Onnx, graph: &pb::GraphProto) -> Vec<String> {
    let mut missing: Vec<String> = graph
        .node
        .iter()
        .filter(|n| !onnx.op_register.0.contains_key(&n.op_type))
        .map(|n| if n.domain.is_empty() { n.op_type.clone() } else { format!("{} ({})", n.op_type, n.domain) })
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Checks the graph's declared input against the signature: one input (besides weights), of the
/// signature's name, float, two-dimensional with one column per feature.
fn check_input(graph: &pb::GraphProto, signature: &Signature) -> Result<(), LoadError> {
    let weights: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&pb::ValueInfoProto> = graph.input.iter().filter(|i| !weights.contains(i.name.as_str())).collect();
    let names = || inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
    let want = &signature.input.name;
    let [input] = inputs[..] else {
        return Err(LoadError::Input(format!(
            "the graph has {} inputs ({}); MCMS feeds one, `{want}`, with a column per feature",
            inputs.len(),
            names()
        )));
    };
    if &input.name != want {
        return Err(LoadError::Input(format!("the graph's input is `{}`, the signature names `{want}`", input.name)));
    }
    let Some(pb::type_proto::Value::TensorType(tensor)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(LoadError::Input(format!("`{want}` is not a tensor")));
    };
    if tensor.elem_type != pb::tensor_proto::DataType::Float as i32 {
        return Err(LoadError::Input(format!("`{want}` is not float32 (ONNX type {})", tensor.elem_type)));
    }
    if let Some(shape) = &tensor.shape {
        use pb::tensor_shape_proto::dimension::Value as Dim;
        let width = signature.width() as i64;
        match &shape.dim[..] {
            [_, last] => {
                if let Some(Dim::DimValue(n)) = last.value
                    && n != width
                {
                    return Err(LoadError::Input(format!(
                        "`{want}` takes {n} values per instance; the signature lists {width} features"
                    )));
                }
            }
            dims => {
                return Err(LoadError::Input(format!(
                    "`{want}` has {} dimensions; MCMS feeds [instances, features]",
                    dims.len()
                )));
            }
        }
    }
    Ok(())
}

impl Model {
    /// Loads `bytes` (an ONNX file) to be served under `signature`, or says why not.
    pub fn load(bytes: &[u8], signature: Signature) -> Result<Model, LoadError> {
        if bytes.len() > domain::models::MAX_MODEL_BYTES {
            return Err(LoadError::TooLarge(bytes.len()));
        }
        catch_unwind(AssertUnwindSafe(|| Model::load_unguarded(bytes, signature)))
            .unwrap_or_else(|panic| Err(LoadError::Graph(panic_text(panic))))
    }

    fn load_unguarded(bytes: &[u8], signature: Signature) -> Result<Model, LoadError> {
        let onnx = tract_onnx::onnx();
        let proto = onnx.proto_model_for_read(&mut &*bytes).map_err(|e| LoadError::NotOnnx(format!("{e:#}")))?;
        let graph = match &proto.graph {
            Some(g) if !g.node.is_empty() && !g.output.is_empty() => g,
            _ => return Err(LoadError::NotOnnx("the file holds no graph".into())),
        };
        let missing = unsupported_ops(&onnx, graph);
        if !missing.is_empty() {
            return Err(LoadError::UnsupportedOps(missing));
        }
        check_input(graph, &signature)?;
        let o = signature.outputs.clone();
        let wanted: Vec<(Role, &str)> = [
            (Role::Label, o.label.as_ref().map(|x| x.output.as_str())),
            (Role::Probabilities, o.probabilities.as_ref().map(|x| x.output.as_str())),
            (Role::Scores, o.scores.as_ref().map(|x| x.output.as_str())),
            (Role::Value, o.value.as_ref().map(|x| x.output.as_str())),
        ]
        .into_iter()
        .filter_map(|(role, name)| name.map(|n| (role, n)))
        .collect();
        let graph_outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        if let Some((_, name)) = wanted.iter().find(|(_, n)| !graph_outputs.contains(n)) {
            return Err(LoadError::Output(format!(
                "the signature reads `{name}`; the graph's outputs are {}",
                graph_outputs.join(", ")
            )));
        }
        let graph_error = |e: TractError| LoadError::Graph(format!("{e:#}"));
        let mut model = onnx.model_for_proto_model(&proto).map_err(graph_error)?;
        let n = model.sym("N");
        model.set_input_fact(0, f32::fact([n.to_dim(), signature.width().to_dim()]).into()).map_err(graph_error)?;
        model.select_outputs_by_name(wanted.iter().map(|(_, n)| *n)).map_err(graph_error)?;
        let mut model = model.into_optimized().map_err(graph_error)?;
        arg_best::replace_arg_reduces(&mut model).map_err(graph_error)?;
        columns::fuse_column_constants(&mut model).map_err(graph_error)?;
        let plan = TypedSimplePlan::new(model).map_err(graph_error)?;
        let outputs = wanted.iter().map(|(r, _)| *r).collect();
        let model = Model { plan, states: Mutex::new(Vec::new()), signature, outputs };
        model.smoke()?;
        Ok(model)
    }

    /// Predicts the signature's example and checks the answer's shape and values.
    fn smoke(&self) -> Result<(), LoadError> {
        let smoke = |m: String| LoadError::Smoke(m);
        let mut row = Vec::new();
        domain::models::encode(&self.signature, &self.signature.example, &mut row)
            .map_err(|e| smoke(format!("{e:?}")))?;
        let p = self.predict_unguarded(&row).map_err(|e| smoke(e.0))?;
        let s = &self.signature;
        if let Some(label) = &s.outputs.label {
            let l = p.label(0).unwrap_or(-1);
            if s.task.labels() && (l < 0 || l as usize >= label.classes.len()) {
                return Err(smoke(format!("the label is {l}; the signature names {} classes", label.classes.len())));
            }
        }
        if s.outputs.probabilities.is_some() {
            let classes = s.outputs.label.as_ref().map_or(0, |l| l.classes.len());
            if p.classes != classes {
                return Err(smoke(format!("{} probabilities per instance for {classes} classes", p.classes)));
            }
            if p.probabilities(0).iter().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(smoke(format!("probabilities outside 0..1: {:?}", p.probabilities(0))));
            }
        }
        if s.outputs.scores.is_some() && s.task == Task::Clustering {
            let clusters = s.outputs.label.as_ref().map_or(0, |l| l.classes.len());
            if p.clusters != clusters {
                return Err(smoke(format!("{} scores per instance for {clusters} clusters", p.clusters)));
            }
        }
        let numbers = p.probabilities.iter().chain(&p.scores).chain(&p.values);
        if let Some(x) = numbers.into_iter().find(|x| !x.is_finite()) {
            return Err(smoke(format!("the model answered {x}")));
        }
        Ok(())
    }

    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Predicts `rows` (instances encoded by [`domain::models::encode`], one after another).
    pub fn predict(&self, rows: &[f32]) -> Result<Predictions, PredictError> {
        catch_unwind(AssertUnwindSafe(|| self.predict_unguarded(rows)))
            .unwrap_or_else(|panic| Err(PredictError(panic_text(panic))))
    }

    fn predict_unguarded(&self, rows: &[f32]) -> Result<Predictions, PredictError> {
        let width = self.signature.width();
        if rows.is_empty() || !rows.len().is_multiple_of(width) {
            return Err(PredictError(format!("{} values are not whole instances of {width}", rows.len())));
        }
        let n = rows.len() / width;
        let fail = |e: TractError| PredictError(format!("{e:#}"));
        let input = Tensor::from_shape(&[n, width], rows).map_err(fail)?;
        let kept = self.states.lock().ok().and_then(|mut states| states.pop());
        let mut state = match kept {
            Some(state) => state,
            None => self.plan.spawn().map_err(fail)?,
        };
        let outputs = state.run(tvec!(input.into())).map_err(fail)?;
        if let Ok(mut states) = self.states.lock()
            && states.len() < MAX_KEPT_STATES
        {
            states.push(state);
        }
        let mut p = Predictions { rows: n, ..Predictions::default() };
        for (role, t) in self.outputs.iter().zip(outputs.iter()) {
            let per_row = |t: &TValue| -> Result<usize, PredictError> {
                match t.shape() {
                    [rows] if *rows == n => Ok(1),
                    [rows, k] if *rows == n => Ok(*k),
                    shape => Err(PredictError(format!("an output of shape {shape:?} for {n} instances"))),
                }
            };
            let k = per_row(t)?;
            match role {
                Role::Label => {
                    if k != 1 {
                        return Err(PredictError(format!("{k} labels per instance")));
                    }
                    p.labels = numbers::<i64>(t)?;
                }
                Role::Probabilities => {
                    p.classes = k;
                    p.probabilities = numbers::<f32>(t)?;
                }
                Role::Scores => {
                    p.clusters = k;
                    p.scores = numbers::<f32>(t)?;
                }
                Role::Value => {
                    if k != 1 {
                        return Err(PredictError(format!("{k} values per instance")));
                    }
                    p.values = numbers::<f32>(t)?;
                }
            }
        }
        Ok(p)
    }
}

/// An output's numbers as `T`, in row-major order.
fn numbers<T: Datum + Copy>(t: &TValue) -> Result<Vec<T>, PredictError> {
    let fail = |e: TractError| PredictError(format!("{e:#}"));
    let t = t.cast_to::<T>().map_err(fail)?;
    Ok(t.to_plain_array_view::<T>().map_err(fail)?.iter().copied().collect())
}

#[cfg(test)]
mod tests;
