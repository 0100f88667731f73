//! Table tests for trigger filters. Every example of GitHub's sections on
//! `on.push.<branches|tags|branches-ignore|tags-ignore>`,
//! `on.pull_request.<branches|branches-ignore>` and
//! `on.<push|pull_request>.<paths|paths-ignore>` is a row here.

use super::*;

fn list(patterns: &[&str]) -> Option<Vec<String>> {
    Some(patterns.iter().map(|p| (*p).to_owned()).collect())
}

fn push(git_ref: &str, files: Option<&[&str]>) -> TriggerEvent {
    TriggerEvent {
        kind: TriggerEventKind::Push,
        git_ref: git_ref.to_owned(),
        changed_files: files.map(|files| files.iter().map(|f| (*f).to_owned()).collect()),
    }
}

fn pull_request(base: &str, files: Option<&[&str]>) -> TriggerEvent {
    TriggerEvent {
        kind: TriggerEventKind::PullRequest,
        ..push(base, files)
    }
}

/// (what the row shows, filters, event, selected?)
type Case = (&'static str, TriggerFilters, TriggerEvent, bool);

fn check(cases: Vec<Case>) {
    for (name, filters, event, selected) in cases {
        let decision = evaluate_trigger_filters(&filters, &event)
            .unwrap_or_else(|error| panic!("{name}: unexpected error {error}"));
        assert_eq!(decision.selected, selected, "{name}: {decision}");
    }
}

const SOME_FILE: Option<&[&str]> = Some(&["src/main.rs"]);

#[test]
fn no_filters_run_for_every_branch_and_tag() {
    let none = TriggerFilters::default;
    check(vec![
        ("branch", none(), push("refs/heads/main", SOME_FILE), true),
        ("tag", none(), push("refs/tags/v1", None), true),
        (
            "pull request",
            none(),
            pull_request("main", SOME_FILE),
            true,
        ),
    ]);
}

#[test]
fn docs_example_including_branches_and_tags() {
    let filters = || TriggerFilters {
        branches: list(&["main", "mona/octocat", "releases/**"]),
        tags: list(&["v2", "v1.*"]),
        ..TriggerFilters::default()
    };
    check(vec![
        ("main", filters(), push("refs/heads/main", SOME_FILE), true),
        (
            "mona/octocat",
            filters(),
            push("refs/heads/mona/octocat", SOME_FILE),
            true,
        ),
        (
            "releases/10",
            filters(),
            push("refs/heads/releases/10", SOME_FILE),
            true,
        ),
        ("tag v2", filters(), push("refs/tags/v2", None), true),
        (
            "tag v1.9.1",
            filters(),
            push("refs/tags/v1.9.1", None),
            true,
        ),
        (
            "other branch",
            filters(),
            push("refs/heads/feature", SOME_FILE),
            false,
        ),
        ("other tag", filters(), push("refs/tags/v3", None), false),
    ]);
}

#[test]
fn docs_example_excluding_branches_and_tags() {
    let filters = || TriggerFilters {
        branches_ignore: list(&["mona/octocat", "releases/**-alpha"]),
        tags_ignore: list(&["v2", "v1.*"]),
        ..TriggerFilters::default()
    };
    check(vec![
        (
            "mona/octocat",
            filters(),
            push("refs/heads/mona/octocat", SOME_FILE),
            false,
        ),
        (
            "releases/beta/3-alpha",
            filters(),
            push("refs/heads/releases/beta/3-alpha", SOME_FILE),
            false,
        ),
        ("tag v2", filters(), push("refs/tags/v2", None), false),
        ("tag v1.9", filters(), push("refs/tags/v1.9", None), false),
        ("main", filters(), push("refs/heads/main", SOME_FILE), true),
        (
            "releases/10",
            filters(),
            push("refs/heads/releases/10", SOME_FILE),
            true,
        ),
        ("tag v3", filters(), push("refs/tags/v3", None), true),
    ]);
}

#[test]
fn docs_example_including_and_excluding_branches() {
    let filters = || TriggerFilters {
        branches: list(&["releases/**", "!releases/**-alpha"]),
        ..TriggerFilters::default()
    };
    check(vec![
        (
            "releases/10",
            filters(),
            push("refs/heads/releases/10", SOME_FILE),
            true,
        ),
        (
            "releases/beta/mona",
            filters(),
            push("refs/heads/releases/beta/mona", SOME_FILE),
            true,
        ),
        (
            "releases/10-alpha",
            filters(),
            push("refs/heads/releases/10-alpha", SOME_FILE),
            false,
        ),
        (
            "releases/beta/3-alpha",
            filters(),
            push("refs/heads/releases/beta/3-alpha", SOME_FILE),
            false,
        ),
        // The same list on a pull request filters its base branch.
        (
            "pr into releases/10",
            filters(),
            pull_request("releases/10", SOME_FILE),
            true,
        ),
        (
            "pr into releases/10-alpha",
            filters(),
            pull_request("refs/heads/releases/10-alpha", SOME_FILE),
            false,
        ),
    ]);
}

#[test]
fn docs_examples_for_pull_request_branches() {
    let including = || TriggerFilters {
        branches: list(&["main", "mona/octocat", "releases/**"]),
        ..TriggerFilters::default()
    };
    let excluding = || TriggerFilters {
        branches_ignore: list(&["mona/octocat", "releases/**-alpha"]),
        ..TriggerFilters::default()
    };
    check(vec![
        (
            "into main",
            including(),
            pull_request("main", SOME_FILE),
            true,
        ),
        (
            "into mona/octocat",
            including(),
            pull_request("mona/octocat", SOME_FILE),
            true,
        ),
        (
            "into releases/10",
            including(),
            pull_request("refs/heads/releases/10", SOME_FILE),
            true,
        ),
        (
            "into dev",
            including(),
            pull_request("dev", SOME_FILE),
            false,
        ),
        (
            "ignored mona/octocat",
            excluding(),
            pull_request("mona/octocat", SOME_FILE),
            false,
        ),
        (
            "ignored releases/beta/3-alpha",
            excluding(),
            pull_request("releases/beta/3-alpha", SOME_FILE),
            false,
        ),
        (
            "not ignored main",
            excluding(),
            pull_request("main", SOME_FILE),
            true,
        ),
    ]);
}

#[test]
fn only_branch_or_only_tag_filters_exclude_the_other_kind_of_ref() {
    let only_branches = || TriggerFilters {
        branches: list(&["**"]),
        ..TriggerFilters::default()
    };
    let only_tags = || TriggerFilters {
        tags: list(&["**"]),
        ..TriggerFilters::default()
    };
    let only_tags_ignore = || TriggerFilters {
        tags_ignore: list(&["nightly"]),
        ..TriggerFilters::default()
    };
    let only_branches_ignore = || TriggerFilters {
        branches_ignore: list(&["gh-pages"]),
        ..TriggerFilters::default()
    };
    check(vec![
        (
            "branches, branch push",
            only_branches(),
            push("refs/heads/a", SOME_FILE),
            true,
        ),
        (
            "branches, tag push",
            only_branches(),
            push("refs/tags/v1", None),
            false,
        ),
        (
            "tags, tag push",
            only_tags(),
            push("refs/tags/v1", None),
            true,
        ),
        (
            "tags, branch push",
            only_tags(),
            push("refs/heads/main", SOME_FILE),
            false,
        ),
        (
            "tags-ignore, branch push",
            only_tags_ignore(),
            push("refs/heads/main", SOME_FILE),
            false,
        ),
        (
            "tags-ignore, other tag",
            only_tags_ignore(),
            push("refs/tags/v1", None),
            true,
        ),
        (
            "branches-ignore, tag push",
            only_branches_ignore(),
            push("refs/tags/v1", None),
            false,
        ),
        // Pull requests have no tags: tag filters are ignored there.
        (
            "tags, pull request",
            only_tags(),
            pull_request("main", SOME_FILE),
            true,
        ),
    ]);
}

#[test]
fn docs_examples_for_paths() {
    let js = || TriggerFilters {
        paths: list(&["**.js"]),
        ..TriggerFilters::default()
    };
    let not_docs = || TriggerFilters {
        paths_ignore: list(&["docs/**"]),
        ..TriggerFilters::default()
    };
    let sub_project = || TriggerFilters {
        paths: list(&["sub-project/**", "!sub-project/docs/**"]),
        ..TriggerFilters::default()
    };
    let main = "refs/heads/main";
    check(vec![
        (
            "a .js file",
            js(),
            push(main, Some(&["README.md", "src/app.js"])),
            true,
        ),
        ("no .js file", js(), push(main, Some(&["README.md"])), false),
        (
            "only docs",
            not_docs(),
            push(main, Some(&["docs/a.md", "docs/b/c.md"])),
            false,
        ),
        (
            "docs and code",
            not_docs(),
            push(main, Some(&["docs/a.md", "src/a.rs"])),
            true,
        ),
        (
            "nested docs dir",
            not_docs(),
            push(main, Some(&["src/docs/a.md"])),
            true,
        ),
        (
            "sub-project/index.js",
            sub_project(),
            push(main, Some(&["sub-project/index.js"])),
            true,
        ),
        (
            "sub-project/src/index.js",
            sub_project(),
            push(main, Some(&["sub-project/src/index.js"])),
            true,
        ),
        (
            "only sub-project/docs",
            sub_project(),
            push(main, Some(&["sub-project/docs/readme.md"])),
            false,
        ),
        // Path filters work the same on pull requests.
        (
            "pull request",
            js(),
            pull_request("main", Some(&["a.js"])),
            true,
        ),
        (
            "pull request, no js",
            js(),
            pull_request("main", Some(&["a.rs"])),
            false,
        ),
    ]);
}

#[test]
fn branch_and_path_filters_must_both_pass() {
    let filters = || TriggerFilters {
        branches: list(&["main"]),
        paths: list(&["src/**"]),
        ..TriggerFilters::default()
    };
    check(vec![
        (
            "both pass",
            filters(),
            push("refs/heads/main", Some(&["src/a.rs"])),
            true,
        ),
        (
            "path fails",
            filters(),
            push("refs/heads/main", Some(&["docs/a.md"])),
            false,
        ),
        (
            "branch fails",
            filters(),
            push("refs/heads/dev", Some(&["src/a.rs"])),
            false,
        ),
    ]);
}

#[test]
fn path_filters_are_not_evaluated_for_tag_pushes() {
    let filters = || TriggerFilters {
        tags: list(&["v*"]),
        paths: list(&["src/**"]),
        ..TriggerFilters::default()
    };
    let only_paths = || TriggerFilters {
        paths: list(&["src/**"]),
        ..TriggerFilters::default()
    };
    check(vec![
        (
            "tag, unrelated files",
            filters(),
            push("refs/tags/v1", Some(&["docs/x"])),
            true,
        ),
        (
            "tag, no files",
            filters(),
            push("refs/tags/v1", Some(&[])),
            true,
        ),
        (
            "only paths, tag",
            only_paths(),
            push("refs/tags/v1", Some(&["docs/x"])),
            true,
        ),
        (
            "only paths, branch",
            only_paths(),
            push("refs/heads/x", Some(&["docs/x"])),
            false,
        ),
    ]);
}

#[test]
fn changed_files_unknown_or_empty() {
    let paths = || TriggerFilters {
        paths: list(&["src/**"]),
        ..TriggerFilters::default()
    };
    let paths_ignore = || TriggerFilters {
        paths_ignore: list(&["docs/**"]),
        ..TriggerFilters::default()
    };
    check(vec![
        // New branch without a computed diff: GitHub runs the workflow.
        (
            "paths, unknown",
            paths(),
            push("refs/heads/new", None),
            true,
        ),
        (
            "paths-ignore, unknown",
            paths_ignore(),
            push("refs/heads/new", None),
            true,
        ),
        // "If there are no files changed, the workflow will not run."
        (
            "paths, nothing changed",
            paths(),
            push("refs/heads/main", Some(&[])),
            false,
        ),
        (
            "paths-ignore, nothing changed",
            paths_ignore(),
            push("refs/heads/main", Some(&[])),
            false,
        ),
        // Without path filters the file list does not matter.
        (
            "no path filter",
            TriggerFilters::default(),
            push("refs/heads/main", Some(&[])),
            true,
        ),
    ]);
}

#[test]
fn empty_lists() {
    check(vec![
        (
            "branches: []",
            TriggerFilters {
                branches: list(&[]),
                ..TriggerFilters::default()
            },
            push("refs/heads/main", SOME_FILE),
            false,
        ),
        (
            "branches-ignore: []",
            TriggerFilters {
                branches_ignore: list(&[]),
                ..TriggerFilters::default()
            },
            push("refs/heads/main", SOME_FILE),
            true,
        ),
    ]);
}

#[test]
fn reasons_tell_the_user_why() {
    let cases: Vec<(TriggerFilters, TriggerEvent, &str)> = vec![
        (
            TriggerFilters {
                paths: list(&["docs/**"]),
                ..TriggerFilters::default()
            },
            push("refs/heads/main", Some(&["src/a.rs"])),
            "skipped: no changed file matches paths [docs/**]",
        ),
        (
            TriggerFilters {
                branches: list(&["main"]),
                paths: list(&["src/**", "!src/gen/**"]),
                ..TriggerFilters::default()
            },
            push("refs/heads/main", Some(&["src/gen/x.rs", "src/a.rs"])),
            "selected: branch `main` matches `main` in branches [main]; \
             changed file `src/a.rs` matches paths [src/**, !src/gen/**]",
        ),
        (
            TriggerFilters {
                branches: list(&["releases/**", "!releases/**-alpha"]),
                ..TriggerFilters::default()
            },
            push("refs/heads/releases/2-alpha", SOME_FILE),
            "skipped: branch `releases/2-alpha` is excluded by `!releases/**-alpha` \
             in branches [releases/**, !releases/**-alpha]",
        ),
        (
            TriggerFilters {
                branches: list(&["main"]),
                ..TriggerFilters::default()
            },
            pull_request("dev", SOME_FILE),
            "skipped: base branch `dev` does not match branches [main]",
        ),
        (
            TriggerFilters {
                branches_ignore: list(&["gh-pages"]),
                ..TriggerFilters::default()
            },
            push("refs/heads/gh-pages", SOME_FILE),
            "skipped: branch `gh-pages` matches `gh-pages` in branches-ignore [gh-pages]",
        ),
        (
            TriggerFilters {
                paths_ignore: list(&["docs/**"]),
                ..TriggerFilters::default()
            },
            push("refs/heads/main", Some(&["docs/a.md"])),
            "skipped: every changed file matches paths-ignore [docs/**]",
        ),
        (
            TriggerFilters {
                branches: list(&["main"]),
                ..TriggerFilters::default()
            },
            push("refs/tags/v1", None),
            "skipped: tag `v1` was pushed, but the trigger filters only branches \
             (`branches`), so tag pushes do not run it",
        ),
        (
            TriggerFilters {
                tags: list(&["v*"]),
                paths: list(&["src/**"]),
                ..TriggerFilters::default()
            },
            push("refs/tags/v1", Some(&["docs/a.md"])),
            "selected: tag `v1` matches `v*` in tags [v*]; \
             paths is not evaluated for tag pushes",
        ),
        (
            TriggerFilters {
                paths: list(&["src/**"]),
                ..TriggerFilters::default()
            },
            push("refs/heads/new-branch", None),
            "selected: the changed files are unknown, so paths is not evaluated \
             (GitHub runs the workflow when it cannot compute the diff)",
        ),
        (
            TriggerFilters::default(),
            push("refs/heads/main", SOME_FILE),
            "selected: branch `main`: the trigger has no branch or path filters",
        ),
    ];
    for (filters, event, expected) in cases {
        let decision = evaluate_trigger_filters(&filters, &event).unwrap();
        assert_eq!(decision.to_string(), expected);
    }
}

#[test]
fn invalid_filters_are_errors() {
    let cases: Vec<(TriggerFilters, FilterError)> = vec![
        (
            TriggerFilters {
                branches: list(&["main"]),
                branches_ignore: list(&["dev"]),
                ..TriggerFilters::default()
            },
            FilterError::Conflicting {
                include: "branches",
                ignore: "branches-ignore",
            },
        ),
        (
            TriggerFilters {
                tags: list(&["v*"]),
                tags_ignore: list(&["v0*"]),
                ..TriggerFilters::default()
            },
            FilterError::Conflicting {
                include: "tags",
                ignore: "tags-ignore",
            },
        ),
        (
            TriggerFilters {
                paths: list(&["src/**"]),
                paths_ignore: list(&["docs/**"]),
                ..TriggerFilters::default()
            },
            FilterError::Conflicting {
                include: "paths",
                ignore: "paths-ignore",
            },
        ),
        (
            TriggerFilters {
                branches: list(&["!main"]),
                ..TriggerFilters::default()
            },
            FilterError::OnlyNegativePatterns { key: "branches" },
        ),
    ];
    for (filters, expected) in cases {
        let error = CompiledTriggerFilters::compile(&filters).unwrap_err();
        assert_eq!(error, expected);
    }

    let invalid = TriggerFilters {
        paths: list(&["src/[a-"]),
        ..TriggerFilters::default()
    };
    match CompiledTriggerFilters::compile(&invalid).unwrap_err() {
        FilterError::InvalidPattern { key, source } => {
            assert_eq!(key, "paths");
            assert_eq!(source.pattern, "src/[a-");
        }
        other => panic!("unexpected {other:?}"),
    }

    let compiled = CompiledTriggerFilters::compile(&TriggerFilters::default()).unwrap();
    let error = compiled
        .decide(&push("refs/pull/1/merge", None))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`refs/pull/1/merge` is neither a branch (`refs/heads/...`) nor a tag (`refs/tags/...`)"
    );
    // A bare name is ambiguous for a push.
    assert!(compiled.decide(&push("main", None)).is_err());
}
