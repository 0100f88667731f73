//! Container jobs, image services and Docker actions through a real
//! container engine (podman serving the Docker API, as `.ci/run` starts
//! it; images built here from `FROM scratch`, nothing pulled). Tests skip
//! with a loud message where no engine answers, and fail under CI.

use std::process::Command;
use std::sync::OnceLock;

use crate::support::{TestRepo, eventually, job_lines, sleepers, unique_marker};

/// The image every test uses: busybox (its applets installed) from scratch.
const BUSYBOX: &str = "localhost/sluice-test-busybox:1";

/// The engine's client: `docker` (talking to DOCKER_HOST), else `podman`.
fn docker() -> Command {
    let has_docker = std::process::Command::new("docker")
        .arg("--version")
        .output()
        .is_ok();
    Command::new(if has_docker { "docker" } else { "podman" })
}

/// Whether an engine answers (and the test image is built); under CI its
/// absence is a failure.
fn engine_ready() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let info = docker().args(["info", "--format", "{{.ID}}"]).output();
        if !info.as_ref().is_ok_and(|o| o.status.success()) {
            return Err("no container engine answers (docker info failed)".into());
        }
        build_busybox()
    });
    match ready {
        Ok(()) => true,
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("a container engine is required under CI: {why}");
            }
            eprintln!("\n*** SKIPPED: {why} ***\n");
            false
        }
    }
}

fn build_busybox() -> Result<(), String> {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .ok_or("busybox is not installed (apt-get install busybox-static)")?;
    let context = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::copy(busybox, context.path().join("busybox")).map_err(|e| e.to_string())?;
    std::fs::write(
        context.path().join("Containerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN mkdir -p /tmp /www && echo served-by-web > /www/index.html\nENV PATH=/bin\nCMD [\"/bin/sh\"]\n",
    )
    .map_err(|e| e.to_string())?;
    let out = docker()
        .args(["build", "-q", "-t", BUSYBOX, "-f"])
        .arg(context.path().join("Containerfile"))
        .arg(context.path())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot build the test image: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Containers and networks of runs (label `sluice.run`) that still exist.
fn leftovers() -> Vec<String> {
    let list = |args: &[&str]| -> Vec<String> {
        docker()
            .args(args)
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut found = list(&[
        "ps",
        "-a",
        "--filter",
        "label=sluice.run",
        "--format",
        "{{.Names}} {{.Labels}}",
    ]);
    found.extend(list(&[
        "network",
        "ls",
        "--filter",
        "label=sluice.run",
        "--format",
        "{{.Name}}",
    ]));
    found
}

/// Leftovers of the runs of `repo` (its run ids are in `--json` output).
fn leftovers_of(run_ids: &[String]) -> Vec<String> {
    leftovers()
        .into_iter()
        .filter(|l| run_ids.iter().any(|id| l.contains(id.as_str())))
        .collect()
}

fn run_ids(events: &[serde_json::Value]) -> Vec<String> {
    // The run id is in the github context the steps print, not in events;
    // every container and network name starts with sluice-<run id>.
    events
        .iter()
        .filter(|e| e["type"] == "log")
        .filter_map(|e| e["line"].as_str())
        .filter_map(|l| l.split("network sluice-").nth(1))
        .filter_map(|rest| rest.split('-').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn a_container_job_with_an_image_service_runs_in_the_container_and_leaves_nothing() {
    if !engine_ready() {
        return;
    }
    let repo = TestRepo::new();
    repo.file("README", "from the workspace\n")
        .workflow(
            "ci.yml",
            &format!(
                r#"on: push
jobs:
  inside:
    runs-on: x
    container:
      image: {BUSYBOX}
      env: {{FROM_CONTAINER: set}}
    services:
      web:
        image: {BUSYBOX}
        options: --entrypoint httpd
        command: -f -p 8080 -h /www
    steps:
      - id: look
        run: |
          echo "shell=$0 container-env=$FROM_CONTAINER"
          cat README
          test ! -e /etc/debian_version && echo "not the host"
          echo "answer=42" >> "$GITHUB_OUTPUT"
          echo "LATER=carried" >> "$GITHUB_ENV"
      - run: |
          echo "output ${{{{ steps.look.outputs.answer }}}} env $LATER"
          wget -qO- http://web:8080/index.html
          echo made-inside > made.txt
"#
            ),
        )
        .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "inside").join("\n");
    assert!(lines.contains("container-env=set"), "{lines}");
    assert!(lines.contains("from the workspace"), "{lines}");
    assert!(lines.contains("not the host"), "{lines}");
    assert!(lines.contains("output 42 env carried"), "{lines}");
    assert!(
        lines.contains("served-by-web"),
        "the service is reached by name: {lines}"
    );
    let ids = run_ids(&events);
    assert!(!ids.is_empty(), "the job's network is named in its log");
    assert!(
        eventually(10, || leftovers_of(&ids).is_empty()),
        "left behind: {:?}",
        leftovers_of(&ids)
    );
}

#[test]
fn failures_and_timeouts_in_a_container_leave_nothing_behind() {
    if !engine_ready() {
        return;
    }
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        &format!(
            "on: push\njobs:\n  fails:\n    runs-on: x\n    container: {BUSYBOX}\n    steps: [{{run: 'exit 3'}}]\n  slow:\n    runs-on: x\n    container: {BUSYBOX}\n    timeout-minutes: 0.05\n    steps: [{{run: 'sleep 60'}}]\n"
        ),
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &["--jobs", "2"]);
    out.assert_code(1);
    let ids = run_ids(&events);
    assert!(
        eventually(15, || leftovers_of(&ids).is_empty()),
        "left behind: {:?}",
        leftovers_of(&ids)
    );
}

#[test]
fn kill_9_of_sluice_removes_its_containers_and_networks() {
    if !engine_ready() {
        return;
    }
    let marker = unique_marker();
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        &format!("on: push\njobs:\n  long:\n    runs-on: x\n    container: {BUSYBOX}\n    steps: [{{run: 'sleep {marker}'}}]\n"),
    )
    .commit("first");
    let mut child = repo.spawn(&["run", "ci"]);
    assert!(
        eventually(30, || leftovers().iter().any(|l| l.contains("sluice.run"))),
        "the job's container did not start"
    );
    // Wait for the step itself (the client of `docker exec`).
    assert!(
        eventually(30, || !sleepers(&marker).is_empty()),
        "the step did not start"
    );
    let before: Vec<String> = leftovers();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        eventually(30, || leftovers().iter().all(|l| !before.contains(l))),
        "left behind after kill -9: {:?}",
        leftovers()
    );
}

#[test]
fn container_host_runs_the_steps_on_the_host_with_a_warning() {
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    container: node:20\n    steps: [{run: echo on-the-host}]\n",
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &["--container", "host"]);
    out.assert_code(0);
    assert!(job_lines(&events, "a").join("\n").contains("on-the-host"));
    assert!(
        out.stdout.contains("not in node:20 (--container host)"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_container_job_a_dockerfile_action_and_an_image_service_run_green_together() {
    if !engine_ready() {
        return;
    }
    let repo = TestRepo::new();
    repo.file(
        "greet/action.yml",
        "name: greet\ninputs:\n  who: {default: nobody}\noutputs:\n  said: {description: what}\nruns:\n  using: docker\n  image: Dockerfile\n  args: ['${{ inputs.who }}']\n  env: {GREETING: hello}\n",
    )
    .file(
        "greet/Dockerfile",
        &format!("FROM {BUSYBOX}\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/bin/sh\", \"/entrypoint.sh\"]\n"),
    )
    .file(
        "greet/entrypoint.sh",
        "echo \"$GREETING $1 (INPUT_WHO=$INPUT_WHO) in $(pwd)\"\necho \"said=$GREETING $1\" >> \"$GITHUB_OUTPUT\"\n",
    )
    .workflow(
        "ci.yml",
        &format!(
            r#"on: push
jobs:
  all:
    runs-on: x
    container: {BUSYBOX}
    services:
      web:
        image: {BUSYBOX}
        options: --entrypoint httpd
        command: -f -p 8080 -h /www
    steps:
      - id: greet
        uses: ./greet
        with: {{who: sluice}}
      - uses: docker://{BUSYBOX}
        with: {{args: echo from a docker url}}
      - run: |
          echo "output: ${{{{ steps.greet.outputs.said }}}}"
          wget -qO- http://web:8080/index.html
"#
        ),
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "all").join("\n");
    assert!(
        lines.contains("hello sluice (INPUT_WHO=sluice) in "),
        "{lines}"
    );
    assert!(lines.contains("from a docker url"), "{lines}");
    assert!(lines.contains("output: hello sluice"), "{lines}");
    assert!(lines.contains("served-by-web"), "{lines}");
    let ids = run_ids(&events);
    assert!(
        eventually(10, || leftovers_of(&ids).is_empty()),
        "left behind: {:?}",
        leftovers_of(&ids)
    );
}

#[test]
fn docker_actions_build_and_tag_an_image_natively() {
    if !engine_ready() {
        return;
    }
    let repo = TestRepo::new();
    repo.file(
        "app/Dockerfile",
        &format!("FROM {BUSYBOX} AS base\nARG FLAVOUR=plain\nRUN echo \"$FLAVOUR\" > /flavour\nFROM base AS final\nLABEL from=sluice\n"),
    )
    .workflow(
        "ci.yml",
        r#"on: push
jobs:
  image:
    runs-on: x
    steps:
      - uses: docker/setup-buildx-action@v3
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: localhost/sluice-test-app
          tags: |
            type=ref,event=branch
            type=sha
      - id: build
        uses: docker/build-push-action@v6
        with:
          context: app
          target: final
          tags: ${{ steps.meta.outputs.tags }}
          build-args: FLAVOUR=spicy
          cache-from: type=gha
          cache-to: type=gha,mode=max
      - run: echo "built ${{ steps.build.outputs.imageid }} as ${{ steps.meta.outputs.tags }}"
"#,
    )
    .commit("first");
    let (out, events) = repo.run_json("ci", &[]);
    out.assert_code(0);
    let lines = job_lines(&events, "image").join("\n");
    assert!(
        lines.contains("as localhost/sluice-test-app:main"),
        "{lines}"
    );
    let sha = repo.git(&["rev-parse", "--short=7", "HEAD"]);
    assert!(
        lines.contains(&format!("localhost/sluice-test-app:sha-{sha}")),
        "{lines}"
    );
    let inspect = docker()
        .args([
            "run",
            "--rm",
            "localhost/sluice-test-app:main",
            "cat",
            "/flavour",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inspect.stdout).trim(), "spicy");
    let _ = docker()
        .args([
            "rmi",
            "-f",
            "localhost/sluice-test-app:main",
            &format!("localhost/sluice-test-app:sha-{sha}"),
        ])
        .output();
}

#[test]
fn a_remote_docker_action_is_fetched_from_the_git_server_built_and_run() {
    if !engine_ready() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let server = crate::git_server::GitServer::start(&scratch.path().join("srv"), &[], None);
    server.repository(
        "acme/shout",
        &[
            (
                "action.yml",
                "name: shout\ninputs:\n  word: {required: true}\nruns:\n  using: docker\n  image: Dockerfile\n  args: [\"${{ inputs.word }}\"]\n",
            ),
            (
                "Dockerfile",
                &format!("FROM {BUSYBOX}\nCOPY shout.sh /shout.sh\nENTRYPOINT [\"/bin/sh\", \"/shout.sh\"]\n"),
            ),
            ("shout.sh", "echo \"shouting $1 in a container\"\n"),
        ],
        &["v1"],
    );
    let repo = TestRepo::new();
    repo.workflow(
        "ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/shout@v1\n        with: {word: hello}\n",
    )
    .commit("first");
    let out = repo.sluice_env(
        &["run", "ci", "--json"],
        &[("SLUICE_ACTIONS_SERVER", &server.url())],
    );
    out.assert_code(0);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let lines = job_lines(&events, "a").join("\n");
    assert!(lines.contains("shouting hello in a container"), "{lines}");
    let resolved: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["type"] == "action_resolved")
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["uses"], "acme/shout@v1");
}
