//! What sends users' traffic to a colour: Sluice's own proxy, or an nginx
//! the user runs. A deploy only asks a router to switch, to count traffic
//! per colour and to tell when an old colour is drained.

mod builtin;
mod nginx;
pub(crate) mod nginx_log;

use std::path::PathBuf;
use std::time::Duration;

use crate::colour::Colour;
use crate::error::DeployError;
use crate::spec::{AppSpec, RouterSpec};
use crate::state::{AppDir, AppState, Route};
use crate::stats::Traffic;

pub use builtin::Builtin;
pub use nginx::Nginx;

/// How to start the proxy process: the binary re-executed with
/// arguments that make it run `crate::proxy::run`.
#[derive(Debug, Clone)]
pub struct ProxyLauncher {
    pub program: PathBuf,
    pub args: Vec<String>,
}

pub trait Router {
    /// Makes sure the router runs (starting the proxy if needed).
    fn ensure_running(&mut self, state: &mut AppState) -> Result<(), DeployError>;
    /// New requests go to `route` once this returns.
    fn switch(&mut self, route: Route) -> Result<(), DeployError>;
    /// Makes sure traffic goes to `route` (after an interrupted command),
    /// without disturbing anything if it already does.
    fn reassert(&mut self, route: Route) -> Result<(), DeployError>;
    /// Running totals for `colour`, serving on `port`.
    fn traffic(&mut self, colour: Colour, port: u16) -> Result<Traffic, DeployError>;
    /// Waits until nothing is in flight to `port` any more; false if the
    /// timeout came first.
    fn wait_drained(&mut self, port: u16, timeout: Duration) -> Result<bool, DeployError>;
    /// Stops the router if it is Sluice's.
    fn shut_down(&mut self, state: &mut AppState) -> Result<(), DeployError>;
}

pub fn for_app(spec: &AppSpec, dir: &AppDir, launcher: &ProxyLauncher) -> Box<dyn Router> {
    match &spec.router {
        RouterSpec::Builtin => Box::new(Builtin::new(spec, dir.clone(), launcher.clone())),
        RouterSpec::Nginx(nginx) => Box::new(Nginx::new(&spec.name, nginx.clone())),
    }
}
