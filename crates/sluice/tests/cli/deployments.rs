//! Deployments end to end: a real small HTTP app (Python's http.server)
//! deployed blue/green behind Sluice's proxy and behind Debian's nginx,
//! with clients holding keep-alive connections under steady load the
//! whole time.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::http_load::{Load, get};
use crate::support::{TestRepo, eventually};

/// The app's behaviour is chosen by its version's prefix: `bad` answers
/// 500 on `/` (its health and smoke paths still pass), `crash` exits at
/// once, `mute` is never healthy, `slow` takes 3 s to listen.
const APP: &str = r#"
import http.server, os, sys, time
port = int(os.environ["PORT"])
version = os.environ.get("SLUICE_VERSION", "?")
if version.startswith("crash"):
    print("crashing on purpose", flush=True)
    sys.exit(3)
if version.startswith("slow"):
    time.sleep(3)
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        code = 200
        if version.startswith("bad") and self.path == "/":
            code = 500
        if version.startswith("mute") and self.path == "/up":
            code = 503
        body = (version + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"#;

/// Alive and not a zombie (an orphan's parent may be slow to reap it).
fn running(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rfind(')')
                .map(|i| stat[i + 1..].trim_start().to_owned())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A repository with the app and `[apps.web]` listening on a free port;
/// `extra` is appended to the app's table.
fn app_repo(extra: &str) -> (TestRepo, u16) {
    let repo = TestRepo::new();
    let port = free_port();
    repo.file("app.py", APP).file(
        "sluice.toml",
        &format!(
            r#"[apps.web]
listen = "127.0.0.1:{port}"
start = "exec python3 app.py"
health = "/up"
smoke = "curl -fsS http://127.0.0.1:$PORT/ping > /dev/null"
health-interval = "50ms"
{extra}
"#
        ),
    );
    repo.commit("app");
    (repo, port)
}

struct Stopper<'a>(&'a TestRepo);

impl Drop for Stopper<'_> {
    fn drop(&mut self) {
        self.0.sluice(&["deploy", "stop", "web"]);
    }
}

fn deploy(repo: &TestRepo, version: &str) -> serde_json::Value {
    let out = repo.sluice(&["deploy", "web", "--version", version, "--json"]);
    assert!(
        out.code == 0 || out.code == 1,
        "deploy {version}: {}\n{}",
        out.code,
        out.stderr
    );
    out.json()
}

#[test]
fn ten_deploys_in_a_row_under_keep_alive_load_fail_no_request() {
    let (repo, port) =
        app_repo(r#"watch = { for = "1s", max-error-rate = 0.01, min-requests = 5 }"#);
    let _stop = Stopper(&repo);
    assert_eq!(
        deploy(&repo, "v0")["outcome"],
        "inconclusive",
        "no traffic yet"
    );
    let load = Load::start(port, 4, Duration::from_millis(2));
    for n in 1..=10 {
        let report = deploy(&repo, &format!("v{n}"));
        assert_eq!(report["outcome"], "succeeded", "v{n}: {report:#}");
        assert_eq!(report["drained"], true, "v{n}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let tally = load.finish();
    // Sluice's proxy never closes a client's connection under it.
    assert_eq!(
        tally.resent, 0,
        "requests resent on closed keep-alive connections"
    );
    assert!(
        tally.failures.is_empty(),
        "failed requests: {:?}",
        &tally.failures[..tally.failures.len().min(5)]
    );
    assert_eq!(
        tally.answers.len(),
        tally.with_status(200),
        "every answer was a 200"
    );
    for n in 1..=10 {
        assert!(tally.count(200, &format!("v{n}")) > 0, "v{n} served");
    }
    // Versions only move forward: no request reached an old colour after a
    // newer one answered on the same proxy.
    let order: Vec<u32> = tally
        .answers
        .iter()
        .map(|a| a.body[1..].parse().unwrap())
        .collect();
    let regressions = order.windows(2).filter(|w| w[1] + 1 < w[0]).count();
    assert_eq!(
        regressions, 0,
        "an old colour answered after a newer one had"
    );
    eprintln!("ten deploys: {} requests, 0 failed", tally.answers.len());
    let deploys = repo.sluice(&["deploys", "web", "--json"]).json();
    assert_eq!(deploys.as_array().unwrap().len(), 11);
}

#[test]
fn a_version_answering_500_after_the_switch_is_rolled_back_automatically() {
    let (repo, port) =
        app_repo(r#"watch = { for = "6s", max-error-rate = 0.05, min-requests = 10 }"#);
    let _stop = Stopper(&repo);
    deploy(&repo, "v1");
    let load = Load::start(port, 4, Duration::from_millis(2));
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let out = repo.sluice(&["deploy", "web", "--version", "bad2", "--json"]);
    out.assert_code(1);
    let report = out.json();
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let tally = load.finish();
    // Sluice's proxy never closes a client's connection under it.
    assert_eq!(
        tally.resent, 0,
        "requests resent on closed keep-alive connections"
    );
    assert_eq!(report["outcome"], "rolled-back", "{report:#}");
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.starts_with("error rate 100.0%"), "{reason}");
    assert!(
        took < Duration::from_secs(5),
        "the breach ended the 6 s watch early ({took:?})"
    );
    let bad = tally.count(500, "bad2");
    // Failed requests are bounded by what the watch needs to judge plus
    // what was in flight when it did.
    assert!((10..=40).contains(&bad), "{bad} requests failed");
    let first_bad = tally.answers.iter().position(|a| a.status == 500).unwrap();
    let last_bad = tally.answers.iter().rposition(|a| a.status == 500).unwrap();
    let back = tally.answers[last_bad + 1..]
        .iter()
        .all(|a| a.status == 200 && a.body == "v1");
    assert!(back, "v1 serves everything after the rollback");
    let exposure = tally.answers[last_bad].at - tally.answers[first_bad].at;
    let restore = report["breach_to_restore_ms"].as_u64().unwrap();
    assert!(restore < 2000, "breach to restore {restore} ms");
    eprintln!(
        "rollback: {bad} failed requests over {} ms; breach seen to old version back: {restore} ms",
        exposure.as_millis()
    );
    assert!(tally.failures.is_empty(), "{:?}", tally.failures);
    assert_eq!(get(port), Some((200, "v1".to_string())));
    let dora = repo.sluice(&["dora", "--app", "web", "--json"]).json();
    assert_eq!(dora["deployments"], 2);
    assert_eq!(dora["failed_changes"], 1);
    assert_eq!(dora["change_failure_rate"], 0.5);
    assert!(dora["time_to_restore_median_ms"].as_u64().is_some());
    assert!(dora["lead_time_median_ms"].as_u64().is_some(), "{dora:#}");
}

#[test]
fn deploys_that_cannot_become_healthy_leave_the_old_version_serving() {
    let (repo, port) = app_repo(
        r#"deploy-timeout = "2s"
watch = { for = "200ms", min-requests = 1 }"#,
    );
    let _stop = Stopper(&repo);
    deploy(&repo, "v1");

    let crashed = repo.sluice(&["deploy", "web", "--version", "crash2"]);
    crashed.assert_code(1);
    assert!(
        crashed.stdout.contains("web crash2: failed"),
        "{}",
        crashed.stdout
    );
    assert!(
        crashed
            .stdout
            .contains("the start command exited (exit status: 3)"),
        "{}",
        crashed.stdout
    );
    assert!(
        crashed.stdout.contains("crashing on purpose"),
        "its last lines: {}",
        crashed.stdout
    );
    assert_eq!(get(port), Some((200, "v1".to_string())));

    let mute = repo.sluice(&["deploy", "web", "--version", "mute3"]);
    mute.assert_code(1);
    assert!(
        mute.stdout
            .contains("not healthy within the deploy timeout (2s): GET /up on port"),
        "{}",
        mute.stdout
    );
    assert!(mute.stdout.contains("answered 503"), "{}", mute.stdout);
    assert_eq!(get(port), Some((200, "v1".to_string())));

    let odd = repo.sluice(&["deploy", "web", "--version", "has space"]);
    odd.assert_code(2);
    assert!(
        odd.stderr.contains("--version \"has space\""),
        "{}",
        odd.stderr
    );

    let unknown = repo.sluice(&["deploy", "api"]);
    unknown.assert_code(2);
    assert!(
        unknown
            .stderr
            .contains("no app named \"api\" in sluice.toml"),
        "{}",
        unknown.stderr
    );

    let state = repo.sluice(&["deploy", "status", "web", "--json"]).json();
    let live = state["web"]["live"].as_str().unwrap();
    assert_eq!(state["web"][live]["version"], "v1");
    let idle = if live == "blue" { "green" } else { "blue" };
    assert!(
        state["web"][idle].is_null(),
        "the failed colours were stopped: {state:#}"
    );
}

#[test]
fn a_listen_address_already_taken_is_named() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap();
    let repo = TestRepo::new();
    repo.file("app.py", APP).file(
        "sluice.toml",
        &format!(
            "[apps.web]\nlisten = \"{taken}\"\nstart = \"exec python3 app.py\"\nhealth = \"/up\"\n"
        ),
    );
    repo.commit("app");
    let out = repo.sluice(&["deploy", "web", "--version", "v1"]);
    out.assert_code(2);
    assert!(
        out.stderr.contains(&format!(
            "web: {taken} is already in use by another program"
        )),
        "{}",
        out.stderr
    );
    let bad = TestRepo::new();
    bad.file(
        "sluice.toml",
        "[apps.web]\nlisten = \"localhost\"\nstart = \"true\"\n",
    );
    let out = bad.sluice(&["deploy", "web"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("[apps.web] listen = \"localhost\": an address and port"),
        "{}",
        out.stderr
    );
}

#[test]
fn two_deploys_of_one_app_at_once_never_interleave() {
    let (repo, _port) = app_repo(r#"watch = { for = "500ms", min-requests = 1 }"#);
    let _stop = Stopper(&repo);
    deploy(&repo, "v1");
    let first = repo.spawn(&["deploy", "web", "--version", "v2", "--json"]);
    std::thread::sleep(Duration::from_millis(150));
    let second = repo.spawn(&["deploy", "web", "--version", "v3", "--json"]);
    let first = first.wait_with_output().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(first.status.success() && second.status.success());
    let waited = String::from_utf8_lossy(&second.stderr);
    assert!(
        waited.contains("another deploy of web is under way; waiting for it"),
        "{waited}"
    );
    let deploys = repo.sluice(&["deploys", "web", "--json"]).json();
    let deploys = deploys.as_array().unwrap();
    let (v3, v2) = (&deploys[0], &deploys[1]);
    assert_eq!(
        (v3["version"].as_str(), v2["version"].as_str()),
        (Some("v3"), Some("v2"))
    );
    assert!(
        v2["finished_at"].as_u64() <= v3["started_at"].as_u64(),
        "one after the other: {deploys:#?}"
    );
    assert_eq!(v3["previous_version"], "v2");
}

#[test]
fn a_deploy_killed_mid_way_is_settled_by_the_next_command() {
    let (repo, port) = app_repo(r#"watch = { for = "200ms", min-requests = 1 }"#);
    let _stop = Stopper(&repo);
    deploy(&repo, "v1");
    let mut slow = repo.spawn(&["deploy", "web", "--version", "slow2"]);
    let state_file = repo.path().join(".sluice/state/deploy/web/state.json");
    assert!(eventually(10, || std::fs::read_to_string(&state_file)
        .is_ok_and(|s| s.contains("\"slow2\""))));
    let pid_of_slow = || {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
        ["blue", "green"]
            .iter()
            .find(|c| state[*c]["version"] == "slow2")
            .map(|c| state[*c]["process"]["pid"].as_u64().unwrap())
    };
    assert!(eventually(10, || pid_of_slow().is_some()));
    let colour_pid = pid_of_slow().unwrap();
    slow.kill().unwrap();
    slow.wait().unwrap();
    assert!(
        running(colour_pid),
        "the colour outlived the killed command"
    );
    assert_eq!(get(port), Some((200, "v1".to_string())), "v1 serves on");

    let next = repo.sluice(&["deploy", "web", "--version", "v3"]);
    next.assert_code(0);
    assert!(
        next.stderr
            .contains("an interrupted deploy of slow2 never took traffic: stopped it"),
        "{}",
        next.stderr
    );
    assert!(eventually(5, || !running(colour_pid)));
    assert_eq!(get(port), Some((200, "v3".to_string())));
}

#[test]
fn rollback_by_hand_counts_as_a_failed_change_and_stop_frees_everything() {
    let (repo, port) = app_repo(r#"watch = { for = "200ms", min-requests = 1 }"#);
    deploy(&repo, "v1");
    deploy(&repo, "v2");
    assert_eq!(get(port), Some((200, "v2".to_string())));
    let back = repo.sluice(&["rollback", "web", "--json"]);
    back.assert_code(0);
    assert_eq!(back.json()["version"], "v1");
    assert_eq!(back.json()["kind"], "rollback");
    assert_eq!(get(port), Some((200, "v1".to_string())));
    let nothing = repo.sluice(&["rollback", "web", "--to", "v9"]);
    nothing.assert_code(2);
    assert!(
        nothing
            .stderr
            .contains("v9 is not one of the versions kept: v1"),
        "{}",
        nothing.stderr
    );

    let deploys = repo.sluice(&["deploys", "web", "--json"]).json();
    let outcomes: Vec<&str> = deploys
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["succeeded", "rolled-back-by-hand", "inconclusive"]
    );
    let dora = repo.sluice(&["dora", "--json"]).json();
    assert_eq!(dora["failed_changes"], 1, "{dora:#}");
    let listing = repo.sluice(&["deploys"]);
    assert!(
        listing.stdout.contains("rolled-back-by-hand"),
        "{}",
        listing.stdout
    );
    let text = repo.sluice(&["dora", "--app", "web"]);
    assert!(
        text.stdout
            .contains("change failure rate     50.0% (1 of 2 rolled back)"),
        "{}",
        text.stdout
    );

    let state = repo.sluice(&["deploy", "status", "web", "--json"]).json();
    let pid = state["web"][state["web"]["live"].as_str().unwrap()]["process"]["pid"]
        .as_u64()
        .unwrap();
    repo.sluice(&["deploy", "stop", "web"]).assert_code(0);
    assert!(get(port).is_none(), "the proxy is gone");
    assert!(!running(pid), "the app is gone");
    assert!(
        repo.sluice(&["deploy", "status", "web"])
            .stdout
            .contains("web: not deployed")
    );
}

#[test]
fn a_workflow_step_deploys_an_app_that_outlives_its_job() {
    // The app runs from a directory of its own (absolute: a job works in
    // its own copy of the repository, reused by later jobs).
    let outside = tempfile::tempdir().unwrap();
    let release = outside.path().join("release");
    let (repo, port) = app_repo(&format!(
        "dir = \"{}\"\nwatch = {{ for = \"200ms\", min-requests = 1 }}",
        release.display()
    ));
    let _stop = Stopper(&repo);
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(release.join("app.py"), APP).unwrap();
    repo.workflow(
        "ship.yml",
        "on: push\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: sluice/deploy@v1\n        with:\n          app: web\n          version: w${{ github.run_number }}\n",
    );
    repo.commit("workflow");
    let out = repo.sluice(&["run"]);
    out.assert_code(0);
    assert_eq!(get(port), Some((200, "w1".to_string())), "{}", out.stderr);
    let deploys = repo.sluice(&["deploys", "--json"]).json();
    assert_eq!(deploys[0]["version"], "w1");
    assert!(deploys[0]["run_id"].as_i64().is_some(), "{deploys:#}");
}

/// Debian's nginx, if installed; under CI its absence is a failure.
fn nginx() -> Option<std::path::PathBuf> {
    let found = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "nginx is required under CI (.ci/run installs it) but is missing"
        );
        eprintln!("\n*** SKIPPED: nginx is not installed on this machine ***\n");
    }
    found
}

/// nginx, unprivileged, on a free port, in the foreground as our child.
struct Nginx {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    fn start(binary: &std::path::Path, dir: &std::path::Path) -> Nginx {
        let port = free_port();
        for sub in ["logs", "temp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // Before the first deploy the upstream leads nowhere (502).
        std::fs::write(
            dir.join("upstream.conf"),
            "upstream sluice_web { server 127.0.0.1:9; }\n",
        )
        .unwrap();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  client_body_temp_path {d}/temp/body;\n  proxy_temp_path {d}/temp/proxy;\n\
               fastcgi_temp_path {d}/temp/fastcgi;\n  uwsgi_temp_path {d}/temp/uwsgi;\n  scgi_temp_path {d}/temp/scgi;\n\
               log_format sluice '$upstream_addr $status $upstream_response_time';\n\
               include {d}/upstream.conf;\n\
               server {{\n    listen 127.0.0.1:{port};\n    access_log {d}/logs/access.log sluice;\n\
                 location / {{ proxy_pass http://sluice_web; proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n  }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = std::process::Command::new(binary)
            .args(["-e", "stderr", "-p"])
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        assert!(
            eventually(10, || get(port).is_some()),
            "nginx answers on {port}"
        );
        Nginx {
            child,
            port,
            dir: dir.to_owned(),
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers too (SIGKILL would orphan
        // them).
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if !eventually(5, || matches!(self.child.try_wait(), Ok(Some(_)))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[test]
fn nginx_as_the_router_switches_without_dropping_keep_alive_requests_and_rolls_back() {
    let Some(binary) = nginx() else { return };
    let place = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(&binary, place.path());
    let d = nginx.dir.display();
    let (repo, _) = app_repo(&format!(
        r#"router = "nginx"
watch = {{ for = "1500ms", max-error-rate = 0.05, min-requests = 10 }}

[apps.web.nginx]
upstream-file = "{d}/upstream.conf"
pid-file = "{d}/nginx.pid"
config = "{d}/nginx.conf"
prefix = "{d}"
binary = "{binary}"
access-log = "{d}/logs/access.log"
"#,
        binary = binary.display()
    ));
    let _stop = Stopper(&repo);
    deploy(&repo, "v1");
    assert_eq!(get(nginx.port), Some((200, "v1".to_string())));
    let load = Load::start(nginx.port, 4, Duration::from_millis(2));
    for n in 2..=4 {
        let report = deploy(&repo, &format!("v{n}"));
        assert_eq!(report["outcome"], "succeeded", "v{n}: {report:#}");
        assert_eq!(
            report["drained"],
            true,
            "nginx's old workers exited before v{} stopped",
            n - 1
        );
    }
    let out = repo.sluice(&["deploy", "web", "--version", "bad5", "--json"]);
    out.assert_code(1);
    let report = out.json();
    assert_eq!(report["outcome"], "rolled-back", "{report:#}");
    std::thread::sleep(Duration::from_millis(300));
    let tally = load.finish();
    eprintln!(
        "nginx: {} requests resent on keep-alive connections its old workers closed",
        tally.resent
    );
    assert!(
        tally.failures.is_empty(),
        "failed requests: {:?}",
        &tally.failures[..tally.failures.len().min(5)]
    );
    for n in 2..=4 {
        assert!(
            tally.count(200, &format!("v{n}")) > 0,
            "v{n} served through nginx"
        );
    }
    let bad = tally.count(500, "bad5");
    assert!((10..=60).contains(&bad), "{bad} requests answered 500");
    assert_eq!(
        tally.answers.len(),
        tally.with_status(200) + bad,
        "nothing else failed"
    );
    eprintln!(
        "nginx: {} requests, {bad} answered 500 by bad5 before the rollback ({} ms after the breach)",
        tally.answers.len(),
        report["breach_to_restore_ms"]
    );
    assert_eq!(get(nginx.port), Some((200, "v4".to_string())));
    let upstream = std::fs::read_to_string(nginx.dir.join("upstream.conf")).unwrap();
    assert!(upstream.contains("upstream sluice_web"), "{upstream}");

    // A configuration nginx refuses is put back, and nothing switches.
    std::fs::write(
        nginx.dir.join("nginx.conf.bak"),
        std::fs::read(nginx.dir.join("nginx.conf")).unwrap(),
    )
    .unwrap();
    let conf = std::fs::read_to_string(nginx.dir.join("nginx.conf")).unwrap();
    std::fs::write(
        nginx.dir.join("nginx.conf"),
        conf.replace("worker_connections 512;", "worker_connections 512; bogus;"),
    )
    .unwrap();
    let refused = repo.sluice(&["deploy", "web", "--version", "v6"]);
    refused.assert_code(1);
    assert!(
        refused.stdout.contains("web v6: failed")
            && refused
                .stdout
                .contains("the switch failed, the old version serves on: web: nginx: nginx -t refused the configuration"),
        "{}",
        refused.stdout
    );
    assert_eq!(
        std::fs::read_to_string(nginx.dir.join("upstream.conf")).unwrap(),
        upstream
    );
    std::fs::rename(
        nginx.dir.join("nginx.conf.bak"),
        nginx.dir.join("nginx.conf"),
    )
    .unwrap();
    assert_eq!(get(nginx.port), Some((200, "v4".to_string())));
    // The refused deploy left nothing to settle: v4 is live, v6 stopped.
    let state = repo.sluice(&["deploy", "status", "web", "--json"]).json();
    let live = state["web"]["live"].as_str().unwrap();
    assert_eq!(state["web"][live]["version"], "v4", "{state:#}");
    let next = repo.sluice(&["deploy", "web", "--version", "v7"]);
    assert!(!next.stderr.contains("interrupted"), "{}", next.stderr);
    assert_eq!(get(nginx.port), Some((200, "v7".to_string())));
}

/// Processes whose environment says they are `version` of the test app.
fn app_processes(version: &str) -> Vec<u64> {
    let wanted = format!("SLUICE_VERSION={version}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u64>().ok())
        .filter(|pid| running(*pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == wanted.as_bytes()))
        })
        .collect()
}

#[test]
fn a_failing_check_command_votes_the_new_version_out() {
    // No `exec`: the app is the shell's child, and stopping the colour
    // must stop it too.
    let (repo, port) = app_repo(
        r#"check = "curl -fsS http://127.0.0.1:$PORT/ > /dev/null && test \"$SLUICE_VERSION\" != vote2"
watch = { for = "3s", min-requests = 1000 }"#,
    );
    let toml = std::fs::read_to_string(repo.path().join("sluice.toml")).unwrap();
    std::fs::write(
        repo.path().join("sluice.toml"),
        toml.replace("exec python3 app.py", "python3 app.py; true"),
    )
    .unwrap();
    let _stop = Stopper(&repo);
    assert_eq!(
        deploy(&repo, "vote1")["outcome"],
        "inconclusive",
        "v1's checks pass; no traffic"
    );
    let out = repo.sluice(&["deploy", "web", "--version", "vote2", "--json"]);
    out.assert_code(1);
    let report = out.json();
    assert_eq!(report["outcome"], "rolled-back", "{report:#}");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .starts_with("the check command failed: exit status: 1"),
        "{report:#}"
    );
    assert_eq!(get(port), Some((200, "vote1".to_string())));
    assert!(
        eventually(5, || app_processes("vote2").is_empty()),
        "vote2's python outlived its shell: {:?}",
        app_processes("vote2")
    );
    assert!(!app_processes("vote1").is_empty());
}
