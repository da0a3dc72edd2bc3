//! One instance, `{feature: value, …}`, checked against a signature and turned into the numbers
//! the model reads: every feature present, of its type, within its range or among its categories,
//! finite, and nothing else. Every problem of the instance is named, not only the first.

use super::signature::{Feature, FeatureKind, Signature};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A feature's value as a client sent it. Anything JSON or YAML can hold reads into one, so a
/// value of the wrong kind is reported against its feature, not as a broken request.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    /// A list or an object: never a feature's value.
    Nested(&'static str),
}

/// A feature's value as a client sent it, borrowed: what the rule reads ([`Value`] owns its text;
/// the prediction API reads values straight from the request without copying it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(&'a str),
    Nested(&'static str),
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ValueRef::Null => f.write_str("no value"),
            ValueRef::Bool(b) => write!(f, "{b}"),
            ValueRef::Number(n) => write!(f, "{n}"),
            ValueRef::Text(t) if t.chars().count() > 40 => {
                write!(f, "text \"{}…\"", t.chars().take(40).collect::<String>())
            }
            ValueRef::Text(t) => write!(f, "text \"{t}\""),
            ValueRef::Nested(what) => f.write_str(what),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Number(n) => ValueRef::Number(*n),
            Value::Text(t) => ValueRef::Text(t),
            Value::Nested(what) => ValueRef::Nested(what),
        }
    }

    /// The value as a person reads it: a number, true or false, the text itself.
    pub fn plain(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            other => other.to_string(),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null | Value::Nested(_) => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            // Whole numbers stay whole (a seed, a row count), as they were written.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => s.serialize_i64(*n as i64),
            Value::Number(n) => s.serialize_f64(*n),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a feature's value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E>(self, t: &str) -> Result<Value, E> {
        Ok(Value::Text(t.to_owned()))
    }
    fn visit_string<E>(self, t: String) -> Result<Value, E> {
        Ok(Value::Text(t))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Value::Nested("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Ok(Value::Nested("an object"))
    }
}

/// A problem with one feature of an instance (the caller says which instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureError {
    pub feature: String,
    pub message: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.feature, self.message)
    }
}

/// What a feature takes, in words: "an integer from 0 to 3650", "one of android, ios".
pub fn describe(feature: &Feature) -> String {
    let range = match (feature.min, feature.max) {
        (Some(min), Some(max)) => format!(" from {min} to {max}"),
        (Some(min), None) => format!(" of at least {min}"),
        (None, Some(max)) => format!(" of at most {max}"),
        (None, None) => String::new(),
    };
    match feature.kind {
        FeatureKind::Integer => format!("a whole number{range}"),
        FeatureKind::Float => format!("a number{range}"),
        FeatureKind::Boolean => "true or false".to_owned(),
        FeatureKind::Category => format!("one of {}", feature.categories.join(", ")),
    }
}

/// The number `feature` feeds the model for `value`, or what is wrong with it (the rule every
/// instance's values are checked by, in the browser and on the server).
pub fn feed(feature: &Feature, value: &Value) -> Result<f32, String> {
    feed_ref(feature, value.as_ref())
}

/// [`feed`] for a borrowed value.
pub fn feed_ref(feature: &Feature, value: ValueRef<'_>) -> Result<f32, String> {
    let wrong = || format!("expected {}, got {value}", describe(feature));
    match (feature.kind, value) {
        (_, ValueRef::Null) => Err(format!("missing; expected {}", describe(feature))),
        (FeatureKind::Integer | FeatureKind::Float, ValueRef::Number(n)) => {
            if !n.is_finite() {
                return Err(format!("must be a finite number, got {n}"));
            }
            if feature.kind == FeatureKind::Integer && n.fract() != 0.0 {
                return Err(format!("expected a whole number, got {n}"));
            }
            if let Some(min) = feature.min.filter(|&min| n < min) {
                return Err(format!("{n} is below the minimum {min}"));
            }
            if let Some(max) = feature.max.filter(|&max| n > max) {
                return Err(format!("{n} is above the maximum {max}"));
            }
            if n.abs() > f64::from(f32::MAX) {
                return Err(format!("{n} is too large"));
            }
            Ok(n as f32)
        }
        (FeatureKind::Boolean, ValueRef::Bool(b)) => Ok(if b { 1.0 } else { 0.0 }),
        (FeatureKind::Category, ValueRef::Text(t)) => match feature.categories.iter().position(|c| c == t) {
            Some(i) => Ok(i as f32),
            None => Err(format!("{value} is not one of {}", feature.categories.join(", "))),
        },
        _ => Err(wrong()),
    }
}

/// Checks `instance` against `signature` and appends its row (one number per feature, in the
/// signature's order) to `row`. On a problem nothing is appended and every problem is returned.
pub fn encode(
    signature: &Signature,
    instance: &BTreeMap<String, Value>,
    row: &mut Vec<f32>,
) -> Result<(), Vec<FeatureError>> {
    let mut scratch = Scratch::default();
    let mut check = Check::begin(&signature.input.features, row, &mut scratch);
    for (name, value) in instance {
        match check.position(name) {
            Some(i) => check.value(i, value.as_ref()),
            None => check.unknown(name),
        }
    }
    check.finish()
}

/// The check of one instance, a field at a time (the rule behind [`encode`] and [`Instances`]):
/// each field fed to its feature, then every feature not given reported missing. Problems come in
/// the signature's order, then the fields it does not know; on a problem the row is taken back.
struct Check<'a> {
    features: &'a [Feature],
    row: &'a mut Vec<f32>,
    start: usize,
    /// Kept by the caller, so a batch reuses it from one instance to the next.
    scratch: &'a mut Scratch,
    /// How many fields of this instance were read.
    fields: usize,
    wrong: Vec<(usize, String)>,
    unknown: Vec<String>,
}

/// What a [`Check`] keeps from one instance to the next: which features the instance gave, and
/// where the previous instance had each feature (by the field's place).
#[derive(Default)]
struct Scratch {
    given: Vec<bool>,
    order: Vec<usize>,
}

impl<'a> Check<'a> {
    fn begin(features: &'a [Feature], row: &'a mut Vec<f32>, scratch: &'a mut Scratch) -> Check<'a> {
        let start = row.len();
        row.resize(start + features.len(), f32::NAN);
        scratch.given.clear();
        scratch.given.resize(features.len(), false);
        Check { features, row, start, scratch, fields: 0, wrong: Vec::new(), unknown: Vec::new() }
    }

    /// The feature named `name`, tried first where the previous instance had its field in this
    /// place (a client writes its instances alike), then looked for among them all.
    fn position(&mut self, name: &str) -> Option<usize> {
        let (k, order) = (self.fields, &mut self.scratch.order);
        self.fields += 1;
        if let Some(&i) = order.get(k)
            && self.features[i].name == name
        {
            return Some(i);
        }
        let found = self.features.iter().position(|f| f.name == name)?;
        if k < order.len() {
            order[k] = found;
        } else if k == order.len() {
            order.push(found);
        }
        Some(found)
    }

    fn value(&mut self, i: usize, value: ValueRef<'_>) {
        if std::mem::replace(&mut self.scratch.given[i], true) {
            self.wrong.push((i, "given more than once".to_owned()));
            return;
        }
        match feed_ref(&self.features[i], value) {
            Ok(x) => self.row[self.start + i] = x,
            Err(message) => self.wrong.push((i, message)),
        }
    }

    fn unknown(&mut self, name: &str) {
        self.unknown.push(name.to_owned());
    }

    fn finish(mut self) -> Result<(), Vec<FeatureError>> {
        let features = self.features;
        for (i, feature) in features.iter().enumerate().filter(|(i, _)| !self.scratch.given[*i]) {
            if let Err(message) = feed_ref(feature, ValueRef::Null) {
                self.wrong.push((i, message));
            }
        }
        if self.wrong.is_empty() && self.unknown.is_empty() {
            return Ok(());
        }
        self.row.truncate(self.start);
        self.wrong.sort_by_key(|(i, _)| *i);
        let mut errors: Vec<FeatureError> = std::mem::take(&mut self.wrong)
            .into_iter()
            .map(|(i, message)| FeatureError { feature: features[i].name.clone(), message })
            .collect();
        if !self.unknown.is_empty() {
            let known: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
            let message = format!("not a feature of this model (its features: {})", known.join(", "));
            errors.extend(
                std::mem::take(&mut self.unknown)
                    .into_iter()
                    .map(|feature| FeatureError { feature, message: message.clone() }),
            );
        }
        Err(errors)
    }
}

/// A batch of instances read for one signature: their rows, one after another, and every problem
/// by the instance's index. Rows are kept only while no instance has a problem, and only for the
/// first [`super::MAX_BATCH`] instances (`count` says how many were sent).
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    pub rows: Vec<f32>,
    pub count: usize,
    pub problems: Vec<(usize, FeatureError)>,
}

impl Batch {
    /// Reads a JSON list of instances for `signature` (see [`Instances`]).
    pub fn from_json(signature: &Signature, json: &str) -> serde_json::Result<Batch> {
        use serde::de::DeserializeSeed;
        let mut d = serde_json::Deserializer::from_str(json);
        let batch = Instances { signature }.deserialize(&mut d)?;
        d.end()?;
        Ok(batch)
    }
}

/// Reads a list of instances (`[{feature: value, …}, …]`) straight into a [`Batch`] of rows for
/// `signature`: no instance, name or text is kept, so a batch of a thousand reads without a map
/// or a string per field, by the same rule as [`encode`] (and the same problems, in its order).
pub struct Instances<'s> {
    pub signature: &'s Signature,
}

impl<'de> de::DeserializeSeed<'de> for Instances<'_> {
    type Value = Batch;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Batch, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Instances<'_> {
    type Value = Batch;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of instances")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Batch, A::Error> {
        let features = &self.signature.input.features;
        let wanted = seq.size_hint().unwrap_or(0).min(super::MAX_BATCH);
        let mut batch = Batch { rows: Vec::with_capacity(wanted.max(1) * features.len()), ..Batch::default() };
        let mut scratch = Scratch::default();
        loop {
            if batch.count >= super::MAX_BATCH {
                // Counted, not read: the batch is refused by its size.
                if seq.next_element::<de::IgnoredAny>()?.is_none() {
                    break;
                }
            } else {
                let start = batch.rows.len();
                let check = Check::begin(features, &mut batch.rows, &mut scratch);
                let Some(result) = seq.next_element_seed(Fields(check))? else {
                    // `begin` made room for a row that never came.
                    batch.rows.truncate(start);
                    break;
                };
                if let Err(errors) = result {
                    batch.problems.extend(errors.into_iter().map(|e| (batch.count, e)));
                }
            }
            batch.count += 1;
        }
        if !batch.problems.is_empty() {
            batch.rows = Vec::new();
        }
        Ok(batch)
    }
}

/// One instance's fields, fed to the check as they are read.
struct Fields<'a>(Check<'a>);

impl<'de> de::DeserializeSeed<'de> for Fields<'_> {
    type Value = Result<(), Vec<FeatureError>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Result<(), Vec<FeatureError>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of features and their values")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let check = &mut self.0;
        while let Some(key) = map.next_key_seed(Key(check))? {
            match key {
                Some(i) => map.next_value_seed(Fed(check, i))?,
                None => map.next_value::<de::IgnoredAny>().map(drop)?,
            }
        }
        Ok(self.0.finish())
    }
}

/// A field's name, as the feature's position (or noted as unknown: `None`).
struct Key<'c, 'a>(&'c mut Check<'a>);

impl<'de> de::DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a feature's name")
    }

    fn visit_str<E>(self, name: &str) -> Result<Option<usize>, E> {
        let found = self.0.position(name);
        if found.is_none() {
            self.0.unknown(name);
        }
        Ok(found)
    }
}

/// A field's value, fed to feature `.1` where it is read (text is compared in place).
struct Fed<'c, 'a>(&'c mut Check<'a>, usize);

impl<'de> de::DeserializeSeed<'de> for Fed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Fed<'_, '_> {
    fn put<E>(self, value: ValueRef<'_>) -> Result<(), E> {
        self.0.value(self.1, value);
        Ok(())
    }
}

impl<'de> Visitor<'de> for Fed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a feature's value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.put(ValueRef::Null)
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.put(ValueRef::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.put(ValueRef::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.put(ValueRef::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.put(ValueRef::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        self.put(ValueRef::Number(n))
    }
    fn visit_str<E>(self, t: &str) -> Result<(), E> {
        self.put(ValueRef::Text(t))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        self.put(ValueRef::Nested("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        self.put(ValueRef::Nested("an object"))
    }
}

/// One instance as it was sent: its fields in the order sent, the names borrowed from the request
/// where they need no unescaping (what monitoring keeps of a sampled request; predictions read
/// instances with [`Instances`], straight into rows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instance<'a>(pub Vec<(Cow<'a, str>, Value)>);

impl Serialize for Instance<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Instance<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Instance<'a>, D::Error> {
        d.deserialize_map(InstanceVisitor(std::marker::PhantomData))
    }
}

struct InstanceVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for InstanceVisitor<'a> {
    type Value = Instance<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of features and their values")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Instance<'a>, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
        while let Some((Name(k), v)) = map.next_entry::<Name<'a>, Value>()? {
            fields.push((k, v));
        }
        Ok(Instance(fields))
    }
}

/// A field's name, borrowed when the text has no escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Name<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name<'a>, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Name<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a feature's name")
            }
            fn visit_borrowed_str<E>(self, t: &'de str) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Borrowed(t)))
            }
            fn visit_str<E>(self, t: &str) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Owned(t.to_owned())))
            }
            fn visit_string<E>(self, t: String) -> Result<Name<'a>, E> {
                Ok(Name(Cow::Owned(t)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// [`encode`] for an instance already in numbers, one per feature in the signature's order (the
/// KServe v2 tensor form): each checked as its feature's value would be, a category by its index
/// and a boolean as 0 or 1.
pub fn encode_numbers(signature: &Signature, values: &[f64], row: &mut Vec<f32>) -> Result<(), Vec<FeatureError>> {
    let features = &signature.input.features;
    let start = row.len();
    let mut errors = Vec::new();
    for (feature, &x) in features.iter().zip(values) {
        let fed = match feature.kind {
            FeatureKind::Category if x.fract() == 0.0 && x >= 0.0 && (x as usize) < feature.categories.len() => {
                Ok(x as f32)
            }
            FeatureKind::Category => Err(format!(
                "{x} is not a category's index (0 to {}: {})",
                feature.categories.len() - 1,
                feature.categories.join(", ")
            )),
            FeatureKind::Boolean if x == 0.0 || x == 1.0 => Ok(x as f32),
            FeatureKind::Boolean => Err(format!("expected 0 or 1 (false or true), got {x}")),
            FeatureKind::Integer | FeatureKind::Float => feed(feature, &Value::Number(x)),
        };
        match fed {
            Ok(v) => row.push(v),
            Err(message) => errors.push(FeatureError { feature: feature.name.clone(), message }),
        }
    }
    if values.len() != features.len() {
        let message = format!("{} values for {} features", values.len(), features.len());
        errors.push(FeatureError { feature: "*".into(), message });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        row.truncate(start);
        Err(errors)
    }
}

/// A row of numbers in the signature's order (checked by [`encode_numbers`]) as the instance a
/// client would send: a category by its name, a boolean as true or false.
pub fn decode(signature: &Signature, row: &[f32]) -> BTreeMap<String, Value> {
    signature
        .input
        .features
        .iter()
        .zip(row)
        .map(|(f, &x)| {
            let value = match f.kind {
                FeatureKind::Category => {
                    f.categories.get(x as usize).map_or(Value::Number(f64::from(x)), |c| Value::Text(c.clone()))
                }
                FeatureKind::Boolean => Value::Bool(x != 0.0),
                FeatureKind::Integer | FeatureKind::Float => Value::Number(f64::from(x)),
            };
            (f.name.clone(), value)
        })
        .collect()
}

/// The value a form field's text means for `feature`: a number for numbers, true or false for a
/// boolean (a checkbox sends `on`), the text itself for a category; empty text is no value.
pub fn from_text(feature: &Feature, text: &str) -> Value {
    let text = text.trim();
    if text.is_empty() {
        return Value::Null;
    }
    match feature.kind {
        FeatureKind::Integer | FeatureKind::Float => {
            text.replace(',', "").parse::<f64>().map_or_else(|_| Value::Text(text.to_owned()), Value::Number)
        }
        FeatureKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Value::Bool(true),
            "false" | "off" | "no" | "0" => Value::Bool(false),
            _ => Value::Text(text.to_owned()),
        },
        FeatureKind::Category => Value::Text(text.to_owned()),
    }
}

/// [`encode`] for a form: each feature's text by its name (`fields`), as [`from_text`] reads it.
pub fn encode_text<'a>(
    signature: &Signature,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<f32>, Vec<FeatureError>> {
    let texts: BTreeMap<&str, &str> = fields.into_iter().collect();
    let instance = signature
        .input
        .features
        .iter()
        .filter_map(|f| texts.get(f.name.as_str()).map(|t| (f.name.clone(), from_text(f, t))))
        .collect();
    let mut row = Vec::with_capacity(signature.width());
    encode(signature, &instance, &mut row).map(|()| row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn churn() -> Signature {
        Signature::parse(super::super::signature::tests::CHURN).unwrap()
    }

    fn instance(json: &str) -> BTreeMap<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    fn problems(json: &str) -> Vec<String> {
        let mut row = vec![9.0];
        let errors = encode(&churn(), &instance(json), &mut row).unwrap_err();
        assert_eq!(row, [9.0], "nothing is appended on a problem");
        errors.into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_valid_instance_feeds_its_row_in_the_signatures_order() {
        let mut row = Vec::new();
        let json = r#"{"platform": "ios", "payer": true, "minutes_7d": 20.5, "days_since_last_session": 4}"#;
        encode(&churn(), &instance(json), &mut row).unwrap();
        assert_eq!(row, [4.0, 20.5, 1.0, 1.0]);
        let json = r#"{"platform": "android", "payer": false, "minutes_7d": 0, "days_since_last_session": 3650}"#;
        encode(&churn(), &instance(json), &mut row).unwrap();
        assert_eq!(row[4..], [3650.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn every_problem_of_an_instance_is_named() {
        let found = problems(r#"{"minutes_7d": "20", "payer": 1, "platform": "web", "level": 3}"#);
        assert_eq!(
            found,
            [
                "days_since_last_session: missing; expected a whole number from 0 to 3650",
                "minutes_7d: expected a number from 0 to 10080, got text \"20\"",
                "payer: expected true or false, got 1",
                "platform: text \"web\" is not one of android, ios",
                "level: not a feature of this model (its features: days_since_last_session, minutes_7d, payer, platform)",
            ]
        );
    }

    fn batch(json: &str) -> Result<Batch, String> {
        Batch::from_json(&churn(), json).map_err(|e| e.to_string())
    }

    #[test]
    fn a_batch_reads_into_rows_and_checks_as_maps_do() {
        let ok = r#"{"platform": "ios", "payer": true, "minutes_7d": 20.5, "days_since_last_session": 4}"#;
        // An escaped name or category is read as its text.
        let escaped =
            r#"{"pl\u0061tform": "i\u006fs", "payer": false, "minutes_7d": 0, "days_since_last_session": 3650}"#;
        let read = batch(&format!("[{ok}, {escaped}]")).unwrap();
        assert_eq!(read, Batch { rows: vec![4.0, 20.5, 1.0, 1.0, 3650.0, 0.0, 0.0, 1.0], count: 2, problems: vec![] });

        // Instances need not name their features alike: each is read by its own names, whatever
        // the one before it did (the signature's order, reversed, shuffled, then as the first).
        let orders = [
            r#"{"days_since_last_session": 1, "minutes_7d": 2, "payer": true, "platform": "ios"}"#,
            r#"{"platform": "android", "payer": false, "minutes_7d": 3, "days_since_last_session": 4}"#,
            r#"{"minutes_7d": 5, "days_since_last_session": 6, "platform": "ios", "payer": true}"#,
            r#"{"days_since_last_session": 7, "minutes_7d": 8, "payer": false, "platform": "android"}"#,
        ];
        let read = batch(&format!("[{}]", orders.join(","))).unwrap();
        let want = [1.0, 2.0, 1.0, 1.0, 4.0, 3.0, 0.0, 0.0, 6.0, 5.0, 1.0, 1.0, 7.0, 8.0, 0.0, 0.0];
        assert_eq!((read.rows, read.count), (want.to_vec(), 4));

        // The same problems, in the same order, as the map form (a name given twice is one more),
        // each with its instance's index; the good instances' rows are not kept.
        let bad = r#"{"level": 3, "minutes_7d": "20", "payer": 1, "platform": "web", "payer": true}"#;
        let read = batch(&format!("[{ok}, {bad}, {ok}, {{}}]")).unwrap();
        assert_eq!((read.count, read.rows.len()), (4, 0));
        let problems: Vec<String> = read.problems.iter().map(|(i, e)| format!("{i} {e}")).collect();
        assert_eq!(
            problems,
            [
                "1 days_since_last_session: missing; expected a whole number from 0 to 3650",
                "1 minutes_7d: expected a number from 0 to 10080, got text \"20\"",
                "1 payer: expected true or false, got 1",
                "1 payer: given more than once",
                "1 platform: text \"web\" is not one of android, ios",
                "1 level: not a feature of this model (its features: days_since_last_session, minutes_7d, payer, platform)",
                "3 days_since_last_session: missing; expected a whole number from 0 to 3650",
                "3 minutes_7d: missing; expected a number from 0 to 10080",
                "3 payer: missing; expected true or false",
                "3 platform: missing; expected one of android, ios",
            ]
        );

        // Values of every kind are named against their feature, not as a broken request.
        let kinds = r#"[{"days_since_last_session": null, "minutes_7d": [1], "payer": {"a": 1}, "platform": 1.5}]"#;
        let read = batch(kinds).unwrap();
        let problems: Vec<String> = read.problems.iter().map(|(_, e)| e.to_string()).collect();
        assert_eq!(
            problems,
            [
                "days_since_last_session: missing; expected a whole number from 0 to 3650",
                "minutes_7d: expected a number from 0 to 10080, got a list",
                "payer: expected true or false, got an object",
                "platform: expected one of android, ios, got 1.5",
            ]
        );

        // Past the largest batch, instances are counted, not read.
        let many = format!("[{}]", vec![ok; crate::models::MAX_BATCH + 2].join(","));
        let read = batch(&many).unwrap();
        assert_eq!((read.count, read.rows.len()), (crate::models::MAX_BATCH + 2, crate::models::MAX_BATCH * 4));
        assert_eq!(batch("[]").unwrap(), Batch::default());

        let not_an_object = batch("[[1, 2]]").unwrap_err();
        assert!(not_an_object.contains("expected an object of features"), "{not_an_object}");
        let not_a_list = batch(ok).unwrap_err();
        assert!(not_a_list.contains("expected a list of instances"), "{not_a_list}");
    }

    #[test]
    fn an_instance_is_kept_as_sent() {
        let json = r#"{"platform": "ios", "payer": true, "minutes_7d": 20.5, "days_since_last_session": 4}"#;
        let sent: Instance<'_> = serde_json::from_str(json).unwrap();
        assert!(matches!(sent.0[0].0, Cow::Borrowed("platform")), "names are not copied");
        assert_eq!(serde_json::to_string(&sent).unwrap(), json.replace(": ", ":").replace(", ", ","), "kept as sent");
        let escaped: Instance<'_> = serde_json::from_str(r#"{"pl\u0061tform": "ios"}"#).unwrap();
        assert_eq!(escaped.0[0].0, "platform");
    }

    #[test]
    fn ranges_wholeness_and_kinds() {
        let base = |field: &str| {
            let mut v: serde_json::Value = serde_json::from_str(
                r#"{"days_since_last_session": 4, "minutes_7d": 1.5, "payer": false, "platform": "ios"}"#,
            )
            .unwrap();
            let (k, x) = field.split_once('=').unwrap();
            v[k] = serde_json::from_str(x).unwrap();
            problems(&v.to_string())
        };
        assert_eq!(base("days_since_last_session=3651"), ["days_since_last_session: 3651 is above the maximum 3650"]);
        assert_eq!(base("days_since_last_session=-1"), ["days_since_last_session: -1 is below the minimum 0"]);
        assert_eq!(base("days_since_last_session=2.5"), ["days_since_last_session: expected a whole number, got 2.5"]);
        assert_eq!(
            base("days_since_last_session=null"),
            ["days_since_last_session: missing; expected a whole number from 0 to 3650"]
        );
        assert_eq!(base("minutes_7d=[1]"), ["minutes_7d: expected a number from 0 to 10080, got a list"]);
        assert_eq!(base("platform={\"a\":1}"), ["platform: expected one of android, ios, got an object"]);
        assert_eq!(base("platform=\"IOS\""), ["platform: text \"IOS\" is not one of android, ios"]);
    }

    #[test]
    fn numbers_are_checked_as_their_features_values() {
        let s = churn();
        let mut row = Vec::new();
        encode_numbers(&s, &[4.0, 20.5, 1.0, 1.0], &mut row).unwrap();
        assert_eq!(row, [4.0, 20.5, 1.0, 1.0]);
        let errors = encode_numbers(&s, &[4.5, -1.0, 2.0, 2.0], &mut row).unwrap_err();
        let errors: Vec<String> = errors.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "days_since_last_session: expected a whole number, got 4.5",
                "minutes_7d: -1 is below the minimum 0",
                "payer: expected 0 or 1 (false or true), got 2",
                "platform: 2 is not a category's index (0 to 1: android, ios)",
            ]
        );
        assert_eq!(row.len(), 4, "nothing appended");
        let back = decode(&s, &row);
        assert_eq!(
            back,
            instance(r#"{"days_since_last_session": 4, "minutes_7d": 20.5, "payer": true, "platform": "ios"}"#)
        );
        let mut again = Vec::new();
        encode(&s, &back, &mut again).unwrap();
        assert_eq!(again, row, "decode is encode's inverse");
        assert_eq!((Value::Text("ios".into()).plain(), Value::Number(3.0).plain()), ("ios".into(), "3".into()));
        let short = encode_numbers(&s, &[4.0, 20.5, 1.0], &mut row).unwrap_err();
        assert_eq!(short[0].to_string(), "*: 3 values for 4 features");
    }

    #[test]
    fn form_text_is_read_by_the_features_kind() {
        let s = churn();
        let row = encode_text(
            &s,
            [("days_since_last_session", " 4 "), ("minutes_7d", "1,020.5"), ("payer", "on"), ("platform", "ios")],
        );
        assert_eq!(row.unwrap(), [4.0, 1020.5, 1.0, 1.0]);
        let errors = encode_text(
            &s,
            [("days_since_last_session", "NaN"), ("minutes_7d", "inf"), ("payer", "maybe"), ("platform", "")],
        );
        let errors: Vec<String> = errors.unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "days_since_last_session: must be a finite number, got NaN",
                "minutes_7d: must be a finite number, got inf",
                "payer: expected true or false, got text \"maybe\"",
                "platform: missing; expected one of android, ios",
            ]
        );
    }
}
