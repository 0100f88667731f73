//! The step cache and `actions/cache`, end to end. These run jobs in place
//! (`SLUICE_IN_PLACE=1`): they look at what cached steps leave in the
//! working tree; `services_isolation.rs` covers the cache in snapshots.

use std::os::unix::fs::MetadataExt;

use crate::support::{TestRepo, job_event, job_lines, of_type};

const BUILD: &str = r###"on: push
jobs:
  build:
    runs-on: x
    outputs:
      version: ${{ steps.compile.outputs.version }}
    steps:
      - id: compile
        name: compile
        working-directory: app
        env:
          MODE: release
        run: |
          echo "compiling in $MODE"
          mkdir -p dist && cp src/main.txt dist/main.txt && date +%s%N > dist/stamp
          echo "version=1.2.3" >> "$GITHUB_OUTPUT"
          echo "BUILT=yes" >> "$GITHUB_ENV"
          echo "## compiled" >> "$GITHUB_STEP_SUMMARY"
        cache:
          inputs: [src/**, config.txt]
          outputs: [dist/**]
          env: [MODE]
      - name: after
        run: echo "built=$BUILT"
  test:
    needs: build
    runs-on: x
    steps:
      - id: check
        name: check
        run: echo "testing ${{ needs.build.outputs.version }}"
        cache:
          inputs: [README]
"###;

fn project() -> TestRepo {
    let repo = TestRepo::new_in_place();
    repo.file(".sluice/workflows/build.yml", BUILD)
        .file("app/src/main.txt", "v1\n")
        .file("app/config.txt", "c1\n")
        .file("README", "readme\n")
        .commit("project");
    repo
}

fn cached_steps(events: &[serde_json::Value]) -> Vec<(String, bool)> {
    of_type(events, "step_finished")
        .iter()
        .map(|e| {
            (
                e["job"].as_str().unwrap().to_string(),
                e["cached"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn a_second_run_restores_every_cacheable_step() {
    let repo = project();
    let (first, events) = repo.run_json("build", &[]);
    first.assert_code(0);
    assert!(
        of_type(&events, "cache_lookup")
            .iter()
            .all(|e| e["result"] == "miss")
    );
    assert_eq!(of_type(&events, "cache_saved").len(), 2);

    let stamp = repo.path().join("app/dist/stamp");
    let before = std::fs::metadata(&stamp).unwrap();
    let (second, events) = repo.run_json("build", &[]);
    second.assert_code(0);
    assert_eq!(
        cached_steps(&events),
        [
            ("build".to_string(), true),
            ("build".to_string(), false),
            ("test".to_string(), true)
        ]
    );
    // The log is replayed, outputs, env and summary take effect as if it ran.
    let lines = job_lines(&events, "build");
    assert!(
        lines.contains(&"compiling in release".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"built=yes".to_string()), "{lines:?}");
    assert_eq!(
        job_event(&events, "job_finished", "build")["outputs"]["version"],
        "1.2.3"
    );
    assert_eq!(job_lines(&events, "test"), ["testing 1.2.3"]);
    assert_eq!(
        of_type(&events, "step_summary")[0]["markdown"],
        "## compiled\n"
    );
    // Outputs already in place were not written again.
    let after = std::fs::metadata(&stamp).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );
    let text = repo.sluice(&["run", "build"]);
    assert!(
        text.stdout
            .contains("all 2 cacheable steps were restored from the cache"),
        "{}",
        text.stdout
    );

    // Deleted outputs come back from the cache, byte for byte.
    let original = std::fs::read(&stamp).unwrap();
    std::fs::remove_dir_all(repo.path().join("app/dist")).unwrap();
    let (third, events) = repo.run_json("build", &[]);
    third.assert_code(0);
    assert!(cached_steps(&events)[0].1);
    assert_eq!(std::fs::read(&stamp).unwrap(), original);
}

#[test]
fn inputs_env_command_and_upstream_changes_invalidate() {
    let repo = project();
    repo.run_json("build", &[]).0.assert_code(0);
    let run = |repo: &TestRepo| {
        let (out, events) = repo.run_json("build", &[]);
        out.assert_code(0);
        cached_steps(&events)
    };
    assert!(run(&repo)[0].1, "unchanged: hit");

    // An input file changes: the step and, through `needs`, the step
    // downstream miss (its own input, README, did not change).
    repo.file("app/src/main.txt", "v2\n");
    let after_input = run(&repo);
    assert!(!after_input[0].1 && !after_input[2].1, "{after_input:?}");
    let why = repo.sluice(&["cache", "why", "build/compile"]);
    assert!(
        why.stdout.contains("input file changed: src/main.txt"),
        "{}",
        why.stdout
    );
    let why = repo.sluice(&["cache", "why", "test/check"]);
    assert!(
        why.stdout
            .contains("a cached step of needed job 'build' changed"),
        "{}",
        why.stdout
    );
    assert!(run(&repo)[0].1, "stable again");

    // A file that matches no input pattern does not matter.
    repo.file("app/notes.md", "irrelevant\n");
    assert!(run(&repo)[0].1);

    // A listed env value changes.
    let workflow = BUILD.replace("MODE: release", "MODE: debug");
    repo.file(".sluice/workflows/build.yml", &workflow);
    assert!(!run(&repo)[0].1);
    let why = repo.sluice(&["cache", "why", "build/compile"]);
    assert!(why.stdout.contains("env MODE changed"), "{}", why.stdout);

    // The command changes.
    repo.file(
        ".sluice/workflows/build.yml",
        &workflow.replace("compiling in", "building in"),
    );
    assert!(!run(&repo)[0].1);
    assert!(
        repo.sluice(&["cache", "why", "build/compile"])
            .stdout
            .contains("the command changed")
    );
}

#[test]
fn failed_steps_are_not_cached() {
    let repo = TestRepo::new_in_place();
    repo.file(
        ".sluice/workflows/w.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo once >> counter && exit 1\n        cache:\n          inputs: [input]\n",
    )
    .file("input", "x\n")
    .commit("w");
    for _ in 0..2 {
        let (out, events) = repo.run_json("w", &[]);
        out.assert_code(1);
        assert!(
            of_type(&events, "cache_lookup")
                .iter()
                .all(|e| e["result"] == "miss")
        );
        assert!(of_type(&events, "cache_saved").is_empty());
    }
    assert_eq!(
        std::fs::read_to_string(repo.path().join("counter")).unwrap(),
        "once\nonce\n"
    );
}

const KEYED: &str = r#"on: [push, pull_request]
jobs:
  deps:
    runs-on: x
    steps:
      - id: cache
        uses: actions/cache@v4
        with:
          path: |
            deps
            !deps/tmp
          key: deps-${{ hashFiles('lock.txt') }}
          restore-keys: |
            deps-
      - name: report
        run: |
          echo "hit=${{ steps.cache.outputs.cache-hit }} matched=${{ steps.cache.outputs.cache-matched-key }}"
          ls deps 2>/dev/null | tr '\n' ' '; echo
      - name: install
        if: steps.cache.outputs.cache-hit != 'true'
        run: mkdir -p deps/tmp && cp lock.txt deps/installed-$(cat lock.txt) && touch deps/tmp/scratch
"#;

fn keyed() -> TestRepo {
    let repo = TestRepo::new_in_place();
    repo.file(".sluice/workflows/deps.yml", KEYED)
        .file("lock.txt", "a\n")
        .commit("deps");
    repo
}

fn report_line(events: &[serde_json::Value]) -> String {
    job_lines(events, "deps")
        .into_iter()
        .find(|l| l.starts_with("hit="))
        .unwrap_or_default()
}

#[test]
fn actions_cache_saves_restores_and_falls_back_to_restore_keys() {
    let repo = keyed();
    let (out, events) = repo.run_json("deps", &[]);
    out.assert_code(0);
    assert_eq!(report_line(&events), "hit=false matched=");
    assert_eq!(of_type(&events, "cache_saved").len(), 1);

    // Same lock file: an exact hit; the excluded path was not cached.
    std::fs::remove_dir_all(repo.path().join("deps")).unwrap();
    let (out, events) = repo.run_json("deps", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "deps");
    assert!(
        report_line(&events).starts_with("hit=true matched=deps-"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.trim() == "installed-a"), "{lines:?}");
    assert!(!repo.path().join("deps/tmp").exists());
    assert!(
        of_type(&events, "cache_saved").is_empty(),
        "an exact hit saves nothing"
    );

    // A new lock file: the restore key brings the old entry back
    // (cache-hit false), then the job saves the new key.
    repo.file("lock.txt", "b\n");
    let (out, events) = repo.run_json("deps", &[]);
    out.assert_code(0);
    assert!(
        report_line(&events).starts_with("hit=false matched=deps-"),
        "{}",
        report_line(&events)
    );
    assert_eq!(of_type(&events, "cache_lookup")[0]["result"], "partial");
    assert_eq!(of_type(&events, "cache_saved").len(), 1);
    let (_, events) = repo.run_json("deps", &[]);
    assert!(report_line(&events).starts_with("hit=true"));
}

#[test]
fn a_saved_key_is_immutable() {
    let repo = TestRepo::new_in_place();
    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: mkdir -p out && echo $RANDOM$RANDOM > out/value\n      - uses: actions/cache/save@v4\n        with:\n          path: out\n          key: fixed\n      - uses: actions/cache/restore@v4\n        id: r\n        with:\n          path: out\n          key: fixed\n      - run: echo restored=$(cat out/value)\n";
    repo.file(".sluice/workflows/w.yml", workflow).commit("w");
    let (out, events) = repo.run_json("w", &[]);
    out.assert_code(0);
    let first = job_lines(&events, "a")
        .into_iter()
        .find(|l| l.starts_with("restored="))
        .unwrap();
    let (out, events) = repo.run_json("w", &[]);
    out.assert_code(0);
    let system: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == "log" && e["stream"] == "system")
        .map(|e| e["line"].as_str().unwrap().to_string())
        .collect();
    assert!(
        system
            .iter()
            .any(|l| l.contains("Cache already exists for key: fixed")),
        "{system:?}"
    );
    // The second run wrote a new value, but the restore brings back the first.
    let second = job_lines(&events, "a")
        .into_iter()
        .find(|l| l.starts_with("restored="))
        .unwrap();
    assert_eq!(first, second);
}

#[test]
fn keys_are_scoped_to_the_branch_and_the_default_branch() {
    let repo = keyed();
    repo.git(&["checkout", "-q", "-b", "feature-a"]);
    repo.run_json("deps", &[]).0.assert_code(0);
    // A sibling branch does not see feature-a's cache.
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "feature-b"]);
    let _ = std::fs::remove_dir_all(repo.path().join("deps"));
    let (_, events) = repo.run_json("deps", &[]);
    assert_eq!(report_line(&events), "hit=false matched=");
    // What main saves, every branch may read.
    repo.git(&["checkout", "-q", "main"]);
    repo.file("lock.txt", "m\n").commit("main lock");
    let _ = std::fs::remove_dir_all(repo.path().join("deps"));
    repo.run_json("deps", &[]).0.assert_code(0);
    repo.git(&["checkout", "-q", "-b", "feature-c"]);
    let _ = std::fs::remove_dir_all(repo.path().join("deps"));
    let (_, events) = repo.run_json("deps", &[]);
    assert!(
        report_line(&events).starts_with("hit=true"),
        "{}",
        report_line(&events)
    );
    // A pull request reads its base branch's cache.
    let (_, events) = repo.run_json("deps", &["--event", "pull_request", "--base", "main"]);
    assert!(
        report_line(&events).starts_with("hit=true"),
        "{}",
        report_line(&events)
    );
}

#[test]
fn lookup_only_and_fail_on_cache_miss() {
    let repo = TestRepo::new_in_place();
    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/cache/restore@v4\n        with:\n          path: nothing\n          key: never-saved\n          fail-on-cache-miss: true\n";
    repo.file(".sluice/workflows/w.yml", workflow).commit("w");
    let (out, events) = repo.run_json("w", &[]);
    out.assert_code(1);
    assert_eq!(of_type(&events, "step_finished")[0]["outcome"], "failure");
}

#[test]
fn a_corrupt_blob_is_a_miss_and_never_restored() {
    let repo = project();
    repo.run_json("build", &[]).0.assert_code(0);
    // Damage every stored blob of the source file's content: a blob file
    // of its own, or its bytes within a pack of small files.
    let cache = repo.scratch().join("cache");
    let mut damaged = 0;
    for entry in walk(&cache) {
        let Ok(bytes) = std::fs::read(&entry) else {
            continue;
        };
        if bytes == b"v1\n" {
            std::fs::write(&entry, b"XX\n").unwrap();
            damaged += 1;
        } else if entry.extension().is_some_and(|e| e == "pack")
            && let Some(at) = bytes.windows(3).position(|w| w == b"v1\n")
        {
            let mut changed = bytes.clone();
            changed[at..at + 3].copy_from_slice(b"XX\n");
            std::fs::write(&entry, changed).unwrap();
            damaged += 1;
        }
    }
    assert!(
        damaged >= 1,
        "no blob with the file's content found under {}",
        cache.display()
    );
    std::fs::remove_dir_all(repo.path().join("app/dist")).unwrap();
    let (out, events) = repo.run_json("build", &[]);
    out.assert_code(0);
    assert!(!cached_steps(&events)[0].1, "a corrupt entry was used");
    let warned = events.iter().any(|e| {
        e["type"] == "log"
            && e["line"]
                .as_str()
                .is_some_and(|l| l.contains("could not be restored"))
    });
    assert!(warned);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("app/dist/main.txt")).unwrap(),
        "v1\n"
    );
    repo.sluice(&["cache", "verify"]).assert_code(0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn two_processes_writing_the_same_entries_leave_a_sound_cache() {
    let repo = project();
    let children: Vec<_> = (0..2)
        .map(|_| repo.spawn(&["run", "build", "--json"]))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    repo.sluice(&["cache", "verify"]).assert_code(0);
    let (_, events) = repo.run_json("build", &[]);
    assert!(cached_steps(&events)[0].1);
}

#[test]
fn the_cache_stays_within_its_size_limit() {
    let repo = TestRepo::new_in_place();
    repo.file(
        ".sluice/workflows/w.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: head -c 300000 /dev/urandom > blob\n        cache:\n          inputs: [seed]\n          outputs: [blob]\n",
    )
    .commit("w");
    for seed in 0..4 {
        repo.file("seed", &format!("{seed}\n"));
        repo.sluice_env(&["run", "w"], &[("SLUICE_CACHE_MAX_SIZE", "700KB")])
            .assert_code(0);
    }
    let pruned = repo.sluice_env(&["cache", "prune"], &[("SLUICE_CACHE_MAX_SIZE", "700KB")]);
    pruned.assert_code(0);
    let stats = repo.sluice_env(
        &["cache", "stats", "--json"],
        &[("SLUICE_CACHE_MAX_SIZE", "700KB")],
    );
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    assert!(
        stats["store"]["bytes"].as_u64().unwrap() <= 700_000,
        "{stats}"
    );
    // The most recent entry survives.
    let (_, events) = repo.run_json("w", &[]);
    assert!(cached_steps(&events)[0].1);
    assert_eq!(stats["usage"]["lookups"].as_u64().unwrap(), 4);
}

#[test]
fn cache_stats_and_ls_report_what_happened() {
    let repo = project();
    repo.run_json("build", &[]).0.assert_code(0);
    repo.run_json("build", &[]).0.assert_code(0);
    let stats = repo.sluice(&["cache", "stats"]);
    stats.assert_code(0);
    assert!(
        stats.stdout.contains("lookups 4: 2 hits"),
        "{}",
        stats.stdout
    );
    assert!(stats.stdout.contains("hit rate 50%"), "{}", stats.stdout);
    let ls = repo.sluice(&["cache", "ls"]);
    assert!(ls.stdout.contains("build › compile"), "{}", ls.stdout);
    repo.sluice(&["cache", "clear"]).assert_code(0);
    assert!(repo.sluice(&["cache", "ls"]).stdout.contains("empty"));
}
