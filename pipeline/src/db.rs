//! Databases as sources and sinks: PostgreSQL (and Redshift, which speaks its protocol) and SQLite.
//!
//! A source's query is described first (its columns and their types; a text holding more than one
//! statement is refused there), then read in a read-only transaction. PostgreSQL sends each value
//! as text (the simple query protocol, which Redshift speaks too), and each column becomes the
//! Arrow type its database type maps to; SQLite's columns take the type their values share.
//!
//! A table sink copies a step's rows into a temporary table, then moves them into the target in
//! the same transaction (append; replace the partitions the rows name; or upsert on keys). The
//! transaction is committed only once every sink of the run has written (`Pending`).

use crate::{Rows, Secrets, refuse};
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use domain::pipeline::{Connection, TableMode};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Column, Executor, Row, TypeInfo, ValueRef};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long opening a connection may take before the step fails (a server that is down).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub(crate) enum Database {
    Postgres { pool: sqlx::PgPool, redshift: bool },
    Sqlite(sqlx::SqlitePool),
}

/// Opens a connection named by a step. `writes`: a sink (a SQLite file is made if missing).
pub(crate) async fn open(
    connection: &Connection,
    secrets: &Secrets,
    base_dir: &Path,
    step: &str,
    writes: bool,
) -> Result<Database, crate::RunError> {
    let unreachable = |e: sqlx::Error| refuse(step, format!("cannot open the database: {e}"));
    match connection {
        Connection::Postgres { url_env } | Connection::Redshift { url_env } => {
            let url = secrets.get(url_env).ok_or_else(|| {
                refuse(step, format!("the environment variable `{url_env}` (the connection's URL) is not set"))
            })?;
            // The message of a URL that does not parse could quote it, password and all.
            let options: PgConnectOptions = url.parse().map_err(|_| {
                refuse(step, format!("the environment variable `{url_env}` does not hold a postgres:// URL"))
            })?;
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_with(options.application_name("mcms-pipeline"))
                .await
                .map_err(unreachable)?;
            Ok(Database::Postgres { pool, redshift: matches!(connection, Connection::Redshift { .. }) })
        }
        Connection::Sqlite { path } => {
            let path = crate::sinks::inside(base_dir, path, step)?;
            let options = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(writes)
                .read_only(!writes)
                .busy_timeout(CONNECT_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Database::Sqlite(pool))
        }
        Connection::Folder { .. } | Connection::S3 { .. } => Err(refuse(step, "this step needs a database".into())),
    }
}

/// The rows of one query (a `table` source is `SELECT * FROM` it).
pub(crate) async fn read(db: &Database, query: &str, step: &str) -> Result<Rows, crate::RunError> {
    let failed = |e: sqlx::Error| refuse(step, format!("the query failed: {}", message(&e)));
    match db {
        Database::Postgres { pool, redshift } => {
            let mut tx = pool.begin().await.map_err(failed)?;
            // Times in UTC and ISO dates, so the text converts without guessing; Redshift has
            // no read-only transactions (its users' grants are the guard there).
            let setup: &[&str] = if *redshift {
                &["SET timezone TO 'UTC'", "SET datestyle TO ISO"]
            } else {
                &["SET TRANSACTION READ ONLY", "SET LOCAL timezone TO 'UTC'", "SET LOCAL datestyle TO ISO"]
            };
            for statement in setup {
                sqlx::query(statement).execute(&mut *tx).await.map_err(failed)?;
            }
            let described = (&mut *tx).describe(query).await.map_err(failed)?;
            let columns: Vec<(String, String)> =
                described.columns().iter().map(|c| (c.name().to_owned(), c.type_info().name().to_owned())).collect();
            // Through the connection, not `RawSql::fetch_all`: its bounds make the future unsendable.
            let rows = sqlx::Executor::fetch_all(&mut *tx, sqlx::raw_sql(query)).await.map_err(failed)?;
            let mut texts = vec![Vec::with_capacity(rows.len()); columns.len()];
            for row in &rows {
                for (i, cells) in texts.iter_mut().enumerate() {
                    let value = row.try_get_raw(i).map_err(failed)?;
                    cells.push(if value.is_null() {
                        None
                    } else {
                        Some(value.as_str().map_err(|e| refuse(step, e.to_string()))?.to_owned())
                    });
                }
            }
            drop(rows);
            tx.rollback().await.map_err(failed)?;
            let mut fields = Vec::with_capacity(columns.len());
            let mut arrays = Vec::with_capacity(columns.len());
            for ((name, pg_type), cells) in columns.into_iter().zip(texts) {
                let array =
                    postgres_array(&pg_type, cells).map_err(|e| refuse(step, format!("column `{name}`: {e}")))?;
                fields.push(Field::new(name, array.data_type().clone(), true));
                arrays.push(array);
            }
            Rows::one(fields, arrays).map_err(|e| refuse(step, e.to_string()))
        }
        Database::Sqlite(pool) => {
            let mut conn = pool.acquire().await.map_err(failed)?;
            let described = (&mut *conn).describe(query).await.map_err(failed)?;
            let names: Vec<String> = described.columns().iter().map(|c| c.name().to_owned()).collect();
            let rows = sqlx::query(query).fetch_all(&mut *conn).await.map_err(failed)?;
            let mut fields = Vec::with_capacity(names.len());
            let mut arrays = Vec::with_capacity(names.len());
            for (i, name) in names.into_iter().enumerate() {
                let array = sqlite_array(&rows, i).map_err(|e| refuse(step, format!("column `{name}`: {e}")))?;
                fields.push(Field::new(name, array.data_type().clone(), true));
                arrays.push(array);
            }
            Rows::one(fields, arrays).map_err(|e| refuse(step, e.to_string()))
        }
    }
}

/// The database's own words, without sqlx's wrapping.
fn message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// PostgreSQL's text for a column, as the Arrow type of its database type (text otherwise).
fn postgres_array(pg_type: &str, cells: Vec<Option<String>>) -> Result<ArrayRef, String> {
    let target = match pg_type {
        "INT2" | "INT4" | "INT8" | "OID" => DataType::Int64,
        "FLOAT4" | "FLOAT8" => DataType::Float64,
        "BOOL" => DataType::Boolean,
        "DATE" => DataType::Date32,
        "TIMESTAMP" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "TIMESTAMPTZ" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        "NUMERIC" => {
            if let Some(odd) = cells.iter().flatten().find(|v| v.parse::<f64>().map_or(true, |f| !f.is_finite())) {
                return Err(format!("`{odd}` is not a number a pipeline can carry"));
            }
            let scale =
                cells.iter().flatten().map(|v| v.split_once('.').map_or(0, |(_, d)| d.len())).max().unwrap_or(0);
            DataType::Decimal128(38, i8::try_from(scale.min(18)).unwrap_or(18))
        }
        _ => DataType::Utf8,
    };
    // `2026-11-01 03:04:05+00` (UTC, as set for the read) with an offset Arrow reads.
    let cells = if pg_type == "TIMESTAMPTZ" {
        cells.into_iter().map(|c| c.map(|v| if v.ends_with("+00") { format!("{v}:00") } else { v })).collect()
    } else {
        cells
    };
    let text: ArrayRef = Arc::new(StringArray::from(cells));
    convert(&text, &target)
}

/// A text column converted; a value that does not convert is an error, never a quiet empty cell.
fn convert(text: &ArrayRef, target: &DataType) -> Result<ArrayRef, String> {
    if target == &DataType::Utf8 {
        return Ok(text.clone());
    }
    let strict = CastOptions { safe: false, ..Default::default() };
    cast_with_options(text, target, &strict).map_err(|e| e.to_string())
}

/// SQLite's values of one column: whole numbers, numbers, or text, as its values are.
fn sqlite_array(rows: &[sqlx::sqlite::SqliteRow], i: usize) -> Result<ArrayRef, String> {
    let (mut integers, mut reals, mut texts) = (true, true, Vec::with_capacity(rows.len()));
    for row in rows {
        let value = row.try_get_raw(i).map_err(|e| e.to_string())?;
        if value.is_null() {
            texts.push(None);
            continue;
        }
        let text = match value.type_info().name() {
            "INTEGER" => row.try_get_unchecked::<i64, _>(i).map_err(|e| e.to_string())?.to_string(),
            "REAL" => {
                integers = false;
                row.try_get_unchecked::<f64, _>(i).map_err(|e| e.to_string())?.to_string()
            }
            "TEXT" => {
                integers = false;
                reals = false;
                row.try_get_unchecked::<String, _>(i).map_err(|e| e.to_string())?
            }
            _ => return Err("holds binary data (BLOB), which a pipeline does not read".into()),
        };
        texts.push(Some(text));
    }
    let target = if texts.iter().all(Option::is_none) {
        DataType::Utf8
    } else if integers {
        DataType::Int64
    } else if reals {
        DataType::Float64
    } else {
        DataType::Utf8
    };
    let text: ArrayRef = Arc::new(StringArray::from(texts));
    convert(&text, &target)
}

/// `name` or `schema.name`, each part quoted (the check has allowed only identifiers).
pub(crate) fn table_ident(table: &str) -> String {
    table.split('.').map(crate::sql::ident).collect::<Vec<_>>().join(".")
}

/// The column type a new table gets for an Arrow type.
fn column_type(t: &DataType, postgres: bool) -> String {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => "BIGINT".into(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "DOUBLE PRECISION".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("NUMERIC({}, {s})", (*p).min(38)),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, Some(_)) if postgres => "TIMESTAMPTZ".into(),
        DataType::Timestamp(_, _) => "TIMESTAMP".into(),
        _ => "TEXT".into(),
    }
}

/// A table sink's rows, written inside a transaction that is not committed yet.
pub(crate) struct Pending {
    pub step: String,
    pub rows: u64,
    tx: PendingTx,
}

enum PendingTx {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl Pending {
    pub async fn commit(self) -> Result<(), crate::RunError> {
        let result = match self.tx {
            PendingTx::Postgres(tx) => tx.commit().await,
            PendingTx::Sqlite(tx) => tx.commit().await,
        };
        result.map_err(|e| refuse(&self.step, format!("the table's transaction did not commit: {}", message(&e))))
    }

    pub async fn rollback(self) {
        let _ = match self.tx {
            PendingTx::Postgres(tx) => tx.rollback().await,
            PendingTx::Sqlite(tx) => tx.rollback().await,
        };
    }
}

/// What a table sink does, in SQL both databases read.
struct TableSql {
    create: String,
    stage: String,
    moves: Vec<String>,
    drop_stage: &'static str,
}

const STAGE: &str = "mcms_pipeline_stage";

fn table_sql(schema: &Schema, table: &str, mode: TableMode, keys: &[String], postgres: bool) -> TableSql {
    let target = table_ident(table);
    let stage = crate::sql::ident(STAGE);
    let names: Vec<String> = schema.fields().iter().map(|f| crate::sql::ident(f.name())).collect();
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .zip(&names)
        .map(|(f, name)| format!("{name} {}", column_type(f.data_type(), postgres)))
        .collect();
    let keys: Vec<String> = keys.iter().map(|k| crate::sql::ident(k)).collect();
    let mut definition = columns.join(", ");
    if mode == TableMode::Upsert {
        definition.push_str(&format!(", UNIQUE ({})", keys.join(", ")));
    }
    let list = names.join(", ");
    let insert = format!("INSERT INTO {target} ({list}) SELECT {list} FROM {stage}");
    let moves = match mode {
        TableMode::Append => vec![insert],
        TableMode::ReplacePartition => {
            let keys = keys.join(", ");
            vec![format!("DELETE FROM {target} WHERE ({keys}) IN (SELECT DISTINCT {keys} FROM {stage})"), insert]
        }
        TableMode::Upsert => {
            let updates: Vec<String> =
                names.iter().filter(|n| !keys.contains(n)).map(|n| format!("{n} = excluded.{n}")).collect();
            let action =
                if updates.is_empty() { "NOTHING".to_owned() } else { format!("UPDATE SET {}", updates.join(", ")) };
            // `WHERE true` tells SQLite's parser the ON CONFLICT is not a join's.
            vec![format!("{insert} WHERE true ON CONFLICT ({}) DO {action}", keys.join(", "))]
        }
    };
    TableSql {
        create: format!("CREATE TABLE IF NOT EXISTS {target} ({definition})"),
        stage: format!("CREATE TEMPORARY TABLE {stage} ({})", columns.join(", ")),
        moves,
        drop_stage: if postgres {
            "DROP TABLE pg_temp.mcms_pipeline_stage"
        } else {
            "DROP TABLE temp.mcms_pipeline_stage"
        },
    }
}

/// Writes a step's rows into `table` inside a transaction left open for [`Pending::commit`].
pub(crate) async fn stage_table(
    db: Database,
    rows: &Rows,
    table: &str,
    mode: TableMode,
    keys: &[String],
    step: &str,
) -> Result<Pending, crate::RunError> {
    let failed = |e: sqlx::Error| refuse(step, format!("writing `{table}` failed: {}", message(&e)));
    for key in keys {
        if rows.schema.field_with_name(key).is_err() {
            return Err(refuse(step, format!("the key column `{key}` is not among the rows' columns")));
        }
    }
    let count: usize = rows.batches.iter().map(RecordBatch::num_rows).sum();
    // Statements through `sqlx::query`: `raw_sql`'s execute makes the run's future unsendable.
    match db {
        Database::Postgres { pool, .. } => {
            let sql = table_sql(&rows.schema, table, mode, keys, true);
            let mut tx = pool.begin().await.map_err(failed)?;
            for statement in [&sql.create, &sql.stage] {
                sqlx::query(statement).execute(&mut *tx).await.map_err(failed)?;
            }
            let csv = to_csv(rows).map_err(|e| refuse(step, e))?;
            let names: Vec<String> = rows.schema.fields().iter().map(|f| crate::sql::ident(f.name())).collect();
            let copy = format!(
                "COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                crate::sql::ident(STAGE),
                names.join(", ")
            );
            let mut sink = tx.copy_in_raw(&copy).await.map_err(failed)?;
            sink.send(csv).await.map_err(failed)?;
            sink.finish().await.map_err(failed)?;
            for statement in sql.moves.iter().map(String::as_str).chain([sql.drop_stage]) {
                sqlx::query(statement).execute(&mut *tx).await.map_err(failed)?;
            }
            Ok(Pending { step: step.to_owned(), rows: count as u64, tx: PendingTx::Postgres(tx) })
        }
        Database::Sqlite(pool) => {
            let sql = table_sql(&rows.schema, table, mode, keys, false);
            let mut tx = pool.begin().await.map_err(failed)?;
            for statement in [&sql.create, &sql.stage] {
                sqlx::query(statement).execute(&mut *tx).await.map_err(failed)?;
            }
            let marks = vec!["?"; rows.schema.fields().len()].join(", ");
            let insert = format!("INSERT INTO {} VALUES ({marks})", crate::sql::ident(STAGE));
            for batch in &rows.batches {
                let columns = sqlite_columns(batch).map_err(|e| refuse(step, e))?;
                for r in 0..batch.num_rows() {
                    let mut q = sqlx::query(&insert);
                    for column in &columns {
                        q = match column {
                            Bound::Integer(a) => q.bind((!a.is_null(r)).then(|| a.value(r))),
                            Bound::Real(a) => q.bind((!a.is_null(r)).then(|| a.value(r))),
                            Bound::Boolean(a) => q.bind((!a.is_null(r)).then(|| a.value(r))),
                            Bound::Text(a) => q.bind((!a.is_null(r)).then(|| a.value(r).to_owned())),
                        };
                    }
                    q.execute(&mut *tx).await.map_err(failed)?;
                }
            }
            for statement in sql.moves.iter().map(String::as_str).chain([sql.drop_stage]) {
                sqlx::query(statement).execute(&mut *tx).await.map_err(failed)?;
            }
            Ok(Pending { step: step.to_owned(), rows: count as u64, tx: PendingTx::Sqlite(tx) })
        }
    }
}

/// A column as SQLite takes it: whole numbers, numbers, booleans, or text for everything else
/// (decimals keep every digit; dates and times as ISO 8601).
enum Bound {
    Integer(datafusion::arrow::array::Int64Array),
    Real(datafusion::arrow::array::Float64Array),
    Boolean(datafusion::arrow::array::BooleanArray),
    Text(StringArray),
}

fn sqlite_columns(batch: &RecordBatch) -> Result<Vec<Bound>, String> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};
    batch
        .columns()
        .iter()
        .map(|c| {
            let to = |t: &DataType| cast(c, t).map_err(|e| e.to_string());
            Ok(match c.data_type() {
                t if t.is_integer() => Bound::Integer(to(&DataType::Int64)?.as_primitive::<Int64Type>().clone()),
                t if t.is_floating() => Bound::Real(to(&DataType::Float64)?.as_primitive::<Float64Type>().clone()),
                DataType::Boolean => Bound::Boolean(c.as_boolean().clone()),
                _ => Bound::Text(text_column(c)?),
            })
        })
        .collect()
}

/// Any column as text, the way Arrow displays it (ISO dates, every decimal digit).
fn text_column(c: &ArrayRef) -> Result<StringArray, String> {
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(c.as_ref(), &options).map_err(|e| e.to_string())?;
    Ok((0..c.len()).map(|r| (!c.is_null(r)).then(|| formatter.value(r).to_string())).collect())
}

/// The rows as CSV for PostgreSQL's COPY: `\N` for an empty cell, so empty text stays text.
fn to_csv(rows: &Rows) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut writer =
            datafusion::arrow::csv::WriterBuilder::new().with_header(false).with_null("\\N".into()).build(&mut out);
        for batch in &rows.batches {
            writer.write(batch).map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

// ---- auto-ingest: the load history and change events ------------------------------------------

/// The load history's table, in the database the watch loads into, so a file's history row is
/// committed with its rows or not at all (its key refuses a second load of the same file).
const HISTORY: &str = "CREATE TABLE IF NOT EXISTS mcms_load_history (
    watch TEXT NOT NULL, file TEXT NOT NULL, etag TEXT NOT NULL, bytes BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL, outcome TEXT NOT NULL, error TEXT, arrived TEXT NOT NULL,
    started TEXT NOT NULL, finished TEXT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (watch, file, etag))";

const HISTORY_COLUMNS: &str = "file, etag, bytes, rows_loaded, outcome, error, arrived, started, finished";

fn stamp(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn unstamp(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

type HistoryRow = (String, String, i64, i64, String, Option<String>, String, String, String);

fn load_of(r: HistoryRow) -> domain::ingest::watch::Load {
    use domain::ingest::watch::{Load, Outcome};
    Load {
        file: r.0,
        etag: r.1,
        bytes: u64::try_from(r.2).unwrap_or(0),
        rows: u64::try_from(r.3).unwrap_or(0),
        outcome: Outcome::parse(&r.4).unwrap_or(Outcome::Skipped),
        error: r.5,
        arrived: unstamp(&r.6),
        started: unstamp(&r.7),
        finished: unstamp(&r.8),
    }
}

/// Makes the history table if missing and returns the watch's history, newest first (at most
/// `limit` rows; `None`: all).
pub(crate) async fn load_history(
    db: &Database,
    watch: &str,
    limit: Option<i64>,
) -> Result<Vec<domain::ingest::watch::Load>, String> {
    let limit = limit.unwrap_or(i64::MAX);
    let select = format!(
        "SELECT {HISTORY_COLUMNS} FROM mcms_load_history WHERE watch = $1 ORDER BY finished DESC, file DESC LIMIT $2"
    );
    let rows: Vec<HistoryRow> = match db {
        Database::Postgres { pool, .. } => {
            sqlx::query(HISTORY).execute(pool).await.map_err(|e| message(&e))?;
            sqlx::query_as(&select).bind(watch).bind(limit).fetch_all(pool).await
        }
        Database::Sqlite(pool) => {
            sqlx::query(HISTORY).execute(pool).await.map_err(|e| message(&e))?;
            sqlx::query_as(&select.replace('$', "?")).bind(watch).bind(limit).fetch_all(pool).await
        }
    }
    .map_err(|e| message(&e))?;
    Ok(rows.into_iter().map(load_of).collect())
}

/// Opens a transaction for one file's load.
pub(crate) async fn begin(db: &Database, step: &str) -> Result<Pending, crate::RunError> {
    let failed = |e: sqlx::Error| refuse(step, format!("cannot begin a transaction: {}", message(&e)));
    Ok(match db {
        Database::Postgres { pool, .. } => {
            Pending { step: step.to_owned(), rows: 0, tx: PendingTx::Postgres(pool.begin().await.map_err(failed)?) }
        }
        Database::Sqlite(pool) => {
            Pending { step: step.to_owned(), rows: 0, tx: PendingTx::Sqlite(pool.begin().await.map_err(failed)?) }
        }
    })
}

/// A JSON value's column type in a table made for change events.
fn json_column_type(v: &serde_json::Value, postgres: bool) -> &'static str {
    match v {
        serde_json::Value::Bool(_) => "BOOLEAN",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "BIGINT",
        serde_json::Value::Number(_) => "DOUBLE PRECISION",
        serde_json::Value::Object(_) | serde_json::Value::Array(_) if postgres => "JSONB",
        _ => "TEXT",
    }
}

impl Pending {
    /// Writes the file's history row: the same file (name and ETag) a second time is refused by
    /// the table's key, and the transaction with it.
    pub(crate) async fn record_load(&mut self, watch: &str, load: &domain::ingest::watch::Load) -> Result<(), String> {
        let insert = format!(
            "INSERT INTO mcms_load_history (watch, {HISTORY_COLUMNS}, latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let (bytes, rows) =
            (i64::try_from(load.bytes).unwrap_or(i64::MAX), i64::try_from(load.rows).unwrap_or(i64::MAX));
        macro_rules! bound {
            ($q:expr) => {
                $q.bind(watch)
                    .bind(&load.file)
                    .bind(&load.etag)
                    .bind(bytes)
                    .bind(rows)
                    .bind(load.outcome.as_str())
                    .bind(load.error.as_deref())
                    .bind(stamp(load.arrived))
                    .bind(stamp(load.started))
                    .bind(stamp(load.finished))
                    .bind(load.latency_ms())
            };
        }
        match &mut self.tx {
            PendingTx::Postgres(tx) => {
                sqlx::query(HISTORY).execute(&mut **tx).await.map_err(|e| message(&e))?;
                bound!(sqlx::query(&insert)).execute(&mut **tx).await.map_err(|e| message(&e))?;
            }
            PendingTx::Sqlite(tx) => {
                sqlx::query(HISTORY).execute(&mut **tx).await.map_err(|e| message(&e))?;
                bound!(sqlx::query(&insert.replace('$', "?"))).execute(&mut **tx).await.map_err(|e| message(&e))?;
            }
        }
        Ok(())
    }

    /// Applies change events' net changes to `table` (made, keyed by `keys`, from the first
    /// row's columns when missing): upserts on the key, deletes by it. Returns the rows changed.
    pub(crate) async fn apply_changes(
        &mut self,
        table: &str,
        keys: &[String],
        changes: &[domain::ingest::cdc::Change],
    ) -> Result<u64, String> {
        use domain::ingest::cdc::Change;
        let target = table_ident(table);
        let postgres = matches!(self.tx, PendingTx::Postgres(_));
        let key_list = keys.iter().map(|k| crate::sql::ident(k)).collect::<Vec<_>>().join(", ");
        if let Some(row) = changes.iter().find_map(|c| match c {
            Change::Upsert { row, .. } => Some(row),
            Change::Delete { .. } => None,
        }) {
            let columns: Vec<String> = row
                .iter()
                .map(|(name, v)| format!("{} {}", crate::sql::ident(name), json_column_type(v, postgres)))
                .collect();
            let create =
                format!("CREATE TABLE IF NOT EXISTS {target} ({}, PRIMARY KEY ({key_list}))", columns.join(", "));
            self.execute(&create, None).await?;
        }
        let mut changed = 0u64;
        for change in changes {
            match change {
                Change::Upsert { row, .. } => {
                    let names: Vec<String> = row.keys().map(|n| crate::sql::ident(n)).collect();
                    let updates: Vec<String> = row
                        .keys()
                        .filter(|n| !keys.contains(n))
                        .map(|n| format!("{0} = excluded.{0}", crate::sql::ident(n)))
                        .collect();
                    let on_conflict = if updates.is_empty() {
                        "DO NOTHING".to_owned()
                    } else {
                        format!("DO UPDATE SET {}", updates.join(", "))
                    };
                    let sql = if postgres {
                        format!(
                            "INSERT INTO {target} ({0}) SELECT {0} FROM jsonb_populate_record(NULL::{target}, $1::jsonb) \
                             ON CONFLICT ({key_list}) {on_conflict}",
                            names.join(", ")
                        )
                    } else {
                        let marks = vec!["?"; names.len()].join(", ");
                        format!(
                            "INSERT INTO {target} ({}) VALUES ({marks}) ON CONFLICT ({key_list}) {on_conflict}",
                            names.join(", ")
                        )
                    };
                    let values: Vec<&serde_json::Value> = row.values().collect();
                    self.execute(&sql, Some((&serde_json::Value::Object(row.clone()), &values))).await?;
                }
                Change::Delete { key } => {
                    let row: serde_json::Map<String, serde_json::Value> =
                        keys.iter().cloned().zip(key.iter().cloned()).collect();
                    let sql = if postgres {
                        format!(
                            "DELETE FROM {target} WHERE ({key_list}) = (SELECT {key_list} FROM jsonb_populate_record(NULL::{target}, $1::jsonb))"
                        )
                    } else {
                        let test: Vec<String> = keys.iter().map(|k| format!("{} = ?", crate::sql::ident(k))).collect();
                        format!("DELETE FROM {target} WHERE {}", test.join(" AND "))
                    };
                    let values: Vec<&serde_json::Value> = key.iter().collect();
                    self.execute(&sql, Some((&serde_json::Value::Object(row), &values))).await?;
                }
            }
            changed += 1;
        }
        self.rows += changed;
        Ok(changed)
    }

    /// Runs one statement: on PostgreSQL with the row as one JSON argument, on SQLite with each
    /// value as its own argument.
    async fn execute(
        &mut self,
        sql: &str,
        args: Option<(&serde_json::Value, &[&serde_json::Value])>,
    ) -> Result<(), String> {
        match &mut self.tx {
            PendingTx::Postgres(tx) => {
                let mut q = sqlx::query(sql);
                if let Some((row, _)) = args {
                    q = q.bind(row.to_string());
                }
                q.execute(&mut **tx).await.map_err(|e| message(&e))?;
            }
            PendingTx::Sqlite(tx) => {
                let mut q = sqlx::query(sql);
                for v in args.map(|(_, values)| values).unwrap_or_default() {
                    q = match v {
                        serde_json::Value::Null => q.bind(None::<String>),
                        serde_json::Value::Bool(b) => q.bind(*b),
                        serde_json::Value::Number(n) => match n.as_i64() {
                            Some(i) => q.bind(i),
                            None => q.bind(n.as_f64()),
                        },
                        serde_json::Value::String(t) => q.bind(t.clone()),
                        other => q.bind(other.to_string()),
                    };
                }
                q.execute(&mut **tx).await.map_err(|e| message(&e))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_of_each_mode_quotes_every_name() {
        let schema = Schema::new(vec![
            Field::new("day", DataType::Date32, true),
            Field::new("game", DataType::Utf8, true),
            Field::new("spend", DataType::Decimal128(20, 4), true),
        ]);
        let keys = ["day".to_owned(), "game".to_owned()];
        let upsert = table_sql(&schema, "mart.daily", TableMode::Upsert, &keys, true);
        assert_eq!(
            upsert.create,
            r#"CREATE TABLE IF NOT EXISTS "mart"."daily" ("day" DATE, "game" TEXT, "spend" NUMERIC(20, 4), UNIQUE ("day", "game"))"#
        );
        assert_eq!(
            upsert.moves,
            [
                r#"INSERT INTO "mart"."daily" ("day", "game", "spend") SELECT "day", "game", "spend" FROM "mcms_pipeline_stage" WHERE true ON CONFLICT ("day", "game") DO UPDATE SET "spend" = excluded."spend""#
            ]
        );
        let replace = table_sql(&schema, "daily", TableMode::ReplacePartition, &keys[..1], false);
        assert_eq!(
            replace.moves[0],
            r#"DELETE FROM "daily" WHERE ("day") IN (SELECT DISTINCT "day" FROM "mcms_pipeline_stage")"#
        );
    }

    #[test]
    fn postgres_text_becomes_typed_columns_and_odd_numbers_are_refused() {
        let numeric = postgres_array("NUMERIC", vec![Some("12.5".into()), None, Some("3.125".into())]).unwrap();
        assert_eq!(numeric.data_type(), &DataType::Decimal128(38, 3));
        let at = postgres_array("TIMESTAMPTZ", vec![Some("2026-11-01 03:04:05+00".into())]).unwrap();
        assert_eq!(text_column(&at).unwrap().value(0), "2026-11-01T03:04:05Z");
        let flags = postgres_array("BOOL", vec![Some("t".into()), Some("f".into())]).unwrap();
        assert_eq!(text_column(&flags).unwrap().iter().collect::<Vec<_>>(), [Some("true"), Some("false")]);
        let err = postgres_array("NUMERIC", vec![Some("NaN".into())]).unwrap_err();
        assert_eq!(err, "`NaN` is not a number a pipeline can carry");
    }
}
