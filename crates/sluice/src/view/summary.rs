//! The summary printed when a run ends: each job's result and duration,
//! the run's wall time, and the critical path.

use sluice_exec::{Outcome, RunReport};

use super::{dim, duration, outcome_mark, paint};

pub fn render(run_number: u64, report: &RunReport, color: bool) -> String {
    let mut out = String::new();
    let width = report
        .jobs
        .iter()
        .map(|j| j.name.chars().count())
        .max()
        .unwrap_or(0);
    out.push('\n');
    for job in &report.jobs {
        let (mark, word) = outcome_mark(job.result);
        let took = job.duration.map(duration).unwrap_or_else(|| "-".into());
        let mut line = format!(
            "  {} {:width$}  {:>8}  {}",
            paint(mark, job.result, color),
            job.name,
            took,
            word
        );
        if let Some(reason) = &job.reason {
            line.push_str(&dim(&format!(" ({reason})"), color));
        }
        out.push_str(&line);
        out.push('\n');
    }
    let (_, word) = outcome_mark(report.result);
    let verdict = paint(&format!("run #{run_number} {word}"), report.result, color);
    out.push_str(&format!("\n{verdict} in {}", duration(report.duration)));
    if report.critical_path.len() > 1 {
        out.push_str(&format!(
            "; critical path: {}",
            report.critical_path.join(" → ")
        ));
    }
    out.push('\n');
    let (cacheable, restored) = report.cached_steps;
    if cacheable > 0 && restored == cacheable {
        out.push_str(&format!(
            "all {cacheable} cacheable steps were restored from the cache\n"
        ));
    } else if cacheable > 0 {
        out.push_str(&format!(
            "{restored} of {cacheable} cacheable steps were restored from the cache\n"
        ));
    }
    if report.result == Outcome::Failure {
        out.push_str(&format!("see the logs with: sluice logs {run_number}\n"));
    }
    out
}
