//! The app's own commands (smoke, check, stop): `sh -c` in the app's
//! directory with its colour's variables, within a time limit, their
//! output kept for the message if they fail.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

pub fn start(command: &str, dir: &Path, env: &BTreeMap<String, String>) -> std::io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
}

/// Runs `command` to its end, or kills it at `timeout`.
pub fn run(
    command: &str,
    dir: &Path,
    env: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<(), CommandFailure> {
    let child = start(command, dir, env).map_err(|e| CommandFailure {
        detail: format!("cannot start sh: {e}"),
    })?;
    finish(child, timeout)
}

/// Waits for a started command; its output is read as it runs so a
/// chatty command never blocks on a full pipe.
pub fn finish(mut child: Child, timeout: Duration) -> Result<(), CommandFailure> {
    let output = collect_output(&mut child);
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() > deadline {
            ProcessId::of(child.id()).stop(Duration::from_secs(1));
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = output.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(CommandFailure {
            detail: format!("{status}{}", tail(&text)),
        }),
        None => Err(CommandFailure {
            detail: format!("still running after {timeout:?}, killed{}", tail(&text)),
        }),
    }
}

fn collect_output(child: &mut Child) -> std::thread::JoinHandle<String> {
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

fn read_all(pipe: Option<impl Read>) -> Vec<u8> {
    let mut text = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.read_to_end(&mut text);
    }
    text
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
