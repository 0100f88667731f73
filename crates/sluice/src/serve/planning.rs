//! Planning a trigger: the commit it names is fetched from the
//! repository's own remote (never from anything in the trigger), its
//! workflow files are read at that commit without a checkout, and each
//! workflow the event selects becomes a run to queue.

use std::path::Path;

use serde_json::{Value as Json, json};
use sluice_exec::git::{self, commits};
use sluice_plan::{PlanRequest, build_plan};
use sluice_server::{
    PipelineError, PlannedRun, REQUEST_FORMAT_VERSION, RunRequest, Schedule, Trigger,
};
use sluice_workflow::{CronSchedule, ParseOptions, Workflow};

use super::LocalPipelines;
use super::trigger_event;
use crate::workflows;

/// The directories of a commit that hold workflows (and what they call).
const WORKFLOW_TREES: [&str; 2] = [".github", ".sluice/workflows"];

/// Which workflows a trigger may start.
enum Only {
    /// Every workflow the event selects.
    Selected,
    /// The one named (dispatch: file name, path or name); an error when
    /// it does not exist or does not take the event.
    Named(String),
    /// The one at this path (a schedule).
    Path(String),
}

pub(super) fn plan(
    p: &LocalPipelines,
    trigger: &Trigger,
) -> Result<Vec<PlannedRun>, PipelineError> {
    let (request, only) = request_for(p, trigger)?;
    let checkout = p.scratch_dir()?;
    for tree in WORKFLOW_TREES {
        commits::export_dir(&p.root, &request.sha, tree, checkout.path())
            .map_err(|e| failed("read the workflows at the commit", e))?;
    }
    let repo = trigger_event::repository(&p.root, &request, &p.root)
        .map_err(|e| failed("describe the commit", e))?;
    let event = trigger_event::event(&request, &repo);
    let files = workflows::discover(checkout.path())
        .map_err(|e| PipelineError::Failed(format!("{e:#}")))?;
    let mut planned = Vec::new();
    for path in files {
        let workflow_path = path.to_string_lossy().into_owned();
        let Some(workflow) = read_workflow(p, checkout.path(), &path)? else {
            continue;
        };
        if !only.admits(&workflow_path, &workflow) {
            continue;
        }
        let plan = build_plan(&PlanRequest {
            workflow: &workflow,
            workflow_path: &workflow_path,
            event: &event,
            repo: &repo,
            vars: &p.config.vars,
        })
        .map_err(|e| PipelineError::Rejected(format!("{workflow_path}: {e}")))?;
        if !plan.selected {
            if let Only::Named(_) = only {
                return Err(PipelineError::Rejected(format!(
                    "{workflow_path} does not run on {}: {}",
                    event.name, plan.reason
                )));
            }
            continue;
        }
        planned.push(PlannedRun {
            workflow: workflow.name.clone(),
            request: RunRequest {
                workflow_path,
                ..request.clone()
            },
            concurrency: plan
                .concurrency
                .as_ref()
                .map(crate::run_control::membership),
        });
    }
    if let Only::Named(name) = &only
        && planned.is_empty()
    {
        return Err(PipelineError::Rejected(format!(
            "no workflow `{name}` at {} ({})",
            request.git_ref,
            &request.sha[..12.min(request.sha.len())]
        )));
    }
    Ok(planned)
}

impl Only {
    fn admits(&self, path: &str, workflow: &Workflow) -> bool {
        match self {
            Only::Selected => true,
            Only::Path(wanted) => path == wanted,
            Only::Named(name) => {
                let file = Path::new(path).file_name().map(|f| f.to_string_lossy());
                path == name || file.as_deref() == Some(name.as_str()) || workflow.name == *name
            }
        }
    }
}

/// A workflow file at the commit; `None` (reported) when it has errors:
/// there is nothing to run, and the trigger's other workflows still run.
fn read_workflow(
    p: &LocalPipelines,
    dir: &Path,
    path: &Path,
) -> Result<Option<Workflow>, PipelineError> {
    let parsed = workflows::load(dir, path, &ParseOptions::default(), Some(&p.remote))
        .map_err(|e| PipelineError::Failed(format!("{e:#}")))?;
    if parsed.has_errors() {
        let first = parsed
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| d.message.clone())
            .unwrap_or_default();
        eprintln!(
            "sluice serve: {} has errors and starts nothing: {first}",
            path.display()
        );
        return Ok(None);
    }
    Ok(parsed.workflow)
}

/// The run request a trigger makes, with its commit present and kept.
fn request_for(p: &LocalPipelines, trigger: &Trigger) -> Result<(RunRequest, Only), PipelineError> {
    let blank = |event: &str, git_ref: &str, sha: &str, payload: &Json| RunRequest {
        version: REQUEST_FORMAT_VERSION,
        workflow_path: String::new(),
        event: event.to_owned(),
        git_ref: git_ref.to_owned(),
        sha: sha.to_owned(),
        before: None,
        changed_files: None,
        base_ref: None,
        head_ref: None,
        inputs: indexmap::IndexMap::new(),
        payload: payload.clone(),
        rerun: None,
        untrusted: false,
    };
    let (request, only) = match trigger {
        Trigger::Push {
            git_ref,
            before,
            after,
            payload,
        } => {
            p.ensure_commit(git_ref, after)?;
            let mut request = blank("push", git_ref, after, payload);
            request.before = Some(before.clone());
            request.changed_files = Some(pushed_files(&p.root, before, after)?);
            (request, Only::Selected)
        }
        Trigger::PullRequest {
            number,
            head_sha,
            base_ref,
            head_ref,
            from_fork,
            payload,
            ..
        } => {
            p.ensure_commit(&format!("refs/heads/{head_ref}"), head_sha)?;
            let base = p.fetch_branch(base_ref)?;
            let mut request = blank(
                "pull_request",
                &format!("refs/pull/{number}/merge"),
                head_sha,
                payload,
            );
            request.base_ref = Some(base_ref.clone());
            request.head_ref = Some(head_ref.clone());
            request.untrusted = *from_fork;
            request.changed_files = Some(
                git::diff_names(&p.root, &base, head_sha)
                    .map_err(|e| failed("compare the pull request with its base", e))?,
            );
            (request, Only::Selected)
        }
        Trigger::Dispatch {
            workflow,
            git_ref,
            inputs,
            payload,
        } => {
            let git_ref = match git_ref {
                Some(git_ref) => git_ref.clone(),
                None => format!("refs/heads/{}", p.default_branch()?),
            };
            let sha = p.fetch_ref(&git_ref)?;
            let mut request = blank(
                "workflow_dispatch",
                &git_ref,
                &sha,
                &json!({ "workflow": workflow }),
            );
            request.inputs = inputs.clone();
            let _ = payload;
            (request, Only::Named(workflow.clone()))
        }
        Trigger::Schedule {
            workflow_path,
            cron,
            git_ref,
            sha,
        } => (
            blank("schedule", git_ref, sha, &json!({ "schedule": cron })),
            Only::Path(workflow_path.clone()),
        ),
    };
    commits::keep_commit(&p.root, &request.sha).map_err(|e| failed("keep the commit", e))?;
    Ok((request, only))
}

/// The files a push changed: between the old and new commits, or those
/// of the new commit alone when the branch is new (as GitHub compares).
fn pushed_files(root: &Path, before: &str, after: &str) -> Result<Vec<String>, PipelineError> {
    let known_before = !before.bytes().all(|b| b == b'0') && commits::has_commit(root, before);
    let files = if known_before {
        commits::changed_between(root, before, after)
    } else {
        commits::changed_by(root, after)
    };
    files.map_err(|e| failed("list the files the push changed", e))
}

/// The schedules at the default branch's head.
pub(super) fn schedules(p: &LocalPipelines) -> Result<Vec<Schedule>, PipelineError> {
    let branch = p.default_branch()?;
    let git_ref = format!("refs/heads/{branch}");
    let sha = p.fetch_ref(&git_ref)?;
    let checkout = p.scratch_dir()?;
    for tree in WORKFLOW_TREES {
        commits::export_dir(&p.root, &sha, tree, checkout.path())
            .map_err(|e| failed("read the workflows at the default branch", e))?;
    }
    let mut schedules = Vec::new();
    for path in
        workflows::discover(checkout.path()).map_err(|e| PipelineError::Failed(format!("{e:#}")))?
    {
        let Some(workflow) = read_workflow(p, checkout.path(), &path)? else {
            continue;
        };
        for trigger in &workflow.on {
            for cron in &trigger.schedule {
                let Ok(parsed) = CronSchedule::parse(&cron.cron.value) else {
                    continue;
                };
                if cron
                    .timezone
                    .as_deref()
                    .is_some_and(|tz| !matches!(tz, "UTC" | "Etc/UTC"))
                {
                    eprintln!(
                        "sluice serve: {}: schedule '{}' names timezone {}; schedules run in UTC here",
                        path.display(),
                        cron.cron.value,
                        cron.timezone.as_deref().unwrap_or_default()
                    );
                }
                schedules.push(Schedule {
                    workflow_path: path.to_string_lossy().into_owned(),
                    cron: cron.cron.value.clone(),
                    parsed,
                    git_ref: git_ref.clone(),
                    sha: sha.clone(),
                });
            }
        }
    }
    Ok(schedules)
}

fn failed(what: &str, error: git::GitError) -> PipelineError {
    PipelineError::Failed(format!("cannot {what}: {error}"))
}
