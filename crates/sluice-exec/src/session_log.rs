//! The sessions a run started, written down for the watcher.
//!
//! Steps and services start in sessions of their own, and their
//! processes are found again by the tracking id in their environment.
//! Some programs overwrite their environment (Redis rewrites its process
//! title over it), so after a `kill -9` of Sluice the watcher could not
//! find them by that id. Each session leader is therefore noted in the
//! run's private scratch directory, with its start time, and the watcher
//! also stops every process still in one of those sessions.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::process_tree;

/// The file in the scratch directory.
const FILE_NAME: &str = "sessions";

/// A session leader: its pid and when it started (in clock ticks since
/// boot), so a pid reused later is not mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLeader {
    pub pid: i32,
    pub started: u64,
}

/// Where the sessions of a run are noted.
pub fn path(scratch: &Path) -> PathBuf {
    scratch.join(FILE_NAME)
}

/// Notes `pid` (just started, in a new session) for the watcher. Best
/// effort: without it only the tracking id finds the session's processes.
pub fn record(scratch: &Path, pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    let Some(started) = process_tree::start_time(pid) else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path(scratch));
    if let Ok(mut file) = file {
        // One short write per line: appends from several threads do not
        // interleave.
        let _ = file.write_all(format!("{pid} {started}\n").as_bytes());
    }
}

/// The leaders noted in `scratch` (lines that do not parse are skipped).
pub fn read(scratch: &Path) -> Vec<SessionLeader> {
    let text = std::fs::read_to_string(path(scratch)).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (pid, started) = line.split_once(' ')?;
            Some(SessionLeader {
                pid: pid.parse().ok()?,
                started: started.parse().ok()?,
            })
        })
        .collect()
}

/// Live processes in any of `leaders`' sessions that started no earlier
/// than their leader. A leader whose pid now belongs to another process
/// (one that started at another time) is skipped: its pid was reused, and
/// the kernel reuses a session leader's pid only once nothing is left in
/// its session.
pub fn members(leaders: &[SessionLeader]) -> Vec<i32> {
    let leaders: Vec<SessionLeader> = leaders
        .iter()
        .filter(|leader| {
            process_tree::start_time(leader.pid).is_none_or(|started| started == leader.started)
        })
        .copied()
        .collect();
    if leaders.is_empty() {
        return Vec::new();
    }
    process_tree::all_processes()
        .into_iter()
        .filter(|pid| {
            process_tree::session_and_start(*pid).is_some_and(|(session, started)| {
                leaders
                    .iter()
                    .any(|leader| leader.pid == session && started >= leader.started)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    #[test]
    fn a_process_that_wipes_its_environment_is_still_found_by_its_session() {
        let scratch = tempfile::tempdir().unwrap();
        // `env -i` stands in for a program that overwrites its environment:
        // the sleeper carries no tracking id at all.
        let mut command = Command::new("sh");
        command.args(["-c", "env -i sleep 30 & wait"]);
        crate::step_process::new_session(&mut command);
        let mut leader = command.spawn().unwrap();
        record(scratch.path(), leader.id());
        let leaders = read(scratch.path());
        assert_eq!(leaders.len(), 1);
        assert_eq!(leaders[0].pid, leader.id() as i32);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut found = members(&leaders);
        while found.len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            found = members(&leaders);
        }
        assert_eq!(found.len(), 2, "the shell and its sleeper: {found:?}");
        for pid in &found {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = leader.wait();
        // A leader noted as starting later than the process with its pid
        // did is another process: nothing of it is a member.
        let reused = [SessionLeader {
            pid: std::process::id() as i32,
            started: u64::MAX,
        }];
        assert!(members(&reused).is_empty());
    }
}
