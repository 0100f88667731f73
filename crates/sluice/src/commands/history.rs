//! `sluice runs`, `sluice show RUN`, `sluice logs RUN [JOB [STEP]]`.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use sluice_store::timestamp::format_rfc3339_seconds;
use sluice_store::{JobSelector, LogFilter, LogLine, RunQuery, Status, StepSelector};

use crate::cli::{ColorChoice, LogsArgs, RunsArgs, ShowArgs};
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;
use crate::terminal_text::inert;
use crate::view::{dim, duration};

pub(crate) fn open(cwd: &Path) -> Result<History> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    History::open(&config.state_dir, &root)
}

fn status_word(status: Status) -> &'static str {
    status.as_str()
}

fn took(ms: Option<u64>) -> String {
    ms.map(|ms| duration(Duration::from_millis(ms)))
        .unwrap_or_else(|| "-".into())
}

pub fn runs(cwd: &Path, args: &RunsArgs) -> Result<ExitStatus> {
    let history = open(cwd)?;
    let runs = history.store().list_runs(&RunQuery {
        repository: Some(history.repository().to_string()),
        workflow: args.workflow.clone(),
        status: args
            .status
            .as_deref()
            .map(|text| {
                Status::parse(text).filter(|s| !matches!(s, Status::Pending | Status::Waiting)).with_context(|| {
                    format!("--status {text}: use queued, running, success, failure, cancelled, skipped or interrupted")
                })
            })
            .transpose()?,
        limit: args.limit as usize,
        ..RunQuery::default()
    })?;
    if args.json {
        crate::output::line(&serde_json::to_string_pretty(&runs)?);
        return Ok(ExitStatus::Success);
    }
    if runs.is_empty() {
        crate::output::line("no runs yet; start one with `sluice run`");
        return Ok(ExitStatus::Success);
    }
    let width = runs
        .iter()
        .map(|r| r.workflow.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    crate::output::line(&format!(
        "{:>5}  {:11}  {:width$}  {:18}  {:7}  {:20}  {:>8}",
        "RUN", "STATUS", "WORKFLOW", "EVENT", "COMMIT", "STARTED", "DURATION"
    ));
    for run in &runs {
        let event = format!("{} {}", run.event, short_ref(&run.git_ref));
        crate::output::line(&format!(
            "{:>5}  {:11}  {:width$}  {:18}  {:7}  {:20}  {:>8}",
            format!("#{}", run.number),
            status_word(run.status),
            run.workflow,
            truncate(&event, 18),
            run.short_sha(),
            // A queued run has not started: when it was asked for.
            format_rfc3339_seconds(run.started_at.unwrap_or(run.queued_at)),
            took(run.duration_ms),
        ));
    }
    Ok(ExitStatus::Success)
}

fn short_ref(git_ref: &str) -> &str {
    git_ref
        .strip_prefix("refs/heads/")
        .or_else(|| git_ref.strip_prefix("refs/tags/"))
        .unwrap_or(git_ref)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

pub fn show(cwd: &Path, args: &ShowArgs, color_choice: ColorChoice) -> Result<ExitStatus> {
    let history = open(cwd)?;
    let number = history.resolve_run(&args.run)?;
    let run = history.store().run(history.repository(), number)?;
    if args.json {
        crate::output::line(&serde_json::to_string_pretty(&run)?);
        return Ok(ExitStatus::Success);
    }
    let color = crate::render::use_color(color_choice, std::io::stdout().is_terminal());
    let s = &run.summary;
    let mut out = String::new();
    out.push_str(&format!(
        "run #{}  {}  {}\n",
        s.number,
        status_word(s.status),
        s.workflow
    ));
    out.push_str(&format!(
        "  {} of {} at {}  ({})\n",
        s.event,
        s.git_ref,
        s.short_sha(),
        s.workflow_path
    ));
    let began = match s.started_at {
        Some(at) if at >= s.queued_at + 1000 => format!(
            "queued {}, started {}",
            format_rfc3339_seconds(s.queued_at),
            format_rfc3339_seconds(at)
        ),
        Some(at) => format!("started {}", format_rfc3339_seconds(at)),
        None => format!(
            "queued {}, not started",
            format_rfc3339_seconds(s.queued_at)
        ),
    };
    out.push_str(&format!(
        "  {began}, took {}{}\n",
        took(s.duration_ms),
        s.exit_code
            .map(|c| format!(", exit code {c}"))
            .unwrap_or_default()
    ));
    for job in &run.jobs {
        let label = if job.name == job.key {
            job.key.to_string()
        } else {
            format!("{} ({})", job.name, job.key)
        };
        out.push_str(&format!(
            "\n  {label}: {}  {}\n",
            status_word(job.status),
            took(job.duration_ms)
        ));
        if let Some(reason) = &job.skip_reason {
            out.push_str(&format!("    {}\n", dim(reason, color)));
        }
        out.push_str(&crate::commands::environments::job_lines(&run, job, color));
        for step in &job.steps {
            let result = match (step.outcome, step.conclusion) {
                (Some(o), Some(c)) if o != c => {
                    format!("{} (continue-on-error: {})", o.as_str(), c.as_str())
                }
                (Some(o), _) => o.as_str().to_string(),
                _ => status_word(step.status).to_string(),
            };
            let code = step
                .exit_code
                .filter(|c| *c != 0)
                .map(|c| format!(", exit {c}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "    {:>2}. {}  {}{code}  {}\n",
                step.index + 1,
                step.name,
                result,
                took(step.duration_ms)
            ));
        }
        if !job.outputs.is_empty() {
            out.push_str("    outputs:\n");
            for (k, v) in &job.outputs {
                out.push_str(&format!("      {k} = {v}\n"));
            }
        }
    }
    if !run.annotations.is_empty() {
        out.push_str("\n  annotations:\n");
        for a in &run.annotations {
            let place = match (&a.file, a.line) {
                (Some(f), Some(l)) => format!(" ({f}:{l})"),
                (Some(f), None) => format!(" ({f})"),
                _ => String::new(),
            };
            out.push_str(&format!(
                "    [{}] {}: {}{place}\n",
                a.job,
                level_name(a.level),
                a.message
            ));
        }
    }
    if !run.actions.is_empty() {
        out.push_str("\n  actions:\n");
        for action in &run.actions {
            let origin = match action.origin.as_str() {
                "fetched" => "",
                "offline" => ", from the cache (offline)",
                _ => ", from the cache",
            };
            out.push_str(&format!(
                "    {} → {}  ({}{origin})\n",
                action.uses,
                action.commit,
                action.jobs.join(", ")
            ));
        }
    }
    out.push_str(&crate::commands::environments::approval_lines(&run, color));
    if run.critical_path.len() > 1 {
        out.push_str(&format!(
            "\n  critical path: {}\n",
            run.critical_path.join(" → ")
        ));
    }
    if args.summary {
        let summaries = &run.step_summaries;
        if summaries.is_empty() {
            out.push_str("\n  (no step wrote a summary)\n");
        }
        for summary in summaries {
            out.push_str(&format!(
                "\n── {} › {} ──\n",
                summary.job_name, summary.step_name
            ));
            out.push_str(&crate::markdown::render(&summary.markdown, color));
        }
    } else if !run.step_summaries.is_empty() {
        out.push_str(&dim(
            &format!(
                "\n  {} step summaries; see them with: sluice show {} --summary\n",
                run.step_summaries.len(),
                s.number
            ),
            color,
        ));
    }
    crate::output::text(&inert(&out, color));
    Ok(ExitStatus::Success)
}

fn level_name(level: sluice_events::AnnotationLevel) -> &'static str {
    match level {
        sluice_events::AnnotationLevel::Error => "error",
        sluice_events::AnnotationLevel::Warning => "warning",
        sluice_events::AnnotationLevel::Notice => "notice",
    }
}

pub fn logs(cwd: &Path, args: &LogsArgs, color_choice: ColorChoice) -> Result<ExitStatus> {
    let color = crate::render::use_color(color_choice, std::io::stdout().is_terminal());
    let history = open(cwd)?;
    let number = history.resolve_run(&args.run)?;
    let step = match &args.step {
        None => StepSelector::All,
        // Steps are numbered from 1 for people (as `sluice show` lists them).
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => StepSelector::Index(n - 1),
            _ => StepSelector::Auto(text.clone()),
        },
    };
    let filter = LogFilter {
        job: args.job.clone().map_or(JobSelector::All, JobSelector::Auto),
        step,
    };
    let lines = history
        .store()
        .logs(history.repository(), number, &filter)?;
    let mut printer = LogPrinter {
        headers: args.job.is_none() || args.step.is_none(),
        color,
        current: None,
    };
    for line in &lines {
        printer.print(line);
    }
    Ok(ExitStatus::Success)
}

/// Prints log lines, each job's and step's under a header line.
pub(crate) struct LogPrinter {
    /// Whether headers are printed at all (not for one step's lines).
    pub headers: bool,
    pub color: bool,
    /// The job and step of the last line printed.
    pub current: Option<(sluice_events::JobKey, Option<usize>)>,
}

impl LogPrinter {
    pub fn print(&mut self, line: &LogLine) {
        let place = (line.job.clone(), line.step);
        if self.headers && self.current.as_ref() != Some(&place) {
            let header = match &line.step_name {
                Some(step) => format!("── {} › {step}", line.job_name),
                None => format!("── {}", line.job_name),
            };
            crate::output::line(&inert(&header, self.color));
            self.current = Some(place);
        }
        // What steps printed goes to a terminal only rendered inert.
        crate::output::line(&inert(&line.text, self.color));
    }
}
