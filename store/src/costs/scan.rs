//! A month of the ledger read through SQLite's own API, on the connection sqlx lends, on one
//! thread. sqlx hands each row from its SQLite worker thread to the async task one at a time (a
//! wake-up and a copy of every value per row): on a million entries that hand-off was most of the
//! time, against 2 s for SQLite itself (docs/benchmarks.md, "Pipelines running").

use super::{CostRow, StoredCost};
use crate::{Result, StoreError};
use libsqlite3_sys as ffi;
use std::ffi::{c_char, c_int};
use time::Date;

/// A prepared statement, finalized however the read ends.
struct Statement(*mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on a connection still locked by the caller, and is
        // finalized once.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

fn failed(db: *mut ffi::sqlite3) -> StoreError {
    // SAFETY: `db` is an open connection; the message is copied before any other call on it.
    let message = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)) }.to_string_lossy().into_owned();
    StoreError::Database(sqlx::Error::Protocol(message))
}

/// Runs `sql` (its `$1`, `$2` bound to `from`, `to` as dates, `$3` to `limit`) and hands each row,
/// in `COST_COLUMNS`' order, to `each`.
///
/// # Safety
/// `db` must be an open SQLite connection that nothing else uses until this returns.
pub(super) unsafe fn each_row(
    db: *mut ffi::sqlite3,
    sql: &str,
    (from, to, limit): (Date, Date, i64),
    each: &mut dyn FnMut(StoredCost),
) -> Result<()> {
    let mut raw = std::ptr::null_mut();
    let length = c_int::try_from(sql.len()).map_err(|_| StoreError::Corrupt("statement too long".into()))?;
    // SAFETY (the block): `db` is open and ours (the caller's contract); every pointer handed to
    // SQLite lives across the call; texts are copied by SQLite (SQLITE_TRANSIENT).
    unsafe {
        if ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast::<c_char>(), length, &mut raw, std::ptr::null_mut())
            != ffi::SQLITE_OK
        {
            return Err(failed(db));
        }
        let statement = Statement(raw);
        for (i, day) in [(1, from), (2, to)] {
            let text = day.to_string();
            let rc = ffi::sqlite3_bind_text(
                statement.0,
                i,
                text.as_ptr().cast::<c_char>(),
                text.len() as c_int,
                ffi::SQLITE_TRANSIENT(),
            );
            if rc != ffi::SQLITE_OK {
                return Err(failed(db));
            }
        }
        if ffi::sqlite3_bind_int64(statement.0, 3, limit) != ffi::SQLITE_OK {
            return Err(failed(db));
        }
        loop {
            match ffi::sqlite3_step(statement.0) {
                ffi::SQLITE_ROW => each(Row(statement.0).cost()?.into_stored()?),
                ffi::SQLITE_DONE => return Ok(()),
                _ => return Err(failed(db)),
            }
        }
    }
}

/// The current row of a statement that has just stepped to it.
struct Row(*mut ffi::sqlite3_stmt);

impl Row {
    fn null(&self, i: c_int) -> bool {
        // SAFETY: the statement is on a row (SQLITE_ROW) and `i` is one of its columns.
        unsafe { ffi::sqlite3_column_type(self.0, i) == ffi::SQLITE_NULL }
    }

    fn int(&self, i: c_int) -> i64 {
        // SAFETY: as in `null`.
        unsafe { ffi::sqlite3_column_int64(self.0, i) }
    }

    fn text(&self, i: c_int) -> Result<String> {
        // SAFETY: as in `null`; the text pointer is valid until the next step, and is copied.
        let bytes = unsafe {
            let text = ffi::sqlite3_column_text(self.0, i);
            let length = ffi::sqlite3_column_bytes(self.0, i);
            if text.is_null() { &[][..] } else { std::slice::from_raw_parts(text, length.max(0) as usize) }
        };
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| corrupt(i, "not UTF-8"))
    }

    fn date(&self, i: c_int) -> Result<Date> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(&self.text(i)?, format).map_err(|_| corrupt(i, "not a date"))
    }

    /// The row as `COST_COLUMNS` lists it.
    fn cost(&self) -> Result<CostRow> {
        let optional_int = |i| (!self.null(i)).then(|| self.int(i));
        let timestamp = |i| {
            time::OffsetDateTime::parse(&self.text(i)?, &time::format_description::well_known::Rfc3339)
                .map_err(|_| corrupt(i, "not a timestamp"))
        };
        Ok(CostRow {
            id: self.int(0),
            version: i32::try_from(self.int(1)).map_err(|_| corrupt(1, "out of range"))?,
            entry_date: self.date(2)?,
            game: self.text(3)?,
            channel: self.text(4)?,
            campaign: self.text(5)?,
            country: self.text(6)?,
            vendor: self.text(7)?,
            cost_type: self.text(8)?,
            currency: self.text(9)?,
            amount_minor: self.int(10),
            units: optional_int(11),
            invoice_number: self.text(12)?,
            memo: self.text(13)?,
            vat_included: self.int(14) != 0,
            corrects: optional_int(15),
            reporting_minor: self.int(16),
            fx_micros: optional_int(17),
            fx_date: if self.null(18) { None } else { Some(self.date(18)?) },
            fx_source: if self.null(19) { None } else { Some(self.text(19)?) },
            updated_at: timestamp(20)?,
            updated_by: self.int(21),
            deleted_at: if self.null(22) { None } else { Some(timestamp(22)?) },
        })
    }
}

fn corrupt(column: c_int, what: &str) -> StoreError {
    StoreError::Corrupt(format!("cost_entries column {column}: {what}"))
}
