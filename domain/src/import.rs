//! Bulk import of costs: a file's bytes (CSV in UTF-8 or CP949, any of three separators; or cells
//! pasted from a spreadsheet) become a [`Sheet`]; its headers map to [`Column`]s; each row becomes a
//! [`CostForm`] with the problems found in its cells; [`check_rows`] runs the form's rule engine
//! over all of them, adding what only a file can get wrong (the same entry twice in one file).
//!
//! Every function here is total: arbitrary bytes give a sheet or a [`FileProblem`], never a panic.

use crate::costs::{BudgetMonth, CostForm, Finding, Reference, Report, invoice_key, natural_key, validate};
use crate::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The columns a cost file can carry, in the order the error file writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Date,
    Game,
    Channel,
    Campaign,
    Country,
    Vendor,
    CostType,
    Currency,
    Amount,
    Units,
    InvoiceNumber,
    Memo,
    VatIncluded,
    Corrects,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::Date,
        Column::Game,
        Column::Channel,
        Column::Campaign,
        Column::Country,
        Column::Vendor,
        Column::CostType,
        Column::Currency,
        Column::Amount,
        Column::Units,
        Column::InvoiceNumber,
        Column::Memo,
        Column::VatIncluded,
        Column::Corrects,
    ];

    /// The name in files, mappings and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::Date => "date",
            Column::Game => "game",
            Column::Channel => "channel",
            Column::Campaign => "campaign",
            Column::Country => "country",
            Column::Vendor => "vendor",
            Column::CostType => "cost_type",
            Column::Currency => "currency",
            Column::Amount => "amount",
            Column::Units => "units",
            Column::InvoiceNumber => "invoice_number",
            Column::Memo => "memo",
            Column::VatIncluded => "vat_included",
            Column::Corrects => "corrects",
        }
    }

    pub fn parse(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// A file cannot be imported without these.
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::Date
                | Column::Game
                | Column::Channel
                | Column::Campaign
                | Column::Country
                | Column::Vendor
                | Column::CostType
                | Column::Currency
                | Column::Amount
        )
    }

    /// Header spellings seen in agency sheets, English and Korean, compared after [`header_key`].
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Date => &["date", "day", "costdate", "spenddate", "일자", "날짜", "집행일", "집행일자"],
            Column::Game => &["game", "title", "app", "게임", "게임명", "타이틀"],
            Column::Channel => &["channel", "media", "network", "매체", "채널", "매체명"],
            Column::Campaign => &["campaign", "campaigncode", "캠페인", "캠페인코드"],
            Column::Country => &["country", "countrycode", "geo", "market", "국가", "국가코드"],
            Column::Vendor => &["vendor", "agency", "partner", "대행사", "업체", "거래처"],
            Column::CostType => &["costtype", "type", "pricing", "pricingmodel", "과금방식", "과금유형", "비용유형"],
            Column::Currency => &["currency", "cur", "ccy", "통화", "통화코드"],
            Column::Amount => &["amount", "cost", "spend", "net", "금액", "비용", "집행금액"],
            Column::Units => &["units", "installs", "clicks", "impressions", "quantity", "수량", "설치수"],
            Column::InvoiceNumber => &[
                "invoicenumber",
                "invoice",
                "invoiceno",
                "invoiceid",
                "인보이스",
                "인보이스번호",
                "계산서번호",
                "송장번호",
            ],
            Column::Memo => &["memo", "note", "notes", "comment", "description", "메모", "비고"],
            Column::VatIncluded => &["vatincluded", "vat", "gross", "부가세포함", "부가세"],
            Column::Corrects => &["corrects", "correctsentry", "correction", "정정대상", "정정"],
        }
    }
}

impl From<crate::costs::Field> for Column {
    fn from(field: crate::costs::Field) -> Column {
        use crate::costs::Field;
        match field {
            Field::Date => Column::Date,
            Field::Game => Column::Game,
            Field::Channel => Column::Channel,
            Field::Campaign => Column::Campaign,
            Field::Country => Column::Country,
            Field::Vendor => Column::Vendor,
            Field::CostType => Column::CostType,
            Field::Currency => Column::Currency,
            Field::Amount => Column::Amount,
            Field::Units => Column::Units,
            Field::InvoiceNumber => Column::InvoiceNumber,
            Field::Memo => Column::Memo,
            Field::Corrects => Column::Corrects,
        }
    }
}

/// A header as compared with aliases: lower case, letters and digits only (`Cost Type` = `cost_type`).
pub fn header_key(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The column each header maps to (`None`: not imported), matched by alias; a column is taken by
/// its first matching header only.
pub fn auto_mapping(headers: &[String]) -> Vec<Option<Column>> {
    let mut taken = Vec::new();
    headers
        .iter()
        .map(|h| {
            let key = header_key(h);
            let column = Column::ALL.into_iter().find(|c| !taken.contains(c) && c.aliases().contains(&key.as_str()));
            taken.extend(column);
            column
        })
        .collect()
}

/// Required columns no header maps to.
pub fn missing_columns(mapping: &[Option<Column>]) -> Vec<Column> {
    Column::ALL.into_iter().filter(|c| c.required() && !mapping.contains(&Some(*c))).collect()
}

/// What makes a whole file unreadable; nothing of it is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    pub code: String,
    pub detail: String,
}

impl FileProblem {
    fn new(code: &str, detail: impl Into<String>) -> FileProblem {
        FileProblem { code: code.into(), detail: detail.into() }
    }
}

/// A table of text cells: one header row, then data rows numbered as a spreadsheet shows them
/// (the header is row 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// How the bytes were read: `UTF-8`, `UTF-8 with BOM`, `CP949`, or `XLSX`.
    pub encoding: String,
    pub separator: char,
}

/// Limits a file must keep.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_rows: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 50 * 1024 * 1024, max_rows: 200_000 }
    }
}

/// Turns the bytes of a CSV file, or text pasted from a spreadsheet, into cells: UTF-8 (with or
/// without BOM) or CP949/EUC-KR as Korean Excel saves it; separated by commas, semicolons or tabs
/// (whichever the header row uses most, outside quotes).
pub fn read_text(bytes: &[u8], limits: Limits) -> Result<Sheet, FileProblem> {
    if bytes.len() > limits.max_bytes {
        return Err(FileProblem::new("import.too_large", format!("{} > {} bytes", bytes.len(), limits.max_bytes)));
    }
    let (text, encoding) = decode(bytes)?;
    let separator = detect_separator(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator as u8)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Some(Err(e)) => return Err(FileProblem::new("import.unreadable", e.to_string())),
        None => return Err(FileProblem::new("import.empty", "")),
    };
    let width = headers.iter().rposition(|h| !h.is_empty()).map_or(0, |i| i + 1);
    if width == 0 {
        return Err(FileProblem::new("import.empty", ""));
    }
    let mut rows = Vec::new();
    let mut ragged = Vec::new();
    for (i, record) in records.enumerate() {
        let row_number = i + 2;
        let record = record.map_err(|e| FileProblem::new("import.unreadable", format!("row {row_number}: {e}")))?;
        let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            cells.clear(); // a blank line keeps its number, so later rows match the spreadsheet
        } else if cells.len() != width {
            let extra_blank = cells.len() > width && cells[width..].iter().all(|c| c.trim().is_empty());
            if extra_blank {
                cells.truncate(width);
            } else {
                ragged.push((row_number, cells.len()));
            }
        }
        rows.push(cells);
        if rows.len() > limits.max_rows {
            return Err(FileProblem::new("import.too_many_rows", format!("> {}", limits.max_rows)));
        }
    }
    if !ragged.is_empty() {
        let mut detail = String::new();
        for (n, (row, cells)) in ragged.iter().enumerate().take(5) {
            let _ = write!(detail, "{}row {row}: {cells} cells", if n > 0 { ", " } else { "" });
        }
        if ragged.len() > 5 {
            let _ = write!(detail, ", … ({} rows)", ragged.len());
        }
        let _ = write!(detail, "; the header has {width}");
        return Err(FileProblem::new("import.ragged", detail));
    }
    let mut headers = headers;
    headers.truncate(width);
    if rows.iter().all(Vec::is_empty) {
        return Err(FileProblem::new("import.empty", ""));
    }
    Ok(Sheet { headers, rows, encoding: encoding.into(), separator })
}

/// The most columns an import reads from a workbook; a cell further right is refused (a sheet is
/// read whole, so a stray cell at `XFD1048576` must not make it sixteen thousand columns wide).
pub const MAX_COLUMNS: u32 = 200;

impl Limits {
    /// How much a workbook may unpack to: its XML is verbose, but a file that inflates by more
    /// than this is a zip bomb, not a cost sheet.
    pub fn max_unpacked_bytes(self) -> u64 {
        (self.max_bytes as u64).saturating_mul(20).max(8 << 20)
    }
}

/// The spreadsheet column name of a zero-based index: 0 → `A`, 16383 → `XFD`.
#[cfg(feature = "xlsx")]
fn column_name(mut col: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// Checks a workbook's archive before anything is parsed: every member, inflated for real (not
/// as its header claims), fits within [`Limits::max_unpacked_bytes`] together.
#[cfg(feature = "xlsx")]
fn check_unpacked_size(bytes: &[u8], limits: Limits) -> Result<(), FileProblem> {
    use std::io::Read;
    let unreadable = |e: &dyn std::fmt::Display| FileProblem::new("import.unreadable", e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let cap = limits.max_unpacked_bytes();
    let mut total: u64 = 0;
    let mut buf = vec![0_u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| unreadable(&e))?;
        loop {
            let n = member.read(&mut buf).map_err(|e| unreadable(&e))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > cap {
                return Err(FileProblem::new("import.unpacked_too_large", format!("> {} MB", cap >> 20)));
            }
        }
    }
    Ok(())
}

/// Reads the first worksheet of an `.xlsx` workbook. Dates formatted as dates become
/// `YYYY-MM-DD`; cells holding a formula keep it (`=SUM(B2:B9)`), so the row names it.
///
/// Nothing is allocated by the sheet's declared size: the archive is checked for what it unpacks
/// to, then the sheet's cells are streamed one by one, refusing the first cell past the row limit
/// or [`MAX_COLUMNS`]; rows are kept only as wide as their own cells.
#[cfg(feature = "xlsx")]
pub fn read_xlsx(bytes: &[u8], limits: Limits) -> Result<Sheet, FileProblem> {
    use calamine::{DataRef, Reader, Xlsx};
    if bytes.len() > limits.max_bytes {
        return Err(FileProblem::new("import.too_large", format!("{} > {} bytes", bytes.len(), limits.max_bytes)));
    }
    check_unpacked_size(bytes, limits)?;
    let unreadable = |e: &dyn std::fmt::Display| FileProblem::new("import.unreadable", e.to_string());
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let name = book.sheet_names().into_iter().next().ok_or_else(|| FileProblem::new("import.empty", ""))?;
    let mut cells = book.worksheet_cells_reader(&name).map_err(|e| unreadable(&e))?;
    let too_many_rows = || FileProblem::new("import.too_many_rows", format!("> {}", limits.max_rows));
    // Rows by absolute index, each only as wide as its last cell.
    let mut grid: Vec<Vec<String>> = Vec::new();
    let (mut first_row, mut first_col) = (u32::MAX, u32::MAX);
    while let Some(cell) = cells.next_cell_with_formula().map_err(|e| unreadable(&e))? {
        let (row, col) = cell.pos;
        let text = match (&cell.formula, &cell.value) {
            (Some(f), _) if !f.is_empty() => format!("={f}"),
            (_, DataRef::Empty) => continue,
            (_, DataRef::String(s)) | (_, DataRef::DateTimeIso(s)) | (_, DataRef::DurationIso(s)) => s.clone(),
            (_, DataRef::SharedString(s)) => (*s).to_owned(),
            (_, DataRef::Int(i)) => i.to_string(),
            (_, DataRef::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            (_, DataRef::Float(f)) => f.to_string(),
            (_, DataRef::Bool(b)) => b.to_string(),
            (_, DataRef::DateTime(d)) if d.is_datetime() => {
                let (y, m, day, ..) = d.to_ymd_hms_milli();
                format!("{y:04}-{m:02}-{day:02}")
            }
            (_, DataRef::DateTime(d)) => d.as_f64().to_string(),
            (_, DataRef::Error(e)) => format!("#{e:?}"),
        };
        if col >= MAX_COLUMNS {
            return Err(FileProblem::new("import.too_wide", format!("{}{}", column_name(col), row + 1)));
        }
        first_row = first_row.min(row);
        first_col = first_col.min(col);
        // The header is the first row with a cell; more than the limit of rows below it is refused
        // at the first cell past it, before anything is kept for it.
        if (row - first_row) as usize > limits.max_rows {
            return Err(too_many_rows());
        }
        let (r, c) = (row as usize, col as usize);
        if grid.len() <= r {
            grid.resize_with(r + 1, Vec::new);
        }
        let line = &mut grid[r];
        if line.len() <= c {
            line.resize_with(c + 1, String::new);
        }
        line[c] = text;
    }
    drop(cells);
    if first_row == u32::MAX {
        return Err(FileProblem::new("import.empty", ""));
    }
    let mut lines = grid.into_iter().skip(first_row as usize).map(|mut line| {
        line.drain(..(first_col as usize).min(line.len()));
        line
    });
    let mut headers: Vec<String> = lines.next().unwrap_or_default().into_iter().map(|h| h.trim().to_owned()).collect();
    let width = headers.iter().rposition(|h| !h.is_empty()).map_or(0, |i| i + 1);
    headers.truncate(width);
    let rows: Vec<Vec<String>> = lines
        .map(|mut cells| {
            cells.resize_with(width, String::new);
            if cells.iter().all(|c| c.trim().is_empty()) { Vec::new() } else { cells }
        })
        .collect();
    if width == 0 || rows.is_empty() {
        return Err(FileProblem::new("import.empty", ""));
    }
    Ok(Sheet { headers, rows, encoding: "XLSX".into(), separator: ',' })
}

/// Reads an uploaded file: an `.xlsx` workbook when the bytes are a zip archive (and the build
/// reads workbooks), CSV or pasted cells otherwise.
pub fn read_file(bytes: &[u8], limits: Limits) -> Result<Sheet, FileProblem> {
    #[cfg(feature = "xlsx")]
    if is_zip(bytes) {
        return read_xlsx(bytes, limits);
    }
    if is_zip(bytes) {
        return Err(FileProblem::new("import.unreadable", "a workbook; save it as CSV"));
    }
    read_text(bytes, limits)
}

/// Whether `bytes` look like a zip archive (an `.xlsx` workbook is one).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

pub(crate) fn decode(bytes: &[u8]) -> Result<(String, &'static str), FileProblem> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(t) => Ok((t.to_owned(), "UTF-8 with BOM")),
            Err(e) => Err(bad_encoding(rest, e.valid_up_to(), "UTF-8")),
        };
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FileProblem::new("import.encoding", "UTF-16; save the file as CSV UTF-8"));
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok((t.to_owned(), "UTF-8")),
        Err(utf8) => {
            let (text, had_errors) = encoding_rs::EUC_KR.decode_without_bom_handling(bytes);
            if had_errors {
                Err(bad_encoding(bytes, utf8.valid_up_to(), "UTF-8 or CP949"))
            } else {
                Ok((text.into_owned(), "CP949"))
            }
        }
    }
}

/// Names the line and byte where text stops being `expected`.
fn bad_encoding(bytes: &[u8], at: usize, expected: &str) -> FileProblem {
    let line = bytes[..at.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1;
    let byte = bytes.get(at).copied().unwrap_or(0);
    FileProblem::new("import.encoding", format!("line {line}, byte 0x{byte:02X}: not {expected}"))
}

pub(crate) fn detect_separator(text: &str) -> char {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [(',', 0), (';', 0), ('\t', 0)];
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            _ => {
                for (sep, n) in &mut counts {
                    if *sep == c {
                        *n += 1;
                    }
                }
            }
        }
    }
    counts.iter().max_by_key(|(sep, n)| (*n, *sep == ',')).map_or(',', |(sep, _)| *sep)
}

/// A problem in one cell, found while reading it (before the rules run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellProblem {
    pub column: Column,
    pub code: String,
    pub detail: String,
}

/// Reads one row's cells through `mapping` into a form, normalising what is unambiguous
/// (`2026/03/04`, `₩1,200` in a KRW row, `1.234,56`) and naming each cell that is not.
pub fn row_to_form(cells: &[String], mapping: &[Option<Column>]) -> (CostForm, Vec<CellProblem>) {
    let mut raw: [&str; 14] = [""; 14];
    for (cell, column) in cells.iter().zip(mapping) {
        if let Some(c) = column {
            raw[*c as usize] = cell.trim();
        }
    }
    let get = |c: Column| raw[c as usize];
    let mut problems = Vec::new();
    let mut problem = |column: Column, code: &str, detail: &str| {
        problems.push(CellProblem { column, code: code.into(), detail: detail.into() })
    };
    for (column, text) in Column::ALL.into_iter().zip(raw) {
        // Any cell may hold a formula; free text also must not start like one (`+cmd|…`, `-2+3`).
        let free_text = matches!(column, Column::Memo | Column::InvoiceNumber);
        if text.starts_with('=') || text.starts_with('@') || (free_text && crate::sheet::looks_like_formula(text)) {
            problem(column, "import.formula", text);
        }
    }
    let formula = |c: Column| get(c).starts_with('=') || get(c).starts_with('@');
    let currency = Currency::from_code(&get(Column::Currency).to_ascii_uppercase());
    let date = match normalise_date(if formula(Column::Date) { "" } else { get(Column::Date) }) {
        Ok(d) => d,
        Err((code, detail)) => {
            problem(Column::Date, code, &detail);
            String::new()
        }
    };
    let amount = match normalise_amount(if formula(Column::Amount) { "" } else { get(Column::Amount) }, currency) {
        Ok(a) => a,
        Err(code) => {
            problem(Column::Amount, code, get(Column::Amount));
            String::new()
        }
    };
    let units: String = get(Column::Units).chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
    let vat_included =
        match if formula(Column::VatIncluded) { String::new() } else { get(Column::VatIncluded).to_lowercase() }
            .as_str()
        {
            "" | "no" | "n" | "false" | "0" | "net" | "별도" | "미포함" | "아니오" => false,
            "yes" | "y" | "true" | "1" | "gross" | "포함" | "예" => true,
            other => {
                problem(Column::VatIncluded, "import.vat", other);
                false
            }
        };
    let corrects = match if formula(Column::Corrects) { "" } else { get(Column::Corrects).trim_start_matches('#') } {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                problem(Column::Corrects, "import.corrects", text);
                None
            }
        },
    };
    let failed = |c: Column| problems.iter().any(|p| p.column == c);
    let keep = |c: Column| if failed(c) { String::new() } else { get(c).to_owned() };
    let form = CostForm {
        date: if failed(Column::Date) { String::new() } else { date },
        game: keep(Column::Game),
        channel: keep(Column::Channel),
        campaign: keep(Column::Campaign),
        country: keep(Column::Country),
        vendor: keep(Column::Vendor),
        cost_type: keep(Column::CostType),
        currency: keep(Column::Currency).to_ascii_uppercase(),
        amount: if failed(Column::Amount) { String::new() } else { amount },
        units: if failed(Column::Units) { String::new() } else { units },
        invoice_number: keep(Column::InvoiceNumber),
        memo: keep(Column::Memo),
        vat_included,
        corrects,
        editing: None,
    };
    (form, problems)
}

/// Days from 1899-12-30 (Excel's day 0) in the range a cost date plausibly has.
const EXCEL_SERIALS: std::ops::RangeInclusive<i64> = 20_000..=80_000;

/// `2026-03-04`, `2026/3/4`, `2026.03.04`, `2026. 3. 4.`, `20260304`, and day/month/year or
/// month/day/year when one part is above 12, become `2026-03-04`. Ambiguous dates and Excel's
/// serial numbers are refused with what they could mean.
pub fn normalise_date(text: &str) -> Result<String, (&'static str, String)> {
    let text = text.trim();
    let text = text.strip_suffix(" 00:00:00").or_else(|| text.strip_suffix("T00:00:00")).unwrap_or(text);
    if text.is_empty() {
        return Ok(String::new());
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    let whole = text.strip_suffix(".0").unwrap_or(text);
    if let Ok(n) = whole.parse::<i64>()
        && whole.len() != 8
    {
        if EXCEL_SERIALS.contains(&n) {
            let day = time::Date::from_calendar_date(1899, time::Month::December, 30)
                .ok()
                .and_then(|d| d.checked_add(time::Duration::days(n)));
            return Err(("import.excel_serial", day.map_or_else(|| n.to_string(), |d| format!("{n} = {d}?"))));
        }
        return Ok(text.to_owned());
    }
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..]));
    }
    let parts: Vec<&str> =
        text.trim_end_matches('.').split(['-', '/', '.']).map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 || !parts.iter().all(|p| digits(p)) {
        return Ok(text.to_owned()); // the rules say what is wrong with it
    }
    let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let ymd = |y: u32, m: u32, d: u32| format!("{y:04}-{m:02}-{d:02}");
    if parts[0].len() == 4 {
        return Ok(ymd(n[0], n[1], n[2]));
    }
    if parts[2].len() != 4 {
        return Err(("import.date_ambiguous", text.to_owned()));
    }
    match (n[0], n[1]) {
        (a, b) if a > 12 && b <= 12 => Ok(ymd(n[2], b, a)),
        (a, b) if b > 12 && a <= 12 => Ok(ymd(n[2], a, b)),
        (a, b) if a == b => Ok(ymd(n[2], a, b)),
        (a, b) if a <= 12 && b <= 12 => {
            Err(("import.date_ambiguous", format!("{text}: {} or {}?", ymd(n[2], b, a), ymd(n[2], a, b))))
        }
        _ => Ok(text.to_owned()),
    }
}

/// Symbols and words that say a currency, with every currency each may mean.
const SYMBOLS: &[(&str, &[&str])] = &[
    ("US$", &["USD"]),
    ("NT$", &["TWD"]),
    ("HK$", &["HKD"]),
    ("A$", &["AUD"]),
    ("C$", &["CAD"]),
    ("S$", &["SGD"]),
    ("$", &["USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN"]),
    ("₩", &["KRW"]),
    ("￦", &["KRW"]),
    ("원", &["KRW"]),
    ("¥", &["JPY", "CNY"]),
    ("￥", &["JPY", "CNY"]),
    ("円", &["JPY"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("฿", &["THB"]),
    ("₫", &["VND"]),
    ("₱", &["PHP"]),
];

/// An amount as the rule engine reads it (`-1,234.56`): spaces and a currency symbol or code are
/// dropped when they agree with the row's currency, accounting brackets mean minus, and a decimal
/// comma is read where it cannot be a thousands separator. Anything that could mean two amounts,
/// or a symbol of another currency, is refused.
pub fn normalise_amount(text: &str, currency: Option<Currency>) -> Result<String, &'static str> {
    let mut s: String = text.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'')).collect();
    if s.is_empty() {
        return Ok(s);
    }
    let negative = s.starts_with('(') && s.ends_with(')') || s.starts_with('-');
    s = s.trim_matches(|c| c == '(' || c == ')' || c == '-' || c == '+').to_owned();
    // A currency code or symbol before or after the number.
    let code_at = |s: &str| {
        let upper = s.to_ascii_uppercase();
        let front = upper.get(..3).filter(|c| c.bytes().all(|b| b.is_ascii_uppercase()));
        let back = upper.get(upper.len().saturating_sub(3)..).filter(|c| c.bytes().all(|b| b.is_ascii_uppercase()));
        front.map(|c| (c.to_owned(), true)).or(back.map(|c| (c.to_owned(), false)))
    };
    if let Some((code, front)) = code_at(&s) {
        match (Currency::from_code(&code), currency) {
            (Some(found), Some(row)) if found == row => {
                s = if front { s[3..].to_owned() } else { s[..s.len() - 3].to_owned() };
            }
            (Some(_), _) => return Err("import.symbol_mismatch"),
            (None, _) => return Err("amount.malformed"),
        }
    }
    for (symbol, means) in SYMBOLS {
        let stripped = s.strip_prefix(symbol).or_else(|| s.strip_suffix(symbol)).map(str::to_owned);
        if let Some(rest) = stripped {
            match currency {
                Some(row) if means.contains(&row.code()) => s = rest,
                _ => return Err("import.symbol_mismatch"),
            }
            break;
        }
    }
    let s = s.trim_matches(|c| c == '(' || c == ')' || c == '-');
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b',' || b == b'.') {
        return Err("amount.malformed");
    }
    let (commas, dots) = (s.matches(',').count(), s.matches('.').count());
    let minor_units = currency.map_or(2, |c| c.minor_units());
    let grouped = |s: &str, sep: char| {
        let mut groups = s.split(sep);
        let first = groups.next().unwrap_or_default();
        (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3)
    };
    let number = match (s.rfind(','), s.rfind('.')) {
        (None, None) => s.to_owned(),
        (None, Some(_)) if dots == 1 => {
            // 1234.5, but 1.500 could be 1500 written the European way.
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            if frac.len() == 3 && minor_units < 3 && int != "0" && int.len() <= 3 {
                return Err("import.amount_ambiguous");
            }
            s.to_owned()
        }
        (None, Some(_)) if grouped(s, '.') => s.replace('.', ""), // 1.234.567
        (None, Some(_)) => return Err("amount.grouping"),
        (Some(_), None) if commas == 1 => {
            let (int, frac) = s.split_once(',').unwrap_or((s, ""));
            if frac.len() != 3 || int == "0" {
                format!("{int}.{frac}") // 12,5 · 1234,56: a decimal comma
            } else if minor_units >= 3 {
                return Err("import.amount_ambiguous"); // 1,234 KWD: 1234 or 1.234?
            } else {
                s.to_owned() // 1,234: a thousands separator
            }
        }
        (Some(_), None) => s.to_owned(), // 1,234,567: grouping, checked by the amount rule
        (Some(comma), Some(dot)) if comma < dot && dots == 1 => s.to_owned(), // 1,234.56
        (Some(_), Some(_)) if commas == 1 => {
            // 1.234,56: dots group, the comma is the decimal mark
            let (int, frac) = s.rsplit_once(',').unwrap_or((s, ""));
            if !grouped(int, '.') || frac.contains('.') {
                return Err("amount.grouping");
            }
            format!("{}.{frac}", int.replace('.', ""))
        }
        _ => return Err("amount.malformed"),
    };
    Ok(if negative { format!("-{number}") } else { number })
}

/// A problem of one row in words, for the grid, the error file and the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    /// `None` for the row as a whole.
    pub column: Option<Column>,
    pub warning: bool,
    pub code: String,
    pub message: String,
}

/// One row after the rules: what the rules and the reading found, and the entry when it is clean
/// of errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCheck {
    /// As the spreadsheet numbers it (the header is row 1).
    pub row: usize,
    pub cells: Vec<CellProblem>,
    pub report: Report,
    /// Set when the row repeats an earlier row of the same file (its number).
    pub duplicate_of: Option<usize>,
}

impl RowCheck {
    /// Every problem of the row, worst first, with the column it concerns: reading problems and
    /// errors, then the repeat of an earlier row, then warnings. `message` turns a code and its
    /// detail (empty if none), `finding` a rule's finding, into words (the caller's catalogue).
    pub fn problems(
        &self,
        message: impl Fn(&str, &str) -> String,
        finding: impl Fn(&Finding) -> String,
    ) -> Vec<RowProblem> {
        use crate::costs::Severity;
        let mut out: Vec<RowProblem> = self
            .cells
            .iter()
            .map(|p| RowProblem {
                column: Some(p.column),
                warning: false,
                code: p.code.clone(),
                message: message(&p.code, &p.detail),
            })
            .collect();
        let finding = &finding;
        let findings = |severity: Severity| {
            self.report.findings.iter().filter(move |f| f.rule.severity() == severity).map(move |f| RowProblem {
                column: Some(f.rule.field().into()),
                warning: severity == Severity::Warning,
                code: f.rule.code().into(),
                message: finding(f),
            })
        };
        out.extend(findings(Severity::Error));
        if let Some(row) = self.duplicate_of {
            let code = "import.duplicate_in_file";
            out.push(RowProblem {
                column: None,
                warning: false,
                code: code.into(),
                message: message(code, &row.to_string()),
            });
        }
        out.extend(findings(Severity::Warning));
        out
    }

    pub fn has_errors(&self) -> bool {
        !self.cells.is_empty() || self.duplicate_of.is_some() || self.report.errors().next().is_some()
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.report.warnings()
    }
}

/// Runs the rules over every form, in file order. Rows accepted so far count as stored for the
/// rows after them: a repeat of an earlier row is refused, and budgets burn as the file goes.
pub fn check_rows<'a>(
    rows: impl IntoIterator<Item = (usize, CostForm, Vec<CellProblem>)> + 'a,
    reference: &'a mut Reference,
) -> impl Iterator<Item = RowCheck> + 'a {
    let mut keys: crate::costs::HashMap<String, usize> = Default::default();
    rows.into_iter().map(move |(row, form, cells)| {
        let report = validate(&form, reference);
        let mut duplicate_of = None;
        if let Some(e) = &report.entry {
            let natural = natural_key(e.date, &e.channel, &e.campaign, &e.country, &e.cost_type, e.amount.currency);
            duplicate_of = keys.get(&natural).copied();
            keys.entry(natural).or_insert(row);
            if !e.invoice_number.is_empty() {
                let invoice = invoice_key(&e.vendor, &e.invoice_number);
                duplicate_of = duplicate_of.or(keys.get(&invoice).copied());
                keys.entry(invoice).or_insert(row);
            }
            if duplicate_of.is_none() && cells.is_empty() {
                let month = (e.date.year(), e.date.month());
                if let Some(b) = reference.budgets.get_mut(&e.campaign).and_then(|m| m.get_mut(&month)) {
                    *b = BudgetMonth { budget: b.budget, spent: b.spent.saturating_add(e.reporting_minor) };
                }
            }
        }
        RowCheck { row, cells, report, duplicate_of }
    })
}

/// Whether checked rows may be stored as a batch, the one rule the page and the command line
/// share: a file with no rows, or any row with an error, is refused; rows with warnings need the
/// person to say they read them. The refusal is a message code.
pub fn verdict(checks: &[RowCheck], accept_warnings: bool) -> Result<(), &'static str> {
    if checks.is_empty() {
        Err("import.empty")
    } else if checks.iter().any(RowCheck::has_errors) {
        Err("import.has_errors")
    } else if !accept_warnings && checks.iter().any(|c| c.warnings().next().is_some()) {
        Err("import.warnings_unaccepted")
    } else {
        Ok(())
    }
}

/// Totals per currency of entries, in minor units, sorted by currency code.
pub fn totals_by_currency<'a>(entries: impl IntoIterator<Item = &'a Money>) -> Vec<(Currency, i64)> {
    let mut totals: Vec<(Currency, i64)> = Vec::new();
    for m in entries {
        match totals.iter_mut().find(|(c, _)| *c == m.currency) {
            Some((_, sum)) => *sum = sum.saturating_add(m.minor),
            None => totals.push((m.currency, m.minor)),
        }
    }
    totals.sort_by_key(|(c, _)| *c);
    totals
}

#[cfg(test)]
mod tests;
