//! `sluice report junit FILE... [--json]`: what test reports hold,
//! without a run. Exit 0 when every file is a readable report, 2 when
//! one is not (its file, line and column named).

use std::path::Path;

use anyhow::{Context, Result};
use sluice_reports::junit::{JunitReport, MAX_REPORT_BYTES, combine};
use sluice_reports::{TestCase, TestOutcome, Totals, parse_junit};

use crate::cli::{ReportArgs, ReportCommand};
use crate::exit::ExitStatus;
use crate::terminal_text::inert;

/// The slowest tests shown.
const SLOWEST: usize = 5;

pub fn report(cwd: &Path, args: &ReportArgs) -> Result<ExitStatus> {
    match &args.command {
        ReportCommand::Junit { files, json } => junit(cwd, files, *json),
        ReportCommand::Coverage {
            files,
            format,
            json,
        } => super::report_coverage::report_coverage(cwd, files, format.as_deref(), *json),
    }
}

fn junit(cwd: &Path, files: &[std::path::PathBuf], json: bool) -> Result<ExitStatus> {
    let mut reports: Vec<(String, JunitReport)> = Vec::new();
    let mut unreadable = false;
    for file in files {
        let path = cwd.join(file);
        let name = file.display().to_string();
        match read(&path) {
            Ok(report) => reports.push((name, report)),
            Err(message) => {
                eprintln!("{name}:{message}");
                unreadable = true;
            }
        }
    }
    for (name, report) in &reports {
        for warning in &report.warnings {
            eprintln!("{name}: warning: {warning}");
        }
    }
    let (tests, totals) = tests_and_totals(reports);
    if json {
        // Written as it is serialised: a large report's JSON is never
        // held whole in memory.
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        #[derive(serde::Serialize)]
        struct Output<'a> {
            totals: &'a Totals,
            cases: &'a [TestCase],
        }
        let output = Output {
            totals: &totals,
            cases: &tests,
        };
        serde_json::to_writer_pretty(&mut out, &output)?;
        std::io::Write::write_all(&mut out, b"\n")?;
    } else {
        print_summary(&totals, &tests);
    }
    Ok(if unreadable {
        ExitStatus::Usage
    } else {
        ExitStatus::Success
    })
}

/// The tests of the reports (one report's own, several combined) and
/// their counts.
fn tests_and_totals(mut reports: Vec<(String, JunitReport)>) -> (Vec<TestCase>, Totals) {
    if reports.len() == 1 {
        let (_, only) = reports.remove(0);
        let totals = only.totals();
        return (only.cases, totals);
    }
    let tests = combine(reports.iter().map(|(_, r)| r.cases.as_slice()));
    let totals = Totals::of(&tests);
    (tests, totals)
}

/// A report, or `LINE:COL: error: why` (the file's name goes before it).
fn read(path: &Path) -> Result<JunitReport, String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(|e| format!(" error: {e:#}"))?
        .len();
    if size > MAX_REPORT_BYTES as u64 {
        return Err(format!(
            " error: the report is larger than {} MiB",
            MAX_REPORT_BYTES >> 20
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!(" error: cannot read it: {e}"))?;
    parse_junit(&bytes).map_err(|e| format!("{}:{}: error: {}", e.line, e.column, e.problem))
}

fn print_summary(totals: &Totals, tests: &[TestCase]) {
    crate::output::line(&format!(
        "{} tests: {} passed, {} failed, {} errors, {} skipped, {} flaky in {:.2}s",
        totals.tests,
        totals.passed,
        totals.failed,
        totals.errors,
        totals.skipped,
        totals.flaky,
        totals.time
    ));
    let failing: Vec<&TestCase> = tests
        .iter()
        .filter(|t| t.outcome.is_failure() || t.outcome == TestOutcome::Flaky)
        .collect();
    if !failing.is_empty() {
        crate::output::line("");
        for test in failing {
            let place = match (&test.file, test.line) {
                (Some(file), Some(line)) => format!(" ({file}:{line})"),
                (Some(file), None) => format!(" ({file})"),
                _ => String::new(),
            };
            let message = test
                .message
                .as_deref()
                .map(|m| format!(": {}", m.lines().next().unwrap_or("")))
                .unwrap_or_default();
            crate::output::line(&inert(
                &format!(
                    "  {} {}{place}{message}",
                    test.outcome.as_str(),
                    test.display_name()
                ),
                false,
            ));
        }
    }
    let mut slowest: Vec<&TestCase> = tests.iter().collect();
    slowest.sort_by(|a, b| b.time.total_cmp(&a.time));
    let slowest: Vec<&TestCase> = slowest
        .into_iter()
        .take(SLOWEST)
        .filter(|t| t.time > 0.0)
        .collect();
    if !slowest.is_empty() {
        crate::output::line("\nslowest:");
        for test in slowest {
            crate::output::line(&inert(
                &format!("  {:>8.3}s  {}", test.time, test.display_name()),
                false,
            ));
        }
    }
}
