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

/// The query parameter that says which form a page was sent back from after it succeeded
/// (posted without JavaScript, or before the page hydrated): `?__ok=/api/admin/users/create`.
/// The server adds it (server::middleware::form_outcome), next to leptos' `__err` for a failure.
pub const FLASH: &str = "__ok";

/// The form a page was sent back from after success, as the browser read it from the URL.
#[derive(Clone, Debug)]
pub struct Flash(pub Option<String>);

/// The path of the server function whose form succeeded just before this page, if any.
pub fn flash() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        form_urlencoded::parse(parts.uri.query()?.as_bytes()).find(|(k, _)| k == FLASH).map(|(_, v)| v.into_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::use_context::<Flash>().and_then(|f| f.0)
    }
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
