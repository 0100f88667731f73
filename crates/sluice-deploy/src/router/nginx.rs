//! nginx as the router (`router = "nginx"`): the user runs nginx with a
//! configuration that includes the upstream file; Sluice rewrites that
//! file atomically, has `nginx -t` validate it, and signals the master to
//! reload.
//!
//! A reload returns at once, while the old workers go on serving the
//! requests and keep-alive connections they hold, with the old upstream.
//! So the old colour is drained only when those workers have exited;
//! stopping it earlier drops requests.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::Router;
use super::nginx_log::AccessLog;
use crate::colour::Colour;
use crate::error::DeployError;
use crate::spec::NginxSpec;
use crate::state::{AppState, Route, write_atomically};
use crate::stats::Traffic;

pub struct Nginx {
    app: String,
    spec: NginxSpec,
    /// Workers that served before the last switch, still finishing.
    retiring: BTreeSet<u32>,
    access_log: Option<AccessLog>,
}

impl Nginx {
    pub fn new(app: &str, spec: NginxSpec) -> Self {
        let access_log = spec.access_log.clone().map(AccessLog::from_end);
        Nginx {
            app: app.to_owned(),
            spec,
            retiring: BTreeSet::new(),
            access_log,
        }
    }

    fn fail(&self, detail: String) -> DeployError {
        DeployError::Nginx {
            app: self.app.clone(),
            detail,
        }
    }

    fn master(&self) -> Result<u32, DeployError> {
        let path = &self.spec.pid_file;
        let text = std::fs::read_to_string(path).map_err(|e| {
            self.fail(format!(
                "is it running? cannot read its pid file {}: {e}",
                path.display()
            ))
        })?;
        let pid: u32 = text.trim().parse().map_err(|_| {
            self.fail(format!(
                "{} holds {:?}, not a pid",
                path.display(),
                text.trim()
            ))
        })?;
        if kill(Pid::from_raw(pid as i32), None).is_err() {
            return Err(self.fail(format!(
                "its master (pid {pid}, from {}) is not running",
                path.display()
            )));
        }
        Ok(pid)
    }

    fn upstream_text(&self, route: Route) -> String {
        format!(
            "# Written by `sluice deploy {app}`: {colour} is live. Do not edit; it is replaced whole.\n\
             upstream {name} {{\n    server 127.0.0.1:{port};\n    keepalive 32;\n}}\n",
            app = self.app,
            colour = route.colour,
            name = self.spec.upstream_name,
            port = route.port,
        )
    }

    fn test_configuration(&self) -> Result<(), DeployError> {
        let mut command = Command::new(&self.spec.binary);
        command.arg("-t").arg("-q");
        if let Some(config) = &self.spec.config {
            command.arg("-c").arg(config);
        }
        if let Some(prefix) = &self.spec.prefix {
            command.arg("-p").arg(prefix);
        }
        let output = command
            .output()
            .map_err(|e| self.fail(format!("cannot run {} -t: {e}", self.spec.binary)))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(self.fail(format!(
                "nginx -t refused the configuration: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }

    /// Waits until the master runs workers none of which served before
    /// the reload: the new configuration is in force.
    fn wait_for_new_workers(&self, master: u32, old: &BTreeSet<u32>) -> Result<(), DeployError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = children_of(master);
            if now.iter().any(|pid| !old.contains(pid)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.fail("no new workers within 10 s of the reload".to_owned()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Router for Nginx {
    fn ensure_running(&mut self, _state: &mut AppState) -> Result<(), DeployError> {
        self.master().map(drop)
    }

    fn switch(&mut self, route: Route) -> Result<(), DeployError> {
        let master = self.master()?;
        let path = &self.spec.upstream_file;
        let previous = std::fs::read(path).ok();
        write_atomically(path, self.upstream_text(route).as_bytes())?;
        if let Err(refused) = self.test_configuration() {
            match previous {
                Some(previous) => write_atomically(path, &previous)?,
                None => {
                    let _ = std::fs::remove_file(path);
                }
            }
            return Err(refused);
        }
        let old = children_of(master);
        kill(Pid::from_raw(master as i32), Signal::SIGHUP).map_err(|e| {
            self.fail(format!(
                "cannot signal its master (pid {master}) to reload: {e}"
            ))
        })?;
        self.wait_for_new_workers(master, &old)?;
        self.retiring.extend(old);
        Ok(())
    }

    fn reassert(&mut self, route: Route) -> Result<(), DeployError> {
        // A reload only if the file says otherwise: each one cycles nginx's
        // workers.
        let wanted = self.upstream_text(route);
        if std::fs::read_to_string(&self.spec.upstream_file)
            .ok()
            .as_deref()
            == Some(wanted.as_str())
        {
            return Ok(());
        }
        self.switch(route)
    }

    fn traffic(&mut self, _colour: Colour, port: u16) -> Result<Traffic, DeployError> {
        let Some(log) = &mut self.access_log else {
            return Ok(Traffic::default());
        };
        log.traffic(port).map_err(|e| DeployError::Nginx {
            app: self.app.clone(),
            detail: format!("cannot read the access log: {e}"),
        })
    }

    fn wait_drained(&mut self, _port: u16, timeout: Duration) -> Result<bool, DeployError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.retiring.retain(|pid| worker_alive(*pid));
            if self.retiring.is_empty() {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn shut_down(&mut self, _state: &mut AppState) -> Result<(), DeployError> {
        // nginx is the user's: it keeps running.
        Ok(())
    }
}

/// The pids whose parent is `parent` (nginx's workers and cache helpers).
fn children_of(parent: u32) -> BTreeSet<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn worker_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|text| {
            text.rfind(')')
                .map(|i| text[i + 1..].trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}
