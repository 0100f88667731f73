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
