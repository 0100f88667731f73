//! `[perf]` in `sluice.toml`: how benchmark results are judged, for every
//! benchmark and for those whose names match a pattern; and the history
//! the executor judges against.
//!
//! ```toml
//! [perf]
//! min-change = 2      # percent: smaller changes are never reported
//! warning = 2         # a significant regression this large warns
//! critical = 5        # ... and this large fails the step
//! confidence = 99     # percent
//! # preset = "fixed-10-20"   # the 10% / 20% sizes of a fixed-threshold script
//!
//! [perf.benchmarks."parse/*"]
//! critical = 10
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};
use serde::Deserialize;
use sluice_events::Testbed;
use sluice_reports::perf::{PerfConfig, PerfSettings};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PerfFile {
    #[serde(flatten)]
    sizes: SizesFile,
    preset: Option<String>,
    #[serde(default)]
    benchmarks: BTreeMap<String, SizesFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SizesFile {
    min_change: Option<f64>,
    warning: Option<f64>,
    critical: Option<f64>,
    confidence: Option<f64>,
}

impl SizesFile {
    fn over(&self, base: PerfSettings, context: &str) -> Result<PerfSettings> {
        let fraction = |name: &str, value: Option<f64>, default: f64| -> Result<f64> {
            match value {
                Some(v) if !(0.0..=1000.0).contains(&v) => {
                    bail!("{context} {name} = {v}: a percentage")
                }
                Some(v) => Ok(v / 100.0),
                None => Ok(default),
            }
        };
        let confidence = fraction("confidence", self.confidence, base.confidence)?;
        if !(0.5..1.0).contains(&confidence) {
            bail!("{context} confidence must be at least 50 and below 100 (percent)");
        }
        Ok(PerfSettings {
            min_change: fraction("min-change", self.min_change, base.min_change)?,
            warning: fraction("warning", self.warning, base.warning)?,
            critical: fraction("critical", self.critical, base.critical)?,
            confidence,
            ..base
        })
    }
}

pub fn perf_config(file: PerfFile) -> Result<PerfConfig> {
    let base = match file.preset.as_deref() {
        None | Some("statistical") => PerfSettings::default(),
        Some("fixed-10-20") => PerfSettings::fixed_10_20(),
        Some(other) => bail!("[perf] preset = \"{other}\": use \"statistical\" or \"fixed-10-20\""),
    };
    let default = file.sizes.over(base, "[perf]")?;
    let mut benchmarks = Vec::new();
    for (pattern, sizes) in &file.benchmarks {
        if sizes.confidence.is_some() {
            bail!(
                "[perf.benchmarks.\"{pattern}\"] confidence: the confidence is one for all benchmarks (false alarms are held across them together); set it in [perf]"
            );
        }
        benchmarks.push((
            pattern.clone(),
            sizes.over(default, &format!("[perf.benchmarks.\"{pattern}\"]"))?,
        ));
    }
    Ok(PerfConfig {
        default,
        benchmarks,
    })
}

/// The default branch's values from the history, for the executor.
pub struct HistoryPerfSeries {
    store: Mutex<sluice_store::History>,
    repository: String,
    default_ref: String,
}

impl HistoryPerfSeries {
    pub fn new(
        store: sluice_store::History,
        repository: String,
        default_ref: String,
    ) -> Arc<HistoryPerfSeries> {
        Arc::new(HistoryPerfSeries {
            store: Mutex::new(store),
            repository,
            default_ref,
        })
    }
}

impl sluice_exec::PerfSeries for HistoryPerfSeries {
    fn series(&self, benchmark: &str, measure: &str, testbed: &Testbed) -> Vec<f64> {
        let Ok(store) = self.store.lock() else {
            return Vec::new();
        };
        store
            .perf_series(
                &self.repository,
                benchmark,
                measure,
                testbed,
                &self.default_ref,
            )
            .unwrap_or_default()
    }
}

/// `refs/heads/<default branch>` of the repository at `root`.
pub fn default_ref(root: &std::path::Path) -> String {
    let branch = sluice_exec::git::read_state(root, &Default::default())
        .map(|state| state.default_branch)
        .unwrap_or_else(|_| "main".into());
    format!("refs/heads/{branch}")
}
