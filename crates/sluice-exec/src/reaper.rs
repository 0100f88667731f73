//! Orphan prevention when Sluice itself dies.
//!
//! Steps run in their own process groups, so a `kill -9` of Sluice would
//! leave them running. At the start of a run Sluice starts a small watcher
//! (`sluice __reap <prefix>`: the same binary) connected to it by a pipe.
//! The watcher does nothing until the pipe closes — which happens when
//! Sluice exits for any reason, including SIGKILL — and then terminates
//! every process whose tracking id starts with the run's prefix.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use crate::process_tree;
use crate::session_log::{self, SessionLeader};

/// Keeps the watcher's pipe open; dropping it (or dying) releases the watcher.
pub struct ReaperGuard {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

impl ReaperGuard {
    /// Starts the watcher (`exe __reap <prefix>`). A watcher that cannot be
    /// started is not fatal: runs still clean up after themselves; only the
    /// kill -9 safety net is missing.
    /// `scratch` is the run's temporary directory, removed in the sweep
    /// (it may hold scripts with secrets in them).
    pub fn start(exe: &Path, prefix: &str, scratch: &Path) -> ReaperGuard {
        use std::os::unix::process::CommandExt;
        let spawned = Command::new(exe)
            .arg("__reap")
            .arg(prefix)
            .arg(scratch)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so a Ctrl-C at the terminal does not
            // reach it before Sluice has cleaned up.
            .process_group(0)
            .env_remove(process_tree::TRACKING_VAR)
            .spawn();
        match spawned {
            Ok(mut child) => {
                let stdin = child.stdin.take();
                ReaperGuard {
                    child: Some(child),
                    stdin,
                }
            }
            Err(_) => ReaperGuard {
                child: None,
                stdin: None,
            },
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for ReaperGuard {
    fn drop(&mut self) {
        // Closing the pipe tells the watcher to sweep (nothing should be
        // left after a normal end) and exit; wait so it leaves no zombie.
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

/// The watcher's body: wait for the pipe to close, then kill the run's
/// tree and remove its scratch directory.
pub fn run_reaper(prefix: &str, scratch: Option<&Path>) {
    let mut sink = [0u8; 64];
    let mut stdin = std::io::stdin();
    loop {
        match stdin.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    // Sessions first: a process that overwrote its environment (and with
    // it its tracking id) is found only by the session it is in.
    if let Some(dir) = scratch {
        terminate_sessions(&session_log::read(dir), Duration::from_secs(2));
        // Containers and networks of container jobs and services.
        if let (Some(engine), Some(run)) = (
            crate::engine::Engine::noted_in(dir),
            prefix.strip_prefix("sluice_"),
        ) {
            engine.remove_run(run);
        }
    }
    process_tree::terminate_tree(None, prefix, Duration::from_secs(2));
    if let Some(dir) = scratch.filter(|d| d.starts_with(std::env::temp_dir())) {
        let _ = std::fs::remove_dir_all(dir);
        // The run's service directories sit beside it, named after it.
        if let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) {
            let prefix = format!(
                "{}{}",
                name.to_string_lossy(),
                crate::services::SERVICE_DIR_INFIX
            );
            for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}

/// SIGTERM to every process in the sessions, SIGKILL to what is left
/// after `grace`.
fn terminate_sessions(leaders: &[SessionLeader], grace: Duration) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let signal_all = |signal: Signal| {
        let members = session_log::members(leaders);
        for pid in &members {
            let _ = kill(Pid::from_raw(*pid), signal);
        }
        !members.is_empty()
    };
    if !signal_all(Signal::SIGTERM) {
        return;
    }
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        if session_log::members(leaders).is_empty() {
            return;
        }
    }
    signal_all(Signal::SIGKILL);
}
