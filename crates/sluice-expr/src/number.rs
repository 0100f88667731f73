//! Numbers as GitHub reads and prints them.
//!
//! GitHub's evaluator is written in C#; its string-to-number rules imitate
//! JavaScript's `Number()` and it prints numbers with .NET's `G15` format.
//! Both are reimplemented here from their specifications.

/// Parses text the way JavaScript's `Number()` does, which is what GitHub
/// uses both for number literals and for coercing strings to numbers:
/// surrounding whitespace is ignored, the empty string is 0, `0x`/`0o`/`0b`
/// prefixes select a radix (without a sign), `Infinity` may be signed, and
/// anything else that is not a decimal literal is NaN.
pub fn parse_number(text: &str) -> f64 {
    let trimmed = text.trim_matches(is_js_whitespace);
    if trimmed.is_empty() {
        return 0.0;
    }
    if let Some(value) = parse_radix_integer(trimmed) {
        return value;
    }
    let (negative, unsigned) = match trimmed.as_bytes()[0] {
        b'-' => (true, &trimmed[1..]),
        b'+' => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let magnitude = if unsigned == "Infinity" {
        f64::INFINITY
    } else if is_decimal_literal(unsigned) {
        // The grammar was checked above, so Rust's parser (which would also
        // accept "inf" or "nan") only ever sees plain decimal literals.
        unsigned.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        return f64::NAN;
    };
    if negative { -magnitude } else { magnitude }
}

/// JavaScript's WhiteSpace and LineTerminator characters, which `Number()` trims.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{A}' | '\u{B}' | '\u{C}' | '\u{D}' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// `0x1F`, `0o17`, `0b101` (either letter case); `None` when the text has no
/// such prefix, NaN when the digits after the prefix are invalid.
fn parse_radix_integer(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    if bytes.len() < 2 || bytes[0] != b'0' {
        return None;
    }
    let radix = match bytes[1] {
        b'x' | b'X' => 16,
        b'o' | b'O' => 8,
        b'b' | b'B' => 2,
        _ => return None,
    };
    let digits = &text[2..];
    if digits.is_empty() {
        return Some(f64::NAN);
    }
    let mut value = 0.0_f64;
    for c in digits.chars() {
        match c.to_digit(radix) {
            Some(digit) => value = value * f64::from(radix) + f64::from(digit),
            None => return Some(f64::NAN),
        }
    }
    Some(value)
}

/// `digits [. digits] [exponent]` or `. digits [exponent]`, unsigned.
fn is_decimal_literal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    let integer_digits = count_digits(&bytes[i..]);
    i += integer_digits;
    let mut fraction_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        fraction_digits = count_digits(&bytes[i..]);
        i += fraction_digits;
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let exponent_digits = count_digits(&bytes[i..]);
        if exponent_digits == 0 {
            return false;
        }
        i += exponent_digits;
    }
    i == bytes.len()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Formats a number the way GitHub converts it to a string (.NET's `G15`):
/// at most 15 significant digits, trailing zeros dropped, scientific notation
/// (`1E+15`, `1E-05`) outside the range 1e-5 ..< 1e15, and zero always "0".
pub fn format_number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        // Covers -0 as well: GitHub prints it as "0".
        return "0".to_owned();
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        // Integers below 10^15 have at most 15 digits: G15 prints them as
        // they are. The shortcut matters: matrix values are mostly small
        // integers and are formatted for every job instance's name.
        return (value as i64).to_string();
    }
    let (negative, digits, exponent) = decimal_digits(&format!("{value:.14e}"));
    let digits = digits.trim_end_matches('0');
    let body = if (-4..15).contains(&exponent) {
        fixed_notation(digits, exponent)
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}E{sign}{:02}", exponent.unsigned_abs())
    };
    if negative { format!("-{body}") } else { body }
}

/// Formats a number for JSON output the way JavaScript's `JSON.stringify`
/// does for finite values (shortest round-trip digits, exponent only outside
/// 1e-7 ..< 1e21). Non-finite values are written as `NaN`, `Infinity` and
/// `-Infinity`, as GitHub's `toJSON` (Newtonsoft.Json) writes them.
pub fn format_json_number(value: f64) -> String {
    if !value.is_finite() {
        return format_number(value);
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let (negative, digits, exponent) = decimal_digits(&format!("{value:e}"));
    let body = if (-6..21).contains(&exponent) {
        fixed_notation(&digits, exponent)
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{}", exponent.unsigned_abs())
    };
    if negative { format!("-{body}") } else { body }
}

/// Splits Rust's scientific rendering (`-1.2345e-7`) into sign, the
/// significant digits without the point ("12345") and the decimal exponent.
fn decimal_digits(scientific: &str) -> (bool, String, i32) {
    let (negative, unsigned) = match scientific.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, scientific),
    };
    let (mantissa, exponent) = unsigned.split_once('e').unwrap_or((unsigned, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (negative, digits, exponent.parse().unwrap_or(0))
}

/// Places the decimal point into `digits` (the first digit has weight
/// 10^`exponent`), padding with zeros on either side as needed.
fn fixed_notation(digits: &str, exponent: i32) -> String {
    let digits = if digits.is_empty() { "0" } else { digits };
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let zeros = "0".repeat(integer_len - digits.len());
        format!("{digits}{zeros}")
    } else {
        let (integer, fraction) = digits.split_at(integer_len);
        format!("{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_javascript_number() {
        assert_eq!(parse_number(""), 0.0);
        assert_eq!(parse_number("  \t"), 0.0);
        assert_eq!(parse_number(" 0xff "), 255.0);
        assert_eq!(parse_number("0XFF"), 255.0);
        assert_eq!(parse_number("0o10"), 8.0);
        assert_eq!(parse_number("0b101"), 5.0);
        assert_eq!(parse_number(" +1.2e2 "), 120.0);
        assert_eq!(parse_number("1."), 1.0);
        assert_eq!(parse_number(".5"), 0.5);
        assert_eq!(parse_number("1.e2"), 100.0);
        assert_eq!(parse_number("-Infinity"), f64::NEG_INFINITY);
        assert_eq!(parse_number("+Infinity"), f64::INFINITY);
        assert_eq!(parse_number("1e400"), f64::INFINITY);
        for nan in [
            "NaN", "inf", "infinity", "-0xff", "0x", "1e", ".", "1_000", "abc", "0x01p2", "--1",
            "e5",
        ] {
            assert!(parse_number(nan).is_nan(), "{nan} should be NaN");
        }
        assert!(parse_number("-0").is_sign_negative());
    }

    #[test]
    fn formats_like_dotnet_g15() {
        let cases = [
            (1.0, "1"),
            (-0.0, "0"),
            (0.5, "0.5"),
            (123456.789, "123456.789"),
            (0.845_512_408_225_570_1, "0.84551240822557"),
            (0.012, "0.012"),
            (1e14, "100000000000000"),
            (1e15, "1E+15"),
            (1234567890123456.0, "1.23456789012346E+15"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (-1.5e-7, "-1.5E-07"),
            (1e300, "1E+300"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_number(value), expected, "{value}");
        }
    }

    #[test]
    fn formats_json_numbers_like_javascript() {
        let cases = [
            (1.0, "1"),
            (-0.0, "0"),
            (1234.5, "1234.5"),
            (3e9, "3000000000"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (0.1, "0.1"),
            (f64::INFINITY, "Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_json_number(value), expected, "{value}");
        }
    }
}
