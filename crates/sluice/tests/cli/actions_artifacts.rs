//! `uses:` steps, end to end: local composite and JavaScript actions,
//! vendored actions, the native checkout, setup and artifact actions, and
//! `sluice artifacts`.

use std::path::Path;

use crate::support::{TestRepo, job_lines};

fn has_node() -> bool {
    let present = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|dir| Path::new(dir).join("node").is_file());
    if !present {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("node is required under CI but is missing");
        }
        eprintln!("\n*** SKIPPED: node is not installed on this machine ***\n");
    }
    present
}

/// The lines of `sluice logs last` (all jobs).
fn logs(repo: &TestRepo) -> String {
    repo.sluice(&["logs", "last"]).stdout
}

const GREET: &str = r#"name: greet
description: says hello, through a nested action
inputs:
  who:
    required: true
  punctuation:
    default: "!"
outputs:
  greeting:
    value: ${{ steps.shout.outputs.text }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: echo "text=hello ${{ inputs.who }}${{ inputs.punctuation }}" >> "$GITHUB_OUTPUT"
    - id: shout
      uses: ./actions/upper
      with:
        text: ${{ steps.say.outputs.text }}
    - shell: bash
      run: test -f "$GITHUB_ACTION_PATH/action.yml" && echo "in ${{ github.action_path }}"
"#;

const UPPER: &str = r#"name: upper
inputs:
  text: {required: true}
outputs:
  text:
    value: ${{ steps.up.outputs.text }}
runs:
  using: composite
  steps:
    - id: up
      shell: bash
      run: echo "text=$(echo '${{ inputs.text }}' | tr a-z A-Z)" >> "$GITHUB_OUTPUT"
"#;

const FLAKY: &str = r#"name: flaky
runs:
  using: composite
  steps:
    - shell: bash
      run: echo inner-before; exit 3
    - shell: bash
      run: echo inner-must-not-run
    - if: failure()
      shell: bash
      run: echo inner-cleanup-ran
"#;

#[test]
fn composite_actions_nest_map_outputs_and_fail_with_their_step() {
    let repo = TestRepo::new();
    repo.file("actions/greet/action.yml", GREET)
        .file("actions/upper/action.yml", UPPER)
        .file("actions/flaky/action.yml", FLAKY)
        .workflow(
            "ci.yml",
            r#"on: push
jobs:
  use:
    runs-on: x
    steps:
      - id: greet
        uses: ./actions/greet
        with: {who: world}
      - run: test "${{ steps.greet.outputs.greeting }}" = "HELLO WORLD!" && echo outer-saw-output
      - id: flaky
        uses: ./actions/flaky
        continue-on-error: true
      - run: echo "flaky outcome ${{ steps.flaky.outcome }} conclusion ${{ steps.flaky.conclusion }}"
"#,
        )
        .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "use").join("\n");
    assert!(lines.contains("outer-saw-output"), "{lines}");
    assert!(lines.contains("inner-before"), "{lines}");
    assert!(!lines.contains("inner-must-not-run"), "{lines}");
    assert!(
        lines.contains("inner-cleanup-ran"),
        "an inner `if: failure()` step runs: {lines}"
    );
    assert!(
        lines.contains("flaky outcome failure conclusion success"),
        "{lines}"
    );
    assert!(
        lines.contains("/actions/greet"),
        "github.action_path: {lines}"
    );
    // Inner steps log under the step that uses the action, naming the file and line.
    let all = logs(&repo);
    assert!(all.contains("actions/flaky/action.yml:5"), "{all}");
}

#[test]
fn action_metadata_errors_name_the_file_and_line() {
    let repo = TestRepo::new();
    repo.file(
        "actions/bad/action.yml",
        "name: bad\nruns:\n  using: composite\n  steps:\n    - run: echo missing shell\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./actions/bad\n      - uses: ./actions/missing\n        if: always()\n",
    )
    .commit("first");
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(1);
    let all = logs(&repo);
    assert!(all.contains("actions/bad/action.yml:5:7: error:"), "{all}");
    assert!(all.contains("shell"), "{all}");
    assert!(all.contains("no action.yml or action.yaml in"), "{all}");
}

#[test]
fn javascript_actions_run_pre_main_and_post_in_order_with_state() {
    if !has_node() {
        return;
    }
    let repo = TestRepo::new();
    repo.file(
        "actions/js/action.yml",
        "name: js\ninputs:\n  message: {default: none}\n  Other Input: {default: spaced}\noutputs:\n  echoed: {description: what main saw}\nruns:\n  using: node20\n  pre: pre.js\n  main: main.js\n  post: post.js\n",
    )
    .file(
        "actions/js/pre.js",
        "require('fs').appendFileSync(process.env.GITHUB_STATE, 'from_pre=' + process.env.INPUT_MESSAGE + '\\n');\nconsole.log('pre ran');\n",
    )
    .file(
        "actions/js/main.js",
        "const fs = require('fs');\nconsole.log('main ran with ' + process.env.INPUT_MESSAGE + ' and ' + process.env['INPUT_OTHER_INPUT'] + ' after ' + process.env.STATE_from_pre);\nfs.appendFileSync(process.env.GITHUB_OUTPUT, 'echoed=' + process.env.INPUT_MESSAGE + '\\n');\nfs.appendFileSync(process.env.GITHUB_STATE, 'from_main=yes\\n');\n",
    )
    .file(
        "actions/js/post.js",
        "console.log('post ran, pre said ' + process.env.STATE_from_pre + ', main said ' + process.env.STATE_from_main);\n",
    )
    .file(
        "actions/failing-post/action.yml",
        "name: fp\nruns:\n  using: node20\n  main: main.js\n  post: post.js\n  post-if: failure()\n",
    )
    .file("actions/failing-post/main.js", "console.log('fp main');\n")
    .file("actions/failing-post/post.js", "console.log('fp post must not run');\n")
    .workflow(
        "ci.yml",
        r#"on: push
jobs:
  js:
    runs-on: x
    steps:
      - run: echo first-step
      - id: js
        uses: ./actions/js
        with: {message: hello}
      - run: test "${{ steps.js.outputs.echoed }}" = hello && echo last-step
      - uses: ./actions/failing-post
"#,
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "js");
    let position = |wanted: &str| {
        lines
            .iter()
            .position(|l| l.contains(wanted))
            .unwrap_or_else(|| panic!("no line with {wanted:?} in {lines:#?}"))
    };
    assert!(
        position("pre ran") < position("first-step"),
        "pre runs before the first step"
    );
    assert!(position("main ran with hello and spaced after hello") < position("last-step"));
    assert!(position("last-step") < position("post ran, pre said hello, main said yes"));
    assert!(
        !lines.iter().any(|l| l.contains("must not run")),
        "post-if: failure() on a success"
    );
}

#[test]
fn artifacts_pass_from_a_build_job_to_a_test_job_and_stay_in_history() {
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  build:
    runs-on: x
    steps:
      - run: mkdir -p dist/sub && echo app > dist/app.js && echo deep > dist/sub/deep.txt && echo secret > dist/.env
      - id: up
        uses: actions/upload-artifact@v4
        with:
          name: dist
          path: dist/
          retention-days: 3
      - run: test -n "${{ steps.up.outputs.artifact-id }}"
      - uses: actions/upload-artifact@v4
        with: {name: reports, path: "reports/*.xml", if-no-files-found: ignore}
  test:
    needs: build
    runs-on: x
    steps:
      - uses: actions/download-artifact@v4
        with: {name: dist, path: got}
      - run: test "$(cat got/app.js)" = app && test "$(cat got/sub/deep.txt)" = deep && test ! -e got/.env && echo downloaded-ok
      - uses: actions/download-artifact@v4
        with: {path: all}
      - run: test -f all/dist/app.js && echo per-name-directories
      - uses: actions/download-artifact@v4
        with: {pattern: 'd?s*', path: matched, merge-multiple: true}
      - run: test -f matched/app.js && test ! -e matched/dist && echo pattern-merged
  missing:
    needs: build
    runs-on: x
    steps:
      - uses: actions/download-artifact@v4
        with: {name: nope}
"#,
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &["--jobs", "1"]);
    out.assert_code(1);
    let test_lines = job_lines(&events, "test").join("\n");
    assert!(test_lines.contains("downloaded-ok"), "{test_lines}");
    assert!(test_lines.contains("per-name-directories"), "{test_lines}");
    assert!(test_lines.contains("pattern-merged"), "{test_lines}");
    let all = logs(&repo);
    assert!(
        all.contains("no artifact named 'nope' in this run (it has: dist)"),
        "{all}"
    );

    let ls = repo.sluice(&["artifacts", "ls", "last"]);
    ls.assert_code(0);
    assert!(
        ls.stdout.contains("dist") && ls.stdout.contains("build"),
        "{}",
        ls.stdout
    );
    // `cache ls` names artifacts as artifacts (not as keys of nothing).
    let cache_ls = repo.sluice(&["cache", "ls"]).stdout;
    let artifact_row = cache_ls
        .lines()
        .find(|l| l.starts_with("artifact") && l.contains("dist"))
        .unwrap_or_else(|| panic!("no artifact row in:\n{cache_ls}"));
    assert!(artifact_row.contains("run #1, expires "), "{artifact_row}");
    assert!(!cache_ls.contains("[, ]"), "{cache_ls}");
    let target = repo.scratch().join("fetched");
    let get = repo.sluice(&["artifacts", "get", "last", "dist", target.to_str().unwrap()]);
    get.assert_code(0);
    assert_eq!(
        std::fs::read_to_string(target.join("sub/deep.txt")).unwrap(),
        "deep\n"
    );
    let wrong = repo.sluice(&["artifacts", "get", "last", "nope"]);
    assert_ne!(wrong.code, 0);
    assert!(
        wrong.stderr.contains("has no artifact named 'nope'"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn upload_artifact_errors_when_asked_and_nothing_matches() {
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/upload-artifact@v4\n        with: {name: x, path: nothing-here/, if-no-files-found: error}\n",
    )
    .commit("first");
    repo.sluice(&["run", "ci"]).assert_code(1);
    assert!(logs(&repo).contains("No files were found with the provided path: nothing-here/"));
}

#[test]
fn setup_actions_use_a_host_toolchain_that_fits_the_request() {
    if !has_node() {
        return;
    }
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  setup:
    runs-on: x
    steps:
      - id: node
        uses: actions/setup-node@v4
        with: {node-version: '>=12'}
      - id: from-package
        uses: actions/setup-node@v4
        with: {node-version-file: package.json}
      - id: python
        uses: actions/setup-python@v5
        with: {python-version: '3.x'}
      - run: |
          test "${{ steps.node.outputs.node-version }}" = "$(node --version)"
          test -n "${{ steps.python.outputs.python-version }}"
          python --version
          echo setup-ok
"#,
    )
    .file(
        "package.json",
        r#"{"name": "app", "engines": {"node": ">=12"}}"#,
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    assert!(job_lines(&events, "setup").join("\n").contains("setup-ok"));
    let all = logs(&repo);
    assert!(all.contains("using Node.js 20."), "{all}");
    assert!(all.contains("from PATH"), "{all}");
    assert!(all.contains("for >=12"), "package.json's engines: {all}");
}

#[test]
fn unreachable_remote_actions_fail_with_what_to_do_and_vendored_copies_run() {
    let repo = TestRepo::new();
    repo.file(
        ".sluice/actions/acme/hello@v1/action.yml",
        "name: hello\ninputs:\n  who: {default: vendored}\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo hello from ${{ inputs.who }}\n",
    )
    .workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/hello@v1\n      - uses: acme/other@v2\n",
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(1);
    assert!(
        job_lines(&events, "a")
            .join("\n")
            .contains("hello from vendored")
    );
    let all = logs(&repo);
    // The tests' actions server is a closed port on loopback.
    assert!(all.contains(".sluice/actions/acme/other@v2"), "{all}");
    assert!(
        all.contains("`acme/other@v2` is not in Sluice's cache"),
        "{all}"
    );
    assert!(all.contains("sluice actions pull"), "{all}");
}

#[test]
fn checkout_is_the_workspace_and_places_the_repository_at_path() {
    let repo = TestRepo::new();
    repo.file("src/lib.txt", "lib\n")
        .workflow(
            "ci.yml",
            r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - id: co
        uses: actions/checkout@v4
        with: {fetch-depth: 0}
      - uses: actions/checkout@v4
        with: {path: nested/copy}
      - run: |
          test "$(cat src/lib.txt)" = lib
          test "$(cat nested/copy/src/lib.txt)" = lib
          test "$(git -C nested/copy log -1 --format=%s)" = first
          test "${{ steps.co.outputs.commit }}" = "$GITHUB_SHA"
          echo checkout-ok
"#,
        )
        .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    assert!(job_lines(&events, "a").join("\n").contains("checkout-ok"));
}

#[test]
fn a_typical_workflow_runs_unchanged() {
    if !has_node() {
        return;
    }
    // The bundled example: checkout, setup-node, actions/cache, a build,
    // upload-artifact, and a test job that downloads the artifact.
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/node-ci.yml"),
    )
    .unwrap();
    let repo = TestRepo::new();
    repo.workflow("node-ci.yml", &example).commit("first");
    let (out, events) = repo.run_json("node-ci", &[]);
    out.assert_code(0);
    assert!(job_lines(&events, "test").join("\n").contains("built at"));
}
