//! `sluice coverage [RUN]` and `sluice coverage diff`: coverage from the
//! history, and the working tree's change measured against a run's.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sluice_exec::git::commits;
use sluice_reports::coverage::{
    CoverageReport, CoverageTotals, DiffCoverage, MAX_LINE, changed_lines, ranges,
};
use sluice_store::CoverageReportRecord;

use crate::cli::{CoverageArgs, CoverageCommand};
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;

pub fn coverage(cwd: &Path, args: &CoverageArgs) -> Result<ExitStatus> {
    match &args.command {
        None => show(cwd, args.run.as_deref(), args.json),
        Some(CoverageCommand::Diff { base, run, json }) => {
            diff(cwd, base.as_deref(), run.as_deref(), *json)
        }
    }
}

/// The run asked for, else the newest with coverage.
fn coverage_run(history: &History, run: Option<&str>) -> Result<(u64, Vec<CoverageReportRecord>)> {
    let number = match run {
        Some(run) => history.resolve_run(run)?,
        None => history
            .store()
            .latest_coverage_run(history.repository(), None, None)?
            .context(
                "no run has recorded coverage (steps declare it with `reports: {coverage: [...]}`)",
            )?,
    };
    let reports = history.store().run_coverage(history.repository(), number)?;
    Ok((number, reports))
}

#[derive(Serialize)]
struct Shown {
    run: u64,
    lines_covered: u64,
    lines_total: u64,
    line_rate: f64,
    branches_covered: u64,
    branches_total: u64,
    files: Vec<ShownFile>,
}

#[derive(Serialize)]
struct ShownFile {
    path: String,
    lines_covered: u64,
    lines_total: u64,
    line_rate: f64,
    uncovered: String,
}

fn show(cwd: &Path, run: Option<&str>, json: bool) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let (number, reports) = coverage_run(&history, run)?;
    if reports.is_empty() {
        crate::output::line(&format!("run #{number} recorded no coverage"));
        return Ok(ExitStatus::Success);
    }
    let merged = merged(&reports);
    let totals = merged.totals();
    let files: Vec<ShownFile> = merged
        .files
        .iter()
        .map(|(path, file)| {
            let t = file.totals();
            ShownFile {
                path: path.clone(),
                lines_covered: t.lines_covered,
                lines_total: t.lines_total,
                line_rate: t.line_rate(),
                uncovered: ranges::to_ranges(
                    file.lines.iter().filter(|(_, h)| **h == 0).map(|(l, _)| *l),
                ),
            }
        })
        .collect();
    let shown = Shown {
        run: number,
        lines_covered: totals.lines_covered,
        lines_total: totals.lines_total,
        line_rate: totals.line_rate(),
        branches_covered: totals.branches_covered,
        branches_total: totals.branches_total,
        files,
    };
    if json {
        crate::output::line(&serde_json::to_string_pretty(&shown)?);
        return Ok(ExitStatus::Success);
    }
    crate::output::line(&format!("run #{number}: {}", totals_text(&totals)));
    for file in &shown.files {
        crate::output::line(&format!(
            "  {:>6.2}%  {:>5}/{:<5}  {}{}",
            file.line_rate * 100.0,
            file.lines_covered,
            file.lines_total,
            crate::terminal_text::inert(&file.path, false),
            if file.uncovered.is_empty() {
                String::new()
            } else {
                format!("  (not run: {})", file.uncovered)
            }
        ));
    }
    Ok(ExitStatus::Success)
}

pub fn totals_text(totals: &CoverageTotals) -> String {
    let mut text = format!(
        "{:.2}% of lines ({} of {})",
        totals.line_rate() * 100.0,
        totals.lines_covered,
        totals.lines_total
    );
    if let Some(rate) = totals.branch_rate() {
        text.push_str(&format!(
            ", {:.2}% of branches ({} of {})",
            rate * 100.0,
            totals.branches_covered,
            totals.branches_total
        ));
    }
    text
}

/// A run's reports as one (per line: ran or not).
fn merged(reports: &[CoverageReportRecord]) -> CoverageReport {
    let mut merged = CoverageReport::default();
    for report in reports {
        for file in &report.per_file {
            let target = merged.file_mut(&file.path);
            for line in ranges::from_ranges(&file.covered, MAX_LINE as usize) {
                target.add_line(line, 1);
            }
            for line in ranges::from_ranges(&file.uncovered, MAX_LINE as usize) {
                target.add_line(line, 0);
            }
        }
    }
    merged
}

#[derive(Serialize)]
struct DiffShown<'a> {
    run: u64,
    base: &'a str,
    merge_base: &'a str,
    covered: u64,
    total: u64,
    diff_rate: Option<f64>,
    files: &'a [sluice_reports::coverage::DiffFile],
}

fn diff(cwd: &Path, base: Option<&str>, run: Option<&str>, json: bool) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    let history = super::history::open(cwd)?;
    let (number, reports) = coverage_run(&history, run)?;
    let base = match base
        .map(str::to_string)
        .or_else(|| config.coverage.base.clone())
    {
        Some(base) => base,
        None => commits::default_branch(&root)
            .context("no default branch found (main, master, origin/HEAD); name one with --base")?,
    };
    let Some(merge_base) = commits::merge_base(&root, &base, "HEAD") else {
        bail!("{base} and HEAD have no common ancestor (is {base} a branch or commit here?)");
    };
    let changed = changed_lines(&commits::diff_since(&root, &merge_base)?, "");
    let diff = DiffCoverage::of(&merged(&reports), &changed);
    let failing = config
        .coverage
        .gate
        .diff_minimum
        .zip(diff.rate())
        .is_some_and(|(minimum, rate)| rate * 100.0 + 1e-9 < minimum);
    if json {
        let shown = DiffShown {
            run: number,
            base: &base,
            merge_base: &merge_base,
            covered: diff.covered,
            total: diff.total,
            diff_rate: diff.rate(),
            files: &diff.files,
        };
        crate::output::line(&serde_json::to_string_pretty(&shown)?);
    } else {
        print_diff(number, &base, &diff);
    }
    Ok(if failing {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn print_diff(run: u64, base: &str, diff: &DiffCoverage) {
    let base = crate::terminal_text::inert(base, false);
    match diff.rate() {
        None => crate::output::line(&format!(
            "the change against {base} has no executable line run #{run}'s coverage measures"
        )),
        Some(rate) => crate::output::line(&format!(
            "diff coverage against {base}: {:.2}% ({} of {} changed lines ran; coverage of run #{run})",
            rate * 100.0,
            diff.covered,
            diff.total
        )),
    }
    for file in &diff.files {
        let uncovered = ranges::to_ranges(file.uncovered.iter().copied());
        crate::output::line(&format!(
            "  {:>6.2}%  {:>4}/{:<4}  {}{}",
            file.rate() * 100.0,
            file.covered,
            file.total,
            crate::terminal_text::inert(&file.path, false),
            if uncovered.is_empty() {
                String::new()
            } else {
                format!("  (not run: {uncovered})")
            }
        ));
    }
}
