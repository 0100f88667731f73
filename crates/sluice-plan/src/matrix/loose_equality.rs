//! GitHub's expression `==`, which is how matrix `include`/`exclude` values
//! are compared with the matrix (GitHub turns every filter value into a
//! `matrix.<key> == <value>` expression).
//!
//! `sluice-expr` keeps its operator private; this applies the same rules
//! through the coercions it does export.

use sluice_expr::{Value, eq_ignore_case};

/// `left == right` with GitHub's coercions: values of different primitive
/// kinds compare as numbers (null is 0, booleans 1 and 0, strings parsed),
/// strings compare ignoring case, and arrays or objects are equal only to
/// the very same instance, which a filter's literal never is.
pub(super) fn loosely_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Boolean(left), Value::Boolean(right)) => left == right,
        (Value::String(left), Value::String(right)) => eq_ignore_case(left, right),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => false,
        // IEEE comparison: NaN equals nothing, so 'abc' == 1 is false.
        _ => left.to_number() == right.to_number(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(json: serde_json::Value) -> Value {
        Value::from_json(&json)
    }

    #[test]
    fn values_github_considers_equal() {
        let cases = [
            (json!(12), json!(12.0)),
            (json!(12), json!("12")),
            (json!(" 12 "), json!(12)),
            (json!("0x10"), json!(16)),
            (json!("1e3"), json!(1000)),
            (json!(null), json!(null)),
            (json!(null), json!(0)),
            (json!(null), json!("")),
            (json!(null), json!(false)),
            (json!(true), json!(1)),
            (json!(true), json!("1")),
            (json!(false), json!(0)),
            (json!("Windows-Latest"), json!("windows-latest")),
            (json!("\u{e9}t\u{e9}"), json!("\u{c9}T\u{c9}")),
            // Two strings compare as text, never as numbers.
            (json!("nan"), json!("NaN")),
        ];
        for (left, right) in &cases {
            let (left, right) = (value(left.clone()), value(right.clone()));
            assert!(loosely_equal(&left, &right), "{left:?} == {right:?}");
            assert!(loosely_equal(&right, &left), "{right:?} == {left:?}");
        }
    }

    #[test]
    fn values_github_considers_different() {
        let cases = [
            (json!(12), json!("12a")),
            (json!("12"), json!("12.0")),
            (json!("abc"), json!("abd")),
            (json!(true), json!("true")),
            (json!(true), json!(2)),
            (json!({"a": 1}), json!({"a": 1})),
            (json!([1]), json!([1])),
            (json!([1]), json!(1)),
            (json!("inf"), json!(1)),
            (json!("1_000"), json!(1000)),
        ];
        for (left, right) in &cases {
            let (left, right) = (value(left.clone()), value(right.clone()));
            assert!(!loosely_equal(&left, &right), "{left:?} != {right:?}");
            assert!(!loosely_equal(&right, &left), "{right:?} != {left:?}");
        }
    }
}
