//! Pipeline files are read in two passes: serde-saphyr reads the YAML (or JSON, which YAML reads)
//! into a tree of plain values, each with its place in the file, and the file's types are then read
//! from that tree by the small reader here. Read straight from the YAML reader, every type of the
//! file made its own copy of the reader's generic code: a third of the code in the pipeline
//! editor's browser bundle. This reader's copies are small: the bundle's wasm is 16% smaller
//! (brotli, which had squeezed the copies well, 3%; docs/benchmarks.md).
//!
//! A problem keeps its place: an error raised while a value is read is placed at that value (an
//! unknown key at the key, a missing key at its map, a wrong type at the value).

use serde::de::{self, Deserialize, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use std::fmt;

/// A place in the file: line and column, from 1 (0 when the value has none, see [`Spanned`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Place {
    pub line: u64,
    pub column: u64,
}

/// A value and the place in the file where it is written, for problems named where they are.
///
/// Read from anything but the file's tree (a value serde buffers to find an internally tagged
/// enum's variant), it has no place (0, 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    pub at: Place,
}

/// A problem reading the file's types from its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub at: Place,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error { message: message.to_string(), at: Place::default() }
    }

    /// An empty value (`name:`, `~`, `null`) is "no value", not serde's "unit value".
    fn invalid_type(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        match unexpected {
            de::Unexpected::Unit => de::Error::custom(format_args!("no value, expected {expected}")),
            other => de::Error::custom(format_args!("invalid type: {other}, expected {expected}")),
        }
    }
}

impl Error {
    /// Placed at `at` unless a value inside placed it already.
    fn at(mut self, at: Place) -> Self {
        if self.at == Place::default() {
            self.at = at;
        }
        self
    }
}

/// A YAML syntax problem, or a value that does not fit the type.
pub enum ReadError {
    Syntax(serde_saphyr::Error),
    Shape(Error),
}

/// Reads `text` as a `T`: the YAML into a tree, then `T` from the tree.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, ReadError> {
    let mut options = serde_saphyr::options::Options::default();
    // `.inf` and `.nan` as any other scalar: text where text is wanted.
    options.non_finite_float_policy = serde_saphyr::options::NonFiniteFloatPolicy::PassThrough;
    let mut root: Node = serde_saphyr::from_str_with_options(text, options).map_err(ReadError::Syntax)?;
    root.keep_text(text);
    T::deserialize(&root).map_err(|e| ReadError::Shape(e.at(root.at)))
}

/// A value of the file with its place.
#[derive(Debug)]
struct Node {
    value: Value,
    at: Place,
    /// Where a scalar is written (bytes), for its text.
    span: Option<(usize, usize)>,
    /// A scalar the reader typed (a number, `true`, `null`), as it is written: a field of text
    /// takes `2026` or `01` as written, not as the number they also are.
    written: Option<String>,
}

#[derive(Debug)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Text(String),
    List(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// Gives every typed scalar its text, from the file.
    fn keep_text(&mut self, source: &str) {
        match &mut self.value {
            Value::List(items) => items.iter_mut().for_each(|n| n.keep_text(source)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.keep_text(source);
                v.keep_text(source);
            }),
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_) => {
                let written = self.span.and_then(|(from, len)| source.get(from..from + len)).unwrap_or("");
                self.written = Some(written.trim().to_owned());
            }
            Value::Text(_) => {}
        }
    }

    /// A scalar's text: as written, for one the reader typed.
    fn text(&self) -> Option<&str> {
        match (&self.value, &self.written) {
            (Value::Text(s), _) => Some(s),
            (Value::Null, _) => None,
            (_, Some(written)) => Some(written),
            _ => None,
        }
    }

    fn unexpected(&self) -> de::Unexpected<'_> {
        match &self.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Int(i) => de::Unexpected::Signed(*i),
            Value::Uint(u) => de::Unexpected::Unsigned(*u),
            Value::Float(f) => de::Unexpected::Float(*f),
            Value::Text(s) => de::Unexpected::Str(s),
            Value::List(_) => de::Unexpected::Seq,
            Value::Map(_) => de::Unexpected::Map,
        }
    }
}

// Reading the tree from the YAML: only these types meet serde-saphyr's generic code.

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let spanned = serde_saphyr::Spanned::<Value>::deserialize(d)?;
        let place = spanned.referenced;
        let span = place.span();
        Ok(Node {
            value: spanned.value,
            at: Place { line: place.line(), column: place.column() },
            span: span.byte_offset().zip(span.byte_len()).map(|(from, len)| (from as usize, len as usize)),
            written: None,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Uint(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::Text(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::List(items))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Value::Map(entries))
            }
        }
        d.deserialize_any(Any)
    }
}

// Reading the file's types from the tree.

/// The name `Spanned` asks for its place by (a reader that does not know it gives the value alone).
const SPANNED: &str = "mcms::pipeline::Spanned";

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Parts<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Parts<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            /// From the tree: line, column, value.
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut parts: A) -> Result<Spanned<T>, A::Error> {
                let line = parts.next_element()?.unwrap_or(0);
                let column = parts.next_element()?.unwrap_or(0);
                let value = parts.next_element()?.ok_or_else(|| de::Error::invalid_length(2, &self))?;
                Ok(Spanned { value, at: Place { line, column } })
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Spanned<T>, D::Error> {
                Ok(Spanned { value: T::deserialize(d)?, at: Place::default() })
            }
        }
        d.deserialize_newtype_struct(SPANNED, Parts(std::marker::PhantomData))
    }
}

/// A `Spanned`'s parts: its line and column, then the value.
struct SpanParts<'a> {
    node: &'a Node,
    next: u8,
}

impl<'de> de::SeqAccess<'de> for SpanParts<'de> {
    type Error = Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        self.next += 1;
        match self.next {
            1 => seed.deserialize(self.node.at.line.into_deserializer()).map(Some),
            2 => seed.deserialize(self.node.at.column.into_deserializer()).map(Some),
            3 => seed.deserialize(self.node).map(Some),
            _ => Ok(None),
        }
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = Error;
    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(item).map_err(|e| e.at(item.at))).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> de::MapAccess<'de> for Entries<'de> {
    type Error = Error;
    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(key).map(Some).map_err(|e| e.at(key.at))
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value).map_err(|e| e.at(value.at)),
            None => Err(de::Error::custom("a value without its key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum written as a map of one entry: the variant's name, then what it holds.
struct Variant<'a> {
    name: &'a Node,
    content: &'a Node,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = Error;
    type Variant = &'de Node;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, &'de Node), Error> {
        Ok((seed.deserialize(self.name)?, self.content))
    }
}

impl<'de> de::VariantAccess<'de> for &'de Node {
    type Error = Error;
    fn unit_variant(self) -> Result<(), Error> {
        match &self.value {
            Value::Null => Ok(()),
            _ => Err(<Error as de::Error>::invalid_type(self.unexpected(), &"nothing after the name").at(self.at)),
        }
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}

/// A number may be written in quotes (`"version": "1"`, as JSON files often have it).
macro_rules! numbers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let Value::Text(text) = &self.value else {
                return self.deserialize_any(visitor);
            };
            let text = text.trim();
            match (text.parse::<u64>(), text.parse::<i64>(), text.parse::<f64>()) {
                (Ok(u), _, _) => visitor.visit_u64(u),
                (_, Ok(i), _) => visitor.visit_i64(i),
                (_, _, Ok(f)) => visitor.visit_f64(f),
                _ => visitor.visit_borrowed_str(text),
            }
            .map_err(|e: Error| e.at(self.at))
        }
    )*};
}

impl<'de> Deserializer<'de> for &'de Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Uint(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Text(s) => visitor.visit_borrowed_str(s),
            Value::List(items) => visitor.visit_seq(Items(items.iter())),
            Value::Map(entries) => visitor.visit_map(Entries { entries: entries.iter(), value: None }),
        }
        .map_err(|e| e.at(self.at))
    }

    /// Any scalar is text as written (`name: 2026` is the name "2026").
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text() {
            Some(text) => visitor.visit_borrowed_str(text).map_err(|e: Error| e.at(self.at)),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.at(self.at))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        match name {
            SPANNED => visitor.visit_seq(SpanParts { node: self, next: 0 }),
            _ => visitor.visit_newtype_struct(self),
        }
        .map_err(|e| e.at(self.at))
    }

    /// A variant without content by its name (`format: csv`), one with content as a map of one
    /// entry (`files: { … }`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match (&self.value, self.text(), self.written.as_deref()) {
            (Value::Map(entries), _, _) if entries.len() == 1 => {
                visitor.visit_enum(Variant { name: &entries[0].0, content: &entries[0].1 })
            }
            (_, Some(name), _) => visitor.visit_enum(name.into_deserializer()),
            // A variant named `null` (`on_error: null`) is written as YAML's null.
            (Value::Null, None, Some(written)) if !written.is_empty() => {
                visitor.visit_enum(written.into_deserializer())
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e: Error| e.at(self.at))
    }

    /// A struct is a map (serde would also take a list of the fields' values in order).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.value {
            Value::Map(_) => self.deserialize_any(visitor),
            // An empty file or section: a map without keys (so the missing ones are named).
            Value::Null => visitor.visit_map(Entries { entries: [].iter(), value: None }).map_err(|e| e.at(self.at)),
            _ => Err(<Error as de::Error>::invalid_type(self.unexpected(), &visitor).at(self.at)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    numbers! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16
    deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 }

    serde::forward_to_deserialize_any! {
        bool i128 u128 char bytes byte_buf unit unit_struct
        seq tuple tuple_struct map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct File {
        name: Spanned<String>,
        #[serde(default)]
        count: Option<u32>,
        #[serde(default)]
        ratio: Option<f64>,
        #[serde(default)]
        kinds: Vec<Kind>,
        #[serde(default)]
        tagged: BTreeMap<String, Tagged>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Sized { size: u32 },
        Named(Spanned<String>),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    enum Tagged {
        Folder { path: String },
    }

    fn shape(text: &str) -> Error {
        match read::<File>(text) {
            Err(ReadError::Shape(e)) => e,
            Err(ReadError::Syntax(e)) => panic!("not YAML: {e}"),
            Ok(f) => panic!("read {f:?}"),
        }
    }

    fn file(text: &str) -> File {
        read::<File>(text).unwrap_or_else(|e| match e {
            ReadError::Syntax(e) => panic!("{e}"),
            ReadError::Shape(e) => panic!("{e:?}"),
        })
    }

    #[test]
    fn values_have_their_places_and_scalars_are_text_as_written() {
        let f = file("count: 3\nname: 0042\nratio: 2\nkinds:\n  - plain\n  - sized: { size: 7 }\n  - named:   x\n");
        assert_eq!(f.name, Spanned { value: "0042".into(), at: Place { line: 2, column: 7 } });
        assert_eq!((f.count, f.ratio), (Some(3), Some(2.0)));
        assert_eq!(
            f.kinds,
            [
                Kind::Plain,
                Kind::Sized { size: 7 },
                Kind::Named(Spanned { value: "x".into(), at: Place { line: 7, column: 14 } })
            ]
        );
        let f = file("{\"name\": true, \"tagged\": {\"a\": {\"kind\": \"folder\", \"path\": \"p\"}}}");
        assert_eq!(f.name.value, "true");
        assert_eq!(f.tagged["a"], Tagged::Folder { path: "p".into() });
        // A number in quotes is the number; `.inf` where text is wanted is that text.
        let f = file("{\"name\": .inf, \"count\": \"12\", \"ratio\": \"0.5\"}");
        assert_eq!((f.name.value.as_str(), f.count, f.ratio), (".inf", Some(12), Some(0.5)));
    }

    #[test]
    fn each_kind_of_mistake_is_placed_where_it_is() {
        // An unknown key: at the key.
        let e = shape("name: a\ncont: 3\n");
        assert!(e.message.contains("unknown field `cont`"), "{e:?}");
        assert_eq!(e.at, Place { line: 2, column: 1 });
        // A missing key: at its map; an empty file is a map without keys.
        let e = shape("count: 3\n");
        assert!(e.message.contains("missing field `name`"), "{e:?}");
        assert_eq!(e.at, Place { line: 1, column: 1 });
        assert!(shape("").message.contains("missing field `name`"));
        // No value where text is wanted.
        let e = shape("name:\n");
        assert!(e.message.contains("no value, expected a string"), "{e:?}");
        // A wrong type: at the value.
        let e = shape("name: a\ncount: many\n");
        assert!(e.message.contains("invalid type: string \"many\""), "{e:?}");
        assert_eq!(e.at.line, 2);
        let e = shape("name: a\nkinds:\n  - sized: { size: -1 }\n");
        assert!(e.message.contains("invalid value: integer `-1`"), "{e:?}");
        assert_eq!(e.at, Place { line: 3, column: 20 });
        // An unknown variant: at its name, with or without content.
        let e = shape("name: a\nkinds: [plain, null]\n");
        assert!(e.message.contains("unknown variant `null`"), "a variant named as YAML's null: {e:?}");
        let e = shape("name: a\nkinds: [plain, bent]\n");
        assert!(e.message.contains("unknown variant `bent`"), "{e:?}");
        assert_eq!(e.at, Place { line: 2, column: 16 });
        let e = shape("name: a\nkinds:\n  - bent: 1\n");
        assert_eq!(e.at, Place { line: 3, column: 5 });
        // A variant without content given some.
        let e = shape("name: a\nkinds:\n  - plain: 1\n");
        assert_eq!(e.at.line, 3);
        // Inside a tagged enum (serde buffers it, then reads the buffer): at the tagged value.
        let e = shape("name: a\ntagged:\n  a:\n    kind: folder\n    url: secret\n");
        assert!(e.message.contains("unknown field `url`") && !e.message.contains("secret"), "{e:?}");
        assert_eq!(e.at, Place { line: 4, column: 5 });
        // Not a map at all, or a list where a map is wanted.
        let e = shape("- 1\n");
        assert!(e.message.contains("invalid type: sequence, expected struct File"), "{e:?}");
        let e = shape("name: a\nkinds:\n  - sized: [1]\n");
        assert_eq!(e.at, Place { line: 3, column: 12 });
    }

    #[test]
    fn yaml_that_does_not_parse_is_a_syntax_problem() {
        assert!(matches!(read::<File>("name: [a\n"), Err(ReadError::Syntax(_))));
        // Repeated keys are refused by the reader, not left to the last.
        assert!(matches!(read::<File>("name: a\nname: b\n"), Err(ReadError::Syntax(_))));
    }
}
