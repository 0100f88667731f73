//! `[flaky]` in `sluice.toml`: the thresholds of flaky detection, and
//! whether flaky tests are quarantined automatically.

use anyhow::{Result, bail};
use serde::Deserialize;
use sluice_reports::flaky::FlakyRules;

/// `[flaky]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlakyFile {
    window_days: Option<u32>,
    flip_rate: Option<f64>,
    min_samples: Option<usize>,
    broken_failure_rate: Option<f64>,
    infrastructure_ratio: Option<f64>,
    recent_runs: Option<usize>,
    auto_quarantine: Option<bool>,
    release_after: Option<usize>,
}

/// The settings of flaky detection.
#[derive(Debug, Clone)]
pub struct FlakySettings {
    /// How far back detection looks.
    pub window_days: u32,
    pub rules: FlakyRules,
    /// `sluice run` adds the flaky tests it finds to the quarantine.
    pub auto_quarantine: bool,
    /// A quarantined test that passed this many times in a row is proposed
    /// for release.
    pub release_after: usize,
}

impl FlakySettings {
    pub fn from_file(file: FlakyFile) -> Result<FlakySettings> {
        let defaults = FlakyRules::default();
        let fraction = |name: &str, value: Option<f64>, default: f64| -> Result<f64> {
            match value {
                Some(v) if !(0.0..=1.0).contains(&v) => {
                    bail!("[flaky] {name} = {v}: a fraction from 0 to 1")
                }
                Some(v) => Ok(v),
                None => Ok(default),
            }
        };
        Ok(FlakySettings {
            window_days: file.window_days.unwrap_or(30).max(1),
            rules: FlakyRules {
                flip_rate: fraction("flip-rate", file.flip_rate, defaults.flip_rate)?,
                min_samples: file.min_samples.unwrap_or(defaults.min_samples).max(2),
                broken_failure_rate: fraction(
                    "broken-failure-rate",
                    file.broken_failure_rate,
                    defaults.broken_failure_rate,
                )?,
                infrastructure_ratio: fraction(
                    "infrastructure-ratio",
                    file.infrastructure_ratio,
                    defaults.infrastructure_ratio,
                )?,
                recent_runs: file.recent_runs.unwrap_or(defaults.recent_runs).max(2),
            },
            auto_quarantine: file.auto_quarantine.unwrap_or(false),
            release_after: file.release_after.unwrap_or(20).max(1),
        })
    }
}
