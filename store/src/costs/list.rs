//! The cost list: filters, orders and keyset pages over the ledger, totals from the running totals.

use super::{COST_COLUMNS, CostRow, StoredCost, YearMonth};
use crate::{Db, Result, on_db};
use serde::{Deserialize, Serialize};
use time::Date;

/// What the cost list shows: every filter optional, in the chosen order, a page at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFilter {
    pub month: Option<YearMonth>,
    pub game: Option<String>,
    pub channel: Option<String>,
    pub campaign: Option<String>,
    pub country: Option<String>,
    pub vendor: Option<String>,
    pub cost_type: Option<String>,
    pub include_deleted: bool,
    pub order: CostOrder,
}

/// The list's order; ties broken by id, so every order is total and keyset pages never skip a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CostOrder {
    #[default]
    Newest,
    Oldest,
    /// By amount in the reporting currency.
    Largest,
    Smallest,
}

impl CostOrder {
    pub const ALL: [CostOrder; 4] = [CostOrder::Newest, CostOrder::Oldest, CostOrder::Largest, CostOrder::Smallest];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            CostOrder::Newest => "newest",
            CostOrder::Oldest => "oldest",
            CostOrder::Largest => "largest",
            CostOrder::Smallest => "smallest",
        }
    }

    pub fn parse(text: &str) -> Option<CostOrder> {
        CostOrder::ALL.into_iter().find(|o| o.as_str() == text)
    }

    fn by_amount(self) -> bool {
        matches!(self, CostOrder::Largest | CostOrder::Smallest)
    }

    fn descending(self) -> bool {
        matches!(self, CostOrder::Newest | CostOrder::Largest)
    }
}

/// Where a page starts: after the row with this sort key and id, in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CostCursor {
    Date(Date, i64),
    Amount(i64, i64),
}

impl CostCursor {
    /// The cursor's text in URLs: `2026-11-02.41` or `-150000.41`.
    pub fn to_text(self) -> String {
        match self {
            CostCursor::Date(d, id) => format!("{d}.{id}"),
            CostCursor::Amount(a, id) => format!("{a}.{id}"),
        }
    }

    /// Reads a cursor made by [`CostCursor::to_text`] for a list in `order`.
    pub fn parse(text: &str, order: CostOrder) -> Option<CostCursor> {
        let (key, id) = text.rsplit_once('.')?;
        let id = id.parse().ok()?;
        if order.by_amount() {
            Some(CostCursor::Amount(key.parse().ok()?, id))
        } else {
            Some(CostCursor::Date(domain::costs::parse_date(key)?, id))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostPage {
    pub rows: Vec<StoredCost>,
    /// Set when more rows follow.
    pub next: Option<CostCursor>,
    /// Over every row the filter matches, not just this page.
    pub total_reporting_minor: i64,
    pub total_count: i64,
}

#[derive(Clone)]
enum Param {
    Text(String),
    Day(Date),
    Int(i64),
}

/// Runs `$sql` with `$params` bound in order, then `$finish` (fetch_one, fetch_all).
macro_rules! query_with {
    ($db:expr, $sql:expr, $params:expr, $finish:ident) => {
        on_db!($db, pool => {
            let mut q = sqlx::query_as($sql);
            for p in $params {
                q = match p { Param::Text(t) => q.bind(t.clone()), Param::Day(d) => q.bind(*d), Param::Int(i) => q.bind(*i) };
            }
            q.$finish(pool).await
        })
    };
}

/// SQL conditions with their numbered parameters.
#[derive(Default, Clone)]
struct Conditions {
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Conditions {
    /// Adds `clause`, whose `?`s all stand for `param`.
    fn push(&mut self, clause: &str, param: Param) {
        self.params.push(param);
        self.clauses.push(clause.replace('?', &format!("${}", self.params.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() { "TRUE".to_owned() } else { self.clauses.join(" AND ") }
    }
}

impl Db {
    /// One page of entries in `filter.order`, by keyset (sort key, id): as fast on page 1,000 as on
    /// page 1. The total comes from the running totals, never from scanning the ledger, except for
    /// lists that include deleted entries.
    pub async fn list_costs(&self, filter: &CostFilter, after: Option<CostCursor>, limit: i64) -> Result<CostPage> {
        let mut codes = Conditions::default();
        for (column, value) in [
            ("game", &filter.game),
            ("channel", &filter.channel),
            ("campaign", &filter.campaign),
            ("country", &filter.country),
            ("vendor", &filter.vendor),
            ("cost_type", &filter.cost_type),
        ] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                codes.push(&format!("{column} = ?"), Param::Text(v.to_owned()));
            }
        }

        let mut page = codes.clone();
        if !filter.include_deleted {
            page.clauses.push("deleted_at IS NULL".into());
        }
        if let Some(m) = filter.month {
            page.push("entry_date >= ?", Param::Day(m.first_day()));
            page.push("entry_date < ?", Param::Day(m.next().first_day()));
        }
        let (total, count): (i64, i64) = if filter.include_deleted {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(reporting_minor), 0) AS BIGINT), COUNT(*) FROM cost_entries WHERE {}",
                page.sql()
            );
            query_with!(self, &sql, &page.params, fetch_one)?
        } else {
            let mut totals = codes;
            if let Some(m) = filter.month {
                totals.push("month = ?", Param::Text(m.to_string()));
            }
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(reporting_minor), 0) AS BIGINT), CAST(COALESCE(SUM(entries), 0) AS BIGINT) \
                 FROM cost_totals WHERE {}",
                totals.sql()
            );
            query_with!(self, &sql, &totals.params, fetch_one)?
        };

        let (column, dir, cmp) = match (filter.order.by_amount(), filter.order.descending()) {
            (false, true) => ("entry_date", "DESC", "<"),
            (false, false) => ("entry_date", "ASC", ">"),
            (true, true) => ("reporting_minor", "DESC", "<"),
            (true, false) => ("reporting_minor", "ASC", ">"),
        };
        if let Some(c) = after {
            let (key, id) = match c {
                CostCursor::Date(d, id) => (Param::Day(d), id),
                CostCursor::Amount(a, id) => (Param::Int(a), id),
            };
            page.params.push(key);
            page.params.push(Param::Int(id));
            let (k, i) = (page.params.len() - 1, page.params.len());
            page.clauses.push(format!("({column} {cmp} ${k} OR ({column} = ${k} AND id {cmp} ${i}))"));
        }
        page.params.push(Param::Int(limit + 1));
        let sql = format!(
            "SELECT {COST_COLUMNS} FROM cost_entries WHERE {} ORDER BY {column} {dir}, id {dir} LIMIT ${}",
            page.sql(),
            page.params.len()
        );
        let rows: Vec<CostRow> = query_with!(self, &sql, &page.params, fetch_all)?;
        let mut rows: Vec<StoredCost> = rows.into_iter().map(CostRow::into_stored).collect::<Result<_>>()?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| {
                if filter.order.by_amount() {
                    CostCursor::Amount(r.entry.reporting_minor, r.id)
                } else {
                    CostCursor::Date(r.entry.date, r.id)
                }
            })
        } else {
            None
        };
        Ok(CostPage { rows, next, total_reporting_minor: total, total_count: count })
    }

    /// Every live entry of `month` (up to `limit`), oldest first (then by id), read by one
    /// query and handed to `each` as it arrives: the warehouse batch and the pipelines' ledger
    /// source read months of a million entries this way, never holding them all. On SQLite the
    /// rows come through SQLite's own API (`scan`), on PostgreSQL as sqlx streams them.
    pub async fn each_month_entry(
        &self,
        month: YearMonth,
        limit: Option<i64>,
        mut each: impl FnMut(StoredCost) + Send,
    ) -> Result<()> {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT {COST_COLUMNS} FROM cost_entries WHERE deleted_at IS NULL AND entry_date >= $1 AND entry_date < $2 \
             ORDER BY entry_date, id LIMIT $3"
        );
        let (from, to, limit) = (month.first_day(), month.next().first_day(), limit.unwrap_or(i64::MAX));
        match self {
            Db::Sqlite(pool) => {
                let mut connection = pool.acquire().await?;
                let mut handle = connection.lock_handle().await?;
                let db = handle.as_raw_handle().as_ptr();
                // SAFETY: the connection is locked for us (`handle`) until the read returns.
                let mut read = || unsafe { super::scan::each_row(db, &sql, (from, to, limit), &mut each) };
                // SQLite works on this thread for the whole read: the runtime moves its other
                // tasks to another (a current-thread runtime, in tests and commands, just waits).
                match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                    Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
                    _ => read(),
                }
            }
            Db::Postgres(pool) => {
                let mut rows = sqlx::query_as::<_, CostRow>(&sql).bind(from).bind(to).bind(limit).fetch(pool);
                while let Some(row) = rows.try_next().await? {
                    each(row.into_stored()?);
                }
                Ok(())
            }
        }
    }

    /// The live entries that `month`'s live corrections correct (a correction is valid only
    /// while what it corrects is live).
    pub async fn live_correction_targets(&self, month: YearMonth) -> Result<Vec<i64>> {
        let sql = "SELECT id FROM cost_entries WHERE deleted_at IS NULL AND id IN \
                   (SELECT corrects FROM cost_entries WHERE deleted_at IS NULL AND corrects IS NOT NULL \
                    AND entry_date >= $1 AND entry_date < $2)";
        let (from, to) = (month.first_day(), month.next().first_day());
        Ok(on_db!(self, pool => sqlx::query_scalar(sql).bind(from).bind(to).fetch_all(pool).await)?)
    }
}
