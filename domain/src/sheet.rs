//! Cells as a spreadsheet reads them. A cell that begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is run as a formula by Excel, LibreOffice and Google Sheets (CSV injection):
//! MCMS refuses such text where people type it, and writes any it must pass on as text.

use std::borrow::Cow;

/// Whether a spreadsheet would take `text` for a formula: it starts with one of `= + - @`, a tab
/// or a carriage return, and is not simply a number (`-80`, `+1,234.50` stay numbers).
pub fn looks_like_formula(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !is_number(text),
        _ => false,
    }
}

/// An optional sign, digits with optional thousands commas, an optional decimal part.
fn is_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    int.bytes().any(|b| b.is_ascii_digit())
        && int.bytes().all(|b| b.is_ascii_digit() || b == b',')
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// `text` as a cell to write into a CSV or XLSX a person will open: formula-looking text gets a
/// leading `'`, which spreadsheets show as text; numbers and everything else are unchanged.
pub fn cell(text: &str) -> Cow<'_, str> {
    if looks_like_formula(text) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_text_and_numbers_stay_numbers() {
        for formula in
            ["=1+1", "=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-", "+"]
        {
            assert!(looks_like_formula(formula), "{formula:?}");
            assert_eq!(cell(formula), format!("'{formula}"));
        }
        for plain in ["-80", "+12.5", "-1,234.50", "1200", "", "invoice 12", "a=b", "3-4", "'quoted"] {
            assert!(!looks_like_formula(plain), "{plain:?}");
            assert_eq!(cell(plain), plain);
        }
    }
}
