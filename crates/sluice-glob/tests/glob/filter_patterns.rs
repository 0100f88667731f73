//! Table tests for filter patterns. The first tables are GitHub's "Filter
//! pattern cheat sheet" (workflow syntax docs), example by example; the rest
//! pin down edge cases the cheat sheet leaves open.

use std::time::{Duration, Instant};

use sluice_glob::{FilterPattern, FilterPatternList, PatternErrorKind, PatternFlavour};

/// (pattern, values that must match, values that must not)
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

fn check(cases: &[Case]) {
    for (pattern, matching, not_matching) in cases {
        let compiled = FilterPattern::new(pattern)
            .unwrap_or_else(|error| panic!("`{pattern}` should compile: {error}"));
        for value in *matching {
            assert!(
                compiled.matches(value),
                "`{pattern}` should match `{value}`"
            );
        }
        for value in *not_matching {
            assert!(
                !compiled.matches(value),
                "`{pattern}` should not match `{value}`"
            );
        }
    }
}

#[test]
fn cheat_sheet_special_characters() {
    check(&[
        // "`*`: Matches zero or more characters, but does not match the `/`
        // character. For example, `Octo*` matches `Octocat`."
        ("Octo*", &["Octocat", "Octo"], &["Octo/cat"]),
        // "`[CB]at` matches `Cat` or `Bat`"
        ("[CB]at", &["Cat", "Bat"], &["Hat", "at", "CBat"]),
        // "`[1-2]00` matches `100` and `200`"
        ("[1-2]00", &["100", "200"], &["300", "00"]),
        // "the range `[0-9a-z]` matches any digit or lowercase letter"
        ("[0-9a-z]", &["0", "9", "a", "z"], &["A", "-", "aa"]),
    ]);
}

#[test]
fn cheat_sheet_patterns_to_match_branches_and_tags() {
    check(&[
        (
            "feature/*",
            &["feature/my-branch", "feature/your-branch"],
            &["feature/a/b", "feature", "features/x"],
        ),
        (
            "feature/**",
            &[
                "feature/beta-a/my-branch",
                "feature/your-branch",
                "feature/mona/the/octocat",
            ],
            &["feature", "other/feature/x"],
        ),
        ("main", &["main"], &["main2", "xmain", "Main"]),
        (
            "releases/mona-the-octocat",
            &["releases/mona-the-octocat"],
            &["releases/mona-the-octocat/x"],
        ),
        ("*", &["main", "releases"], &["all/the/branches"]),
        ("**", &["all/the/branches", "every/tag", "main", ""], &[]),
        (
            "*feature",
            &["mona-feature", "feature", "ver-10-feature"],
            &["feature/x", "a/feature"],
        ),
        ("v2*", &["v2", "v2.0", "v2.9"], &["v3", "v2/x"]),
        (
            "v[12].[0-9]+.[0-9]+",
            &["v1.10.1", "v2.0.0"],
            &["v3.0.0", "v1.x.1", "v1..1", "v1.10.", "v12.0.0"],
        ),
    ]);
}

#[test]
fn cheat_sheet_patterns_to_match_file_paths() {
    check(&[
        ("*", &["README.md", "server.rb"], &["docs/README.md"]),
        (
            "*.jsx?",
            &["page.js", "page.jsx"],
            &["page.jsxx", "a/page.js"],
        ),
        ("**", &["all/the/files.md"], &[]),
        ("*.js", &["app.js", "index.js"], &["js/index.js", "app.jsx"]),
        (
            "**.js",
            &["index.js", "js/index.js", "src/js/app.js"],
            &["index.jsx"],
        ),
        (
            "docs/*",
            &["docs/README.md", "docs/file.txt"],
            &["docs/mona/octocat.txt", "docs"],
        ),
        (
            "docs/**",
            &["docs/README.md", "docs/mona/octocat.txt"],
            &["docs", "other/docs/x"],
        ),
        (
            "docs/**/*.md",
            &[
                "docs/README.md",
                "docs/mona/hello-world.md",
                "docs/a/markdown/file.md",
            ],
            &["docs/a/file.txt", "README.md"],
        ),
        (
            "**/docs/**",
            &[
                "docs/hello.md",
                "dir/docs/my-file.txt",
                "space/docs/plan/space.doc",
            ],
            &["mydocs/x", "docs"],
        ),
        (
            "**/README.md",
            &["README.md", "js/README.md"],
            &["README.mdx", "js/NOTREADME.md"],
        ),
        (
            "**/*src/**",
            &["a/src/app.js", "my-src/code/js/app.js"],
            &["src", "a/source/app.js"],
        ),
        (
            "**/*-post.md",
            &["my-post.md", "path/their-post.md"],
            &["my-post.txt"],
        ),
        (
            "**/migrate-*.sql",
            &[
                "migrate-10909.sql",
                "db/migrate-v1.0.sql",
                "db/sept/migrate-v1.sql",
            ],
            &["db/migrate-x.sql/y"],
        ),
    ]);
}

#[test]
fn cheat_sheet_negation_examples() {
    // `*.md`, `!README.md`: "When a file matches a pattern and also matches a
    // negative pattern defined later in the file, the file will not be
    // included."
    let list = FilterPatternList::new(&["*.md", "!README.md"]).unwrap();
    assert!(list.includes("hello.md"));
    assert!(!list.includes("README.md"));
    assert!(!list.includes("docs/hello.md"));

    // `*.md`, `!README.md`, `README*`: "Patterns are checked sequentially. A
    // pattern that negates a previous pattern will re-include file paths."
    let list = FilterPatternList::new(&["*.md", "!README.md", "README*"]).unwrap();
    for value in ["hello.md", "README.md", "README.doc"] {
        assert!(list.includes(value), "{value}");
    }
}

#[test]
fn branch_and_path_section_examples() {
    // on.push.branches: main, 'mona/octocat', 'releases/**'
    let list = FilterPatternList::new(&["main", "mona/octocat", "releases/**"]).unwrap();
    for branch in ["main", "mona/octocat", "releases/10"] {
        assert!(list.includes(branch), "{branch}");
    }
    assert!(!list.includes("feature"));
    // on.push.tags: v2, v1.*
    let tags = FilterPatternList::new(&["v2", "v1.*"]).unwrap();
    assert!(tags.includes("v2"));
    assert!(tags.includes("v1.9.1"));
    assert!(!tags.includes("v2.0"));
    // branches-ignore: 'releases/**-alpha' ignores releases/beta/3-alpha
    let ignore = FilterPatternList::new(&["mona/octocat", "releases/**-alpha"]).unwrap();
    assert!(ignore.includes("releases/beta/3-alpha"));
    assert!(ignore.includes("mona/octocat"));
    assert!(!ignore.includes("releases/beta/3"));
    // 'releases/**', '!releases/**-alpha'
    let list = FilterPatternList::new(&["releases/**", "!releases/**-alpha"]).unwrap();
    assert!(list.includes("releases/10"));
    assert!(list.includes("releases/beta/mona"));
    assert!(!list.includes("releases/10-alpha"));
    assert!(!list.includes("releases/beta/3-alpha"));
    // paths: 'sub-project/**', '!sub-project/docs/**'
    let list = FilterPatternList::new(&["sub-project/**", "!sub-project/docs/**"]).unwrap();
    assert!(list.includes("sub-project/index.js"));
    assert!(list.includes("sub-project/src/index.js"));
    assert!(!list.includes("sub-project/docs/readme.md"));
}

#[test]
fn edge_cases() {
    check(&[
        // The empty pattern matches only the empty value.
        ("", &[""], &["a", "/"]),
        // Quantifiers apply to the preceding character only.
        ("ab?c", &["ac", "abc"], &["abbc", "bc"]),
        ("ab+c", &["abc", "abbbc"], &["ac"]),
        // ... or to the preceding class.
        ("[0-9]+", &["0", "123"], &["", "12a"]),
        ("[ab]?x", &["x", "ax", "bx"], &["abx"]),
        // Quantifiers compose.
        ("a?+", &["", "a", "aaa"], &["b"]),
        ("a+?", &["", "a", "aaa"], &["b"]),
        ("a++", &["a", "aa"], &[""]),
        ("a??", &["", "a"], &["aa"]),
        // A quantifier on a wildcard changes nothing.
        ("a*?", &["a", "abc"], &["a/b"]),
        ("a**+", &["a", "a/b/c"], &["b"]),
        // A leading quantifier is literal.
        ("?a", &["?a"], &["a"]),
        ("+a", &["+a"], &["a", "++a"]),
        // `!` only negates at the start; later it is literal.
        ("a!b", &["a!b"], &["ab"]),
        // Escapes make special characters literal.
        ("\\*", &["*"], &["a", ""]),
        ("a\\+", &["a+"], &["a", "aa"]),
        ("a\\?", &["a?"], &["a"]),
        ("\\[x]", &["[x]"], &["x"]),
        ("\\!important", &["!important"], &["important"]),
        ("back\\\\slash", &["back\\slash"], &[]),
        ("v\\++", &["v+", "v+++"], &["v"]),
        // An escaped character is "the preceding character" of a quantifier.
        ("\\*+", &["*", "***"], &[""]),
        // A lone `]` is literal.
        ("a]", &["a]"], &["a"]),
        // Classes may list punctuation.
        ("[._-]x", &[".x", "_x", "-x"], &["ax"]),
        // `-` first or last in a class is a member.
        ("[-a]", &["-", "a"], &["b"]),
        ("[a-]", &["-", "a"], &["b"]),
        // `\]` inside a class is a member.
        ("[\\]a]", &["]", "a"], &["\\"]),
        // `**` at the start, in the middle and at the end.
        ("**/x", &["x", "a/x", "a/b/x"], &["ax", "a/xb"]),
        ("a/**/x", &["a/x", "a/b/x", "a/b/c/x"], &["ax", "a/bx"]),
        ("a/**", &["a/", "a/b", "a/b/c"], &["a", "ab"]),
        ("a**", &["a", "ab", "a/b"], &["b"]),
        // `**/` followed by a quantifier keeps the `/` as its operand.
        ("a/**/?b", &["a/b", "a/xb", "a/x/b"], &[]),
        // A trailing slash is literal: it never matches a file path.
        ("docs/", &["docs/"], &["docs", "docs/a"]),
        // Matching is case-sensitive.
        ("Main", &["Main"], &["main", "MAIN"]),
        // Unicode works on characters, not bytes.
        ("caf\u{e9}/*", &["caf\u{e9}/menu"], &["cafe/menu"]),
        ("?\u{e9}", &["?\u{e9}"], &["\u{e9}"]),
        ("x\u{e9}+", &["x\u{e9}\u{e9}"], &["x"]),
        ("[\u{e9}a]", &["\u{e9}", "a"], &["e"]),
        ("\u{1f600}*", &["\u{1f600}", "\u{1f600}ok"], &["ok"]),
    ]);
}

#[test]
fn negation_is_recorded_not_applied() {
    let pattern = FilterPattern::new("!docs/**").unwrap();
    assert!(pattern.is_negated());
    assert!(pattern.matches("docs/a.md"));
    assert_eq!(pattern.as_str(), "!docs/**");
    let double = FilterPattern::new("!!a").unwrap();
    assert!(double.is_negated());
    assert!(double.matches("!a"), "only the first `!` negates");
}

#[test]
fn list_semantics() {
    let empty = FilterPatternList::new::<&str>(&[]).unwrap();
    assert!(empty.is_empty());
    assert!(!empty.includes("anything"));
    assert!(!empty.has_positive());

    let negative_only = FilterPatternList::new(&["!main"]).unwrap();
    assert!(!negative_only.has_positive());
    assert!(
        !negative_only.includes("dev"),
        "nothing positive ever matched"
    );
    assert!(!negative_only.includes("main"));

    let list = FilterPatternList::new(&["**", "!docs/**", "docs/keep.md"]).unwrap();
    assert_eq!(list.deciding_pattern("src/a.rs").unwrap().as_str(), "**");
    assert_eq!(
        list.deciding_pattern("docs/x.md").unwrap().as_str(),
        "!docs/**"
    );
    assert!(list.includes("docs/keep.md"));
    assert!(list.deciding_pattern("").is_some());
}

#[test]
fn invalid_patterns_report_the_position() {
    let cases: &[(&str, usize, usize, PatternErrorKind)] = &[
        ("release/[0-9", 8, 9, PatternErrorKind::UnclosedBracket),
        ("[", 0, 1, PatternErrorKind::UnclosedBracket),
        ("a[]", 1, 2, PatternErrorKind::EmptyBracket),
        ("trailing\\", 8, 9, PatternErrorKind::DanglingEscape),
        (
            "[z-a]",
            1,
            2,
            PatternErrorKind::InvalidRange {
                start: 'z',
                end: 'a',
                why: "its first character comes after its last",
            },
        ),
        (
            "[A-z]",
            1,
            2,
            PatternErrorKind::InvalidRange {
                start: 'A',
                end: 'z',
                why: "filter ranges can only span a-z, A-Z or 0-9 (GitHub's rule)",
            },
        ),
        (
            "[!-~]",
            1,
            2,
            PatternErrorKind::InvalidRange {
                start: '!',
                end: '~',
                why: "filter ranges can only span a-z, A-Z or 0-9 (GitHub's rule)",
            },
        ),
        // Offsets are in bytes, columns in characters.
        ("\u{e9}\u{e9}[", 4, 3, PatternErrorKind::UnclosedBracket),
    ];
    for (pattern, offset, column, kind) in cases {
        let error = FilterPattern::new(pattern).expect_err(pattern);
        assert_eq!(error.flavour, PatternFlavour::Filter);
        assert_eq!(error.pattern, *pattern);
        assert_eq!(error.offset, *offset, "offset for {pattern}");
        assert_eq!(error.column, *column, "column for {pattern}");
        assert_eq!(&error.kind, kind, "kind for {pattern}");
    }
    let message = FilterPattern::new("release/[0-9").unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid filter pattern `release/[0-9` at column 9: `[` is never closed by a `]` \
         (write `\\[` for a literal bracket)"
    );
    let list_error = FilterPatternList::new(&["ok", "bad["]).unwrap_err();
    assert_eq!(list_error.pattern, "bad[");
}

#[test]
fn pathological_patterns_stay_fast() {
    // A backtracking matcher takes exponential time on these.
    let path = format!("{}c", "a/".repeat(2_000) + &"a".repeat(5_000));
    let patterns = [
        "**/**/**/a*a*a*a*b",
        "**a**a**a**a**a**a**a**b",
        "a?a?a?a?a?a?a?a?a?a?aaaaaaaaaab",
        "a+a+a+a+a+a+a+a+a+a+b",
    ];
    let started = Instant::now();
    for pattern in patterns {
        let compiled = FilterPattern::new(pattern).unwrap();
        assert!(!compiled.matches(&path), "{pattern}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "matching took {:?}",
        started.elapsed()
    );
}
