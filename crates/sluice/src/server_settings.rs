//! The settings of `sluice serve` in `sluice.toml` (and the environment):
//! the webhook secret, who may read, the queue's bounds, and where to
//! send notifications.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sluice_server::{ForkPolicy, NotifyFormat, NotifyOn, NotifyTarget};

/// The server's keys of `sluice.toml`, as written.
#[derive(Debug, Default)]
pub struct ServerFile {
    pub webhook_secret: Option<String>,
    pub public_reads: Option<bool>,
    pub requeue_interrupted: Option<bool>,
    pub server_workers: Option<usize>,
    pub queue_limit: Option<u64>,
    pub max_body_size: Option<String>,
    /// The git remote commits are fetched from (default `origin`).
    pub remote: Option<String>,
    /// The server's address as others reach it, for links.
    pub public_url: Option<String>,
    /// `refuse` (default) or `without-secrets`.
    pub fork_pull_requests: Option<String>,
}

/// One `[[notify]]` entry, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NotifyFile {
    name: Option<String>,
    url: String,
    /// `failure`, `fixed`, `success`, `cancelled`, `always`.
    #[serde(default)]
    on: Vec<String>,
    /// `slack` (default) or `json`.
    format: Option<String>,
    #[serde(default)]
    workflows: Vec<String>,
    attempts: Option<u32>,
    backoff_seconds: Option<f64>,
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub webhook_secret: Option<String>,
    pub public_reads: bool,
    pub requeue_interrupted: bool,
    pub workers: usize,
    pub queue_limit: u64,
    pub max_body_bytes: usize,
    pub remote: String,
    pub public_url: Option<String>,
    pub notify: Vec<NotifyTarget>,
    pub fork_pull_requests: ForkPolicy,
}

impl ServerSettings {
    pub fn from_file(file: ServerFile, notify: Vec<NotifyFile>) -> Result<ServerSettings> {
        let env_text = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let max_body_bytes = match file.max_body_size {
            Some(text) => crate::config::parse_size(&text)
                .with_context(|| format!("max-body-size '{text}'"))?,
            // GitHub's own limit for webhook payloads.
            None => 25 * 1024 * 1024,
        };
        let remote = file.remote.unwrap_or_else(|| "origin".into());
        if remote.is_empty() || remote.starts_with('-') || remote.contains(['/', ' ', ':']) {
            bail!("remote = \"{remote}\" in sluice.toml is not a git remote's name");
        }
        let fork_pull_requests = match file.fork_pull_requests.as_deref() {
            None | Some("refuse") => ForkPolicy::Refuse,
            Some("without-secrets") => ForkPolicy::RunWithoutSecrets,
            Some(other) => bail!(
                "fork-pull-requests = \"{other}\" in sluice.toml: use \"refuse\" or \"without-secrets\""
            ),
        };
        Ok(ServerSettings {
            fork_pull_requests,
            // An empty secret would let anyone sign: it counts as none.
            webhook_secret: env_text("SLUICE_WEBHOOK_SECRET")
                .or(file.webhook_secret)
                .filter(|secret| !secret.is_empty()),
            public_reads: file.public_reads.unwrap_or(false),
            requeue_interrupted: file.requeue_interrupted.unwrap_or(false),
            workers: file.server_workers.unwrap_or(2).max(1),
            queue_limit: file.queue_limit.unwrap_or(500).max(1),
            max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(usize::MAX),
            remote,
            public_url: file.public_url,
            notify: notify
                .into_iter()
                .enumerate()
                .map(|(index, entry)| notify_target(index, entry))
                .collect::<Result<_>>()?,
        })
    }
}

fn notify_target(index: usize, entry: NotifyFile) -> Result<NotifyTarget> {
    let name = entry.name.unwrap_or_else(|| format!("notify[{index}]"));
    if !(entry.url.starts_with("http://") || entry.url.starts_with("https://")) {
        bail!("[[notify]] {name}: url must start with http:// or https://");
    }
    let on = if entry.on.is_empty() {
        vec![NotifyOn::Failure, NotifyOn::Fixed]
    } else {
        entry
            .on
            .iter()
            .map(|word| {
                NotifyOn::parse(word).with_context(|| {
                    format!("[[notify]] {name}: on = \"{word}\": use failure, fixed, success, cancelled or always")
                })
            })
            .collect::<Result<_>>()?
    };
    let format = match entry.format.as_deref() {
        None | Some("slack") => NotifyFormat::Slack,
        Some("json") => NotifyFormat::Json,
        Some(other) => bail!("[[notify]] {name}: format = \"{other}\": use slack or json"),
    };
    let backoff = entry.backoff_seconds.unwrap_or(2.0);
    if !(backoff.is_finite() && (0.0..=3600.0).contains(&backoff)) {
        bail!("[[notify]] {name}: backoff-seconds must be between 0 and 3600");
    }
    Ok(NotifyTarget {
        name,
        url: entry.url,
        on,
        format,
        workflows: entry.workflows,
        attempts: entry.attempts.unwrap_or(5).clamp(1, 20),
        backoff: Duration::from_secs_f64(backoff),
    })
}
