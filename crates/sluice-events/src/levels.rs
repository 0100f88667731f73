//! Where a log line came from and how much it matters, as fields: no
//! observer reads a level out of the text.

use serde::{Deserialize, Serialize};

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
    /// Written by Sluice itself (notices, "cached", timeouts...).
    System,
    /// A service's own output (`[name] line`), recorded when the service
    /// stops; kept in history and `--json`, not shown live.
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    Error,
    Warning,
    Notice,
}

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// A plain line (what steps print, Sluice's ordinary remarks).
    #[default]
    Info,
    /// A detail a live view may leave out (the shell a step runs with).
    Detail,
    Notice,
    Warning,
    Error,
}

impl LogLevel {
    pub fn is_info(&self) -> bool {
        *self == LogLevel::Info
    }
}
