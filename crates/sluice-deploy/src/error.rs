//! What can go wrong in a deploy, named for what failed and carrying the
//! app, path or value involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("sluice.toml [apps.{app}] {key} = {value:?}: {problem}")]
    Config {
        app: String,
        key: &'static str,
        value: String,
        problem: String,
    },
    #[error("no app named {0:?} in sluice.toml (declare it under [apps.{0}])")]
    UnknownApp(String),
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {problem}", path.display())]
    State { path: PathBuf, problem: String },
    #[error("{app}: {listen} is already in use by another program")]
    ListenTaken { app: String, listen: String },
    #[error("{app}: cannot start {what}")]
    Spawn {
        app: String,
        what: String,
        source: std::io::Error,
    },
    #[error("{app}: the proxy did not come up: {detail}")]
    Proxy { app: String, detail: String },
    #[error("{app}: the proxy's control socket: {detail}")]
    Control { app: String, detail: String },
    #[error("{app} {version}: {detail}")]
    Unhealthy {
        app: String,
        version: String,
        detail: String,
    },
    #[error("{app} {version}: smoke test failed: {detail}")]
    Smoke {
        app: String,
        version: String,
        detail: String,
    },
    #[error("{app}: nginx: {detail}")]
    Nginx { app: String, detail: String },
    #[error("{app}: nothing to roll back to: {detail}")]
    NoRollbackTarget { app: String, detail: String },
    #[error("{app}: is not deployed")]
    NotDeployed { app: String },
}

impl DeployError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        DeployError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
