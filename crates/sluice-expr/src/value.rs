//! The values expressions compute with, and GitHub's coercions between them.

use std::borrow::Cow;

use indexmap::IndexMap;

use crate::ignore_case::eq_ignore_case;
use crate::json_text::render_json;
use crate::number::{format_number, parse_number};

/// A value of the expression language: the JSON data model, with every
/// number a double as in GitHub's implementation.
///
/// Object keys keep their insertion order (contexts and `toJSON` output
/// follow it) and are looked up case-insensitively ([`Value::get`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(IndexMap<String, Value>),
}

/// The kind of a [`Value`], named as GitHub names it in messages and results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl ValueKind {
    /// "Null", "Boolean", "Number", "String", "Array" or "Object".
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Null => "Null",
            ValueKind::Boolean => "Boolean",
            ValueKind::Number => "Number",
            ValueKind::String => "String",
            ValueKind::Array => "Array",
            ValueKind::Object => "Object",
        }
    }

    /// Null, booleans, numbers and strings; the kinds that convert to text.
    pub fn is_primitive(self) -> bool {
        !matches!(self, ValueKind::Array | ValueKind::Object)
    }
}

impl Value {
    /// The kind of this value.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Boolean(_) => ValueKind::Boolean,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::Array(_) => ValueKind::Array,
            Value::Object(_) => ValueKind::Object,
        }
    }

    /// "Null", "Boolean", "Number", "String", "Array" or "Object".
    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    /// Null, booleans, numbers and strings.
    pub fn is_primitive(&self) -> bool {
        self.kind().is_primitive()
    }

    /// Converts JSON into a value. Object keys that differ only in letter
    /// case name the same property in GitHub's case-insensitive objects, so
    /// they are merged: the later value wins, the first spelling stays.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Boolean(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(entries) => {
                let mut object = IndexMap::with_capacity(entries.len());
                for (key, value) in entries {
                    insert_ignoring_case(&mut object, key.clone(), Value::from_json(value));
                }
                Value::Object(object)
            }
        }
    }

    /// Converts the value into JSON. JSON cannot express NaN or the
    /// infinities, so they become `null`; integral numbers that a double
    /// represents exactly become JSON integers.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Boolean(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// GitHub's truthiness: `null`, `false`, `0`, `-0`, `NaN` and `''` are
    /// false; everything else, including every array and object, is true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Boolean(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    /// Alias of [`Value::is_truthy`], named after GitHub's coercion.
    pub fn to_boolean(&self) -> bool {
        self.is_truthy()
    }

    /// GitHub's number coercion: null is 0, booleans 1 and 0, strings are
    /// read like JavaScript's `Number()`, arrays and objects are NaN.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Boolean(b) => f64::from(u8::from(*b)),
            Value::Number(n) => *n,
            Value::String(s) => parse_number(s),
            Value::Array(_) | Value::Object(_) => f64::NAN,
        }
    }

    /// The text GitHub substitutes when the value is interpolated into a
    /// string (`format`, `join`, templates): null is empty, numbers use
    /// GitHub's formatting, arrays and objects are "Array" and "Object".
    pub fn to_display_string(&self) -> Cow<'_, str> {
        match self {
            Value::Null => Cow::Borrowed(""),
            Value::Boolean(true) => Cow::Borrowed("true"),
            Value::Boolean(false) => Cow::Borrowed("false"),
            Value::Number(n) => Cow::Owned(format_number(*n)),
            Value::String(s) => Cow::Borrowed(s),
            Value::Array(_) => Cow::Borrowed("Array"),
            Value::Object(_) => Cow::Borrowed("Object"),
        }
    }

    /// Case-insensitive property lookup; `None` for missing keys and for
    /// values that are not objects.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => find_key(entries, key).map(|index| &entries[index]),
            _ => None,
        }
    }

    /// The value rendered as GitHub's `toJSON` renders it: two-space
    /// indentation, `"key": value`, empty containers as `[]` and `{}`.
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        // Without a limit the renderer cannot fail.
        let _ = render_json(self, &mut out, usize::MAX);
        out
    }
}

/// The index of `key` in an object, matching case-insensitively; an exact
/// match is preferred when keys differing only in case coexist.
pub(crate) fn find_key(entries: &IndexMap<String, Value>, key: &str) -> Option<usize> {
    entries.get_index_of(key).or_else(|| {
        entries
            .keys()
            .position(|candidate| eq_ignore_case(candidate, key))
    })
}

fn insert_ignoring_case(object: &mut IndexMap<String, Value>, key: String, value: Value) {
    match find_key(object, &key) {
        Some(index) => object[index] = value,
        None => {
            object.insert(key, value);
        }
    }
}

/// The largest integer below which every integer is exactly a double.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() <= MAX_EXACT_INTEGER {
        // The range check makes the conversion exact; -0 becomes 0.
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Boolean(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Number(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::String(value)
    }
}

impl From<Vec<Value>> for Value {
    fn from(value: Vec<Value>) -> Self {
        Value::Array(value)
    }
}

impl From<IndexMap<String, Value>> for Value {
    fn from(value: IndexMap<String, Value>) -> Self {
        Value::Object(value)
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Self {
        Value::from_json(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_order_and_merges_case_duplicates() {
        let json = serde_json::json!({"b": 1, "a": [true, null, "x"], "B": 2.5});
        let value = Value::from_json(&json);
        assert_eq!(
            value.to_json(),
            serde_json::json!({"b": 2.5, "a": [true, null, "x"]})
        );
        assert_eq!(value.get("A"), value.get("a"));
    }

    #[test]
    fn coercions_follow_github() {
        assert!(!Value::Number(f64::NAN).is_truthy());
        assert!(Value::Array(vec![]).is_truthy());
        assert!(!Value::from("").is_truthy());
        assert_eq!(Value::from(" 0x10 ").to_number(), 16.0);
        assert!(Value::Object(IndexMap::new()).to_number().is_nan());
        assert_eq!(Value::Number(-0.0).to_display_string(), "0");
        assert_eq!(Value::Null.to_display_string(), "");
        assert_eq!(Value::Array(vec![]).to_display_string(), "Array");
    }
}
