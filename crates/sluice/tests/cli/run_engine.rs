//! `sluice run`, end to end: real workflows in throwaway repositories.

use crate::support::{
    TestRepo, eventually, job_event, job_lines, of_type, sleepers, unique_marker,
};

fn repo_with(workflow: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.workflow("ci.yml", workflow)
        .file("README", "hello\n")
        .commit("first");
    repo
}

fn at(event: &serde_json::Value) -> u64 {
    event["at"].as_u64().expect("timestamp")
}

#[test]
fn jobs_start_as_soon_as_their_needs_finish_not_in_stages() {
    // `fast -> after-fast` must not wait for `slow`, which has no relation.
    let repo = repo_with(
        "on: push\njobs:\n  fast:\n    runs-on: ubuntu-latest\n    steps: [{run: sleep 0.2}]\n  slow:\n    runs-on: ubuntu-latest\n    steps: [{run: sleep 5}]\n  after-fast:\n    needs: fast\n    runs-on: ubuntu-latest\n    steps: [{run: echo go}]\n",
    );
    let (out, events) = repo.run_json("ci", &["--jobs", "4"]);
    out.assert_code(0);
    let after_done = at(job_event(&events, "job_finished", "after-fast"));
    let slow_done = at(job_event(&events, "job_finished", "slow"));
    // In stages, after-fast could only start once slow (5 s) had finished.
    assert!(
        after_done < slow_done,
        "after-fast waited for slow: it ran in stages"
    );
    let finished = of_type(&events, "run_finished");
    assert_eq!(finished[0]["result"], "success");
    assert_eq!(finished[0]["critical_path"], serde_json::json!(["slow"]));
}

#[test]
fn job_slots_limit_how_many_jobs_run_at_once() {
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: sleep 0.3}]\n  b:\n    runs-on: x\n    steps: [{run: sleep 0.3}]\n",
    );
    let (out, events) = repo.run_json("ci", &["--jobs", "1"]);
    out.assert_code(0);
    let a = (
        at(job_event(&events, "job_started", "a")),
        at(job_event(&events, "job_finished", "a")),
    );
    let b = (
        at(job_event(&events, "job_started", "b")),
        at(job_event(&events, "job_finished", "b")),
    );
    assert!(
        a.1 <= b.0 || b.1 <= a.0,
        "with one slot the jobs overlapped: {a:?} {b:?}"
    );
    // SLUICE_JOBS is the same setting.
    let out = repo.sluice_env(&["run", "ci", "--json"], &[("SLUICE_JOBS", "0")]);
    out.assert_code(2);
}

#[test]
fn outputs_and_results_flow_to_downstream_jobs() {
    let repo = repo_with(
        r#"on: push
jobs:
  produce:
    runs-on: x
    outputs:
      greeting: ${{ steps.say.outputs.greeting }}
      story: ${{ steps.say.outputs.story }}
    steps:
      - id: say
        run: |
          echo "greeting=hello world" >> "$GITHUB_OUTPUT"
          { echo "story<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$GITHUB_OUTPUT"
  consume:
    needs: produce
    runs-on: x
    steps:
      - run: |
          echo "got ${{ needs.produce.outputs.greeting }} (${{ needs.produce.result }})"
          echo "${{ needs.produce.outputs.story }}" | wc -l
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let outputs = &job_event(&events, "job_finished", "produce")["outputs"];
    assert_eq!(outputs["greeting"], "hello world");
    assert_eq!(outputs["story"], "line one\nline two");
    let lines = job_lines(&events, "consume");
    assert!(
        lines.contains(&"got hello world (success)".to_string()),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.trim() == "2"), "{lines:?}");
}

#[test]
fn skipped_jobs_say_why() {
    let repo = repo_with(
        "on: push\njobs:\n  broken:\n    runs-on: x\n    steps: [{run: exit 3}]\n  after:\n    needs: broken\n    runs-on: x\n    steps: [{run: echo never}]\n  cleanup:\n    needs: broken\n    if: always()\n    runs-on: x\n    steps: [{run: echo cleaning}]\n  on-failure:\n    needs: broken\n    if: failure()\n    runs-on: x\n    steps: [{run: echo noticed}]\n  never:\n    if: github.event_name == 'schedule'\n    runs-on: x\n    steps: [{run: echo no}]\n  windows:\n    runs-on: windows-latest\n    steps: [{run: echo no}]\n",
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    let reason = |job| {
        job_event(&events, "job_skipped", job)["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason("after").contains("broken"), "{}", reason("after"));
    assert!(
        reason("never").contains("github.event_name == 'schedule'"),
        "{}",
        reason("never")
    );
    assert!(
        reason("windows").contains("another operating system"),
        "{}",
        reason("windows")
    );
    assert_eq!(
        job_event(&events, "job_finished", "cleanup")["result"],
        "success"
    );
    assert_eq!(job_lines(&events, "on-failure"), ["noticed"]);
    assert_eq!(
        job_event(&events, "job_finished", "broken")["result"],
        "failure"
    );
}

#[test]
fn matrix_fail_fast_cancels_siblings_and_max_parallel_limits_them() {
    let repo = repo_with(
        "on: push\njobs:\n  m:\n    runs-on: x\n    strategy:\n      max-parallel: 1\n      matrix:\n        n: [1, 2, 3]\n    steps:\n      - run: test ${{ matrix.n }} != 2\n",
    );
    let (out, events) = repo.run_json("ci", &["--jobs", "3"]);
    out.assert_code(1);
    assert_eq!(
        job_event(&events, "job_finished", "m[0]")["result"],
        "success"
    );
    assert_eq!(
        job_event(&events, "job_finished", "m[1]")["result"],
        "failure"
    );
    let skipped = job_event(&events, "job_skipped", "m[2]");
    assert!(
        skipped["reason"].as_str().unwrap().contains("fail-fast"),
        "{skipped}"
    );
    // max-parallel: 1 means m[1] started after m[0] finished.
    assert!(
        at(job_event(&events, "job_started", "m[1]"))
            >= at(job_event(&events, "job_finished", "m[0]"))
    );

    // Without fail-fast every instance runs.
    let repo = repo_with(
        "on: push\njobs:\n  m:\n    runs-on: x\n    strategy:\n      fail-fast: false\n      matrix:\n        n: [1, 2, 3]\n    steps:\n      - run: test ${{ matrix.n }} != 2\n",
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    assert_eq!(
        job_event(&events, "job_finished", "m[2]")["result"],
        "success"
    );
}

#[test]
fn a_matrix_can_come_from_an_earlier_jobs_output() {
    let repo = repo_with(
        r#"on: push
jobs:
  setup:
    runs-on: x
    outputs:
      matrix: ${{ steps.m.outputs.matrix }}
    steps:
      - id: m
        run: echo 'matrix={"os":["a","b"]}' >> "$GITHUB_OUTPUT"
  build:
    needs: setup
    runs-on: x
    strategy:
      matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}
    steps:
      - run: echo "building ${{ matrix.os }}"
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    assert_eq!(of_type(&events, "job_added").len(), 2);
    assert_eq!(job_lines(&events, "build[0]"), ["building a"]);
    assert_eq!(job_lines(&events, "build[1]"), ["building b"]);
}

#[test]
fn shells_follow_github() {
    let repo = repo_with(
        r#"on: push
jobs:
  shells:
    runs-on: x
    steps:
      - name: default shell is bash -e without pipefail
        run: false | true
      - name: explicit bash has pipefail
        id: pipefail
        continue-on-error: true
        shell: bash
        run: false | true
      - name: sh
        shell: sh
        run: echo "sh says $0" | grep -q sh && echo sh-ok
      - name: python
        shell: python
        run: print("python-ok")
      - name: custom template
        shell: perl {0}
        run: print "perl-ok\n";
      - name: outcome and conclusion
        run: echo "${{ steps.pipefail.outcome }}/${{ steps.pipefail.conclusion }}"
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "shells");
    for expected in ["sh-ok", "python-ok", "perl-ok", "failure/success"] {
        assert!(
            lines.contains(&expected.to_string()),
            "{expected} missing from {lines:?}"
        );
    }
    let finished = of_type(&events, "step_finished");
    assert_eq!(finished[1]["outcome"], "failure");
    assert_eq!(finished[1]["conclusion"], "success");
}

#[test]
fn env_is_layered_and_file_commands_work() {
    let repo = repo_with(
        r###"on: push
env:
  LEVEL: workflow
  WORKFLOW_ONLY: w
jobs:
  env:
    runs-on: x
    env:
      LEVEL: job
    defaults:
      run:
        working-directory: sub
    steps:
      - name: layering
        env:
          LEVEL: step
        run: echo "$LEVEL $WORKFLOW_ONLY ${{ env.LEVEL }} $(basename "$PWD") $GITHUB_ACTIONS $CI $GITHUB_JOB $RUNNER_OS"
      - name: export
        run: |
          echo "FROM_FILE=exported" >> "$GITHUB_ENV"
          { echo "MULTI<<END"; echo "a"; echo "b"; echo "END"; } >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\necho tool-ok\n' > "$RUNNER_TEMP/bin/mytool"
          chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "## Done" >> "$GITHUB_STEP_SUMMARY"
      - name: use
        run: |
          echo "$FROM_FILE ${{ env.FROM_FILE }} $(echo "$MULTI" | tr '\n' +)"
          mytool
      - name: working directory
        working-directory: .
        run: test -f README && echo root-ok
"###,
    );
    repo.file("sub/.keep", "").commit("sub");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "env");
    assert_eq!(lines[0], "step w step sub true true env Linux", "{lines:?}");
    assert!(
        lines.contains(&"exported exported a+b+".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"tool-ok".to_string()), "{lines:?}");
    assert!(lines.contains(&"root-ok".to_string()), "{lines:?}");
    let summary = &of_type(&events, "step_summary")[0];
    assert_eq!(summary["markdown"], "## Done\n");
}

#[test]
fn workflow_commands_are_understood() {
    let repo = repo_with(
        r#"on: push
jobs:
  cmds:
    runs-on: x
    outputs:
      legacy: ${{ steps.old.outputs.thing }}
    steps:
      - id: old
        run: |
          echo "::set-output name=thing::legacy value"
          echo "::error file=src/app.rs,line=12,col=3,title=Broken::something broke"
          echo "::warning::careful"
          echo "::group::Details"
          echo "inside"
          echo "::endgroup::"
          echo "::add-mask::hunter2"
          echo "the password is hunter2"
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let annotations = of_type(&events, "annotation");
    assert_eq!(annotations[0]["level"], "error");
    assert_eq!(annotations[0]["file"], "src/app.rs");
    assert_eq!(annotations[0]["line"], 12);
    assert_eq!(annotations[0]["col"], 3);
    assert_eq!(annotations[0]["title"], "Broken");
    assert_eq!(annotations[1]["level"], "warning");
    let lines = job_lines(&events, "cmds");
    assert!(
        lines.contains(&"the password is ***".to_string()),
        "{lines:?}"
    );
    assert!(!out.stdout.contains("hunter2"), "the masked value leaked");
    assert_eq!(
        job_event(&events, "job_finished", "cmds")["outputs"]["legacy"],
        "legacy value"
    );
}

#[test]
fn status_functions_and_step_conditions() {
    let repo = repo_with(
        r#"on: push
jobs:
  status:
    runs-on: x
    steps:
      - run: exit 1
      - name: skipped after a failure
        run: echo should-not-run
      - name: on failure
        if: failure()
        run: echo failure-seen
      - name: always
        if: always()
        run: echo always-runs
      - name: success is false now
        if: ${{ !success() }}
        run: echo not-success
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    let lines = job_lines(&events, "status");
    assert_eq!(lines, ["failure-seen", "always-runs", "not-success"]);
}

#[test]
fn timeouts_stop_steps_and_jobs_with_their_whole_process_tree() {
    let marker = unique_marker();
    let workflow = format!(
        r#"on: push
jobs:
  step-timeout:
    runs-on: x
    steps:
      - timeout-minutes: 0.02
        run: |
          setsid sh -c 'sleep {marker}' &
          sleep {marker}
      - if: always()
        run: echo after-timeout
  job-timeout:
    runs-on: x
    timeout-minutes: 0.02
    steps:
      - run: sleep {marker}
"#
    );
    let repo = repo_with(&workflow);
    let started = std::time::Instant::now();
    let (out, events) = repo.run_json("ci", &["--jobs", "2"]);
    out.assert_code(1);
    assert!(
        started.elapsed().as_secs() < 30,
        "timeouts did not stop the steps"
    );
    let steps = of_type(&events, "step_finished");
    assert!(
        steps
            .iter()
            .any(|s| s["job"] == "step-timeout" && s["outcome"] == "failure")
    );
    assert!(job_lines(&events, "step-timeout").contains(&"after-timeout".to_string()));
    assert_eq!(
        job_event(&events, "job_finished", "job-timeout")["result"],
        "failure"
    );
    // The detached sleeper left the process group: only the tracking id finds it.
    assert!(
        eventually(10, || sleepers(&marker).is_empty()),
        "orphans survived a timeout"
    );
}

#[test]
fn uses_steps_that_cannot_run_fail_clearly() {
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: some/action@v1\n",
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    let system: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "log" && e["stream"] == "system")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(
        system.iter().any(|l| l.contains("uses: some/action@v1")),
        "{system:?}"
    );
}

#[test]
fn secrets_are_masked_everywhere_output_is_kept() {
    let repo = repo_with(
        r#"on: push
jobs:
  leak:
    runs-on: x
    outputs:
      token: ${{ steps.s.outputs.token }}
    steps:
      - id: s
        env:
          FROM_FLAG: ${{ secrets.FLAG_SECRET }}
          FROM_FILE: ${{ secrets.FILE_SECRET }}
          FROM_ENV: ${{ secrets.ENV_SECRET }}
        run: |
          echo "flag=$FROM_FLAG"
          echo "file=$FROM_FILE"
          echo "env=$FROM_ENV" >&2
          echo "token=$FROM_FLAG" >> "$GITHUB_OUTPUT"
          echo "summary $FROM_FILE" >> "$GITHUB_STEP_SUMMARY"
          echo "::warning::warned $FROM_ENV"
"#,
    );
    let secret_file = repo.scratch().join("secrets.env");
    std::fs::write(
        &secret_file,
        "FILE_SECRET=\"first-line-secret\nsecond-line-secret\"\n",
    )
    .unwrap();
    let secret_file = secret_file.display().to_string();
    let args = [
        "run",
        "ci",
        "--secret",
        "FLAG_SECRET=flag-secret-value",
        "--secret-file",
        &secret_file,
    ];
    let env = [("SLUICE_SECRET_ENV_SECRET", "env-secret-value")];
    let secrets = [
        "flag-secret-value",
        "first-line-secret",
        "second-line-secret",
        "env-secret-value",
    ];
    let plain = repo.sluice_env(&args, &env);
    plain.assert_code(0);
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = repo.sluice_env(&json_args, &env);
    json.assert_code(0);
    let logs = repo.sluice(&["logs", "last"]);
    let show = repo.sluice(&["show", "last", "--summary", "--json"]);
    for (place, text) in [
        ("plain output", &plain.stdout),
        ("plain errors", &plain.stderr),
        ("json output", &json.stdout),
        ("stored logs", &logs.stdout),
        ("history", &show.stdout),
    ] {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{secret} leaked into {place}:\n{text}"
            );
        }
    }
    assert!(logs.stdout.contains("flag=***"), "{}", logs.stdout);
    assert!(logs.stdout.contains("env=***"), "{}", logs.stdout);
    assert!(show.stdout.contains("summary ***"), "{}", show.stdout);
    // The database file itself holds no secret either (logs are compressed,
    // so check the decompressed views above and the raw bytes of metadata).
    for file in ["history.sqlite", "history.sqlite-wal"] {
        let Ok(bytes) = std::fs::read(repo.path().join(".sluice/state").join(file)) else {
            continue;
        };
        for secret in secrets {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{secret} is in {file}"
            );
        }
    }
}

#[test]
fn history_numbers_runs_and_keeps_logs() {
    let repo = repo_with(
        "on: push\njobs:\n  one:\n    runs-on: x\n    steps:\n      - name: greet\n        run: echo hello-from-one\n      - name: bye\n        run: echo bye-from-one\n  two:\n    runs-on: x\n    steps: [{name: fail hard, run: exit 4}]\n",
    );
    repo.sluice(&["run", "ci"]).assert_code(1);
    repo.sluice(&["run", "ci", "--job", "one"]).assert_code(0);
    let runs = repo.sluice(&["runs", "--json"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&runs.stdout).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["number"], 2);
    assert_eq!(list[0]["status"], "success");
    assert_eq!(list[1]["status"], "failure");
    let text = repo.sluice(&["runs"]);
    assert!(
        text.stdout.contains("#2") && text.stdout.contains("#1"),
        "{}",
        text.stdout
    );
    let show = repo.sluice(&["show", "1"]);
    assert!(show.stdout.contains("exit 4"), "{}", show.stdout);
    let last_line = |args: &[&str]| {
        repo.sluice(args)
            .stdout
            .trim()
            .lines()
            .last()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(last_line(&["logs", "1", "one", "2"]), "bye-from-one");
    assert_eq!(last_line(&["logs", "1", "one", "greet"]), "hello-from-one");
    assert!(
        !repo
            .sluice(&["logs", "1", "one", "2"])
            .stdout
            .contains("hello-from-one")
    );
    // A step that is not there is named as the user counts (from 1).
    let missing = repo.sluice(&["logs", "1", "one", "99"]);
    missing.assert_code(2);
    assert!(missing.stderr.contains("#99"), "{}", missing.stderr);
    // Asking for no runs is a usage error, not "no runs yet".
    let none = repo.sluice(&["runs", "-n", "0"]);
    none.assert_code(2);
    assert!(!none.stdout.contains("no runs yet"));
    // The state directory stays out of git.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // --job runs only that job (and what it needs).
    let two = repo.sluice(&["show", "2", "--json"]);
    let run: serde_json::Value = serde_json::from_str(&two.stdout).unwrap();
    assert_eq!(run["jobs"].as_array().unwrap().len(), 1);
}

#[test]
fn exit_codes() {
    let ok = repo_with("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'true'}]\n");
    ok.sluice(&["run"]).assert_code(0);
    let failing = repo_with("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'false'}]\n");
    failing.sluice(&["run"]).assert_code(1);
    let invalid = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    needs: a\n    steps: [{run: 'true'}]\n",
    );
    let out = invalid.sluice(&["run"]);
    out.assert_code(2);
    assert!(out.stderr.contains("nothing was run"), "{}", out.stderr);
    ok.sluice(&["run", "--job", "nope"]).assert_code(2);
}

#[test]
fn ctrl_c_cancels_gracefully_and_always_steps_still_run() {
    let marker = unique_marker();
    let repo = repo_with(&format!(
        "on: push\njobs:\n  long:\n    runs-on: x\n    steps:\n      - name: long step\n        run: |\n          trap 'echo got-term; exit 143' TERM\n          sleep {marker} &\n          wait\n      - name: cleanup\n        if: always()\n        run: sleep 1 && echo cleanup-ran\n      - name: normal\n        run: echo not-after-cancel\n"
    ));
    let child = repo.spawn(&["run", "ci"]);
    assert!(
        eventually(20, || !sleepers(&marker).is_empty()),
        "the step did not start"
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let logs = repo.sluice(&["logs", "last"]).stdout;
    let has_line = |wanted: &str| logs.lines().any(|l| l == wanted);
    assert!(has_line("got-term"), "{logs}");
    assert!(has_line("cleanup-ran"), "{logs}");
    assert!(!logs.contains("not-after-cancel"), "{logs}");
    assert!(
        eventually(10, || sleepers(&marker).is_empty()),
        "orphans survived Ctrl-C"
    );
    let runs = repo.sluice(&["runs", "--json"]).stdout;
    assert!(runs.contains("\"cancelled\""), "{runs}");
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    use std::io::BufRead;
    let marker = unique_marker();
    let repo = repo_with(&format!(
        "on: push\njobs:\n  stubborn:\n    runs-on: x\n    steps:\n      - run: |\n          trap '' TERM\n          sleep {marker}\n"
    ));
    let mut child = repo.spawn(&["run", "ci"]);
    assert!(eventually(20, || !sleepers(&marker).is_empty()));
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    // The first interrupt must have been taken before the second is sent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx.recv_timeout(left).expect("sluice says it is cancelling");
        if line.starts_with("cancelling:") {
            break;
        }
    }
    let started = std::time::Instant::now();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    // The grace period is 10 s: well under it means nothing waited for it.
    assert!(
        started.elapsed().as_secs() < 6,
        "the second Ctrl-C did not kill at once"
    );
    assert!(eventually(10, || sleepers(&marker).is_empty()));
}

#[test]
fn kill_9_leaves_no_orphans_and_the_run_is_marked_interrupted() {
    let marker = unique_marker();
    let repo = repo_with(&format!(
        "on: push\njobs:\n  long:\n    runs-on: x\n    steps:\n      - name: long step\n        run: |\n          echo before-the-kill\n          setsid sleep {marker} &\n          sleep {marker}\n"
    ));
    let mut child = repo.spawn(&["run", "ci"]);
    assert!(
        eventually(20, || sleepers(&marker).len() >= 2),
        "the step did not start"
    );
    // Give the echo's line time to reach the spool before the kill.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(15, || sleepers(&marker).is_empty()),
        "processes survived kill -9 of sluice: {:?}",
        sleepers(&marker)
    );
    let next = repo.sluice(&["run", "ci", "--job", "nothing-matches"]);
    assert!(next.stderr.contains("was cut off"), "{}", next.stderr);
    let runs = repo.sluice(&["runs", "--json"]).stdout;
    assert!(runs.contains("\"interrupted\""), "{runs}");
    let logs = repo.sluice(&["logs", "1"]).stdout;
    assert!(
        logs.lines().any(|l| l == "before-the-kill"),
        "the interrupted run's log was lost: {logs}"
    );
}

#[test]
fn the_bundled_example_runs() {
    let repo = TestRepo::new();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/pipeline.yml"
    ))
    .unwrap();
    repo.file("examples/pipeline.yml", &example)
        .commit("example");
    let out = repo.sluice(&["run", "examples/pipeline.yml"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("allowed to fail (continue-on-error)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("critical path: prepare →"),
        "{}",
        out.stdout
    );
    let summary = repo.sluice(&["show", "last", "--summary"]);
    assert!(summary.stdout.contains("Prepared"), "{}", summary.stdout);
}

#[test]
fn a_terminal_gets_live_progress() {
    // `script` gives the run a pseudo-terminal; skip quietly where it is missing.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("*** SKIPPED: `script` (util-linux) is not installed ***");
        return;
    }
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - name: wait a little\n        run: sleep 0.5\n",
    );
    let command = format!("{} run ci", crate::support::sluice_bin().display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // A running line with the current step, redrawn in place, then settled.
    assert!(text.contains("wait a little"), "{text}");
    assert!(
        text.contains("\u{1b}[1A\u{1b}[2K"),
        "no in-place redraw: {text:?}"
    );
    assert!(text.contains("✓ a succeeded in"), "{text}");
}

#[test]
fn commands_on_stderr_count_and_github_env_overrides_job_env() {
    let repo = repo_with(
        r#"on: push
env:
  VERSION: dev
jobs:
  a:
    runs-on: x
    steps:
      # Named: an unnamed step is shown as its first line, as on GitHub.
      - name: mask on stderr
        run: |
          echo "::add-mask::stderr-secret-value" >&2
          # stdout and stderr are separate pipes (on GitHub too): give the
          # mask a moment to arrive before the value does.
          sleep 0.3
          echo "leaking stderr-secret-value"
          echo "VERSION=1.2" >> "$GITHUB_ENV"
      - run: echo "version $VERSION ${{ env.VERSION }}"
      - env:
          VERSION: step
        run: echo "step wins $VERSION"
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    assert!(
        !out.stdout.contains("stderr-secret-value"),
        "{}",
        out.stdout
    );
    let lines = job_lines(&events, "a");
    assert!(lines.contains(&"leaking ***".to_string()), "{lines:?}");
    assert!(lines.contains(&"version 1.2 1.2".to_string()), "{lines:?}");
    assert!(lines.contains(&"step wins step".to_string()), "{lines:?}");
}

#[test]
fn matrix_instances_for_other_systems_are_skipped_one_by_one() {
    let repo = repo_with(
        "on: push\njobs:\n  t:\n    runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, windows-latest, macos-14]\n    steps: [{run: echo on-linux}]\n",
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    assert_eq!(job_lines(&events, "t[0]"), ["on-linux"]);
    for skipped in ["t[1]", "t[2]"] {
        let reason = job_event(&events, "job_skipped", skipped)["reason"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(reason.contains("another operating system"), "{reason}");
    }
}

#[test]
fn outputs_carrying_secrets_are_not_passed_on_and_skipped_setup_skips_its_matrix() {
    let repo = repo_with(
        r#"on: push
jobs:
  setup:
    if: false
    runs-on: x
    outputs:
      m: ${{ steps.m.outputs.m }}
    steps:
      - id: m
        run: echo 'm=[1]' >> "$GITHUB_OUTPUT"
  build:
    needs: setup
    runs-on: x
    strategy:
      matrix:
        n: ${{ fromJSON(needs.setup.outputs.m) }}
    steps: [{run: echo never}]
  leaky:
    runs-on: x
    outputs:
      token: ${{ steps.t.outputs.token }}
      plain: ${{ steps.t.outputs.plain }}
    steps:
      - id: t
        run: |
          echo "token=${{ secrets.TOKEN }}" >> "$GITHUB_OUTPUT"
          echo "plain=fine" >> "$GITHUB_OUTPUT"
"#,
    );
    let (out, events) = repo.run_json("ci", &["--secret", "TOKEN=hush-hush-value"]);
    out.assert_code(0);
    let skipped = job_event(&events, "job_skipped", "build");
    assert!(
        skipped["reason"].as_str().unwrap().contains("setup"),
        "{skipped}"
    );
    let outputs = &job_event(&events, "job_finished", "leaky")["outputs"];
    assert_eq!(outputs["plain"], "fine");
    assert!(outputs.get("token").is_none(), "{outputs}");
    assert!(!out.stdout.contains("hush-hush-value"));
}

#[test]
fn the_github_context_describes_the_repository_and_head_commit() {
    let repo = repo_with(
        "on: push\njobs:\n  show:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          echo \"repo=${{ github.repository }} actor=${{ github.actor }} ref=${{ github.ref }}\"\n          echo \"sha=${{ github.sha }} message=${{ github.event.head_commit.message }}\"\n          echo \"default=${{ github.event.repository.default_branch }}\"\n",
    );
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/octo/widgets.git",
    ]);
    repo.git(&["checkout", "-q", "-b", "feature/x"]);
    repo.file("src/a.txt", "a\n").commit("Add a");
    let sha = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    // Twice: the second run reads the head commit from what the first remembered.
    for _ in 0..2 {
        let (out, events) = repo.run_json("ci", &[]);
        out.assert_code(0);
        let lines = job_lines(&events, "show");
        assert!(
            lines.contains(
                &"repo=octo/widgets actor=Test User ref=refs/heads/feature/x".to_string()
            ),
            "{lines:?}"
        );
        assert!(
            lines.contains(&format!("sha={sha} message=Add a")),
            "{lines:?}"
        );
    }
    // A new commit is seen as such, not taken from the memo.
    repo.file("src/b.txt", "b\n").commit("Add b");
    let sha = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "show");
    assert!(
        lines.contains(&format!("sha={sha} message=Add b")),
        "{lines:?}"
    );
}

#[test]
fn path_filters_see_committed_and_uncommitted_changes_but_not_sluices_state() {
    let repo = repo_with(
        "on:\n  push:\n    paths: ['src/**']\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps: [{run: echo built}]\n",
    );
    repo.file("docs/guide.md", "words\n").commit("docs only");
    for _ in 0..2 {
        let out = repo.sluice(&["run"]);
        out.assert_code(0);
        assert!(out.stderr.contains("nothing to run"), "{}", out.stderr);
    }
    // An uncommitted change under src/ is part of what a push would carry.
    repo.file("src/main.txt", "work in progress\n");
    let out = repo.sluice(&["run"]);
    out.assert_code(0);
    assert!(out.stdout.contains("built"), "{}", out.stdout);
    assert!(!out.stderr.contains("nothing to run"), "{}", out.stderr);
}
