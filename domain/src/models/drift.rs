//! What the monitoring counts of each prediction, so a version's scores today can be set beside
//! its training distribution (drift at a glance), and how its latencies are bucketed.
//!
//! A prediction falls in one *score bin*: for a binary classifier, the positive class's
//! probability in ten bins of 0.1; for a multi-class model or a clustering, its label (class or
//! segment); for a regression, ten equal bins between the training distribution's `min` and `max`
//! (values outside go to the end bins). The signature's `training_distribution.shares` gives the
//! share of the training (held-out) predictions in each bin, as `models/train.py` writes it.

use super::signature::{Signature, Task};
use serde::{Deserialize, Serialize};

/// The bins of a binary classifier's probability, and of a regression's range.
pub const RANGE_BINS: usize = 10;

/// How a model's predictions were spread over its score bins in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    /// Share of predictions in each bin, in bin order; they add up to 1.
    pub shares: Vec<f64>,
    /// A regression's range (the bins divide it); not used by the other tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// One prediction as the monitoring sees it.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    pub label: Option<i64>,
    pub probabilities: &'a [f32],
    pub value: Option<f32>,
}

impl Signature {
    /// How many score bins this model's predictions fall in (0: not counted, a regression
    /// without a training range).
    pub fn bins(&self) -> usize {
        match self.task {
            Task::BinaryClassification if self.outputs.probabilities.is_some() => RANGE_BINS,
            Task::Regression => match self.regression_range() {
                Some(_) => RANGE_BINS,
                None => 0,
            },
            _ => self.outputs.label.as_ref().map_or(0, |l| l.classes.len()),
        }
    }

    fn regression_range(&self) -> Option<(f64, f64)> {
        let d = self.training_distribution.as_ref()?;
        match (d.min, d.max) {
            (Some(lo), Some(hi)) if hi > lo => Some((lo, hi)),
            _ => None,
        }
    }

    /// The bin a prediction falls in, if this model's predictions are counted.
    pub fn bin(&self, p: Scored<'_>) -> Option<usize> {
        let bins = self.bins();
        if bins == 0 {
            return None;
        }
        let in_range = |x: f64| -> Option<usize> {
            x.is_finite().then(|| ((x * RANGE_BINS as f64).floor().max(0.0) as usize).min(RANGE_BINS - 1))
        };
        match self.task {
            Task::BinaryClassification => {
                let positive = self.outputs.probabilities.as_ref()?.positive.unwrap_or(1);
                in_range(f64::from(*p.probabilities.get(positive)?))
            }
            Task::Regression => {
                let (lo, hi) = self.regression_range()?;
                in_range((f64::from(p.value?) - lo) / (hi - lo))
            }
            _ => usize::try_from(p.label?).ok().filter(|&i| i < bins),
        }
    }

    /// A bin's name on a chart: `0.3–0.4`, or the class or segment name.
    pub fn bin_name(&self, bin: usize) -> String {
        match self.task {
            Task::BinaryClassification => {
                format!("{:.1}–{:.1}", bin as f64 / RANGE_BINS as f64, (bin + 1) as f64 / RANGE_BINS as f64)
            }
            Task::Regression => match self.regression_range() {
                Some((lo, hi)) => {
                    let step = (hi - lo) / RANGE_BINS as f64;
                    format!("{}–{}", short(lo + step * bin as f64), short(lo + step * (bin + 1) as f64))
                }
                None => bin.to_string(),
            },
            _ => self.class_name(bin as i64).map_or_else(|| bin.to_string(), str::to_owned),
        }
    }

    /// Checks the training distribution against the task's bins.
    pub(super) fn check_distribution(&self) -> Result<(), String> {
        let Some(d) = &self.training_distribution else { return Ok(()) };
        if self.task == Task::Regression && self.regression_range().is_none() {
            return Err("training_distribution: a regression's distribution gives min and max, min below max".into());
        }
        let bins = self.bins();
        if d.shares.len() != bins {
            return Err(format!(
                "training_distribution.shares: this model's predictions fall in {bins} bins, not {}",
                d.shares.len()
            ));
        }
        if d.shares.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err("training_distribution.shares: each share is a number from 0 to 1".into());
        }
        let sum: f64 = d.shares.iter().sum();
        if (sum - 1.0).abs() > 0.01 {
            return Err(format!("training_distribution.shares add up to {sum:.3}, not 1"));
        }
        Ok(())
    }
}

fn short(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.2}") }
}

/// The latency bucket of a request taking `micros` µs: quarter powers of two (each bucket about
/// 19% wider than the last), so a p50 of a tenth of a millisecond reads as such.
pub fn latency_bucket(micros: u64) -> i32 {
    (f64::log2(micros.max(1) as f64) * 4.0).floor() as i32
}

/// The upper bound of latency bucket `bucket`, in µs.
pub fn bucket_bound(bucket: i32) -> f64 {
    f64::powf(2.0, f64::from(bucket + 1) / 4.0)
}

/// The latency under which `percent` of requests were answered, from counts per bucket, as the
/// bucket's upper bound in µs; `None` without requests.
pub fn latency_percentile(buckets: &[(i32, i64)], percent: u32) -> Option<f64> {
    crate::keys::percentile_bucket(buckets, percent).map(bucket_bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::signature::tests::CHURN;

    fn scored(p: &[f32]) -> Scored<'_> {
        Scored { label: None, probabilities: p, value: None }
    }

    #[test]
    fn a_binary_model_bins_its_positive_probability_in_tenths() {
        let s = Signature::parse(CHURN).unwrap();
        assert_eq!(s.bins(), 10);
        assert_eq!(s.bin(scored(&[0.69, 0.31])), Some(3));
        assert_eq!(s.bin(scored(&[0.0, 1.0])), Some(9));
        assert_eq!(s.bin(scored(&[1.0, 0.0])), Some(0));
        assert_eq!(s.bin(scored(&[0.5, f32::NAN])), None);
        assert_eq!(s.bin(scored(&[0.5])), None);
        assert_eq!(s.bin_name(3), "0.3–0.4");
    }

    #[test]
    fn a_clustering_bins_by_segment_and_a_regression_by_its_training_range() {
        let mut s = Signature::parse(CHURN).unwrap();
        s.task = Task::Clustering;
        s.outputs.probabilities = None;
        assert_eq!(s.bins(), 2);
        assert_eq!(s.bin(Scored { label: Some(1), probabilities: &[], value: None }), Some(1));
        assert_eq!(s.bin(Scored { label: Some(2), probabilities: &[], value: None }), None);
        assert_eq!(s.bin_name(1), "yes");

        s.task = Task::Regression;
        assert_eq!(s.bins(), 0, "no training range, nothing counted");
        s.training_distribution = Some(Distribution { shares: vec![0.1; 10], min: Some(0.0), max: Some(1000.0) });
        assert_eq!(s.bins(), 10);
        let at = |v: f32| s.bin(Scored { label: None, probabilities: &[], value: Some(v) });
        assert_eq!((at(250.0), at(-5.0), at(5000.0)), (Some(2), Some(0), Some(9)));
        assert_eq!(s.bin_name(2), "200–300");
    }

    #[test]
    fn a_training_distribution_fits_the_bins_and_adds_up_to_one() {
        let with = |shares: &str| {
            CHURN.replace("metrics:", &format!("training_distribution: {{ shares: {shares} }}\nmetrics:"))
        };
        let ten = "[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]";
        assert!(Signature::parse(&with(ten)).unwrap().training_distribution.is_some());
        for (shares, expected) in [
            ("[0.5, 0.5]", "fall in 10 bins, not 2"),
            ("[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2]", "add up to 1.100"),
            ("[-0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]", "a number from 0 to 1"),
        ] {
            match Signature::parse(&with(shares)) {
                Err(crate::models::SignatureError::Invalid(m)) => assert!(m.contains(expected), "{expected}: {m}"),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn latency_buckets_are_quarter_powers_of_two() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(1), 0);
        assert_eq!(latency_bucket(100), 26);
        assert!(bucket_bound(latency_bucket(100)) >= 100.0);
        assert!(bucket_bound(latency_bucket(100)) < 120.0);
        assert_eq!(latency_percentile(&[], 50), None);
        // 90 requests near 100 µs, 10 near 2 ms.
        let b = [(latency_bucket(100), 90), (latency_bucket(2_000), 10)];
        assert!(latency_percentile(&b, 50).unwrap() < 120.0);
        assert!(latency_percentile(&b, 95).unwrap() >= 2_000.0);
    }
}
