//! How a run looks while it happens: live progress on a terminal, plain
//! prefixed lines otherwise, or NDJSON events for tools. All three are
//! event sinks; the executor does not know which one is listening.

pub mod json;
pub mod live;
pub mod plain;
pub mod summary;

use std::time::Duration;

use sluice_exec::Outcome;

/// `1.2s`, `3m04s`, `1h02m`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{}m{:02}s", (secs / 60.0) as u64, (secs as u64) % 60)
    } else {
        format!(
            "{}h{:02}m",
            (secs / 3600.0) as u64,
            ((secs as u64) % 3600) / 60
        )
    }
}

/// A result's symbol and word.
pub fn outcome_mark(outcome: Outcome) -> (&'static str, &'static str) {
    match outcome {
        Outcome::Success => ("✓", "succeeded"),
        Outcome::Failure => ("✗", "failed"),
        Outcome::Cancelled => ("⊘", "cancelled"),
        Outcome::Skipped => ("–", "skipped"),
    }
}

/// ANSI colour for a result, when colours are on.
pub fn paint(text: &str, outcome: Outcome, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match outcome {
        Outcome::Success => "32",
        Outcome::Failure => "31",
        Outcome::Cancelled => "33",
        Outcome::Skipped => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

pub fn dim(text: &str, color: bool) -> String {
    if color {
        format!("\x1b[2m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// What a job held by its environment waits for, and how to let it go.
pub fn waiting_line(
    run: Option<u64>,
    environment: &str,
    required_approvals: u32,
    wait_timer_ms: u64,
) -> String {
    if required_approvals == 0 {
        return format!(
            "waiting {} before deploying to {environment} (its wait timer)",
            duration(Duration::from_millis(wait_timer_ms))
        );
    }
    let run = run.map_or_else(|| "RUN".to_string(), |n| n.to_string());
    format!("waiting for approval: {environment} (sluice approve {run} --env {environment})")
}

/// Lines from Sluice that belong in the stored log but would only clutter
/// a live view (which shell ran the script).
pub fn is_detail(level: sluice_events::LogLevel) -> bool {
    level == sluice_events::LogLevel::Detail
}
