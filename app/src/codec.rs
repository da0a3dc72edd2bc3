//! How server functions' answers and errors cross the wire: JSON, read from text.
//!
//! Leptos reads an island's props with `serde_json::from_str`, and its own JSON codec reads
//! answers with `serde_json::from_slice`. serde_json's deserialisers are generic over the reader,
//! so every type that arrives both ways (a cost record as a prop and as an answer, a draft, a key
//! line) was compiled into the browser bundle twice. Answers and errors read as text here, so the
//! browser carries one deserialiser per type. Every `#[server]` function names it as its output
//! (`output = Json`); the bytes on the wire are the same as leptos' own JSON.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON in the body of a `POST`'s answer, read as text.
pub type Json = Post<JsonText>;

/// The encoding behind [`Json`]; also [`crate::error::AppError`]'s.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Into::into)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        match std::str::from_utf8(&bytes) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => Err(serde::de::Error::custom("the answer is not UTF-8")),
        }
    }
}
