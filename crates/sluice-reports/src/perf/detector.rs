//! Regression detection for one metric: the new run against the
//! distribution of recent default-branch runs.
//!
//! - Scale: logarithms of the values, so that changes are ratios and
//!   timings' right skew is tamed.
//! - One run is one observation: its repetitions' median (a single slow
//!   repetition, a spike, does not move it).
//! - Baseline: the default branch's runs since its last change point
//!   (see `change_points.rs`), the most recent `baseline_runs` of them.
//! - Test: the mean of the last 1, 2 or 3 runs (this one and the ones
//!   before it, when they are not in the baseline) against the baseline
//!   mean, scaled by the baseline's run-to-run spread (Student's t, so a
//!   short baseline asks for more). A step shows in one run when it is
//!   large, and within three when it is small; the three tests are paid
//!   for with a Bonferroni factor, and each is one-sided in the direction
//!   the numbers moved. Outlying baseline runs are pulled in (winsorised)
//!   so that one spike does not widen the spread for the runs after it.
//! - False alarms across many metrics at once: the p-values of a run's
//!   metrics go through Benjamini–Hochberg ([`significant`]).
//! - Verdict: a significant change at least `min_change` in size is a
//!   regression (`warning`, or `critical` from `critical` up) or
//!   `improved`; anything else is `ok`; too short a baseline is
//!   `insufficient-data`, never a pass in disguise.

use serde::{Deserialize, Serialize};

use super::change_points::last_change_point;
use super::stats::{mean, median, std_dev, t_two_sided_p, t_two_sided_quantile};

/// How a metric is judged. Sizes are fractions (0.05 = 5%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct PerfSettings {
    /// The smallest change worth reporting.
    pub min_change: f64,
    /// A regression at least this large is a warning.
    pub warning: f64,
    /// A regression at least this large is critical (fails the step).
    pub critical: f64,
    /// 1 − the false alarm rate allowed per metric and run.
    pub confidence: f64,
    /// The most baseline runs used.
    pub baseline_runs: usize,
    /// Fewer baseline runs than this: insufficient data.
    pub min_baseline: usize,
}

impl Default for PerfSettings {
    fn default() -> Self {
        PerfSettings {
            min_change: 0.02,
            warning: 0.02,
            critical: 0.05,
            confidence: 0.99,
            baseline_runs: 30,
            min_baseline: 5,
        }
    }
}

impl PerfSettings {
    /// The seed's fixed thresholds as sizes: warn from +10%, fail from +20%.
    pub fn fixed_10_20() -> PerfSettings {
        PerfSettings {
            min_change: 0.10,
            warning: 0.10,
            critical: 0.20,
            ..PerfSettings::default()
        }
    }
}

/// The most recent runs a test looks at together.
const MAX_WINDOW: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Improved,
    Warning,
    Critical,
    InsufficientData,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Improved => "improved",
            Verdict::Warning => "warning",
            Verdict::Critical => "critical",
            Verdict::InsufficientData => "insufficient-data",
        }
    }
}

/// What the test found for one metric, before the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// This run's value (its repetitions' median).
    pub value: f64,
    /// The baseline's geometric mean, when there is a baseline.
    pub baseline: Option<f64>,
    /// How many runs the baseline holds.
    pub baseline_runs: usize,
    /// The change of the tested window against the baseline (0.05 = 5%
    /// larger value), with its interval at the confidence.
    pub change: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// How many recent runs the deciding test took together.
    pub window: usize,
    /// Adjusted for the windows tried; 1 without a test.
    pub p_value: f64,
}

/// Compares the run whose repetitions are `current` with the default
/// branch's earlier run values `series` (oldest first).
pub fn compare(series: &[f64], current: &[f64], settings: &PerfSettings) -> Comparison {
    let value = median(current);
    let logs: Vec<f64> = series
        .iter()
        .filter(|v| **v >= 0.0)
        .map(|v| log_of(*v))
        .collect();
    let start = last_change_point(&logs, settings).unwrap_or(0);
    let segment = &logs[start..];
    let mut best: Option<(f64, usize, f64, f64, usize, f64)> = None;
    let mut tried = 0;
    for window in 1..=MAX_WINDOW {
        let earlier = window - 1;
        if segment.len() < earlier + settings.min_baseline.max(2) || value.is_nan() || value < 0.0 {
            break;
        }
        let baseline_end = segment.len() - earlier;
        let baseline_start = baseline_end.saturating_sub(settings.baseline_runs);
        let baseline = &segment[baseline_start..baseline_end];
        let mut recent: Vec<f64> = segment[baseline_end..].to_vec();
        recent.push(log_of(value));
        let baseline = winsorised(baseline);
        let n = baseline.len() as f64;
        // A floor on the spread: a baseline of identical values would make
        // any difference infinitely significant.
        let spread = std_dev(&baseline).max(1e-4);
        let difference = mean(&recent) - mean(&baseline);
        let standard_error = spread * (1.0 / window as f64 + 1.0 / n).sqrt();
        let mut p = t_two_sided_p(difference / standard_error, n - 1.0);
        // A window of several runs speaks for this run only when this run
        // moved the same way by a change worth reporting itself: one
        // spiking run must not raise alarms for the runs after it.
        let own = log_of(value) - mean(&baseline);
        if window > 1 && (own * difference <= 0.0 || own.abs() < (1.0 + settings.min_change).ln()) {
            p = 1.0;
        }
        tried += 1;
        if best.is_none_or(|b| p < b.0) {
            best = Some((
                p,
                window,
                difference,
                standard_error,
                baseline.len(),
                mean(&baseline),
            ));
        }
    }
    let Some((p, window, difference, standard_error, baseline_runs, baseline_mean)) = best else {
        let baseline = (!segment.is_empty()).then(|| mean(segment).exp());
        return Comparison {
            value,
            baseline,
            baseline_runs: segment.len(),
            change: None,
            interval: None,
            window: 0,
            p_value: 1.0,
        };
    };
    let margin = t_two_sided_quantile(1.0 - settings.confidence, baseline_runs as f64 - 1.0)
        * standard_error;
    Comparison {
        value,
        baseline: Some(baseline_mean.exp()),
        baseline_runs,
        change: Some(difference.exp() - 1.0),
        interval: Some((
            (difference - margin).exp() - 1.0,
            (difference + margin).exp() - 1.0,
        )),
        window,
        // One-sided, in the direction the numbers moved: a regression
        // alarm is paid for by regressions alone.
        p_value: (p / 2.0 * tried as f64).min(1.0),
    }
}

/// The log of a value; zero (no allocations, no bytes) is kept as a very
/// small number, so that a metric at zero is judged and leaving zero is a
/// regression rather than a gap in the series.
fn log_of(value: f64) -> f64 {
    value.max(1e-12).ln()
}

/// The baseline with its outlying runs pulled in to 3.5 robust standard
/// deviations of its median: one spiking run must not widen the spread
/// every later run is judged by.
fn winsorised(values: &[f64]) -> Vec<f64> {
    let centre = median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    let scale = 1.4826 * median(&deviations);
    if scale.is_nan() || scale <= 0.0 {
        return values.to_vec();
    }
    let (low, high) = (centre - 3.5 * scale, centre + 3.5 * scale);
    values.iter().map(|v| v.clamp(low, high)).collect()
}

/// Which of a run's comparisons are significant, with false discoveries
/// across them held at `1 − confidence` (Benjamini–Hochberg).
pub fn significant(comparisons: &[&Comparison], confidence: f64) -> Vec<bool> {
    let q = 1.0 - confidence;
    let mut order: Vec<usize> = (0..comparisons.len()).collect();
    order.sort_by(|a, b| comparisons[*a].p_value.total_cmp(&comparisons[*b].p_value));
    let m = comparisons.len() as f64;
    let mut cutoff = 0;
    for (rank, index) in order.iter().enumerate() {
        if comparisons[*index].p_value <= q * (rank + 1) as f64 / m {
            cutoff = rank + 1;
        }
    }
    let mut flags = vec![false; comparisons.len()];
    for index in order.into_iter().take(cutoff) {
        flags[index] = comparisons[index].change.is_some();
    }
    flags
}

/// The verdict for a comparison, `significant` or not.
pub fn verdict(
    comparison: &Comparison,
    significant: bool,
    bigger_is_better: bool,
    settings: &PerfSettings,
) -> Verdict {
    let Some(change) = comparison.change else {
        return Verdict::InsufficientData;
    };
    // How much worse, as a fraction of the baseline: more time, or less
    // throughput.
    let worse = if bigger_is_better {
        1.0 / (1.0 + change) - 1.0
    } else {
        change
    };
    let better = 1.0 / (1.0 + worse) - 1.0;
    if !significant {
        return Verdict::Ok;
    }
    if worse >= settings.critical.max(settings.min_change) {
        Verdict::Critical
    } else if worse >= settings.warning.max(settings.min_change) {
        Verdict::Warning
    } else if better >= settings.min_change {
        Verdict::Improved
    } else {
        Verdict::Ok
    }
}

/// One metric judged alone (its own false alarm rate).
pub fn judge_one(
    series: &[f64],
    current: &[f64],
    bigger_is_better: bool,
    settings: &PerfSettings,
) -> (Comparison, Verdict) {
    let comparison = compare(series, current, settings);
    let flag = significant(&[&comparison], settings.confidence)[0];
    let verdict = verdict(&comparison, flag, bigger_is_better, settings);
    (comparison, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(n: usize, level: f64, seed: u64) -> Vec<f64> {
        // A fixed pattern of ±1.5% wiggles.
        (0..n)
            .map(|i| level * (1.0 + 0.015 * (((i as u64 * 7 + seed) % 5) as f64 - 2.0) / 2.0))
            .collect()
    }

    #[test]
    fn a_clear_regression_is_critical_and_noise_is_ok() {
        let settings = PerfSettings::default();
        let series = noisy(20, 100.0, 1);
        let (comparison, verdict) = judge_one(&series, &[112.0, 111.0, 113.0], false, &settings);
        assert_eq!(verdict, Verdict::Critical, "{comparison:?}");
        let change = comparison.change.unwrap();
        assert!((0.10..0.14).contains(&change), "{change}");
        let (lo, hi) = comparison.interval.unwrap();
        assert!(lo < change && change < hi);
        assert_eq!(
            judge_one(&series, &[100.5], false, &settings).1,
            Verdict::Ok
        );
        // Throughput: bigger is better, so a drop is the regression.
        assert_eq!(
            judge_one(&series, &[80.0], true, &settings).1,
            Verdict::Critical
        );
        assert_eq!(
            judge_one(&series, &[80.0], false, &settings).1,
            Verdict::Improved
        );
    }

    #[test]
    fn leaving_zero_is_a_regression() {
        let zeros = vec![0.0; 10];
        assert_eq!(
            judge_one(&zeros, &[0.0], false, &PerfSettings::default()).1,
            Verdict::Ok
        );
        assert_eq!(
            judge_one(&zeros, &[5.0], false, &PerfSettings::default()).1,
            Verdict::Critical
        );
    }

    #[test]
    fn a_short_baseline_is_insufficient_data_not_a_pass() {
        let (comparison, verdict) =
            judge_one(&[100.0, 101.0], &[150.0], false, &PerfSettings::default());
        assert_eq!(verdict, Verdict::InsufficientData);
        assert_eq!(comparison.baseline_runs, 2);
    }

    #[test]
    fn after_a_step_the_baseline_restarts_at_the_change_point() {
        let mut series = noisy(20, 100.0, 2);
        series.extend(noisy(10, 120.0, 3));
        let (comparison, verdict) = judge_one(&series, &[120.5], false, &PerfSettings::default());
        assert_eq!(verdict, Verdict::Ok, "{comparison:?}");
        assert!(comparison.baseline.unwrap() > 115.0);
    }

    #[test]
    fn benjamini_hochberg_keeps_the_strong_and_drops_the_weak() {
        let at = |p: f64| Comparison {
            value: 1.0,
            baseline: Some(1.0),
            baseline_runs: 10,
            change: Some(0.1),
            interval: None,
            window: 1,
            p_value: p,
        };
        let (a, b, c) = (at(0.0001), at(0.03), at(0.5));
        assert_eq!(significant(&[&a, &b, &c], 0.99), vec![true, false, false]);
    }
}
