//! GitHub's expression `==`, which is how matrix `include`/`exclude` values
//! are compared with the matrix (GitHub turns every filter value into a
//! `matrix.<key> == <value>` expression), plus the case-insensitive key
//! comparison GitHub applies to matrix keys.
//!
//! Written against `serde_json::Value`; once `sluice-expr` exports its
//! `Value` and `==`, this file should give way to them.

use serde_json::Value;

/// `left == right` with GitHub's coercions: values of different primitive
/// kinds compare as numbers (null is 0, booleans 1 and 0, strings parsed),
/// strings compare ignoring case, and arrays or objects are equal only to
/// the very same instance, which a filter's literal never is.
pub(super) fn loosely_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(left), Value::Bool(right)) => left == right,
        (Value::String(left), Value::String(right)) => eq_ignore_case(left, right),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => false,
        // IEEE comparison: NaN equals nothing, so "abc" == 1 is false.
        _ => to_number(left) == to_number(right),
    }
}

/// Case-insensitive equality by simple (one character) uppercase mapping,
/// the way .NET's `OrdinalIgnoreCase` compares.
pub(super) fn eq_ignore_case(left: &str, right: &str) -> bool {
    left.chars().map(fold_case).eq(right.chars().map(fold_case))
}

fn fold_case(c: char) -> char {
    // .NET leaves the Turkish dotless `ı` alone although Unicode uppercases
    // it to `I`.
    if c == '\u{131}' {
        return c;
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        // `ß` and friends uppercase to several characters: keep them as is.
        _ => c,
    }
}

fn to_number(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Bool(flag) => f64::from(u8::from(*flag)),
        Value::Number(number) => number.as_f64().unwrap_or(f64::NAN),
        Value::String(text) => parse_number(text),
        Value::Array(_) | Value::Object(_) => f64::NAN,
    }
}

/// Text to number as GitHub coerces it (JavaScript's `Number()` rules):
/// whitespace around is ignored, empty text is 0, `0x`/`0o`/`0b` select a
/// radix, `Infinity` may be signed, anything else not a decimal is NaN.
fn parse_number(text: &str) -> f64 {
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return 0.0;
    }
    if let Some(value) = parse_prefixed_integer(text) {
        return value;
    }
    let (sign, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    if magnitude == "Infinity" {
        return sign * f64::INFINITY;
    }
    if !is_decimal(magnitude) {
        return f64::NAN;
    }
    // The shape was checked, so Rust's parser never sees its own extras
    // ("inf", "nan") that JavaScript would reject.
    magnitude.parse::<f64>().map_or(f64::NAN, |value| sign * value)
}

fn parse_prefixed_integer(text: &str) -> Option<f64> {
    let radix = match text.get(..2)? {
        "0x" | "0X" => 16,
        "0o" | "0O" => 8,
        "0b" | "0B" => 2,
        _ => return None,
    };
    let digits = text.get(2..)?;
    if digits.is_empty() {
        return Some(f64::NAN);
    }
    let mut value = 0.0;
    for c in digits.chars() {
        let Some(digit) = c.to_digit(radix) else {
            return Some(f64::NAN);
        };
        value = value * f64::from(radix) + f64::from(digit);
    }
    Some(value)
}

/// `digits [. [digits]] [e [sign] digits]` or `. digits [...]`.
fn is_decimal(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent
            .strip_prefix(['+', '-'])
            .unwrap_or(exponent);
        !digits.is_empty() && all_digits(digits)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_github_considers_equal() {
        let cases = [
            (json!(12), json!(12.0)),
            (json!(12), json!("12")),
            (json!(" 12 "), json!(12)),
            (json!("0x10"), json!(16)),
            (json!("0b101"), json!(5)),
            (json!("1e3"), json!(1000)),
            (json!("1."), json!(1)),
            (json!(".5"), json!(0.5)),
            (json!("+2"), json!(2)),
            (json!(null), json!(null)),
            (json!(null), json!(0)),
            (json!(null), json!("")),
            (json!(null), json!(false)),
            (json!(true), json!(1)),
            (json!(true), json!("1")),
            (json!(false), json!(0)),
            (json!("Windows-Latest"), json!("windows-latest")),
            (json!("\u{e9}t\u{e9}"), json!("\u{c9}T\u{c9}")),
            // `ß` has no one-character uppercase: it only equals itself.
            (json!("stra\u{df}e"), json!("STRA\u{df}E")),
            // Two strings compare as text, never as numbers.
            (json!("nan"), json!("NaN")),
        ];
        for (left, right) in &cases {
            assert!(loosely_equal(left, right), "{left} == {right}");
            assert!(loosely_equal(right, left), "{right} == {left}");
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
            (json!("."), json!(0)),
            (json!("0x"), json!(0)),
            (json!("1e"), json!(1)),
            (json!("1_000"), json!(1000)),
            (json!("\u{131}"), json!("I")),
        ];
        for (left, right) in &cases {
            assert!(!loosely_equal(left, right), "{left} != {right}");
            assert!(!loosely_equal(right, left), "{right} != {left}");
        }
        assert_eq!(parse_number("-Infinity"), f64::NEG_INFINITY);
        assert!(parse_number("Infinityx").is_nan());
    }
}
