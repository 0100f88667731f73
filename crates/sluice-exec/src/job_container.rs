//! `container:` jobs: the job's steps run inside a container of the image,
//! as on GitHub.
//!
//! The job gets a network of its own; its image services join it and are
//! reached by their names. The job container is started with the job's
//! workspace and the run's scratch directory (step scripts, command files,
//! `runner.temp`, the event payload) and tool cache mounted at the paths
//! the steps see, so every path in the step's environment means the same
//! inside and out; it idles until the job ends and is removed then (or by
//! the watcher, after a `kill -9` of Sluice: everything carries the run's
//! label). Each `run:` step is a `docker exec` in it, with the step's
//! environment in a private env file, the container's own `PATH` (plus
//! what `GITHUB_PATH` added), and the container's shell: `bash` when the
//! image has it, else `sh`.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use sluice_expr::Value;

use crate::engine::{Engine, EngineError, RUN_LABEL, write_env_file};
use crate::eval_host::RunHost;

/// `container:` evaluated.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ContainerSpec {
    pub image: String,
    pub env: IndexMap<String, String>,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub options: Vec<String>,
    /// `credentials: {username, password}` for the image's registry.
    pub credentials: Option<(String, String)>,
}

/// Why a container job cannot start.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ContainerError {
    #[error("container: {0}")]
    Invalid(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl ContainerSpec {
    /// `container: image` or `container: {image, env, ports, volumes,
    /// options, credentials}`, evaluated with the job's contexts.
    pub fn evaluate(
        token: &sluice_workflow::Token,
        host: &RunHost,
    ) -> Result<Self, ContainerError> {
        let value = host.evaluate(token).map_err(ContainerError::Invalid)?;
        let strings = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.to_display_string().into_owned())
                    .collect(),
                Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        let spec = match &value {
            Value::String(image) => ContainerSpec {
                image: image.clone(),
                ..ContainerSpec::default()
            },
            Value::Object(map) => {
                let field = |name: &str| map.get(name);
                let image = field("image")
                    .map(|v| v.to_display_string().into_owned())
                    .unwrap_or_default();
                let env = match field("env") {
                    Some(Value::Object(env)) => env
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_display_string().into_owned()))
                        .collect(),
                    _ => IndexMap::new(),
                };
                let options = field("options")
                    .map(|v| crate::services::split_words(&v.to_display_string()))
                    .transpose()
                    .map_err(|e| ContainerError::Invalid(format!("options: {e}")))?
                    .unwrap_or_default();
                let credentials = match field("credentials") {
                    Some(Value::Object(c)) => Some((
                        c.get("username")
                            .map(|u| u.to_display_string().into_owned())
                            .unwrap_or_default(),
                        c.get("password")
                            .map(|p| p.to_display_string().into_owned())
                            .unwrap_or_default(),
                    )),
                    _ => None,
                };
                ContainerSpec {
                    image,
                    env,
                    ports: strings(field("ports")),
                    volumes: strings(field("volumes")),
                    options,
                    credentials,
                }
            }
            other => {
                return Err(ContainerError::Invalid(format!(
                    "expected an image or a mapping with `image`, not {}",
                    other.kind_name()
                )));
            }
        };
        if spec.image.trim().is_empty() {
            return Err(ContainerError::Invalid("`image` is empty".into()));
        }
        Ok(spec)
    }
}

/// A job's container, while the job runs (its network is the job's).
#[derive(Debug)]
pub(crate) struct JobContainer {
    pub engine: Engine,
    pub id: String,
    /// The container's `PATH`, as its image sets it.
    pub path: String,
    /// Whether the image has `bash` (else steps use `sh`).
    pub has_bash: bool,
    pub has_python: bool,
}

/// Makes the job's network, labelled with the run.
pub(crate) fn create_network(engine: &Engine, run_id: &str) -> Result<String, ContainerError> {
    let name = format!("sluice-{run_id}-{}", crate::ids::random_hex(8));
    engine.run(&[
        "network".into(),
        "create".into(),
        "--label".into(),
        format!("{RUN_LABEL}={run_id}"),
        name.clone(),
    ])?;
    Ok(name)
}

impl JobContainer {
    /// Starts the job container on `network`, with `mounts` (directories
    /// mounted at their own paths) and its env in a private file in
    /// `private_dir`.
    pub fn start(
        engine: &Engine,
        spec: &ContainerSpec,
        run_id: &str,
        network: &str,
        mounts: &[&Path],
        private_dir: &Path,
    ) -> Result<JobContainer, ContainerError> {
        if let Some((user, password)) = &spec.credentials {
            login(engine, &spec.image, user, password)?;
        }
        let env_file = private_dir.join("container.env");
        write_env_file(&env_file, &spec.env)?;
        let mut args: Vec<String> = vec![
            "run".into(),
            "--detach".into(),
            "--label".into(),
            format!("{RUN_LABEL}={run_id}"),
            "--network".into(),
            network.into(),
            "--env-file".into(),
            env_file.display().to_string(),
            "--entrypoint".into(),
            "tail".into(),
        ];
        for dir in mounts {
            args.push("--volume".into());
            args.push(format!("{0}:{0}", dir.display()));
        }
        for volume in &spec.volumes {
            args.push("--volume".into());
            args.push(volume.clone());
        }
        for port in &spec.ports {
            args.push("--publish".into());
            args.push(port.clone());
        }
        args.extend(spec.options.iter().cloned());
        args.push(spec.image.clone());
        args.extend(["-f".to_string(), "/dev/null".to_string()]);
        let id = engine.run(&args)?;
        let probe = |command: &str| {
            engine.run(&[
                "exec".into(),
                id.clone(),
                "sh".into(),
                "-c".into(),
                command.into(),
            ])
        };
        let has = |program: &str| probe(&format!("command -v {program}")).is_ok();
        let container = JobContainer {
            engine: engine.clone(),
            path: probe("printf %s \"$PATH\"").unwrap_or_else(|_| {
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
            }),
            has_bash: has("bash"),
            has_python: has("python"),
            id,
        };
        Ok(container)
    }

    /// The client command that runs `program args` in the container, in
    /// `cwd`, with `env` (written to `env_file`, private).
    pub fn exec_command(
        &self,
        env: &IndexMap<String, String>,
        env_file: &Path,
        cwd: &Path,
        program: &str,
        args: &[String],
    ) -> Result<(PathBuf, Vec<String>), ContainerError> {
        write_env_file(env_file, env)?;
        let mut all = vec![
            "exec".to_string(),
            "--env-file".into(),
            env_file.display().to_string(),
            "--workdir".into(),
            cwd.display().to_string(),
            self.id.clone(),
            program.to_string(),
        ];
        all.extend(args.iter().cloned());
        Ok((self.engine.program.clone(), all))
    }
}

/// Logs in to the registry of `image` (the password on standard input,
/// never on a command line).
fn login(engine: &Engine, image: &str, user: &str, password: &str) -> Result<(), ContainerError> {
    use std::io::Write;
    let registry = image
        .split('/')
        .next()
        .filter(|first| first.contains('.') || first.contains(':') || *first == "localhost")
        .unwrap_or("docker.io");
    let mut child = engine
        .command()
        .args(["login", "--username", user, "--password-stdin", registry])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| EngineError::Spawn {
            program: engine.program.display().to_string(),
            reason: e.to_string(),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(password.as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| EngineError::Spawn {
        program: engine.program.display().to_string(),
        reason: e.to_string(),
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(EngineError::Failed {
            command: format!("login {registry}"),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        }
        .into())
    }
}
