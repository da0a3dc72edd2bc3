//! What pipelines read from MCMS itself: a month of the cost ledger in the warehouse's columns
//! (docs/batch-schema.md, the same as `mcms export`), and the partner statistics, as Arrow
//! columns made as the month is read (a month of a million entries is never held as entries).

use crate::batch;
use pipeline::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder,
};
use pipeline::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use pipeline::{Rows, RunError};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::costs::{CostSettings, StoredCost, YearMonth};
use store::pipelines::{NewRun, StartedVia};
use store::{Db, partners::DailyStats};
use time::Date;

/// Amounts carry four decimals (every ISO 4217 currency fits); exchange rates six.
const AMOUNT: DataType = DataType::Decimal128(20, 4);
const RATE: DataType = DataType::Decimal128(20, 6);
/// Entries per Arrow batch.
const PAGE: usize = 20_000;

/// MCMS's data for a run: the database, the ledger's settings and the company's date.
pub struct McmsData {
    pub db: Db,
    pub settings: CostSettings,
    pub today: Date,
}

/// A registered version scoring a `predict` step's rows.
struct Scoring(Arc<service::models::Loaded>);

impl pipeline::Scorer for Scoring {
    fn version(&self) -> i32 {
        self.0.version
    }
    fn signature(&self) -> &domain::models::Signature {
        self.0.inner.signature()
    }
    fn predict(&self, rows: &[f32]) -> Result<inference::Predictions, String> {
        self.0.inner.predict(rows).map_err(|e| e.to_string())
    }
}

#[async_trait::async_trait]
impl pipeline::Mcms for McmsData {
    /// The version asked for, or the production one (never a canary: a batch is scored by one
    /// version).
    async fn model(&self, name: &str, version: Option<i32>) -> Result<Arc<dyn pipeline::Scorer>, String> {
        let unavailable = |e: store::StoreError| format!("cannot read the model registry: {e}");
        let version = match version {
            Some(v) => v,
            None => {
                let model = self.db.model(name).await.map_err(unavailable)?;
                let model = model.ok_or_else(|| format!("there is no model {name}"))?;
                model.production.ok_or_else(|| format!("{name} has no production version yet"))?
            }
        };
        let serving = service::models::Serving::new(self.db.clone());
        let (loaded, _) = serving.pick(name, Some(version), None).await.map_err(|e| e.to_string())?;
        Ok(Arc::new(Scoring(loaded)))
    }

    async fn ledger(&self, month: &str, batch_check: bool, limit: Option<usize>) -> Result<Rows, String> {
        let month = YearMonth::parse(month).ok_or_else(|| format!("`{month}` is not a month (YYYY-MM)"))?;
        let unavailable = |e: store::StoreError| format!("cannot read the ledger: {e}");
        let mut check = match batch_check {
            true => {
                Some(batch::MonthCheck::start(&self.db, month, &self.settings, self.today).await.map_err(unavailable)?)
            }
            false => None,
        };
        // One read of the month: each entry is checked and added to the columns as it arrives.
        let schema = ledger_schema();
        let mut columns = LedgerColumns::new(self.settings.reporting_currency);
        let mut batches = Vec::new();
        let limit = limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.db
            .each_month_entry(month, limit, |c| {
                if let Some(check) = &mut check {
                    check.entry(&c);
                }
                columns.push(&c);
                if columns.len == PAGE {
                    batches.push(columns.finish(&schema));
                }
            })
            .await
            .map_err(unavailable)?;
        if let Some(check) = check.filter(|c| !c.reasons.is_empty()) {
            return Err(not_safe(month, &check.reasons));
        }
        if columns.len > 0 {
            batches.push(columns.finish(&schema));
        }
        let batches = batches.into_iter().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
        Ok(Rows { schema, batches })
    }

    async fn partner_stats(&self, from: &str, to: &str, limit: Option<usize>) -> Result<Rows, String> {
        let day = |text: &str| {
            Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)"))
        };
        let (from, to) = (day(from)?, day(to)?);
        if from > to {
            return Err(format!("the statistics' range ends ({to}) before it starts ({from})"));
        }
        let mut rows = self.db.stats_between(from, to).await.map_err(|e| format!("cannot read the statistics: {e}"))?;
        rows.truncate(limit.unwrap_or(usize::MAX));
        stats_rows(&rows).map_err(|e| e.to_string())
    }
}

/// A pipeline run as it is recorded.
pub struct Recorded {
    pub id: i64,
    pub outcome: Result<pipeline::Run, RunError>,
}

/// Which pipeline runs (its name, stored version if any, and text), and who or what started it.
pub struct Start<'a> {
    pub name: &'a str,
    pub version: Option<i32>,
    pub text: &'a str,
    pub by: Option<i64>,
    pub via: StartedVia,
}

/// Runs a pipeline and records the run: when it starts (with the text's SHA-256, the version and
/// each parameter's value), then finished with each step's rows, bytes, time and output, or
/// failed with the step and the reason (a file with problems fails as a whole, with no step).
pub async fn run_recorded(
    db: &Db,
    start: &Start<'_>,
    given: &BTreeMap<String, String>,
    settings: &pipeline::Settings,
    mcms: &dyn pipeline::Mcms,
) -> Result<Recorded, store::StoreError> {
    let id = record_start(db, start, given, settings.today).await?;
    let outcome = run_watched(db, id, start.text, given, settings, mcms).await;
    record_end(db, id, &outcome).await?;
    Ok(Recorded { id, outcome })
}

/// How often a run going on records how far it is and looks whether it was asked to stop.
pub const BEAT: std::time::Duration = std::time::Duration::from_secs(1);
/// A run recorded as running that has not beaten for this long is taken as abandoned: the
/// server running it stopped without recording its end.
pub const SILENT: time::Duration = time::Duration::minutes(2);

/// Runs the pipeline of the recorded run `id`, beating every [`BEAT`] meanwhile: the steps so far
/// are recorded for every instance to show, and a cancel asked on any instance (or the run ended
/// by another as abandoned) cancels it here. The beats run in a task of their own, so a slow
/// database never holds up the run.
pub async fn run_watched(
    db: &Db,
    id: i64,
    text: &str,
    given: &BTreeMap<String, String>,
    settings: &pipeline::Settings,
    mcms: &dyn pipeline::Mcms,
) -> Result<pipeline::Run, RunError> {
    let beats = tokio::spawn(beat(db.clone(), id, settings.progress.clone(), settings.cancel.clone()));
    let outcome = pipeline::run(text, given, settings, mcms).await;
    beats.abort();
    outcome
}

async fn beat(db: Db, id: i64, progress: pipeline::Progress, cancel: pipeline::CancellationToken) {
    use store::pipelines::Beat;
    let mut every = tokio::time::interval(BEAT);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        match db.beat_pipeline_run(id, &progress_json(&progress.snapshot())).await {
            Ok(Beat::Going) => {}
            Ok(Beat::CancelAsked) => cancel.cancel(),
            Ok(Beat::Ended) => {
                tracing::warn!(run = id, "a pipeline run was ended elsewhere as abandoned: it stops, writing nothing");
                cancel.cancel();
            }
            Err(e) => tracing::warn!(run = id, error = %e, "a pipeline run's progress could not be recorded"),
        }
    }
}

/// The steps of a run going on as the run page reads them (`LiveStep`).
fn progress_json(steps: &[pipeline::Live]) -> String {
    let steps: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| serde_json::json!({ "name": s.name, "kind": s.kind, "rows": s.rows, "done": s.done }))
        .collect();
    serde_json::Value::Array(steps).to_string()
}

/// Records a run as started: the text's SHA-256, the version, each parameter's value.
pub async fn record_start(
    db: &Db,
    start: &Start<'_>,
    given: &BTreeMap<String, String>,
    today: Date,
) -> Result<i64, store::StoreError> {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(start.text.as_bytes()));
    let params = match domain::pipeline::check(start.text, given) {
        Ok(checked) => pipeline::values(&checked, today),
        Err(_) => given.clone(),
    };
    let params = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    let new = NewRun {
        pipeline: start.name,
        file_sha256: &sha,
        params: &params,
        started_by: start.by,
        via: start.via,
        version: start.version,
    };
    db.start_pipeline_run(&new).await
}

/// Records how a run ended: each step, or the step that failed and why.
pub async fn record_end(db: &Db, id: i64, outcome: &Result<pipeline::Run, RunError>) -> Result<(), store::StoreError> {
    match outcome {
        Ok(run) => db.finish_pipeline_run(id, &steps_json(&run.steps), None).await,
        Err(RunError::Step { step, reason }) => db.finish_pipeline_run(id, "[]", Some((step, reason))).await,
        Err(e @ (RunError::Problems(_) | RunError::Cancelled)) => {
            db.finish_pipeline_run(id, "[]", Some(("", &e.to_string()))).await
        }
    }
}

fn steps_json(steps: &[pipeline::StepReport]) -> String {
    let steps: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name, "kind": s.kind, "rows_in": s.rows_in, "rows": s.rows, "bytes": s.bytes,
                "millis": s.millis, "wrote": s.wrote,
            })
        })
        .collect();
    serde_json::Value::Array(steps).to_string()
}

/// The batch check's reasons, the first few of them.
fn not_safe(month: YearMonth, reasons: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text =
        format!("{month} is not safe to load (the batch check): {}", reasons[..reasons.len().min(SHOWN)].join("; "));
    if reasons.len() > SHOWN {
        text.push_str(&format!("; and {} more (`mcms batch-check --month {month}` lists them)", reasons.len() - SHOWN));
    }
    text
}

fn field(name: &str, t: DataType, nullable: bool) -> Field {
    Field::new(name, t, nullable)
}

/// The warehouse's columns (`batch::COLUMNS`), typed.
pub fn ledger_schema() -> SchemaRef {
    let text = |name| field(name, DataType::Utf8, false);
    let columns = vec![
        field("entry_id", DataType::Int64, false),
        field("entry_date", DataType::Date32, false),
        text("game"),
        text("channel"),
        text("campaign"),
        text("country"),
        text("vendor"),
        text("cost_type"),
        text("currency"),
        field("amount", AMOUNT, false),
        field("amount_minor", DataType::Int64, false),
        field("units", DataType::Int64, true),
        text("invoice_number"),
        text("memo"),
        field("vat_included", DataType::Boolean, false),
        field("corrects_entry_id", DataType::Int64, true),
        text("reporting_currency"),
        field("reporting_amount", AMOUNT, false),
        field("reporting_amount_minor", DataType::Int64, false),
        field("fx_rate", RATE, true),
        field("fx_date", DataType::Date32, true),
        field("fx_source", DataType::Utf8, true),
        field("version", DataType::Int64, false),
    ];
    debug_assert!(columns.iter().map(Field::name).eq(batch::COLUMNS.iter()));
    Arc::new(Schema::new(columns))
}

fn days(date: Date) -> i32 {
    date.to_julian_day() - 2_440_588 // 1970-01-01
}

/// Minor units as a decimal with four places.
fn four_places(minor: i64, currency: domain::Currency) -> i128 {
    i128::from(minor) * 10i128.pow(4u32.saturating_sub(u32::from(currency.minor_units())))
}

/// The ledger's columns being built, a batch at a time.
struct LedgerColumns {
    reporting: domain::Currency,
    len: usize,
    id: Int64Builder,
    date: Date32Builder,
    /// game, channel, campaign, country, vendor, cost_type, currency
    codes: [StringBuilder; 7],
    amount: Decimal128Builder,
    amount_minor: Int64Builder,
    units: Int64Builder,
    invoice: StringBuilder,
    memo: StringBuilder,
    vat: BooleanBuilder,
    corrects: Int64Builder,
    reporting_code: StringBuilder,
    reporting_amount: Decimal128Builder,
    reporting_minor: Int64Builder,
    fx_rate: Decimal128Builder,
    fx_date: Date32Builder,
    fx_source: StringBuilder,
    version: Int64Builder,
}

impl LedgerColumns {
    fn new(reporting: domain::Currency) -> LedgerColumns {
        let text = || StringBuilder::new();
        LedgerColumns {
            reporting,
            len: 0,
            id: Int64Builder::new(),
            date: Date32Builder::new(),
            codes: std::array::from_fn(|_| text()),
            amount: Decimal128Builder::new(),
            amount_minor: Int64Builder::new(),
            units: Int64Builder::new(),
            invoice: text(),
            memo: text(),
            vat: BooleanBuilder::new(),
            corrects: Int64Builder::new(),
            reporting_code: text(),
            reporting_amount: Decimal128Builder::new(),
            reporting_minor: Int64Builder::new(),
            fx_rate: Decimal128Builder::new(),
            fx_date: Date32Builder::new(),
            fx_source: text(),
            version: Int64Builder::new(),
        }
    }

    fn push(&mut self, c: &StoredCost) {
        let e = &c.entry;
        self.len += 1;
        self.id.append_value(c.id);
        self.date.append_value(days(e.date));
        let codes = [&e.game, &e.channel, &e.campaign, &e.country, &e.vendor, &e.cost_type];
        for (builder, value) in self.codes.iter_mut().zip(codes) {
            builder.append_value(value);
        }
        self.codes[6].append_value(e.amount.currency.code());
        self.amount.append_value(four_places(e.amount.minor, e.amount.currency));
        self.amount_minor.append_value(e.amount.minor);
        self.units.append_option(e.units);
        self.invoice.append_value(&e.invoice_number);
        self.memo.append_value(&e.memo);
        self.vat.append_value(e.vat_included);
        self.corrects.append_option(e.corrects);
        self.reporting_code.append_value(self.reporting.code());
        self.reporting_amount.append_value(four_places(e.reporting_minor, self.reporting));
        self.reporting_minor.append_value(e.reporting_minor);
        self.fx_rate.append_option(e.fx_micros.map(i128::from));
        self.fx_date.append_option(e.fx_date.map(days));
        self.fx_source.append_option(c.fx_source.as_deref());
        self.version.append_value(i64::from(c.version));
    }

    /// The rows pushed since the last batch, as a batch; the builders start again empty.
    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, pipeline::arrow::error::ArrowError> {
        self.len = 0;
        let decimal = |b: &mut Decimal128Builder, t: &DataType| -> Result<ArrayRef, _> {
            let DataType::Decimal128(p, s) = t else { unreachable!("a decimal type") };
            Ok::<ArrayRef, pipeline::arrow::error::ArrowError>(Arc::new(b.finish().with_precision_and_scale(*p, *s)?))
        };
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.id.finish()), Arc::new(self.date.finish())];
        columns.extend(self.codes.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.extend([
            decimal(&mut self.amount, &AMOUNT)?,
            Arc::new(self.amount_minor.finish()),
            Arc::new(self.units.finish()),
            Arc::new(self.invoice.finish()),
            Arc::new(self.memo.finish()),
            Arc::new(self.vat.finish()),
            Arc::new(self.corrects.finish()),
            Arc::new(self.reporting_code.finish()),
            decimal(&mut self.reporting_amount, &AMOUNT)?,
            Arc::new(self.reporting_minor.finish()),
            decimal(&mut self.fx_rate, &RATE)?,
            Arc::new(self.fx_date.finish()),
            Arc::new(self.fx_source.finish()),
            Arc::new(self.version.finish()),
        ]);
        RecordBatch::try_new(schema.clone(), columns)
    }
}

fn stats_rows(rows: &[DailyStats]) -> Result<Rows, pipeline::arrow::error::ArrowError> {
    let n = rows.len();
    let mut game = StringBuilder::with_capacity(n, n * 8);
    let mut channel = StringBuilder::with_capacity(n, n * 8);
    let mut day = Date32Builder::with_capacity(n);
    let mut numbers: Vec<Int64Builder> = (0..4).map(|_| Int64Builder::with_capacity(n)).collect();
    let mut currency = StringBuilder::with_capacity(n, n * 3);
    for r in rows {
        game.append_value(&r.game);
        channel.append_value(&r.channel);
        day.append_value(days(r.day));
        for (b, v) in numbers.iter_mut().zip([r.new_users, r.daily_active, r.paying_users, r.revenue_minor]) {
            b.append_value(v);
        }
        currency.append_value(&r.currency);
    }
    let mut fields = vec![
        field("game", DataType::Utf8, false),
        field("channel", DataType::Utf8, false),
        field("day", DataType::Date32, false),
    ];
    fields.extend(
        ["new_users", "daily_active", "paying_users", "revenue_minor"].map(|name| field(name, DataType::Int64, false)),
    );
    fields.push(field("currency", DataType::Utf8, false));
    let mut columns: Vec<ArrayRef> = vec![Arc::new(game.finish()), Arc::new(channel.finish()), Arc::new(day.finish())];
    columns.extend(numbers.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.push(Arc::new(currency.finish()));
    Rows::one(fields, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_get_four_places_whatever_their_currency() {
        let krw = domain::Currency::from_code("KRW").unwrap();
        let usd = domain::Currency::from_code("USD").unwrap();
        assert_eq!(four_places(1_200, krw), 12_000_000);
        assert_eq!(four_places(123_456, usd), 12_345_600);
        assert_eq!(days(time::macros::date!(1970 - 01 - 02)), 1);
    }
}
