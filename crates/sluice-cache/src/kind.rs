//! Entry kinds: namespaces such as `step` or `key/<scope hash>` that become
//! directories in the store, so they are held to a safe alphabet.

use crate::error::CacheError;

/// The longest kind accepted; kinds are short namespaces, not data.
const MAX_KIND_BYTES: usize = 200;

/// Checks that `kind` is one or more `/`-separated segments of ASCII
/// letters, digits, `-`, `_` and `.`, none of them `.` or `..` or ending
/// in `.json` (the suffix of entry files).
pub(crate) fn validate_kind(kind: &str) -> Result<(), CacheError> {
    let invalid = |reason| {
        Err(CacheError::InvalidKind {
            kind: kind.to_owned(),
            reason,
        })
    };
    if kind.is_empty() {
        return invalid("it is empty");
    }
    if kind.len() > MAX_KIND_BYTES {
        return invalid("it is longer than 200 bytes");
    }
    for segment in kind.split('/') {
        if segment.is_empty() {
            return invalid("it has an empty segment (leading, trailing or double `/`)");
        }
        if segment == "." || segment == ".." {
            return invalid("`.` and `..` are not allowed as segments");
        }
        if segment.ends_with(".json") {
            return invalid("a segment may not end in `.json`");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return invalid("only ASCII letters, digits, `-`, `_`, `.` and `/` are allowed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate_kind;

    #[test]
    fn kinds_are_safe_relative_directory_names() {
        for good in ["step", "key/0123abcd", "a.b/c-d/e_f", "v1.2"] {
            assert!(validate_kind(good).is_ok(), "{good}");
        }
        for bad in [
            "", "/step", "step/", "a//b", "..", "a/../b", ".", "a b", "ключ", "x.json", "a\\b",
            "a\0b",
        ] {
            assert!(validate_kind(bad).is_err(), "{bad:?}");
        }
        assert!(validate_kind(&"k".repeat(201)).is_err());
    }
}
