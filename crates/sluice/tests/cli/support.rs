//! A readable builder for end-to-end tests: a throwaway git repository,
//! files in it, and `sluice` run inside it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TestRepo {
    /// Holds `repo/` (the repository) and `cache/` (Sluice's cache).
    dir: tempfile::TempDir,
    repo: PathBuf,
    /// Jobs run in the working tree (`SLUICE_IN_PLACE=1`).
    in_place: bool,
}

/// What one `sluice` invocation did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Standard output parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl TestRepo {
    /// An empty repository on branch `main` with a committer configured.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let repo_path = dir.path().join("repo");
        std::fs::create_dir_all(&repo_path).expect("repo dir");
        let repo = TestRepo {
            dir,
            repo: repo_path,
            in_place: false,
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test User"]);
        repo.git(&["config", "user.email", "test@example.invalid"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    /// A repository whose runs put jobs in the working tree itself, for
    /// tests about what jobs leave there.
    pub fn new_in_place() -> Self {
        TestRepo {
            in_place: true,
            ..TestRepo::new()
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = sluice_command(self.path(), args);
        if self.in_place {
            command.env("SLUICE_IN_PLACE", "1");
        }
        command
    }

    pub fn path(&self) -> &Path {
        &self.repo
    }

    /// A scratch directory outside the repository.
    pub fn scratch(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Writes a file (creating folders).
    pub fn file(&self, path: &str, content: &str) -> &Self {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("create dirs");
        std::fs::write(full, content).expect("write file");
        self
    }

    /// Writes `.github/workflows/<name>`.
    pub fn workflow(&self, name: &str, content: &str) -> &Self {
        self.file(&format!(".github/workflows/{name}"), content)
    }

    /// Commits everything.
    pub fn commit(&self, message: &str) -> &Self {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `sluice` with `args` in the repository.
    pub fn sluice(&self, args: &[&str]) -> Outcome {
        finish(self.command(args).output().expect("sluice runs"))
    }

    /// Runs `sluice` with extra environment variables.
    pub fn sluice_env(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        finish(command.output().expect("sluice runs"))
    }

    /// Starts `sluice` without waiting (for signal tests).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sluice starts")
    }

    /// `sluice run --json` events of a run of `workflow`.
    pub fn run_json(&self, workflow: &str, extra: &[&str]) -> (Outcome, Vec<serde_json::Value>) {
        let mut args = vec!["run", workflow, "--json"];
        args.extend_from_slice(extra);
        let out = self.sluice(&args);
        let events = out
            .stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l:?}: {e}"))
            })
            .collect();
        (out, events)
    }
}

/// Events of one type.
pub fn of_type<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// The first event of `kind` for `job`.
pub fn job_event<'a>(
    events: &'a [serde_json::Value],
    kind: &str,
    job: &str,
) -> &'a serde_json::Value {
    events
        .iter()
        .find(|e| e["type"] == kind && e["job"] == job)
        .unwrap_or_else(|| panic!("no {kind} event for {job} in {events:#?}"))
}

/// Log lines (stdout/stderr) of a job.
pub fn job_lines(events: &[serde_json::Value], job: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "log" && e["job"] == job && e["stream"] != "system")
        .map(|e| e["line"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A number no other test (or anything else) uses, for `sleep <marker>`.
pub fn unique_marker() -> String {
    let mut bytes = [0u8; 8];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("random bytes");
    let n = u64::from_le_bytes(bytes);
    format!("{}.{:09}", 3000 + n % 997, (n >> 20) % 1_000_000_000)
}

/// Processes whose command line has the words `sleep <marker>` in a row
/// (exact words, so one marker never matches another).
pub fn sleepers(marker: &str) -> Vec<i32> {
    live_processes(|cmdline| {
        let words: Vec<&str> = cmdline
            .split(|c: char| c == '\0' || c.is_whitespace())
            .map(|w| w.trim_matches('\''))
            .collect();
        words
            .windows(2)
            .any(|w| w[0].ends_with("sleep") && w[1] == marker)
    })
}

/// Processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<i32> {
    live_processes(|cmdline| cmdline.replace('\0', " ").contains(marker))
}

/// Processes (zombies left out) whose command line, NUL-separated,
/// satisfies `wanted`.
fn live_processes(wanted: impl Fn(&str) -> bool) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<i32>().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'));
            (!zombie && wanted(&String::from_utf8_lossy(&cmdline))).then_some(pid)
        })
        .collect()
}

/// Waits up to `seconds` for `condition`.
pub fn eventually(seconds: u64, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    condition()
}

pub fn sluice_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sluice"))
}

pub fn sluice_in(dir: &Path, args: &[&str]) -> Outcome {
    finish(sluice_command(dir, args).output().expect("sluice runs"))
}

pub fn sluice_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(sluice_bin());
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .env_remove("SLUICE_STATE_DIR")
        .env_remove("SLUICE_JOBS")
        // Never the internet: remote actions come from a loopback server
        // a test starts, or from nowhere (a closed port).
        .env("SLUICE_ACTIONS_SERVER", "http://127.0.0.1:9")
        .env("NODEJS_ORG_MIRROR", "http://127.0.0.1:9/node")
        .env("SLUICE_GO_MIRROR", "http://127.0.0.1:9/go")
        .env(
            "SLUICE_CACHE_DIR",
            dir.parent().unwrap_or(dir).join("cache"),
        );
    command
}

fn finish(out: std::process::Output) -> Outcome {
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
