//! How a server is set up (the binary reads it from flags, the
//! environment and `sluice.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `sluice serve` was told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// The history (and queue) of the repository served.
    pub state_dir: PathBuf,
    /// The key the repository's runs are numbered under in the history.
    pub repository: String,
    /// GitHub webhooks are accepted only when signed with this.
    pub webhook_secret: Option<String>,
    /// Reads (runs, logs, metrics) need no token.
    pub public_reads: bool,
    /// Runs at once.
    pub workers: usize,
    /// Queued runs beyond which triggers are refused (429).
    pub queue_limit: u64,
    /// Request bodies beyond this are refused (413).
    pub max_body_bytes: usize,
    /// Runs cut off by a crash are queued again on start.
    pub requeue_interrupted: bool,
    pub notify: Vec<NotifyTarget>,
    /// Where the server tells people to look (links in notifications).
    pub public_url: Option<String>,
    /// What pull requests from forks do.
    pub fork_pull_requests: ForkPolicy,
}

/// What a pull request from a fork does. Its code would run on this
/// machine, natively: by default it does not run at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkPolicy {
    Refuse,
    /// Run, as GitHub does, with no secrets and a minimal environment.
    RunWithoutSecrets,
}

/// A `[[notify]]` entry.
#[derive(Debug, Clone)]
pub struct NotifyTarget {
    pub name: String,
    pub url: String,
    pub on: Vec<NotifyOn>,
    pub format: NotifyFormat,
    /// Only runs of these workflows (names or paths); all when empty.
    pub workflows: Vec<String>,
    /// Attempts in all, and the wait before the second (doubling after).
    pub attempts: u32,
    pub backoff: Duration,
}

/// Which runs a target hears about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOn {
    /// Every finished run.
    Always,
    Success,
    Failure,
    /// A success after a failure of the same workflow on the same ref.
    Fixed,
    Cancelled,
}

impl NotifyOn {
    pub fn parse(text: &str) -> Option<NotifyOn> {
        Some(match text {
            "always" => NotifyOn::Always,
            "success" => NotifyOn::Success,
            "failure" => NotifyOn::Failure,
            "fixed" => NotifyOn::Fixed,
            "cancelled" => NotifyOn::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyFormat {
    /// `{"text": "..."}`, which Slack, Mattermost and Discord (`/slack`) take.
    Slack,
    /// The run as JSON.
    Json,
}
