//! Coverage reports read during a run: the files a step declares with
//! `reports: {coverage: [...]}` (after its last attempt) or those a
//! coverage action names. They are merged (shards, several formats),
//! their paths made the repository's, measured against the change (diff
//! coverage, from git), judged by the gates, and reported: a
//! `CoverageReport` event for the history, a step summary, and an error
//! for each broken gate.

use std::collections::HashSet;
use std::path::Path;
use std::time::SystemTime;

use sluice_reports::coverage::{
    ChangedLines, CoverageFormat, CoverageGate, CoverageReport, DiffCoverage, GateFailure,
    MAX_COVERAGE_BYTES, PathContext, changed_lines, parse_coverage, ranges,
};
use sluice_reports::coverage::{CoverageTotals, FileCoverage};

use crate::events::{AnnotationLevel, CoverageFile, DiffTotals, Event, LogLevel, now};
use crate::git::commits;
use crate::report_files::{self, ReportFileError, relative};
use crate::step::StepContext;

/// Changed files listed at most in a summary or a gate's message.
const LEAST_COVERED: usize = 5;
/// Uncovered changed lines shown per file in a summary.
const LINES_SHOWN: usize = 30;

/// What a step asks of its coverage.
#[derive(Debug, Default)]
pub(crate) struct CoverageRequest {
    pub globs: Vec<String>,
    /// `None`: told by each file's contents.
    pub format: Option<CoverageFormat>,
    /// The step's gate (the run's settings fill the keys it leaves out).
    pub gate: CoverageGate,
    pub base: Option<String>,
}

/// What was read and judged.
#[derive(Debug, Default)]
pub(crate) struct CoverageRead {
    pub files: usize,
    pub unreadable: usize,
    pub totals: CoverageTotals,
    pub failures: Vec<GateFailure>,
}

pub(crate) fn read(
    ctx: &StepContext,
    request: &CoverageRequest,
    attempt: u32,
    since: Option<SystemTime>,
) -> CoverageRead {
    let files = report_files::matching(ctx, &request.globs, since, "coverage reports");
    let mut read = CoverageRead {
        files: files.len(),
        ..CoverageRead::default()
    };
    let mut merged = CoverageReport::default();
    let mut names = Vec::new();
    let context = path_context(ctx.workspace);
    for file in &files {
        let name = relative(ctx.workspace, file);
        match read_one(file, request.format) {
            Ok((report, sources)) => {
                merged.merge(&context.normalise(report, &sources));
                names.push(name);
            }
            Err(problem) => {
                read.unreadable += 1;
                message(ctx, LogLevel::Error, &format!("{name}:{problem}"));
            }
        }
    }
    if names.is_empty() {
        return read;
    }
    let merged = with_repository_paths(ctx.workspace, merged);
    read.totals = merged.totals();
    let settings = &ctx.shared.spec.coverage;
    let gate = request.gate.over(settings.gate);
    let base = request.base.clone().or_else(|| settings.base.clone());
    let diff = change_of(ctx, base.as_deref())
        .map(|(base, changed)| (base, DiffCoverage::of(&merged, &changed)));
    read.failures = gate.judge(
        &read.totals,
        settings.baseline_of(ctx.key.as_str(), ctx.index),
        diff.as_ref().map(|(_, d)| d),
    );
    announce(ctx, attempt, names, &merged, &read, diff.as_ref());
    read
}

/// Paths a report wrote that are not the repository's (a Go import path,
/// a JaCoCo package path) are looked up among the repository's files.
fn with_repository_paths(workspace: &Path, report: CoverageReport) -> CoverageReport {
    let all_found = report.files.keys().all(|p| workspace.join(p).is_file());
    if all_found {
        return report;
    }
    let files: HashSet<String> = sluice_glob::walk_matches(workspace, &["**".to_string()])
        .unwrap_or_default()
        .into_iter()
        .map(|f| relative(workspace, &f))
        .filter(|f| !f.starts_with(".git/"))
        .collect();
    let context = PathContext {
        files: Some(files),
        ..path_context(workspace)
    };
    context.normalise(report, &[])
}

fn path_context(workspace: &Path) -> PathContext {
    let mut roots = vec![workspace.to_string_lossy().into_owned()];
    if let Ok(real) = workspace.canonicalize() {
        roots.push(real.to_string_lossy().into_owned());
    }
    PathContext { roots, files: None }
}

fn read_one(
    file: &Path,
    format: Option<CoverageFormat>,
) -> Result<(CoverageReport, Vec<String>), ReportFileError> {
    let bytes = report_files::read_bounded(file, MAX_COVERAGE_BYTES)?;
    parse_coverage(&bytes, format)
        .map(|read| (read.report, read.sources))
        .map_err(|e| ReportFileError::NotAReport(e.to_string()))
}

/// The change the step's workspace holds against `base` (or the default
/// branch): its merge base and changed lines. `None`, with a note in the
/// log, when git cannot tell.
fn change_of(ctx: &StepContext, base: Option<&str>) -> Option<(String, ChangedLines)> {
    let root = ctx.workspace;
    let base_ref = match base {
        Some(base) => base.to_string(),
        None => commits::default_branch(root)?,
    };
    let Some(merge_base) = commits::merge_base(root, &base_ref, "HEAD") else {
        message(
            ctx,
            LogLevel::Detail,
            &format!("diff coverage not measured: no common ancestor of {base_ref} and HEAD"),
        );
        return None;
    };
    match commits::diff_since(root, &merge_base) {
        Ok(diff) => Some((merge_base, changed_lines(&diff, ""))),
        Err(e) => {
            message(
                ctx,
                LogLevel::Warning,
                &format!("diff coverage not measured: {e}"),
            );
            None
        }
    }
}

fn message(ctx: &StepContext, level: LogLevel, text: &str) {
    ctx.shared
        .system_message(ctx.key, Some(ctx.index), level, text);
}

/// The event, the gate's errors and the summary.
fn announce(
    ctx: &StepContext,
    attempt: u32,
    files: Vec<String>,
    report: &CoverageReport,
    read: &CoverageRead,
    diff: Option<&(String, DiffCoverage)>,
) {
    let shared = ctx.shared;
    shared.emit(Event::CoverageReport {
        job: ctx.key.clone(),
        step: ctx.index,
        attempt,
        files,
        totals: read.totals,
        per_file: report
            .files
            .iter()
            .map(|(path, file)| file_record(path, file))
            .collect(),
        diff: diff.map(|(base, d)| DiffTotals {
            base: base.clone(),
            covered: d.covered,
            total: d.total,
        }),
        at: now(),
    });
    for failure in &read.failures {
        let mut text = failure.to_string();
        if let (GateFailure::DiffBelowMinimum { .. }, Some((_, diff))) = (failure, diff) {
            text.push_str(&format!("; least covered: {}", least_covered(diff)));
        }
        message(ctx, LogLevel::Error, &text);
        shared.emit(Event::Annotation {
            job: ctx.key.clone(),
            step: Some(ctx.index),
            level: AnnotationLevel::Error,
            message: text,
            file: None,
            line: None,
            col: None,
            title: Some("coverage gate".into()),
            at: now(),
        });
    }
    shared.emit(Event::StepSummary {
        job: ctx.key.clone(),
        step: ctx.index,
        markdown: summary(
            read,
            diff,
            ctx.shared
                .spec
                .coverage
                .baseline_of(ctx.key.as_str(), ctx.index),
        ),
        at: now(),
    });
}

fn file_record(path: &str, file: &FileCoverage) -> CoverageFile {
    let covered = file.lines.iter().filter(|(_, h)| **h > 0).map(|(l, _)| *l);
    let uncovered = file.lines.iter().filter(|(_, h)| **h == 0).map(|(l, _)| *l);
    CoverageFile {
        path: path.to_string(),
        totals: file.totals(),
        covered: ranges::to_ranges(covered),
        uncovered: ranges::to_ranges(uncovered),
    }
}

/// `a.py 40% (2 of 5), b.py 80% (4 of 5)`.
fn least_covered(diff: &DiffCoverage) -> String {
    diff.files
        .iter()
        .take(LEAST_COVERED)
        .map(|f| {
            format!(
                "{} {:.0}% ({} of {})",
                f.path,
                f.rate() * 100.0,
                f.covered,
                f.total
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The step summary, in Markdown.
fn summary(
    read: &CoverageRead,
    diff: Option<&(String, DiffCoverage)>,
    baseline: Option<f64>,
) -> String {
    let totals = &read.totals;
    let percent = totals.line_rate() * 100.0;
    let mut out = String::from("### Coverage\n\n| Lines | Branches | Change |\n|---|---|---|\n");
    let branches = totals.branch_rate().map_or("–".to_string(), |r| {
        format!(
            "{:.2}% ({} of {})",
            r * 100.0,
            totals.branches_covered,
            totals.branches_total
        )
    });
    let change = baseline.map_or("–".to_string(), |b| {
        format!(
            "{:+.2} points against {b:.2}% on the default branch",
            percent - b
        )
    });
    out.push_str(&format!(
        "| {percent:.2}% ({} of {}) | {branches} | {change} |\n",
        totals.lines_covered, totals.lines_total
    ));
    if let Some((base, diff)) = diff {
        match diff.rate() {
            Some(rate) => out.push_str(&format!(
                "\nDiff coverage against {}: **{:.2}%** ({} of {} changed lines ran).\n",
                &base[..base.len().min(12)],
                rate * 100.0,
                diff.covered,
                diff.total
            )),
            None => out.push_str("\nThe change has no executable line the reports measure.\n"),
        }
        let uncovered: Vec<_> = diff
            .files
            .iter()
            .filter(|f| !f.uncovered.is_empty())
            .collect();
        if !uncovered.is_empty() {
            out.push_str("\n| Changed file | Covered | Lines not run |\n|---|---|---|\n");
            for file in uncovered.iter().take(LEAST_COVERED * 4) {
                let mut lines = ranges::to_ranges(file.uncovered.iter().copied().take(LINES_SHOWN));
                if file.uncovered.len() > LINES_SHOWN {
                    lines.push_str(", …");
                }
                out.push_str(&format!(
                    "| {} | {:.0}% ({} of {}) | {lines} |\n",
                    file.path.replace('|', " "),
                    file.rate() * 100.0,
                    file.covered,
                    file.total
                ));
            }
        }
    }
    if !read.failures.is_empty() {
        out.push_str("\nGate:\n\n");
        for failure in &read.failures {
            out.push_str(&format!("- ❌ {failure}\n"));
        }
    }
    out
}
