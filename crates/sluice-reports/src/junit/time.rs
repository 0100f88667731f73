//! `time` attributes as runners write them: `1.5`, `""`, `1,234.5`
//! (a thousands separator), `0,010` (a decimal comma), negative or not
//! a number at all. A duration is never negative or NaN; what had to be
//! guessed or clamped is said in a warning.

/// Seconds, and a warning when the text was not a plain number.
pub(crate) fn parse_seconds(text: &str) -> (f64, Option<String>) {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return (0.0, None);
    }
    let normalised = if trimmed.contains(',') && trimmed.contains('.') {
        // `1,234.5`: commas group thousands.
        trimmed.replace(',', "")
    } else {
        // `0,010`: a decimal comma.
        trimmed.replacen(',', ".", 1)
    };
    let warn = |why: &str| Some(format!("time \"{}\" {why}", printable(trimmed)));
    match normalised.parse::<f64>() {
        Ok(value) if !value.is_finite() => (0.0, warn("is not a finite number; 0 is used")),
        Ok(value) if value < 0.0 => (0.0, warn("is negative; 0 is used")),
        Ok(value) if normalised != trimmed => (value, warn(&format!("was read as {value}"))),
        Ok(value) => (value, None),
        Err(_) => (0.0, warn("is not a number; 0 is used")),
    }
}

fn printable(text: &str) -> String {
    text.chars().take(40).flat_map(char::escape_debug).collect()
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn odd_times_are_read_or_clamped_with_a_warning() {
        assert_eq!(parse_seconds("1.5"), (1.5, None));
        assert_eq!(parse_seconds(""), (0.0, None));
        assert_eq!(parse_seconds("1,234.5").0, 1234.5);
        assert!(parse_seconds("1,234.5").1.is_some());
        assert_eq!(parse_seconds("0,010").0, 0.01);
        assert_eq!(parse_seconds("-3").0, 0.0);
        assert!(parse_seconds("-3").1.unwrap().contains("negative"));
        assert_eq!(parse_seconds("NaN").0, 0.0);
        assert_eq!(parse_seconds("inf").0, 0.0);
        assert_eq!(parse_seconds("abc").0, 0.0);
        assert!(parse_seconds("1e400").1.is_some());
    }
}
