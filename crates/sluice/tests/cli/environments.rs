//! Deployment environments with protection rules (`[environments.*]` in
//! sluice.toml): a job waits for approval without holding a job slot,
//! `sluice approve` / `sluice reject` decide from another process, a
//! branch not allowed fails the job, and `sluice environments` lists what
//! was deployed where.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use serde_json::json;

use crate::server_support::Served;
use crate::support::{Outcome, TestRepo, eventually};

/// A workflow whose `deploy` job deploys to `production`: it touches
/// `marker` and sets the environment's url from a step output.
fn deploy_workflow(marker: &Path) -> String {
    format!(
        r#"on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo built
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: production
      url: ${{{{ steps.ship.outputs.url }}}}
    steps:
      - id: ship
        run: |
          touch {marker}
          echo "url=https://prod.example.invalid/app" >> "$GITHUB_OUTPUT"
"#,
        marker = marker.display()
    )
}

/// A repository with `sluice.toml` and the workflow `workflow` writes
/// for the scratch directory outside it.
fn repo_with(toml: &str, workflow: impl FnOnce(&Path) -> String) -> TestRepo {
    let repo = TestRepo::new();
    repo.file("sluice.toml", toml);
    repo.workflow("deploy.yml", &workflow(&repo.scratch()));
    repo.commit("deploy");
    repo
}

/// Where the deploy job of [`deploy_workflow`] leaves its mark.
fn deployed(repo: &TestRepo) -> std::path::PathBuf {
    repo.scratch().join("deployed")
}

fn finish(child: Child) -> Outcome {
    let out = child.wait_with_output().expect("sluice ends");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The status of `job` in run `run`, empty while there is none.
fn job_status(repo: &TestRepo, run: &str, job: &str) -> String {
    let shown = repo.sluice(&["show", run, "--json"]);
    if shown.code != 0 {
        return String::new();
    }
    let detail = shown.json();
    detail["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| j["key"] == job)
        .and_then(|j| j["status"].as_str())
        .unwrap_or("")
        .to_string()
}

#[track_caller]
fn wait_until_waiting(repo: &TestRepo, job: &str) {
    assert!(
        eventually(90, || job_status(repo, "1", job) == "waiting"),
        "job {job} never waited: {}",
        repo.sluice(&["show", "1"]).stdout
    );
}

#[test]
fn a_job_waits_for_approval_and_runs_once_approved() {
    let repo = repo_with(
        "[environments.production]\nrequired-approvals = 1\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let marker = deployed(&repo);
    let run = repo.spawn(&["run", "deploy"]);
    wait_until_waiting(&repo, "deploy");
    std::thread::sleep(Duration::from_millis(600));
    assert!(!marker.exists(), "the step ran before it was approved");
    let shown = repo.sluice(&["show", "1"]);
    shown.assert_code(0);
    insta::assert_snapshot!("show_while_waiting", redact(&repo, &shown.stdout));

    let approved = repo.sluice(&["approve", "1", "--as", "ada", "--comment", "ship it"]);
    approved.assert_code(0);
    insta::assert_snapshot!("approve", transcript(&repo, &approved));

    let out = finish(run);
    out.assert_code(0);
    assert!(marker.exists(), "the approved step ran");
    assert!(
        out.stdout
            .contains("approved to deploy to production by ada (\"ship it\")"),
        "{}",
        out.stdout
    );

    let again = repo.sluice(&["approve", "1"]);
    again.assert_code(2);
    insta::assert_snapshot!("approve_with_nothing_waiting", transcript(&repo, &again));

    let shown = repo.sluice(&["show", "1"]);
    insta::assert_snapshot!("show_after_approval", redact(&repo, &shown.stdout));
    let environments = repo.sluice(&["environments"]);
    environments.assert_code(0);
    insta::assert_snapshot!("environments", redact(&repo, &environments.stdout));
    let listed = repo
        .sluice(&["environments", "production", "--json"])
        .json();
    assert_eq!(listed[0]["url"], "https://prod.example.invalid/app");
    assert_eq!(listed[0]["status"], "success");
    assert_eq!(listed[0]["previous_sha"], serde_json::Value::Null);
}

#[test]
fn a_rejected_job_fails_without_running_its_steps() {
    let repo = repo_with(
        "[environments.production]\nrequired-approvals = 1\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let marker = deployed(&repo);
    let run = repo.spawn(&["run", "deploy"]);
    wait_until_waiting(&repo, "deploy");
    let rejected = repo.sluice(&[
        "reject",
        "1",
        "--env",
        "production",
        "--as",
        "bob",
        "--comment",
        "not on a Friday",
    ]);
    rejected.assert_code(0);
    insta::assert_snapshot!("reject", transcript(&repo, &rejected));

    let out = finish(run);
    out.assert_code(1);
    assert!(!marker.exists(), "a rejected job's step ran");
    assert!(
        out.stdout.contains(
            "error: the deployment to production was rejected by bob (\"not on a Friday\")"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(job_status(&repo, "1", "deploy"), "failure");
    let nothing = repo.sluice(&["environments"]);
    assert_eq!(
        nothing.stdout.trim(),
        "nothing was deployed yet: a job deploys with `environment: NAME`"
    );
}

#[test]
fn a_branch_the_rules_do_not_allow_fails_the_job() {
    let repo = repo_with(
        "[environments.production]\nbranches = [\"release/*\"]\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let marker = deployed(&repo);
    let out = repo.sluice(&["run", "deploy"]);
    out.assert_code(1);
    assert!(!marker.exists());
    assert!(
        out.stdout.contains(
            "Branch \"main\" is not allowed to deploy to production due to environment protection rules."
        ),
        "{}",
        out.stdout
    );

    repo.git(&["checkout", "-q", "-b", "release/1.0"]);
    repo.sluice(&["run", "deploy"]).assert_code(0);
    assert!(marker.exists(), "a release branch may deploy");
}

#[test]
fn waiting_jobs_hold_no_slot_and_a_decision_names_its_environment() {
    let repo = repo_with(
        "[environments.staging]\nrequired-approvals = 1\n\n[environments.production]\nrequired-approvals = 1\n",
        |dir| {
            format!(
                r#"on: push
jobs:
  staging:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - run: touch {staging}
  production:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: touch {production}
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: touch {lint}
"#,
                staging = dir.join("staging").display(),
                production = dir.join("production").display(),
                lint = dir.join("lint").display()
            )
        },
    );
    let (staging, production, lint) = (
        repo.scratch().join("staging"),
        repo.scratch().join("production"),
        repo.scratch().join("lint"),
    );
    let run = repo.spawn(&["run", "deploy", "--jobs", "1"]);
    wait_until_waiting(&repo, "staging");
    wait_until_waiting(&repo, "production");
    assert!(
        eventually(60, || lint.exists()),
        "with one slot, lint ran while both deployments waited"
    );

    let unnamed = repo.sluice(&["approve", "1", "--as", "ada"]);
    unnamed.assert_code(2);
    insta::assert_snapshot!("approve_without_env", transcript(&repo, &unnamed));
    let elsewhere = repo.sluice(&["approve", "1", "--env", "qa", "--as", "ada"]);
    elsewhere.assert_code(2);
    assert!(
        elsewhere
            .stderr
            .contains("has no job waiting to deploy to qa; it waits for: staging, production"),
        "{}",
        elsewhere.stderr
    );

    repo.sluice(&["approve", "1", "--env", "Staging", "--as", "ada"])
        .assert_code(0);
    repo.sluice(&["reject", "1", "--env", "production", "--as", "ada"])
        .assert_code(0);
    finish(run).assert_code(1);
    assert!(staging.exists());
    assert!(!production.exists());
}

#[test]
fn cancelling_a_run_stops_its_wait_for_approval() {
    let repo = repo_with(
        "[environments.production]\nrequired-approvals = 2\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let marker = deployed(&repo);
    let run = repo.spawn(&["run", "deploy"]);
    wait_until_waiting(&repo, "deploy");
    repo.sluice(&["cancel", "1"]).assert_code(0);
    let out = finish(run);
    out.assert_code(1);
    assert!(!marker.exists());
    assert_eq!(job_status(&repo, "1", "deploy"), "cancelled");
}

#[test]
fn a_job_not_approved_in_time_fails() {
    let repo = repo_with(
        "[environments.production]\nrequired-approvals = 1\napproval-timeout = \"1s\"\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let out = repo.sluice(&["run", "deploy"]);
    out.assert_code(1);
    assert!(!deployed(&repo).exists());
    assert!(
        out.stdout
            .contains("error: no approval to deploy to production came within 1s"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_wait_timer_delays_the_job_without_approvals() {
    let repo = repo_with(
        "[environments.production]\nwait-timer = \"1500ms\"\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let (out, events) = repo.run_json("deploy", &[]);
    out.assert_code(0);
    assert!(deployed(&repo).exists());
    let waited = crate::support::job_event(&events, "job_waiting", "deploy");
    assert_eq!(waited["required_approvals"], 0);
    assert_eq!(waited["wait_timer_ms"], 1500);
    let started = crate::support::job_event(&events, "job_started", "deploy");
    let held = started["at"].as_u64().unwrap() - waited["at"].as_u64().unwrap();
    assert!(held >= 1500, "started {held} ms after it began to wait");
    let finished = crate::support::job_event(&events, "deployment_finished", "deploy");
    assert_eq!(finished["url"], "https://prod.example.invalid/app");
}

#[test]
fn a_job_deploying_to_an_undeclared_environment_runs_at_once() {
    let repo = repo_with("", |dir| deploy_workflow(&dir.join("deployed")));
    let marker = deployed(&repo);
    repo.sluice(&["run", "deploy"]).assert_code(0);
    assert!(marker.exists());
    let listed = repo.sluice(&["environments", "--json"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "still recorded");
}

#[test]
fn bad_protection_rules_are_refused_naming_the_file_key_and_value() {
    let repo = repo_with(
        "[environments.production]\nwait-timer = \"soon\"\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let out = repo.sluice(&["run", "deploy"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "sluice.toml: [environments.production] wait-timer = \"soon\": not a duration"
        ),
        "{}",
        out.stderr
    );
    let repo = repo_with(
        "[environments.production]\nrequired-approval = 1\n",
        |dir| deploy_workflow(&dir.join("deployed")),
    );
    let out = repo.sluice(&["run", "deploy"]);
    out.assert_code(2);
    assert!(out.stderr.contains("sluice.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("required-approval"), "{}", out.stderr);
}

#[test]
fn a_server_run_is_approved_through_the_api_in_the_tokens_name() {
    let workflow = "on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: echo deployed
";
    let mut served = Served::new(&[(".github/workflows/deploy.yml", workflow)]);
    served.configure("[environments.production]\nrequired-approvals = 1\n");
    served.start(&[]);
    let token = served.token("release-bot");
    let (before, after) = served.push(&[("version.txt", "2")], "second");
    assert_eq!(served.push_hook(&before, &after).status, 202);
    let waiting = eventually(90, || {
        let run = served.get("/api/v1/runs/1", Some(&token));
        run.status == 200 && run.json()["jobs"][0]["status"] == "waiting"
    });
    assert!(waiting, "server:\n{}", served.server_stderr());

    let anonymous = served.post("/api/v1/runs/1/approve", None, &json!({}));
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let elsewhere = served.post(
        "/api/v1/runs/1/approve",
        Some(&token),
        &json!({"environment": "staging"}),
    );
    assert_eq!(elsewhere.status, 409, "{}", elsewhere.body);
    let approved = served.post(
        "/api/v1/runs/1/approve",
        Some(&token),
        &json!({"comment": "green across the board"}),
    );
    assert_eq!(approved.status, 200, "{}", approved.body);
    insta::assert_json_snapshot!("api_approve", approved.json());

    let run = served.wait_for(1, &token, &["success", "failure"]);
    assert_eq!(run["status"], "success", "{run:#}");
    assert_eq!(run["approvals"][0]["by"], "release-bot");
    assert_eq!(run["deployments"][0]["environment"], "production");
    let log = served.get("/api/v1/runs/1/logs", Some(&token)).body;
    assert!(
        log.contains(
            "approved to deploy to production by release-bot (\"green across the board\")"
        ),
        "{log}"
    );
    let again = served.post("/api/v1/runs/1/reject", Some(&token), &json!({}));
    assert_eq!(again.status, 409, "{}", again.body);
}

/// A command's exit code and output, redacted.
fn transcript(repo: &TestRepo, out: &Outcome) -> String {
    redact(
        repo,
        &format!(
            "exit code: {}\n--- stdout\n{}--- stderr\n{}",
            out.code, out.stdout, out.stderr
        ),
    )
}

/// Output with what changes from run to run replaced: the repository's
/// path and commit, times and durations.
fn redact(repo: &TestRepo, text: &str) -> String {
    let sha = repo.git(&["rev-parse", "HEAD"]);
    let text = text
        .replace(&repo.path().display().to_string(), "[REPO]")
        .replace(&repo.scratch().display().to_string(), "[SCRATCH]")
        .replace(&sha, "[SHA]")
        .replace(&sha[..7], "[SHA]");
    text.lines().map(redact_line).collect::<Vec<_>>().join("\n") + "\n"
}

fn redact_line(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let at_word_start = out
            .chars()
            .last()
            .is_none_or(|p| !p.is_ascii_alphanumeric() && p != '.');
        let taken = if at_word_start {
            timestamp_len(rest)
                .map(|n| (n, "[TIME]"))
                .or_else(|| duration_len(rest).map(|n| (n, "[DURATION]")))
        } else {
            None
        };
        match taken {
            Some((n, placeholder)) => {
                // Right-aligned columns pad by the value's width.
                if placeholder == "[DURATION]" && out.ends_with("   ") {
                    let trimmed = out.trim_end_matches(' ').len();
                    out.truncate(trimmed);
                    out.push_str("  ");
                }
                out.push_str(placeholder);
                rest = &rest[n..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// `2024-02-29T13:05:09Z` at the start of `text`.
fn timestamp_len(text: &str) -> Option<usize> {
    let shape = "0000-00-00T00:00:00Z";
    let candidate = text.get(..shape.len())?;
    let fits = candidate
        .chars()
        .zip(shape.chars())
        .all(|(c, s)| if s == '0' { c.is_ascii_digit() } else { c == s });
    fits.then_some(shape.len())
}

/// `1.2s`, `3m04s`, `1h02m` at the start of `text`, as `sluice` writes
/// durations.
fn duration_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(0);
    if whole == 0 {
        return None;
    }
    let mut end = whole;
    match bytes.get(end) {
        Some(b'.') if digits(end + 1) > 0 => {
            end += 1 + digits(end + 1);
            (bytes.get(end) == Some(&b's')).then_some(end + 1)?;
            end += 1;
        }
        Some(b's') => end += 1,
        Some(b'm' | b'h') if digits(end + 1) == 2 => {
            end += 3;
            matches!(bytes.get(end), Some(b's' | b'm')).then_some(())?;
            end += 1;
        }
        _ => return None,
    }
    let ends_word = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
    ends_word.then_some(end)
}
