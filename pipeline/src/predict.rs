//! The `predict` step: a step's rows scored by a registered model version. Each of the model's
//! features is read from the column of its name and checked as the prediction API checks an
//! instance; a row that does not fit refuses the step (the run writes nothing), naming the row and
//! the feature. The rows pass on with the answer's columns added.

use crate::{Mcms, Rows, RunError, failed, refuse, rows_frame};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float32Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use domain::models::{FeatureKind, Signature, Value};
use domain::pipeline::Predict;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Rows scored in one call of the model.
const CHUNK: usize = 4_096;
/// Problems a refusal names at most.
const MAX_PROBLEMS: usize = 20;

/// A registered model version a run scores rows with.
pub trait Scorer: Send + Sync {
    /// The version's number (it goes into the `version` column).
    fn version(&self) -> i32;
    fn signature(&self) -> &Signature;
    /// Predicts rows of numbers, [`Signature::width`] per row, already checked.
    fn predict(&self, rows: &[f32]) -> Result<inference::Predictions, String>;
}

/// One feature's column, read as the values a client would send.
enum Feed {
    Numbers(datafusion::arrow::array::Float64Array),
    Booleans(datafusion::arrow::array::BooleanArray),
    Texts(StringArray),
}

impl Feed {
    fn of(column: &ArrayRef) -> Result<Feed, String> {
        let t = column.data_type();
        let to = |want: &DataType| cast(column, want).map_err(|e| e.to_string());
        Ok(if t.is_numeric() {
            Feed::Numbers(to(&DataType::Float64)?.as_primitive().clone())
        } else if *t == DataType::Boolean || *t == DataType::Null {
            Feed::Booleans(to(&DataType::Boolean)?.as_boolean().clone())
        } else {
            Feed::Texts(to(&DataType::Utf8)?.as_string::<i32>().clone())
        })
    }

    fn value(&self, row: usize) -> Value {
        match self {
            Feed::Numbers(a) if a.is_valid(row) => Value::Number(a.value(row)),
            Feed::Booleans(a) if a.is_valid(row) => Value::Bool(a.value(row)),
            Feed::Texts(a) if a.is_valid(row) => Value::Text(a.value(row).to_owned()),
            _ => Value::Null,
        }
    }
}

pub(crate) async fn run(ctx: &SessionContext, step: &str, p: &Predict, mcms: &dyn Mcms) -> Result<DataFrame, RunError> {
    let model = p.model.value.as_str();
    let scorer = mcms.model(model, p.version).await.map_err(|e| refuse(step, e))?;
    let signature = scorer.signature();
    let input = ctx.table(p.input.value.as_str()).await.map_err(failed(step))?;
    let schema = input.schema().as_arrow().clone();
    let missing: Vec<&str> =
        signature.input.features.iter().map(|f| f.name.as_str()).filter(|f| schema.index_of(f).is_err()).collect();
    if !missing.is_empty() {
        let has: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        return Err(refuse(
            step,
            format!(
                "the model {model} reads the column(s) {}, which `{}` does not have (its columns: {})",
                missing.join(", "),
                p.input.value,
                has.join(", ")
            ),
        ));
    }
    let prefix = p.prefix();
    let o = &signature.outputs;
    let mut added = Vec::new();
    if o.label.is_some() {
        added.push(Field::new(format!("{prefix}label"), DataType::Utf8, true));
        added.push(Field::new(format!("{prefix}class"), DataType::Int64, true));
    }
    let positive = o.probabilities.as_ref().and_then(|x| x.positive);
    if positive.is_some() {
        added.push(Field::new(format!("{prefix}probability"), DataType::Float32, true));
    }
    if o.value.is_some() {
        added.push(Field::new(format!("{prefix}value"), DataType::Float32, true));
    }
    added.push(Field::new(format!("{prefix}version"), DataType::Int32, false));
    if let Some(clash) = added.iter().find(|f| schema.index_of(f.name()).is_ok()) {
        return Err(refuse(
            step,
            format!("`{}` already has a column {}: give the step a `prefix`", p.input.value, clash.name()),
        ));
    }
    let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).chain(added).collect();
    let out_schema = Arc::new(Schema::new(fields));

    let batches = input.collect().await.map_err(failed(step))?;
    let mut out = Vec::with_capacity(batches.len());
    let mut problems = Vec::new();
    let mut first_row = 0usize;
    for batch in batches {
        let n = batch.num_rows();
        let feeds = signature
            .input
            .features
            .iter()
            .map(|f| {
                batch.column_by_name(&f.name).map(Feed::of).unwrap_or_else(|| Err(format!("no column {}", f.name)))
            })
            .collect::<Result<Vec<Feed>, String>>()
            .map_err(|e| refuse(step, e))?;
        let mut rows = Vec::with_capacity(n * signature.width());
        for r in 0..n {
            let instance: BTreeMap<String, Value> = signature
                .input
                .features
                .iter()
                .zip(&feeds)
                .map(|(f, feed)| (f.name.clone(), cell(f.kind, feed, r)))
                .collect();
            if let Err(errors) = domain::models::encode(signature, &instance, &mut rows) {
                for e in errors {
                    if problems.len() < MAX_PROBLEMS {
                        problems.push(format!("row {}: {e}", first_row + r + 1));
                    }
                }
            }
        }
        first_row += n;
        if !problems.is_empty() {
            continue;
        }
        let mut labels = Vec::with_capacity(n);
        let mut classes = Vec::with_capacity(n);
        let mut probability = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        for chunk in rows.chunks(CHUNK * signature.width()) {
            let answer = scorer.predict(chunk).map_err(|e| refuse(step, format!("the model {model} failed: {e}")))?;
            for i in 0..answer.rows {
                let class = answer.label(i);
                classes.push(class);
                labels.push(class.and_then(|c| signature.class_name(c)).map(str::to_owned));
                probability.push(positive.and_then(|k| answer.probabilities(i).get(k).copied()));
                values.push(answer.value(i));
            }
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        if o.label.is_some() {
            columns.push(Arc::new(StringArray::from(labels)));
            columns.push(Arc::new(Int64Array::from(classes)));
        }
        if positive.is_some() {
            columns.push(Arc::new(Float32Array::from(probability)));
        }
        if o.value.is_some() {
            columns.push(Arc::new(Float32Array::from(values)));
        }
        columns.push(Arc::new(Int32Array::from(vec![scorer.version(); n])));
        out.push(RecordBatch::try_new(out_schema.clone(), columns).map_err(|e| refuse(step, e.to_string()))?);
    }
    if !problems.is_empty() {
        let more = if problems.len() == MAX_PROBLEMS { " (the first 20)" } else { "" };
        return Err(refuse(step, format!("rows that do not fit the model {model}{more}: {}", problems.join("; "))));
    }
    rows_frame(ctx, Rows { schema: out_schema, batches: out }, step)
}

/// A cell as the feature's value: a boolean feature also takes 0 and 1 from a number column.
fn cell(kind: FeatureKind, feed: &Feed, row: usize) -> Value {
    match (kind, feed.value(row)) {
        (FeatureKind::Boolean, Value::Number(x)) if x == 0.0 || x == 1.0 => Value::Bool(x == 1.0),
        (_, v) => v,
    }
}
