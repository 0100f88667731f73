//! Remote actions (`uses: owner/repo@ref`), fetched from a git server on
//! loopback — never the internet — pinned, cached and run.

use crate::git_server::GitServer;
use crate::support::{Outcome, TestRepo, job_lines};

const JS_ACTION: &str = r#"name: greet
inputs:
  who: {default: world}
outputs:
  greeting: {description: what was said}
runs:
  using: node20
  main: index.js
"#;

const JS_MAIN: &str = r#"const fs = require('fs');
const who = process.env.INPUT_WHO;
console.log(`hello ${who} from a fetched action`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `greeting=hi ${who}\n`);
"#;

fn node_present() -> bool {
    let present = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("node is required under CI");
        }
        eprintln!("\n*** SKIPPED: node is not installed on this machine ***\n");
    }
    present
}

/// `sluice run ci --json` against `server`, with extra environment.
fn run_against(
    repo: &TestRepo,
    server: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Outcome, Vec<serde_json::Value>) {
    let mut args = vec!["run", "ci", "--json"];
    args.extend_from_slice(extra);
    let mut all_env = vec![("SLUICE_ACTIONS_SERVER", server)];
    all_env.extend_from_slice(env);
    let out = repo.sluice_env(&args, &all_env);
    let events = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (out, events)
}

fn system_lines(events: &[serde_json::Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "log")
        .map(|e| e["line"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn resolved(events: &[serde_json::Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "action_resolved")
        .map(|e| {
            (
                e["uses"].as_str().unwrap_or_default().to_string(),
                e["commit"].as_str().unwrap_or_default().to_string(),
                e["origin"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn javascript_actions_by_tag_and_by_sha_are_fetched_pinned_and_then_run_from_the_cache() {
    if !node_present() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(&scratch.path().join("srv"), &[], None);
    let sha = server.repository(
        "acme/greet",
        &[("action.yml", JS_ACTION), ("index.js", JS_MAIN)],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - id: tag
        uses: acme/greet@v1
        with: {{who: tag}}
      - id: sha
        uses: acme/greet@{sha}
        with: {{who: sha}}
      - run: echo "outputs ${{{{ steps.tag.outputs.greeting }}}} / ${{{{ steps.sha.outputs.greeting }}}}"
"#
        ),
    )
    .commit("first");
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "a").join("\n");
    assert!(lines.contains("hello tag from a fetched action"), "{lines}");
    assert!(lines.contains("hello sha from a fetched action"), "{lines}");
    assert!(lines.contains("outputs hi tag / hi sha"), "{lines}");
    let first = resolved(&events);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(
        first.iter().all(|(_, commit, _)| *commit == sha),
        "{first:?}"
    );
    assert_eq!(first[0].2, "fetched");
    // The tag draws a warning; the SHA pin does not.
    let system = system_lines(&events);
    assert!(
        system.contains("acme/greet@v1 is pinned to `v1`, which can move"),
        "{system}"
    );
    assert!(
        !system.contains(&format!("acme/greet@{sha} is pinned")),
        "{system}"
    );
    // `sluice show` records the commit each ran at.
    let show = repo.sluice(&["show", "last"]);
    assert!(
        show.stdout.contains(&format!("acme/greet@v1 → {sha}")),
        "{}",
        show.stdout
    );

    // Again with the server gone: everything comes from the cache.
    server.stop();
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(0);
    let again = resolved(&events);
    assert!(
        again
            .iter()
            .any(|(uses, _, origin)| uses == "acme/greet@v1" && origin == "offline"),
        "{again:?}"
    );
    assert!(
        again
            .iter()
            .any(|(uses, _, origin)| uses.ends_with(&sha) && origin == "cached"),
        "{again:?}"
    );
    let lines = job_lines(&events, "a").join("\n");
    assert!(lines.contains("outputs hi tag / hi sha"), "{lines}");
    let list = repo.sluice_env(
        &["actions", "ls"],
        &[("SLUICE_ACTIONS_SERVER", &server.url())],
    );
    list.assert_code(0);
    assert!(
        list.stdout.contains("acme/greet") && list.stdout.contains(&sha[..12]),
        "{}",
        list.stdout
    );
}

#[test]
fn a_composite_action_that_uses_another_remote_action() {
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(&scratch.path().join("srv"), &[], None);
    server.repository(
        "acme/inner",
        &[(
            "action.yml",
            "name: inner\ninputs:\n  text: {required: true}\nruns:\n  using: composite\n  steps:\n    - run: echo \"inner says $TEXT\"\n      shell: bash\n      env: {TEXT: \"${{ inputs.text }}\"}\n",
        )],
        &["v2"],
    );
    server.repository(
        "acme/outer",
        &[(
            "tools/say/action.yml",
            "name: outer\nruns:\n  using: composite\n  steps:\n    - uses: acme/inner@v2\n      with: {text: from outer}\n    - run: echo outer done\n      shell: bash\n",
        )],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/outer/tools/say@v1\n",
    )
    .commit("first");
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "a").join("\n");
    assert!(lines.contains("inner says from outer"), "{lines}");
    assert!(lines.contains("outer done"), "{lines}");
    let uses: Vec<String> = resolved(&events).into_iter().map(|r| r.0).collect();
    assert_eq!(uses, ["acme/outer/tools/say@v1", "acme/inner@v2"]);
}

#[test]
fn a_private_repository_needs_the_token_from_the_secrets() {
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(
        &scratch.path().join("srv"),
        &["secret-org"],
        Some("tok-private-42"),
    );
    server.repository(
        "secret-org/tool",
        &[(
            "action.yml",
            "name: tool\nruns:\n  using: composite\n  steps:\n    - run: echo private tool ran\n      shell: bash\n",
        )],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: secret-org/tool@v1\n",
    )
    .commit("first");
    // Without the token: refused by the server, said clearly.
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(1);
    let system = system_lines(&events);
    assert!(system.contains("secret-org/tool@v1"), "{system}");
    // With it (GITHUB_TOKEN among the secrets), it runs; the token is
    // never shown.
    let (out, events) = run_against(
        &repo,
        &server.url(),
        &["--secret", "GITHUB_TOKEN=tok-private-42"],
        &[],
    );
    out.assert_code(0);
    assert!(
        job_lines(&events, "a")
            .join("\n")
            .contains("private tool ran")
    );
    assert!(!out.stdout.contains("tok-private-42") && !out.stderr.contains("tok-private-42"));
}

#[test]
fn a_wrong_sha_pin_is_refused_and_nothing_runs() {
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(&scratch.path().join("srv"), &[], None);
    server.repository(
        "acme/tool",
        &[(
            "action.yml",
            "name: tool\nruns:\n  using: composite\n  steps:\n    - run: echo must-not-run\n      shell: bash\n",
        )],
        &["v1"],
    );
    let wrong = "0123456789abcdef0123456789abcdef01234567";
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        &format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/tool@{wrong}\n"
        ),
    )
    .commit("first");
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(1);
    assert!(!out.stdout.contains("must-not-run"));
    let system = system_lines(&events);
    assert!(
        system.contains(&format!("does not have commit {wrong}")),
        "{system}"
    );
    // A short SHA is not a pin GitHub accepts either.
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/tool@0123456\n",
    )
    .commit("short");
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(1);
    assert!(system_lines(&events).contains("full 40-character SHA"));
}

#[test]
fn an_action_outside_allowed_actions_is_refused_before_anything_is_fetched() {
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(&scratch.path().join("srv"), &[], None);
    server.repository(
        "stranger/tool",
        &[(
            "action.yml",
            "name: tool\nruns:\n  using: composite\n  steps:\n    - run: echo must-not-run\n      shell: bash\n",
        )],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.file(
        "sluice.toml",
        "allowed-actions = [\"actions/*\", \"acme/*@*\"]\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: stranger/tool@v1\n",
    )
    .commit("first");
    let before = server.requests();
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(1);
    let system = system_lines(&events);
    assert!(
        system.contains("`stranger/tool@v1` is not allowed by `allowed-actions`"),
        "{system}"
    );
    assert_eq!(server.requests(), before, "nothing was fetched");
}

#[test]
fn actions_pull_prefetches_every_action_for_an_offline_run() {
    let scratch = tempfile::tempdir().unwrap();
    let server = GitServer::start(&scratch.path().join("srv"), &[], None);
    server.repository(
        "acme/inner",
        &[(
            "action.yml",
            "name: inner\nruns:\n  using: composite\n  steps:\n    - run: echo inner ran\n      shell: bash\n",
        )],
        &["v1"],
    );
    server.repository(
        "acme/outer",
        &[(
            "action.yml",
            "name: outer\nruns:\n  using: composite\n  steps:\n    - uses: acme/inner@v1\n",
        )],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/outer@v1\n      - uses: actions/checkout@v4\n",
    )
    .commit("first");
    let pull = repo.sluice_env(
        &["actions", "pull"],
        &[("SLUICE_ACTIONS_SERVER", &server.url())],
    );
    pull.assert_code(0);
    assert!(
        pull.stdout.contains("acme/outer@v1") && pull.stdout.contains("acme/inner@v1"),
        "{}",
        pull.stdout
    );
    server.stop();
    let (out, events) = run_against(&repo, &server.url(), &[], &[]);
    out.assert_code(0);
    assert!(job_lines(&events, "a").join("\n").contains("inner ran"));
}
