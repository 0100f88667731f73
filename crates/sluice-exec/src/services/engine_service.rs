//! Services whose image Sluice cannot run with host binaries go to the
//! container engine ([`crate::engine`]) when one is running: the
//! arguments that start one.

use indexmap::IndexMap;

use super::declaration::Source;
use super::ports::Assigned;
use super::words::split_words;
use crate::engine::{Engine, RUN_LABEL, write_env_file};

/// Where a service container joins the job's network (a container job):
/// the network, and the service's name as its host name there.
pub(crate) struct JobNetwork<'a> {
    pub network: &'a str,
    pub alias: &'a str,
}

/// Starts a service container detached; returns its id. Its env goes in
/// a private env file in `dir` (it may hold passwords).
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_service(
    engine: &Engine,
    container_name: &str,
    source: &Source,
    env: &IndexMap<String, String>,
    ports: &Assigned,
    dir: &std::path::Path,
    run_label: &str,
    network: Option<JobNetwork>,
) -> Result<String, String> {
    let env_file = dir.join("service.env");
    write_env_file(&env_file, env).map_err(|e| e.to_string())?;
    let mut args = run_arguments(container_name, source, &env_file, ports, run_label)?;
    if let Some(network) = network {
        // Before the image: `run [options] image [command]`.
        let at = args.len() - trailing_len(source)?;
        args.splice(
            at..at,
            [
                "--network".to_string(),
                network.network.to_string(),
                "--network-alias".to_string(),
                network.alias.to_string(),
            ],
        );
    }
    engine.run(&args).map_err(|e| e.to_string())
}

/// The arguments that run `cmd` inside a container, for probes.
pub(crate) fn exec_arguments(id: &str, cmd: &str) -> Vec<String> {
    vec![
        "exec".into(),
        id.into(),
        "sh".into(),
        "-c".into(),
        cmd.into(),
    ]
}

/// How many arguments at the end are the image and its command.
fn trailing_len(source: &Source) -> Result<usize, String> {
    let Source::Image { command, .. } = source else {
        return Err("only image services run in a container engine".into());
    };
    let words = match command {
        Some(command) => split_words(command)
            .map_err(|e| format!("command: {e}"))?
            .len(),
        None => 0,
    };
    Ok(1 + words)
}

/// `run` arguments for a service: published ports on loopback, the env
/// file, the workflow's options, entrypoint, image and command.
fn run_arguments(
    container_name: &str,
    source: &Source,
    env_file: &std::path::Path,
    ports: &Assigned,
    run_label: &str,
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
        "--label".to_string(),
        format!("{RUN_LABEL}={run_label}"),
        "--env-file".to_string(),
        env_file.display().to_string(),
    ];
    for (container, host) in &ports.pairs {
        args.push("--publish".into());
        args.push(format!("127.0.0.1:{host}:{container}"));
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
        let ports = Assigned {
            pairs: vec![(3306, 33060)],
            moved: Vec::new(),
        };
        let env_file = std::path::Path::new("/scratch/service.env");
        let args = run_arguments("sluice-x-db", &source, env_file, &ports, "42").unwrap();
        let joined = args.join(" ");
        assert!(
            joined.contains("--publish 127.0.0.1:33060:3306"),
            "{joined}"
        );
        // Passwords go in a file, never on the command line.
        assert!(
            joined.contains("--env-file /scratch/service.env"),
            "{joined}"
        );
        assert!(joined.contains("--label sluice.run=42"), "{joined}");
        assert!(
            joined.ends_with("--tmpfs /var/lib/mysql mysql:8 --default-authentication-plugin=mysql_native_password"),
            "{joined}"
        );
    }
}
