//! Starting a service's process on the host: in a session of its own,
//! marked with the job's tracking id, its output in a log file, and as an
//! unprivileged user when the program refuses to run as root (PostgreSQL).

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::process_tree::TRACKING_VAR;

/// A program and its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub path: PathBuf,
    pub args: Vec<String>,
    /// Written to the program's standard input.
    pub stdin: Option<String>,
}

/// The user a service runs as, when not as Sluice's own.
#[derive(Debug, Clone)]
pub(crate) struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// How to start a service on the host.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    /// A one-line description for the log ("PostgreSQL 15 from /usr/lib/...").
    pub description: String,
    /// Run in order before the service starts (creating a database...).
    pub setup: Vec<Program>,
    pub service: Program,
    /// Added to the environment of the service and its setup.
    pub env: Vec<(String, String)>,
    pub run_as: Option<RunAs>,
    /// The probe used when the workflow gives no health check.
    pub default_health: Option<String>,
    /// Added to the environment of health probes (PGHOST, PATH...).
    pub health_env: Vec<(String, String)>,
    /// Put first on PATH for health probes.
    pub health_path: Option<PathBuf>,
    /// Adjusts a workflow's health command to the host (a port that is not
    /// the container's); `None` leaves it unchanged.
    pub adjust_health: Option<fn(&str, u16) -> String>,
    /// Warnings to show (version differences, ignored options).
    pub notices: Vec<String>,
    /// What the first setup programs produce, kept and copied instead of
    /// run again (see `data_template.rs`).
    pub template: Option<super::data_template::DataTemplate>,
}

/// The environment for a service's processes: `base`, then `extra`.
pub(crate) fn environment(
    base: &[(String, String)],
    extra: &[(String, String)],
    tracking_id: &str,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = base
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k) && k != TRACKING_VAR)
        .cloned()
        .collect();
    env.extend(extra.iter().cloned());
    env.push((TRACKING_VAR.to_string(), tracking_id.to_string()));
    env
}

fn command(
    program: &Program,
    env: &[(String, String)],
    dir: &Path,
    run_as: Option<&RunAs>,
) -> Command {
    let mut command = Command::new(&program.path);
    command
        .args(&program.args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(user) = run_as {
        // std drops root's supplementary groups when it changes the uid.
        command.uid(user.uid).gid(user.gid);
        command.env("USER", &user.name).env("LOGNAME", &user.name);
    }
    command
}

/// Runs a setup program to completion; `Err` has its output.
pub(crate) fn run_setup(
    program: &Program,
    env: &[(String, String)],
    dir: &Path,
    run_as: Option<&RunAs>,
) -> Result<(), String> {
    use std::io::Write;
    let mut command = command(program, env, dir, run_as);
    command
        .stdin(if program.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    crate::step_process::new_session(&mut command);
    let shown = format!("{} {}", program.path.display(), program.args.join(" "));
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if let (Some(text), Some(mut stdin)) = (&program.stdin, child.stdin.take()) {
        let _ = stdin.write_all(text.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("`{shown}` failed: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(format!(
        "`{shown}` failed ({}):\n{}",
        output.status,
        last_lines(&text, 20)
    ))
}

/// Starts the service itself, its output going to `log`.
pub(crate) fn spawn(
    program: &Program,
    env: &[(String, String)],
    dir: &Path,
    run_as: Option<&RunAs>,
    log: &Path,
) -> Result<Child, String> {
    let file = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let mut command = command(program, env, dir, run_as);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err));
    crate::step_process::new_session(&mut command);
    command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.path.display()))
}

/// The unprivileged user to run as when Sluice is root: `preferred` if it
/// exists, else `nobody`.
pub(crate) fn unprivileged_user(preferred: &str) -> Option<RunAs> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    [preferred, "nobody"].into_iter().find_map(|name| {
        let user = nix::unistd::User::from_name(name).ok()??;
        Some(RunAs {
            name: name.to_string(),
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        })
    })
}

/// Gives `dir` and everything below it to `user`.
pub(crate) fn hand_over(dir: &Path, user: &RunAs) -> Result<(), String> {
    let chown = |path: &Path| {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| format!("cannot give {} to {}: {e}", path.display(), user.name))
    };
    chown(dir)?;
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        chown(&entry.path())?;
    }
    Ok(())
}

/// The last `n` lines of `text`.
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
