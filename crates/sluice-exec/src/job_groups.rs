//! Jobs with `concurrency:` wait their turn in their group.
//!
//! The group may hold jobs of other runs, in other processes, so the
//! executor asks whoever keeps the groups ([`JobGroups`], backed by the
//! history in the binary) and only applies the answers: a waiting job
//! stays pending, a replaced one concludes cancelled without running, and
//! a running one asked to stop is cancelled like a Ctrl-C would.

use indexmap::IndexMap;
use sluice_expr::{Allowed, Value};
use sluice_plan::PlannedConcurrency;
use sluice_workflow::Job;

use crate::eval_host::{RunHost, Status};
use crate::events::{CancelLevel, CancelToken, JobKey};
use crate::run_spec::Shared;

/// Keeps the concurrency groups of jobs (across runs and processes).
/// Errors are the implementation's to report; an answer is always given.
pub trait JobGroups: Send + Sync {
    /// Enters `job` into its group, waiting.
    fn join(&self, job: &JobKey, concurrency: &PlannedConcurrency);
    /// Where `job` stands now.
    fn turn(&self, job: &JobKey) -> GroupTurn;
    /// Takes `job` out of its group.
    fn leave(&self, job: &JobKey);
}

/// Where a job stands in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupTurn {
    Run,
    Wait,
    /// A newer job took its place while it waited.
    Replaced,
    /// It runs, and a newer job with `cancel-in-progress` asked it to stop.
    StopRequested,
}

/// A job instance's membership, as the scheduler tracks it.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    group: String,
    said_waiting: bool,
    asked_to_stop: bool,
}

/// What to do with an instance that could start.
pub(crate) enum Gate {
    Start,
    Wait,
    /// It will not run: a newer job replaced it (the reason).
    Replaced(String),
    /// Its `concurrency` could not be evaluated (the message).
    Failed(String),
}

/// The expressions of a job's `concurrency` see these contexts.
const CONTEXTS: [&str; 6] = ["github", "inputs", "vars", "needs", "strategy", "matrix"];

/// Whether the instance `key` of `job` may start now; enters its group
/// the first time. `contexts` gives the contexts its `concurrency` is
/// evaluated with.
pub(crate) fn gate(
    shared: &Shared,
    job: &Job,
    key: &JobKey,
    membership: &mut Option<Membership>,
    contexts: impl FnOnce() -> IndexMap<String, Value>,
) -> Gate {
    let (Some(groups), Some(concurrency)) = (&shared.spec.job_groups, &job.concurrency) else {
        return Gate::Start;
    };
    if membership.is_none() {
        let contexts = contexts();
        let host = RunHost {
            contexts: &contexts,
            status: Status::Step {
                failed: false,
                cancelled: false,
            },
            workspace: &shared.spec.workspace,
        };
        let allowed = Allowed::new().with_named_values(CONTEXTS);
        match sluice_plan::evaluate_concurrency(concurrency, &host, &allowed) {
            Ok(planned) => {
                groups.join(key, &planned);
                *membership = Some(Membership {
                    group: shared.mask(&planned.group),
                    said_waiting: false,
                    asked_to_stop: false,
                });
            }
            Err(e) => return Gate::Failed(shared.mask(&e.to_string())),
        }
    }
    let Some(member) = membership.as_mut() else {
        return Gate::Start;
    };
    match groups.turn(key) {
        GroupTurn::Run | GroupTurn::StopRequested => Gate::Start,
        GroupTurn::Wait => {
            if !member.said_waiting {
                member.said_waiting = true;
                shared.system_line(
                    key,
                    None,
                    &format!("waiting for concurrency group `{}`", member.group),
                );
            }
            Gate::Wait
        }
        GroupTurn::Replaced => {
            groups.leave(key);
            Gate::Replaced(format!(
                "a newer job of concurrency group `{}` took its place while it waited",
                member.group
            ))
        }
    }
}

/// For a running member: stops it when a newer job asked.
pub(crate) fn watch_running(
    shared: &Shared,
    key: &JobKey,
    membership: &mut Option<Membership>,
    cancel: &CancelToken,
) {
    let (Some(groups), Some(member)) = (&shared.spec.job_groups, membership.as_mut()) else {
        return;
    };
    if !member.asked_to_stop && groups.turn(key) == GroupTurn::StopRequested {
        member.asked_to_stop = true;
        shared.system_line(
            key,
            None,
            &format!(
                "cancelling: a newer job of concurrency group `{}` cancels the one in progress",
                member.group
            ),
        );
        cancel.escalate(CancelLevel::Graceful);
    }
}

/// Takes a finished member out of its group.
pub(crate) fn leave(shared: &Shared, key: &JobKey, membership: &mut Option<Membership>) {
    if let (Some(groups), Some(_)) = (&shared.spec.job_groups, membership.take()) {
        groups.leave(key);
    }
}
