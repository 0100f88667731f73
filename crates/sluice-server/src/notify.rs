//! Notifications: when a run ends, each `[[notify]]` target that wants
//! to hear of it (failure, fixed, success, cancelled, always) is sent a
//! message, Slack-compatible or plain JSON, retried with doubling waits
//! while it answers with an error; every delivery is recorded with the
//! run. Sent with `curl` (HTTPS included), on a thread of its own, so a
//! slow receiver holds up no run.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sluice_store::{ClaimedRun, NotificationRecord, RunQuery, RunSummary, Status};

use crate::config::{NotifyFormat, NotifyOn, NotifyTarget};
use crate::state::Shared;

/// Each attempt gives up after this.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends what the run's end calls for.
pub(crate) fn after_run(shared: &Arc<Shared>, run: &ClaimedRun) {
    if shared.config.notify.is_empty() {
        return;
    }
    let facts = shared.histories.with(|history| {
        let summary = history.run(&shared.config.repository, run.number)?.summary;
        let earlier = history.list_runs(&RunQuery {
            repository: Some(shared.config.repository.clone()),
            workflow: Some(run.workflow_path.clone()),
            git_ref: Some(run.git_ref.clone()),
            limit: 50,
            ..RunQuery::default()
        })?;
        let previous = earlier
            .into_iter()
            .filter(|r| r.number < run.number)
            .find(|r| matches!(r.status, Status::Success | Status::Failure))
            .map(|r| r.status);
        Ok((summary, previous))
    });
    let Ok((summary, previous)) = facts else {
        return;
    };
    for target in &shared.config.notify {
        let wanted = target.workflows.is_empty()
            || target
                .workflows
                .iter()
                .any(|w| *w == summary.workflow || *w == summary.workflow_path);
        let Some(reason) = reason(target, summary.status, previous).filter(|_| wanted) else {
            continue;
        };
        let shared = Arc::clone(shared);
        let target = target.clone();
        let summary = summary.clone();
        let _ = std::thread::Builder::new()
            .name("sluice-notify".into())
            .spawn(move || deliver(&shared, &target, &summary, reason));
    }
}

/// What to tell `target` of a run that ended `status`, if anything.
fn reason(target: &NotifyTarget, status: Status, previous: Option<Status>) -> Option<&'static str> {
    let wants = |on: NotifyOn| target.on.contains(&on) || target.on.contains(&NotifyOn::Always);
    match status {
        Status::Failure if wants(NotifyOn::Failure) => Some("failure"),
        Status::Success
            if previous == Some(Status::Failure) && target.on.contains(&NotifyOn::Fixed) =>
        {
            Some("fixed")
        }
        Status::Success if wants(NotifyOn::Success) => Some("success"),
        Status::Cancelled if wants(NotifyOn::Cancelled) => Some("cancelled"),
        Status::Interrupted | Status::Skipped if target.on.contains(&NotifyOn::Always) => {
            Some(status.as_str())
        }
        _ => None,
    }
}

fn deliver(shared: &Shared, target: &NotifyTarget, run: &RunSummary, reason: &str) {
    let body = message(shared.config.public_url.as_deref(), target, run, reason).to_string();
    let mut wait = target.backoff;
    let mut record = NotificationRecord {
        target: label(target),
        reason: reason.to_owned(),
        attempts: 0,
        delivered: false,
        http_status: None,
        error: None,
        at: sluice_store::timestamp::now_ms(),
    };
    for attempt in 1..=target.attempts.max(1) {
        record.attempts = attempt;
        match post(&target.url, &body) {
            Ok(status) if (200..300).contains(&status) => {
                record.delivered = true;
                record.http_status = Some(status);
                record.error = None;
                break;
            }
            Ok(status) => {
                record.http_status = Some(status);
                record.error = Some(format!("the receiver answered {status}"));
            }
            Err(error) => record.error = Some(error),
        }
        if attempt < target.attempts && !shared.shutdown.is_cancelled() {
            std::thread::sleep(wait);
            wait *= 2;
        }
    }
    record.at = sluice_store::timestamp::now_ms();
    let recorded = shared.histories.with(|history| {
        Ok(history.record_notification(&shared.config.repository, run.number, &record)?)
    });
    if let Err(error) = recorded {
        eprintln!(
            "sluice serve: a notification of run #{} was not recorded: {error}",
            run.number
        );
    }
}

/// The message body.
fn message(
    public_url: Option<&str>,
    target: &NotifyTarget,
    run: &RunSummary,
    reason: &str,
) -> serde_json::Value {
    let link =
        public_url.map(|base| format!("{}/api/v1/runs/{}", base.trim_end_matches('/'), run.number));
    let branch = run
        .git_ref
        .strip_prefix("refs/heads/")
        .unwrap_or(&run.git_ref);
    match target.format {
        NotifyFormat::Slack => {
            let headline = match reason {
                "failure" => "failed",
                "fixed" => "is fixed",
                "success" => "succeeded",
                "cancelled" => "was cancelled",
                other => other,
            };
            let mut text = format!(
                "{} #{} {headline} on {branch} ({})",
                run.workflow,
                run.number,
                run.short_sha()
            );
            if let Some(link) = &link {
                text.push_str(&format!(" {link}"));
            }
            json!({ "text": text })
        }
        NotifyFormat::Json => json!({
            "reason": reason,
            "run": run.number,
            "workflow": run.workflow,
            "workflow_path": run.workflow_path,
            "status": run.status,
            "event": run.event,
            "ref": run.git_ref,
            "sha": run.sha,
            "duration_ms": run.duration_ms,
            "url": link,
        }),
    }
}

/// POSTs `body`; the HTTP status, or why there was none.
fn post(url: &str, body: &str) -> Result<u16, String> {
    crate::client::post(url, None, body, ATTEMPT_TIMEOUT.as_secs())
        .map(|(status, _)| status)
        .map_err(|e| e.to_string())
}

/// The target as recorded: its name and the URL's origin only (a
/// webhook URL's path is often its credential).
fn label(target: &NotifyTarget) -> String {
    let origin = target
        .url
        .split_once("://")
        .map(|(scheme, rest)| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}")
        })
        .unwrap_or_else(|| "(not a URL)".into());
    format!("{} ({origin})", target.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(on: &[NotifyOn]) -> NotifyTarget {
        NotifyTarget {
            name: "team".into(),
            url: "https://user:pw@hooks.example.invalid/services/T000/B000/XXXX".into(),
            on: on.to_vec(),
            format: NotifyFormat::Slack,
            workflows: Vec::new(),
            attempts: 3,
            backoff: Duration::from_millis(10),
        }
    }

    #[test]
    fn reasons_follow_what_the_target_asked_for() {
        let failures = target(&[NotifyOn::Failure, NotifyOn::Fixed]);
        assert_eq!(reason(&failures, Status::Failure, None), Some("failure"));
        assert_eq!(
            reason(&failures, Status::Success, Some(Status::Failure)),
            Some("fixed")
        );
        assert_eq!(
            reason(&failures, Status::Success, Some(Status::Success)),
            None
        );
        assert_eq!(reason(&failures, Status::Cancelled, None), None);
        let always = target(&[NotifyOn::Always]);
        assert_eq!(reason(&always, Status::Success, None), Some("success"));
        assert_eq!(
            reason(&always, Status::Interrupted, None),
            Some("interrupted")
        );
    }

    fn run() -> RunSummary {
        RunSummary {
            number: 12,
            repository: "/srv/app".into(),
            workflow: "CI".into(),
            workflow_path: ".github/workflows/ci.yml".into(),
            event: "push".into(),
            git_ref: "refs/heads/main".into(),
            sha: "5cd7d65e2c55848edbc4d5ebaca829c246ed67d1".into(),
            status: Status::Failure,
            queued_at: 1_796_309_490_000,
            started_at: Some(1_796_309_490_120),
            finished_at: Some(1_796_309_492_410),
            duration_ms: Some(2290),
            exit_code: Some(1),
        }
    }

    #[test]
    fn message_bodies_are_pinned() {
        let mut json = target(&[NotifyOn::Failure]);
        json.format = NotifyFormat::Json;
        insta::assert_json_snapshot!(
            "json_body",
            message(Some("https://ci.example.com/"), &json, &run(), "failure")
        );
        insta::assert_json_snapshot!(
            "slack_body",
            message(None, &target(&[NotifyOn::Failure]), &run(), "failure")
        );
    }

    #[test]
    fn the_recorded_target_never_holds_the_url_path_or_credentials() {
        assert_eq!(label(&target(&[])), "team (https://hooks.example.invalid)");
    }
}
