//! Coverage and sharding end to end, with real tools: coverage.py writing
//! Cobertura XML and LCOV for the same run, a diff-coverage gate on a real
//! git change, and a pytest suite split into shards that together run
//! every test once. pytest and coverage.py must be installed under CI
//! (`.ci/run` installs them); elsewhere these tests skip loudly.

use std::collections::BTreeMap;
use std::process::Command;

use crate::support::{TestRepo, sluice_bin};

fn tools() -> bool {
    let found = ["pytest", "coverage"].iter().all(|module| {
        Command::new("python3")
            .args(["-m", module, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("pytest and coverage.py are required under CI");
        }
        eprintln!(
            "\n*** SKIPPED: pytest or coverage.py (python3 -m coverage) is not available ***\n"
        );
    }
    found
}

fn python(repo: &TestRepo, args: &[&str]) {
    let out = Command::new("python3")
        .args(args)
        .current_dir(repo.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const APP: &str = "def add(a, b):\n    return a + b\n\n\ndef sign(n):\n    if n < 0:\n        return -1\n    elif n == 0:\n        return 0\n    return 1\n\n\ndef unused():\n    x = 1\n    return x\n";
const TESTS: &str = "from app import add, sign\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_sign():\n    assert sign(5) == 1\n    assert sign(-5) == -1\n";

#[test]
fn coverage_py_totals_agree_for_its_cobertura_and_lcov_reports() {
    if !tools() {
        return;
    }
    let repo = TestRepo::new();
    repo.file("app.py", APP)
        .file("test_app.py", TESTS)
        .commit("app");
    python(
        &repo,
        &[
            "-m",
            "coverage",
            "run",
            "--branch",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
    );
    python(&repo, &["-m", "coverage", "xml", "-o", "coverage.xml"]);
    python(&repo, &["-m", "coverage", "lcov", "-o", "coverage.lcov"]);
    python(&repo, &["-m", "coverage", "json", "-o", "coverage.json"]);
    let own: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.path().join("coverage.json")).unwrap())
            .unwrap();
    let covered = own["totals"]["covered_lines"].as_u64().unwrap();
    let statements = own["totals"]["num_statements"].as_u64().unwrap();
    assert!(covered < statements, "the suite leaves lines unrun: {own}");
    for report in ["coverage.xml", "coverage.lcov"] {
        let out = repo.sluice(&["report", "coverage", report, "--json"]);
        out.assert_code(0);
        let ours = out.json();
        println!(
            "{report}: {} of {} lines (coverage.py: {covered} of {statements})",
            ours["lines_covered"], ours["lines_total"]
        );
        assert_eq!(
            ours["lines_covered"].as_u64(),
            Some(covered),
            "{report}: {ours}"
        );
        assert_eq!(
            ours["lines_total"].as_u64(),
            Some(statements),
            "{report}: {ours}"
        );
        let files: Vec<&str> = ours["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert!(
            files.contains(&"app.py"),
            "paths are the repository's: {files:?}"
        );
        let app = ours["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "app.py")
            .unwrap();
        assert_eq!(app["missing"], "9,14-15", "{report}: {app}");
        assert!(
            ours["branches_total"].as_u64().unwrap() > 0,
            "branch data is read: {ours}"
        );
    }
    // Both formats of one run merge into the same lines.
    let both = repo
        .sluice(&[
            "report",
            "coverage",
            "coverage.xml",
            "coverage.lcov",
            "--json",
        ])
        .json();
    assert_eq!(both["lines_total"].as_u64(), Some(statements));
    // Not a report: exit 2, the file and position named.
    let out = repo.sluice(&["report", "coverage", "app.py"]);
    out.assert_code(2);
    assert!(out.stderr.contains("app.py:1:1"), "{}", out.stderr);
}

const COVERED_WORKFLOW: &str = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python3 -m coverage run --include=app.py -m pytest -q -p no:cacheprovider && python3 -m coverage xml -o coverage.xml\n        reports:\n          coverage: [coverage.xml]\n          coverage-gate:\n            diff-minimum: 80\n            max-drop: 1\n";

#[test]
fn a_diff_coverage_gate_fails_a_change_whose_new_lines_never_ran() {
    if !tools() {
        return;
    }
    let repo = TestRepo::new();
    repo.file("app.py", APP)
        .file("test_app.py", TESTS)
        .file(".gitignore", ".coverage\ncoverage.xml\n__pycache__/\n")
        .workflow("tests.yml", COVERED_WORKFLOW)
        .commit("app");
    // On the default branch: no change, nothing to judge; the baseline.
    repo.sluice(&["run", "tests"]).assert_code(0);
    let baseline = repo.sluice(&["coverage", "--json"]).json();
    assert_eq!(baseline["lines_covered"].as_u64(), Some(8), "{baseline}");
    // A change with four new executable lines; only the `def` runs (at import).
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.file(
        "app.py",
        &format!("{APP}\n\ndef triple(n):\n    if n > 100:\n        raise ValueError(n)\n    return 3 * n\n"),
    )
    .commit("triple");
    let out = repo.sluice(&["run", "tests"]);
    out.assert_code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("diff coverage 25.00% (1 of 4 changed lines ran)"),
        "{all}"
    );
    assert!(all.contains("least covered: app.py 25% (1 of 4)"), "{all}");
    assert!(
        all.contains("fell from 72.73% on the default branch to 60.00%"),
        "{all}"
    );
    // The same numbers from the history, against the merge base.
    let diff = repo.sluice(&["coverage", "diff", "--json"]).json();
    assert_eq!(
        (diff["covered"].as_u64(), diff["total"].as_u64()),
        (Some(1), Some(4)),
        "{diff}"
    );
    assert_eq!(
        diff["files"][0]["uncovered"],
        serde_json::json!([19, 20, 21])
    );
    // A test for the new function satisfies the gate.
    repo.file(
        "test_triple.py",
        "import pytest\nfrom app import triple\n\n\ndef test_triple():\n    assert triple(2) == 6\n    with pytest.raises(ValueError):\n        triple(101)\n",
    )
    .commit("test triple");
    repo.sluice(&["run", "tests"]).assert_code(0);
    let shown = repo.sluice(&["coverage"]);
    shown.assert_code(0);
    assert!(shown.stdout.contains("app.py"), "{}", shown.stdout);
}

/// Six test files of uneven length, three tests each.
fn sharded_repo(step: &str) -> TestRepo {
    let repo = TestRepo::new();
    for (index, pause) in [0.3, 0.05, 0.2, 0.05, 0.1, 0.05].iter().enumerate() {
        repo.file(
            &format!("tests/test_part{index}.py"),
            &format!(
                "import time\n\n\ndef test_a():\n    time.sleep({pause})\n\n\ndef test_b():\n    pass\n\n\ndef test_c():\n    pass\n"
            ),
        );
    }
    let workflow = format!(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        shard: [1, 2, 3]\n    steps:\n      - run: {step}\n        reports:\n          junit: [reports/*.xml]\n"
    );
    repo.workflow(
        "tests.yml",
        &workflow.replace("SLUICE", &sluice_bin().display().to_string()),
    )
    .file(".gitignore", "reports/\n__pycache__/\n")
    .commit("tests");
    repo
}

/// How many times each test ran in the latest run.
fn runs_per_test(repo: &TestRepo) -> BTreeMap<String, u64> {
    let results = repo.sluice(&["tests", "--json"]).json();
    let mut counts = BTreeMap::new();
    for result in results.as_array().unwrap() {
        let name = format!(
            "{}::{}",
            result["test"]["classname"].as_str().unwrap(),
            result["test"]["name"].as_str().unwrap()
        );
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

#[test]
fn shards_together_run_every_test_once() {
    if !tools() {
        return;
    }
    let step = "python3 -m pytest -q -p no:cacheprovider -o junit_family=xunit1 --junitxml=reports/junit.xml $(SLUICE tests shard --total 3 --index ${{ matrix.shard }} 'tests/test_*.py')";
    let repo = sharded_repo(step);
    // No history yet (split by count), then with the first run's timings.
    for _ in 0..2 {
        repo.sluice(&["run", "tests"]).assert_code(0);
        let counts = runs_per_test(&repo);
        assert_eq!(counts.len(), 18, "{counts:?}");
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    }
    let explain = repo.sluice(&[
        "tests",
        "shard",
        "--total",
        "3",
        "--explain",
        "tests/test_*.py",
    ]);
    explain.assert_code(0);
    assert!(
        explain
            .stdout
            .contains("split by measured durations (6 of the items have history"),
        "{}",
        explain.stdout
    );
    // The slowest file has a shard to itself.
    let first = repo.sluice(&[
        "tests",
        "shard",
        "--total",
        "3",
        "--index",
        "1",
        "tests/test_*.py",
    ]);
    assert_eq!(
        first.stdout.trim(),
        "tests/test_part0.py",
        "{}",
        explain.stdout
    );
    let out = repo.sluice(&["tests", "shard", "--total", "3", "--index", "4", "a.py"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("--index 4: shards are numbered 1 to 3"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_queue_hands_every_test_file_out_once_across_shards() {
    if !tools() {
        return;
    }
    let step = "n=0; while batch=$(SLUICE tests shard --queue --total 3 --index ${{ matrix.shard }} 'tests/test_*.py'); [ -n \"$batch\" ]; do n=$((n+1)); python3 -m pytest -q -p no:cacheprovider --junitxml=reports/junit-$n.xml $batch || exit 1; done";
    let repo = sharded_repo(step);
    for _ in 0..2 {
        repo.sluice(&["run", "tests"]).assert_code(0);
        let counts = runs_per_test(&repo);
        assert_eq!(counts.len(), 18, "{counts:?}");
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    }
    let out = repo.sluice(&[
        "tests", "shard", "--queue", "--total", "2", "--index", "1", "x.py",
    ]);
    assert_ne!(out.code, 0, "outside a run there is no queue");
    assert!(out.stderr.contains("inside a Sluice run"), "{}", out.stderr);
}

#[test]
fn codecov_and_coveralls_actions_keep_coverage_in_the_history() {
    if !tools() {
        return;
    }
    let repo = TestRepo::new();
    repo.file("app.py", APP)
        .file("test_app.py", TESTS)
        .file(".gitignore", ".coverage\ncoverage.xml\n__pycache__/\n")
        .workflow(
            "tests.yml",
            "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python3 -m coverage run --include=app.py -m pytest -q -p no:cacheprovider && python3 -m coverage xml -o coverage.xml\n      - uses: codecov/codecov-action@v4\n        with:\n          files: ./coverage.xml\n          fail_ci_if_error: true\n      - uses: coverallsapp/github-action@v2\n        with:\n          fail-on-error: false\n",
        )
        .commit("app");
    let out = repo.sluice(&["run", "tests"]);
    out.assert_code(0);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("coverallsapp/github-action: no coverage report found"),
        "{all}"
    );
    let shown = repo.sluice(&["coverage", "--json"]).json();
    assert_eq!(
        (
            shown["lines_covered"].as_u64(),
            shown["lines_total"].as_u64()
        ),
        (Some(8), Some(11)),
        "{shown}"
    );
}
