//! The display name GitHub gives each job of a matrix: `build (ubuntu, 18)`.

use serde_json::Value;

/// GitHub truncates longer names to 97 characters and `...`.
const MAX_NAME_CHARS: usize = 100;

/// Names a job instance as GitHub does: the job's name, then the matrix
/// values in parentheses separated by `, `.
///
/// Values are walked depth first and only their scalar leaves appear, so
/// objects and arrays contribute their contents (`{version: 14}` shows as
/// `14`); null and empty strings are left out; numbers print as GitHub
/// prints them (`3.10` in YAML is the number 3.1). With no values the name is
/// the job name alone. Names longer than 100 characters are cut to 97 plus
/// `...`.
pub fn job_instance_name<'a>(job_name: &str, values: impl IntoIterator<Item = &'a Value>) -> String {
    let mut segments: Vec<String> = Vec::new();
    for value in values {
        // Iterative depth-first walk; children are pushed in reverse so
        // they come off the stack in order.
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            match value {
                Value::Null => {}
                Value::Bool(flag) => segments.push(flag.to_string()),
                Value::Number(number) => {
                    segments.push(format_number(number.as_f64().unwrap_or(f64::NAN)));
                }
                Value::String(text) if text.is_empty() => {}
                Value::String(text) => segments.push(text.clone()),
                Value::Array(items) => pending.extend(items.iter().rev()),
                Value::Object(entries) => pending.extend(entries.values().rev()),
            }
        }
    }
    let name = if segments.is_empty() {
        job_name.to_owned()
    } else {
        format!("{job_name} ({})", segments.join(", "))
    };
    if name.chars().count() > MAX_NAME_CHARS {
        let kept: String = name.chars().take(MAX_NAME_CHARS - 3).collect();
        format!("{kept}...")
    } else {
        name
    }
}

/// A number as GitHub turns it into text (.NET's `G15`): up to 15
/// significant digits without trailing zeros, in scientific notation
/// (`1E+15`, `1E-05`) when the exponent is 15 or more, or -5 or less.
fn format_number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    // Rust rounds to 15 significant digits for us: "d.dddddddddddddde<exp>".
    let scientific = format!("{:.14e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if value < 0.0 { "-" } else { "" };
    if !(-4..15).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}E{exponent_sign}{:02}", exponent.abs());
    }
    let text = if exponent < 0 {
        let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or(0));
        format!("0.{zeros}{digits}")
    } else {
        let whole_len = usize::try_from(exponent + 1).unwrap_or(1);
        if digits.len() <= whole_len {
            format!("{digits}{}", "0".repeat(whole_len - digits.len()))
        } else {
            let (whole, fraction) = digits.split_at(whole_len);
            format!("{whole}.{fraction}")
        }
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::format_number;

    #[test]
    fn numbers_print_as_dotnet_g15() {
        let cases = [
            (18.0, "18"),
            (3.10, "3.1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e-5, "1E-05"),
            (0.0001, "0.0001"),
            (123_456_789_012_345.0, "123456789012345"),
            (1e15, "1E+15"),
            (1_234_567_890_123_456_789.0, "1.23456789012346E+18"),
            (0.1 + 0.2, "0.3"),
            (-0.0, "0"),
            (1.5e300, "1.5E+300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_number(value), expected, "{value}");
        }
    }
}
