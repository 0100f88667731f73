//! Reading numbers out of `serde_json` values, with errors that name the
//! path of what is missing.

use crate::report_error::ContentError;
use serde_json::Value;

pub(crate) fn number(value: &Value, path: &str) -> Result<f64, ContentError> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| ContentError(format!("{path} is not a finite number"))),
        Value::Null => Err(format!("{path} is missing").into()),
        other => Err(format!("{path} is not a number ({})", kind(other)).into()),
    }
}

pub(crate) fn numbers(value: &Value, path: &str) -> Result<Vec<f64>, ContentError> {
    let Value::Array(items) = value else {
        return Err(format!("{path} is not a list of numbers").into());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| number(v, &format!("{path}[{i}]")))
        .collect()
}

pub(crate) fn text<'a>(value: &'a Value, path: &str) -> Result<&'a str, ContentError> {
    value
        .as_str()
        .ok_or_else(|| ContentError(format!("{path} is not a string")))
}

pub(crate) fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, ContentError> {
    value
        .as_array()
        .ok_or_else(|| ContentError(format!("{path} is not a list")))
}

pub(crate) fn object<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a serde_json::Map<String, Value>, ContentError> {
    value
        .as_object()
        .ok_or_else(|| ContentError(format!("{path} is not an object")))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
