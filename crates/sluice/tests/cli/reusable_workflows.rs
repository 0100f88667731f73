//! Reusable workflows (`jobs.<id>.uses`), local and remote: inputs,
//! secrets, outputs, matrices of calls and nesting, as part of one run.

use crate::git_server::GitServer;
use crate::support::{TestRepo, job_event, job_lines};

fn result(events: &[serde_json::Value], job: &str) -> String {
    events
        .iter()
        .find(|e| (e["type"] == "job_finished" || e["type"] == "job_skipped") && e["job"] == job)
        .map(|e| {
            if e["type"] == "job_skipped" {
                "skipped".to_string()
            } else {
                e["result"].as_str().unwrap_or_default().to_string()
            }
        })
        .unwrap_or_else(|| panic!("no end for {job}"))
}

const BUILD: &str = r#"on:
  workflow_call:
    inputs:
      target: {type: string, required: true}
      optimize: {type: boolean, default: false}
      level: {type: number, default: 1}
    secrets:
      token: {required: false}
    outputs:
      artifact:
        description: what was built
        value: ${{ jobs.package.outputs.name }}
env:
  FROM_CALLEE: callee-env
jobs:
  compile:
    runs-on: ubuntu-latest
    outputs:
      binary: ${{ steps.c.outputs.binary }}
    steps:
      - id: c
        run: |
          echo "compile ${{ inputs.target }} optimize=${{ inputs.optimize }} level=${{ inputs.level }} env=$FROM_CALLEE"
          echo "binary=${{ inputs.target }}-bin" >> "$GITHUB_OUTPUT"
  package:
    needs: compile
    runs-on: ubuntu-latest
    outputs:
      name: ${{ steps.p.outputs.name }}
    steps:
      - id: p
        run: |
          echo "package ${{ needs.compile.outputs.binary }} token=${{ secrets.token }}"
          echo "name=${{ needs.compile.outputs.binary }}.tar" >> "$GITHUB_OUTPUT"
"#;

#[test]
fn outputs_flow_from_a_called_workflow_to_a_later_job() {
    let repo = TestRepo::new();
    repo.workflow("build.yml", BUILD)
        .workflow(
            "ci.yml",
            r#"on: push
jobs:
  prepare:
    runs-on: x
    outputs: {target: "${{ steps.t.outputs.target }}"}
    steps:
      - id: t
        run: echo "target=linux" >> "$GITHUB_OUTPUT"
  build:
    needs: prepare
    uses: ./.github/workflows/build.yml
    with:
      target: ${{ needs.prepare.outputs.target }}
      optimize: true
    secrets:
      token: ${{ secrets.DEPLOY_TOKEN }}
  ship:
    needs: build
    runs-on: x
    steps:
      - run: echo "shipping ${{ needs.build.outputs.artifact }} (${{ needs.build.result }})"
"#,
        )
        .commit("first");
    let (out, events) = repo.run_json("ci", &["--secret", "DEPLOY_TOKEN=tok-9f8e7d"]);
    out.assert_code(0);
    let compile = job_lines(&events, "build/compile").join("\n");
    assert!(
        compile.contains("compile linux optimize=true level=1 env=callee-env"),
        "{compile}"
    );
    let package = job_lines(&events, "build/package").join("\n");
    assert!(package.contains("package linux-bin token=***"), "{package}");
    let ship = job_lines(&events, "ship").join("\n");
    assert!(ship.contains("shipping linux-bin.tar (success)"), "{ship}");
    assert!(!out.stdout.contains("tok-9f8e7d"));
    // The called jobs are jobs of the run, shown as `caller / job`.
    let started = job_event(&events, "job_started", "build/package");
    assert_eq!(started["name"], "build / package");
    let show = repo.sluice(&["show", "last"]).stdout;
    assert!(show.contains("build / compile"), "{show}");
    // `sluice plan` shows the expanded graph.
    let plan = repo.sluice(&["plan", "ci", "--json"]);
    let plans: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let plan = &plans[0];
    let ids: Vec<&str> = plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["prepare", "build", "build/compile", "build/package", "ship"]
    );
    let build = &plan["jobs"][1];
    assert_eq!(
        build["call"]["jobs"],
        serde_json::json!(["build/compile", "build/package"])
    );
    assert_eq!(plan["jobs"][2]["needs"], serde_json::json!(["prepare"]));
}

#[test]
fn a_matrix_of_calls_runs_one_call_per_instance() {
    let repo = TestRepo::new();
    repo.workflow("build.yml", BUILD)
        .workflow(
            "ci.yml",
            r#"on: push
jobs:
  build:
    strategy:
      matrix:
        target: [arm, x86]
    uses: ./.github/workflows/build.yml
    with:
      target: ${{ matrix.target }}
      level: 3
  after:
    needs: build
    runs-on: x
    steps: [{run: 'echo "last artifact ${{ needs.build.outputs.artifact }}"'}]
"#,
        )
        .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    for (instance, target) in [("build[0]", "arm"), ("build[1]", "x86")] {
        let lines = job_lines(&events, &format!("{instance}/compile")).join("\n");
        assert!(
            lines.contains(&format!("compile {target} optimize=false level=3")),
            "{lines}"
        );
        assert_eq!(result(&events, instance), "success");
    }
    let after = job_lines(&events, "after").join("\n");
    assert!(after.contains("last artifact "), "{after}");
}

#[test]
fn secrets_inherit_reach_the_called_workflow_masked_and_a_false_if_skips_the_whole_call() {
    let repo = TestRepo::new();
    repo.workflow(
        "inner.yml",
        "on:\n  workflow_call:\njobs:\n  use:\n    runs-on: x\n    steps:\n      - run: echo \"inner sees ${{ secrets.API_KEY }} and $(printf %s '${{ secrets.API_KEY }}' | wc -c) chars\"\n  always:\n    if: always()\n    runs-on: x\n    steps: [{run: echo always-ran}]\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  call:\n    uses: ./.github/workflows/inner.yml\n    secrets: inherit\n  skipped:\n    if: false\n    uses: ./.github/workflows/inner.yml\n",
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &["--secret", "API_KEY=key-31337"]);
    out.assert_code(0);
    let lines = job_lines(&events, "call/use").join("\n");
    assert!(lines.contains("inner sees *** and 9 chars"), "{lines}");
    assert!(!out.stdout.contains("key-31337"));
    // A call whose `if` is false runs none of its jobs, not even `always()` ones.
    assert_eq!(result(&events, "skipped/use"), "skipped");
    assert_eq!(result(&events, "skipped/always"), "skipped");
    assert_eq!(result(&events, "skipped"), "skipped");
    assert!(
        !job_lines(&events, "skipped/always")
            .join("\n")
            .contains("always-ran")
    );
}

#[test]
fn calls_nest_three_deep_and_a_failure_flows_to_the_caller() {
    let repo = TestRepo::new();
    repo.workflow(
        "level3.yml",
        "on:\n  workflow_call:\n    inputs:\n      fail: {type: boolean, default: false}\njobs:\n  deepest:\n    runs-on: x\n    steps:\n      - run: echo deepest-ran\n      - if: inputs.fail\n        run: exit 1\n",
    )
    .workflow(
        "level2.yml",
        "on:\n  workflow_call:\n    inputs:\n      fail: {type: boolean, default: false}\njobs:\n  down:\n    uses: ./.github/workflows/level3.yml\n    with: {fail: '${{ inputs.fail }}'}\n",
    )
    .workflow(
        "level1.yml",
        "on:\n  workflow_call:\n    inputs:\n      fail: {type: boolean, default: false}\njobs:\n  down:\n    uses: ./.github/workflows/level2.yml\n    with: {fail: '${{ inputs.fail }}'}\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  ok:\n    uses: ./.github/workflows/level1.yml\n  bad:\n    uses: ./.github/workflows/level1.yml\n    with: {fail: true}\n  after-bad:\n    needs: bad\n    runs-on: x\n    steps: [{run: echo must-not-run}]\n",
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    assert!(
        job_lines(&events, "ok/down/down/deepest")
            .join("\n")
            .contains("deepest-ran")
    );
    assert_eq!(result(&events, "ok"), "success");
    assert_eq!(result(&events, "bad/down/down/deepest"), "failure");
    assert_eq!(result(&events, "bad/down/down"), "failure");
    assert_eq!(result(&events, "bad"), "failure");
    assert_eq!(result(&events, "after-bad"), "skipped");
}

#[test]
fn a_cycle_of_calls_is_refused() {
    let repo = TestRepo::new();
    repo.workflow(
        "a.yml",
        "on:\n  workflow_call:\njobs:\n  call-b:\n    uses: ./.github/workflows/b.yml\n",
    )
    .workflow(
        "b.yml",
        "on:\n  workflow_call:\njobs:\n  call-a:\n    uses: ./.github/workflows/a.yml\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  start:\n    uses: ./.github/workflows/a.yml\n",
    )
    .commit("first");
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("Nested reusable workflow depth exceeded"),
        "{}",
        out.stderr
    );
}

#[test]
fn validate_reports_a_type_mismatch_with_both_locations() {
    let repo = TestRepo::new();
    repo.workflow("build.yml", BUILD)
        .workflow(
            "ci.yml",
            "on: push\njobs:\n  build:\n    uses: ./.github/workflows/build.yml\n    with:\n      target: linux\n      optimize: maybe\n",
        )
        .commit("first");
    let out = repo.sluice(&["validate", ".github/workflows/ci.yml"]);
    out.assert_code(1);
    assert!(out.stderr.contains("ci.yml:7"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Unexpected value 'maybe'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("build.yml:5"),
        "the input's declaration: {}",
        out.stderr
    );
}

#[test]
fn a_remote_reusable_workflow_runs_and_runs_again_from_the_cache() {
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(&scratch.path().join("srv"), &[], None);
    let sha = server.repository(
        "shared/pipelines",
        &[
            (".github/workflows/check.yml", "on:\n  workflow_call:\n    inputs:\n      who: {type: string, default: nobody}\njobs:\n  hello:\n    runs-on: x\n    steps: [{run: 'echo \"remote pipeline greets ${{ inputs.who }}\"'}]\n  nested:\n    uses: ./.github/workflows/inner.yml\n"),
            (".github/workflows/inner.yml", "on:\n  workflow_call:\njobs:\n  in:\n    runs-on: x\n    steps: [{run: echo remote-inner-ran}]\n"),
        ],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  pre:\n    uses: shared/pipelines/.github/workflows/check.yml@v1\n    with: {who: sluice}\n",
    )
    .commit("first");
    let run = |server_url: &str| {
        let out = repo.sluice_env(
            &["run", "ci", "--json"],
            &[("SLUICE_ACTIONS_SERVER", server_url)],
        );
        let events: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (out, events)
    };
    let (out, events) = run(&server.url());
    out.assert_code(0);
    assert!(
        job_lines(&events, "pre/hello")
            .join("\n")
            .contains("remote pipeline greets sluice")
    );
    assert!(
        job_lines(&events, "pre/nested/in")
            .join("\n")
            .contains("remote-inner-ran")
    );
    let show = repo.sluice(&["show", "last"]).stdout;
    assert!(
        show.contains(&format!(
            "shared/pipelines/.github/workflows/check.yml@v1 → {sha}"
        )),
        "{show}"
    );
    server.stop();
    let (out, events) = run(&server.url());
    out.assert_code(0);
    assert!(
        job_lines(&events, "pre/nested/in")
            .join("\n")
            .contains("remote-inner-ran")
    );
}
