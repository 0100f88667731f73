//! Workflows teams already have, run unchanged: the template language's
//! mapping rules, YAML that GitHub reads, containers, toolchains.

use crate::support::{TestRepo, job_lines};

fn repo_with(workflow: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.workflow("ci.yml", workflow)
        .file("README", "hello\n")
        .commit("first");
    repo
}

const PREPARE: &str = r#"  prepare:
    runs-on: x
    outputs:
      axis: ${{ steps.p.outputs.axis }}
      values: ${{ steps.p.outputs.values }}
      extra: ${{ steps.p.outputs.extra }}
    steps:
      - id: p
        run: |
          echo 'axis=python' >> "$GITHUB_OUTPUT"
          echo 'values=["3.11","3.12"]' >> "$GITHUB_OUTPUT"
          echo 'extra={"experimental":true}' >> "$GITHUB_OUTPUT"
"#;

#[test]
fn matrix_keys_that_are_expressions_and_insert_are_evaluated_when_the_job_starts() {
    // GitHub evaluates a mapping key written as an expression, and merges
    // the mapping an `${{ insert }}` key evaluates to into its parent
    // (docs: "Workflow syntax" > jobs.<job_id>.strategy.matrix, and the
    // template language's `insert` directive used by public workflows).
    let repo = repo_with(&format!(
        r#"on: push
jobs:
{PREPARE}  test:
    needs: prepare
    runs-on: x
    strategy:
      matrix:
        ${{{{ needs.prepare.outputs.axis }}}}: ${{{{ fromJson(needs.prepare.outputs.values) }}}}
        include:
          - python: "3.12"
            ${{{{ insert }}}}: ${{{{ fromJSON(needs.prepare.outputs.extra) }}}}
    steps:
      - run: echo "python=${{{{ matrix.python }}}} experimental=${{{{ matrix.experimental }}}}"
"#
    ));
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let first = job_lines(&events, "test[0]").join("\n");
    let second = job_lines(&events, "test[1]").join("\n");
    assert!(first.contains("python=3.11 experimental="), "{first}");
    assert!(second.contains("python=3.12 experimental=true"), "{second}");
}

#[test]
fn an_insert_that_is_not_a_mapping_names_the_file_and_line() {
    let repo = repo_with(&format!(
        r#"on: push
jobs:
{PREPARE}  test:
    needs: prepare
    runs-on: x
    strategy:
      matrix:
        os: [a]
        ${{{{ insert }}}}: ${{{{ needs.prepare.outputs.values }}}}
    steps: [{{run: echo never}}]
"#
    ));
    let (out, _) = repo.run_json("ci", &[]);
    out.assert_code(1);
    let logs = repo.sluice(&["logs", "last", "test"]).stdout;
    assert!(
        logs.contains(".github/workflows/ci.yml: strategy.matrix: line 21, column 9: the value of `${{ insert }}` must be a mapping, not"),
        "{logs}"
    );
}

#[test]
fn yaml_github_reads_runs_unchanged() {
    let repo = repo_with(
        r#"on: push
jobs:
  a:
    runs-on: x
    strategy:
      matrix:
        os: [
        one,
        two
        ]
    env:
      GREETING: "hello
world"
      ${{ insert }}: ${{ fromJSON('{"INSERTED":"yes"}') }}
      ${{ matrix.os }}_KEY: keyed
    steps:
      - run: echo "$GREETING from ${{ matrix.os }} inserted=$INSERTED $one_KEY$two_KEY"
"#,
    );
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let one = job_lines(&events, "a[0]").join("\n");
    assert!(
        one.contains("hello world from one inserted=yes keyed"),
        "{one}"
    );
    assert!(
        job_lines(&events, "a[1]")
            .join("\n")
            .contains("hello world from two")
    );
}

use crate::static_server::StaticServer;

fn sha256_hex(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Packs `files` (path, content) under one top directory `top` as a
/// `.tar.gz` at `archive`, executable.
fn tarball(archive: &std::path::Path, top: &str, files: &[(&str, &str)]) {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let file = work.path().join(top).join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, content).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::create_dir_all(archive.parent().unwrap()).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(archive)
        .arg("-C")
        .arg(work.path())
        .arg(top)
        .status()
        .unwrap();
    assert!(status.success());
}

fn node_arch() -> &'static str {
    if std::env::consts::ARCH == "x86_64" {
        "x64"
    } else {
        "arm64"
    }
}

/// A Node.js distribution with v16.20.2 (a `node` that says who it is and
/// what it was asked to run), as nodejs.org lays it out.
fn node_distribution(server: &StaticServer, checksum_ok: bool) {
    let file = format!("node-v16.20.2-linux-{}.tar.gz", node_arch());
    let archive = server.root.join("node/v16.20.2").join(&file);
    tarball(
        &archive,
        &format!("node-v16.20.2-linux-{}", node_arch()),
        &[(
            "bin/node",
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo v16.20.2; else echo \"fake node16 ran $*\"; fi\n",
        )],
    );
    let sum = if checksum_ok {
        sha256_hex(&archive)
    } else {
        "0".repeat(64)
    };
    server.file(
        "node/v16.20.2/SHASUMS256.txt",
        format!("{sum}  {file}\n").as_bytes(),
    );
    server.file(
        "node/index.json",
        br#"[{"version":"v16.20.2","lts":"Gallium"},{"version":"v16.19.0","lts":"Gallium"}]"#,
    );
}

fn go_distribution(server: &StaticServer) {
    let arch = if std::env::consts::ARCH == "x86_64" {
        "amd64"
    } else {
        "arm64"
    };
    let file = format!("go1.21.13.linux-{arch}.tar.gz");
    let archive = server.root.join("go").join(&file);
    tarball(
        &archive,
        "go",
        &[("bin/go", "#!/bin/sh\necho go version go1.21.13 linux\n")],
    );
    let index = serde_json::json!([{
        "version": "go1.21.13", "stable": true,
        "files": [{"filename": file, "os": "linux", "arch": arch, "kind": "archive", "sha256": sha256_hex(&archive)}]
    }]);
    server.file("go/?mode=json&include=all", index.to_string().as_bytes());
}

#[test]
fn requested_node_and_go_versions_are_downloaded_verified_and_kept() {
    let scratch = tempfile::tempdir().unwrap();
    let server = StaticServer::start(&scratch.path().join("www"));
    node_distribution(&server, true);
    go_distribution(&server);
    let repo = TestRepo::new();
    repo.file(
        "old-action/action.yml",
        "name: old\nruns:\n  using: node16\n  main: index.js\n",
    )
    .file("old-action/index.js", "console.log('real node')\n")
    .workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  a:
    runs-on: x
    steps:
      - id: node
        uses: actions/setup-node@v4
        with: {{node-version: 16, mirror: "{node}"}}
      - id: go
        uses: actions/setup-go@v5
        with: {{go-version: '1.21', go-download-base-url: "{go}"}}
      - run: |
          echo "node says $(node --version), output ${{{{ steps.node.outputs.node-version }}}}"
          echo "go says $(go version)"
      - uses: ./old-action
"#,
            node = server.url("node"),
            go = server.url("go")
        ),
    )
    .commit("first");
    let run = || {
        repo.sluice_env(
            &["run", "ci", "--json"],
            &[("NODEJS_ORG_MIRROR", &server.url("node"))],
        )
    };
    let out = run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("node says v16.20.2, output v16.20.2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("go says go version go1.21.13"),
        "{}",
        out.stdout
    );
    // A JavaScript action runs on the node its `using:` names.
    assert!(out.stdout.contains("fake node16 ran"), "{}", out.stdout);
    let downloads = server.requests();
    assert!(
        downloads >= 5,
        "index, sums and archive of node; index and archive of go"
    );
    // Installed under the cache, and found there the next time.
    let out = run();
    out.assert_code(0);
    assert!(out.stdout.contains("node says v16.20.2"), "{}", out.stdout);
    assert_eq!(server.requests(), downloads, "nothing downloaded again");
    let installed = repo
        .scratch()
        .join("cache/toolchains/node/16.20.2/bin/node");
    assert!(installed.is_file());
}

#[test]
fn a_distribution_that_fails_its_checksum_is_not_installed() {
    let scratch = tempfile::tempdir().unwrap();
    let server = StaticServer::start(&scratch.path().join("www"));
    node_distribution(&server, false);
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        &format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/setup-node@v4\n        with: {{node-version: '16.20', mirror: '{}'}}\n",
            server.url("node")
        ),
    )
    .commit("first");
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("does not match the publisher's checksum"),
        "{}",
        out.stdout
    );
    assert!(
        !repo
            .scratch()
            .join("cache/toolchains/node/16.20.2")
            .exists()
    );
}

#[test]
fn a_version_that_is_nowhere_says_where_it_was_looked_for() {
    let repo = repo_with(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/setup-node@v4\n        with: {node-version: 14}\n      - uses: actions/setup-python@v5\n        with: {python-version: '2.6'}\n",
    );
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("Node.js 14 is not on this host (looked in PATH, nvm ("),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("cannot download http://127.0.0.1:9/node/index.json"),
        "{}",
        out.stdout
    );
}
