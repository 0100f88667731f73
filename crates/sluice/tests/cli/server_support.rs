//! A real `sluice serve` on a loopback port for end-to-end tests, driven
//! only through HTTP and git: an `origin` bare repository, a working
//! clone to push from, and the server's own clone.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{eventually, sluice_command};

pub const SECRET: &str = "webhook-secret-for-tests";

pub struct Served {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    /// Every line the server wrote to standard error so far.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

impl Served {
    /// The repositories, with `files` committed and pushed to `main`;
    /// the server is not started yet.
    pub fn new(files: &[(&str, &str)]) -> Served {
        let dir = tempfile::tempdir().expect("temporary directory");
        let served = Served {
            dir,
            child: None,
            port: 0,
            stderr: Default::default(),
        };
        git(
            served.root(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        git(served.root(), &["clone", "-q", "origin.git", "work"]);
        for (key, value) in [
            ("user.name", "Pusher"),
            ("user.email", "pusher@example.invalid"),
            ("commit.gpgsign", "false"),
        ] {
            git(&served.work(), &["config", key, value]);
        }
        served.commit(files, "first");
        git(&served.work(), &["push", "-q", "origin", "HEAD:main"]);
        git(served.root(), &["clone", "-q", "origin.git", "server"]);
        served
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn work(&self) -> PathBuf {
        self.root().join("work")
    }

    pub fn server_repo(&self) -> PathBuf {
        self.root().join("server")
    }

    pub fn origin(&self) -> PathBuf {
        self.root().join("origin.git")
    }

    /// Writes `sluice.toml` into the server's clone (not committed).
    pub fn configure(&self, toml: &str) -> &Self {
        std::fs::write(self.server_repo().join("sluice.toml"), toml).expect("write sluice.toml");
        self
    }

    /// Starts `sluice serve` and waits until it listens.
    pub fn start(&mut self, env: &[(&str, &str)]) -> &mut Self {
        let mut command =
            sluice_command(&self.server_repo(), &["serve", "--listen", "127.0.0.1:0"]);
        command
            .env("SLUICE_WEBHOOK_SECRET", SECRET)
            .env("SLUICE_CACHE_DIR", self.root().join("cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("sluice serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server says where it listens");
        let address = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        self.port = address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        let stderr = child.stderr.take().expect("stderr");
        let collected = std::sync::Arc::clone(&self.stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut all = collected.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        self.child = Some(child);
        self
    }

    pub fn server_stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Writes `files` in the working clone and commits them.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let full = self.work().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("dirs");
            std::fs::write(full, content).expect("write");
        }
        git(&self.work(), &["add", "-A"]);
        git(
            &self.work(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(&self.work(), &["rev-parse", "HEAD"])
    }

    /// Commits `files`, pushes `main` to origin, and returns (before, after).
    pub fn push(&self, files: &[(&str, &str)], message: &str) -> (String, String) {
        let before = git(&self.work(), &["rev-parse", "HEAD"]);
        let after = self.commit(files, message);
        git(&self.work(), &["push", "-q", "origin", "HEAD:main"]);
        (before, after)
    }

    /// A signed GitHub webhook delivery.
    pub fn webhook(&self, event: &str, payload: &serde_json::Value) -> Response {
        let body = payload.to_string();
        let signature = sluice_signature(SECRET, body.as_bytes());
        self.request(
            "POST",
            "/hooks/github",
            &[
                ("X-GitHub-Event", event),
                ("X-Hub-Signature-256", &signature),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    /// GitHub's push delivery for a push of `main` from `before` to `after`.
    pub fn push_hook(&self, before: &str, after: &str) -> Response {
        self.webhook(
            "push",
            &serde_json::json!({
                "ref": "refs/heads/main", "before": before, "after": after,
                "pusher": {"name": "pusher"}, "sender": {"login": "pusher"},
            }),
        )
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.request("GET", path, &headers, b"")
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &serde_json::Value) -> Response {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        headers.extend(auth.iter().map(|a| ("Authorization", a.as_str())));
        self.request("POST", path, &headers, body.to_string().as_bytes())
    }

    /// One HTTP/1.1 request, read to the end.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send");
        // A server refusing a large body may close before reading it all.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_response(&raw)
    }

    /// A token made with `sluice token create` in the server's clone.
    pub fn token(&self, name: &str) -> String {
        let out = crate::support::sluice_in(&self.server_repo(), &["token", "create", name]);
        out.assert_code(0);
        out.stdout.trim().to_string()
    }

    /// [`Served::wait_for`] on a server whose reads are public.
    pub fn wait_for_public(&self, number: u64, statuses: &[&str]) -> serde_json::Value {
        self.wait_for_with(number, None, statuses)
    }

    /// Waits for run `number` to reach one of `statuses`; its JSON.
    pub fn wait_for(&self, number: u64, token: &str, statuses: &[&str]) -> serde_json::Value {
        self.wait_for_with(number, Some(token), statuses)
    }

    fn wait_for_with(
        &self,
        number: u64,
        token: Option<&str>,
        statuses: &[&str],
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        let reached = eventually(90, || {
            let response = self.get(&format!("/api/v1/runs/{number}"), token);
            if response.status != 200 {
                return false;
            }
            last = response.json();
            statuses.iter().any(|s| last["status"] == *s)
        });
        assert!(
            reached,
            "run #{number} did not reach {statuses:?}: {last:#}\nserver:\n{}",
            self.server_stderr()
        );
        last
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let ended = eventually(20, || matches!(child.try_wait(), Ok(Some(_))));
            if !ended {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Response {
        status,
        headers: head.to_string(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            out.push_str(rest.get(..size.min(rest.len())).unwrap_or(""));
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// `sha256=` and the HMAC-SHA256 of `body`, as GitHub signs (computed
/// here with openssl-free code: the server crate's own is under test).
pub fn sluice_signature(secret: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret.as_bytes());
    let inner: Vec<u8> = key.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = key.iter().map(|b| b ^ 0x5c).collect();
    let inner_hash = Sha256::new()
        .chain_update(&inner)
        .chain_update(body)
        .finalize();
    let mac = Sha256::new()
        .chain_update(&outer)
        .chain_update(inner_hash)
        .finalize();
    format!(
        "sha256={}",
        mac.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
