//! Plain lines, each prefixed with its job and step: for logs, CI and
//! anything that is not a terminal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use sluice_events::{AnnotationLevel, Stream};
use sluice_events::{Event, EventSink, Outcome};

use super::{duration, outcome_mark, paint};

pub struct PlainView {
    color: bool,
    step_names: Mutex<HashMap<(String, usize), String>>,
}

impl PlainView {
    pub fn new(color: bool) -> Self {
        PlainView {
            color,
            step_names: Mutex::new(HashMap::new()),
        }
    }

    fn step_name(&self, job: &str, step: Option<usize>) -> Option<String> {
        let step = step?;
        self.step_names
            .lock()
            .ok()?
            .get(&(job.to_string(), step))
            .cloned()
    }
}

impl EventSink for PlainView {
    fn emit(&self, event: &Event) {
        let color = self.color;
        let text = match event {
            Event::RunStarted {
                run,
                workflow,
                workflow_path,
                event,
                git_ref,
                sha,
                ..
            } => {
                let short: String = sha.chars().take(7).collect();
                format!("run #{run}: {workflow} ({workflow_path}), {event} of {git_ref} at {short}")
            }
            // The job's log says what it waits for and how to let it go.
            Event::JobAdded { .. } | Event::JobWaiting { .. } | Event::DeploymentStarted { .. } => {
                return;
            }
            Event::DeploymentFinished {
                job,
                environment,
                url: Some(url),
                ..
            } => format!("[{job}] {environment}: {url}"),
            Event::DeploymentFinished { .. } => return,
            Event::JobStarted { job, name, .. } => {
                if name == job {
                    format!("[{job}] started")
                } else {
                    format!("[{job}] started: {name}")
                }
            }
            Event::StepStarted {
                job, step, name, ..
            } => {
                if let Ok(mut names) = self.step_names.lock() {
                    names.insert((job.to_string(), *step), name.clone());
                }
                format!("[{job}] ▶ {name}")
            }
            Event::Log {
                stream: Stream::System,
                level,
                ..
            } if super::is_detail(*level) => return,
            // Services' own output is for history (`sluice logs`), not the screen.
            Event::Log {
                stream: Stream::Service,
                ..
            } => return,
            Event::Log {
                job,
                step,
                stream,
                line,
                ..
            } => match (self.step_name(job, *step), stream) {
                (Some(step), Stream::System) => format!("[{job}] [{step}] ({line})"),
                (Some(step), _) => format!("[{job}] [{step}] {line}"),
                (None, _) => format!("[{job}] {line}"),
            },
            Event::Annotation {
                job,
                level,
                message,
                file,
                line,
                ..
            } => {
                let level = match level {
                    AnnotationLevel::Error => "error",
                    AnnotationLevel::Warning => "warning",
                    AnnotationLevel::Notice => "notice",
                };
                let place = match (file, line) {
                    (Some(f), Some(l)) => format!(" ({f}:{l})"),
                    (Some(f), None) => format!(" ({f})"),
                    _ => String::new(),
                };
                format!("[{job}] {level}: {message}{place}")
            }
            Event::TestReport {
                job,
                attempt,
                totals,
                ..
            } => {
                let attempt = if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                format!(
                    "[{job}] tests{attempt}: {} passed, {} failed, {} errors, {} skipped, {} flaky",
                    totals.passed, totals.failed, totals.errors, totals.skipped, totals.flaky
                )
            }
            Event::CoverageReport {
                job, totals, diff, ..
            } => {
                let diff = diff.as_ref().map_or(String::new(), |d| {
                    format!(", {} of {} changed lines", d.covered, d.total)
                });
                format!(
                    "[{job}] coverage: {:.2}% of lines ({} of {}){diff}",
                    totals.line_rate() * 100.0,
                    totals.lines_covered,
                    totals.lines_total
                )
            }
            Event::BenchmarkReport { job, results, .. } => {
                let count = |verdict: &str| results.iter().filter(|r| r.verdict == verdict).count();
                format!(
                    "[{job}] benchmarks: {} metrics, {} critical, {} warnings, {} improved, {} without enough history",
                    results.len(),
                    count("critical"),
                    count("warning"),
                    count("improved"),
                    count("insufficient-data")
                )
            }
            Event::StepSummary { .. }
            | Event::CacheSaved { .. }
            | Event::ArtifactUploaded { .. }
            | Event::ActionResolved { .. } => {
                return;
            }
            Event::CacheLookup {
                job,
                step,
                kind,
                result,
                matched_key,
                ..
            } => {
                let step = self.step_name(job, Some(*step)).unwrap_or_default();
                let what = match kind {
                    sluice_events::CacheKind::Step => "step cache",
                    sluice_events::CacheKind::Key => "cache",
                };
                let matched = matched_key
                    .as_ref()
                    .map(|k| format!(" (restored from {k})"))
                    .unwrap_or_default();
                format!("[{job}] [{step}] {what} {}{matched}", result.as_str())
            }
            Event::StepFinished {
                job,
                step,
                outcome,
                conclusion,
                exit_code,
                duration_ms,
                cached,
                ..
            } => {
                let name = self.step_name(job, Some(*step)).unwrap_or_default();
                let (mark, _) = outcome_mark(*outcome);
                let took = duration(Duration::from_millis(*duration_ms));
                let how = if *cached { ", from the cache" } else { "" };
                let mut line = format!(
                    "[{job}] {} {name} ({took}{how})",
                    paint(mark, *outcome, color)
                );
                if *outcome == Outcome::Failure {
                    if let Some(code) = exit_code {
                        line.push_str(&format!(", exit code {code}"));
                    }
                    if *conclusion == Outcome::Success {
                        line.push_str(", allowed to fail (continue-on-error)");
                    }
                }
                line
            }
            Event::JobFinished {
                job,
                result,
                duration_ms,
                ..
            } => {
                let (mark, word) = outcome_mark(*result);
                let took = duration(Duration::from_millis(*duration_ms));
                format!("[{job}] {} {word} in {took}", paint(mark, *result, color))
            }
            Event::JobSkipped { job, reason, .. } => {
                format!(
                    "[{job}] {} skipped: {reason}",
                    paint("–", Outcome::Skipped, color)
                )
            }
            Event::RunFinished { .. } => return,
        };
        // Names, messages and lines come from the workflow and its steps.
        crate::output::line(&crate::terminal_text::inert(&text, color));
    }
}
