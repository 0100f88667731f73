//! `sluice plan [WORKFLOW] [--event NAME] [--input KEY=VALUE]... [--json]`

use std::path::{Path, PathBuf};

use anyhow::Result;
use indexmap::IndexMap;
use sluice_plan::{Plan, PlanRequest, build_plan};
use sluice_workflow::{ParseOptions, Parsed};

use crate::cli::{DiagnosticFormat, PlanArgs};
use crate::exit::ExitStatus;
use crate::{event, render, workflows};

pub fn run(cwd: &Path, args: &PlanArgs, color: bool) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let options = ParseOptions::default();
    // Remote reusable workflows are expanded when the cache has them;
    // planning never fetches.
    let config = crate::config::Config::load(&root, &crate::config::Overrides::default())?;
    let remote = crate::commands::run::cache_only_remote_store(&config);
    let files: Vec<(PathBuf, Parsed)> = match &args.workflow {
        Some(wanted) => vec![workflows::resolve(
            &root,
            wanted,
            &options,
            remote.as_ref(),
        )?],
        None => workflows::discover(&root)?
            .into_iter()
            .map(|p| {
                let parsed = workflows::load(&root, &p, &options, remote.as_ref())?;
                Ok((root.join(p), parsed))
            })
            .collect::<Result<_>>()?,
    };
    if files.is_empty() {
        eprintln!("no workflows found (looked in .github/workflows and .sluice/workflows)");
        return Ok(ExitStatus::Usage);
    }
    let changed_files = files.iter().any(|(_, parsed)| {
        parsed
            .workflow
            .as_ref()
            .is_some_and(|w| w.uses_path_filters())
    });
    let state = sluice_exec::git::read_state(
        &root,
        &sluice_exec::git::ReadOptions {
            memo_dir: None,
            changed_files,
        },
    )?;
    let repo = event::repository(&state);
    let event = event::build(&root, &repo, &args.event, changed_files)?;
    let vars = IndexMap::new();
    let mut plans = Vec::new();
    for (path, parsed) in files {
        let path = &path;
        for d in parsed.diagnostics.iter().filter(|d| d.is_error()) {
            eprintln!("{}", render::diagnostic(d, DiagnosticFormat::Human, color));
        }
        let Some(workflow) = parsed
            .workflow
            .filter(|_| !parsed.diagnostics.iter().any(|d| d.is_error()))
        else {
            eprintln!(
                "error: {} has errors; nothing was planned",
                workflows::display_name(&root, path)
            );
            return Ok(ExitStatus::Usage);
        };
        let relative = workflows::display_name(&root, path);
        let plan = match build_plan(&PlanRequest {
            workflow: &workflow,
            workflow_path: &relative,
            event: &event,
            repo: &repo,
            vars: &vars,
        }) {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("error: {relative}: {e}");
                return Ok(ExitStatus::Usage);
            }
        };
        plans.push(plan);
    }
    if args.json {
        crate::output::line(&serde_json::to_string_pretty(&plans)?);
    } else {
        for plan in &plans {
            crate::output::text(&describe(plan, args.workflow.is_some()));
        }
    }
    Ok(ExitStatus::Success)
}

/// The readable form of a plan.
fn describe(plan: &Plan, always_detail: bool) -> String {
    let mut out = String::new();
    let short_sha: String = plan.sha.chars().take(7).collect();
    out.push_str(&format!(
        "{} ({})\n",
        plan.workflow.name, plan.workflow.path
    ));
    let verdict = if plan.selected {
        "runs"
    } else {
        "does not run"
    };
    out.push_str(&format!(
        "  {} of {} at {short_sha}: {verdict} ({})\n",
        plan.event, plan.git_ref, plan.reason
    ));
    if !plan.selected && !always_detail {
        out.push('\n');
        return out;
    }
    let width = plan.jobs.iter().map(|j| j.id.len()).max().unwrap_or(0);
    for job in &plan.jobs {
        let mut line = format!("  {:width$}", job.id);
        if !job.needs.is_empty() {
            line.push_str(&format!("  needs: {}", job.needs.join(", ")));
        }
        if job.condition != "success()" {
            line.push_str(&format!("  if: {}", job.condition));
        }
        match (&job.uses, &job.runs_on) {
            (Some(uses), _) => line.push_str(&format!("  calls: {uses}")),
            (None, serde_json::Value::Null) => {}
            (None, runs_on) => line.push_str(&format!("  runs-on: {}", compact(runs_on))),
        }
        out.push_str(&line);
        out.push('\n');
        if let Some(why) = &job.matrix_at_run_time {
            out.push_str(&format!("      matrix: expanded during the run ({why})\n"));
        } else if job.instances.len() > 1 || job.instances.first().is_some_and(|i| i.name != job.id)
        {
            let limit = job
                .max_parallel
                .map(|m| format!(", at most {m} at once"))
                .unwrap_or_default();
            out.push_str(&format!(
                "      {} instances{limit}:\n",
                job.instances.len()
            ));
            for instance in &job.instances {
                out.push_str(&format!(
                    "        {}  matrix: {}  runs-on: {}\n",
                    instance.name,
                    compact(&instance.matrix),
                    compact(&instance.runs_on)
                ));
            }
        }
        for step in &job.steps {
            out.push_str(&format!("      - {}\n", step.name));
        }
    }
    let stages: Vec<String> = plan.stages.iter().map(|s| s.join(", ")).collect();
    out.push_str(&format!("  order: {}\n\n", stages.join("  ->  ")));
    out
}

fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
