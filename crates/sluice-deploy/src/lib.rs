//! Blue/green deploys of an app on this host (issue: deployments).
//!
//! An app (`spec.rs`, from `[apps.NAME]` in `sluice.toml`) runs as two
//! colours behind a router: Sluice's own proxy (`proxy/`, a background
//! process on hyper that swaps its routing table atomically and counts
//! traffic per colour) or the user's nginx (`router/nginx.rs`). A deploy
//! (`deploy.rs`) starts the idle colour, waits for health and the smoke
//! test, switches, watches (`watch.rs`) and either drains and stops the
//! old colour or rolls back to it. What is deployed lives in the state
//! directory (`state.rs`), settled after an interrupted command
//! (`settle.rs`). `dora.rs` computes the DORA figures from deploy
//! records. Only this crate, besides `sluice-exec`, starts processes: the
//! apps it deploys, their commands and the proxy.

mod colour;
mod colours;
pub mod control;
mod deploy;
pub mod dora;
mod error;
mod health;
mod manage;
mod process;
pub mod proxy;
mod report;
mod router;
mod settle;
mod shell;
mod spec;
mod state;
pub mod stats;
mod watch;

pub use colour::Colour;
pub use deploy::{Context, deploy};
pub use error::DeployError;
pub use manage::{rollback, status, stop};
pub use report::{DeployReport, Kind, Outcome, WatchFigures};
pub use router::ProxyLauncher;
pub use router::nginx_log::{Entry as AccessLogEntry, parse_line as parse_access_log_line};
pub use spec::{AppFile, AppSpec, OnInconclusive, RouterSpec, WatchSpec};
pub use state::{AppDir, AppState, Slot};
