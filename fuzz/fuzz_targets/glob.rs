//! Compiles arbitrary text as a filter pattern and as a path glob, alone and
//! as a newline-separated list, then matches the results against a few
//! paths (and against the text itself). Nothing may panic or hang; invalid
//! patterns are fine, but their errors must point inside the pattern.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_glob::{
    EntryKind, FilterPattern, FilterPatternList, PathGlob, PathGlobSet, PatternError,
};

const PATHS: &[&str] = &[
    "",
    "main",
    "src/main.rs",
    "a/b/c/d.txt",
    ".github/workflows/ci.yml",
    "releases/v1.2.3-alpha",
    "caf\u{e9}/men\u{fc}/\u{1f600}",
    "a//b/./c/",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
];

/// An error must name a real place in the pattern it reports.
fn check_error(text: &str, error: &PatternError) {
    assert_eq!(error.pattern, text);
    assert!(error.offset <= text.len(), "offset past the end: {error:?}");
    assert!(text.is_char_boundary(error.offset), "offset inside a character: {error:?}");
    assert_eq!(error.column, text[..error.offset].chars().count() + 1, "{error:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match FilterPattern::new(text) {
        Ok(pattern) => {
            for path in PATHS {
                pattern.matches(path);
            }
            pattern.matches(text);
        }
        Err(error) => check_error(text, &error),
    }
    match PathGlob::new(text) {
        Ok(glob) => {
            for path in PATHS {
                glob.matches(path, EntryKind::File);
                glob.matches(path, EntryKind::Directory);
            }
            glob.matches(text, EntryKind::File);
        }
        Err(error) => check_error(text, &error),
    }
    let lines: Vec<&str> = text.lines().collect();
    if let Ok(list) = FilterPatternList::new(&lines) {
        for path in PATHS {
            list.includes(path);
            list.deciding_pattern(path);
        }
    }
    if let Ok(set) = PathGlobSet::new(&lines) {
        for path in PATHS {
            set.matches(path, EntryKind::File);
        }
    }
});
