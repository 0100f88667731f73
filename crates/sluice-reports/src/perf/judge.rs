//! A run's metrics judged together: each against its own series, false
//! alarms across them held by Benjamini–Hochberg, each verdict by its
//! benchmark's settings.

use serde::{Deserialize, Serialize};
use sluice_events::PerfResult;

use super::detector::{PerfSettings, compare, significant, verdict};
use super::model::BenchMetric;
use super::stats::median;

/// The settings of every benchmark: one default, and overrides for the
/// benchmarks whose names match a pattern (`*` matches any text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerfConfig {
    pub default: PerfSettings,
    pub benchmarks: Vec<(String, PerfSettings)>,
}

impl PerfConfig {
    /// The settings of `benchmark`: the last matching override, else the default.
    pub fn settings_for(&self, benchmark: &str) -> PerfSettings {
        self.benchmarks
            .iter()
            .rev()
            .find(|(pattern, _)| wildcard_match(pattern, benchmark))
            .map_or(self.default, |(_, settings)| *settings)
    }
}

/// `*` matches any text, everything else itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Judges `metrics`, each against `series_of(metric)` (its default-branch
/// run values, oldest first).
pub fn judge_all(
    metrics: &[BenchMetric],
    series_of: &dyn Fn(&BenchMetric) -> Vec<f64>,
    config: &PerfConfig,
) -> Vec<PerfResult> {
    let settings: Vec<PerfSettings> = metrics
        .iter()
        .map(|m| config.settings_for(&m.benchmark))
        .collect();
    let comparisons: Vec<_> = metrics
        .iter()
        .zip(&settings)
        .map(|(metric, settings)| compare(&series_of(metric), &metric.values, settings))
        .collect();
    let flags = significant(
        &comparisons.iter().collect::<Vec<_>>(),
        config.default.confidence,
    );
    metrics
        .iter()
        .zip(&comparisons)
        .zip(flags.iter().zip(&settings))
        .map(|((metric, comparison), (flag, settings))| PerfResult {
            benchmark: metric.benchmark.clone(),
            measure: metric.measure.clone(),
            unit: metric.unit.clone(),
            bigger_is_better: metric.bigger_is_better,
            value: median(&metric.values),
            repetitions: metric.values.clone(),
            verdict: verdict(comparison, *flag, metric.bigger_is_better, settings)
                .as_str()
                .to_string(),
            baseline: comparison.baseline,
            change: comparison.change,
            interval: comparison.interval,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_match_by_pattern() {
        let strict = PerfSettings {
            critical: 0.01,
            ..PerfSettings::default()
        };
        let config = PerfConfig {
            default: PerfSettings::default(),
            benchmarks: vec![("parse/*".into(), strict)],
        };
        assert_eq!(config.settings_for("parse/big").critical, 0.01);
        assert_eq!(config.settings_for("render").critical, 0.05);
        assert!(wildcard_match("*big*", "parse/big/1"));
        assert!(!wildcard_match("a*b", "ab-c"));
    }

    #[test]
    fn each_metric_gets_its_verdict() {
        let flat: Vec<f64> = (0..12)
            .map(|i| 1.0 + 0.002 * ((i % 3) as f64 - 1.0))
            .collect();
        let metrics = vec![
            BenchMetric::latency("slow", vec![1.3, 1.31, 1.29]),
            BenchMetric::latency("same", vec![1.0, 1.001]),
            BenchMetric::latency("new", vec![1.0]),
        ];
        let series = |m: &BenchMetric| {
            if m.benchmark == "new" {
                Vec::new()
            } else {
                flat.clone()
            }
        };
        let results = judge_all(&metrics, &series, &PerfConfig::default());
        let verdicts: Vec<&str> = results.iter().map(|r| r.verdict.as_str()).collect();
        assert_eq!(verdicts, vec!["critical", "ok", "insufficient-data"]);
    }
}
