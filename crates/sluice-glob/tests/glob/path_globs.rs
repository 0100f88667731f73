//! Table tests for path globs (`@actions/glob` / `hashFiles` syntax).

use std::time::{Duration, Instant};

use sluice_glob::{
    EntryKind, PathGlob, PathGlobOptions, PathGlobSet, PatternErrorKind, PatternFlavour,
};

/// (pattern, files that must match, files that must not)
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

fn check(cases: &[Case]) {
    for (pattern, matching, not_matching) in cases {
        let glob = PathGlob::new(pattern)
            .unwrap_or_else(|error| panic!("`{pattern}` should compile: {error}"));
        for path in *matching {
            assert!(
                glob.matches(path, EntryKind::File),
                "`{pattern}` should match `{path}`"
            );
        }
        for path in *not_matching {
            assert!(
                !glob.matches(path, EntryKind::File),
                "`{pattern}` should not match `{path}`"
            );
        }
    }
}

#[test]
fn single_segment_wildcards() {
    check(&[
        ("*", &["a", "README.md", ".hidden"], &["a/b"]),
        (
            "*.json",
            &["package.json", ".eslintrc.json"],
            &["a/package.json"],
        ),
        ("?.txt", &["a.txt"], &["ab.txt", ".txt", "/.txt"]),
        ("a*b*c", &["abc", "aXbYc", "abbbc"], &["acb", "a/b/c"]),
        ("a**b", &["ab", "axxb"], &["a/b", "a/x/b"]),
        (
            "file[0-9].log",
            &["file1.log"],
            &["filex.log", "file10.log"],
        ),
        ("[!a]*", &["b", "bcd"], &["a", "abc"]),
        ("[^a]*", &["b"], &["a"]),
        ("[]]", &["]"], &["a"]),
        ("[!]]", &["a"], &["]"]),
        ("[a-]x", &["ax", "-x"], &["bx"]),
    ]);
}

#[test]
fn globstar() {
    check(&[
        // At the start: zero or more directories.
        (
            "**/package-lock.json",
            &[
                "package-lock.json",
                "a/package-lock.json",
                "a/b/c/package-lock.json",
            ],
            &["xpackage-lock.json", "a/package-lock.json.bak"],
        ),
        // In the middle.
        (
            "src/**/*.rs",
            &["src/a.rs", "src/x/y/a.rs"],
            &["a.rs", "src/a.rs/b"],
        ),
        // At the end: everything below, and the directory name itself.
        (
            "src/**",
            &["src/a", "src/x/y/z", "src"],
            &["srcx/a", "a/src/b"],
        ),
        // Alone.
        ("**", &["a", "a/b/c", ".hidden/x"], &[]),
        // Repeated.
        ("**/**/x", &["x", "a/x", "a/b/x"], &["y"]),
        // Matches dot directories (minimatch `dot: true`).
        ("**/*.yml", &[".github/workflows/ci.yml"], &[]),
    ]);
}

#[test]
fn relative_and_odd_spellings() {
    check(&[
        ("./src/*.rs", &["src/a.rs"], &["a.rs"]),
        ("src//*.rs", &["src/a.rs"], &[]),
        ("  src/*.rs  ", &["src/a.rs"], &[]),
        // Paths are normalised the same way.
        (
            "src/a.rs",
            &["./src/a.rs", "src//a.rs", "src/a.rs/"],
            &["src/b.rs"],
        ),
        // Escapes.
        ("hello\\[a-z]", &["hello[a-z]"], &["hellob"]),
        ("hello[[]a-z]", &["hello[a-z]"], &["hellob"]),
        ("\\*", &["*"], &["a"]),
        ("what\\?", &["what?"], &["whatx"]),
        // `#` and `!` mid-pattern are literal.
        ("a#b", &["a#b"], &[]),
        ("a!b", &["a!b"], &[]),
        // Unicode segments.
        (
            "\u{e9}t\u{e9}/*.txt",
            &["\u{e9}t\u{e9}/a.txt"],
            &["ete/a.txt"],
        ),
        ("?", &["\u{e9}", "\u{1f600}"], &["ab"]),
        ("[\u{e0}-\u{ff}]", &["\u{e9}"], &["e"]),
    ]);
}

#[test]
fn trailing_slash_matches_directories_only() {
    let glob = PathGlob::new("build/").unwrap();
    assert!(glob.is_directory_only());
    assert!(glob.matches("build", EntryKind::Directory));
    assert!(!glob.matches("build", EntryKind::File));
    let nested = PathGlob::new("**/target/").unwrap();
    assert!(nested.matches("a/b/target", EntryKind::Directory));
    assert!(!nested.matches("a/b/target", EntryKind::File));
}

#[test]
fn negation_flips_for_each_bang() {
    let cases = [("!a", true), ("!!a", false), ("! ! !a", true), ("a", false)];
    for (pattern, negated) in cases {
        let glob = PathGlob::new(pattern).unwrap();
        assert_eq!(glob.is_negated(), negated, "{pattern}");
        assert!(glob.matches("a", EntryKind::File), "{pattern}");
    }
}

#[test]
fn invalid_patterns_report_the_position() {
    let cases: &[(&str, usize, PatternErrorKind)] = &[
        ("", 1, PatternErrorKind::Empty),
        ("   ", 1, PatternErrorKind::Empty),
        ("!", 2, PatternErrorKind::Empty),
        ("/etc/passwd", 1, PatternErrorKind::Absolute),
        ("!/abs", 2, PatternErrorKind::Absolute),
        ("a/../b", 3, PatternErrorKind::ParentSegment),
        ("..", 1, PatternErrorKind::ParentSegment),
        ("a/./b", 3, PatternErrorKind::DotSegment),
        ("src/[ab", 5, PatternErrorKind::UnclosedBracket),
        // A class cannot span a `/`.
        ("[a/b]", 1, PatternErrorKind::UnclosedBracket),
        ("x\\", 2, PatternErrorKind::DanglingEscape),
        ("x\\/y", 2, PatternErrorKind::DanglingEscape),
        (
            "[z-a]",
            2,
            PatternErrorKind::InvalidRange {
                start: 'z',
                end: 'a',
                why: "its first character comes after its last",
            },
        ),
    ];
    for (pattern, column, kind) in cases {
        let error = PathGlob::new(pattern).expect_err(pattern);
        assert_eq!(error.flavour, PatternFlavour::Path);
        assert_eq!(error.column, *column, "column for {pattern:?}");
        assert_eq!(&error.kind, kind, "kind for {pattern:?}");
    }
    assert_eq!(
        PathGlob::new("src/[ab").unwrap_err().to_string(),
        "invalid path glob `src/[ab` at column 5: `[` is never closed by a `]` \
         (write `\\[` for a literal bracket)"
    );
}

/// (patterns, files included, files not included)
type SetCase = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn set_semantics() {
    let cases: &[SetCase] = &[
        // Implicit descendants: a directory pattern includes what is below.
        (
            &["vendor"],
            &["vendor/a", "vendor/b/c"],
            &["vendorx/a", "a"],
        ),
        // Quirk kept from `@actions/glob`: the implicit `vendor/**` also
        // matches a *file* named `vendor` (it appends a `/` before matching a
        // trailing globstar), so `vendor/` includes that file too.
        (
            &["vendor/"],
            &["vendor/a", "vendor/b/c", "vendor"],
            &["vendorx"],
        ),
        // Exclusion, and re-inclusion by a later pattern.
        (
            &["**/*.rs", "!target/**", "target/keep.rs"],
            &["src/a.rs", "target/keep.rs"],
            &["target/debug/x.rs", "src/a.txt"],
        ),
        // An excluded directory excludes its descendants too.
        (
            &["**", "!node_modules"],
            &["src/a.js"],
            &["node_modules/x/index.js", "node_modules"],
        ),
        // A negative directory-only pattern still excludes what is below it.
        // (and, by the quirk above, a file named `build`).
        (&["**", "!build/"], &["src/x"], &["build/out.o", "build"]),
        // Order matters: a later exclusion wins over an earlier inclusion.
        (&["!a", "a"], &["a"], &[]),
        // Comments and blank lines are skipped.
        (&["# comment", "", "   ", "x"], &["x"], &["# comment"]),
        // Only exclusions include nothing.
        (&["!a"], &[], &["a", "b"]),
        // No patterns include nothing.
        (&[], &[], &["a"]),
        // `.` is the root: everything.
        (&["."], &["a", "b/c"], &[]),
    ];
    for (patterns, included, excluded) in cases {
        let set = PathGlobSet::new(patterns).unwrap();
        for path in *included {
            assert!(
                set.matches(path, EntryKind::File),
                "{patterns:?} should include {path}"
            );
        }
        for path in *excluded {
            assert!(
                !set.matches(path, EntryKind::File),
                "{patterns:?} should not include {path}"
            );
        }
    }
}

#[test]
fn implicit_descendants_can_be_turned_off() {
    let options = PathGlobOptions {
        implicit_descendants: false,
    };
    let set = PathGlobSet::with_options(&["vendor"], options).unwrap();
    assert!(set.matches("vendor", EntryKind::File));
    assert!(!set.matches("vendor/a", EntryKind::File));
}

#[test]
fn an_invalid_pattern_in_a_set_is_reported() {
    let error = PathGlobSet::new(&["ok/**", "bad/[x"]).unwrap_err();
    assert_eq!(error.pattern, "bad/[x");
}

#[test]
fn pathological_patterns_stay_fast() {
    let long_name = "a".repeat(20_000);
    let deep = format!("{}{}", "a/".repeat(2_000), "aaaaaaaaaaaaaaaaaaaaaaaaac");
    let started = Instant::now();
    for pattern in [
        "**/**/**/a*a*a*a*b",
        "**/a*a*a*a*a*a*a*a*a*a*b",
        "**/**/**/**/**/b",
    ] {
        let glob = PathGlob::new(pattern).unwrap();
        assert!(!glob.matches(&long_name, EntryKind::File), "{pattern}");
        assert!(!glob.matches(&deep, EntryKind::File), "{pattern}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "matching took {:?}",
        started.elapsed()
    );
}
