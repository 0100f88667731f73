//! Case-insensitive string operations with .NET's `OrdinalIgnoreCase` rules,
//! which GitHub uses for `==`, `<`, `startsWith`, `endsWith`, `contains`,
//! and for looking up object keys and context names.
//!
//! Each character is mapped to its simple (one character) uppercase form and
//! the results are compared by UTF-16 code unit. That makes `ς`, `σ` and `Σ`
//! equal and `ü` equal to `Ü`, but leaves the Turkish dotless `ı` distinct
//! from `I`, exactly as the conformance data demands, and the long `ſ`
//! distinct from `S`: .NET never lets a non-ASCII character fold into
//! ASCII under `OrdinalIgnoreCase`. It is the one comparison Sluice uses
//! wherever GitHub compares ignoring case (expressions, workflow commands).

use std::cmp::Ordering;

/// The uppercase form used for comparisons; characters whose uppercase form
/// is several characters (`ß`) or is excluded by .NET (`ı`, `ſ`) map to themselves.
pub(crate) fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if c == '\u{131}' || c == '\u{17f}' {
        return c;
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

/// `OrdinalIgnoreCase` equality.
pub fn eq_ignore_case(left: &str, right: &str) -> bool {
    // The ASCII test is only a fast path; a mismatch there may still be a
    // match once non-ASCII letters are folded.
    (left.len() == right.len() && left.eq_ignore_ascii_case(right))
        || left.chars().map(fold).eq(right.chars().map(fold))
}

/// `OrdinalIgnoreCase` ordering: folded UTF-16 code units, shorter first on a tie.
pub fn cmp_ignore_case(left: &str, right: &str) -> Ordering {
    let units = |s: &str| -> Vec<u16> {
        let mut buffer = [0u16; 2];
        s.chars()
            .flat_map(|c| fold(c).encode_utf16(&mut buffer).to_vec())
            .collect()
    };
    units(left).cmp(&units(right))
}

/// Folds a whole string; folding never changes the number of characters, so
/// substring tests on folded strings answer the question for the originals.
fn folded(s: &str) -> String {
    s.chars().map(fold).collect()
}

/// `haystack.StartsWith(needle, OrdinalIgnoreCase)`.
pub fn starts_with_ignore_case(haystack: &str, needle: &str) -> bool {
    folded(haystack).starts_with(&folded(needle))
}

/// `haystack.EndsWith(needle, OrdinalIgnoreCase)`.
pub fn ends_with_ignore_case(haystack: &str, needle: &str) -> bool {
    folded(haystack).ends_with(&folded(needle))
}

/// `haystack.IndexOf(needle, OrdinalIgnoreCase) >= 0`.
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    folded(haystack).contains(&folded(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_forms_are_equal_but_turkish_i_is_not() {
        assert!(eq_ignore_case("ς", "Σ"));
        assert!(eq_ignore_case("σ", "ς"));
        assert!(eq_ignore_case("Ü", "ü"));
        assert!(!eq_ignore_case("ı", "I"));
        assert!(!eq_ignore_case("i", "İ"));
    }

    #[test]
    fn orders_by_uppercase_code_units() {
        assert_eq!(cmp_ignore_case("a", "["), Ordering::Less);
        assert_eq!(cmp_ignore_case("ı", "I"), Ordering::Greater);
        assert_eq!(cmp_ignore_case("abc", "ABCD"), Ordering::Less);
        assert_eq!(cmp_ignore_case("ABC", "abc"), Ordering::Equal);
    }
}
