//! The SQL each step kind becomes, over the earlier steps registered as tables by name. Every name
//! from the file is quoted as an identifier and every value as a literal, so a column called
//! `select` or a value with a quote in it is only that.

use crate::{RunError, failed, refuse};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use domain::pipeline::{Aggregate, Check, Clean, ColumnType, OnError};

pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn sql_type(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Text => "VARCHAR",
        ColumnType::Integer => "BIGINT",
        ColumnType::Decimal => "DECIMAL(38, 6)",
        ColumnType::Float => "DOUBLE",
        ColumnType::Boolean => "BOOLEAN",
        ColumnType::Date => "DATE",
        ColumnType::Timestamp => "TIMESTAMP",
    }
}

fn type_name(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Text => "text",
        ColumnType::Integer => "whole number",
        ColumnType::Decimal => "decimal number",
        ColumnType::Float => "number",
        ColumnType::Boolean => "true or false",
        ColumnType::Date => "date",
        ColumnType::Timestamp => "timestamp",
    }
}

/// The first row of a query, as text (`None` for an empty cell).
async fn first_row(ctx: &SessionContext, step: &str, query: &str) -> Result<Vec<Option<String>>, RunError> {
    let batches = ctx.sql(query).await.map_err(failed(step))?.collect().await.map_err(failed(step))?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(Vec::new());
    };
    batch
        .columns()
        .iter()
        .map(|c| {
            if c.is_null(0) {
                Ok(None)
            } else {
                array_value_to_string(c, 0).map(Some).map_err(|e| failed(step)(e.into()))
            }
        })
        .collect()
}

/// How many rows of `table` match `condition`, and one of `sample`'s values among them.
async fn count_where(
    ctx: &SessionContext,
    step: &str,
    table: &str,
    condition: &str,
    sample: &str,
) -> Result<(u64, Option<String>), RunError> {
    let query = format!(
        "SELECT CAST(count(*) AS BIGINT), CAST(min(CAST({sample} AS VARCHAR)) AS VARCHAR) FROM {} WHERE {condition}",
        ident(table)
    );
    let row = first_row(ctx, step, &query).await?;
    let count = row.first().cloned().flatten().and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((count, row.get(1).cloned().flatten()))
}

/// Refuses the run if a `refuse` cast's column has a value it cannot convert, naming the column,
/// how many and one of them: every such column counted in one pass over `table`.
async fn unconvertible(
    ctx: &SessionContext,
    step: &str,
    table: &str,
    casts: &[(&String, ColumnType, String)],
) -> Result<(), RunError> {
    if casts.is_empty() {
        return Ok(());
    }
    let counts: Vec<String> = casts
        .iter()
        .map(|(name, _, condition)| {
            format!(
                "CAST(count(*) FILTER (WHERE {condition}) AS BIGINT), \
                 CAST(min(CAST({} AS VARCHAR)) FILTER (WHERE {condition}) AS VARCHAR)",
                ident(name)
            )
        })
        .collect();
    let row = first_row(ctx, step, &format!("SELECT {} FROM {}", counts.join(", "), ident(table))).await?;
    for (i, (name, to, _)) in casts.iter().enumerate() {
        let n: u64 = row.get(2 * i).cloned().flatten().and_then(|c| c.parse().ok()).unwrap_or(0);
        if n > 0 {
            let sample = row.get(2 * i + 1).cloned().flatten().unwrap_or_default();
            return Err(refuse(
                step,
                format!("column `{name}`: {n} value(s) are not a {}, for example `{sample}`", type_name(*to)),
            ));
        }
    }
    Ok(())
}

/// `clean`: trim, convert, fill defaults and rename each column, then keep the rows the filter
/// admits and one row per dedupe key; `required` columns must then have a value in every row.
/// A value a `refuse` cast cannot convert fails the run, naming the column and the value.
pub(crate) async fn clean(
    ctx: &SessionContext,
    step: &str,
    c: &Clean,
    fill: &(dyn Fn(&str) -> String + Sync),
) -> Result<DataFrame, RunError> {
    let input = c.input.value.as_str();
    let schema = ctx.table(input).await.map_err(failed(step))?.schema().clone();
    let trim_all = c.trim.iter().any(|t| t == "*");
    let mut columns = Vec::new();
    let mut dropped = Vec::new();
    let mut refused = Vec::new();
    // The columns' names after `rename`, which `dedupe` names.
    let mut names = Vec::new();
    for field in schema.fields() {
        let name = field.name();
        let mut expr = ident(name);
        let text = matches!(field.data_type(), DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8);
        if (trim_all && text) || c.trim.iter().any(|t| t == name) {
            // A cell of blanks only is empty, as a person reading the sheet sees it.
            expr = format!("NULLIF(trim({expr}), '')");
        }
        if let Some(cast) = c.cast.get(name) {
            let t = sql_type(cast.to);
            let unconvertible = format!("{expr} IS NOT NULL AND TRY_CAST({expr} AS {t}) IS NULL");
            match cast.on_error {
                OnError::Refuse => refused.push((name, cast.to, unconvertible)),
                OnError::Drop => dropped.push(format!("NOT ({unconvertible})")),
                OnError::Null => {}
            }
            expr = format!("TRY_CAST({expr} AS {t})");
        }
        if let Some(default) = c.defaults.get(name) {
            expr = format!("COALESCE({expr}, {})", fill(default));
        }
        let renamed = c.rename.get(name).map_or(name.as_str(), String::as_str);
        columns.push(format!("{expr} AS {}", ident(renamed)));
        names.push(renamed);
    }
    unconvertible(ctx, step, input, &refused).await?;
    let mut query = format!("SELECT {} FROM {}", columns.join(", "), ident(input));
    if !dropped.is_empty() {
        query.push_str(&format!(" WHERE {}", dropped.join(" AND ")));
    }
    if let Some(filter) = &c.filter {
        query = format!("SELECT * FROM ({query}) WHERE {}", fill(&filter.value));
    }
    if let Some(key) = c.dedupe.iter().find(|k| !names.contains(&k.as_str())) {
        return Err(refuse(step, format!("the dedupe key `{key}` is not a column")));
    }
    let mut df = ctx.sql(&query).await.map_err(failed(step))?;
    if !c.dedupe.is_empty() {
        df = first_per_key(ctx, df, &c.dedupe).await.map_err(failed(step))?;
    }
    if !c.required.is_empty() {
        let made = df.cache().await.map_err(failed(step))?;
        for column in &c.required {
            let empty = made.clone().filter(datafusion::prelude::ident(column).is_null()).map_err(failed(step))?;
            let n = empty.count().await.map_err(failed(step))?;
            if n > 0 {
                return Err(refuse(step, format!("column `{column}` is required: {n} row(s) have no value")));
            }
        }
        return Ok(made);
    }
    Ok(df)
}

/// The first row of each key, in the order the rows come (each partition in order, the
/// partitions one after another: for one file, its order). Each batch's keys are hashed at once
/// (DataFusion's `create_hashes`, as its joins do); a row is compared with earlier rows only when
/// their hashes meet, so no key is copied out of its batch. The keys are shared among the
/// session's threads by their hash (a key's rows all meet in one thread, in order), which each
/// pass over every batch looking at their own rows only. Measured against the SQL it replaced (row
/// numbers, then the smallest per key: two hash passes) and against one thread in
/// docs/benchmarks.md.
async fn first_per_key(ctx: &SessionContext, df: DataFrame, keys: &[String]) -> datafusion::error::Result<DataFrame> {
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let partitions = df.collect_partitioned().await?;
    let columns: Vec<usize> = keys.iter().map(|k| schema.index_of(k)).collect::<Result<_, _>>()?;
    let threads = ctx.state().config().target_partitions().clamp(1, 64);
    // As many partitions as came in, for the steps after to read in parallel.
    let n = partitions.len().max(1);
    let batches: Vec<_> = partitions.into_iter().flatten().collect();
    let kept = tokio::task::spawn_blocking(move || keep_first(&batches, &columns, threads))
        .await
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))??;
    let mut out = vec![Vec::new(); n];
    for (i, batch) in kept.into_iter().enumerate() {
        out[i % n].push(batch);
    }
    let table = datafusion::datasource::MemTable::try_new(schema, out)?;
    ctx.read_table(std::sync::Arc::new(table))
}

/// `batches` without the rows whose key (the `columns`) an earlier row had, on `threads` threads.
fn keep_first(
    batches: &[datafusion::arrow::array::RecordBatch],
    columns: &[usize],
    threads: usize,
) -> datafusion::error::Result<Vec<datafusion::arrow::array::RecordBatch>> {
    use datafusion::arrow::array::{ArrayRef, BooleanArray, BooleanBufferBuilder, make_comparator};
    use datafusion::arrow::compute::{SortOptions, filter_record_batch};
    use datafusion::common::hash_utils::{RandomState, create_hashes};
    use std::collections::HashMap;

    let key_columns = |b: usize| -> Vec<ArrayRef> { columns.iter().map(|&c| batches[b].column(c).clone()).collect() };
    let same_key = |a: (usize, usize), b: (usize, usize)| -> datafusion::error::Result<bool> {
        for (x, y) in key_columns(a.0).iter().zip(key_columns(b.0).iter()) {
            // Two empty values are the same key (as GROUP BY has it).
            let (nx, ny) = (x.is_null(a.1), y.is_null(b.1));
            if nx || ny {
                if nx != ny {
                    return Ok(false);
                }
                continue;
            }
            if make_comparator(x.as_ref(), y.as_ref(), SortOptions::default())?(a.1, b.1).is_ne() {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let state = RandomState::with_seed(0x4d43_4d53);
    let hashes = crate::in_parallel::<_, datafusion::error::DataFusionError>(threads, batches.len(), |b| {
        let mut hashes = vec![0; batches[b].num_rows()];
        create_hashes(key_columns(b), &state, &mut hashes)?;
        Ok(hashes)
    })?;
    // A thread's keys: those whose hash has its number (a bit the hash map's buckets hardly use).
    let thread_of = |h: u64| (h >> 40) as usize % threads;
    let total: usize = hashes.iter().map(Vec::len).sum();
    // Each thread's rows that repeat an earlier row's key, in order.
    let repeats = crate::in_parallel::<_, datafusion::error::DataFusionError>(threads, threads, |thread| {
        // Hash → the first row with it; rows whose hash met an earlier different key, by hash.
        let mut first: HashMap<u64, (usize, usize), PassThrough> =
            HashMap::with_capacity_and_hasher(total / threads + 1, PassThrough);
        let mut more: HashMap<u64, Vec<(usize, usize)>, PassThrough> = HashMap::with_hasher(PassThrough);
        let mut repeats = Vec::new();
        for (b, hashes) in hashes.iter().enumerate() {
            for (r, &h) in hashes.iter().enumerate() {
                if thread_of(h) != thread {
                    continue;
                }
                let new = match first.get(&h) {
                    None => {
                        first.insert(h, (b, r));
                        true
                    }
                    Some(&earlier) if same_key(earlier, (b, r))? => false,
                    Some(_) => {
                        let others = more.entry(h).or_default();
                        let mut seen = false;
                        for &o in others.iter() {
                            if same_key(o, (b, r))? {
                                seen = true;
                                break;
                            }
                        }
                        if !seen {
                            others.push((b, r));
                        }
                        !seen
                    }
                };
                if !new {
                    repeats.push((b, r));
                }
            }
        }
        Ok(repeats)
    })?;
    let mut dropped: Vec<Vec<usize>> = vec![Vec::new(); batches.len()];
    for (b, r) in repeats.into_iter().flatten() {
        dropped[b].push(r);
    }
    crate::in_parallel::<_, datafusion::error::DataFusionError>(threads, batches.len(), |b| {
        if dropped[b].is_empty() {
            return Ok(batches[b].clone());
        }
        let mut keep = BooleanBufferBuilder::new(batches[b].num_rows());
        keep.append_n(batches[b].num_rows(), true);
        for &r in &dropped[b] {
            keep.set_bit(r, false);
        }
        Ok(filter_record_batch(&batches[b], &BooleanArray::new(keep.finish(), None))?)
    })
}

/// The hashes are hashes already: used as they are.
#[derive(Clone, Copy, Default)]
struct PassThrough;

impl std::hash::BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

#[derive(Default)]
struct PassThroughHasher(u64);

impl std::hash::Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `aggregate`: one row per group with the sums, count, extremes and distinct counts asked for.
pub(crate) fn aggregate(a: &Aggregate) -> String {
    let mut select: Vec<String> = a.group_by.iter().map(|g| ident(g)).collect();
    select.extend(a.sum.iter().map(|c| format!("sum({}) AS {}", ident(c), ident(c))));
    select.extend(a.count.iter().map(|c| format!("count(*) AS {}", ident(c))));
    select.extend(a.min.iter().map(|c| format!("min({}) AS {}", ident(c), ident(&format!("min_{c}")))));
    select.extend(a.max.iter().map(|c| format!("max({}) AS {}", ident(c), ident(&format!("max_{c}")))));
    select.extend(
        a.distinct.iter().map(|c| format!("count(DISTINCT {}) AS {}", ident(c), ident(&format!("distinct_{c}")))),
    );
    let mut query = format!("SELECT {} FROM {}", select.join(", "), ident(&a.input.value));
    if !a.group_by.is_empty() {
        let groups: Vec<String> = a.group_by.iter().map(|g| ident(g)).collect();
        query.push_str(&format!(" GROUP BY {}", groups.join(", ")));
    }
    query
}

/// `check`: each condition over the input step's rows; the first that fails stops the run.
/// `counts`: whether the row count is checked (not on a sample).
pub(crate) async fn check(ctx: &SessionContext, step: &str, c: &Check, counts: bool) -> Result<(), RunError> {
    let input = c.input.value.as_str();
    if let Some(range) = c.row_count.as_ref().filter(|_| counts) {
        let (n, _) = count_where(ctx, step, input, "TRUE", "1").await?;
        if range.min.is_some_and(|min| n < min) || range.max.is_some_and(|max| n > max) {
            let want = match (range.min, range.max) {
                (Some(min), Some(max)) => format!("between {min} and {max}"),
                (Some(min), None) => format!("at least {min}"),
                (None, Some(max)) => format!("at most {max}"),
                (None, None) => unreachable!("one bound is set"),
            };
            return Err(refuse(step, format!("`{input}` has {n} row(s); the check wants {want}")));
        }
    }
    for column in &c.not_null {
        let (n, _) = count_where(ctx, step, input, &format!("{} IS NULL", ident(column)), "1").await?;
        if n > 0 {
            return Err(refuse(step, format!("column `{column}` is empty in {n} row(s)")));
        }
    }
    if !c.unique.is_empty() {
        let keys: Vec<String> = c.unique.iter().map(|k| ident(k)).collect();
        let keys = keys.join(", ");
        let query = format!(
            "SELECT CAST(count(*) AS BIGINT) FROM (SELECT {keys} FROM {} GROUP BY {keys} HAVING count(*) > 1)",
            ident(input)
        );
        let n: u64 =
            first_row(ctx, step, &query).await?.first().cloned().flatten().and_then(|n| n.parse().ok()).unwrap_or(0);
        if n > 0 {
            return Err(refuse(step, format!("{n} value(s) of ({}) appear more than once", c.unique.join(", "))));
        }
    }
    for (column, accepted) in &c.accepted {
        let list: Vec<String> = accepted.iter().map(|v| literal(v)).collect();
        let condition =
            format!("{col} IS NOT NULL AND CAST({col} AS VARCHAR) NOT IN ({})", list.join(", "), col = ident(column));
        let (n, sample) = count_where(ctx, step, input, &condition, &ident(column)).await?;
        if n > 0 {
            return Err(refuse(
                step,
                format!(
                    "column `{column}` has {n} value(s) outside those accepted, for example `{}`",
                    sample.unwrap_or_default()
                ),
            ));
        }
    }
    for r in &c.references {
        let condition = format!(
            "{col} IS NOT NULL AND {col} NOT IN (SELECT {other} FROM {table})",
            col = ident(&r.column),
            other = ident(&r.step_column),
            table = ident(&r.step.value)
        );
        let (n, sample) = count_where(ctx, step, input, &condition, &ident(&r.column)).await?;
        if n > 0 {
            return Err(refuse(
                step,
                format!(
                    "column `{}` has {n} value(s) missing from `{}`.`{}`, for example `{}`",
                    r.column,
                    r.step.value,
                    r.step_column,
                    sample.unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(fresh) = &c.freshness {
        let query = format!(
            "SELECT CAST(max(CAST({col} AS TIMESTAMP)) >= now() - INTERVAL '{h} hours' AS VARCHAR), CAST(max({col}) AS VARCHAR) FROM {t}",
            col = ident(&fresh.column),
            h = fresh.max_age_hours,
            t = ident(input)
        );
        let row = first_row(ctx, step, &query).await?;
        if row.first().cloned().flatten().as_deref() != Some("true") {
            let newest = row.get(1).cloned().flatten().unwrap_or_else(|| "none".into());
            return Err(refuse(
                step,
                format!(
                    "column `{}`: the newest value ({newest}) is older than {} hours",
                    fresh.column, fresh.max_age_hours
                ),
            ));
        }
    }
    Ok(())
}
