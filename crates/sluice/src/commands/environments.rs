//! `sluice environments [ENV] [--json]`: what was deployed to each
//! environment, newest first: the run and job, the commits each
//! deployment shipped (from the environment's previous successful
//! deployment to its own), its result, url and times.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use sluice_events::{Approval, ApprovalDecision};
use sluice_store::timestamp::format_rfc3339_seconds;
use sluice_store::{DeploymentQuery, DeploymentRecord, JobRecord, RunDetail};

use crate::cli::EnvironmentsArgs;
use crate::exit::ExitStatus;
use crate::terminal_text::inert;
use crate::view::{dim, duration};

pub fn environments(cwd: &Path, args: &EnvironmentsArgs) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let deployments = history.store().deployments(&DeploymentQuery {
        repository: history.repository().to_string(),
        environment: args.environment.clone(),
        limit: args.limit as usize,
    })?;
    if args.json {
        crate::output::line(&serde_json::to_string_pretty(&deployments)?);
        return Ok(ExitStatus::Success);
    }
    if deployments.is_empty() {
        let said = match &args.environment {
            Some(name) => format!("nothing was deployed to {name} yet"),
            None => "nothing was deployed yet: a job deploys with `environment: NAME`".to_string(),
        };
        crate::output::line(&inert(&said, false));
        return Ok(ExitStatus::Success);
    }
    crate::output::text(&inert(&render(&deployments), false));
    Ok(ExitStatus::Success)
}

/// Each environment under its name, its deployments as a table.
fn render(deployments: &[DeploymentRecord]) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for deployment in deployments {
        if current.is_none_or(|name| !name.eq_ignore_ascii_case(&deployment.environment)) {
            if current.is_some() {
                out.push('\n');
            }
            current = Some(&deployment.environment);
            out.push_str(&format!("{}\n", deployment.environment));
            out.push_str(&format!(
                "  {:>5}  {:16}  {:11}  {:16}  {:20}  {:>8}  {}\n",
                "RUN", "JOB", "STATUS", "COMMITS", "STARTED", "DURATION", "URL"
            ));
        }
        out.push_str(&row(deployment));
    }
    out
}

fn row(deployment: &DeploymentRecord) -> String {
    let commits = match deployment.short_previous_sha() {
        Some(previous) if previous == deployment.short_sha() => {
            format!("{} (again)", deployment.short_sha())
        }
        Some(previous) => format!("{previous}..{}", deployment.short_sha()),
        None => format!("{} (first)", deployment.short_sha()),
    };
    let took = deployment
        .finished_at
        .map(|end| {
            duration(Duration::from_millis(
                end.saturating_sub(deployment.started_at),
            ))
        })
        .unwrap_or_else(|| "-".into());
    format!(
        "  {:>5}  {:16}  {:11}  {:16}  {:20}  {:>8}  {}\n",
        format!("#{}", deployment.run),
        deployment.job.as_str(),
        deployment.status.as_str(),
        commits,
        format_rfc3339_seconds(deployment.started_at),
        took,
        deployment.url.as_deref().unwrap_or("-"),
    )
}

/// For `sluice show`: what a job waits for, or what it deployed.
pub(crate) fn job_lines(run: &RunDetail, job: &JobRecord, color: bool) -> String {
    let number = run.summary.number;
    let mut out = String::new();
    if let (Some(environment), Some(wait)) = (&job.environment, &job.waiting) {
        let line = if wait.required_approvals > 0 {
            let approved = approvers_since(&run.approvals, environment, wait.since);
            format!(
                "waiting for approval: {environment}, {approved} of {} approvals (sluice approve {number} --env {environment})",
                wait.required_approvals
            )
        } else {
            format!("waiting for the wait timer of {environment}")
        };
        out.push_str(&format!("    {line}\n"));
    }
    for deployment in run.deployments.iter().filter(|d| d.job == job.key) {
        let url = deployment
            .url
            .as_deref()
            .map(|url| format!(": {url}"))
            .unwrap_or_default();
        let line = format!(
            "deployed to {} ({}){url}",
            deployment.environment,
            deployment.status.as_str()
        );
        out.push_str(&format!("    {}\n", dim(&line, color)));
    }
    out
}

/// For `sluice show`: the decisions taken on the run's deployments.
pub(crate) fn approval_lines(run: &RunDetail, color: bool) -> String {
    if run.approvals.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n  approvals:\n");
    for approval in &run.approvals {
        let comment = approval
            .comment
            .as_deref()
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        let line = format!(
            "{}: {} by {} at {}{comment}",
            approval.environment,
            approval.decision.past_tense(),
            approval.by,
            format_rfc3339_seconds(approval.at)
        );
        out.push_str(&format!("    {}\n", dim(&line, color)));
    }
    out
}

/// Distinct approvers of `environment` since `since`.
fn approvers_since(approvals: &[Approval], environment: &str, since: u64) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    for approval in approvals {
        if approval.decision == ApprovalDecision::Approve
            && approval.at >= since
            && approval.environment.eq_ignore_ascii_case(environment)
            && !seen.contains(&approval.by.as_str())
        {
            seen.push(&approval.by);
        }
    }
    seen.len()
}
