//! `sluice approve RUN [--env E] [--comment TEXT] [--as NAME]` and
//! `sluice reject RUN ...`: a decision on the jobs of a run that wait to
//! deploy to an environment. The decision goes into the history, where
//! the process running the run (a `sluice run`, a server) reads it within
//! a fraction of a second.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sluice_events::ApprovalDecision;
use sluice_store::{DecisionOutcome, DecisionRequest};

use crate::cli::DecideArgs;
use crate::exit::ExitStatus;
use crate::terminal_text::inert;

pub fn approve(cwd: &Path, args: &DecideArgs) -> Result<ExitStatus> {
    decide(cwd, args, ApprovalDecision::Approve)
}

pub fn reject(cwd: &Path, args: &DecideArgs) -> Result<ExitStatus> {
    decide(cwd, args, ApprovalDecision::Reject)
}

fn decide(cwd: &Path, args: &DecideArgs, decision: ApprovalDecision) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let number = history.resolve_run(&args.run)?;
    let by = match &args.by {
        Some(name) if name.trim().is_empty() => bail!("--as needs a name"),
        Some(name) => name.trim().to_string(),
        None => login_name()?,
    };
    let outcome = history.store().decide(&DecisionRequest {
        repository: history.repository(),
        number,
        environment: args.environment.as_deref().map(str::trim),
        decision,
        by: &by,
        comment: args
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty()),
        at: sluice_store::timestamp::now_ms(),
    })?;
    report(number, decision, &outcome);
    Ok(match outcome {
        DecisionOutcome::Recorded { .. } => ExitStatus::Success,
        _ => ExitStatus::Usage,
    })
}

/// Says what the decision did, or why nothing was decided.
fn report(number: u64, decision: ApprovalDecision, outcome: &DecisionOutcome) {
    match outcome {
        DecisionOutcome::Recorded {
            environment,
            jobs,
            approved_by,
            required_approvals,
        } => {
            let jobs = jobs
                .iter()
                .map(|key| key.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let text = recorded(
                number,
                decision,
                environment,
                &jobs,
                approved_by.len(),
                *required_approvals,
            );
            crate::output::line(&inert(&text, false));
        }
        DecisionOutcome::NothingWaiting { status } => eprintln!(
            "error: run #{number} has no job waiting for approval (the run is {status}); nothing to {}",
            decision.as_str()
        ),
        DecisionOutcome::NotWaitingThere {
            environment,
            waiting,
        } => eprintln!(
            "{}",
            inert(
                &format!(
                    "error: run #{number} has no job waiting to deploy to {environment}; it waits for: {}",
                    waiting.join(", ")
                ),
                false
            )
        ),
        DecisionOutcome::Ambiguous { waiting } => eprintln!(
            "{}",
            inert(
                &format!(
                    "error: run #{number} has jobs waiting to deploy to {}; say which with --env",
                    waiting.join(" and ")
                ),
                false
            )
        ),
    }
}

fn recorded(
    number: u64,
    decision: ApprovalDecision,
    environment: &str,
    jobs: &str,
    approvals: usize,
    required: u32,
) -> String {
    match decision {
        ApprovalDecision::Reject => format!(
            "run #{number}: rejected the deployment to {environment}; {jobs} will fail without running"
        ),
        ApprovalDecision::Approve if approvals >= required as usize => format!(
            "run #{number}: approved the deployment to {environment} ({approvals} of {required} approvals); {jobs} may start"
        ),
        ApprovalDecision::Approve => format!(
            "run #{number}: approved the deployment to {environment} ({approvals} of {required} approvals); {jobs} still wait for {} more",
            required as usize - approvals
        ),
    }
}

/// This user's login name: from the user database, else `USER`/`LOGNAME`.
fn login_name() -> Result<String> {
    let from_database = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.name);
    from_database
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .filter(|name| !name.trim().is_empty())
        .context("cannot tell who you are (no user name); say it with --as NAME")
}
