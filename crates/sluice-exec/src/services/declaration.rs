//! A job's `services:` entry, evaluated: what to start, on which ports,
//! with which environment, and how to tell that it is ready.

use std::time::Duration;

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::{Service, Token};

use super::words::split_words;
use crate::eval_host::RunHost;

/// One service, with its expressions evaluated.
#[derive(Debug, Clone)]
pub(crate) struct Declaration {
    pub name: String,
    pub source: Source,
    pub env: IndexMap<String, String>,
    pub ports: Vec<PortRequest>,
    pub health: Option<HealthCheck>,
}

#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Sluice's native form: a command run on the host.
    Native { run: String },
    /// GitHub's form: a container image, with Docker's `options`.
    Image {
        image: String,
        /// `options:` split into words, without the health options
        /// (those are in [`Declaration::health`]).
        options: Vec<String>,
        command: Option<String>,
        entrypoint: Option<String>,
    },
}

/// One entry of `ports:`: `6379`, `'5432:5432'`, `'127.0.0.1:8080:80/tcp'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    /// The host port the workflow asks for, if any.
    pub host: Option<u16>,
    /// The port the service listens on in its own world (the container's).
    pub container: u16,
}

/// Docker's health check: probes `cmd` every `interval`; the service is
/// unhealthy once `retries` probes in a row failed after `start_period`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub cmd: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

impl HealthCheck {
    /// Docker's defaults, for the fields a workflow leaves out.
    fn with_cmd(cmd: String) -> Self {
        HealthCheck {
            cmd,
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            retries: 3,
            start_period: Duration::ZERO,
        }
    }

    /// How long the service may take to become healthy before it counts as
    /// unhealthy: the start period plus `retries` probes that each ran into
    /// their timeout, an interval apart.
    pub(crate) fn patience(&self) -> Duration {
        // Saturating: `retries: 4000000000` waits long, it does not overflow.
        self.interval
            .saturating_add(self.timeout)
            .checked_mul(self.retries.max(1))
            .unwrap_or(Duration::MAX)
            .saturating_add(self.start_period)
    }
}

impl Declaration {
    /// Evaluates `service` with the job's contexts.
    pub fn evaluate(service: &Service, host: &RunHost) -> Result<Declaration, String> {
        let name = &service.name;
        let text = |token: &Option<Token>, key: &str| -> Result<Option<String>, String> {
            token
                .as_ref()
                .map(|t| host.string(t))
                .transpose()
                .map_err(|e| format!("services.{name}.{key}: {e}"))
        };
        let mut env = IndexMap::new();
        if let Some(token) = &service.env {
            for (key, value) in crate::job::evaluate_env(host, token)
                .map_err(|e| format!("services.{name}.env: {e}"))?
            {
                env.insert(key, value);
            }
        }
        let mut ports = Vec::new();
        for token in &service.ports {
            let value = host
                .string(token)
                .map_err(|e| format!("services.{name}.ports: {e}"))?;
            ports.push(parse_port(&value).map_err(|e| format!("services.{name}.ports: {e}"))?);
        }
        let mut health = match &service.healthcheck {
            Some(token) => Some(
                native_health(
                    &host
                        .evaluate(token)
                        .map_err(|e| format!("services.{name}.healthcheck: {e}"))?,
                )
                .map_err(|e| format!("services.{name}.healthcheck: {e}"))?,
            ),
            None => None,
        };
        let source = match (text(&service.run, "run")?, text(&service.image, "image")?) {
            (Some(run), _) => Source::Native { run },
            (None, Some(image)) if !image.trim().is_empty() => {
                let options = text(&service.options, "options")?.unwrap_or_default();
                let (options, from_options) =
                    docker_health(&options).map_err(|e| format!("services.{name}.options: {e}"))?;
                if health.is_none() {
                    health = from_options;
                }
                Source::Image {
                    image: image.trim().to_string(),
                    options,
                    command: text(&service.command, "command")?,
                    entrypoint: text(&service.entrypoint, "entrypoint")?,
                }
            }
            _ => {
                return Err(format!(
                    "service '{name}' has neither `image:` nor `run:`; give it one"
                ));
            }
        };
        Ok(Declaration {
            name: name.clone(),
            source,
            env,
            ports,
            health,
        })
    }
}

/// Reads a `ports:` entry.
pub fn parse_port(text: &str) -> Result<PortRequest, String> {
    let spec = text.trim();
    let spec = spec
        .strip_suffix("/tcp")
        .or_else(|| spec.strip_suffix("/TCP"))
        .unwrap_or(spec);
    if spec.ends_with("/udp") || spec.ends_with("/sctp") {
        return Err(format!("'{text}': only TCP ports can be mapped"));
    }
    let number = |part: &str| -> Result<u16, String> {
        part.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{text}' is not a port mapping such as 5432 or '5432:5432'"))
    };
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [container] => Ok(PortRequest {
            host: None,
            container: number(container)?,
        }),
        [host, container] | [_, host, container] => Ok(PortRequest {
            host: if host.is_empty() {
                None
            } else {
                Some(number(host)?)
            },
            container: number(container)?,
        }),
        _ => Err(format!(
            "'{text}' is not a port mapping such as 5432 or '5432:5432'"
        )),
    }
}

/// Reads Sluice's `healthcheck:`: a command, or `{cmd, interval, timeout,
/// retries, start-period}`.
fn native_health(value: &Value) -> Result<HealthCheck, String> {
    match value {
        Value::String(cmd) => Ok(HealthCheck::with_cmd(cmd.clone())),
        Value::Object(fields) => {
            let field = |key: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.to_display_string().into_owned())
            };
            let cmd = field("cmd").ok_or("`cmd` is required")?;
            let mut check = HealthCheck::with_cmd(cmd);
            apply_duration(&mut check.interval, field("interval"), "interval")?;
            apply_duration(&mut check.timeout, field("timeout"), "timeout")?;
            apply_duration(
                &mut check.start_period,
                field("start-period"),
                "start-period",
            )?;
            if let Some(retries) = field("retries") {
                check.retries = retries
                    .parse()
                    .map_err(|_| format!("retries: '{retries}' is not a whole number"))?;
            }
            Ok(check)
        }
        other => Err(format!(
            "expected a command or a mapping, not {}",
            other.kind_name()
        )),
    }
}

fn apply_duration(slot: &mut Duration, text: Option<String>, key: &str) -> Result<(), String> {
    if let Some(text) = text {
        *slot = sluice_workflow::parse_duration(&text).ok_or_else(|| {
            format!("{key}: '{text}' is not a duration such as 500ms, 2s or 1m30s")
        })?;
    }
    Ok(())
}

/// Takes Docker's `--health-*` options out of an `options:` string.
/// Returns the remaining options and the health check, if one was given.
pub fn docker_health(options: &str) -> Result<(Vec<String>, Option<HealthCheck>), String> {
    let words = split_words(options)?;
    let mut rest = Vec::new();
    let mut cmd = None;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut iter = words.into_iter();
    while let Some(word) = iter.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (word.clone(), None),
        };
        let known = [
            "--health-cmd",
            "--health-interval",
            "--health-timeout",
            "--health-retries",
            "--health-start-period",
            "--health-start-interval",
        ];
        if !known.contains(&flag.as_str()) {
            rest.push(word);
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => iter.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        if flag == "--health-cmd" {
            cmd = Some(value);
        } else {
            fields.push((flag, value));
        }
    }
    let Some(cmd) = cmd else {
        return Ok((rest, None));
    };
    let mut check = HealthCheck::with_cmd(cmd);
    for (flag, value) in fields {
        match flag.as_str() {
            "--health-interval" => apply_duration(&mut check.interval, Some(value), &flag)?,
            "--health-timeout" => apply_duration(&mut check.timeout, Some(value), &flag)?,
            "--health-start-period" => apply_duration(&mut check.start_period, Some(value), &flag)?,
            "--health-retries" => {
                check.retries = value
                    .parse()
                    .map_err(|_| format!("{flag}: '{value}' is not a whole number"))?
            }
            // Sluice probes often until the first success anyway.
            _ => {}
        }
    }
    Ok((rest, Some(check)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_mappings() {
        let p = |host, container| PortRequest { host, container };
        assert_eq!(parse_port("6379").unwrap(), p(None, 6379));
        assert_eq!(parse_port("5432:5432").unwrap(), p(Some(5432), 5432));
        assert_eq!(
            parse_port("127.0.0.1:8080:80/tcp").unwrap(),
            p(Some(8080), 80)
        );
        assert_eq!(parse_port(":80").unwrap(), p(None, 80));
        assert!(parse_port("53/udp").unwrap_err().contains("TCP"));
        assert!(parse_port("abc").unwrap_err().contains("'abc'"));
        assert!(parse_port("0").is_err());
        assert!(parse_port("70000").is_err());
    }

    #[test]
    fn docker_health_options() {
        let (rest, check) = docker_health(
            "--health-cmd pg_isready --health-interval 10s --health-timeout=5s --health-retries 5 --shm-size 1g",
        )
        .unwrap();
        assert_eq!(rest, ["--shm-size", "1g"]);
        let check = check.unwrap();
        assert_eq!(check.cmd, "pg_isready");
        assert_eq!(check.interval, Duration::from_secs(10));
        assert_eq!(check.timeout, Duration::from_secs(5));
        assert_eq!(check.retries, 5);
        let (_, check) = docker_health(r#"--health-cmd "redis-cli ping""#).unwrap();
        assert_eq!(check.unwrap().cmd, "redis-cli ping");
        assert!(docker_health("--health-retries x --health-cmd a").is_err());
        assert!(docker_health("--health-cmd").is_err());
        assert_eq!(docker_health("").unwrap(), (vec![], None));
    }

    #[test]
    fn huge_numbers_saturate_instead_of_overflowing() {
        let check = HealthCheck {
            cmd: "true".into(),
            interval: Duration::MAX,
            timeout: Duration::from_secs(1),
            retries: u32::MAX,
            start_period: Duration::MAX,
        };
        assert_eq!(check.patience(), Duration::MAX);
        assert!(docker_health("--health-cmd x --health-interval 1e300").is_err());
    }

    #[test]
    fn native_health_forms() {
        let check = native_health(&Value::String("redis-cli ping".into())).unwrap();
        assert_eq!(check.retries, 3);
        let mut fields = IndexMap::new();
        fields.insert("cmd".into(), Value::String("true".into()));
        fields.insert("interval".into(), Value::String("1s".into()));
        fields.insert("retries".into(), Value::Number(30.0));
        let check = native_health(&Value::Object(fields.clone())).unwrap();
        assert_eq!(check.interval, Duration::from_secs(1));
        assert_eq!(check.retries, 30);
        fields.insert("timeout".into(), Value::String("soon".into()));
        assert!(
            native_health(&Value::Object(fields))
                .unwrap_err()
                .contains("soon")
        );
    }
}
