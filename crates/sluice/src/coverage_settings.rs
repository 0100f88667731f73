//! `[coverage]` in `sluice.toml`: the gates every step's coverage must
//! meet (a step's `coverage-gate` wins key by key) and what diff
//! coverage is measured against.

use anyhow::{Result, bail};
use serde::Deserialize;
use sluice_reports::coverage::CoverageGate;

/// `[coverage]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CoverageFile {
    minimum: Option<f64>,
    max_drop: Option<f64>,
    diff_minimum: Option<f64>,
    base: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CoverageConfig {
    pub gate: CoverageGate,
    /// The ref diff coverage is measured against; `None`: the default branch.
    pub base: Option<String>,
}

impl CoverageConfig {
    pub fn from_file(file: CoverageFile) -> Result<CoverageConfig> {
        for (name, value) in [
            ("minimum", file.minimum),
            ("max-drop", file.max_drop),
            ("diff-minimum", file.diff_minimum),
        ] {
            if let Some(v) = value.filter(|v| !(0.0..=100.0).contains(v)) {
                bail!("[coverage] {name} = {v}: a percentage from 0 to 100");
            }
        }
        Ok(CoverageConfig {
            gate: CoverageGate {
                minimum: file.minimum,
                max_drop: file.max_drop,
                diff_minimum: file.diff_minimum,
            },
            base: file.base.filter(|b| !b.trim().is_empty()),
        })
    }
}

/// The line coverage (percent) of each step of the default branch's
/// newest run that recorded coverage: what a step's `max-drop` compares
/// with (the same job and step; matrix instances are jobs of their own).
/// Empty when there is none yet (a drop cannot be judged, and is not).
pub fn default_branch_baseline(
    root: &std::path::Path,
    history: &sluice_store::History,
    repository: &str,
) -> Vec<(String, usize, f64)> {
    let default_branch = sluice_exec::git::read_state(root, &Default::default())
        .map(|state| state.default_branch)
        .unwrap_or_else(|_| "main".into());
    let git_ref = format!("refs/heads/{default_branch}");
    let Some(run) = history
        .latest_coverage_run(repository, Some(&git_ref), None)
        .ok()
        .flatten()
    else {
        return Vec::new();
    };
    history
        .run_coverage(repository, run)
        .unwrap_or_default()
        .iter()
        .filter(|report| report.totals.lines_total > 0)
        .map(|report| {
            (
                report.job.as_str().to_string(),
                report.step,
                report.totals.line_rate() * 100.0,
            )
        })
        .collect()
}
