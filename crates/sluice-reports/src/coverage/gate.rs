//! Coverage gates: an absolute minimum, a largest drop against the
//! default branch, and a minimum share of the change's lines covered.
//! Percentages throughout, as people write them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::diff::DiffCoverage;
use super::model::CoverageTotals;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CoverageGate {
    /// The least line coverage, in percent.
    pub minimum: Option<f64>,
    /// The most line coverage may fall against the default branch's
    /// latest, in percentage points.
    pub max_drop: Option<f64>,
    /// The least coverage of the lines the change added or modified, in
    /// percent.
    pub diff_minimum: Option<f64>,
}

impl CoverageGate {
    pub fn is_empty(&self) -> bool {
        self.minimum.is_none() && self.max_drop.is_none() && self.diff_minimum.is_none()
    }

    /// The step's gate over the configured one, key by key.
    pub fn over(self, base: CoverageGate) -> CoverageGate {
        CoverageGate {
            minimum: self.minimum.or(base.minimum),
            max_drop: self.max_drop.or(base.max_drop),
            diff_minimum: self.diff_minimum.or(base.diff_minimum),
        }
    }

    /// Every limit that is broken. A drop without a baseline, or a diff
    /// minimum for a change without executable lines, cannot be broken.
    pub fn judge(
        &self,
        totals: &CoverageTotals,
        baseline_percent: Option<f64>,
        diff: Option<&DiffCoverage>,
    ) -> Vec<GateFailure> {
        let percent = totals.line_rate() * 100.0;
        let mut failures = Vec::new();
        if let Some(minimum) = self.minimum.filter(|m| percent + 1e-9 < *m) {
            failures.push(GateFailure::BelowMinimum { percent, minimum });
        }
        if let (Some(max_drop), Some(baseline)) = (self.max_drop, baseline_percent)
            && baseline - percent > max_drop + 1e-9
        {
            failures.push(GateFailure::Dropped {
                percent,
                baseline,
                max_drop,
            });
        }
        if let (Some(minimum), Some(diff)) = (self.diff_minimum, diff)
            && let Some(rate) = diff
                .rate()
                .map(|r| r * 100.0)
                .filter(|r| r + 1e-9 < minimum)
        {
            failures.push(GateFailure::DiffBelowMinimum {
                percent: rate,
                minimum,
                covered: diff.covered,
                total: diff.total,
            });
        }
        failures
    }
}

/// A broken limit, with its numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum GateFailure {
    BelowMinimum {
        percent: f64,
        minimum: f64,
    },
    Dropped {
        percent: f64,
        baseline: f64,
        max_drop: f64,
    },
    DiffBelowMinimum {
        percent: f64,
        minimum: f64,
        covered: u64,
        total: u64,
    },
}

impl fmt::Display for GateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateFailure::BelowMinimum { percent, minimum } => {
                write!(
                    f,
                    "line coverage {percent:.2}% is below the minimum of {minimum}%"
                )
            }
            GateFailure::Dropped {
                percent,
                baseline,
                max_drop,
            } => write!(
                f,
                "line coverage fell from {baseline:.2}% on the default branch to {percent:.2}% ({:.2} points; at most {max_drop} allowed)",
                baseline - percent
            ),
            GateFailure::DiffBelowMinimum {
                percent,
                minimum,
                covered,
                total,
            } => write!(
                f,
                "diff coverage {percent:.2}% ({covered} of {total} changed lines ran) is below the minimum of {minimum}%"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(covered: u64, total: u64) -> CoverageTotals {
        CoverageTotals {
            lines_covered: covered,
            lines_total: total,
            ..CoverageTotals::default()
        }
    }

    #[test]
    fn each_limit_fails_with_its_numbers() {
        let gate = CoverageGate {
            minimum: Some(80.0),
            max_drop: Some(1.0),
            diff_minimum: Some(90.0),
        };
        let diff = DiffCoverage {
            covered: 1,
            total: 2,
            files: vec![],
        };
        let failures = gate.judge(&totals(75, 100), Some(78.0), Some(&diff));
        let text: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].contains("75.00%") && text[0].contains("80%"));
        assert!(text[1].contains("78.00%") && text[1].contains("3.00 points"));
        assert!(text[2].contains("1 of 2"));
        assert!(gate.judge(&totals(80, 100), Some(80.5), None).is_empty());
    }

    #[test]
    fn the_step_gate_wins_key_by_key() {
        let step = CoverageGate {
            minimum: Some(90.0),
            ..CoverageGate::default()
        };
        let base = CoverageGate {
            minimum: Some(50.0),
            max_drop: Some(2.0),
            diff_minimum: None,
        };
        assert_eq!(
            step.over(base),
            CoverageGate {
                minimum: Some(90.0),
                max_drop: Some(2.0),
                diff_minimum: None
            }
        );
    }
}
