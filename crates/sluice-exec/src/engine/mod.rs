//! The container engine: Docker, or anything that serves the Docker API
//! (podman's `system service`), driven through its command-line client.
//!
//! It is found through `container-engine` in sluice.toml (a socket URL
//! such as `unix:///run/podman/podman.sock`, or a client program), else
//! `DOCKER_HOST` and the default sockets the `docker` client knows, else
//! `podman` itself; the first whose `info` answers is used, once per
//! process.
//!
//! Everything a run creates carries the label `sluice.run=<run id>`, so
//! the watcher can remove what is left if Sluice is killed, and values
//! that may hold secrets are given in `--env-file`s (private files), never
//! on a command line other users can read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use indexmap::IndexMap;

use crate::shell::find_program;

/// The label on every container and network of a run.
pub const RUN_LABEL: &str = "sluice.run";
/// The file in a run's scratch directory naming the engine it used, for
/// the watcher.
pub const ENGINE_NOTE: &str = "container-engine";

/// A container engine that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    /// The client program (`docker` or `podman`).
    pub program: PathBuf,
    /// `DOCKER_HOST` for the client, when the engine is a configured socket.
    pub host: Option<String>,
}

/// Why the engine could not do something.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("cannot run {program}: {reason}")]
    Spawn { program: String, reason: String },
    #[error("`{command}` failed: {reason}")]
    Failed { command: String, reason: String },
    #[error("cannot write {}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
}

/// The engine to use: `configured` (a socket URL or a program), else the
/// first client on `path_var` whose `info` answers.
pub fn find(path_var: &str, configured: Option<&str>) -> Option<Engine> {
    static FOUND: OnceLock<Option<Engine>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let candidates: Vec<Engine> = match configured {
                Some(url) if url.contains("://") => find_program("docker", path_var)
                    .into_iter()
                    .chain(find_program("podman", path_var))
                    .map(|program| Engine {
                        program,
                        host: Some(url.to_string()),
                    })
                    .collect(),
                Some(program) => find_program(program, path_var)
                    .or_else(|| Path::new(program).is_file().then(|| PathBuf::from(program)))
                    .map(|program| Engine {
                        program,
                        host: None,
                    })
                    .into_iter()
                    .collect(),
                None => ["docker", "podman"]
                    .into_iter()
                    .filter_map(|name| find_program(name, path_var))
                    .map(|program| Engine {
                        program,
                        host: None,
                    })
                    .collect(),
            };
            candidates.into_iter().find(Engine::answers)
        })
        .clone()
}

impl Engine {
    /// A client command, pointed at the engine.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        if let Some(host) = &self.host {
            command.env("DOCKER_HOST", host);
            if self.program.ends_with("podman") {
                command.env("CONTAINER_HOST", host);
            }
        }
        command.stdin(Stdio::null());
        command
    }

    /// The environment a client process needs (for steps run through it).
    pub fn client_env(&self) -> Vec<(String, String)> {
        match &self.host {
            Some(host) => vec![
                ("DOCKER_HOST".into(), host.clone()),
                ("CONTAINER_HOST".into(), host.clone()),
            ],
            None => Vec::new(),
        }
    }

    fn answers(&self) -> bool {
        self.command()
            .args(["info", "--format", "{{.ID}}"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs the client with `args`; its standard output, trimmed.
    pub fn run(&self, args: &[String]) -> Result<String, EngineError> {
        let output = self
            .command()
            .args(args)
            .output()
            .map_err(|e| EngineError::Spawn {
                program: self.program.display().to_string(),
                reason: e.to_string(),
            })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).trim().to_string());
        }
        Err(EngineError::Failed {
            command: format!(
                "{} {}",
                self.program.display(),
                args.first().map_or("", String::as_str)
            ),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }

    /// The container's output so far.
    pub fn logs(&self, id: &str) -> String {
        self.command()
            .args(["logs", id])
            .output()
            .map(|o| {
                let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                text
            })
            .unwrap_or_default()
    }

    /// Removes a container, running or not. Killed first: a forced
    /// removal through some engines waits out the stop timeout (10 s)
    /// for processes that ignore SIGTERM (`tail -f /dev/null`, servers).
    pub fn remove(&self, id: &str) {
        for args in [&["kill", id][..], &["rm", "--force", "--volumes", id]] {
            let _ = self
                .command()
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Removes a network.
    pub fn remove_network(&self, name: &str) {
        let _ = self
            .command()
            .args(["network", "rm", name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Removes every container, then every network, labelled with `run`.
    pub fn remove_run(&self, run: &str) {
        let filter = format!("label={RUN_LABEL}={run}");
        let listed = |args: &[&str]| -> Vec<String> {
            self.command()
                .args(args)
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        for id in listed(&["ps", "--all", "--quiet", "--filter", &filter]) {
            self.remove(&id);
        }
        for name in listed(&["network", "ls", "--quiet", "--filter", &filter]) {
            self.remove_network(&name);
        }
    }

    /// Notes the engine in the run's scratch directory for the watcher.
    pub fn note_for_watcher(&self, scratch: &Path) {
        let text = format!(
            "{}\n{}\n",
            self.program.display(),
            self.host.clone().unwrap_or_default()
        );
        let _ = std::fs::write(scratch.join(ENGINE_NOTE), text);
    }

    /// The engine a run's scratch directory notes, if any.
    pub fn noted_in(scratch: &Path) -> Option<Engine> {
        let text = std::fs::read_to_string(scratch.join(ENGINE_NOTE)).ok()?;
        let mut lines = text.lines();
        let program = PathBuf::from(lines.next()?);
        let host = lines.next().filter(|h| !h.is_empty()).map(str::to_string);
        Some(Engine { program, host })
    }
}

/// Writes `env` as an env file (`KEY=value` lines, private to the user)
/// at `path`, for `--env-file`. A value with a line break cannot be
/// written so; it is left out and named in the error.
pub fn write_env_file(path: &Path, env: &IndexMap<String, String>) -> Result<(), EngineError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut text = String::new();
    let mut multi_line = Vec::new();
    for (key, value) in env {
        if value.contains('\n') || value.contains('\r') {
            multi_line.push(key.clone());
            continue;
        }
        text.push_str(key);
        text.push('=');
        text.push_str(value);
        text.push('\n');
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    file.map_err(|e| EngineError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if multi_line.is_empty() {
        Ok(())
    } else {
        Err(EngineError::File {
            path: path.to_path_buf(),
            reason: format!(
                "the values of {} span lines, which an env file cannot carry",
                multi_line.join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_are_private_and_refuse_multi_line_values() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        let mut env = IndexMap::new();
        env.insert("A".to_string(), "one two=three".to_string());
        write_env_file(&path, &env).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "A=one two=three\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        env.insert("B".to_string(), "line\nbreak".to_string());
        let error = write_env_file(&path, &env).unwrap_err().to_string();
        assert!(error.contains("B span lines"), "{error}");
    }
}
