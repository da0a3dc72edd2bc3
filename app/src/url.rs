//! Text put into URLs, percent-encoded by the crate made for it (the same in the browser and on
//! the server).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a query value keeps as it is: letters, digits and `-`, `_`, `.`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
/// A path carried in a query value (`next=/costs`) also keeps its `/` readable.
const PATH_VALUE: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// `text` as a query value: `a b&c` → `a%20b%26c`.
pub fn query_value(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// A local path as a query value, slashes kept: `/a b` → `/a%20b`.
pub fn path_value(text: &str) -> String {
    utf8_percent_encode(text, PATH_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_are_encoded_for_a_query() {
        assert_eq!(super::query_value("a b&c/ü"), "a%20b%26c%2F%C3%BC");
        assert_eq!(super::path_value("/costs/a b"), "/costs/a%20b");
        assert_eq!(super::query_value("2026-11_x.y"), "2026-11_x.y");
    }
}
