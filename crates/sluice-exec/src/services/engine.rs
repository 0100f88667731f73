//! Services whose image Sluice cannot run with host binaries go to a
//! container engine (docker or podman) when one is running.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use indexmap::IndexMap;

use super::declaration::Source;
use super::ports::Assigned;
use super::words::split_words;
use crate::shell::find_program;

/// A container engine that answered.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    pub program: PathBuf,
}

/// The first of docker and podman on PATH whose `info` succeeds (asked
/// once per process: it does not change during a run).
pub(crate) fn find(path_var: &str) -> Option<Engine> {
    static FOUND: OnceLock<Option<Engine>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            ["docker", "podman"].into_iter().find_map(|name| {
                let program = find_program(name, path_var)?;
                let answered = Command::new(&program)
                    .args(["info", "--format", "{{.ID}}"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                answered.then_some(Engine { program })
            })
        })
        .clone()
}

impl Engine {
    /// Starts the container detached; returns its id.
    pub fn start(
        &self,
        container_name: &str,
        source: &Source,
        env: &IndexMap<String, String>,
        ports: &Assigned,
    ) -> Result<String, String> {
        let args = run_arguments(container_name, source, env, ports)?;
        let output = Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        if !output.status.success() {
            return Err(format!(
                "`{} run` failed: {}",
                self.program.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// The arguments that run `cmd` inside the container, for probes.
    pub fn exec_arguments(&self, id: &str, cmd: &str) -> Vec<String> {
        vec![
            "exec".into(),
            id.into(),
            "sh".into(),
            "-c".into(),
            cmd.into(),
        ]
    }

    /// The container's output so far.
    pub fn logs(&self, id: &str) -> String {
        Command::new(&self.program)
            .args(["logs", id])
            .stdin(Stdio::null())
            .output()
            .map(|o| {
                let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                text
            })
            .unwrap_or_default()
    }

    /// Removes the container, running or not.
    pub fn remove(&self, id: &str) {
        let _ = Command::new(&self.program)
            .args(["rm", "--force", "--volumes", id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `run` arguments for a service: published ports on loopback, env, the
/// workflow's options, entrypoint, image and command.
fn run_arguments(
    container_name: &str,
    source: &Source,
    env: &IndexMap<String, String>,
    ports: &Assigned,
) -> Result<Vec<String>, String> {
    let Source::Image {
        image,
        options,
        command,
        entrypoint,
    } = source
    else {
        return Err("only image services run in a container engine".into());
    };
    let mut args = vec![
        "run".to_string(),
        "--detach".to_string(),
        "--name".to_string(),
        container_name.to_string(),
        "--label".to_string(),
        "sluice.service=true".to_string(),
    ];
    for (container, host) in &ports.pairs {
        args.push("--publish".into());
        args.push(format!("127.0.0.1:{host}:{container}"));
    }
    for (key, value) in env {
        args.push("--env".into());
        args.push(format!("{key}={value}"));
    }
    args.extend(options.iter().cloned());
    if let Some(entrypoint) = entrypoint.as_ref().filter(|e| !e.is_empty()) {
        args.push("--entrypoint".into());
        args.push(entrypoint.clone());
    }
    args.push(image.clone());
    if let Some(command) = command {
        args.extend(split_words(command).map_err(|e| format!("command: {e}"))?);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_arguments_publish_on_loopback() {
        let source = Source::Image {
            image: "mysql:8".into(),
            options: vec!["--tmpfs".into(), "/var/lib/mysql".into()],
            command: Some("--default-authentication-plugin=mysql_native_password".into()),
            entrypoint: None,
        };
        let mut env = IndexMap::new();
        env.insert("MYSQL_ROOT_PASSWORD".to_string(), "pw".to_string());
        let ports = Assigned {
            pairs: vec![(3306, 33060)],
            moved: Vec::new(),
        };
        let args = run_arguments("sluice-x-db", &source, &env, &ports).unwrap();
        let joined = args.join(" ");
        assert!(
            joined.contains("--publish 127.0.0.1:33060:3306"),
            "{joined}"
        );
        assert!(joined.contains("--env MYSQL_ROOT_PASSWORD=pw"), "{joined}");
        assert!(
            joined.ends_with("--tmpfs /var/lib/mysql mysql:8 --default-authentication-plugin=mysql_native_password"),
            "{joined}"
        );
    }
}
