//! Services and job isolation, end to end: real PostgreSQL and Redis
//! started for jobs, health checks, teardown, and per-job workspaces.
//!
//! Tests that need a server binary skip with a loud message on a machine
//! without it, and fail under CI (`CI=true`), where `.ci/run` installs them.

use std::path::Path;

use crate::support::{TestRepo, eventually, sleepers, unique_marker};

/// Whether `program` can be used; under CI its absence is a failure.
fn require(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required under CI (.ci/run installs it) but is missing");
    }
    eprintln!("\n*** SKIPPED: {what} is not installed on this machine ***\n");
    false
}

fn on_path(program: &str) -> bool {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|dir| Path::new(dir).join(program).is_file())
}

fn has_redis() -> bool {
    require(
        "Redis (redis-server, redis-cli)",
        on_path("redis-server") && on_path("redis-cli"),
    )
}

fn has_postgres() -> bool {
    let server = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.path().join("bin/postgres").is_file());
    require("PostgreSQL (server and psql)", server && on_path("psql"))
}

fn repo_with(workflow: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.workflow("ci.yml", workflow)
        .file("README", "hello\n")
        .commit("first");
    repo
}

/// Service directories that still exist among `dirs`.
fn remaining(dirs: &[String]) -> Vec<String> {
    dirs.iter()
        .filter(|d| Path::new(d.as_str()).exists())
        .cloned()
        .collect()
}

fn lines_in(dir: &Path, prefix: &str) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| {
            std::fs::read_to_string(e.path())
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_native_service_is_healthy_before_the_first_step_and_gone_after_the_job() {
    if !has_redis() {
        return;
    }
    let repo = TestRepo::new();
    let scratch = repo.scratch();
    repo.workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  use-cache:
    runs-on: x
    services:
      cache:
        run: echo "$SERVICE_DIR" > {scratch}/service-dir; exec redis-server --port $PORT --save ''
        ports: [6379]
        healthcheck: {{cmd: 'redis-cli -p $PORT ping', interval: 1s, timeout: 2s, retries: 30}}
    steps:
      - run: |
          port='${{{{ job.services.cache.ports['6379'] }}}}'
          redis-cli -p "$port" set greeting hello
          test "$(redis-cli -p "$port" get greeting)" = hello
          echo "listening-port:$port"
"#,
            scratch = scratch.display()
        ),
    )
    .commit("first");
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("service cache: started, ready after"),
        "{}",
        out.stdout
    );
    let dir = std::fs::read_to_string(scratch.join("service-dir")).unwrap();
    let dir = dir.trim();
    assert!(!dir.is_empty());
    assert!(
        !Path::new(dir).exists(),
        "the service's directory {dir} was left behind"
    );
    let port = out
        .stdout
        .lines()
        .find_map(|l| l.split("] listening-port:").nth(1))
        .expect("the step printed the port")
        .trim()
        .to_string();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err(),
        "the service still listens on {port} after the job"
    );
    // The service's own output went to history, not to the screen.
    assert!(
        !out.stdout.contains("Ready to accept connections"),
        "{}",
        out.stdout
    );
    let logs = repo.sluice(&["logs", "last"]).stdout;
    assert!(
        logs.lines()
            .any(|l| l.starts_with("[cache]") && l.contains("Ready to accept connections")),
        "{logs}"
    );
}

#[test]
fn a_failing_health_check_fails_the_job_with_its_output_and_the_service_log() {
    let marker = unique_marker();
    let repo = TestRepo::new();
    let scratch = repo.scratch();
    repo.workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  broken:
    runs-on: x
    services:
      db:
        run: echo "$SERVICE_DIR" > {scratch}/service-dir; echo booting-but-never-ready; sleep {marker}
        healthcheck: {{cmd: 'echo probe-says-no; exit 1', interval: 100ms, timeout: 1s, retries: 3}}
    steps:
      - run: echo step-must-not-run
"#,
            scratch = scratch.display()
        ),
    )
    .commit("first");
    let started = std::time::Instant::now();
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(1);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("service 'db'"), "{text}");
    assert!(
        text.contains("probe-says-no"),
        "the probe's output is shown: {text}"
    );
    assert!(
        text.contains("booting-but-never-ready"),
        "the service's log is shown: {text}"
    );
    assert!(!text.contains("step-must-not-run"), "{text}");
    // retries × (interval + timeout) = 3.3 s: not Docker's default 90 s.
    assert!(started.elapsed().as_secs() < 30);
    assert!(
        eventually(10, || sleepers(&marker).is_empty()),
        "the service survived"
    );
    let dir = std::fs::read_to_string(scratch.join("service-dir")).unwrap();
    assert!(
        remaining(&[dir.trim().to_string()]).is_empty(),
        "its directory survived"
    );
}

#[test]
fn services_stop_when_a_job_times_out_or_is_cancelled() {
    let service_marker = unique_marker();
    let step_marker = unique_marker();
    let repo = TestRepo::new();
    let scratch = repo.scratch();
    let workflow = |timeout: &str| {
        format!(
            r#"on: push
jobs:
  slow:
    runs-on: x
    timeout-minutes: {timeout}
    services:
      worker:
        run: echo "$SERVICE_DIR" > {scratch}/service-dir-$RANDOM; sleep {service_marker}
    steps:
      - run: sleep {step_marker}
"#,
            scratch = scratch.display()
        )
    };
    // Timeout: 0.03 minutes is 1.8 s.
    repo.workflow("ci.yml", &workflow("0.03")).commit("timeout");
    repo.sluice(&["run", "ci"]).assert_code(1);
    assert!(
        eventually(10, || sleepers(&service_marker).is_empty()),
        "the service outlived the timeout"
    );
    assert!(sleepers(&step_marker).is_empty());

    // Cancel: Ctrl-C while the step runs.
    repo.workflow("ci.yml", &workflow("10")).commit("cancel");
    let child = repo.spawn(&["run", "ci"]);
    assert!(
        eventually(20, || !sleepers(&step_marker).is_empty()),
        "the step did not start"
    );
    assert!(
        !sleepers(&service_marker).is_empty(),
        "the service runs during the step"
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(
        eventually(10, || sleepers(&service_marker).is_empty()),
        "the service outlived the cancel"
    );
    let dirs = lines_in(&scratch, "service-dir-");
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert!(
        remaining(&dirs).is_empty(),
        "service directories survived: {dirs:?}"
    );
}

#[test]
fn two_parallel_jobs_with_the_same_services_get_their_own_instances() {
    if !has_redis() {
        return;
    }
    let repo = TestRepo::new();
    let scratch = repo.scratch();
    repo.workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  test:
    runs-on: x
    strategy:
      matrix:
        copy: [one, two]
    services:
      cache:
        run: redis-server --port $PORT --save ''
        ports: [6379]
        healthcheck: {{cmd: 'redis-cli -p $PORT ping', interval: 1s, retries: 30}}
    steps:
      - run: |
          port='${{{{ job.services.cache.ports['6379'] }}}}'
          echo "$port" > {scratch}/port-${{{{ matrix.copy }}}}
          echo "$SLUICE_JOB_ID" > {scratch}/job-${{{{ matrix.copy }}}}
          redis-cli -p "$port" set "key-$SLUICE_JOB_ID" 1 > /dev/null
          sleep 1
          # Only this job's key is in this job's Redis.
          test "$(redis-cli -p "$port" dbsize)" = 1
"#,
            scratch = scratch.display()
        ),
    )
    .commit("first");
    repo.sluice(&["run", "ci", "--jobs", "2"]).assert_code(0);
    let ports = lines_in(&scratch, "port-");
    let ids = lines_in(&scratch, "job-");
    assert_eq!(ports.len(), 2);
    assert_ne!(ports[0], ports[1], "both jobs got the same service port");
    assert_ne!(ids[0], ids[1], "SLUICE_JOB_ID is not unique");
    assert!(
        ids.iter()
            .all(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    );
}

/// A workflow as GitHub's documentation and real projects write it.
const GITHUB_STYLE: &str = r#"name: integration
on: push
jobs:
  integration:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        copy: [a, b]
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_USER: app
          POSTGRES_PASSWORD: s3cret
          POSTGRES_DB: app_test
        ports:
          - 5432:5432
        options: >-
          --health-cmd pg_isready
          --health-interval 10s
          --health-timeout 5s
          --health-retries 5
      redis:
        image: redis:7-alpine
        ports:
          - 6379:6379
        options: --health-cmd "redis-cli ping" --health-interval 10s --health-timeout 5s --health-retries 5
    steps:
      - name: Migrate and test
        env:
          PGHOST: localhost
          PGPORT: ${{ job.services.postgres.ports['5432'] }}
          PGUSER: app
          PGPASSWORD: s3cret
          PGDATABASE: app_test
          REDIS_PORT: ${{ job.services.redis.ports['6379'] }}
        run: |
          psql -v ON_ERROR_STOP=1 -c 'CREATE TABLE items (id serial primary key, owner text)'
          psql -v ON_ERROR_STOP=1 -c "INSERT INTO items (owner) VALUES ('${{ matrix.copy }}')"
          sleep 1
          test "$(psql -tA -c 'SELECT count(*) FROM items')" = 1
          redis-cli -p "$REDIS_PORT" incr visits
          test "$(redis-cli -p "$REDIS_PORT" get visits)" = 1
"#;

#[test]
fn github_style_postgres_and_redis_service_containers_run_unchanged() {
    if !has_postgres() || !has_redis() {
        return;
    }
    let repo = repo_with(GITHUB_STYLE);
    let out = repo.sluice(&["run", "integration", "--jobs", "2"]);
    out.assert_code(0);
    // Both copies asked for 5432; one got it (unless something else had
    // it), the other was moved, with a warning naming the new port.
    assert!(
        out.stdout
            .contains("port 5432 is in use; the service listens on"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("PostgreSQL"), "{}", out.stdout);
    let logs = repo.sluice(&["logs", "last"]).stdout;
    assert!(
        logs.contains("[postgres]"),
        "PostgreSQL's log is in history: {logs}"
    );
    assert!(!logs.contains("s3cret"), "the password is not logged");
}

#[test]
fn an_image_without_a_container_engine_fails_before_starting_and_says_what_to_do() {
    // No engine, whatever this machine runs: the configured one is absent.
    let no_engine = [("SLUICE_CONTAINER_ENGINE", "/nonexistent/docker")];
    let marker = unique_marker();
    let repo = repo_with(&format!(
        r#"on: push
jobs:
  db:
    runs-on: x
    services:
      first:
        run: sleep {marker}
      mysql:
        image: mysql:8
        ports: ['3306:3306']
    steps:
      - run: echo must-not-run
"#
    ));
    let out = repo.sluice_env(&["run", "ci"], &no_engine);
    out.assert_code(1);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("'mysql:8'"), "{text}");
    assert!(
        text.contains("run:") && text.contains("healthcheck:"),
        "{text}"
    );
    assert!(!text.contains("must-not-run"));
    assert!(
        sleepers(&marker).is_empty(),
        "a service was started although the job could not run"
    );
}

#[test]
fn parallel_jobs_writing_the_same_file_do_not_see_each_other() {
    let repo = repo_with(
        r#"on: push
jobs:
  left:
    runs-on: x
    steps:
      - run: |
          echo left > shared.txt
          sleep 1
          test "$(cat shared.txt)" = left
          echo left >> README
  right:
    runs-on: x
    steps:
      - run: |
          echo right > shared.txt
          sleep 1
          test "$(cat shared.txt)" = right
          test "$(cat README)" = hello
"#,
    );
    repo.sluice(&["run", "ci", "--jobs", "2"]).assert_code(0);
    assert!(
        !repo.path().join("shared.txt").exists(),
        "a job wrote into the working tree"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("README")).unwrap(),
        "hello\n"
    );
    // In place, jobs share the working tree, as asked.
    repo.sluice(&["run", "ci", "--jobs", "1", "--in-place", "--job", "left"])
        .assert_code(0);
    assert_eq!(
        std::fs::read_to_string(repo.path().join("shared.txt")).unwrap(),
        "left\n"
    );
}

#[test]
fn the_snapshot_is_the_repository_as_the_run_sees_it() {
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        r#"on: push
jobs:
  look:
    runs-on: x
    steps:
      - run: |
          test "$(cat tracked.txt)" = changed
          test "$(cat new.txt)" = untracked
          test ! -e build/out.bin
          test ! -e deleted.txt
          test "$(cat link)" = changed
          test "$PWD" = "$GITHUB_WORKSPACE"
          git status --porcelain | sort > "$RUNNER_TEMP/status"
          grep -q '^ M tracked.txt' "$RUNNER_TEMP/status"
          grep -q '^?? new.txt' "$RUNNER_TEMP/status"
          test "$(git log -1 --format=%s)" = first
          git -c user.name=a -c user.email=a@b commit -qam 'job commit'
          test ! -e leftover.txt
          echo x > leftover.txt
"#,
    )
    .file("tracked.txt", "original\n")
    .file("deleted.txt", "x\n")
    .file(".gitignore", "build/\n");
    std::os::unix::fs::symlink("tracked.txt", repo.path().join("link")).unwrap();
    repo.commit("first");
    repo.file("tracked.txt", "changed\n")
        .file("new.txt", "untracked\n")
        .file("build/out.bin", "ignored\n");
    std::fs::remove_file(repo.path().join("deleted.txt")).unwrap();
    let out = repo.sluice(&["run", "ci"]);
    out.assert_code(0);
    assert!(
        out.stdout.contains("workspace: 5 files, 5 copied"),
        "{}",
        out.stdout
    );
    // The next run reuses the kept copy: nothing changed, nothing is
    // copied, and what the job left there is gone again.
    let again = repo.sluice(&["run", "ci"]);
    again.assert_code(0);
    assert!(
        again
            .stdout
            .contains("workspace: 5 files, 0 copied (0.0 MB), 1 removed"),
        "{}",
        again.stdout
    );
    // The job's commit stayed in its copy.
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]), "first");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("tracked.txt")).unwrap(),
        "changed\n"
    );
}

#[test]
fn the_step_cache_restores_outputs_into_the_snapshot_for_later_steps() {
    let repo = repo_with(
        r#"on: push
jobs:
  build:
    runs-on: x
    steps:
      - name: compile
        run: mkdir -p dist && cp README dist/out.txt && echo compiled
        cache: {inputs: [README], outputs: ['dist/**']}
      - run: test "$(cat dist/out.txt)" = hello
"#,
    );
    let first = repo.sluice(&["run", "ci"]);
    first.assert_code(0);
    assert!(first.stdout.contains("compiled"), "{}", first.stdout);
    let second = repo.sluice(&["run", "ci"]);
    second.assert_code(0);
    assert!(
        second.stdout.contains("from the cache"),
        "{}",
        second.stdout
    );
    assert!(
        !repo.path().join("dist").exists(),
        "outputs stay in the job's snapshot"
    );
}

#[test]
fn kill_9_of_sluice_takes_its_services_and_their_directories_along() {
    let service_marker = unique_marker();
    let step_marker = unique_marker();
    let repo = TestRepo::new();
    let scratch = repo.scratch();
    repo.workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  long:
    runs-on: x
    services:
      worker:
        run: echo "$SERVICE_DIR" > {scratch}/service-dir; sleep {service_marker}
    steps:
      - run: sleep {step_marker}
"#,
            scratch = scratch.display()
        ),
    )
    .commit("first");
    let mut child = repo.spawn(&["run", "ci"]);
    assert!(
        eventually(20, || !sleepers(&step_marker).is_empty()),
        "the step did not start"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(15, || sleepers(&service_marker).is_empty()
            && sleepers(&step_marker).is_empty()),
        "processes survived kill -9 of sluice"
    );
    let dir = std::fs::read_to_string(scratch.join("service-dir")).unwrap();
    assert!(
        eventually(10, || remaining(&[dir.trim().to_string()]).is_empty()),
        "the service directory {dir} survived kill -9 of sluice"
    );
}

#[test]
fn a_redis_service_survives_kill_9_of_sluice() {
    // Redis writes its process title over its environment, tracking id
    // included, so the watcher could not find it: it kept its port, and
    // the next run's step talked to the stale server.
    if !has_redis() {
        return;
    }
    let step_marker = unique_marker();
    let repo = TestRepo::new();
    let scratch = repo.scratch();
    repo.workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  long:
    runs-on: x
    services:
      redis:
        image: redis:7
    steps:
      - run: |
          echo "${{{{ job.services.redis.ports['6379'] }}}}" > {scratch}/port
          sleep {step_marker}
"#,
            scratch = scratch.display()
        ),
    )
    .commit("first");
    let mut child = repo.spawn(&["run", "ci"]);
    assert!(
        eventually(20, || !sleepers(&step_marker).is_empty()),
        "the step did not start"
    );
    let port: u16 = std::fs::read_to_string(scratch.join("port"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let serving = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    assert!(serving(), "redis listens on {port} while the job runs");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(15, || !serving()),
        "redis still serves on {port} after kill -9 of sluice"
    );
}

#[test]
fn a_postgres_service_comes_from_its_template_the_second_time_with_no_secret_in_it() {
    if !has_postgres() || !has_redis() {
        return;
    }
    // Container ports only: fixed host ports would race the other test
    // that runs this workflow at the same time.
    let workflow = GITHUB_STYLE
        .replace("- 5432:5432", "- 5432")
        .replace("- 6379:6379", "- 6379");
    assert_ne!(workflow, GITHUB_STYLE);
    let repo = repo_with(&workflow);
    repo.sluice(&["run", "integration", "--jobs", "2"])
        .assert_code(0);
    let templates = repo
        .path()
        .parent()
        .unwrap()
        .join("cache/service-templates");
    let made: Vec<_> = std::fs::read_dir(&templates)
        .expect("the first run keeps a template")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("postgres-"))
        .collect();
    assert_eq!(made.len(), 1, "one template for one set of initdb settings");
    // The second run copies it; its steps still log in with the password
    // and find the database the service's env asks for.
    repo.sluice(&["run", "integration", "--jobs", "2"])
        .assert_code(0);
    let holds_secret = std::process::Command::new("grep")
        .args(["-r", "-q", "s3cret"])
        .arg(&templates)
        .status()
        .expect("grep runs");
    assert!(!holds_secret.success(), "the template holds no password");
    repo.sluice(&["cache", "clear"]).assert_code(0);
    assert!(!templates.exists(), "cache clear removes the templates");
}
