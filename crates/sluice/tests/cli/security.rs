//! Regression tests for holes found by trying Sluice as an attacker and as
//! a careless user would (each test is named after the hole it closes).

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

/// Files of Sluice's (cache and history) whose bytes contain `needle`.
fn stored_files_containing(repo: &TestRepo, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![repo.scratch().join("cache"), repo.path().join(".sluice")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && std::fs::read(&path).is_ok_and(|bytes| {
                    bytes
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes())
                })
            {
                found.push(path);
            }
        }
    }
    found
}

fn log_lines(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "log")
        .map(|e| e["line"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn step_cache_results(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "cache_lookup" && e["kind"] == "step")
        .map(|e| e["result"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn step_cache_stores_and_replays_secrets() {
    // A cached step whose output held a secret kept it raw in its cache
    // entry, and a hit replayed it in clear, even with another secret.
    let repo = TestRepo::new_in_place();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - id: leak
        run: echo "token=${{ secrets.TOKEN }}" >> "$GITHUB_OUTPUT"
        cache: {inputs: [README]}
      - run: echo "got ${{ steps.leak.outputs.token }}"
      - run: printf '%s' "$TOKEN" > token.txt
        env: {TOKEN: "${{ secrets.TOKEN }}"}
        cache: {inputs: [README], outputs: [token.txt]}
"#,
    )
    .file("README", "hello\n")
    .commit("first");
    let secret = "s3cret-value-91f2";
    for _ in 0..2 {
        let (out, events) = repo.run_json("ci", &["--secret", &format!("TOKEN={secret}")]);
        out.assert_code(0);
        assert_eq!(step_cache_results(&events), ["miss", "miss"], "never a hit");
        let lines = log_lines(&events);
        assert!(lines.iter().any(|l| l == "got ***"), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.contains("not cached: its outputs")),
            "the reason is shown: {lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("not cached: its output file token.txt holds a secret")),
            "{lines:?}"
        );
        assert!(!out.stdout.contains(secret));
    }
    assert_eq!(
        stored_files_containing(&repo, secret),
        Vec::<std::path::PathBuf>::new()
    );
    // Another secret: still masked, never the first one's value.
    let (out, events) = repo.run_json("ci", &["--secret", "TOKEN=other-secret-77"]);
    out.assert_code(0);
    assert!(!out.stdout.contains(secret) && !out.stdout.contains("other-secret-77"));
    assert!(log_lines(&events).iter().any(|l| l == "got ***"));
}

#[test]
fn add_mask_is_not_reapplied_when_a_step_comes_from_the_cache() {
    let repo = TestRepo::new_in_place();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: |
          value="generated-$(echo 7d1c2e | rev)"
          echo "::add-mask::$value"
          echo "the value is $value"
        cache: {inputs: [README]}
"#,
    )
    .file("README", "hello\n")
    .commit("first");
    for _ in 0..2 {
        let (out, events) = repo.run_json("ci", &[]);
        out.assert_code(0);
        assert_eq!(step_cache_results(&events), ["miss"]);
        let lines = log_lines(&events);
        assert!(lines.iter().any(|l| l == "the value is ***"), "{lines:?}");
        assert!(!out.stdout.contains("generated-e2c1d7"));
    }
    assert!(stored_files_containing(&repo, "generated-e2c1d7").is_empty());
}

#[test]
fn a_secret_in_a_cached_command_is_never_stored_and_still_changes_the_key() {
    let repo = TestRepo::new_in_place();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: printf '%s' "${{ secrets.TOKEN }}" | wc -c
        cache: {inputs: [README], env: [PASSWORD]}
        env:
          PASSWORD: ${{ secrets.PASSWORD }}
"#,
    )
    .file("README", "hello\n")
    .commit("first");
    let run = |token: &str| {
        let (out, events) = repo.run_json(
            "ci",
            &[
                "--secret",
                &format!("TOKEN={token}"),
                "--secret",
                "PASSWORD=hunter2",
            ],
        );
        out.assert_code(0);
        step_cache_results(&events)
    };
    assert_eq!(run("tok-aaaa-1111"), ["miss"]);
    assert_eq!(run("tok-aaaa-1111"), ["hit"]);
    assert_eq!(
        run("tok-bbbb-2222"),
        ["miss"],
        "another secret, another key"
    );
    for needle in ["tok-aaaa-1111", "tok-bbbb-2222", "hunter2"] {
        assert!(
            stored_files_containing(&repo, needle).is_empty(),
            "{needle} stored"
        );
    }
    // The plain hash of the password is not stored either.
    let plain = blake3::hash(b"hunter2").to_hex().to_string();
    assert!(stored_files_containing(&repo, &plain).is_empty());
}

#[test]
fn a_secret_split_at_the_8_mib_line_split_boundary_prints_in_two_unmasked_halves() {
    // Lines over 8 MiB are passed on in pieces; a secret across the cut
    // was masked in neither piece.
    let repo = repo_with(
        r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: python3 -c "import sys; sys.stdout.write('x' * (8 * 1024 * 1024 - 5) + sys.argv[1] + 'tail\n')" "${{ secrets.TOKEN }}"
"#,
    );
    let secret = "SPLITSECRET";
    let (out, events) = repo.run_json("ci", &["--secret", &format!("TOKEN={secret}")]);
    out.assert_code(0);
    let shown: String = job_lines(&events, "a").concat();
    assert!(
        shown.ends_with("***tail"),
        "{}",
        &shown[shown.len().saturating_sub(40)..]
    );
    for half in ["SPLIT", "SECRET", "SPLITS", "CRET"] {
        assert!(!shown.contains(half), "{half} shows");
    }
}

fn cache_lookups(events: &[serde_json::Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "cache_lookup" && e["kind"] == "key")
        .map(|e| {
            (
                e["key"].as_str().unwrap_or_default().to_string(),
                e["result"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_secret_inside_an_actions_cache_key_is_stored_and_shown_raw() {
    let repo = TestRepo::new_in_place();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - uses: actions/cache@v4
        with:
          path: out
          key: deps-${{ secrets.SALT }}-v1
          restore-keys: deps-${{ secrets.SALT }}-
      - run: mkdir -p out && echo built > out/file
"#,
    )
    .file("README", "hello\n")
    .commit("first");
    let salt = "pepper-5be1a0";
    let run = |value: &str| {
        let (out, events) = repo.run_json("ci", &["--secret", &format!("SALT={value}")]);
        out.assert_code(0);
        assert!(!out.stdout.contains(value), "{value} in the events");
        cache_lookups(&events)
    };
    let first = run(salt);
    assert_eq!(first[0].1, "miss");
    assert!(
        first[0].0.starts_with("deps-***") && first[0].0.ends_with("-v1"),
        "{first:?}"
    );
    assert_eq!(run(salt)[0].1, "hit");
    assert_eq!(
        run("another-salt-0c0c")[0].1,
        "miss",
        "another secret, another key"
    );
    for args in [
        &["cache", "ls"][..],
        &["cache", "ls", "--json"],
        &["runs"],
        &["show", "last"],
    ] {
        let out = repo.sluice(args);
        out.assert_code(0);
        assert!(
            !out.stdout.contains(salt),
            "{args:?} shows the secret:\n{}",
            out.stdout
        );
    }
    assert!(stored_files_containing(&repo, salt).is_empty());
    assert!(stored_files_containing(&repo, "another-salt-0c0c").is_empty());
}

#[test]
fn artifact_download_escapes_its_directory() {
    // An uploaded link to a directory let a later artifact write through
    // it, outside the download directory; and `..` was a valid name.
    let repo = TestRepo::new();
    let outside = repo.scratch().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("outside-file"), "mine\n").unwrap();
    repo.workflow(
        "ci.yml",
        &r#"on: push
jobs:
  one:
    runs-on: x
    steps:
      - run: mkdir -p a && ln -s "OUTSIDE" a/link
      - uses: actions/upload-artifact@v4
        with: {name: one, path: a}
  two:
    runs-on: x
    steps:
      - run: mkdir -p b/link && echo pwned > b/link/pwned
      - uses: actions/upload-artifact@v4
        with: {name: two, path: b}
  down:
    needs: [one, two]
    runs-on: x
    steps:
      - uses: actions/download-artifact@v4
        with: {path: dl, merge-multiple: true}
      - run: test -f dl/link/pwned && test -f dl/link/outside-file && test ! -L dl/link
      - run: mkdir planted && ln -s "OUTSIDE" planted/link
      - uses: actions/download-artifact@v4
        with: {name: two, path: planted}
  dots:
    runs-on: x
    steps:
      - run: echo x > f
      - uses: actions/upload-artifact@v4
        with: {name: '..', path: f}
"#
        .replace("OUTSIDE", &outside.display().to_string()),
    )
    .file("README", "hello\n")
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    assert!(!outside.join("pwned").exists(), "written outside");
    let finished = |job: &str| {
        crate::support::job_event(&events, "job_finished", job)["result"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(finished("one"), "success");
    assert_eq!(finished("two"), "success");
    assert_eq!(finished("down"), "failure", "the planted link is refused");
    assert_eq!(finished("dots"), "failure");
    let lines = log_lines(&events);
    assert!(
        lines.iter().any(|l| l.contains("symbolic link")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("'..' is a path step")),
        "{lines:#?}"
    );
    // `sluice artifacts get` is confined the same way.
    let target = repo.scratch().join("get");
    std::fs::create_dir_all(&target).unwrap();
    std::os::unix::fs::symlink(&outside, target.join("link")).unwrap();
    let out = repo.sluice(&["artifacts", "get", "last", "two", target.to_str().unwrap()]);
    out.assert_code(2);
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    assert!(!outside.join("pwned").exists());
    let out = repo.sluice(&["artifacts", "get", "last", ".."]);
    out.assert_code(2);
    assert!(out.stderr.contains("path step"), "{}", out.stderr);
}

#[test]
fn a_workflow_that_links_to_a_system_file_quotes_its_lines() {
    // Named explicitly, a workflow that was a link to a file outside the
    // repository was read, and its lines quoted in the errors.
    let repo = TestRepo::new();
    let outside = repo.scratch().join("private.txt");
    std::fs::write(&outside, "root:secret-hash-line:19000:0:99999:7:::\n").unwrap();
    std::fs::create_dir_all(repo.path().join(".github/workflows")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path().join(".github/workflows/ci.yml")).unwrap();
    repo.file("README", "x\n").commit("first");
    for args in [
        &["run", ".github/workflows/ci.yml"][..],
        &["validate", ".github/workflows/ci.yml"],
        &["plan", ".github/workflows/ci.yml"],
    ] {
        let out = repo.sluice(args);
        out.assert_code(2);
        assert!(
            !out.stderr.contains("secret-hash-line"),
            "{args:?} quotes it:\n{}",
            out.stderr
        );
        assert!(
            !out.stdout.contains("secret-hash-line"),
            "{args:?} quotes it:\n{}",
            out.stdout
        );
        assert!(
            out.stderr.contains("outside the repository"),
            "{args:?}:\n{}",
            out.stderr
        );
    }
}

/// Runs `sluice run ci` on a pseudo-terminal of `rows` x `cols`; `None`
/// where `script` (util-linux) is missing.
fn run_on_terminal(repo: &TestRepo, rows: u16, cols: u16) -> Option<String> {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`script` (util-linux) is required under CI");
        }
        eprintln!("*** SKIPPED: `script` (util-linux) is not installed ***");
        return None;
    }
    let command = format!(
        "stty rows {rows} cols {cols}; {} run ci --jobs 12",
        crate::support::sluice_bin().display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("SLUICE_CACHE_DIR", repo.scratch().join("cache"))
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn terminal_escapes_from_steps_reach_the_terminal_raw() {
    let mut workflow = String::from("on: push\njobs:\n");
    for n in 0..8 {
        workflow.push_str(&format!(
            "  job{n}:\n    runs-on: x\n    steps:\n      - name: a step with a long name that does not fit on a small terminal {n}\n        run: sleep 1\n"
        ));
    }
    workflow.push_str(
        "  evil:\n    runs-on: x\n    steps:\n      - run: |\n          printf '\\033]0;pwned-title\\007\\033[2Jvisible\\rhidden\\n'\n          exit 3\n",
    );
    let repo = repo_with(&workflow);
    let Some(text) = run_on_terminal(&repo, 8, 40) else {
        return;
    };
    // Sluice's own redraws are the only escapes: the step's are shown.
    assert!(
        !text.contains("\u{1b}]0;"),
        "an OSC title reached the terminal"
    );
    assert!(
        !text.contains("\u{1b}[2J"),
        "a clear-screen reached the terminal"
    );
    assert!(
        text.contains("␛]0;pwned-title␇␛[2Jvisible␍hidden"),
        "{text:?}"
    );
    // More jobs than rows: the rest are counted, and no drawn line is
    // wider than the terminal.
    assert!(text.contains("more running"), "{text:?}");
    for line in text.split(['\n', '\r']) {
        let visible = line.replace("\u{1b}[1A", "").replace("\u{1b}[2K", "");
        let width = visible.chars().count();
        if visible.starts_with(['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'])
        {
            assert!(width <= 40, "{width} columns: {visible:?}");
        }
    }
    // `sluice logs` (and --color never) shows the same inert text.
    for args in [
        &["logs", "last", "evil"][..],
        &["--color", "never", "logs", "last", "evil"],
    ] {
        let logs = repo.sluice(args);
        assert!(
            !logs.stdout.contains('\u{1b}'),
            "{args:?}: {:?}",
            logs.stdout
        );
        assert!(
            logs.stdout.contains("␛]0;pwned-title"),
            "{args:?}: {:?}",
            logs.stdout
        );
    }
}
