//! Finding and killing every process a step or job started.
//!
//! A step runs in its own process group, but processes can leave the group
//! (`setsid`, daemons that double-fork). Each process Sluice starts gets a
//! tracking id in its environment (`SLUICE_TRACKING_ID`), which children
//! inherit, so the whole tree can be found by scanning `/proc` — the same
//! idea GitHub's runner uses to clean up orphans. Killing by process group
//! and by tracking id together leaves nothing behind.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// The environment variable that marks processes as belonging to a run.
pub const TRACKING_VAR: &str = "SLUICE_TRACKING_ID";

/// Processes whose `SLUICE_TRACKING_ID` starts with `prefix`, except this
/// process and its parent.
pub fn tracked_processes(prefix: &str) -> Vec<i32> {
    let own = std::process::id() as i32;
    let parent = std::os::unix::process::parent_id() as i32;
    let name = format!("{TRACKING_VAR}=");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == own || pid == parent {
            continue;
        }
        // Unreadable environ: another user's process, or already gone.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        // The value is a `:`-separated list when runs are nested.
        let matches = environ
            .split(|b| *b == 0)
            .filter_map(|var| var.strip_prefix(name.as_bytes()))
            .any(|value| {
                value
                    .split(|b| *b == b':')
                    .any(|id| id.starts_with(prefix.as_bytes()))
            });
        if matches {
            found.push(pid);
        }
    }
    found
}

/// Sends `signal` to a process group and to every tracked process.
pub fn signal_tree(pgid: Option<i32>, prefix: &str, signal: Signal) {
    if let Some(pgid) = pgid {
        let _ = killpg(Pid::from_raw(pgid), signal);
    }
    for pid in tracked_processes(prefix) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// True while any process of the tree is still alive (zombies count as dead).
pub fn tree_alive(pgid: Option<i32>, prefix: &str) -> bool {
    let group_alive =
        pgid.is_some_and(|g| killpg(Pid::from_raw(g), None).is_ok() && group_has_live_member(g));
    group_alive || tracked_processes(prefix).iter().any(|&pid| !is_zombie(pid))
}

fn group_has_live_member(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            return false;
        };
        stat_fields(pid).is_some_and(|(state, group)| group == pgid && state != 'Z')
    })
}

fn is_zombie(pid: i32) -> bool {
    stat_fields(pid).is_none_or(|(state, _)| state == 'Z' || state == 'X')
}

/// (state, process group) from `/proc/<pid>/stat`.
fn stat_fields(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = positional_stat_fields(&stat)?;
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// The fields of a `/proc/<pid>/stat` line from the third (the state) on.
/// The command name before them is in parentheses and may contain spaces
/// and parentheses, so the fields start after the last `)`.
fn positional_stat_fields(stat: &str) -> Option<std::str::Split<'_, char>> {
    Some(stat.get(stat.rfind(')')? + 2..)?.split(' '))
}

/// A live (not zombie) process's session id and start time (clock ticks
/// since boot).
pub fn session_and_start(pid: i32) -> Option<(i32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = positional_stat_fields(&stat)?.collect();
    // From the state (field 3): session is field 6, starttime field 22.
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    Some((fields.get(3)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// When a process started (clock ticks since boot).
pub fn start_time(pid: i32) -> Option<u64> {
    session_and_start(pid).map(|(_, started)| started)
}

/// Every process id in `/proc`.
pub fn all_processes() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}

/// Stops a tree: SIGTERM, then SIGKILL for whatever is left after `grace`.
/// With a zero grace, SIGKILL at once. Returns when nothing is left or
/// after the kill (a process stuck in the kernel cannot be waited for).
pub fn terminate_tree(pgid: Option<i32>, prefix: &str, grace: Duration) {
    if !grace.is_zero() {
        signal_tree(pgid, prefix, Signal::SIGTERM);
        // SIGCONT so stopped processes can act on the SIGTERM.
        signal_tree(pgid, prefix, Signal::SIGCONT);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !tree_alive(pgid, prefix) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    for _ in 0..3 {
        signal_tree(pgid, prefix, Signal::SIGKILL);
        std::thread::sleep(Duration::from_millis(20));
        if !tree_alive(pgid, prefix) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    #[test]
    fn kills_a_detached_grandchild_by_tracking_id() {
        let id = format!("test_{}_{}", std::process::id(), crate::ids::random_hex(8));
        // The shell starts a sleeper in a new session (out of the group),
        // then exits; only the tracking id can find the sleeper.
        let mut child = Command::new("sh")
            .args(["-c", "setsid sleep 30 & echo started"])
            .env(TRACKING_VAR, &id)
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("sh runs");
        child.wait().expect("sh exits");
        let deadline = Instant::now() + Duration::from_secs(5);
        while tracked_processes(&id).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // (`setsid` may still be a process of its own for a moment.)
        assert!(
            !tracked_processes(&id).is_empty(),
            "the detached sleeper is found"
        );
        // Under load the detached child may still be between fork and exec
        // when first seen: sweep until the tree is gone (as the job sweep
        // and the watcher do), within a generous limit.
        let deadline = Instant::now() + Duration::from_secs(10);
        while tree_alive(None, &id) && Instant::now() < deadline {
            terminate_tree(None, &id, Duration::from_millis(200));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !tree_alive(None, &id),
            "nothing of the tree survives: {:?}",
            tracked_processes(&id)
        );
    }
}
