//! The wire shapes of the report events (`sluice run --json`, the
//! history's recorder and the server read them), pinned: a change here
//! is a change for every reader.

use sluice_events::{
    CoverageFile, CoverageTotals, DiffTotals, Event, JobKey, Outcome, PerfResult, TestCase,
    TestOutcome, Testbed, Totals,
};

fn json(event: &Event) -> serde_json::Value {
    serde_json::to_value(event).expect("events serialise")
}

#[test]
fn test_report_event() {
    let cases = vec![TestCase {
        suite: "pytest".into(),
        classname: "tests.test_api".into(),
        name: "test_timeout".into(),
        file: Some("tests/test_api.py".into()),
        line: Some(12),
        outcome: TestOutcome::Failed,
        time: 1.5,
        message: Some("assert 1 == 2".into()),
        details: None,
        runs: 1,
    }];
    let event = Event::TestReport {
        job: JobKey::new("test", None),
        step: 2,
        attempt: 1,
        files: vec!["reports/junit.xml".into()],
        totals: Totals::of(&cases),
        cases,
        tree: Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".into()),
        at: 1_790_000_000_000,
    };
    insta::assert_json_snapshot!(json(&event));
}

#[test]
fn coverage_report_event() {
    let totals = CoverageTotals {
        lines_covered: 8,
        lines_total: 11,
        branches_covered: 3,
        branches_total: 4,
    };
    let event = Event::CoverageReport {
        job: JobKey::new("test", None),
        step: 1,
        attempt: 1,
        files: vec!["coverage.xml".into()],
        totals,
        per_file: vec![CoverageFile {
            path: "app.py".into(),
            totals,
            covered: "1-2,5-8".into(),
            uncovered: "9,14-15".into(),
        }],
        diff: Some(DiffTotals {
            base: "0123456789abcdef0123456789abcdef01234567".into(),
            covered: 1,
            total: 4,
        }),
        at: 1_790_000_000_000,
    };
    insta::assert_json_snapshot!(json(&event));
}

#[test]
fn benchmark_report_event() {
    let event = Event::BenchmarkReport {
        job: JobKey::new("bench", None),
        step: 0,
        attempt: 1,
        files: vec!["out.json".into()],
        testbed: Testbed {
            machine_id: "5f1c0a9e2b7d4c3a8e6f1b2d".into(),
            cpu_model: "Example CPU @ 2.00GHz".into(),
            cores: 2,
        },
        results: vec![PerfResult {
            benchmark: "parse".into(),
            measure: "latency".into(),
            unit: "s".into(),
            bigger_is_better: false,
            value: 0.14,
            repetitions: vec![0.14, 0.141, 0.139],
            verdict: "critical".into(),
            baseline: Some(0.1),
            change: Some(0.4),
            interval: Some((0.35, 0.45)),
        }],
        at: 1_790_000_000_000,
    };
    insta::assert_json_snapshot!(json(&event));
}

#[test]
fn job_waiting_event() {
    let event = Event::JobWaiting {
        job: JobKey::new("deploy", None),
        name: "Deploy".into(),
        environment: "production".into(),
        required_approvals: 2,
        wait_timer_ms: 30_000,
        approval_deadline: Some(1_790_086_400_000),
        at: 1_790_000_000_000,
    };
    insta::assert_json_snapshot!(json(&event));
}

#[test]
fn deployment_events() {
    let started = Event::DeploymentStarted {
        job: JobKey::new("deploy", None),
        environment: "production".into(),
        at: 1_790_000_000_000,
    };
    let finished = Event::DeploymentFinished {
        job: JobKey::new("deploy", None),
        environment: "production".into(),
        url: Some("https://example.invalid/app".into()),
        result: Outcome::Success,
        at: 1_790_000_060_000,
    };
    insta::assert_json_snapshot!(serde_json::json!([json(&started), json(&finished)]));
}

#[test]
fn a_job_waiting_only_for_its_timer_leaves_out_what_it_does_not_wait_for() {
    let event = Event::JobWaiting {
        job: JobKey::new("deploy", None),
        name: "deploy".into(),
        environment: "staging".into(),
        required_approvals: 0,
        wait_timer_ms: 0,
        approval_deadline: None,
        at: 1,
    };
    let value = json(&event);
    assert!(value.get("wait_timer_ms").is_none(), "{value}");
    assert!(value.get("approval_deadline").is_none(), "{value}");
    let back: Event = serde_json::from_value(value).unwrap();
    assert_eq!(back, event);
}
