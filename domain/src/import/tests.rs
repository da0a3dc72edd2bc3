use super::*;
use crate::costs::{CampaignInfo, Code, CostTypeInfo};
use proptest::prelude::*;
use time::macros::date;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/import/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(bytes: &[u8]) -> Result<Sheet, FileProblem> {
    read_text(bytes, Limits::default())
}

const HEADER: &str = "date,game,channel,campaign,country,vendor,cost_type,currency,amount,units,invoice_number";

#[test]
fn reads_utf8_with_and_without_bom_and_cp949() {
    let plain = read(fixture("utf8.csv").as_slice()).unwrap();
    assert_eq!((plain.encoding.as_str(), plain.separator, plain.rows.len()), ("UTF-8", ',', 2));
    let bom = read(fixture("utf8-bom.csv").as_slice()).unwrap();
    assert_eq!(bom.encoding, "UTF-8 with BOM");
    assert_eq!(bom.headers, plain.headers, "the BOM is not part of the first header");
    let korean = read(fixture("cp949-semicolon.csv").as_slice()).unwrap();
    assert_eq!((korean.encoding.as_str(), korean.separator), ("CP949", ';'));
    assert_eq!(korean.headers[0], "일자");
    assert_eq!(korean.rows[0][11], "한글 메모");
    let mapping = auto_mapping(&korean.headers);
    assert_eq!(missing_columns(&mapping), []);
    assert_eq!(mapping[11], Some(Column::Memo));
}

#[test]
fn detects_tab_separated_paste() {
    let pasted = "Date\tGame\tAmount\n2026-11-02\tSTARFALL\t\"1,200\"\n";
    let sheet = read(pasted.as_bytes()).unwrap();
    assert_eq!((sheet.separator, sheet.rows[0][2].as_str()), ('\t', "1,200"));
}

#[test]
fn file_problems_are_named() {
    let cases: [(&[u8], &str); 6] = [
        (b"", "import.empty"),
        (b"date,amount\n", "import.empty"),
        (b"date,amount\n\xff\xfe\xfd,1\n", "import.encoding"),
        (b"\xff\xfed\x00a\x00", "import.encoding"),
        (b"date,amount,memo\n2026-11-01,1\n2026-11-02,2,x\n", "import.ragged"),
        (b"date,amount\n\"unterminated,1\n", "import.ragged"),
    ];
    for (bytes, code) in cases {
        assert_eq!(read(bytes).unwrap_err().code, code, "{:?}", String::from_utf8_lossy(bytes));
    }
    let bad = read(&fixture("bad-encoding.csv")).unwrap_err();
    assert_eq!(bad.code, "import.encoding");
    assert!(bad.detail.starts_with("line 3,"), "{}", bad.detail);
    let ragged = read(&fixture("ragged.csv")).unwrap_err();
    assert_eq!(ragged.detail, "row 3: 10 cells; the header has 11");
    let limits = Limits { max_bytes: 10, max_rows: 1 };
    assert_eq!(read_text(b"date,amount\n1,2\n", limits).unwrap_err().code, "import.too_large");
    let limits = Limits { max_bytes: 1000, max_rows: 1 };
    assert_eq!(read_text(b"date\n1\n2\n", limits).unwrap_err().code, "import.too_many_rows");
}

#[test]
fn trailing_empty_cells_and_blank_lines_are_harmless() {
    let short = read(b"date,amount,,\n2026-11-01,1,,\n2026-11-02\n").unwrap_err();
    assert_eq!(short.code, "import.ragged", "a short row is still short");
    let sheet = read(b"date,amount,,\n2026-11-01,1,,\n,,,\n2026-11-02,2,,\n").unwrap();
    assert_eq!(sheet.headers, ["date", "amount"]);
    assert_eq!(sheet.rows, [vec!["2026-11-01".to_owned(), "1".into()], vec![], vec!["2026-11-02".into(), "2".into()]]);
}

#[test]
fn headers_map_by_english_and_korean_aliases() {
    let headers: Vec<String> = [
        "Cost Date",
        "게임",
        "매체",
        "Campaign",
        "국가",
        "Agency",
        "과금방식",
        "통화",
        "금액",
        "Installs",
        "Invoice No.",
        "비고",
        "Extra",
    ]
    .map(String::from)
    .into();
    let mapping = auto_mapping(&headers);
    assert_eq!(missing_columns(&mapping), []);
    assert_eq!(mapping[10], Some(Column::InvoiceNumber));
    assert_eq!(mapping[12], None, "unknown headers are not imported");
    let twice = auto_mapping(&["amount".into(), "cost".into()]);
    assert_eq!(twice, [Some(Column::Amount), None], "a column is taken once");
    assert_eq!(missing_columns(&twice).len(), 8);
}

#[test]
fn dates_are_read_when_unambiguous_and_refused_by_name_when_not() {
    for (text, expected) in [
        ("2026-03-04", "2026-03-04"),
        ("2026/3/4", "2026-03-04"),
        ("2026.03.04", "2026-03-04"),
        ("2026. 3. 4.", "2026-03-04"),
        ("20260304", "2026-03-04"),
        ("25/03/2026", "2026-03-25"),
        ("03/25/2026", "2026-03-25"),
        ("04/04/2026", "2026-04-04"),
        ("2026-03-04 00:00:00", "2026-03-04"),
        ("", ""),
        ("next tuesday", "next tuesday"),
    ] {
        assert_eq!(normalise_date(text), Ok(expected.to_owned()), "{text}");
    }
    assert_eq!(
        normalise_date("03/04/2026"),
        Err(("import.date_ambiguous", "03/04/2026: 2026-04-03 or 2026-03-04?".to_owned()))
    );
    assert_eq!(normalise_date("3/4/26").unwrap_err().0, "import.date_ambiguous");
    assert_eq!(normalise_date("46085"), Err(("import.excel_serial", "46085 = 2026-03-04?".to_owned())));
    assert_eq!(normalise_date("46085.0").unwrap_err().0, "import.excel_serial");
}

#[test]
fn amounts_keep_only_unambiguous_separators_and_symbols() {
    let krw = Some(Currency::KRW);
    let usd = Some(Currency::USD);
    let kwd = Currency::from_code("KWD");
    for (text, currency, expected) in [
        ("1,200,000", krw, "1,200,000"),
        ("₩1,200,000", krw, "1,200,000"),
        ("1,200,000원", krw, "1,200,000"),
        ("KRW 1,200", krw, "1,200"),
        ("1 200 000", krw, "1200000"),
        ("$1,264.50", usd, "1,264.50"),
        ("US$ 12.5", usd, "12.5"),
        ("(1,000)", krw, "-1,000"),
        ("-500", krw, "-500"),
        ("1.234,56", usd, "1234.56"),
        ("12,5", usd, "12.5"),
        ("1.234.567", krw, "1234567"),
        ("1,234", usd, "1,234"),
        ("1.234", kwd, "1.234"),
        ("0.125", usd, "0.125"),
    ] {
        assert_eq!(normalise_amount(text, currency).as_deref(), Ok(expected), "{text}");
    }
    for (text, currency, code) in [
        ("$1,200", krw, "import.symbol_mismatch"),
        ("¥1,200", None, "import.symbol_mismatch"),
        ("USD 10", krw, "import.symbol_mismatch"),
        ("1,234", kwd, "import.amount_ambiguous"),
        ("1.500", usd, "import.amount_ambiguous"),
        ("1.500", krw, "import.amount_ambiguous"),
        ("12abc", krw, "amount.malformed"),
        ("1.23.4", krw, "amount.grouping"),
        ("1,2.3,4", usd, "amount.malformed"),
    ] {
        assert_eq!(normalise_amount(text, currency), Err(code), "{text}");
    }
}

#[test]
fn each_trap_is_named_in_its_cell() {
    let sheet = read(&fixture("traps.csv")).unwrap();
    let mapping = auto_mapping(&sheet.headers);
    let found: Vec<(usize, Vec<(Column, String)>)> = sheet
        .rows
        .iter()
        .enumerate()
        .map(|(i, cells)| {
            let (_, problems) = row_to_form(cells, &mapping);
            (i + 2, problems.into_iter().map(|p| (p.column, p.code)).collect())
        })
        .collect();
    let expect = |code: &str| vec![code.to_owned()];
    let codes = |row: usize| found[row - 2].1.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>();
    assert_eq!(codes(2), Vec::<String>::new(), "a clean row");
    assert_eq!(found[1].1, [(Column::Amount, "import.formula".to_owned())], "row 3: =SUM(...)");
    assert_eq!(codes(4), expect("import.excel_serial"));
    assert_eq!(codes(5), expect("import.date_ambiguous"));
    assert_eq!(codes(6), expect("import.symbol_mismatch"));
    assert_eq!(codes(7), expect("import.amount_ambiguous"));
    assert_eq!(codes(8), expect("import.vat"));
}

fn reference() -> Reference {
    let mut r = Reference::new(date!(2026 - 11 - 20), Currency::KRW);
    let on = Code { active: true };
    r.games.insert("STARFALL".into(), on);
    r.channels.insert("GOOGLE_ADS".into(), on);
    r.countries.insert("KR".into(), on);
    r.vendors.insert("DIRECT".into(), on);
    r.currencies.insert(Currency::KRW, on);
    r.cost_types.insert("FLAT".into(), CostTypeInfo { active: true, unit_priced: false, per_mille_band: None });
    r.campaigns.insert(
        "LAUNCH".into(),
        CampaignInfo {
            game: "STARFALL".into(),
            channel: "GOOGLE_ADS".into(),
            flight_start: date!(2026 - 10 - 01),
            flight_end: date!(2026 - 12 - 31),
            active: true,
        },
    );
    r
}

fn rows(csv: &str) -> Vec<(usize, CostForm, Vec<CellProblem>)> {
    let sheet = read(csv.as_bytes()).unwrap();
    let mapping = auto_mapping(&sheet.headers);
    sheet
        .rows
        .iter()
        .enumerate()
        .map(|(i, cells)| {
            let (form, problems) = row_to_form(cells, &mapping);
            (i + 2, form, problems)
        })
        .collect()
}

#[test]
fn rows_repeating_an_earlier_row_of_the_file_are_refused() {
    let csv = format!(
        "{HEADER}\n2026-11-02,STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"100,000\",,INV-1\n\
         2026-11-03,STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"100,000\",,inv 1\n\
         2026-11-02,STARFALL,GOOGLE_ADS,LAUNCH,kr,DIRECT,FLAT,krw,\"200,000\",,\n\
         2026-11-04,STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"300,000\",,\n"
    );
    let mut r = reference();
    let checked: Vec<RowCheck> = check_rows(rows(&csv), &mut r).collect();
    let dups: Vec<Option<usize>> = checked.iter().map(|c| c.duplicate_of).collect();
    assert_eq!(dups, [None, Some(2), Some(2), None], "same invoice; same natural key");
    assert_eq!(checked.iter().filter(|c| c.has_errors()).count(), 2);
}

#[test]
fn budgets_burn_as_the_file_goes() {
    let mut r = reference();
    let budgets = r.budgets.entry("LAUNCH".into()).or_default();
    budgets.insert((2026, time::Month::November), BudgetMonth { budget: 250_000, spent: 100_000 });
    let csv = format!(
        "{HEADER}\n2026-11-02,STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"100,000\",,\n\
         2026-11-03,STARFALL,GOOGLE_ADS,LAUNCH,KR,DIRECT,FLAT,KRW,\"100,000\",,\n"
    );
    let checked: Vec<RowCheck> = check_rows(rows(&csv), &mut r).collect();
    let warned: Vec<Vec<&str>> = checked.iter().map(|c| c.warnings().map(|w| w.rule.code()).collect()).collect();
    assert_eq!(warned, [vec![], vec!["budget.overrun"]], "the second row crosses 250,000");
}

#[test]
fn totals_add_up_per_currency() {
    let m = |minor, c| Money::new(minor, c);
    let all = [m(100, Currency::USD), m(5, Currency::KRW), m(-30, Currency::USD)];
    assert_eq!(totals_by_currency(&all), [(Currency::KRW, 5), (Currency::USD, 70)]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Whatever the bytes, reading gives a sheet or a named problem, and every row of a sheet reads
    /// into a form without panicking.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        match read(&bytes) {
            Ok(sheet) => {
                let mapping = auto_mapping(&sheet.headers);
                let mut r = reference();
                let rows = sheet.rows.iter().enumerate().map(|(i, c)| {
                    let (form, problems) = row_to_form(c, &mapping);
                    (i + 2, form, problems)
                });
                prop_assert_eq!(check_rows(rows, &mut r).count(), sheet.rows.len());
            }
            Err(problem) => prop_assert!(problem.code.starts_with("import.")),
        }
    }

    /// Text that looks like a cost file, with spreadsheet-ish noise in its cells.
    #[test]
    fn csv_like_text_never_panics(cells in proptest::collection::vec("[0-9,.;₩$()/ =@a-z\"\t-]{0,12}", 1..40)) {
        let text = format!("{HEADER}\n{}", cells.join(","));
        let _ = read(text.as_bytes()).map(|sheet| {
            let mapping = auto_mapping(&sheet.headers);
            sheet.rows.iter().for_each(|c| drop(row_to_form(c, &mapping)));
        });
        for cell in &cells {
            let _ = normalise_amount(cell, Some(Currency::KRW));
            let _ = normalise_amount(cell, Currency::from_code("KWD"));
            let _ = normalise_date(cell);
        }
    }
}

#[cfg(feature = "xlsx")]
#[test]
fn reads_a_workbook_with_dates_and_names_its_formulas() {
    let bytes = fixture("costs.xlsx");
    assert!(is_zip(&bytes));
    let sheet = read_xlsx(&bytes, Limits::default()).unwrap();
    assert_eq!(sheet.encoding, "XLSX");
    assert_eq!(sheet.headers[6], "Cost type");
    assert_eq!(&sheet.rows[0][..2], ["2026-11-02", "STARFALL"], "a date cell reads as a date");
    assert_eq!(sheet.rows[0][8], "100000");
    assert_eq!(sheet.rows[1][8], "=I2*2", "the formula, not its cached value");
    assert_eq!(sheet.rows[2][8], "12.5");
    let mapping = auto_mapping(&sheet.headers);
    let codes =
        |row: usize| -> Vec<String> { row_to_form(&sheet.rows[row], &mapping).1.into_iter().map(|p| p.code).collect() };
    assert_eq!(codes(0), Vec::<String>::new());
    assert_eq!(codes(1), ["import.formula"]);
    assert_eq!(codes(2), ["import.excel_serial"], "a number where a date belongs");
    assert_eq!(read_xlsx(b"PK\x03\x04 not really a zip", Limits::default()).unwrap_err().code, "import.unreadable");
}

#[cfg(feature = "xlsx")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// A damaged workbook (the real one with bytes changed) gives a sheet or a named problem.
    #[test]
    fn damaged_workbooks_never_panic(changes in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..20)) {
        let mut bytes = fixture("costs.xlsx");
        for (at, byte) in changes {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        if let Err(problem) = read_xlsx(&bytes, Limits::default()) {
            prop_assert!(problem.code.starts_with("import."));
        }
    }
}

/// A minimal workbook whose first sheet is `sheet_xml`'s `<sheetData>` content, the sheet written
/// with deflate like Excel does.
#[cfg(feature = "xlsx")]
fn workbook(dimension: &str, sheet_data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut put = |name: &str, parts: &[&[u8]]| {
        zip.start_file(name, deflated).unwrap();
        for part in parts {
            zip.write_all(part).unwrap();
        }
    };
    put("[Content_Types].xml", &[br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#]);
    put("_rels/.rels", &[br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#]);
    put("xl/workbook.xml", &[br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Costs" sheetId="1" r:id="rId1"/></sheets></workbook>"#]);
    put("xl/_rels/workbook.xml.rels", &[br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#]);
    let head = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>"#
    );
    put("xl/worksheets/sheet1.xml", &[head.as_bytes(), sheet_data, b"</sheetData></worksheet>"]);
    zip.finish().unwrap().into_inner()
}

#[cfg(feature = "xlsx")]
fn inline(cell: &str, text: &str) -> String {
    format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

#[cfg(feature = "xlsx")]
#[test]
fn a_built_workbook_reads_like_a_saved_one() {
    let data = format!(
        "<row r=\"1\">{}{}</row><row r=\"2\">{}<c r=\"B2\"><v>12.5</v></c></row>",
        inline("A1", "game"),
        inline("B1", "amount"),
        inline("A2", "STARFALL")
    );
    let sheet = read_xlsx(&workbook("A1:B2", data.as_bytes()), Limits::default()).unwrap();
    assert_eq!(sheet.headers, ["game", "amount"]);
    assert_eq!(sheet.rows, [["STARFALL", "12.5"]]);
}

#[cfg(feature = "xlsx")]
#[test]
fn sparse_sheets_are_refused_at_the_stray_cell_before_anything_is_allocated_for_it() {
    // Two cells, a few hundred bytes: A1 and XFD1048576 (the last cell Excel has).
    let data =
        format!("<row r=\"1\">{}</row><row r=\"1048576\">{}</row>", inline("A1", "game"), inline("XFD1048576", "x"));
    let bytes = workbook("A1:XFD1048576", data.as_bytes());
    assert!(bytes.len() < 4096, "{} bytes", bytes.len());
    let problem = read_xlsx(&bytes, Limits::default()).unwrap_err();
    assert_eq!((problem.code.as_str(), problem.detail.as_str()), ("import.too_wide", "XFD1048576"));

    // Within the columns, far below the row limit: refused at the first cell past it.
    let data =
        format!("<row r=\"1\">{}</row><row r=\"1048576\">{}</row>", inline("A1", "game"), inline("B1048576", "x"));
    let problem = read_xlsx(&workbook("A1:B1048576", data.as_bytes()), Limits::default()).unwrap_err();
    assert_eq!(problem.code, "import.too_many_rows");

    // A stray cell to the right of the table within the columns is ignored, not a wide sheet.
    let data = format!(
        "<row r=\"1\">{}</row><row r=\"2\">{}{}</row>",
        inline("A1", "game"),
        inline("A2", "STARFALL"),
        inline("GR2", "note")
    );
    let sheet = read_xlsx(&workbook("A1:GR2", data.as_bytes()), Limits::default()).unwrap();
    assert_eq!((sheet.headers.len(), sheet.rows[0].len()), (1, 1));
}

#[cfg(feature = "xlsx")]
#[test]
fn a_sheet_with_more_rows_than_the_limit_is_refused() {
    let limits = Limits { max_rows: 10, ..Limits::default() };
    let rows = |n: usize| -> String {
        (1..=n).map(|r| format!("<row r=\"{r}\">{}</row>", inline(&format!("A{r}"), "x"))).collect()
    };
    assert_eq!(read_xlsx(&workbook("A1:A11", rows(11).as_bytes()), limits).unwrap().rows.len(), 10);
    let problem = read_xlsx(&workbook("A1:A12", rows(12).as_bytes()), limits).unwrap_err();
    assert_eq!((problem.code.as_str(), problem.detail.as_str()), ("import.too_many_rows", "> 10"));
}

#[cfg(feature = "xlsx")]
#[test]
fn a_zip_bomb_is_refused_by_what_it_unpacks_to_not_what_it_claims() {
    let limits = Limits { max_bytes: 100 * 1024, ..Limits::default() };
    // 16 MB of spaces inside the sheet: a few kilobytes packed, twice the 8 MB it may unpack to.
    let filler = vec![b' '; 16 << 20];
    let bytes = workbook("A1", &filler);
    assert!(bytes.len() < 100 * 1024, "{} bytes packed", bytes.len());
    let problem = read_xlsx(&bytes, limits).unwrap_err();
    assert_eq!((problem.code.as_str(), problem.detail.as_str()), ("import.unpacked_too_large", "> 8 MB"));
    assert_eq!(read_file(&bytes, limits).unwrap_err().code, "import.unpacked_too_large");
}
