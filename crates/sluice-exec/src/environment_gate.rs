//! A job with `environment:` passes its environment's protection rules
//! before it starts: the branch must be allowed, enough people must
//! approve (through whoever keeps approvals: [`ApprovalGate`], the
//! history in the binary), and the wait timer must run out.
//!
//! The scheduler asks [`gate`] each time round its loop, like it asks the
//! concurrency groups, so a waiting job holds no job slot and a cancelled
//! run stops waiting at once: nothing here blocks.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::Job;

use crate::environment_rules::EnvironmentRules;
use crate::environment_token;
use crate::eval_host::{RunHost, Status};
use crate::events::{Approval, ApprovalDecision, Event, JobKey, Timestamp, now};
use crate::run_spec::Shared;

/// Keeps the decisions people take on a run's deployments (across
/// processes: `sluice approve` writes them where the run reads them).
/// Errors are the implementation's to report; an answer is always given.
pub trait ApprovalGate: Send + Sync {
    /// The decisions on deploying this run to `environment` taken at or
    /// after `since`, oldest first.
    fn decisions(&self, environment: &str, since: Timestamp) -> Vec<Approval>;
}

/// How often a waiting job asks for decisions.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Where an instance stands with its environment.
#[derive(Debug, Clone, Default)]
pub(crate) enum EnvironmentState {
    /// Not looked at yet.
    #[default]
    Unchecked,
    /// The job deploys nowhere.
    Nowhere,
    /// It waits for approvals or its wait timer.
    Holding(Box<Hold>),
    /// It may deploy to this environment.
    Cleared(String),
}

/// A job held by its environment's rules.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    environment: String,
    rules: EnvironmentRules,
    /// When it began to wait (decisions count from then).
    since: Timestamp,
    began: Instant,
    /// When it was approved (when it began, without approvals): the wait
    /// timer counts from then.
    approved: Option<Instant>,
    last_poll: Option<Instant>,
}

impl EnvironmentState {
    /// The environment the job may deploy to, once cleared.
    pub fn cleared(&self) -> Option<&str> {
        match self {
            EnvironmentState::Cleared(name) => Some(name),
            _ => None,
        }
    }

    /// The environment the job waits for, while it waits.
    pub fn holding(&self) -> Option<&str> {
        match self {
            EnvironmentState::Holding(hold) => Some(&hold.environment),
            _ => None,
        }
    }
}

/// What to do with an instance that could start.
pub(crate) enum EnvironmentGate {
    Start,
    Wait,
    /// It will not run (the message says why).
    Failed(String),
    /// The run was cancelled before the job could deploy (why).
    Cancelled(String),
}

/// Who waits: the instance and how it is named.
pub(crate) struct Waiter<'a> {
    pub job: &'a Job,
    pub key: &'a JobKey,
    pub name: &'a str,
}

/// Whether the instance may start now; the first time, evaluates its
/// environment (with `contexts`, those of a job's `if`) and applies the
/// rules.
pub(crate) fn gate(
    shared: &Shared,
    waiter: &Waiter,
    state: &mut EnvironmentState,
    contexts: impl FnOnce() -> IndexMap<String, Value>,
) -> EnvironmentGate {
    if matches!(state, EnvironmentState::Unchecked) {
        match enter(shared, waiter, contexts) {
            Ok(entered) => *state = entered,
            Err(message) => return EnvironmentGate::Failed(message),
        }
    }
    let EnvironmentState::Holding(hold) = state else {
        return EnvironmentGate::Start;
    };
    // A job that would only begin to wait once the run is cancelled (an
    // `if: always()` one) would wait for an approval nobody gives.
    if shared.cancel.is_cancelled() {
        return EnvironmentGate::Cancelled(format!(
            "the run was cancelled before the job could deploy to {}",
            hold.environment
        ));
    }
    match poll(shared, waiter.key, hold) {
        Ok(true) => {
            *state = EnvironmentState::Cleared(hold.environment.clone());
            EnvironmentGate::Start
        }
        Ok(false) => EnvironmentGate::Wait,
        Err(message) => EnvironmentGate::Failed(message),
    }
}

/// Evaluates the environment and checks the branch; starts the hold when
/// the rules ask for one.
fn enter(
    shared: &Shared,
    waiter: &Waiter,
    contexts: impl FnOnce() -> IndexMap<String, Value>,
) -> Result<EnvironmentState, String> {
    let Some(token) = &waiter.job.environment else {
        return Ok(EnvironmentState::Nowhere);
    };
    let contexts = contexts();
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: false,
            cancelled: false,
        },
        workspace: &shared.spec.workspace,
    };
    let name = environment_token::evaluate_name(token, &host)
        .map_err(|message| shared.mask(&format!("environment: {message}")))?;
    let Some(name) = name.map(|name| shared.mask(&name)) else {
        return Ok(EnvironmentState::Nowhere);
    };
    let rules = shared.spec.environments.rules(&name);
    if let Some(refusal) = rules.refusal(&name, &shared.spec.plan.git_ref) {
        return Err(refusal);
    }
    if !rules.holds() {
        return Ok(EnvironmentState::Cleared(name));
    }
    if rules.required_approvals > 0 && shared.spec.approvals.is_none() {
        return Err(format!(
            "deploying to {name} needs {} approval(s), and this run keeps no history to take them from",
            rules.required_approvals
        ));
    }
    Ok(EnvironmentState::Holding(Box::new(begin_hold(
        shared, waiter, name, rules,
    ))))
}

/// Announces the wait: the event, and a line saying what lets it go.
fn begin_hold(
    shared: &Shared,
    waiter: &Waiter,
    environment: String,
    rules: EnvironmentRules,
) -> Hold {
    let since = now();
    let approvals = rules.required_approvals;
    let deadline = (approvals > 0).then(|| since + rules.approval_timeout.as_millis() as u64);
    shared.emit(Event::JobWaiting {
        job: waiter.key.clone(),
        name: waiter.name.to_string(),
        environment: environment.clone(),
        required_approvals: approvals,
        wait_timer_ms: rules.wait_timer.as_millis() as u64,
        approval_deadline: deadline,
        at: since,
    });
    let line = if approvals > 0 {
        let run = shared.spec.run_number;
        format!(
            "waiting for approval to deploy to {environment} ({approvals} approval(s) needed, within {}): sluice approve {run} --env {environment}, or sluice reject {run} --env {environment}",
            human(rules.approval_timeout)
        )
    } else {
        wait_timer_line(&environment, rules.wait_timer)
    };
    shared.system_line(waiter.key, None, &line);
    let began = Instant::now();
    Hold {
        approved: (approvals == 0).then_some(began),
        environment,
        rules,
        since,
        began,
        last_poll: None,
    }
}

/// Whether the hold is over (`Err`: the job fails).
fn poll(shared: &Shared, key: &JobKey, hold: &mut Hold) -> Result<bool, String> {
    if hold.approved.is_none() && !take_decisions(shared, key, hold)? {
        return Ok(false);
    }
    let approved = hold.approved.unwrap_or(hold.began);
    Ok(approved.elapsed() >= hold.rules.wait_timer)
}

/// Asks for decisions (at most every [`POLL_INTERVAL`]): `Ok(true)` once
/// approved, `Err` when rejected or too late.
fn take_decisions(shared: &Shared, key: &JobKey, hold: &mut Hold) -> Result<bool, String> {
    let environment = &hold.environment;
    if hold.began.elapsed() >= hold.rules.approval_timeout {
        return Err(format!(
            "no approval to deploy to {environment} came within {}",
            human(hold.rules.approval_timeout)
        ));
    }
    if hold
        .last_poll
        .is_some_and(|at| at.elapsed() < POLL_INTERVAL)
    {
        return Ok(false);
    }
    hold.last_poll = Some(Instant::now());
    let Some(gate) = &shared.spec.approvals else {
        return Ok(false);
    };
    let decisions = gate.decisions(environment, hold.since);
    if let Some(rejection) = decisions
        .iter()
        .find(|d| d.decision == ApprovalDecision::Reject)
    {
        return Err(shared.mask(&format!(
            "the deployment to {environment} was rejected by {}{}",
            rejection.by,
            said(&rejection.comment)
        )));
    }
    let approvers = distinct_approvers(&decisions);
    if approvers.len() < hold.rules.required_approvals as usize {
        return Ok(false);
    }
    hold.approved = Some(Instant::now());
    let comments: String = decisions.iter().map(|d| said(&d.comment)).collect();
    shared.system_line(
        key,
        None,
        &format!(
            "approved to deploy to {environment} by {}{comments}",
            approvers.join(", ")
        ),
    );
    if !hold.rules.wait_timer.is_zero() {
        shared.system_line(
            key,
            None,
            &wait_timer_line(environment, hold.rules.wait_timer),
        );
    }
    Ok(true)
}

/// Each approver once, in the order they approved.
fn distinct_approvers(decisions: &[Approval]) -> Vec<String> {
    let mut approvers: Vec<String> = Vec::new();
    for decision in decisions {
        if decision.decision == ApprovalDecision::Approve && !approvers.contains(&decision.by) {
            approvers.push(decision.by.clone());
        }
    }
    approvers
}

fn said(comment: &Option<String>) -> String {
    comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| format!(" (\"{}\")", c.trim()))
        .unwrap_or_default()
}

fn wait_timer_line(environment: &str, timer: Duration) -> String {
    format!(
        "waiting {} before deploying to {environment} (its wait timer)",
        human(timer)
    )
}

/// `45s`, `30m`, `24h`, `1h30m`.
fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut text = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            text.push_str(&format!("{value}{unit}"));
        }
    }
    if text.is_empty() {
        format!("{}ms", duration.as_millis())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(by: &str, decision: ApprovalDecision) -> Approval {
        Approval {
            environment: "production".into(),
            decision,
            by: by.into(),
            comment: None,
            at: 0,
        }
    }

    #[test]
    fn an_approver_counts_once() {
        let decisions = [
            decision("ada", ApprovalDecision::Approve),
            decision("ada", ApprovalDecision::Approve),
            decision("bob", ApprovalDecision::Approve),
        ];
        assert_eq!(distinct_approvers(&decisions), ["ada", "bob"]);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(24 * 3600)), "24h");
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_millis(300)), "300ms");
    }
}
