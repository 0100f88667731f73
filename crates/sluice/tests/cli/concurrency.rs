//! Concurrency groups and cancellation across `sluice run` processes
//! sharing a repository's history, as GitHub behaves within a repository.

use std::path::Path;
use std::process::Child;

use crate::support::{Outcome, TestRepo, eventually};

/// A workflow whose one job notes its start in `log`, waits for `gate`
/// to exist, and notes its end.
fn gated_workflow(group: &str, extra: &str, log: &Path, gate: &Path) -> String {
    format!(
        "on: push
concurrency:
  group: {group}
{extra}
jobs:
  work:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo \"start $GITHUB_RUN_NUMBER\" >> {log}
          for i in $(seq 600); do [ -f {gate} ] && break; sleep 0.05; done
          echo \"end $GITHUB_RUN_NUMBER\" >> {log}
",
        log = log.display(),
        gate = gate.display()
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn finish(child: Child) -> Outcome {
    let out = child.wait_with_output().expect("sluice ends");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The run's status, empty while it does not exist yet.
fn status_of(repo: &TestRepo, run: &str) -> String {
    let shown = repo.sluice(&["show", run, "--json"]);
    if shown.code != 0 {
        return String::new();
    }
    shown.json()["status"].as_str().unwrap_or("").to_string()
}

#[test]
fn a_second_run_of_a_group_waits_for_the_first_to_finish() {
    let repo = TestRepo::new();
    let log = repo.scratch().join("log");
    let gate = repo.scratch().join("gate");
    repo.workflow("deploy.yml", &gated_workflow("deploy", "", &log, &gate));
    repo.commit("deploy");

    let first = repo.spawn(&["run", "deploy"]);
    assert!(eventually(30, || read(&log).contains("start 1")));
    let second = repo.spawn(&["run", "deploy"]);
    assert!(
        eventually(30, || repo
            .sluice(&["runs", "--status", "queued", "--json"])
            .stdout
            .contains("\"number\": 2")),
        "run #2 is listed as queued while it waits"
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!read(&log).contains("start 2"), "{}", read(&log));

    std::fs::write(&gate, "").unwrap();
    finish(first).assert_code(0);
    let second = finish(second);
    second.assert_code(0);
    assert!(
        second
            .stderr
            .contains("waits for run #1 of concurrency group `deploy`"),
        "{}",
        second.stderr
    );
    assert_eq!(read(&log), "start 1\nend 1\nstart 2\nend 2\n");
}

#[test]
fn cancel_in_progress_stops_the_running_run_of_the_group() {
    let repo = TestRepo::new();
    let log = repo.scratch().join("log");
    let gate = repo.scratch().join("gate");
    repo.workflow(
        "ci.yml",
        &gated_workflow(
            "ci-${{ github.ref }}",
            "  cancel-in-progress: true",
            &log,
            &gate,
        ),
    );
    repo.commit("ci");

    let first = repo.spawn(&["run", "ci"]);
    assert!(eventually(30, || read(&log).contains("start 1")));
    let second = repo.spawn(&["run", "ci"]);
    let first = finish(first);
    first.assert_code(1);
    assert!(
        first.stderr.contains("cancelled from outside"),
        "{}",
        first.stderr
    );
    std::fs::write(&gate, "").unwrap();
    finish(second).assert_code(0);
    assert_eq!(status_of(&repo, "1"), "cancelled");
    assert_eq!(status_of(&repo, "2"), "success");
    assert!(!read(&log).contains("end 1"), "{}", read(&log));
}

#[test]
fn a_newer_waiting_run_replaces_the_older_one() {
    let repo = TestRepo::new();
    let log = repo.scratch().join("log");
    let gate = repo.scratch().join("gate");
    repo.workflow("release.yml", &gated_workflow("release", "", &log, &gate));
    repo.commit("release");

    let first = repo.spawn(&["run", "release"]);
    assert!(eventually(30, || read(&log).contains("start 1")));
    let second = repo.spawn(&["run", "release"]);
    assert!(eventually(30, || status_of(&repo, "2") == "queued"));
    let third = repo.spawn(&["run", "release"]);
    let second = finish(second);
    second.assert_code(1);
    assert!(
        second
            .stderr
            .contains("run #2 was cancelled before it started"),
        "{}",
        second.stderr
    );
    std::fs::write(&gate, "").unwrap();
    finish(first).assert_code(0);
    let third = finish(third);
    third.assert_code(0);
    assert!(
        third
            .stderr
            .contains("run #2 was waiting in concurrency group `release`; run #3 replaces it"),
        "{}",
        third.stderr
    );
    assert_eq!(status_of(&repo, "2"), "cancelled");
    assert_eq!(read(&log), "start 1\nend 1\nstart 3\nend 3\n");
}

#[test]
fn sluice_cancel_stops_a_run_another_terminal_is_following() {
    let repo = TestRepo::new();
    let gate = repo.scratch().join("never");
    repo.workflow(
        "long.yml",
        &format!(
            "on: push
jobs:
  long:
    runs-on: ubuntu-latest
    steps:
      - run: echo prepared
      - name: Wait
        run: |
          for i in $(seq 1 2000); do echo tick $i; [ -f {gate} ] && break; sleep 0.05; done
      - if: always()
        run: echo cleaned up
",
            gate = gate.display()
        ),
    );
    repo.commit("long");
    let run = repo.spawn(&["run", "long"]);
    assert!(eventually(30, || status_of(&repo, "1") == "running"));
    let follow = repo.spawn(&["logs", "--follow", "1"]);
    // Let it tick a little, then stop it from here.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let cancelled = repo.sluice(&["cancel", "1"]);
    cancelled.assert_code(0);
    assert!(
        cancelled.stderr.contains("asked to stop"),
        "{}",
        cancelled.stderr
    );
    let run = finish(run);
    run.assert_code(1);
    let follow = finish(follow);
    follow.assert_code(1);
    assert!(follow.stdout.contains("prepared"), "{}", follow.stdout);
    assert!(follow.stdout.contains("tick 1\n"), "{}", follow.stdout);
    assert!(follow.stdout.contains("cleaned up"), "{}", follow.stdout);
    assert!(
        follow.stderr.contains("run #1 cancelled"),
        "{}",
        follow.stderr
    );
    // Each line once.
    assert_eq!(
        follow.stdout.matches("tick 2\n").count(),
        1,
        "{}",
        follow.stdout
    );
    assert_eq!(status_of(&repo, "1"), "cancelled");
    let again = repo.sluice(&["cancel", "1"]);
    assert!(
        again.stderr.contains("already ended (cancelled)"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_job_of_a_group_waits_for_the_same_job_of_another_run() {
    let repo = TestRepo::new();
    let log = repo.scratch().join("log");
    let gate = repo.scratch().join("gate");
    repo.workflow(
        "migrate.yml",
        &format!(
            "on: push
jobs:
  migrate:
    runs-on: ubuntu-latest
    concurrency: database-${{{{ github.ref_name }}}}
    steps:
      - run: |
          echo \"start $GITHUB_RUN_NUMBER\" >> {log}
          for i in $(seq 600); do [ -f {gate} ] && break; sleep 0.05; done
          echo \"end $GITHUB_RUN_NUMBER\" >> {log}
",
            log = log.display(),
            gate = gate.display()
        ),
    );
    repo.commit("migrate");
    let first = repo.spawn(&["run", "migrate", "--json"]);
    assert!(eventually(30, || read(&log).contains("start 1")));
    let second = repo.spawn(&["run", "migrate", "--json"]);
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(!read(&log).contains("start 2"), "{}", read(&log));
    std::fs::write(&gate, "").unwrap();
    finish(first).assert_code(0);
    let second = finish(second);
    second.assert_code(0);
    assert!(
        second
            .stdout
            .contains("waiting for concurrency group `database-main`"),
        "{}",
        second.stdout
    );
    assert_eq!(read(&log), "start 1\nend 1\nstart 2\nend 2\n");
}
