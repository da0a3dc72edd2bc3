//! Model serving's shared rules: what a registered model's signature says (its task, its features
//! with their types and allowed values, what its outputs mean, its training metrics), and how one
//! instance (`{feature: value, …}`) becomes the row of numbers the model reads. The same code checks
//! an instance in the browser (the "try it" form) and on the server (the prediction API), so a
//! value the form accepts is one the API accepts.
//!
//! A signature is written beside the model as YAML or JSON, like MLflow's model signature:
//!
//! ```yaml
//! model: churn
//! task: binary_classification
//! input:
//!   name: features                 # the graph's input tensor, f32 [n, features]
//!   features:
//!   - { name: level, type: integer, min: 1, max: 200 }
//!   - { name: platform, type: category, categories: [android, ios] }   # fed as 0, 1
//! outputs:
//!   label: { output: label, classes: ["no", "yes"] }
//!   probabilities: { output: probabilities, positive: 1 }
//! metrics: { auc: 0.92 }
//! example: { level: 41, platform: android }
//! ```

mod drift;
mod instance;
mod signature;

pub use drift::{Distribution, RANGE_BINS, Scored, bucket_bound, latency_bucket, latency_percentile};

pub use instance::{
    Batch, FeatureError, Instance, Instances, Value, ValueRef, decode, describe, encode, encode_numbers, encode_text,
    feed, feed_ref, from_text,
};
pub use signature::{
    Feature, FeatureKind, Input, LabelOutput, Outputs, ProbabilityOutput, ScoreOutput, Signature, SignatureError, Task,
    ValueOutput, is_model_name,
};

/// The most instances one prediction request may carry.
pub const MAX_BATCH: usize = 1_000;
/// The largest model file the registry takes.
pub const MAX_MODEL_BYTES: usize = 32 * 1024 * 1024;
/// The largest signature file the registry takes.
pub const MAX_SIGNATURE_BYTES: usize = 256 * 1024;

/// A registered version's place in its roll-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Uploaded and checked; answers only when asked for by number (or as a canary).
    Staging,
    /// The version `/models/{name}/predict` answers with; one per model.
    Production,
    /// Retired: answers nothing.
    Archived,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Staging, Stage::Production, Stage::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Staging => "staging",
            Stage::Production => "production",
            Stage::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
