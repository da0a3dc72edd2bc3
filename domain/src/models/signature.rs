//! A model's signature: read from YAML or JSON with every problem placed, then checked as a whole.

use super::instance::{Value, encode};
use crate::pipeline::tree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What a model does, which decides what its answer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A label of two classes and, usually, the probability of each.
    BinaryClassification,
    /// A label of several classes and, usually, the probability of each.
    MultiClass,
    /// A number.
    Regression,
    /// The nearest cluster (a segment) and, usually, a score per cluster.
    Clustering,
}

impl Task {
    pub const ALL: [Task; 4] = [Task::BinaryClassification, Task::MultiClass, Task::Regression, Task::Clustering];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::BinaryClassification => "binary_classification",
            Task::MultiClass => "multi_class",
            Task::Regression => "regression",
            Task::Clustering => "clustering",
        }
    }

    pub fn parse(text: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.as_str() == text.trim())
    }

    /// Whether the answer's label is a class (or segment) name.
    pub fn labels(self) -> bool {
        self != Task::Regression
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// The name the model is usually registered under (the registry's name wins).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    pub task: Task,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub input: Input,
    pub outputs: Outputs,
    /// Training metrics by name (auc, log_loss, silhouette, …).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Where the training data came from (source, seed, rows, …).
    #[serde(default)]
    pub training_data: BTreeMap<String, Value>,
    /// How the training predictions spread over the score bins (the drift chart's reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_distribution: Option<super::drift::Distribution>,
    /// One instance the registry predicts before it accepts the model (the smoke test).
    pub example: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The graph's input: f32, shaped [instances, features].
    pub name: String,
    /// In the order the graph reads them.
    pub features: Vec<Feature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FeatureKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A category feature's values, fed to the model as their index here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// A whole number.
    Integer,
    /// Any finite number.
    Float,
    /// true or false, fed as 1 or 0.
    Boolean,
    /// One of the listed names, fed as its index.
    Category,
}

impl FeatureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Integer => "integer",
            FeatureKind::Float => "float",
            FeatureKind::Boolean => "boolean",
            FeatureKind::Category => "category",
        }
    }
}

/// Which of the graph's outputs carries what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<ProbabilityOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<ScoreOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ValueOutput>,
}

/// The predicted class (or cluster) as an integer index into `classes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelOutput {
    pub output: String,
    #[serde(default)]
    pub classes: Vec<String>,
}

/// One probability per class, in the order of the label's classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbabilityOutput {
    pub output: String,
    /// The class whose probability is "the" probability of a binary model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<usize>,
}

/// One score per class or cluster (a clustering model's distances).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreOutput {
    pub output: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub meaning: String,
}

/// A regression model's number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueOutput {
    pub output: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
}

/// Why a signature file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignatureError {
    /// Not YAML or JSON, or a value of the wrong shape (line and column from 1).
    #[error("signature, line {line}, column {column}: {message}")]
    Read { line: u64, column: u64, message: String },
    /// Read, but not a signature a model can be served by.
    #[error("signature: {0}")]
    Invalid(String),
}

/// Model names: what URLs and scopes carry (`models:predict:churn`).
pub fn is_model_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl Signature {
    /// Reads a signature written as YAML or JSON and checks it ([`Signature::check`]).
    pub fn parse(text: &str) -> Result<Signature, SignatureError> {
        if text.len() > super::MAX_SIGNATURE_BYTES {
            let most = super::MAX_SIGNATURE_BYTES / 1024;
            return Err(SignatureError::Invalid(format!("the file is larger than {most} KB")));
        }
        let signature: Signature = tree::read(text).map_err(|e| match e {
            tree::ReadError::Syntax(e) => {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                let message = e.without_snippet().to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).trim().to_owned();
                SignatureError::Read { line, column, message }
            }
            tree::ReadError::Shape(e) => {
                SignatureError::Read { line: e.at.line, column: e.at.column, message: e.message }
            }
        })?;
        signature.check()?;
        Ok(signature)
    }

    /// The rules a signature keeps: named, distinct features with sensible bounds, the outputs its
    /// task needs, and an example that is a valid instance.
    pub fn check(&self) -> Result<(), SignatureError> {
        let bad = |m: String| Err(SignatureError::Invalid(m));
        if self.input.name.trim().is_empty() {
            return bad("input.name is empty; name the graph's input tensor".into());
        }
        if self.input.features.is_empty() {
            return bad("input.features is empty; list the features in the order the graph reads them".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, f) in self.input.features.iter().enumerate() {
            let at = format!("input.features[{i}]");
            if f.name.trim().is_empty() || f.name.len() > 128 {
                return bad(format!("{at}: a feature needs a name of 1 to 128 characters"));
            }
            if !seen.insert(f.name.as_str()) {
                return bad(format!("{at}: the feature {} is listed twice", f.name));
            }
            for (which, bound) in [("min", f.min), ("max", f.max)] {
                if bound.is_some_and(|b| !b.is_finite()) {
                    return bad(format!("{at} ({}): {which} must be a finite number", f.name));
                }
            }
            if let (Some(min), Some(max)) = (f.min, f.max)
                && min > max
            {
                return bad(format!("{at} ({}): min {min} is above max {max}", f.name));
            }
            match f.kind {
                FeatureKind::Category => {
                    if f.categories.is_empty() {
                        return bad(format!("{at} ({}): a category feature lists its categories", f.name));
                    }
                    let distinct: std::collections::BTreeSet<_> = f.categories.iter().collect();
                    if distinct.len() != f.categories.len() {
                        return bad(format!("{at} ({}): a category is listed twice", f.name));
                    }
                    if f.min.is_some() || f.max.is_some() {
                        return bad(format!("{at} ({}): a category feature has categories, not min or max", f.name));
                    }
                }
                _ if !f.categories.is_empty() => {
                    return bad(format!("{at} ({}): only a category feature lists categories", f.name));
                }
                FeatureKind::Boolean if f.min.is_some() || f.max.is_some() => {
                    return bad(format!("{at} ({}): a boolean feature has no min or max", f.name));
                }
                _ => {}
            }
        }
        let o = &self.outputs;
        let named = [
            o.label.as_ref().map(|l| &l.output),
            o.probabilities.as_ref().map(|p| &p.output),
            o.scores.as_ref().map(|s| &s.output),
            o.value.as_ref().map(|v| &v.output),
        ];
        if named.iter().flatten().any(|n| n.trim().is_empty()) {
            return bad("outputs: every output names the graph output it reads".into());
        }
        match self.task {
            Task::Regression if o.value.is_none() => {
                return bad("outputs.value is missing: a regression model answers a number".into());
            }
            Task::Regression => {}
            task if o.label.is_none() => {
                return bad(format!("outputs.label is missing: a {task} model answers a label"));
            }
            _ => {}
        }
        if let Some(label) = &o.label {
            let want = match self.task {
                Task::BinaryClassification => Some(2),
                _ => None,
            };
            if want.is_some_and(|n| label.classes.len() != n) {
                return bad(format!(
                    "outputs.label.classes: a binary model names 2 classes, not {}",
                    label.classes.len()
                ));
            }
            if label.classes.is_empty() {
                return bad("outputs.label.classes is empty: name each class (or segment) in index order".into());
            }
            if let Some(p) = o.probabilities.as_ref().and_then(|p| p.positive)
                && p >= label.classes.len()
            {
                return bad(format!("outputs.probabilities.positive: {p} is not a class index"));
            }
        }
        self.check_distribution().map_err(SignatureError::Invalid)?;
        if self.example.is_empty() {
            return bad(
                "example is missing: give one instance, which the registry predicts before it accepts the model".into(),
            );
        }
        let mut row = Vec::new();
        encode(self, &self.example, &mut row).map_err(|errors| {
            let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
            SignatureError::Invalid(format!("example: {first}"))
        })
    }

    /// The number of values one instance feeds the graph.
    pub fn width(&self) -> usize {
        self.input.features.len()
    }

    /// The label's class name for index `i`, if the signature names it.
    pub fn class_name(&self, i: i64) -> Option<&str> {
        let label = self.outputs.label.as_ref()?;
        usize::try_from(i).ok().and_then(|i| label.classes.get(i)).map(String::as_str)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const CHURN: &str = "\
model: churn
task: binary_classification
input:
  name: features
  features:
  - { name: days_since_last_session, type: integer, min: 0, max: 3650 }
  - { name: minutes_7d, type: float, min: 0.0, max: 10080.0 }
  - { name: payer, type: boolean }
  - { name: platform, type: category, categories: [android, ios] }
outputs:
  label: { output: label, classes: ['no', 'yes'] }
  probabilities: { output: probabilities, positive: 1 }
metrics: { auc: 0.92 }
example: { days_since_last_session: 4, minutes_7d: 20.5, payer: false, platform: ios }
";

    #[test]
    fn a_signature_reads_from_yaml_and_json_alike() {
        let yaml = Signature::parse(CHURN).unwrap();
        assert_eq!(yaml.task, Task::BinaryClassification);
        assert_eq!(yaml.width(), 4);
        assert_eq!(yaml.class_name(1), Some("yes"));
        assert_eq!(yaml.class_name(2), None);
        let json = serde_json::to_string(&yaml).unwrap();
        assert_eq!(Signature::parse(&json).unwrap(), yaml);
    }

    #[test]
    fn shape_problems_are_placed() {
        let typo = CHURN.replace("  probabilities: {", "  probabilites: {");
        match Signature::parse(&typo) {
            Err(SignatureError::Read { line: 12, message, .. }) => {
                assert!(message.contains("probabilites"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let kind = CHURN.replace("type: boolean", "type: bool");
        assert!(matches!(Signature::parse(&kind), Err(SignatureError::Read { line: 8, .. })), "{kind}");
        assert!(matches!(Signature::parse("task: [\n"), Err(SignatureError::Read { line: 1, .. })));
        assert!(matches!(Signature::parse(""), Err(SignatureError::Read { .. })));
    }

    #[test]
    fn rules_are_named() {
        let cases = [
            (CHURN.replace("name: payer", "name: minutes_7d"), "listed twice"),
            (CHURN.replace("min: 0, max: 3650", "min: 10, max: 1"), "above max"),
            (CHURN.replace("categories: [android, ios]", "categories: []"), "lists its categories"),
            (CHURN.replace("classes: ['no', 'yes']", "classes: ['no']"), "names 2 classes"),
            (CHURN.replace("positive: 1", "positive: 2"), "not a class index"),
            (CHURN.replace("  label: { output: label, classes: ['no', 'yes'] }\n", ""), "outputs.label is missing"),
            (CHURN.replace("platform: ios }", "platform: web }"), "example: platform"),
            (CHURN.replace("example: {", "example: { extra: 1, "), "example: extra"),
            (CHURN.replace("min: 0, max: 3650", "min: 0, max: .inf"), "max must be a finite number"),
        ];
        for (text, expected) in cases {
            match Signature::parse(&text) {
                Err(SignatureError::Invalid(m)) => assert!(m.contains(expected), "{expected}: {m}"),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn model_names() {
        for ok in ["churn", "first_purchase", "segment-v2", "a"] {
            assert!(is_model_name(ok), "{ok}");
        }
        for bad in ["", "Churn", "1st", "a b", "x/y", &"a".repeat(65)] {
            assert!(!is_model_name(bad), "{bad}");
        }
    }
}
