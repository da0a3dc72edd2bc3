//! Schema inference from samples: each value is classified (boolean, integer, decimal, float,
//! date, timestamp, text, JSON), each column takes the narrowest type that holds its values, and a
//! few values that do not fit a column otherwise of one type are reported with file and row
//! (a load would reject those rows) rather than turning the whole column into text.
//!
//! Rules worth knowing:
//! - An empty field (or `\N`) is null; a column with one is nullable.
//! - A number written with a leading zero (`007`) is text: loading it as a number loses the zeros.
//! - A decimal keeps its digits (`NUMBER(p, s)`); more than 38 digits, or an exponent, is a float.
//! - A column is given the type of at least 95 % of its values; the rest are named as not fitting.

use super::{Column, ColumnType, Compression, Encoding, FileSummary, Format, Inferred, LISTED, Problem};
use std::collections::BTreeMap;

/// The share of a column's values (in percent) that must fit a type for the column to take it,
/// the rest being reported as not fitting.
pub const FIT_PERCENT: u64 = 95;
/// The largest decimal precision both warehouses take.
pub const MAX_PRECISION: u8 = 38;

const TYPES: [ColumnType; 9] = [
    ColumnType::Boolean,
    ColumnType::Integer,
    ColumnType::Decimal,
    ColumnType::Float,
    ColumnType::Date,
    ColumnType::Timestamp,
    ColumnType::TimestampTz,
    ColumnType::Text,
    ColumnType::Json,
];

fn index(ty: ColumnType) -> usize {
    TYPES.iter().position(|t| *t == ty).unwrap_or(7)
}

/// One value that was seen, kept as an example of its type.
#[derive(Debug, Clone, PartialEq)]
struct Example {
    file: String,
    row: u64,
    value: String,
}

/// What one column's values were, counted by type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    counts: [u64; 9],
    nulls: u64,
    examples: Vec<(ColumnType, Example)>,
    range: Option<(i64, i64)>,
    int_digits: u8,
    scale: u8,
    max_bytes: usize,
    /// A type the file declares (Parquet), taken as is.
    declared: Option<Column>,
}

impl Observed {
    /// A column whose type the file declares (a Parquet footer).
    pub fn declared(column: Column) -> Observed {
        Observed { declared: Some(column), ..Observed::default() }
    }

    pub fn null(&mut self) {
        self.nulls += 1;
    }

    /// Counts a text value (a CSV field, or a JSON string when `strings_only`: then it is text or a
    /// date/time, never a number or boolean, as JSON typed it).
    pub fn text(&mut self, file: &str, row: u64, value: &str, strings_only: bool) {
        if value.is_empty() || value == "\\N" {
            return self.null();
        }
        let ty = if strings_only { classify_string(value) } else { classify(value) };
        self.add(file, row, value, ty);
    }

    fn add(&mut self, file: &str, row: u64, value: &str, ty: ColumnType) {
        self.counts[index(ty)] += 1;
        self.max_bytes = self.max_bytes.max(value.len());
        match ty {
            ColumnType::Integer => {
                if let Ok(n) = value.trim_start_matches('+').parse::<i64>() {
                    self.range = Some(self.range.map_or((n, n), |(lo, hi)| (lo.min(n), hi.max(n))));
                }
                self.digits(value);
            }
            ColumnType::Decimal => self.digits(value),
            _ => {}
        }
        if self.examples.iter().filter(|(t, _)| *t == ty).count() < LISTED {
            self.examples.push((ty, Example { file: file.into(), row, value: truncate(value, 80) }));
        }
    }

    fn digits(&mut self, value: &str) {
        let unsigned = value.trim_start_matches(['+', '-']);
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let whole = whole.trim_start_matches('0').len().max(1);
        self.int_digits = self.int_digits.max(whole.min(255) as u8);
        self.scale = self.scale.max(fraction.len().min(255) as u8);
    }

    fn absorb(&mut self, other: &Observed) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.nulls += other.nulls;
        for (ty, example) in &other.examples {
            if self.examples.iter().filter(|(t, _)| t == ty).count() < LISTED {
                self.examples.push((*ty, example.clone()));
            }
        }
        self.range = match (self.range, other.range) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (a, b) => a.or(b),
        };
        self.int_digits = self.int_digits.max(other.int_digits);
        self.scale = self.scale.max(other.scale);
        self.max_bytes = self.max_bytes.max(other.max_bytes);
        if let Some(theirs) = &other.declared {
            self.declared = Some(match self.declared.take() {
                None => theirs.clone(),
                Some(mine) => {
                    let ty = mine.ty.join(theirs.ty);
                    let range = match (mine.range, theirs.range) {
                        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                        _ => None,
                    };
                    Column {
                        ty,
                        nullable: mine.nullable || theirs.nullable,
                        range,
                        precision: mine.precision.max(theirs.precision),
                        scale: mine.scale.max(theirs.scale),
                        ..mine
                    }
                }
            });
        }
    }

    /// The column's type, and the values that do not fit it.
    fn decide(&self) -> (ColumnType, Vec<&Example>) {
        if let Some(declared) = &self.declared {
            return (declared.ty, Vec::new());
        }
        let present: Vec<ColumnType> = TYPES.into_iter().filter(|t| self.counts[index(*t)] > 0).collect();
        let Some(all) = present.iter().copied().reduce(ColumnType::join) else {
            return (ColumnType::Text, Vec::new());
        };
        if all != ColumnType::Text || present == [ColumnType::Text] {
            return (self.widened(all), Vec::new());
        }
        let seen: u64 = self.counts.iter().sum();
        let fitting = |candidate: ColumnType| -> u64 {
            TYPES.iter().filter(|t| t.fits(candidate)).map(|t| self.counts[index(*t)]).sum()
        };
        let best = present
            .iter()
            .filter(|t| **t != ColumnType::Text)
            .map(|t| present.iter().copied().filter(|o| o.join(*t) != ColumnType::Text).fold(*t, ColumnType::join))
            .max_by_key(|c| fitting(*c));
        match best {
            Some(candidate) if fitting(candidate) * 100 >= seen * FIT_PERCENT => {
                let outliers = self.examples.iter().filter(|(t, _)| !t.fits(candidate)).map(|(_, e)| e).collect();
                (self.widened(candidate), outliers)
            }
            _ => (ColumnType::Text, Vec::new()),
        }
    }

    /// Decimals too wide for the warehouses' NUMBER/DECIMAL are floats.
    fn widened(&self, ty: ColumnType) -> ColumnType {
        if ty == ColumnType::Decimal && self.int_digits.saturating_add(self.scale) > MAX_PRECISION {
            ColumnType::Float
        } else {
            ty
        }
    }

    fn column(&self, name: &str, ty: ColumnType, missing_somewhere: bool) -> Column {
        if let Some(declared) = &self.declared {
            return Column { nullable: declared.nullable || missing_somewhere, ..declared.clone() };
        }
        let numeric = matches!(ty, ColumnType::Decimal);
        Column {
            name: name.into(),
            ty,
            nullable: self.nulls > 0 || missing_somewhere,
            range: if ty == ColumnType::Integer { self.range } else { None },
            precision: if numeric { self.int_digits.saturating_add(self.scale).max(1) } else { 0 },
            scale: if numeric { self.scale } else { 0 },
            max_bytes: Some(self.max_bytes),
            sampled: true,
        }
    }
}

fn truncate(value: &str, chars: usize) -> String {
    match value.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_owned(),
    }
}

/// The type of one text value (a CSV field).
pub fn classify(value: &str) -> ColumnType {
    let v = value.trim();
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        return ColumnType::Boolean;
    }
    if let Some(ty) = number(v) {
        return ty;
    }
    classify_string(v)
}

/// The type of a value that is a string as written: a date, a timestamp, or text.
pub fn classify_string(value: &str) -> ColumnType {
    let v = value.trim();
    if date(v.as_bytes()) && v.len() == 10 {
        ColumnType::Date
    } else if let Some(zoned) = timestamp(v.as_bytes()) {
        if zoned { ColumnType::TimestampTz } else { ColumnType::Timestamp }
    } else {
        ColumnType::Text
    }
}

fn number(v: &str) -> Option<ColumnType> {
    let unsigned = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) || whole.len() + fraction.map_or(0, str::len) == 0 {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        return (!e.is_empty() && digits(e)).then_some(ColumnType::Float);
    }
    // A leading zero is part of an identifier (007, 0123): kept as text.
    if whole.len() > 1 && whole.starts_with('0') {
        return None;
    }
    match fraction {
        None if v.parse::<i64>().is_ok() || unsigned.parse::<i64>().is_ok() => Some(ColumnType::Integer),
        _ => Some(ColumnType::Decimal),
    }
}

fn two(b: &[u8], at: usize) -> Option<u32> {
    let (x, y) = (*b.get(at)?, *b.get(at + 1)?);
    (x.is_ascii_digit() && y.is_ascii_digit()).then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
}

/// `YYYY-MM-DD` at the start of `b`, a real day.
fn date(b: &[u8]) -> bool {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let year = b[..4].iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
    let (Some(month), Some(day)) = (two(b, 5), two(b, 8)) else { return false };
    time::Month::try_from(month as u8)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(year, m, day as u8).ok())
        .is_some()
}

/// `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]` and an optional zone (`Z`, `+09:00`, `+0900`):
/// `Some(zoned)` when it is one.
fn timestamp(b: &[u8]) -> Option<bool> {
    if !date(b) || !matches!(b.get(10), Some(b'T' | b' ')) {
        return None;
    }
    let (hour, minute) = (two(b, 11)?, two(b, 14)?);
    if b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
        return None;
    }
    let mut at = 16;
    if b.get(at) == Some(&b':') {
        if two(b, at + 1)? > 60 {
            return None;
        }
        at += 3;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start || at - start > 9 {
                return None;
            }
        }
    }
    match &b[at..] {
        [] => Some(false),
        [b'Z'] => Some(true),
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2]
            if [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) =>
        {
            Some(true)
        }
        _ => None,
    }
}

/// One file's sample, column by column in the file's order.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSample {
    pub summary: FileSummary,
    pub columns: Vec<(String, Observed)>,
    pub problems: Vec<Problem>,
}

impl FileSample {
    /// A file that could not be read: it counts as a problem and adds no columns.
    pub fn unreadable(summary: FileSummary, reason: impl Into<String>) -> FileSample {
        let file = summary.name.clone();
        FileSample { summary, columns: Vec::new(), problems: vec![Problem::Unreadable { file, reason: reason.into() }] }
    }

    fn readable(&self) -> bool {
        !matches!(self.problems.first(), Some(Problem::Unreadable { .. })) || !self.columns.is_empty()
    }
}

/// The part of a sample to read: whole lines only (a sample cut in the middle of one ends at the
/// line before).
fn whole_lines(bytes: &[u8], cut: bool) -> &[u8] {
    if !cut {
        return bytes;
    }
    match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => &bytes[..=end],
        None => &[],
    }
}

/// How to read CSV samples; `None`s are detected (the delimiter from the header line).
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    pub delimiter: Option<char>,
    /// `false`: the first line is data, and columns are named `c1`, `c2`, …
    pub no_header: bool,
    pub max_rows: usize,
}

/// Reads a CSV sample: `bytes` is the file's start (`cut`: not all of it), already decompressed.
/// Returns the sample and how the file is written.
pub fn sample_csv(mut summary: FileSummary, bytes: &[u8], cut: bool, options: CsvOptions) -> (FileSample, Format) {
    let file = summary.name.clone();
    let bytes = whole_lines(bytes, cut);
    let (text, encoding) = match crate::import::decode(bytes) {
        Ok((text, "CP949")) => (text, Encoding::Cp949),
        Ok((text, _)) => (text, Encoding::Utf8),
        Err(e) => {
            let format = Format::Csv { delimiter: ',', header: !options.no_header, encoding: Encoding::Utf8 };
            return (FileSample::unreadable(summary, e.detail), format);
        }
    };
    let delimiter = options.delimiter.unwrap_or_else(|| crate::import::detect_separator(&text));
    let format = Format::Csv { delimiter, header: !options.no_header, encoding };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(u8::try_from(delimiter).unwrap_or(b','))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut columns: Vec<(String, Observed)> = Vec::new();
    let mut problems = Vec::new();
    let mut rows = 0u64;
    if !options.no_header {
        match records.next() {
            Some(Ok(header)) => {
                columns = header.iter().map(|h| (h.trim().to_owned(), Observed::default())).collect();
            }
            Some(Err(e)) => return (FileSample::unreadable(summary, format!("the header: {e}")), format),
            None => {}
        }
    }
    let max_rows = if options.max_rows == 0 { usize::MAX } else { options.max_rows };
    for record in records.by_ref().take(max_rows) {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(rows + 2, |p| p.line());
                problems.push(Problem::Unreadable { file: file.clone(), reason: format!("row {row}: {e}") });
                break;
            }
        };
        rows += 1;
        let row = record.position().map_or(rows, |p| p.line());
        if options.no_header && columns.len() < record.len() {
            let from = columns.len();
            columns.extend((from..record.len()).map(|i| (format!("c{}", i + 1), Observed::default())));
        }
        if !options.no_header && record.len() != columns.len() {
            if problems.iter().filter(|p| matches!(p, Problem::Ragged { .. })).count() < LISTED {
                problems.push(Problem::Ragged {
                    file: file.clone(),
                    row,
                    expected: columns.len(),
                    found: record.len(),
                });
            }
            continue;
        }
        for (i, (_, observed)) in columns.iter_mut().enumerate() {
            match record.get(i) {
                Some(value) => observed.text(&file, row, value, false),
                None => observed.null(),
            }
        }
    }
    summary.rows = rows;
    // Rows beyond the row limit, or bytes beyond the sample: the count is not the file's.
    summary.sampled = cut || records.next().is_some();
    (FileSample { summary, columns, problems }, format)
}

/// Reads a JSON Lines sample (one JSON object per line; blank lines are skipped).
pub fn sample_jsonl(mut summary: FileSummary, bytes: &[u8], cut: bool, max_rows: usize) -> FileSample {
    let file = summary.name.clone();
    let bytes = whole_lines(bytes, cut);
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return FileSample::unreadable(summary, format!("line {line}: not UTF-8 (JSON is always UTF-8)"));
        }
    };
    let mut columns: Vec<(String, Observed)> = Vec::new();
    let mut problems = Vec::new();
    let mut rows = 0u64;
    let max_rows = if max_rows == 0 { usize::MAX } else { max_rows };
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    for (n, line) in lines.by_ref().take(max_rows) {
        let row = n as u64 + 1;
        let object = match serde_json::from_str::<Line>(line) {
            Ok(Line::Object(o)) => o,
            Ok(Line::Other(what)) => {
                push_capped(&mut problems, Problem::NotJson { file: file.clone(), row, reason: what.into() });
                continue;
            }
            Err(e) => {
                let reason = if line.trim_start().starts_with('{') {
                    let text = e.to_string();
                    format!("column {}: {}", e.column(), text.split(" at line ").next().unwrap_or(&text))
                } else {
                    format!("it starts with {:?}", truncate(line.trim(), 20))
                };
                push_capped(&mut problems, Problem::NotJson { file: file.clone(), row, reason });
                continue;
            }
        };
        rows += 1;
        for (key, value) in &object.0 {
            let at = match columns.iter().position(|(name, _)| name == key) {
                Some(at) => at,
                None => {
                    // Absent from the lines before: null there.
                    columns.push((key.clone(), Observed { nulls: rows - 1, ..Observed::default() }));
                    columns.len() - 1
                }
            };
            let observed = &mut columns[at].1;
            match value {
                serde_json::Value::Null => observed.null(),
                serde_json::Value::Bool(b) => {
                    observed.add(&file, row, if *b { "true" } else { "false" }, ColumnType::Boolean)
                }
                serde_json::Value::Number(number) => {
                    let text = number.to_string();
                    let ty = self::number(&text).unwrap_or(ColumnType::Float);
                    observed.add(&file, row, &text, ty);
                }
                serde_json::Value::String(s) => observed.text(&file, row, s, true),
                composite => observed.add(&file, row, &composite.to_string(), ColumnType::Json),
            }
        }
        for (name, observed) in &mut columns {
            if !object.0.iter().any(|(key, _)| key == name) {
                observed.null();
            }
        }
    }
    summary.rows = rows;
    summary.sampled = cut || lines.next().is_some();
    FileSample { summary, columns, problems }
}

/// A JSON Lines line: an object with its keys in the order written, or what it is instead.
enum Line {
    Object(Ordered),
    Other(&'static str),
}

struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Line, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Line;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(Line::Object(Ordered(entries)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Line, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Line::Other("an array"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Line, E> {
                Ok(Line::Other("a string"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Line, E> {
                Ok(Line::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Line, E> {
                Ok(Line::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Line, E> {
                Ok(Line::Other("a number"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Line, E> {
                Ok(Line::Other("true or false"))
            }
            fn visit_unit<E>(self) -> Result<Line, E> {
                Ok(Line::Other("null"))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

fn push_capped(problems: &mut Vec<Problem>, problem: Problem) {
    if problems.len() < LISTED {
        problems.push(problem);
    }
}

/// Puts the files' samples together: columns in the order they first appear, each with the type
/// of all its files' values; the problems of each file, then those between files.
pub fn merge(format: Format, samples: Vec<FileSample>) -> Inferred {
    let readable: Vec<&FileSample> = samples.iter().filter(|s| s.readable()).collect();
    let mut order: Vec<String> = Vec::new();
    let mut by_name: BTreeMap<&str, Vec<(&str, &Observed)>> = BTreeMap::new();
    for sample in &readable {
        for (name, observed) in &sample.columns {
            if !by_name.contains_key(name.as_str()) {
                order.push(name.clone());
            }
            by_name.entry(name).or_default().push((&sample.summary.name, observed));
        }
    }
    let mut problems: Vec<Problem> = samples.iter().flat_map(|s| s.problems.iter().cloned()).collect();
    let mut columns = Vec::new();
    for name in &order {
        let seen = &by_name[name.as_str()];
        let missing_in: Vec<String> = readable
            .iter()
            .filter(|s| !seen.iter().any(|(file, _)| *file == s.summary.name))
            .map(|s| s.summary.name.clone())
            .collect();
        let mut all = Observed::default();
        for (_, observed) in seen {
            all.absorb(observed);
        }
        let (ty, outliers) = all.decide();
        let per_file: Vec<(String, ColumnType)> = seen
            .iter()
            .filter(|(_, o)| o.declared.is_some() || o.counts.iter().sum::<u64>() > 0)
            .map(|(file, o)| ((*file).to_owned(), o.decide().0))
            .collect();
        let joined = per_file.iter().map(|(_, t)| *t).reduce(ColumnType::join);
        let distinct = per_file.iter().any(|(_, t)| Some(*t) != per_file.first().map(|(_, f)| *f));
        if distinct && joined == Some(ColumnType::Text) && per_file.iter().any(|(_, t)| *t != ColumnType::Text) {
            problems.push(Problem::TypesDisagree { column: name.clone(), types: per_file, chosen: ty });
        }
        for e in outliers {
            problems.push(Problem::DoesNotFit {
                file: e.file.clone(),
                row: e.row,
                column: name.clone(),
                value: e.value.clone(),
                ty,
            });
        }
        if !missing_in.is_empty() {
            problems.push(Problem::ColumnMissing {
                column: name.clone(),
                missing_in: missing_in.clone(),
                files: readable.len(),
            });
        }
        columns.push(all.column(name, ty, !missing_in.is_empty()));
    }
    Inferred { format, columns, files: samples.into_iter().map(|s| s.summary).collect(), problems }
}

/// A file's summary before it is read.
pub fn summary(name: &str, bytes: u64) -> FileSummary {
    FileSummary { name: name.into(), bytes, compression: Compression::from_name(name), rows: 0, sampled: false }
}
