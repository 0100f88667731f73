//! The processes a deploy leaves behind it: colours and the proxy.
//!
//! They must outlive the command (or the workflow step) that started them,
//! so each starts in a session of its own (`setsid`), with the executor's
//! tracking variable removed: a run's watcher kills what carries its
//! tracking id or shares its sessions, and a deployed app belongs to the
//! deploy state, not to the run that shipped it. A pid alone is no
//! identity (pids are reused), so each is kept with its start time.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// The variable `sluice-exec` marks a run's processes with.
const TRACKING_VAR: &str = "SLUICE_TRACKING_ID";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: u32,
    /// Clock ticks after boot (field 22 of `/proc/PID/stat`).
    pub start_ticks: Option<u64>,
}

impl ProcessId {
    pub fn of(pid: u32) -> ProcessId {
        ProcessId {
            pid,
            start_ticks: stat(pid).map(|s| s.start_ticks),
        }
    }

    /// Running, and the same process (not a reused pid, not a zombie).
    pub fn alive(&self) -> bool {
        match stat(self.pid) {
            Some(s) => {
                s.state != 'Z'
                    && (self.start_ticks.is_none() || self.start_ticks == Some(s.start_ticks))
            }
            None => false,
        }
    }

    /// Waits for it to exit on its own; false if `timeout` came first.
    pub fn wait_gone(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.alive() {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// SIGTERM to its process group (the session it leads), then SIGKILL
    /// after `grace`. Returns once it is gone.
    pub fn stop(&self, grace: Duration) {
        if !self.alive() {
            return;
        }
        let group = Pid::from_raw(self.pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let _ = kill(group, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while self.alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.alive() {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = kill(group, Signal::SIGKILL);
            while self.alive() {
                std::thread::sleep(Duration::from_millis(10));
            }
        } else {
            // The leader is gone; what it left in its group goes too.
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

struct Stat {
    state: char,
    start_ticks: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after
    // the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// What to start and with what.
pub struct Launch<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub dir: &'a Path,
    pub env: &'a BTreeMap<String, String>,
    /// Standard output and error go here (created 0600, appended).
    pub log: &'a Path,
}

/// Starts `launch` in a session of its own. The caller keeps the `Child`
/// while it waits on the process, to notice an early exit and reap it.
pub fn spawn_detached(launch: &Launch<'_>) -> std::io::Result<Child> {
    let log = open_log(launch.log)?;
    let mut command = Command::new("setsid");
    command
        .arg(launch.program)
        .args(launch.args)
        .current_dir(launch.dir)
        .env_remove(TRACKING_VAR)
        .envs(launch.env)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    command.spawn()
}

pub fn open_log(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// The last `lines` lines of a log, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}
