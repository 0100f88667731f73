//! Performance gates end to end: results imported into the history and
//! judged from files without a run, and workflows whose benchmarks
//! regress (failing, naming the metric, change and baseline) or do not.

use crate::support::TestRepo;

fn custom(value: f64) -> String {
    format!("[{{\"name\": \"parse\", \"unit\": \"ms\", \"value\": {value}}}]")
}

/// Eight earlier results of `parse` on the default branch, about 100 ms.
fn with_history(repo: &TestRepo) {
    for (day, value) in [100.0, 101.0, 99.5, 100.4, 99.8, 100.9, 99.2, 100.2]
        .iter()
        .enumerate()
    {
        let file = format!("old-{day}.json");
        repo.file(&file, &custom(*value));
        let at = format!("2026-11-{:02}", day + 1);
        repo.sluice(&["perf", "record", &file, "--at", &at])
            .assert_code(0);
    }
}

#[test]
fn results_are_imported_and_checked_without_a_run() {
    let repo = TestRepo::new();
    repo.file("README", "x").commit("first");
    with_history(&repo);
    repo.file("slow.json", &custom(130.0))
        .file("same.json", &custom(100.3));
    let out = repo.sluice(&["perf", "check", "slow.json", "--json"]);
    out.assert_code(1);
    let verdicts = out.json();
    let parse = &verdicts[0];
    assert_eq!(parse["verdict"], "critical", "{verdicts}");
    assert_eq!(parse["benchmark"], "parse");
    let baseline = parse["baseline"].as_f64().unwrap();
    assert!((99.0..101.5).contains(&baseline), "{parse}");
    let change = parse["change"].as_f64().unwrap();
    assert!((0.28..0.32).contains(&change), "{parse}");
    let same = repo.sluice(&["perf", "check", "same.json", "--json"]);
    same.assert_code(0);
    assert_eq!(same.json()[0]["verdict"], "ok");
    // A benchmark without history is never a pass in disguise.
    repo.file(
        "new.json",
        "[{\"name\": \"render\", \"unit\": \"ms\", \"value\": 5}]",
    );
    let fresh = repo.sluice(&["perf", "check", "new.json", "--json"]);
    fresh.assert_code(0);
    assert_eq!(fresh.json()[0]["verdict"], "insufficient-data");
    let history = repo.sluice(&["perf", "history", "parse", "--json"]).json();
    assert_eq!(
        history[0]["points"].as_array().unwrap().len(),
        8,
        "{history}"
    );
    // Not a results file: refused, naming it.
    repo.file("notes.txt", "hello");
    let bad = repo.sluice(&["perf", "check", "notes.txt"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("notes.txt"), "{}", bad.stderr);
}

const WORKFLOW: &str = "on: push\njobs:\n  bench:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cp results.json out.json\n        reports:\n          benchmarks: [out.json]\n";

#[test]
fn a_regressing_benchmark_fails_its_step_and_a_steady_one_passes() {
    let repo = TestRepo::new();
    repo.file("README", "x").commit("first");
    with_history(&repo);
    repo.workflow("bench.yml", WORKFLOW)
        .file("results.json", &custom(140.0))
        .commit("slower");
    let out = repo.sluice(&["run", "bench"]);
    out.assert_code(1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("critical regression: parse › value: 140.0000 ms against a baseline of 100."),
        "{all}"
    );
    assert!(all.contains("(+39."), "{all}");
    let shown = repo.sluice(&["perf", "--json"]).json();
    assert_eq!(shown[0]["verdict"], "critical", "{shown}");
    repo.file("results.json", &custom(100.3)).commit("fixed");
    repo.sluice(&["run", "bench"]).assert_code(0);
    assert_eq!(repo.sluice(&["perf", "--json"]).json()[0]["verdict"], "ok");
}

#[test]
fn github_action_benchmark_runs_natively_with_its_thresholds() {
    let repo = TestRepo::new();
    repo.file("README", "x").commit("first");
    with_history(&repo);
    let workflow = |fail_on_alert: bool| {
        format!(
            "on: push\njobs:\n  bench:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: benchmark-action/github-action-benchmark@v1\n        with:\n          tool: customSmallerIsBetter\n          output-file-path: results.json\n          alert-threshold: 120%\n          fail-on-alert: {fail_on_alert}\n"
        )
    };
    repo.workflow("bench.yml", &workflow(true))
        .file("results.json", &custom(140.0))
        .commit("slower");
    let out = repo.sluice(&["run", "bench"]);
    out.assert_code(1);
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("critical regression: parse"),
        "{}",
        out.stdout
    );
    // Without fail-on-alert the same regression only warns.
    repo.workflow("bench.yml", &workflow(false))
        .commit("warn only");
    let out = repo.sluice(&["run", "bench"]);
    out.assert_code(0);
}
