//! What pipelines read from MCMS itself: a month of the cost ledger in the warehouse's columns
//! (docs/batch-schema.md, the same as `mcms export`), and the partner statistics, as Arrow
//! columns made page by page (a month of a million entries is never held as entries at once).

use crate::batch;
use pipeline::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder,
};
use pipeline::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use pipeline::{Rows, RunError};
use std::collections::BTreeMap;
use std::sync::Arc;
use store::costs::{CostFilter, CostSettings, StoredCost, YearMonth};
use store::pipelines::{NewRun, StartedVia};
use store::{Db, partners::DailyStats};
use time::Date;

/// Amounts carry four decimals (every ISO 4217 currency fits); exchange rates six.
const AMOUNT: DataType = DataType::Decimal128(20, 4);
const RATE: DataType = DataType::Decimal128(20, 6);
/// Entries read from the database at a time; each page becomes one Arrow batch.
const PAGE: i64 = 20_000;

/// MCMS's data for a run: the database, the ledger's settings and the company's date.
pub struct McmsData {
    pub db: Db,
    pub settings: CostSettings,
    pub today: Date,
}

#[async_trait::async_trait]
impl pipeline::Mcms for McmsData {
    async fn ledger(&self, month: &str, batch_check: bool, limit: Option<usize>) -> Result<Rows, String> {
        let month = YearMonth::parse(month).ok_or_else(|| format!("`{month}` is not a month (YYYY-MM)"))?;
        let unavailable = |e: store::StoreError| format!("cannot read the ledger: {e}");
        if batch_check {
            let reasons = batch::check(&self.db, month, &self.settings, self.today).await.map_err(unavailable)?;
            if !reasons.is_empty() {
                return Err(not_safe(month, &reasons));
            }
        }
        let schema = ledger_schema();
        let filter = CostFilter { month: Some(month), ..Default::default() };
        let mut batches = Vec::new();
        let mut after = None;
        let mut left = limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        while left > 0 {
            let page = self.db.list_costs(&filter, after, PAGE.min(left)).await.map_err(unavailable)?;
            left -= page.rows.len() as i64;
            if !page.rows.is_empty() {
                batches.push(ledger_batch(&schema, &page.rows, &self.settings).map_err(|e| e.to_string())?);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
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

/// Runs a pipeline file and records the run: when it starts (with the file's SHA-256 and each
/// parameter's value), then finished with each step's rows, time and output, or failed with the
/// step and the reason (a file with problems fails as a whole, with no step).
#[allow(clippy::too_many_arguments)]
pub async fn run_recorded(
    db: &Db,
    name: &str,
    text: &str,
    given: &BTreeMap<String, String>,
    settings: &pipeline::Settings,
    mcms: &dyn pipeline::Mcms,
    started_by: Option<i64>,
    via: StartedVia,
) -> Result<Recorded, store::StoreError> {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let params = match domain::pipeline::check(text, given) {
        Ok(checked) => pipeline::values(&checked, settings.today),
        Err(_) => given.clone(),
    };
    let params = serde_json::to_string(&params).unwrap_or_else(|_| "{}".into());
    let id =
        db.start_pipeline_run(&NewRun { pipeline: name, file_sha256: &sha, params: &params, started_by, via }).await?;
    let outcome = pipeline::run(text, given, settings, mcms).await;
    match &outcome {
        Ok(run) => db.finish_pipeline_run(id, &steps_json(&run.steps), None).await?,
        Err(RunError::Step { step, reason }) => db.finish_pipeline_run(id, "[]", Some((step, reason))).await?,
        Err(e @ RunError::Problems(_)) => db.finish_pipeline_run(id, "[]", Some(("", &e.to_string()))).await?,
    }
    Ok(Recorded { id, outcome })
}

fn steps_json(steps: &[pipeline::StepReport]) -> String {
    let steps: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| {
            serde_json::json!({ "name": s.name, "kind": s.kind, "rows": s.rows, "millis": s.millis, "wrote": s.wrote })
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

fn ledger_batch(
    schema: &SchemaRef,
    rows: &[StoredCost],
    settings: &CostSettings,
) -> Result<RecordBatch, pipeline::arrow::error::ArrowError> {
    let n = rows.len();
    let reporting = settings.reporting_currency;
    let mut id = Int64Builder::with_capacity(n);
    let mut date = Date32Builder::with_capacity(n);
    let mut texts: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::with_capacity(n, n * 12)).collect();
    let mut amount = Decimal128Builder::with_capacity(n);
    let mut amount_minor = Int64Builder::with_capacity(n);
    let mut units = Int64Builder::with_capacity(n);
    let mut invoice = StringBuilder::with_capacity(n, n * 8);
    let mut memo = StringBuilder::with_capacity(n, n * 8);
    let mut vat = BooleanBuilder::with_capacity(n);
    let mut corrects = Int64Builder::with_capacity(n);
    let mut reporting_code = StringBuilder::with_capacity(n, n * 3);
    let mut reporting_amount = Decimal128Builder::with_capacity(n);
    let mut reporting_minor = Int64Builder::with_capacity(n);
    let mut fx_rate = Decimal128Builder::with_capacity(n);
    let mut fx_date = Date32Builder::with_capacity(n);
    let mut fx_source = StringBuilder::with_capacity(n, n * 4);
    let mut version = Int64Builder::with_capacity(n);
    for c in rows {
        let e = &c.entry;
        id.append_value(c.id);
        date.append_value(days(e.date));
        for (builder, value) in texts.iter_mut().zip([
            &e.game,
            &e.channel,
            &e.campaign,
            &e.country,
            &e.vendor,
            &e.cost_type,
            &e.amount.currency.code().to_owned(),
        ]) {
            builder.append_value(value);
        }
        amount.append_value(four_places(e.amount.minor, e.amount.currency));
        amount_minor.append_value(e.amount.minor);
        units.append_option(e.units);
        invoice.append_value(&e.invoice_number);
        memo.append_value(&e.memo);
        vat.append_value(e.vat_included);
        corrects.append_option(e.corrects);
        reporting_code.append_value(reporting.code());
        reporting_amount.append_value(four_places(e.reporting_minor, reporting));
        reporting_minor.append_value(e.reporting_minor);
        fx_rate.append_option(e.fx_micros.map(i128::from));
        fx_date.append_option(e.fx_date.map(days));
        fx_source.append_option(c.fx_source.as_deref());
        version.append_value(i64::from(c.version));
    }
    let decimal = |b: &mut Decimal128Builder, t: &DataType| -> Result<ArrayRef, _> {
        let DataType::Decimal128(p, s) = t else { unreachable!("a decimal type") };
        Ok::<ArrayRef, pipeline::arrow::error::ArrowError>(Arc::new(b.finish().with_precision_and_scale(*p, *s)?))
    };
    let mut columns: Vec<ArrayRef> = vec![Arc::new(id.finish()), Arc::new(date.finish())];
    columns.extend(texts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.extend([
        decimal(&mut amount, &AMOUNT)?,
        Arc::new(amount_minor.finish()),
        Arc::new(units.finish()),
        Arc::new(invoice.finish()),
        Arc::new(memo.finish()),
        Arc::new(vat.finish()),
        Arc::new(corrects.finish()),
        Arc::new(reporting_code.finish()),
        decimal(&mut reporting_amount, &AMOUNT)?,
        Arc::new(reporting_minor.finish()),
        decimal(&mut fx_rate, &RATE)?,
        Arc::new(fx_date.finish()),
        Arc::new(fx_source.finish()),
        Arc::new(version.finish()),
    ]);
    RecordBatch::try_new(schema.clone(), columns)
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
