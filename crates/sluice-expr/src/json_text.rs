//! Renders values as GitHub's `toJSON` does: two-space indentation,
//! `"key": value`, `[]` and `{}` for empty containers.
//!
//! Output can be much larger than the value (indentation grows with depth),
//! so the writer checks a length limit as it goes and stops early instead of
//! building a huge string that the memory budget would reject afterwards.

use std::fmt::Write as _;

use indexmap::IndexMap;

use crate::number::format_json_number;
use crate::value::Value;

/// The rendered text would have exceeded the allowed length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputTooLarge;

/// Appends the rendering of `value` to `out`, failing once `out` grows past
/// `max_len` bytes.
pub(crate) fn render_json(
    value: &Value,
    out: &mut String,
    max_len: usize,
) -> Result<(), OutputTooLarge> {
    JsonWriter { out, max_len }.value(value, 0)
}

/// Appends the rendering of an array given as its items; used for the
/// filtered arrays of `.*`, which are not stored as a [`Value`].
pub(crate) fn render_json_array<'v>(
    items: impl ExactSizeIterator<Item = &'v Value>,
    out: &mut String,
    max_len: usize,
) -> Result<(), OutputTooLarge> {
    JsonWriter { out, max_len }.array(items, 0)
}

struct JsonWriter<'o> {
    out: &'o mut String,
    max_len: usize,
}

impl JsonWriter<'_> {
    fn value(&mut self, value: &Value, indent: usize) -> Result<(), OutputTooLarge> {
        match value {
            Value::Null => self.out.push_str("null"),
            Value::Boolean(true) => self.out.push_str("true"),
            Value::Boolean(false) => self.out.push_str("false"),
            Value::Number(n) => self.out.push_str(&format_json_number(*n)),
            Value::String(s) => self.string(s),
            Value::Array(items) => return self.array(items.iter(), indent),
            Value::Object(entries) => return self.object(entries, indent),
        }
        self.check()
    }

    fn array<'v>(
        &mut self,
        items: impl ExactSizeIterator<Item = &'v Value>,
        indent: usize,
    ) -> Result<(), OutputTooLarge> {
        if items.len() == 0 {
            self.out.push_str("[]");
            return self.check();
        }
        self.out.push('[');
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(indent + 1);
            self.value(item, indent + 1)?;
        }
        self.newline(indent);
        self.out.push(']');
        self.check()
    }

    fn object(
        &mut self,
        entries: &IndexMap<String, Value>,
        indent: usize,
    ) -> Result<(), OutputTooLarge> {
        if entries.is_empty() {
            self.out.push_str("{}");
            return self.check();
        }
        self.out.push('{');
        for (i, (key, item)) in entries.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(indent + 1);
            self.string(key);
            self.out.push_str(": ");
            self.value(item, indent + 1)?;
        }
        self.newline(indent);
        self.out.push('}');
        self.check()
    }

    fn newline(&mut self, indent: usize) {
        self.out.push('\n');
        for _ in 0..indent {
            self.out.push_str("  ");
        }
    }

    /// JSON string escaping as `JSON.stringify` does it: quotes, backslashes
    /// and control characters only; all other characters are written as-is.
    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                c if c < ' ' => {
                    let _ = write!(self.out, "\\u{:04x}", u32::from(c));
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn check(&self) -> Result<(), OutputTooLarge> {
        if self.out.len() > self.max_len {
            Err(OutputTooLarge)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_containers_with_two_space_indent() {
        let value = Value::from_json(&serde_json::json!({"a": [1, [], {}], "b": "x\"\n\u{1}"}));
        assert_eq!(
            value.to_json_string(),
            "{\n  \"a\": [\n    1,\n    [],\n    {}\n  ],\n  \"b\": \"x\\\"\\n\\u0001\"\n}"
        );
    }

    #[test]
    fn stops_once_the_limit_is_exceeded() {
        let value = Value::Array(vec![Value::from("0123456789"); 1000]);
        let mut out = String::new();
        assert_eq!(render_json(&value, &mut out, 100), Err(OutputTooLarge));
        assert!(out.len() < 200);
    }
}
