//! Test reports read during a run: the files a step declares with
//! `reports:` (after each attempt), or those a test-report action names.
//! Each set of files becomes a `TestReport` event (which the history
//! keeps per test), annotations for the failed tests, and a step summary
//! with the counts, the failures and the slowest tests.

use std::path::Path;
use std::time::SystemTime;

use sluice_reports::junit::{MAX_REPORT_BYTES, combine};
use sluice_reports::{Quarantine, TestCase, TestOutcome, Totals, parse_junit};

use crate::events::{AnnotationLevel, Event, LogLevel, now};
use crate::report_files::{self, ReportFileError, relative};
use crate::step::StepContext;

/// Annotations made at most for one set of reports.
const MAX_ANNOTATIONS: usize = 50;
/// Failed tests listed at most in a step summary.
const MAX_SUMMARY_FAILURES: usize = 20;
/// Slowest tests listed in a step summary.
const SLOWEST: usize = 5;

/// What a set of reports held.
#[derive(Debug, Default)]
pub(crate) struct ReportsRead {
    /// The report files found.
    pub files: usize,
    /// Files that were not test reports.
    pub unreadable: usize,
    pub cases: Vec<TestCase>,
    pub totals: Totals,
}

impl ReportsRead {
    /// The failed tests (errors included).
    pub fn failures(&self) -> impl Iterator<Item = &TestCase> {
        self.cases.iter().filter(|c| c.outcome.is_failure())
    }
}

/// Reads the JUnit reports `globs` match in the job's workspace (only
/// files written since `since`, when given: a file an earlier attempt or
/// run left is not read again), and reports them.
pub(crate) fn read(
    ctx: &StepContext,
    globs: &[String],
    attempt: u32,
    since: Option<SystemTime>,
) -> ReportsRead {
    let files = report_files::matching(ctx, globs, since, "reports");
    let mut read = ReportsRead {
        files: files.len(),
        ..ReportsRead::default()
    };
    let mut reports = Vec::new();
    let mut names = Vec::new();
    for file in &files {
        let name = relative(ctx.workspace, file);
        match read_one(file) {
            Ok(report) => {
                for warning in &report.warnings {
                    warn(ctx, &format!("{name}: {warning}"));
                }
                reports.push(report);
                names.push(name);
            }
            Err(problem) => {
                read.unreadable += 1;
                ctx.shared.system_message(
                    ctx.key,
                    Some(ctx.index),
                    LogLevel::Error,
                    &format!("{name}:{problem}"),
                );
            }
        }
    }
    read.cases = match reports.as_slice() {
        [] => Vec::new(),
        [_] => reports.swap_remove(0).cases,
        _ => combine(reports.iter().map(|r| r.cases.as_slice())),
    };
    read.totals = Totals::of(&read.cases);
    if !names.is_empty() {
        announce(ctx, attempt, names, &read);
    }
    read
}

/// A report, or `LINE:COL: why` for one that is not.
fn read_one(file: &Path) -> Result<sluice_reports::JunitReport, ReportFileError> {
    let bytes = report_files::read_bounded(file, MAX_REPORT_BYTES)?;
    parse_junit(&bytes).map_err(|e| ReportFileError::NotAReport(e.to_string()))
}

/// The repository's quarantine; a file that cannot be read quarantines
/// nothing, and the step's log says why.
pub(crate) fn quarantine<'s>(ctx: &StepContext<'s>) -> &'s Quarantine {
    static EMPTY: std::sync::OnceLock<Quarantine> = std::sync::OnceLock::new();
    match ctx.shared.quarantine() {
        Ok(quarantine) => quarantine,
        Err(problem) => {
            warn(ctx, &format!("{problem}; no test is quarantined"));
            EMPTY.get_or_init(Quarantine::default)
        }
    }
}

fn warn(ctx: &StepContext, message: &str) {
    ctx.shared
        .system_message(ctx.key, Some(ctx.index), LogLevel::Warning, message);
}

/// The event, the annotations and the summary of a set of reports.
fn announce(ctx: &StepContext, attempt: u32, files: Vec<String>, read: &ReportsRead) {
    let shared = ctx.shared;
    let masked: Vec<TestCase> = read.cases.iter().map(|c| masked(ctx, c)).collect();
    shared.emit(Event::TestReport {
        job: ctx.key.clone(),
        step: ctx.index,
        attempt,
        files,
        totals: read.totals,
        cases: masked.clone(),
        tree: shared.clean_tree().clone(),
        at: now(),
    });
    for case in masked
        .iter()
        .filter(|c| c.outcome.is_failure())
        .take(MAX_ANNOTATIONS)
    {
        shared.emit(Event::Annotation {
            job: ctx.key.clone(),
            step: Some(ctx.index),
            level: AnnotationLevel::Error,
            message: case
                .message
                .clone()
                .unwrap_or_else(|| format!("{} {}", case.display_name(), case.outcome.as_str())),
            file: case.file.clone(),
            line: case.line,
            col: None,
            title: Some(format!("{} {}", case.display_name(), case.outcome.as_str())),
            at: now(),
        });
    }
    shared.emit(Event::StepSummary {
        job: ctx.key.clone(),
        step: ctx.index,
        markdown: summary(&read.totals, &masked, attempt, quarantine(ctx)),
        at: now(),
    });
}

/// A test's texts with the run's secrets masked.
fn masked(ctx: &StepContext, case: &TestCase) -> TestCase {
    let mut case = case.clone();
    let shared = ctx.shared;
    case.name = shared.mask(&case.name);
    case.message = case.message.map(|m| shared.mask(&m));
    case.details = case.details.map(|d| shared.mask(&d));
    case
}

/// The step summary of a set of reports, in Markdown.
fn summary(totals: &Totals, cases: &[TestCase], attempt: u32, quarantine: &Quarantine) -> String {
    let mut out = String::from("### Tests");
    if attempt > 1 {
        out.push_str(&format!(" (attempt {attempt})"));
    }
    out.push_str(&format!(
        "\n\n| Tests | Passed | Failed | Errors | Skipped | Flaky | Time |\n|---|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} | {:.2}s |\n",
        totals.tests, totals.passed, totals.failed, totals.errors, totals.skipped, totals.flaky, totals.time
    ));
    let failing: Vec<&TestCase> = cases
        .iter()
        .filter(|c| c.outcome.is_failure() || c.outcome == TestOutcome::Flaky)
        .collect();
    if !failing.is_empty() {
        out.push_str("\n| Test | Outcome | Message |\n|---|---|---|\n");
        for case in failing.iter().take(MAX_SUMMARY_FAILURES) {
            let mut outcome = case.outcome.as_str().to_string();
            if quarantine.entry_for(case).is_some() {
                outcome.push_str(" (quarantined)");
            }
            let message = case
                .message
                .as_deref()
                .and_then(|m| m.lines().next())
                .unwrap_or("");
            out.push_str(&format!(
                "| {} | {outcome} | {} |\n",
                cell(&case.display_name()),
                cell(message)
            ));
        }
        if failing.len() > MAX_SUMMARY_FAILURES {
            out.push_str(&format!(
                "\n… and {} more.\n",
                failing.len() - MAX_SUMMARY_FAILURES
            ));
        }
    }
    let mut slowest: Vec<&TestCase> = cases.iter().filter(|c| c.time > 0.0).collect();
    slowest.sort_by(|a, b| b.time.total_cmp(&a.time));
    if !slowest.is_empty() {
        out.push_str("\nSlowest:\n\n");
        for case in slowest.into_iter().take(SLOWEST) {
            out.push_str(&format!(
                "- {:.3}s {}\n",
                case.time,
                cell(&case.display_name())
            ));
        }
    }
    out
}

/// Text fit for a Markdown table cell.
fn cell(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c == '|' || c.is_control() { ' ' } else { c })
        .collect()
}
