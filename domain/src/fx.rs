//! Exchange rates as people write them, and rate files (CSV) read row by row.

use crate::Currency;
use crate::costs::parse_date;
use serde::{Deserialize, Serialize};
use time::Date;

/// A rate into the reporting currency: one unit of `currency` is `micros / 1,000,000` units of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateRow {
    pub currency: Currency,
    pub date: Date,
    pub micros: i64,
    pub source: String,
}

/// What is wrong with one row of a rate file; `row` counts the header as row 1, like a spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    pub row: usize,
    pub code: String,
    pub detail: String,
}

/// The rows of a CSV table whose header must be `columns` (compared in lower case, a UTF-8 BOM
/// ignored), each with its number as a spreadsheet shows it (header = row 1). A wrong header is then
/// the only problem and no row comes back; a row with the wrong number of cells is a problem and
/// is left out. `code` names both problems.
pub(crate) fn table_rows(
    text: &str,
    columns: &[&str],
    code: &str,
) -> (Vec<(usize, csv::StringRecord)>, Vec<RowProblem>) {
    let problem = |row: usize, detail: String| RowProblem { row, code: code.into(), detail };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim_start_matches('\u{feff}').to_ascii_lowercase()).collect(),
        Err(e) => return (Vec::new(), vec![problem(1, e.to_string())]),
    };
    if header != columns {
        return (Vec::new(), vec![problem(1, header.join(","))]);
    }
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(r) if r.len() == columns.len() => rows.push((i + 2, r)),
            Ok(r) => problems.push(problem(i + 2, format!("{} cells", r.len()))),
            Err(e) => problems.push(problem(i + 2, e.to_string())),
        }
    }
    (rows, problems)
}

/// Reads `1,385.50` as 1,385,500,000 micros: at most six decimals, above zero.
pub fn parse_rate(text: &str) -> Result<i64, &'static str> {
    let s = text.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let grouped_ok = !int.contains(',') || {
        let mut groups = int.split(',');
        let first = groups.next().unwrap_or_default();
        (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3)
    };
    let int: String = int.chars().filter(|c| *c != ',').collect();
    if int.is_empty()
        || !grouped_ok
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err("fx.rate_invalid");
    }
    if frac.len() > 6 {
        return Err("fx.rate_precision");
    }
    let whole: i64 = int.parse().map_err(|_| "fx.rate_invalid")?;
    let fraction: i64 = format!("{frac:0<6}").parse().map_err(|_| "fx.rate_invalid")?;
    let micros = whole.checked_mul(1_000_000).and_then(|w| w.checked_add(fraction)).ok_or("fx.rate_invalid")?;
    if micros == 0 { Err("fx.rate_not_positive") } else { Ok(micros) }
}

/// One rate as typed (currency, date, rate, source, as in a rate file's row): the rate, or each
/// problem with the index of the cell it concerns.
pub fn check_rate(
    cells: [&str; 4],
    reporting: Currency,
    known: impl Fn(Currency) -> bool,
) -> Result<RateRow, Vec<(usize, &'static str)>> {
    let [currency, date, rate, source] = cells.map(str::trim);
    let mut problems = Vec::new();
    let currency = match Currency::from_code(currency) {
        Some(c) if c == reporting => {
            problems.push((0, "fx.currency_reporting"));
            None
        }
        Some(c) if known(c) => Some(c),
        _ => {
            problems.push((0, "fx.currency_unknown"));
            None
        }
    };
    let date = parse_date(date).or_else(|| {
        problems.push((1, "fx.date_invalid"));
        None
    });
    let micros = parse_rate(rate).map_err(|code| problems.push((2, code))).ok();
    if source.is_empty() {
        problems.push((3, "fx.source_missing"));
    }
    match (currency, date, micros) {
        (Some(currency), Some(date), Some(micros)) if problems.is_empty() => {
            Ok(RateRow { currency, date, micros, source: source.to_owned() })
        }
        _ => Err(problems),
    }
}

/// Reads a rate file with the header `currency,date,rate,source`. Either every row is good and all
/// come back, or every problem comes back (with its row), so nothing is half loaded. `known` says
/// which currencies MCMS keeps.
pub fn parse_rates_csv(
    text: &str,
    reporting: Currency,
    known: impl Fn(Currency) -> bool,
) -> Result<Vec<RateRow>, Vec<RowProblem>> {
    let problem = |row: usize, code: &str, detail: &str| RowProblem { row, code: code.into(), detail: detail.into() };
    let (records, mut problems) = table_rows(text, &["currency", "date", "rate", "source"], "fx.columns");
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (row, record) in records {
        let rate = match check_rate([&record[0], &record[1], &record[2], &record[3]], reporting, &known) {
            Ok(rate) => rate,
            Err(found) => {
                problems.extend(found.into_iter().map(|(field, code)| problem(row, code, &record[field])));
                continue;
            }
        };
        let (currency, date) = (rate.currency, rate.date);
        if !seen.insert((currency, date)) {
            problems.push(problem(row, "fx.duplicate", &format!("{currency} {date}")));
            continue;
        }
        rows.push(rate);
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(problem(1, "fx.empty", ""));
    }
    // Ragged rows were set aside while reading: every problem in row order.
    problems.sort_by_key(|p| p.row);
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_exactly() {
        assert_eq!(parse_rate("1,385.50"), Ok(1_385_500_000));
        assert_eq!(parse_rate("9.254321"), Ok(9_254_321));
        assert_eq!(parse_rate("0.000001"), Ok(1));
        assert_eq!(parse_rate("1.0000001"), Err("fx.rate_precision"));
        assert_eq!(parse_rate("0"), Err("fx.rate_not_positive"));
        for bad in ["", "-1", "1e3", "12,34.5", "abc", "1.2.3", "99999999999999999"] {
            assert_eq!(parse_rate(bad), Err("fx.rate_invalid"), "{bad}");
        }
    }

    #[test]
    fn a_single_rate_names_the_cells_in_error() {
        let known = |c: Currency| c.code() != "THB";
        let ok = check_rate([" usd ", "2026-11-02", "1,385.50", " BOK "], Currency::KRW, known).unwrap();
        assert_eq!((ok.currency, ok.micros, ok.source.as_str()), (Currency::USD, 1_385_500_000, "BOK"));
        assert_eq!(
            check_rate(["THB", "2026-11-31", "0", ""], Currency::KRW, known).unwrap_err(),
            [(0, "fx.currency_unknown"), (1, "fx.date_invalid"), (2, "fx.rate_not_positive"), (3, "fx.source_missing")]
        );
        assert_eq!(
            check_rate(["KRW", "2026-11-02", "1", "x"], Currency::KRW, known).unwrap_err(),
            [(0, "fx.currency_reporting")]
        );
    }

    #[test]
    fn a_good_file_loads_whole() {
        let csv = "\u{feff}Currency,Date,Rate,Source\nUSD,2026-11-02,\"1,385.50\",\"Bank of Korea, noon\"\njpy,2026-11-02,9.25,BOK\n";
        let rows = parse_rates_csv(csv, Currency::KRW, |_| true).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].micros, rows[0].source.as_str()), (1_385_500_000, "Bank of Korea, noon"));
        assert_eq!(rows[1].currency.code(), "JPY");
    }

    #[test]
    fn every_problem_comes_back_with_its_row() {
        let csv = "currency,date,rate,source\nUSD,2026-11-02,1385.5,BOK\nXYZ,2026-11-02,1,BOK\nKRW,2026-11-02,1,BOK\nEUR,2026-02-30,1500,BOK\nEUR,2026-11-02,-3,BOK\nTHB,2026-11-02,39.8,\nUSD,2026-11-02,1390,BOK\nUSD\n";
        let problems = parse_rates_csv(csv, Currency::KRW, |c| c.code() != "THB").unwrap_err();
        let got: Vec<(usize, &str)> = problems.iter().map(|p| (p.row, p.code.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "fx.currency_unknown"),
                (4, "fx.currency_reporting"),
                (5, "fx.date_invalid"),
                (6, "fx.rate_invalid"),
                (7, "fx.currency_unknown"),
                (7, "fx.source_missing"),
                (8, "fx.duplicate"),
                (9, "fx.columns"),
            ]
        );
        assert_eq!(parse_rates_csv("date,rate\n", Currency::KRW, |_| true).unwrap_err()[0].code, "fx.columns");
        assert_eq!(
            parse_rates_csv("currency,date,rate,source\n", Currency::KRW, |_| true).unwrap_err()[0].code,
            "fx.empty"
        );
    }
}
