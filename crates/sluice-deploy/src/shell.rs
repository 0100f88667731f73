//! The app's own commands (smoke, check, stop): `sh -c` in the app's
//! directory with its colour's variables, within a time limit, their
//! output read as they run (a chatty command never blocks on a full pipe)
//! and kept for the message if they fail.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::process::ProcessId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub detail: String,
}

impl std::fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// A command under way.
pub struct Running {
    child: Child,
    output: Option<JoinHandle<String>>,
    deadline: Instant,
    limit: Duration,
}

pub fn spawn(
    command: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
    limit: Duration,
) -> Result<Running, CommandFailure> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| CommandFailure {
            detail: format!("cannot start sh in {}: {e}", dir.display()),
        })?;
    let output = Some(collect_output(&mut child));
    Ok(Running {
        child,
        output,
        deadline: Instant::now() + limit,
        limit,
    })
}

/// Runs `command` to its end, or kills it at `limit`.
pub fn run(
    command: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
    limit: Duration,
) -> Result<(), CommandFailure> {
    let mut running = spawn(command, dir, env, limit)?;
    loop {
        if let Some(result) = running.poll() {
            return result;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Running {
    /// `None` while it runs within its limit; its result once it ended
    /// (or was killed for running too long).
    pub fn poll(&mut self) -> Option<Result<(), CommandFailure>> {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => Some(status),
            Ok(None) if Instant::now() < self.deadline => return None,
            _ => {
                self.kill();
                None
            }
        };
        let text = self
            .output
            .take()
            .and_then(|o| o.join().ok())
            .unwrap_or_default();
        Some(match status {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(CommandFailure {
                detail: format!("{status}{}", tail(&text)),
            }),
            None => Err(CommandFailure {
                detail: format!(
                    "still running after {:?}, killed{}",
                    self.limit,
                    tail(&text)
                ),
            }),
        })
    }

    fn kill(&mut self) {
        ProcessId::of(self.child.id()).stop(Duration::from_millis(200));
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

fn collect_output(child: &mut Child) -> JoinHandle<String> {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    // Each pipe on its own thread: a command filling one while we wait on
    // the other would never finish.
    let errors = std::thread::spawn(move || read_all(stderr));
    std::thread::spawn(move || {
        let mut text = read_all(stdout);
        text.extend(errors.join().unwrap_or_default());
        String::from_utf8_lossy(&text).into_owned()
    })
}

/// At most the last 64 KiB of a pipe: enough for a message, bounded
/// whatever the command prints.
fn read_all(pipe: Option<impl Read>) -> Vec<u8> {
    const KEEP: usize = 64 * 1024;
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else { return kept };
    let mut buffer = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buffer) {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buffer[..n]);
        if kept.len() > 2 * KEEP {
            kept.drain(..kept.len() - KEEP);
        }
    }
    kept
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = &lines[lines.len().saturating_sub(5)..];
    if last.is_empty() {
        String::new()
    } else {
        format!(": {}", last.join(" | "))
    }
}
