//! `sluice serve` end to end: a real server on a loopback port, driven
//! only through HTTP and git.

use serde_json::json;

use crate::server_support::{Served, git};
use crate::support::eventually;

const CI: &str = "name: CI
on:
  push:
    branches: [main]
  workflow_dispatch:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"built $GITHUB_REF at $GITHUB_SHA from $(cat version.txt)\"
      - run: test \"$(cat version.txt)\" != broken
";

const RELEASE: &str = "name: Release
on:
  push:
    branches: [release]
jobs:
  ship:
    runs-on: ubuntu-latest
    steps:
      - run: echo shipped
";

fn runs(served: &Served, token: &str) -> Vec<serde_json::Value> {
    let response = served.get("/api/v1/runs?limit=100", Some(token));
    assert_eq!(response.status, 200, "{}", response.body);
    response.json()["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn log_of(served: &Served, number: u64, token: &str) -> String {
    served
        .get(&format!("/api/v1/runs/{number}/logs"), Some(token))
        .body
}

const DOCS: &str = "name: Docs
on:
  push:
    paths: ['docs/**']
jobs:
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: echo docs
";

#[test]
fn a_signed_push_runs_the_selected_workflows_at_the_pushed_commit() {
    let mut served = Served::new(&[
        (".github/workflows/ci.yml", CI),
        (".github/workflows/release.yml", RELEASE),
        (".github/workflows/docs.yml", DOCS),
        ("version.txt", "one"),
    ]);
    served.start(&[]);
    let token = served.token("reader");
    let (before, after) = served.push(&[("version.txt", "two")], "second");
    let accepted = served.push_hook(&before, &after);
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let queued = accepted.json()["runs"].as_array().cloned().unwrap();
    assert_eq!(
        queued.len(),
        1,
        "only CI runs on main, and docs/ did not change: {queued:?}"
    );
    assert_eq!(queued[0]["workflow"], "CI");
    let run = served.wait_for(1, &token, &["success"]);
    assert_eq!(run["sha"], after.as_str());
    assert_eq!(run["event"], "push");
    let log = log_of(&served, 1, &token);
    assert!(
        log.contains(&format!("built refs/heads/main at {after} from two")),
        "{log}"
    );
    // The server's own clone was not touched: the run had its own checkout.
    assert_eq!(
        std::fs::read_to_string(served.server_repo().join("version.txt")).unwrap(),
        "one"
    );
    // A push that changes docs/ runs Docs too (the range before..after).
    let (before, after) = served.push(&[("docs/guide.md", "# Guide")], "docs");
    let both = served.push_hook(&before, &after).json()["runs"].clone();
    let names: Vec<&str> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["workflow"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["CI", "Docs"]);
}

#[test]
fn a_pull_request_runs_at_its_head_with_the_files_it_changes() {
    let checks = "name: Checks
on:
  pull_request:
    paths: ['src/**']
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo \"checking PR ${{ github.event.number }} ${{ github.head_ref }} into ${{ github.base_ref }}: $(cat src/lib.txt)\"
";
    let mut served = Served::new(&[
        (".github/workflows/checks.yml", checks),
        ("src/lib.txt", "v1"),
    ]);
    served.configure("public-reads = true\n");
    served.start(&[]);
    git(&served.work(), &["checkout", "-q", "-b", "feature"]);
    let head = served.commit(&[("src/lib.txt", "v2")], "change src");
    git(&served.work(), &["push", "-q", "origin", "feature"]);
    let payload = |action: &str| {
        json!({
            "action": action, "number": 7,
            "pull_request": {"number": 7, "head": {"sha": head, "ref": "feature"}, "base": {"ref": "main"}},
        })
    };
    let opened = served.webhook("pull_request", &payload("opened"));
    assert_eq!(opened.status, 202, "{}", opened.body);
    // Reads are public here: no token needed.
    let run = served.wait_for_public(1, &["success"]);
    assert_eq!(run["sha"], head.as_str());
    assert_eq!(run["ref"], "refs/pull/7/merge");
    let log = served.get("/api/v1/runs/1/logs", None).body;
    assert!(log.contains("checking PR 7 feature into main: v2"), "{log}");
    let labelled = served.webhook("pull_request", &payload("labeled"));
    assert_eq!(labelled.status, 202);
    assert!(labelled.json()["ignored"].is_string(), "{}", labelled.body);
    assert_eq!(
        served
            .post("/api/v1/dispatch", None, &json!({"workflow": "checks.yml"}))
            .status,
        401,
        "writes still need a token"
    );
}

#[test]
fn a_bad_or_missing_signature_runs_nothing() {
    let mut served = Served::new(&[(".github/workflows/ci.yml", CI), ("version.txt", "one")]);
    served.start(&[]);
    let token = served.token("reader");
    let (before, after) = served.push(&[("version.txt", "two")], "second");
    let body = json!({"ref": "refs/heads/main", "before": before, "after": after}).to_string();
    for signature in [
        None,
        Some("sha256=0000000000000000000000000000000000000000000000000000000000000000".to_string()),
        Some(crate::server_support::sluice_signature(
            "another secret",
            body.as_bytes(),
        )),
    ] {
        let mut headers = vec![("X-GitHub-Event", "push")];
        if let Some(signature) = &signature {
            headers.push(("X-Hub-Signature-256", signature.as_str()));
        }
        let response = served.request("POST", "/hooks/github", &headers, body.as_bytes());
        assert_eq!(response.status, 401, "{signature:?}: {}", response.body);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(runs(&served, &token).is_empty());
}

#[test]
fn a_second_quick_push_in_a_cancel_in_progress_group_cancels_the_first() {
    let workflow = "on: push
concurrency:
  group: ci-${{ github.ref }}
  cancel-in-progress: true
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 600); do [ -f \"$SLUICE_TEST_GATE\" ] && break; sleep 0.05; done; echo done
";
    let mut served = Served::new(&[(".github/workflows/ci.yml", workflow)]);
    let gate_path = served.root().join("gate");
    served.start(&[("SLUICE_TEST_GATE", gate_path.to_str().unwrap())]);
    let token = served.token("reader");
    let (a, b) = served.push(&[("one.txt", "1")], "one");
    assert_eq!(served.push_hook(&a, &b).status, 202);
    served.wait_for(1, &token, &["running"]);
    let (c, d) = served.push(&[("two.txt", "2")], "two");
    let second = served.push_hook(&c, &d);
    assert_eq!(second.status, 202, "{}", second.body);
    assert_eq!(second.json()["runs"][0]["cancelling"], json!([1]));
    served.wait_for(1, &token, &["cancelled"]);
    std::fs::write(&gate_path, "").unwrap();
    let run = served.wait_for(2, &token, &["success"]);
    assert_eq!(run["sha"], d.as_str());
}

#[test]
fn a_scheduled_workflow_fires() {
    let nightly = "on:
  schedule:
    - cron: '* * * * *'
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"scheduled by '${{ github.event.schedule }}'\"
";
    let mut served = Served::new(&[(".github/workflows/nightly.yml", nightly)]);
    served.start(&[]);
    let token = served.token("reader");
    // It fires for the minute the server starts in, once.
    let run = served.wait_for(1, &token, &["success"]);
    assert_eq!(run["event"], "schedule");
    assert!(log_of(&served, 1, &token).contains("scheduled by '* * * * *'"));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let fired_now: Vec<_> = runs(&served, &token);
    assert!(fired_now.len() <= 2, "{fired_now:?}");
}

#[test]
fn dispatch_with_inputs_checks_their_types() {
    let deploy = "name: Deploy
on:
  workflow_dispatch:
    inputs:
      target:
        type: choice
        options: [staging, production]
        required: true
      dry-run:
        type: boolean
        default: true
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"deploying to ${{ inputs.target }} (dry run ${{ inputs.dry-run }})\"
";
    let mut served = Served::new(&[(".github/workflows/deploy.yml", deploy)]);
    served.start(&[]);
    let token = served.token("deployer");
    let url = served.url();
    let out = crate::support::sluice_in(
        &served.work(),
        &[
            "dispatch",
            "deploy.yml",
            "--input",
            "target=staging",
            "--server",
            &url,
            "--token",
            &token,
        ],
    );
    out.assert_code(0);
    assert!(
        out.stdout.contains("queued run #1 of Deploy"),
        "{}",
        out.stdout
    );
    served.wait_for(1, &token, &["success"]);
    assert!(log_of(&served, 1, &token).contains("deploying to staging (dry run true)"));

    let wrong = served.post(
        "/api/v1/dispatch",
        Some(&token),
        &json!({"workflow": "deploy.yml", "inputs": {"target": "moon"}}),
    );
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.json()["error"].as_str().unwrap().contains("target"),
        "{}",
        wrong.body
    );
    let unknown = served.post(
        "/api/v1/dispatch",
        Some(&token),
        &json!({"workflow": "nope.yml"}),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let anonymous = served.post("/api/v1/dispatch", None, &json!({"workflow": "deploy.yml"}));
    assert_eq!(anonymous.status, 401);
    let forged = served.post(
        "/api/v1/dispatch",
        Some("sluice_not-a-token"),
        &json!({"workflow": "deploy.yml"}),
    );
    assert_eq!(forged.status, 401);
}

#[test]
fn a_server_killed_with_runs_queued_runs_them_after_a_restart() {
    let workflow = "on: workflow_dispatch
jobs:
  wait:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 1200); do [ -f \"$SLUICE_TEST_GATE\" ] && break; sleep 0.05; done; echo run $GITHUB_RUN_NUMBER
";
    let mut served = Served::new(&[(".github/workflows/wait.yml", workflow)]);
    served.configure("server-workers = 1\nrequeue-interrupted = true\n");
    let gate = served.root().join("gate");
    let env = [("SLUICE_TEST_GATE", gate.to_str().unwrap().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    served.start(&env);
    let token = served.token("operator");
    for _ in 0..3 {
        let queued = served.post(
            "/api/v1/dispatch",
            Some(&token),
            &json!({"workflow": "wait.yml"}),
        );
        assert_eq!(queued.status, 201, "{}", queued.body);
    }
    served.wait_for(1, &token, &["running"]);
    served.kill_hard();
    // Another command recovers the cut-off run first; it is queued again all the same.
    crate::support::sluice_in(&served.server_repo(), &["runs"]).assert_code(0);
    served.start(&env);
    // The running one was cut off, and is queued again as run #4.
    served.wait_for(1, &token, &["interrupted"]);
    std::fs::write(&gate, "").unwrap();
    for number in [2, 3, 4] {
        served.wait_for(number, &token, &["success"]);
    }
    assert!(
        served
            .server_stderr()
            .contains("run #1 was cut off; it is queued again as run #4"),
        "{}",
        served.server_stderr()
    );
}

#[test]
fn the_badge_and_metrics_reflect_what_ran() {
    let mut served = Served::new(&[(".github/workflows/ci.yml", CI), ("version.txt", "good")]);
    served.start(&[]);
    let token = served.token("reader");
    let unknown = served.get("/badge/ci.svg", None);
    assert_eq!(unknown.status, 200);
    assert!(unknown.body.contains(">unknown<"), "{}", unknown.body);
    assert!(unknown.headers.contains("image/svg+xml"));

    let (a, b) = served.push(&[("version.txt", "fine")], "fine");
    served.push_hook(&a, &b);
    served.wait_for(1, &token, &["success"]);
    assert!(
        served
            .get("/badge/ci.svg?branch=main", None)
            .body
            .contains(">passing<")
    );

    let (c, d) = served.push(&[("version.txt", "broken")], "broken");
    served.push_hook(&c, &d);
    served.wait_for(2, &token, &["failure"]);
    assert!(served.get("/badge/ci.svg", None).body.contains(">failing<"));
    assert!(
        served.get("/badge/CI.svg", None).body.contains(">failing<"),
        "by name too"
    );

    assert_eq!(
        served.get("/metrics", None).status,
        401,
        "metrics need a token"
    );
    let metrics = served.get("/metrics", Some(&token)).body;
    for expected in [
        "sluice_runs_total{workflow=\"CI\",status=\"success\"} 1",
        "sluice_runs_total{workflow=\"CI\",status=\"failure\"} 1",
        "sluice_job_duration_seconds_count 2",
        "sluice_queue_wait_seconds_count 2",
        "sluice_queue_depth 0",
    ] {
        assert!(metrics.contains(expected), "{expected} in\n{metrics}");
    }
}

#[test]
fn a_notification_reaches_its_receiver_and_is_retried_after_a_500() {
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = receiver.local_addr().unwrap().port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = std::sync::Arc::clone(&received);
    std::thread::spawn(move || {
        for (index, stream) in receiver.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let request = read_request(&mut stream);
            log.lock().unwrap().push(request);
            let status = if index == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = std::io::Write::write_all(
                &mut stream,
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    let mut served = Served::new(&[(".github/workflows/ci.yml", CI), ("version.txt", "broken")]);
    served.configure(&format!(
        "[[notify]]\nname = \"team\"\nurl = \"http://127.0.0.1:{port}/hooks/secret-path\"\non = [\"failure\"]\nformat = \"json\"\nbackoff-seconds = 0.2\n"
    ));
    served.start(&[]);
    let token = served.token("reader");
    let (a, b) = served.push(&[("version.txt", "broken")], "still broken");
    served.push_hook(&a, &b);
    served.wait_for(1, &token, &["failure"]);
    assert!(eventually(30, || received.lock().unwrap().len() >= 2));
    let requests = received.lock().unwrap().clone();
    assert!(
        requests[1].starts_with("POST /hooks/secret-path"),
        "{}",
        requests[1]
    );
    assert!(
        requests[1].contains("\"reason\":\"failure\""),
        "{}",
        requests[1]
    );
    assert!(requests[1].contains("\"run\":1"), "{}", requests[1]);
    let mut recorded = serde_json::Value::Null;
    assert!(eventually(30, || {
        recorded = served.get("/api/v1/runs/1", Some(&token)).json()["notifications"].clone();
        recorded.as_array().is_some_and(|n| !n.is_empty())
    }));
    assert_eq!(recorded[0]["attempts"], 2, "{recorded}");
    assert_eq!(recorded[0]["delivered"], true);
    assert_eq!(recorded[0]["http_status"], 200);
    let target = recorded[0]["target"].as_str().unwrap();
    assert!(
        !target.contains("secret-path"),
        "the URL's path is never recorded: {target}"
    );
}

fn read_request(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok();
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buffer[..n]),
        }
        let text = String::from_utf8_lossy(&data);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

#[test]
fn hostile_requests_get_a_clear_4xx_and_nothing_else() {
    let slow = "on: push
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 20
";
    let mut served = Served::new(&[(".github/workflows/slow.yml", slow)]);
    served.configure("max-body-size = \"4KiB\"\nqueue-limit = 1\nserver-workers = 1\n");
    served.start(&[]);
    let token = served.token("tester");
    // Too large.
    let huge = json!({"ref": "refs/heads/main", "padding": "x".repeat(10_000)});
    assert_eq!(served.webhook("push", &huge).status, 413);
    // Signed, but not JSON / not an event we handle / a hostile ref.
    let not_json = served.request(
        "POST",
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push"),
            (
                "X-Hub-Signature-256",
                &crate::server_support::sluice_signature(crate::server_support::SECRET, b"{oops"),
            ),
        ],
        b"{oops",
    );
    assert_eq!(not_json.status, 400, "{}", not_json.body);
    assert!(
        not_json.json()["error"]
            .as_str()
            .unwrap()
            .contains("not JSON")
    );
    assert_eq!(served.webhook("issues", &json!({})).status, 400);
    let traversal = served.webhook(
        "push",
        &json!({"ref": "refs/heads/../../etc", "before": "a".repeat(40), "after": "b".repeat(40)}),
    );
    assert_eq!(traversal.status, 400, "{}", traversal.body);
    // Paths.
    assert_eq!(
        served
            .get("/api/v1/runs/1/artifacts/..", Some(&token))
            .status,
        400
    );
    assert_eq!(
        served
            .get("/api/v1/runs/1/artifacts/%2e%2e", Some(&token))
            .status,
        400
    );
    assert_eq!(served.get("/api/v1/runs/abc", Some(&token)).status, 400);
    assert_eq!(served.get("/api/v1/runs/99", Some(&token)).status, 404);
    assert_eq!(served.get("/api/v1/nothing", Some(&token)).status, 404);
    let bad_body = served.request(
        "POST",
        "/api/v1/dispatch",
        &[("Authorization", &format!("Bearer {token}"))],
        b"[1,2",
    );
    assert_eq!(bad_body.status, 400);
    // A flood: past the queue's limit, 429.
    let (a, b) = served.push(&[("a.txt", "a")], "a");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(served.push_hook(&a, &b).status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.contains(&202), "{statuses:?}");
}

#[test]
fn a_git_hook_in_the_bare_repository_starts_runs() {
    let mut served = Served::new(&[(".github/workflows/ci.yml", CI), ("version.txt", "one")]);
    served.start(&[]);
    let token = served.token("reader");
    let url = served.url();
    let origin = served.origin();
    let installed = crate::support::sluice_in(
        &served.server_repo(),
        &[
            "hook",
            "install",
            "--repo",
            origin.to_str().unwrap(),
            "--server",
            &url,
        ],
    );
    installed.assert_code(0);
    let mode = std::fs::metadata(origin.join("hooks/sluice-token")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    let (_, after) = served.push(&[("version.txt", "hooked")], "through the hook");
    let run = served.wait_for(1, &token, &["success"]);
    assert_eq!(run["sha"], after.as_str());
    assert!(log_of(&served, 1, &token).contains("from hooked"));
}

#[test]
fn logs_stream_live_and_runs_can_be_cancelled_and_rerun() {
    let workflow = "name: Flaky
on:
  workflow_dispatch:
    inputs:
      hold:
        type: boolean
        default: false
jobs:
  first:
    runs-on: ubuntu-latest
    outputs:
      value: ${{ steps.make.outputs.value }}
    steps:
      - id: make
        run: echo value=42 >> $GITHUB_OUTPUT
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo \"got ${{ needs.first.outputs.value }}\"
          for i in $(seq 5); do echo tick $i; sleep 0.1; done
          if [ \"${{ inputs.hold }}\" = true ]; then sleep 30; fi
          test -f \"$SLUICE_TEST_GATE\"
";
    let mut served = Served::new(&[(".github/workflows/flaky.yml", workflow)]);
    let gate = served.root().join("gate");
    let gate_text = gate.to_str().unwrap().to_string();
    served.start(&[("SLUICE_TEST_GATE", gate_text.as_str())]);
    let token = served.token("operator");
    let dispatched = served.post(
        "/api/v1/dispatch",
        Some(&token),
        &json!({"workflow": "Flaky"}),
    );
    assert_eq!(dispatched.status, 201, "{}", dispatched.body);
    let stream = served.get("/api/v1/runs/1/logs/stream", Some(&token));
    assert_eq!(stream.status, 200);
    assert!(
        stream.headers.contains("text/event-stream"),
        "{}",
        stream.headers
    );
    assert!(stream.body.contains("event: line"), "{}", stream.body);
    assert!(stream.body.contains("tick 5"), "{}", stream.body);
    assert!(stream.body.contains("event: end"), "{}", stream.body);
    assert!(
        stream.body.contains("\"status\":\"failure\""),
        "{}",
        stream.body
    );

    std::fs::write(&gate, "").unwrap();
    let rerun = served.post(
        "/api/v1/runs/1/rerun",
        Some(&token),
        &json!({"failed_only": true}),
    );
    assert_eq!(rerun.status, 201, "{}", rerun.body);
    assert_eq!(rerun.json()["run"], 2);
    served.wait_for(2, &token, &["success"]);
    let log = log_of(&served, 2, &token);
    assert!(
        log.contains("not run again: it succeeded in run #1"),
        "{log}"
    );
    assert!(log.contains("got 42"), "the reused job's outputs: {log}");

    std::fs::remove_file(&gate).unwrap();
    served.post(
        "/api/v1/dispatch",
        Some(&token),
        &json!({"workflow": "flaky.yml", "inputs": {"hold": true}}),
    );
    served.wait_for(3, &token, &["running"]);
    let cancelled = served.post("/api/v1/runs/3/cancel", Some(&token), &json!({}));
    assert_eq!(cancelled.status, 202, "{}", cancelled.body);
    served.wait_for(3, &token, &["cancelled"]);
    let again = served.post("/api/v1/runs/3/cancel", Some(&token), &json!({}));
    assert_eq!(again.status, 409);
    let _ = git(&served.work(), &["status"]);
}

#[test]
fn artifacts_are_listed_and_downloaded_as_a_tar_archive() {
    let workflow = "name: Build
on: workflow_dispatch
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: mkdir -p out/sub && echo binary > out/app && echo notes > out/sub/notes.txt
      - uses: actions/upload-artifact@v4
        with:
          name: app
          path: out
";
    let mut served = Served::new(&[(".github/workflows/build.yml", workflow)]);
    served.start(&[]);
    let token = served.token("reader");
    served.post(
        "/api/v1/dispatch",
        Some(&token),
        &json!({"workflow": "build.yml"}),
    );
    served.wait_for(1, &token, &["success"]);
    let listed = served.get("/api/v1/runs/1/artifacts", Some(&token)).json();
    assert_eq!(listed["artifacts"][0]["name"], "app", "{listed}");
    assert_eq!(listed["artifacts"][0]["files"], 2);
    let tar = served.get("/api/v1/runs/1/artifacts/app", Some(&token));
    assert_eq!(tar.status, 200);
    assert!(tar.headers.contains("application/x-tar"), "{}", tar.headers);
    let archive = served.root().join("app.tar");
    // The body is binary; the test client keeps it as text, which a tar of
    // ASCII files survives.
    std::fs::write(&archive, tar.body.as_bytes()).unwrap();
    let listing = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&archive)
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&listing.stdout);
    assert!(
        names.contains("./app") && names.contains("./sub/notes.txt"),
        "{names}"
    );
    let missing = served.get("/api/v1/runs/1/artifacts/nope", Some(&token));
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[test]
fn a_post_commit_hook_in_a_served_clone_runs_each_commit() {
    let mut served = Served::new(&[(".github/workflows/ci.yml", CI), ("version.txt", "one")]);
    served.start(&[]);
    let token = served.token("reader");
    let url = served.url();
    // The server's own clone is where this team commits.
    let clone = served.server_repo();
    for (key, value) in [("user.name", "Dev"), ("user.email", "dev@example.invalid")] {
        git(&clone, &["config", key, value]);
    }
    let installed =
        crate::support::sluice_in(&clone, &["hook", "install", "--local", "--server", &url]);
    installed.assert_code(0);
    std::fs::write(clone.join("version.txt"), "committed").unwrap();
    git(&clone, &["commit", "-q", "-am", "local work"]);
    let head = git(&clone, &["rev-parse", "HEAD"]);
    let run = served.wait_for(1, &token, &["success"]);
    assert_eq!(run["sha"], head.as_str());
    assert!(log_of(&served, 1, &token).contains("from committed"));
}

#[test]
fn forks_do_not_run_by_default_and_run_without_secrets_when_allowed() {
    let checks = "on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo \"deploy key: [${{ secrets.DEPLOY_KEY }}] [$SLUICE_SECRET_DEPLOY_KEY]\"
          echo \"webhook secret in env: [$SLUICE_WEBHOOK_SECRET]\"
";
    let mut served = Served::new(&[(".github/workflows/checks.yml", checks)]);
    git(&served.work(), &["checkout", "-q", "-b", "feature"]);
    let head = served.commit(&[("x.txt", "x")], "fork change");
    git(&served.work(), &["push", "-q", "origin", "feature"]);
    let payload = json!({
        "action": "opened", "number": 3,
        "pull_request": {
            "number": 3,
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": "mallory/app"}},
            "base": {"ref": "main", "repo": {"full_name": "acme/app"}},
        },
    });
    served.start(&[("SLUICE_SECRET_DEPLOY_KEY", "hunter2-deploy")]);
    let token = served.token("reader");
    let refused = served.webhook("pull_request", &payload);
    assert_eq!(refused.status, 202);
    assert!(
        refused.json()["ignored"].as_str().unwrap().contains("fork"),
        "{}",
        refused.body
    );
    assert!(runs(&served, &token).is_empty());
    drop(served);

    let mut served = Served::new(&[(".github/workflows/checks.yml", checks)]);
    git(&served.work(), &["checkout", "-q", "-b", "feature"]);
    let head = served.commit(&[("x.txt", "x")], "fork change");
    git(&served.work(), &["push", "-q", "origin", "feature"]);
    let mut payload = payload;
    payload["pull_request"]["head"]["sha"] = json!(head);
    served.configure("fork-pull-requests = \"without-secrets\"\n");
    served.start(&[("SLUICE_SECRET_DEPLOY_KEY", "hunter2-deploy")]);
    let token = served.token("reader");
    assert_eq!(served.webhook("pull_request", &payload).status, 202);
    served.wait_for(1, &token, &["success"]);
    let log = log_of(&served, 1, &token);
    assert!(
        log.contains("deploy key: [] []"),
        "no secret for a fork: {log}"
    );
    assert!(log.contains("webhook secret in env: []"), "{log}");
}

#[test]
fn steps_never_see_the_webhook_secret_and_a_delivery_runs_once() {
    let ci = "on: push
jobs:
  env:
    runs-on: ubuntu-latest
    steps:
      - run: echo \"[$SLUICE_WEBHOOK_SECRET] [$SLUICE_TOKEN]\"
";
    let mut served = Served::new(&[(".github/workflows/ci.yml", ci)]);
    served.start(&[("SLUICE_TOKEN", "sluice_client_token")]);
    let token = served.token("reader");
    let (before, after) = served.push(&[("a.txt", "a")], "a");
    let body = json!({"ref": "refs/heads/main", "before": before, "after": after}).to_string();
    let signature =
        crate::server_support::sluice_signature(crate::server_support::SECRET, body.as_bytes());
    let deliver = || {
        served.request(
            "POST",
            "/hooks/github",
            &[
                ("X-GitHub-Event", "push"),
                ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
                ("X-Hub-Signature-256", signature.as_str()),
            ],
            body.as_bytes(),
        )
    };
    assert_eq!(deliver().json()["runs"].as_array().unwrap().len(), 1);
    let again = deliver();
    assert_eq!(again.status, 202);
    assert_eq!(again.json()["runs"], json!([]), "{}", again.body);
    assert!(
        again.json()["ignored"]
            .as_str()
            .unwrap()
            .contains("taken before")
    );
    served.wait_for(1, &token, &["success"]);
    assert!(log_of(&served, 1, &token).contains("[] []"));
    assert_eq!(runs(&served, &token).len(), 1);
}

#[test]
fn an_empty_webhook_secret_turns_webhooks_off() {
    let mut served = Served::new(&[(".github/workflows/ci.yml", CI), ("version.txt", "one")]);
    served.configure("webhook-secret = \"\"\n");
    served.start(&[("SLUICE_WEBHOOK_SECRET", "")]);
    let body = b"{}";
    let signature = crate::server_support::sluice_signature("", body);
    let response = served.request(
        "POST",
        "/hooks/github",
        &[
            ("X-GitHub-Event", "ping"),
            ("X-Hub-Signature-256", signature.as_str()),
        ],
        body,
    );
    assert_eq!(response.status, 401, "{}", response.body);
    assert!(
        response.body.contains("webhooks are off"),
        "{}",
        response.body
    );
}
