//! `sluice validate`, `sluice expr` and `sluice plan`, end to end.

use crate::support::TestRepo;

const GOOD: &str = r#"
name: CI
on:
  push:
    branches: [main]
    paths-ignore: ['docs/**']
  pull_request:
    branches: [main]
  workflow_dispatch:
    inputs:
      level:
        type: choice
        options: [low, high]
        default: low
      dry-run:
        type: boolean
      count:
        type: number
        required: true
        default: 2
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [ubuntu, debian]
        node: [18, 20]
        exclude:
          - os: debian
            node: 18
        include:
          - os: ubuntu
            experimental: true
          - os: alpine
            node: 16
    steps:
      - run: echo ${{ matrix.os }}
  test:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo test
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo lint
  deploy:
    needs: [test, lint]
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    steps:
      - run: echo deploy
"#;

fn repo_with(workflow: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.workflow("ci.yml", workflow)
        .file("src/app.txt", "v1\n")
        .commit("first");
    repo
}

#[test]
fn validate_accepts_a_correct_workflow() {
    let repo = repo_with(GOOD);
    let out = repo.sluice(&["validate"]);
    out.assert_code(0);
    assert!(
        out.stderr.contains("checked 1 file: 0 errors, 0 warnings"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_names_file_line_and_column_and_advice() {
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.X }}\n  b:\n    needs: [c]\n    runs-on: x\n    steps:\n      - runn: echo\n",
    );
    let out = repo.sluice(&["validate", "--format", "short"]);
    out.assert_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with(
            ".github/workflows/ci.yml:8:13: error: Job 'b' depends on unknown job 'c'."
        )),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with(".github/workflows/ci.yml:11:9: warning: Unexpected value 'runn'")
            && l.contains("did you mean `run`?")),
        "{lines:#?}"
    );
    // secrets are allowed in run: no finding on line 6.
    assert!(!lines.iter().any(|l| l.contains("ci.yml:6:")), "{lines:#?}");
}

#[test]
fn validate_shows_the_source_line_in_human_output() {
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    if: ${{ secrets.TOKEN }}\n    runs-on: x\n    steps:\n      - run: echo\n",
    );
    let out = repo.sluice(&["validate"]);
    out.assert_code(1);
    assert!(
        out.stderr.contains("[.github/workflows/ci.yml:4:9]"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("if: ${{ secrets.TOKEN }}"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("`secrets` is available in env, with, run"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_reports_a_needs_cycle_with_the_jobs_in_it() {
    let repo = repo_with(
        "on: push\njobs:\n  start:\n    runs-on: x\n    steps: [{run: a}]\n  a:\n    needs: [start, b]\n    runs-on: x\n    steps: [{run: a}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: b}]\n",
    );
    let out = repo.sluice(&["validate", "--format", "short"]);
    out.assert_code(1);
    assert!(
        out.stdout.contains("the cycle is a -> b -> a"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the cycle is b -> a -> b"),
        "{}",
        out.stdout
    );
}

#[test]
fn validate_exit_codes_for_missing_paths_and_strict_mode() {
    let repo =
        repo_with("on: push\njobs:\n  a:\n    runs-on: x\n    timeout: 5\n    steps: [{run: a}]\n");
    repo.sluice(&["validate", "no/such.yml"]).assert_code(2);
    repo.sluice(&["validate", "--no-such-flag"]).assert_code(2);
    // An unknown key is a warning, and an error under --strict.
    repo.sluice(&["validate"]).assert_code(0);
    let strict = repo.sluice(&["validate", "--strict", "--format", "json"]);
    strict.assert_code(1);
    let finding: serde_json::Value =
        serde_json::from_str(strict.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["line"], 5);
    assert_eq!(finding["column"], 5);
    assert_eq!(finding["help"], "did you mean `timeout-minutes`?");
}

#[test]
fn validate_takes_explicit_paths_outside_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("w.yml"),
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: a}]\n",
    )
    .unwrap();
    crate::support::sluice_in(dir.path(), &["validate", "w.yml"]).assert_code(0);
    std::fs::write(dir.path().join("bad.yml"), "on: push\njobs: [\n").unwrap();
    let out = crate::support::sluice_in(dir.path(), &["validate", "--format", "short", "bad.yml"]);
    out.assert_code(1);
    assert!(out.stdout.starts_with("bad.yml:"), "{}", out.stdout);
}

#[test]
fn validate_warns_about_sluice_extensions_in_github_workflows() {
    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: make\n        cache:\n          inputs: [src/**]\n";
    let repo = repo_with(workflow);
    repo.file(".sluice/workflows/local.yml", workflow)
        .commit("local");
    let out = repo.sluice(&["validate", "--format", "short"]);
    out.assert_code(0);
    let warnings: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("Sluice extension"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stdout);
    assert!(
        warnings[0].starts_with(".github/workflows/ci.yml:7:9"),
        "{warnings:?}"
    );
}

#[test]
fn expr_prints_one_json_line() {
    let repo = TestRepo::new();
    repo.file(
        "ctx.json",
        r#"{"github": {"ref": "refs/heads/main"}, "matrix": {"n": 3}}"#,
    );
    let cases: &[(&str, &str)] = &[
        ("1 == 1.0", r#"{"kind":"Boolean","value":true}"#),
        ("${{ matrix.n }}", r#"{"kind":"Number","value":3}"#),
        (
            "ref is ${{ github.ref }}",
            r#"{"kind":"String","value":"ref is refs/heads/main"}"#,
        ),
        (
            "startsWith(github.ref, 'refs/HEADS')",
            r#"{"kind":"Boolean","value":true}"#,
        ),
        (
            "fromJSON('{\"a\": [1, null]}')",
            r#"{"kind":"Object","value":{"a":[1,null]}}"#,
        ),
    ];
    for (expression, expected) in cases {
        let out = repo.sluice(&["expr", expression, "--context", "ctx.json"]);
        out.assert_code(0);
        assert_eq!(out.stdout.trim(), *expected, "{expression}");
    }
    // An expression starting with `-` is an expression, not a flag.
    for (expression, expected) in [
        ("-1", r#"{"kind":"Number","value":-1}"#),
        ("-2 < 1", r#"{"kind":"Boolean","value":true}"#),
    ] {
        let out = repo.sluice(&["expr", expression]);
        out.assert_code(0);
        assert_eq!(out.stdout.trim(), expected, "{expression}");
    }
}

#[test]
fn expr_errors_name_their_kind() {
    let repo = TestRepo::new();
    for (expression, kind) in [
        ("1 ==", "parsing"),
        ("1 = 2", "lexing"),
        ("env.X", "parsing"),
        ("format('{0')", "evaluation"),
    ] {
        let out = repo.sluice(&["expr", expression]);
        out.assert_code(1);
        assert_eq!(
            out.json()["error"]["kind"],
            kind,
            "{expression}: {}",
            out.stdout
        );
        assert!(out.json()["error"]["message"].as_str().unwrap().len() > 10);
    }
    repo.file("bad.json", "[1]");
    repo.sluice(&["expr", "1", "--context", "bad.json"])
        .assert_code(2);
}

#[test]
fn expr_hash_files_follows_github() {
    let repo = TestRepo::new();
    repo.file("a/lock.txt", "one\n").file("b/lock.txt", "two\n");
    let both = repo.sluice(&["expr", "hashFiles('**/lock.txt')"]).json();
    assert_eq!(both["value"].as_str().unwrap().len(), 64);
    let none = repo.sluice(&["expr", "hashFiles('**/nothing')"]).json();
    assert_eq!(none["value"], "");
    repo.file("b/lock.txt", "changed\n");
    let changed = repo.sluice(&["expr", "hashFiles('**/lock.txt')"]).json();
    assert_ne!(both["value"], changed["value"]);
}

#[test]
fn plan_expands_the_matrix_with_githubs_include_and_exclude_rules() {
    let repo = repo_with(GOOD);
    let out = repo.sluice(&["plan", "CI", "--json"]);
    out.assert_code(0);
    let plan = &out.json()[0];
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["selected"], true);
    let build = &plan["jobs"][0];
    let names: Vec<&str> = build["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "build (ubuntu, 18)",
            "build (ubuntu, 20)",
            "build (debian, 20)",
            "build (alpine, 16)"
        ]
    );
    assert_eq!(build["instances"][0]["matrix"]["experimental"], true);
    assert!(
        build["instances"][2]["matrix"]
            .get("experimental")
            .is_none()
    );
    let stages: Vec<Vec<String>> = serde_json::from_value(plan["stages"].clone()).unwrap();
    assert_eq!(
        stages,
        [vec!["build", "lint"], vec!["test"], vec!["deploy"]]
    );
    assert_eq!(
        plan["jobs"][3]["if"],
        "success() && (github.ref == 'refs/heads/main')"
    );
}

#[test]
fn plan_explains_why_path_filters_skip_a_push() {
    let repo = repo_with(GOOD);
    repo.file("docs/guide.md", "words\n").commit("docs only");
    let out = repo.sluice(&["plan", "--json"]);
    out.assert_code(0);
    let plan = &out.json()[0];
    assert_eq!(plan["selected"], false, "{plan}");
    assert!(
        plan["reason"].as_str().unwrap().contains("paths-ignore"),
        "{}",
        plan["reason"]
    );
    // The readable form says the same.
    let text = repo.sluice(&["plan"]);
    assert!(text.stdout.contains("does not run"), "{}", text.stdout);
}

#[test]
fn plan_types_workflow_dispatch_inputs_and_rejects_bad_ones() {
    let repo = repo_with(GOOD);
    let out = repo.sluice(&[
        "plan",
        "CI",
        "--event",
        "workflow_dispatch",
        "--input",
        "dry-run=true",
        "--input",
        "count=5",
        "--json",
    ]);
    out.assert_code(0);
    let inputs = &out.json()[0]["inputs"];
    assert_eq!(inputs["dry-run"], true);
    assert_eq!(inputs["count"], 5);
    assert_eq!(inputs["level"], "low");
    let bad = repo.sluice(&[
        "plan",
        "CI",
        "--event",
        "workflow_dispatch",
        "--input",
        "level=mid",
    ]);
    bad.assert_code(2);
    assert!(
        bad.stderr
            .contains("'mid' is not one of the options: low, high"),
        "{}",
        bad.stderr
    );
    let unknown = repo.sluice(&[
        "plan",
        "CI",
        "--event",
        "workflow_dispatch",
        "--input",
        "nope=1",
    ]);
    unknown.assert_code(2);
    assert!(
        unknown
            .stderr
            .contains("the inputs are: level, dry-run, count"),
        "{}",
        unknown.stderr
    );
    repo.sluice(&["plan", "CI", "--input", "level=low"])
        .assert_code(2);
}

#[test]
fn plan_applies_pull_request_branch_filters_to_the_base_branch() {
    let repo = repo_with(GOOD);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.file("src/app.txt", "v2\n").commit("change");
    let into_main = repo
        .sluice(&["plan", "CI", "--event", "pull_request", "--json"])
        .json();
    assert_eq!(into_main[0]["selected"], true, "{}", into_main[0]["reason"]);
    assert_eq!(into_main[0]["ref"], "refs/pull/1/merge");
    let into_other = repo
        .sluice(&[
            "plan",
            "CI",
            "--event",
            "pull_request",
            "--base",
            "release",
            "--json",
        ])
        .json();
    assert_eq!(into_other[0]["selected"], false);
}

#[test]
fn plan_refuses_a_workflow_with_errors() {
    let repo =
        repo_with("on: push\njobs:\n  a:\n    needs: a\n    runs-on: x\n    steps: [{run: a}]\n");
    let out = repo.sluice(&["plan"]);
    out.assert_code(2);
    assert!(out.stderr.contains("nothing was planned"), "{}", out.stderr);
}

#[test]
fn plan_finds_workflows_by_name_or_says_which_exist() {
    let repo = repo_with(GOOD);
    repo.sluice(&["plan", "ci"]).assert_code(0);
    repo.sluice(&["plan", ".github/workflows/ci.yml"])
        .assert_code(0);
    let out = repo.sluice(&["plan", "nope"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("CI (.github/workflows/ci.yml)"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_warns_when_needs_names_a_job_that_is_not_needed() {
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    outputs: {v: '1'}\n    steps: [{run: a}]\n  b:\n    needs: a\n    runs-on: x\n    steps: [{run: echo ok}]\n  c:\n    needs: b\n    runs-on: x\n    steps:\n      - run: echo ${{ needs.a.outputs.v }} ${{ needs.b.result }}\n",
    );
    let out = repo.sluice(&["validate", "--format", "short"]);
    out.assert_code(0);
    let warnings: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0]
            .starts_with(".github/workflows/ci.yml:15:14: warning: `needs.a` is always null here"),
        "{warnings:#?}"
    );
}
