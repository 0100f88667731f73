//! `sluice report coverage FILE... [--format F] [--json]`: what coverage
//! reports hold, without a run; several files (shards, or one suite in
//! two formats) merge. Exit 2 when one is not a coverage report (file,
//! line and column named).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;
use sluice_reports::coverage::{
    CoverageFormat, CoverageReport, MAX_COVERAGE_BYTES, PathContext, parse_coverage, ranges,
};

use crate::exit::ExitStatus;
use crate::terminal_text::inert;

#[derive(Serialize)]
struct Output {
    lines_covered: u64,
    lines_total: u64,
    line_rate: f64,
    branches_covered: u64,
    branches_total: u64,
    branch_rate: Option<f64>,
    files: Vec<FileOutput>,
}

#[derive(Serialize)]
struct FileOutput {
    path: String,
    lines_covered: u64,
    lines_total: u64,
    line_rate: f64,
    branches_covered: u64,
    branches_total: u64,
    /// Executable lines never run, as ranges (`3-5,9`).
    missing: String,
}

pub fn report_coverage(
    cwd: &Path,
    files: &[PathBuf],
    format: Option<&str>,
    json: bool,
) -> Result<ExitStatus> {
    let format = match format {
        None => None,
        Some(name) => match CoverageFormat::named(name) {
            Some(format) => Some(format),
            None => bail!("--format {name}: use cobertura, jacoco, lcov or go"),
        },
    };
    let context = path_context(cwd);
    let mut merged = CoverageReport::default();
    let mut unreadable = false;
    for file in files {
        let name = file.display().to_string();
        match read(&cwd.join(file), format) {
            Ok((report, sources)) => merged.merge(&context.normalise(report, &sources)),
            Err(problem) => {
                eprintln!("{name}:{problem}");
                unreadable = true;
            }
        }
    }
    let output = output_of(&merged);
    if json {
        crate::output::line(&serde_json::to_string_pretty(&output)?);
    } else {
        print(&output);
    }
    Ok(if unreadable {
        ExitStatus::Usage
    } else {
        ExitStatus::Success
    })
}

/// Paths under the repository (or, outside one, the current directory)
/// are made relative to it; others are found by suffix among its files.
fn path_context(cwd: &Path) -> PathContext {
    let root = sluice_exec::git::find_root(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut roots = vec![root.to_string_lossy().into_owned()];
    if let Ok(real) = root.canonicalize() {
        roots.push(real.to_string_lossy().into_owned());
    }
    let files: HashSet<String> = sluice_glob::walk_matches(&root, &["**".to_string()])
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| {
            f.strip_prefix(&root)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        })
        .filter(|f| !f.starts_with(".git/"))
        .collect();
    PathContext {
        roots,
        files: Some(files),
    }
}

fn read(
    path: &Path,
    format: Option<CoverageFormat>,
) -> Result<(CoverageReport, Vec<String>), String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!(" cannot read it: {e}"))?
        .len();
    if size > MAX_COVERAGE_BYTES as u64 {
        return Err(format!(
            " the report is larger than {} MiB",
            MAX_COVERAGE_BYTES >> 20
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!(" cannot read it: {e}"))?;
    parse_coverage(&bytes, format)
        .map(|read| (read.report, read.sources))
        .map_err(|e| e.to_string())
}

fn output_of(report: &CoverageReport) -> Output {
    let totals = report.totals();
    Output {
        lines_covered: totals.lines_covered,
        lines_total: totals.lines_total,
        line_rate: totals.line_rate(),
        branches_covered: totals.branches_covered,
        branches_total: totals.branches_total,
        branch_rate: totals.branch_rate(),
        files: report
            .files
            .iter()
            .map(|(path, file)| {
                let t = file.totals();
                FileOutput {
                    path: path.clone(),
                    lines_covered: t.lines_covered,
                    lines_total: t.lines_total,
                    line_rate: t.line_rate(),
                    branches_covered: t.branches_covered,
                    branches_total: t.branches_total,
                    missing: ranges::to_ranges(
                        file.lines.iter().filter(|(_, h)| **h == 0).map(|(l, _)| *l),
                    ),
                }
            })
            .collect(),
    }
}

fn print(output: &Output) {
    let totals = sluice_reports::coverage::CoverageTotals {
        lines_covered: output.lines_covered,
        lines_total: output.lines_total,
        branches_covered: output.branches_covered,
        branches_total: output.branches_total,
    };
    crate::output::line(&format!(
        "{} files: {}",
        output.files.len(),
        super::coverage::totals_text(&totals)
    ));
    for file in &output.files {
        crate::output::line(&format!(
            "  {:>6.2}%  {:>5}/{:<5}  {}{}",
            file.line_rate * 100.0,
            file.lines_covered,
            file.lines_total,
            inert(&file.path, false),
            if file.missing.is_empty() {
                String::new()
            } else {
                format!("  (not run: {})", file.missing)
            }
        ));
    }
}
