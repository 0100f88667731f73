//! Regression tests for holes found by trying Sluice as an attacker and as
//! a careless user would (each test is named after the hole it closes).

use std::os::unix::fs::PermissionsExt;

use crate::support::{TestRepo, job_lines};

fn repo_with(workflow: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.workflow("ci.yml", workflow)
        .file("README", "hello\n")
        .commit("first");
    repo
}

#[test]
fn predictable_scratch_directory_accepted_if_it_already_exists() {
    // The run's scratch directory held step scripts, env files and the
    // event payload under `/tmp/sluice-run-<start time>`, and a directory
    // or link planted there in advance was used. Now its name carries 128
    // random bits, it is made fresh with mode 0700, and its files are 0600.
    let repo = repo_with(
        r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: |
          scratch=$(dirname "$(dirname "$RUNNER_TEMP")")
          echo "scratch=$scratch"
          stat -c 'scratch-mode=%a' "$scratch"
          stat -c 'event-mode=%a' "$GITHUB_EVENT_PATH"
"#,
    );
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (out, events) = repo.run_json("ci", &[]);
        out.assert_code(0);
        let lines = job_lines(&events, "a");
        let value = |key: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
                .to_string()
        };
        let scratch = value("scratch");
        let name = std::path::Path::new(&scratch)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let random = name
            .strip_prefix("sluice-run-")
            .expect("named sluice-run-*");
        assert_eq!(random.len(), 32, "{name}");
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        assert_eq!(value("scratch-mode"), "700");
        assert_eq!(value("event-mode"), "600");
        assert!(!std::path::Path::new(&scratch).exists(), "left behind");
        seen.push(scratch);
    }
    assert_ne!(seen[0], seen[1]);
}
