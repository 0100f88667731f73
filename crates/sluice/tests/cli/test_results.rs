//! Test results end to end, with real runners writing real reports:
//! pytest and Node's own test runner. Both must be installed under CI
//! (`.ci/run` installs pytest); elsewhere their tests skip loudly.

use crate::support::TestRepo;

fn available(program: &str, args: &[&str]) -> bool {
    let found = std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`{program} {}` is required under CI", args.join(" "));
        }
        eprintln!(
            "\n*** SKIPPED: `{program} {}` is not available ***\n",
            args.join(" ")
        );
    }
    found
}

fn pytest() -> bool {
    available("python3", &["-m", "pytest", "--version"])
}

fn node() -> bool {
    available("node", &["--version"])
}

fn json(repo: &TestRepo, args: &[&str]) -> serde_json::Value {
    let out = repo.sluice(args);
    out.assert_code(0);
    out.json()
}

/// A pytest suite whose `test_sometimes` fails every third time it runs
/// (counted in a file outside the repository), `test_never` always.
fn pytest_repo(counter: &std::path::Path) -> TestRepo {
    let repo = TestRepo::new();
    repo.file(
        "tests/test_app.py",
        &format!(
            "import pathlib\n\
             COUNTER = pathlib.Path({counter:?})\n\
             def test_fine():\n    assert True\n\
             def test_sometimes():\n    n = int(COUNTER.read_text()) if COUNTER.exists() else 0\n    COUNTER.write_text(str(n + 1))\n    assert n % 3 != 2, 'timed out talking to the cache'\n\
             def test_never():\n    assert 1 == 2, 'the migration is wrong'\n",
            counter = counter.display().to_string()
        ),
    )
    .file("sluice.toml", "[flaky]\nmin-samples = 6\n")
    .workflow(
        "tests.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python3 -m pytest -q -p no:cacheprovider --junitxml=reports/pytest.xml tests\n        reports:\n          junit: [reports/*.xml]\n",
    )
    .commit("tests");
    repo
}

#[test]
fn a_flaky_test_and_a_broken_test_are_told_apart_across_runs_of_one_commit() {
    if !pytest() {
        return;
    }
    let counter = tempfile::NamedTempFile::new().unwrap();
    std::fs::remove_file(counter.path()).unwrap();
    let repo = pytest_repo(counter.path());
    for _ in 0..9 {
        repo.sluice(&["run", "tests"]).assert_code(1);
    }
    let tests = json(&repo, &["tests", "--json"]);
    let outcomes: Vec<(String, String)> = tests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["test"]["name"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        outcomes.contains(&("test_never".into(), "failed".into())),
        "{outcomes:?}"
    );
    let findings = json(&repo, &["tests", "flaky", "--json"]);
    let flaky: Vec<&str> = findings["flaky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"]["name"].as_str().unwrap())
        .collect();
    let broken: Vec<&str> = findings["broken"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(flaky, ["test_sometimes"], "{findings:#}");
    assert_eq!(broken, ["test_never"], "{findings:#}");
    let rules: Vec<&str> = findings["flaky"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"same-tree"), "{rules:?}");
    assert!(findings["lost_ms"].as_u64().is_some());
    let history = repo.sluice(&["tests", "history", "tests.test_app::test_sometimes"]);
    history.assert_code(0);
    assert_eq!(history.stdout.lines().count(), 9, "{}", history.stdout);
    // --quarantine adds the flaky test, never the broken one.
    repo.sluice(&["tests", "flaky", "--quarantine"])
        .assert_code(0);
    let quarantined = std::fs::read_to_string(repo.path().join(".sluice/quarantine.yml")).unwrap();
    assert!(
        quarantined.contains("test_sometimes") && quarantined.contains("automatic: true"),
        "{quarantined}"
    );
    assert!(!quarantined.contains("test_never"), "{quarantined}");
}

#[test]
fn retries_recover_a_flaky_step_and_still_mark_the_test_flaky() {
    if !pytest() {
        return;
    }
    let counter = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(counter.path(), "2").unwrap();
    let repo = TestRepo::new();
    repo.file(
        "tests/test_net.py",
        &format!(
            "import pathlib\nC = pathlib.Path({:?})\n\
             def test_download():\n    n = int(C.read_text())\n    C.write_text(str(n + 1))\n    assert n % 3 != 2, 'connection reset'\n\
             def test_parse():\n    assert True\n",
            counter.path().display().to_string()
        ),
    )
    .workflow(
        "tests.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python3 -m pytest -q -p no:cacheprovider --junitxml=report.xml tests\n        reports:\n          junit: [report.xml]\n        retry:\n          attempts: 3\n          rerun-failed: python3 -m pytest -q -p no:cacheprovider --junitxml=report.xml tests -k \"$(echo \"$SLUICE_FAILED_TESTS\" | sed 's/.*:://' | paste -sd' ' | sed 's/ / or /g')\"\n",
    )
    .commit("tests");
    let run = repo.sluice(&["run", "tests"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("attempt 1 of 3 failed"),
        "{}",
        run.stdout
    );
    let results = json(&repo, &["tests", "--json"]);
    let attempts: Vec<(String, u64, String)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["test"]["name"].as_str().unwrap().to_string(),
                r["attempt"].as_u64().unwrap(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        attempts.contains(&("test_download".into(), 1, "failed".into())),
        "{attempts:?}"
    );
    assert!(
        attempts.contains(&("test_download".into(), 2, "passed".into())),
        "{attempts:?}"
    );
    assert!(
        !attempts.contains(&("test_parse".into(), 2, "passed".into())),
        "the retry ran only the failed test: {attempts:?}"
    );
    let findings = json(&repo, &["tests", "flaky", "--json"]);
    assert_eq!(
        findings["flaky"][0]["test"]["name"], "test_download",
        "{findings:#}"
    );
    assert_eq!(findings["flaky"][0]["evidence"][0]["rule"], "retry");
}

#[test]
fn quarantine_lets_a_step_pass_only_when_all_its_failures_are_quarantined() {
    if !node() {
        return;
    }
    let repo = TestRepo::new();
    repo.file(
        "cart.test.js",
        "const test = require('node:test');\nconst assert = require('node:assert');\n\
         test('totals', () => assert.strictEqual(1 + 1, 2));\n\
         test('rounds prices', () => assert.strictEqual(0.1 + 0.2, 0.3));\n\
         test('applies coupons', () => assert.ok(false, 'coupon ignored'));\n",
    )
    .workflow(
        "tests.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: node --test --test-reporter=junit --test-reporter-destination=report.xml cart.test.js\n        reports:\n          junit: [report.xml]\n",
    )
    .commit("tests");
    repo.sluice(&["run", "tests"]).assert_code(1);
    let added = repo.sluice(&[
        "tests",
        "quarantine",
        "add",
        "test::rounds prices",
        "--reason",
        "float rounding, ticket 12",
    ]);
    added.assert_code(0);
    repo.commit("quarantine one");
    let one = repo.sluice(&["run", "tests"]);
    one.assert_code(1);
    repo.sluice(&[
        "tests",
        "quarantine",
        "add",
        "applies coupons",
        "--reason",
        "coupon service flaky",
    ])
    .assert_code(0);
    repo.commit("quarantine both");
    let both = repo.sluice(&["run", "tests"]);
    both.assert_code(0);
    assert!(
        both.stdout.contains("every failure is of a quarantined test (test ‑ rounds prices, test ‑ applies coupons); the step passes"),
        "{}",
        both.stdout
    );
    let listed = repo.sluice(&["tests", "quarantine", "ls"]);
    assert!(
        listed.stdout.contains("float rounding, ticket 12"),
        "{}",
        listed.stdout
    );
    // Quarantined tests still run and are recorded.
    let results = json(&repo, &["tests", "--json"]);
    assert_eq!(results.as_array().unwrap().len(), 3);
    repo.sluice(&["tests", "quarantine", "rm", "test::applies coupons"])
        .assert_code(0);
    repo.commit("release one");
    repo.sluice(&["run", "tests"]).assert_code(1);
}

#[test]
fn test_report_actions_run_natively_with_their_inputs_and_outputs() {
    let repo = TestRepo::new();
    repo.file(
        "make-report.sh",
        "mkdir -p junit-reports && printf '<testsuite name=\"s\"><testcase classname=\"c\" name=\"ok\" time=\"1\"/><testcase classname=\"c\" name=\"bad\" file=\"src/bad.py\" line=\"7\"><failure message=\"nope\">trace</failure></testcase></testsuite>' > junit-reports/TEST-s.xml\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  report:\n    runs-on: ubuntu-latest\n    steps:\n      - run: sh make-report.sh\n      - id: mikepenz\n        uses: mikepenz/action-junit-report@v5\n      - id: enrico\n        uses: EnricoMi/publish-unit-test-result-action@v2\n        with:\n          files: junit-reports/*.xml\n      - run: echo \"mikepenz ${{ steps.mikepenz.outputs.total }}/${{ steps.mikepenz.outputs.failed }} enrico ${{ fromJSON(steps.enrico.outputs.json).conclusion }}\"\n      - uses: dorny/test-reporter@v1\n        with:\n          name: tests\n          path: junit-reports/*.xml\n          reporter: java-junit\n",
    )
    .commit("reports");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    let lines = crate::support::job_lines(&events, "report").join("\n");
    assert!(lines.contains("mikepenz 2/1 enrico failure"), "{lines}");
    let annotation = events
        .iter()
        .find(|e| e["type"] == "annotation" && e["file"] == "src/bad.py")
        .expect("the failed test is annotated where it is");
    assert_eq!(annotation["line"], 7);
    let reports = events.iter().filter(|e| e["type"] == "test_report").count();
    assert_eq!(reports, 3, "each action read the report");
    let failed_step = events
        .iter()
        .rfind(|e| e["type"] == "step_finished")
        .unwrap();
    assert_eq!(
        failed_step["outcome"], "failure",
        "dorny fails on an error by default"
    );
}

#[test]
fn report_junit_names_the_file_line_and_column_of_a_bad_report() {
    let repo = TestRepo::new();
    repo.file(
        "good.xml",
        "<testsuite><testcase classname=\"c\" name=\"a\" time=\"0.5\"/></testsuite>",
    )
    .file(
        "bad.xml",
        "<testsuites>\n  <testsuite>\n    <testcase name=\"x\">\n",
    );
    let good = repo.sluice(&["report", "junit", "good.xml"]);
    good.assert_code(0);
    assert!(
        good.stdout.starts_with("1 tests: 1 passed"),
        "{}",
        good.stdout
    );
    let bad = repo.sluice(&["report", "junit", "good.xml", "bad.xml"]);
    bad.assert_code(2);
    assert!(
        bad.stderr
            .contains("bad.xml:4:1: error: the file ends inside <testcase>"),
        "{}",
        bad.stderr
    );
}

#[test]
fn nick_fields_retry_runs_natively() {
    let repo = TestRepo::new();
    let counter = repo.scratch().join("count");
    repo.workflow(
        "ci.yml",
        &format!(
            "on: push\njobs:\n  flaky:\n    runs-on: ubuntu-latest\n    steps:\n      - id: retry\n        uses: nick-fields/retry@v3\n        with:\n          timeout_seconds: 20\n          max_attempts: 3\n          retry_wait_seconds: 0\n          command: n=$(cat {c} 2>/dev/null || echo 0); echo $((n+1)) > {c}; [ $n -ge 1 ]\n      - run: echo \"took ${{{{ steps.retry.outputs.total_attempts }}}} attempts\"\n",
            c = counter.display()
        ),
    )
    .commit("retry");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    assert!(
        crate::support::job_lines(&events, "flaky")
            .join("\n")
            .contains("took 2 attempts")
    );
}
