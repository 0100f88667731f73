//! The processes a deploy leaves behind it: colours and the proxy.
//!
//! They must outlive the command (or the workflow step) that started them,
//! so each starts in a session of its own (`setsid`) with a clean
//! environment (`KEPT_VARIABLES`): a run's watcher kills what carries its
//! tracking id or shares its sessions, a deployed app belongs to the
//! deploy state, not to the run that shipped it, and it must not keep the
//! job's secrets. A pid alone is no
//! identity (pids are reused), so each is kept with its start time.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// What a deployed process keeps of the environment of the command that
/// started it: what programs need to run, nothing of the job. A step's
/// environment holds its secrets, tokens and run directories, and a
/// process that outlives the job would keep them readable in
/// /proc/PID/environ. The app's own `env` is given on top.
const KEPT_VARIABLES: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ"];

fn kept_environment() -> impl Iterator<Item = (String, String)> {
    std::env::vars()
        .filter(|(name, _)| KEPT_VARIABLES.contains(&name.as_str()) || name.starts_with("LC_"))
}

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
    /// after `grace`. Returns once the group is empty. The whole group,
    /// even when its leader is gone: `sh -c "npm start"` leaves the
    /// server a child of a shell that may exit first.
    pub fn stop(&self, grace: Duration) {
        if !self.alive() && !self.group_alive() {
            return;
        }
        let group = Pid::from_raw(self.pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while self.group_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.group_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether any process is still in the group this one leads (a group
    /// id is not reused while the group has members). Zombies count as
    /// gone: they hold no port and no file.
    fn group_alive(&self) -> bool {
        if killpg(Pid::from_raw(self.pid as i32), None).is_err() {
            return false;
        }
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return true;
        };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(stat)
            .any(|s| s.group == self.pid && s.state != 'Z')
    }
}

struct Stat {
    state: char,
    group: u32,
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
        group: fields.get(2)?.parse().ok()?,
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
        .env_clear()
        .envs(kept_environment())
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
