//! Typing of YAML scalars by the YAML 1.2 core schema, as GitHub does.
//!
//! Under YAML 1.2, `yes`, `no`, `on` and `off` are strings, `010` is the
//! decimal number 10 (not octal 8 as in YAML 1.1), and `12_345` is a string.
//! Quoted and block scalars are always strings unless explicitly tagged.

use crate::yaml::{Scalar, ScalarStyle};

/// A scalar's typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Null,
    Boolean(bool),
    Number(f64),
    String(String),
}

/// Why an explicitly tagged scalar could not be read as its tag says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMismatch {
    pub tag: &'static str,
    pub text: String,
}

const CORE: &str = "tag:yaml.org,2002:";

/// Types a scalar: by its explicit tag when it has one, else by the core
/// schema's implicit rules for plain scalars.
pub fn resolve(scalar: &Scalar) -> Result<Typed, TagMismatch> {
    let text = scalar.text.as_str();
    match scalar.tag.as_deref().and_then(|t| t.strip_prefix(CORE)) {
        Some("str") => Ok(Typed::String(text.to_string())),
        Some("null") => Ok(Typed::Null),
        Some("bool") => parse_bool(text).map(Typed::Boolean).ok_or(TagMismatch {
            tag: "bool",
            text: text.to_string(),
        }),
        Some("int") => parse_int(text).map(Typed::Number).ok_or(TagMismatch {
            tag: "int",
            text: text.to_string(),
        }),
        Some("float") => parse_float(text)
            .or_else(|| parse_int(text))
            .map(Typed::Number)
            .ok_or(TagMismatch {
                tag: "float",
                text: text.to_string(),
            }),
        _ if scalar.style != ScalarStyle::Plain => Ok(Typed::String(text.to_string())),
        _ => Ok(resolve_plain(text)),
    }
}

/// The implicit typing of an untagged plain scalar.
pub fn resolve_plain(text: &str) -> Typed {
    if is_null(text) {
        Typed::Null
    } else if let Some(b) = parse_bool(text) {
        Typed::Boolean(b)
    } else if let Some(n) = parse_int(text).or_else(|| parse_float(text)) {
        Typed::Number(n)
    } else {
        Typed::String(text.to_string())
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`.
fn parse_int(text: &str) -> Option<f64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return digits_value(hex, 16);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return digits_value(oct, 8);
    }
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits_value(digits, 10)?;
    Some(if negative { -value } else { value })
}

fn digits_value(digits: &str, radix: u32) -> Option<f64> {
    if digits.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in digits.chars() {
        value = value * f64::from(radix) + f64::from(c.to_digit(radix)?);
    }
    Some(value)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `.inf`, `.nan`.
fn parse_float(text: &str) -> Option<f64> {
    let (sign, body) = match text.as_bytes().first() {
        Some(b'-') => (-1.0, &text[1..]),
        Some(b'+') => (1.0, &text[1..]),
        _ => (1.0, text),
    };
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return Some(sign * f64::INFINITY);
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac_part {
        Some(f) => all_digits(int_part) && all_digits(f) && !(int_part.is_empty() && f.is_empty()),
        None => !int_part.is_empty() && all_digits(int_part),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    if !mantissa_ok || !exponent_ok || (frac_part.is_none() && exponent.is_none()) {
        return None;
    }
    body.parse::<f64>().ok().map(|v| sign * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Typed {
        resolve_plain(text)
    }

    #[test]
    fn core_schema_table() {
        let cases: &[(&str, Typed)] = &[
            ("", Typed::Null),
            ("~", Typed::Null),
            ("NULL", Typed::Null),
            ("true", Typed::Boolean(true)),
            ("FALSE", Typed::Boolean(false)),
            ("yes", Typed::String("yes".into())),
            ("no", Typed::String("no".into())),
            ("on", Typed::String("on".into())),
            ("010", Typed::Number(10.0)),
            ("0755", Typed::Number(755.0)),
            ("-00755", Typed::Number(-755.0)),
            ("+1", Typed::Number(1.0)),
            ("0xff", Typed::Number(255.0)),
            ("0o10", Typed::Number(8.0)),
            ("1.5", Typed::Number(1.5)),
            ("3.10", Typed::Number(3.1)),
            (".5", Typed::Number(0.5)),
            ("1e3", Typed::Number(1000.0)),
            ("-.inf", Typed::Number(f64::NEG_INFINITY)),
            ("12_345", Typed::String("12_345".into())),
            ("1.2.3", Typed::String("1.2.3".into())),
            ("0x", Typed::String("0x".into())),
            ("-", Typed::String("-".into())),
            (".", Typed::String(".".into())),
            ("e5", Typed::String("e5".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(&plain(text), expected, "{text:?}");
        }
        assert!(matches!(plain(".nan"), Typed::Number(n) if n.is_nan()));
    }

    #[test]
    fn quoted_scalars_stay_strings_and_tags_win() {
        let s = |text: &str, style, tag: Option<&str>| Scalar {
            text: text.into(),
            style,
            tag: tag.map(|t| format!("{CORE}{t}")),
        };
        assert_eq!(
            resolve(&s("true", ScalarStyle::SingleQuoted, None)),
            Ok(Typed::String("true".into()))
        );
        assert_eq!(
            resolve(&s("5", ScalarStyle::Plain, Some("str"))),
            Ok(Typed::String("5".into()))
        );
        assert_eq!(
            resolve(&s("0o10", ScalarStyle::Plain, Some("int"))),
            Ok(Typed::Number(8.0))
        );
        assert_eq!(
            resolve(&s("123456", ScalarStyle::Plain, Some("float"))),
            Ok(Typed::Number(123456.0))
        );
        assert!(resolve(&s("maybe", ScalarStyle::Plain, Some("bool"))).is_err());
    }
}
