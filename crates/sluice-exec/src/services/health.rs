//! Waiting for a service to be ready: its health command succeeds, or,
//! without one, its ports accept connections.
//!
//! Docker runs a probe every `interval` and declares the container
//! unhealthy after `retries` failures in a row. Sluice keeps that budget
//! but probes more often until the first success, so a service that is
//! ready after 300 ms is used after 300 ms, not after a whole interval.

use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::declaration::HealthCheck;
use crate::events::CancelLevel;
use crate::step_process::{self, Ending, ProcessSpec};

/// The quickest probing while waiting for the first success.
const FAST_PROBE: Duration = Duration::from_millis(100);
/// How long a service without a health check may take to open its ports.
const PORT_PATIENCE: Duration = Duration::from_secs(60);

/// How to tell that a service is ready.
pub(crate) enum Readiness {
    /// Run `probe` until it exits 0.
    Command {
        probe: ProcessSpec,
        check: HealthCheck,
    },
    /// Connect to each port until all accept.
    Ports(Vec<u16>),
    /// Nothing to wait for.
    Immediate,
}

/// Waits until the service is ready. `exited` reports the service's own
/// end (a server that crashed will never be ready). Returns the time taken,
/// or why the service is not ready, with the last probe's output.
pub(crate) fn wait_ready(
    readiness: &Readiness,
    exited: &mut dyn FnMut() -> Option<String>,
    cancel: &dyn Fn() -> CancelLevel,
) -> Result<Duration, String> {
    let started = Instant::now();
    let (patience, pause) = match readiness {
        Readiness::Immediate => return Ok(Duration::ZERO),
        Readiness::Command { check, .. } => (check.patience(), check.interval.min(FAST_PROBE)),
        Readiness::Ports(_) => (PORT_PATIENCE, FAST_PROBE),
    };
    let deadline = later(started, patience);
    let mut last_output = String::new();
    let mut probes = 0u32;
    loop {
        if cancel() != CancelLevel::None {
            return Err("cancelled while waiting for the service".into());
        }
        if let Some(how) = exited() {
            return Err(format!("the service exited before it was ready ({how})"));
        }
        probes += 1;
        let ready = match readiness {
            Readiness::Command { probe, check } => {
                let (ok, output) = run_probe(probe, check.timeout, cancel);
                last_output = output;
                ok
            }
            Readiness::Ports(ports) => ports.iter().all(|port| {
                TcpStream::connect_timeout(
                    &std::net::SocketAddr::from(([127, 0, 0, 1], *port)),
                    Duration::from_secs(1),
                )
                .is_ok()
            }),
            Readiness::Immediate => true,
        };
        if ready {
            return Ok(started.elapsed());
        }
        if Instant::now() >= deadline {
            let what = match readiness {
                Readiness::Command { check, .. } => format!(
                    "the health check `{}` did not succeed within {:.1} s ({probes} probes)",
                    check.cmd,
                    patience.as_secs_f64()
                ),
                _ => format!(
                    "its ports did not accept connections within {} s",
                    patience.as_secs()
                ),
            };
            return Err(if last_output.trim().is_empty() {
                what
            } else {
                format!("{what}; its last output:\n{}", last_output.trim_end())
            });
        }
        std::thread::sleep(pause);
    }
}

/// Runs one probe; (succeeded, its output).
fn run_probe(
    probe: &ProcessSpec,
    timeout: Duration,
    cancel: &dyn Fn() -> CancelLevel,
) -> (bool, String) {
    let mut output = String::new();
    let ending = step_process::run(
        probe,
        Some(later(Instant::now(), timeout)),
        cancel,
        Duration::ZERO,
        &mut |_, line, _| {
            if output.len() < 16 * 1024 {
                output.push_str(line);
                output.push('\n');
            }
        },
    );
    match ending {
        Ok(Ending::Exited(0)) => (true, output),
        Ok(Ending::Exited(code)) => (false, format!("{output}(exit code {code})")),
        Ok(Ending::TimedOut) => (
            false,
            format!("{output}(timed out after {:.1} s)", timeout.as_secs_f64()),
        ),
        Ok(other) => (false, format!("{output}({other:?})")),
        Err(e) => (false, format!("cannot run the health check: {e}")),
    }
}

/// `from + wait`, or a century from now when a workflow's numbers are too
/// large to add.
fn later(from: Instant, wait: Duration) -> Instant {
    from.checked_add(wait)
        .or_else(|| from.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(from)
}

/// A probe running `cmd` with `sh -c`.
pub(crate) fn shell_probe(
    cmd: &str,
    env: Vec<(String, String)>,
    cwd: PathBuf,
    tracking_id: String,
) -> ProcessSpec {
    ProcessSpec {
        program: PathBuf::from("/bin/sh"),
        args: vec!["-c".into(), cmd.to_string()],
        cwd,
        env,
        tracking_id,
        session_log: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cmd: &str, retries: u32) -> HealthCheck {
        HealthCheck {
            cmd: cmd.into(),
            interval: Duration::from_millis(50),
            timeout: Duration::from_millis(500),
            retries,
            start_period: Duration::ZERO,
        }
    }

    fn probe(cmd: &str) -> ProcessSpec {
        let env = vec![(
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        )];
        shell_probe(
            cmd,
            env,
            std::env::temp_dir(),
            format!("health_test_{}", crate::ids::random_hex(6)),
        )
    }

    #[test]
    fn waits_for_success_and_reports_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let flag = dir.join("flag");
        // The probe succeeds from the third call on.
        let cmd = format!("echo x >> {0}; test $(wc -l < {0}) -ge 3", flag.display());
        let readiness = Readiness::Command {
            probe: probe(&cmd),
            check: check(&cmd, 10),
        };
        let took = wait_ready(&readiness, &mut || None, &|| CancelLevel::None);
        assert!(took.is_ok(), "{took:?}");
        assert_eq!(std::fs::read_to_string(&flag).unwrap().lines().count(), 3);

        let readiness = Readiness::Command {
            probe: probe("echo not yet; exit 3"),
            check: check("echo not yet; exit 3", 2),
        };
        let error = wait_ready(&readiness, &mut || None, &|| CancelLevel::None).unwrap_err();
        assert!(error.contains("did not succeed"), "{error}");
        assert!(
            error.contains("not yet"),
            "the probe's output is shown: {error}"
        );
        assert!(error.contains("exit code 3"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_service_that_exits_is_not_waited_for() {
        let readiness = Readiness::Ports(vec![1]);
        let started = Instant::now();
        let error = wait_ready(&readiness, &mut || Some("exit code 1".into()), &|| {
            CancelLevel::None
        })
        .unwrap_err();
        assert!(error.contains("exited before it was ready"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
