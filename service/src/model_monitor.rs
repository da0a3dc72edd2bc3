//! What serving keeps of each prediction request: per version and day, requests by answer status
//! and latency bucket, every prediction's score bin (the drift chart), and, at the model's sample
//! rate (0 unless the data team sets it), whole predictions, instances included. Counted in memory
//! and written every two seconds by one task, so a request never waits on the database for it.
//! Nothing kept names a key, a partner or an address.

use crate::models::{Answer, Row};
use domain::models::{Instance, Scored, latency_bucket};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::Db;
use store::models::{MAX_SAMPLES_PER_DAY, Monitoring, NewSample};
use time::{Date, OffsetDateTime};

/// How often counts are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// At most this many instances of one sampled request are kept.
const SAMPLE_PER_REQUEST: usize = 10;

/// The instances of an answered request, as sent.
#[derive(Debug, Clone, Copy)]
pub enum Sent<'a> {
    /// A prediction request's JSON body, `{"instances": [{feature: value}, …], …}`: read again
    /// only when the request is sampled (the API reads instances straight into rows).
    Json(&'a [u8]),
    /// Rows of numbers in the signature's order (KServe tensors, the pages).
    Rows(&'a [f32]),
}

impl Sent<'_> {
    /// The first `n` instances as JSON objects, as the client would send them, each with its
    /// index (one that cannot be written is left out, not replaced by the next).
    fn instances(self, signature: &domain::models::Signature, n: usize) -> Vec<(usize, String)> {
        #[derive(serde::Deserialize)]
        struct Body<'a> {
            #[serde(borrow)]
            instances: Vec<Instance<'a>>,
        }
        match self {
            Sent::Json(body) => serde_json::from_slice::<Body>(body)
                .map(|b| {
                    let each = b.instances.iter().take(n).enumerate();
                    each.filter_map(|(i, x)| Some((i, serde_json::to_string(x).ok()?))).collect()
                })
                .unwrap_or_default(),
            Sent::Rows(rows) => rows
                .chunks(signature.width())
                .take(n)
                .enumerate()
                .filter_map(|(i, row)| Some((i, serde_json::to_string(&domain::models::decode(signature, row)).ok()?)))
                .collect(),
        }
    }
}

/// One request as the monitoring counts it.
pub struct Outcome<'a> {
    pub model: &'a str,
    pub version: i32,
    /// The HTTP status answered.
    pub status: u16,
    pub elapsed: Duration,
    /// The answer and what was sent, when there was one.
    pub answered: Option<(&'a Answer, Sent<'a>)>,
    /// The model's sample rate in percent, as last read.
    pub sample_percent: i32,
}

#[derive(Default)]
struct Counts {
    usage: HashMap<(Date, String, i32, i32, i32), i64>,
    scores: HashMap<(Date, String, i32, i32), i64>,
    samples: Vec<NewSample>,
    /// Per (model, version): the day and how many predictions were kept that day.
    kept: HashMap<(String, i32), (Date, usize)>,
    /// Per model: answered requests seen, to sample an even share of them.
    turns: HashMap<String, u64>,
    flushed: Option<Instant>,
}

impl Counts {
    /// How many of this answered request's `rows` predictions to keep: its turn decides whether it
    /// is sampled at all (at 10%, every tenth request; at 50%, every other), the day's allowance
    /// how many.
    fn sample_room(&mut self, o: &Outcome<'_>, day: Date, rows: usize) -> usize {
        let turn = self.turns.entry(o.model.to_owned()).or_default();
        *turn += 1;
        let percent = u64::try_from(o.sample_percent).unwrap_or(0);
        if (*turn * percent) / 100 == ((*turn - 1) * percent) / 100 {
            return 0;
        }
        let kept = self.kept.entry((o.model.to_owned(), o.version)).or_insert((day, 0));
        if kept.0 != day {
            *kept = (day, 0);
        }
        let room = MAX_SAMPLES_PER_DAY.saturating_sub(kept.1).min(SAMPLE_PER_REQUEST).min(rows);
        kept.1 += room;
        room
    }
}

#[derive(Default)]
pub(crate) struct Monitor {
    counts: Mutex<Counts>,
}

impl Monitor {
    /// Counts one request; returns whether a write is due.
    pub(crate) fn count(&self, o: &Outcome<'_>) -> bool {
        let now = OffsetDateTime::now_utc();
        let day = now.date();
        let bucket = latency_bucket(u64::try_from(o.elapsed.as_micros()).unwrap_or(u64::MAX));
        let bins = o.answered.map(|(answer, _)| {
            let signature = answer.model.inner.signature();
            let p = &answer.predictions;
            let mut bins = vec![0i64; signature.bins()];
            for i in 0..p.rows {
                let scored = Scored { label: p.label(i), probabilities: p.probabilities(i), value: p.value(i) };
                if let Some(b) = signature.bin(scored) {
                    bins[b] += 1;
                }
            }
            bins
        });
        let (due, room) = {
            let Ok(mut c) = self.counts.lock() else { return false };
            *c.usage.entry((day, o.model.to_owned(), o.version, i32::from(o.status), bucket)).or_default() += 1;
            for (bin, n) in bins.into_iter().flatten().enumerate().filter(|(_, n)| *n > 0) {
                *c.scores.entry((day, o.model.to_owned(), o.version, bin as i32)).or_default() += n;
            }
            let room = match o.answered {
                Some((answer, _)) => c.sample_room(o, day, answer.predictions.rows),
                None => 0,
            };
            let due = c.flushed.is_none_or(|at| at.elapsed() >= FLUSH_EVERY);
            if due {
                c.flushed = Some(Instant::now());
            }
            (due, room)
        };
        // What a sampled request keeps is made outside the lock (it reads the request again).
        if let Some((answer, sent)) = o.answered.filter(|_| room > 0) {
            let (signature, p) = (answer.model.inner.signature(), &answer.predictions);
            let samples: Vec<NewSample> = sent
                .instances(signature, room)
                .into_iter()
                .filter_map(|(i, instance)| {
                    let prediction = serde_json::to_string(&Row { signature, p, i }).ok()?;
                    Some(NewSample { model: o.model.to_owned(), version: o.version, at: now, instance, prediction })
                })
                .collect();
            if let Ok(mut c) = self.counts.lock() {
                c.samples.extend(samples);
            }
        }
        due
    }

    /// Writes what was counted since the last write.
    pub(crate) async fn flush(&self, db: &Db) {
        let taken = match self.counts.lock() {
            Ok(mut c) => Monitoring {
                usage: std::mem::take(&mut c.usage)
                    .into_iter()
                    .map(|((d, m, v, s, b), n)| (d, m, v, s, b, n))
                    .collect(),
                scores: std::mem::take(&mut c.scores).into_iter().map(|((d, m, v, b), n)| (d, m, v, b, n)).collect(),
                samples: std::mem::take(&mut c.samples),
            },
            Err(_) => return,
        };
        if taken.usage.is_empty() && taken.scores.is_empty() && taken.samples.is_empty() {
            return;
        }
        if let Err(e) = db.add_model_monitoring(&taken).await {
            tracing::warn!(error = %e, "model monitoring not recorded");
        }
    }
}
