//! Sluice's own proxy as the router, steered through its control socket.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use super::{ProxyLauncher, Router};
use crate::colour::Colour;
use crate::control::{self, Request};
use crate::error::DeployError;
use crate::process::{self, Launch, ProcessId};
use crate::spec::AppSpec;
use crate::state::{AppDir, AppState, Route};
use crate::stats::Traffic;

pub struct Builtin {
    app: String,
    listen: SocketAddr,
    dir: AppDir,
    launcher: ProxyLauncher,
}

impl Builtin {
    pub fn new(spec: &AppSpec, dir: AppDir, launcher: ProxyLauncher) -> Self {
        Builtin {
            app: spec.name.clone(),
            listen: spec.listen,
            dir,
            launcher,
        }
    }

    fn ask(&self, request: &Request) -> Result<control::Answer, DeployError> {
        control::ask(&self.dir.socket(), request).map_err(|e| DeployError::Control {
            app: self.app.clone(),
            detail: e.to_string(),
        })
    }

    fn start_proxy(&self) -> Result<ProcessId, DeployError> {
        // Tell a taken address apart from a proxy that fails for another
        // reason; the proxy binds it again a moment later.
        if let Err(e) = TcpListener::bind(self.listen) {
            return Err(if e.kind() == std::io::ErrorKind::AddrInUse {
                DeployError::ListenTaken {
                    app: self.app.clone(),
                    listen: self.listen.to_string(),
                }
            } else {
                DeployError::io("listen on", self.listen.to_string(), e)
            });
        }
        let log = self.dir.proxy_log();
        let mut child = process::spawn_detached(&Launch {
            program: &self.launcher.program.to_string_lossy(),
            args: &self.launcher.args,
            dir: &self.dir.dir,
            env: &Default::default(),
            log: &log,
        })
        .map_err(|source| DeployError::Spawn {
            app: self.app.clone(),
            what: "the proxy".to_owned(),
            source,
        })?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(answer) = control::ask(&self.dir.socket(), &Request::Ping) {
                return Ok(ProcessId::of(answer.pid.unwrap_or(child.id())));
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(DeployError::Proxy {
                    app: self.app.clone(),
                    detail: format!("it exited ({status}): {}", process::log_tail(&log, 5)),
                });
            }
            if Instant::now() > deadline {
                return Err(DeployError::Proxy {
                    app: self.app.clone(),
                    detail: format!("no answer within 10 s; see {}", log.display()),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Router for Builtin {
    fn ensure_running(&mut self, state: &mut AppState) -> Result<(), DeployError> {
        // Whatever answers on the app's control socket is its proxy, even
        // one a killed command started but never wrote down: adopted, not
        // taken for a stranger holding the address. A busy proxy gets a
        // few tries before it is taken for dead (stopping it drops every
        // connection it holds).
        for attempt in 0..3 {
            if let Ok(answer) = self.ask(&Request::Ping) {
                if let Some(pid) = answer.pid {
                    state.proxy = Some(ProcessId::of(pid));
                }
                return Ok(());
            }
            if attempt < 2 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if let Some(stale) = state.proxy.take() {
            stale.stop(Duration::from_secs(2));
        }
        state.proxy = Some(self.start_proxy()?);
        Ok(())
    }

    fn switch(&mut self, route: Route) -> Result<(), DeployError> {
        // The file first: a proxy that restarts reads it.
        self.dir.write_route(&route)?;
        self.ask(&Request::Route {
            colour: route.colour,
            port: route.port,
        })
        .map(drop)
    }

    fn reassert(&mut self, route: Route) -> Result<(), DeployError> {
        // Cheap and idempotent: the file and the proxy may disagree if a
        // command died between writing one and telling the other.
        self.switch(route)
    }

    fn traffic(&mut self, colour: Colour, _port: u16) -> Result<Traffic, DeployError> {
        Ok(self.ask(&Request::Stats)?.traffic(colour))
    }

    fn wait_drained(&mut self, port: u16, timeout: Duration) -> Result<bool, DeployError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.ask(&Request::Drained { port })?.drained == Some(true) {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn shut_down(&mut self, state: &mut AppState) -> Result<(), DeployError> {
        if let Some(proxy) = state.proxy.take() {
            // It finishes what is under way (up to 5 s) and exits.
            let asked = self.ask(&Request::Shutdown).is_ok();
            if !(asked && proxy.wait_gone(Duration::from_secs(6))) {
                proxy.stop(Duration::from_secs(1));
            }
        }
        let _ = std::fs::remove_file(self.dir.route_file());
        Ok(())
    }
}
