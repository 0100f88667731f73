//! Telling flaky tests from broken ones, by rules a person can check.
//!
//! A test is **flaky** when one of these holds, each with the runs that
//! show it:
//! - `retry`: in one run it failed and then passed (a retry of its step,
//!   or the runner's own retry within a report);
//! - `same-tree`: it passed and failed on the same source tree (runs of
//!   one commit, or of commits with the same content);
//! - `flip-rate`: over its recent runs on the default branch (at least
//!   `min_samples`), its outcome changed between consecutive runs at
//!   least `flip_rate` of the time.
//!
//! A test that failed in at least `broken_failure_rate` of its recent
//! runs (at least `min_samples`) is **broken**, not flaky, whatever else
//! holds: it needs fixing, not quarantine. Results from runs where most
//! tests failed at once (`infrastructure_ratio`, in a run of at least
//! [`MIN_TESTS_FOR_INFRASTRUCTURE`] tests) are an infrastructure failure
//! and do not count.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sluice_events::TestOutcome;

use crate::fast_hash::FxHashMap;

/// A run needs this many tests before most of them failing reads as an
/// infrastructure failure.
pub const MIN_TESTS_FOR_INFRASTRUCTURE: usize = 5;

/// The thresholds (`[flaky]` in `sluice.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FlakyRules {
    pub flip_rate: f64,
    pub min_samples: usize,
    pub broken_failure_rate: f64,
    pub infrastructure_ratio: f64,
    /// How many recent default-branch runs the flip rate looks at.
    pub recent_runs: usize,
}

impl Default for FlakyRules {
    fn default() -> Self {
        FlakyRules {
            flip_rate: 0.2,
            min_samples: 10,
            broken_failure_rate: 0.9,
            infrastructure_ratio: 0.5,
            recent_runs: 30,
        }
    }
}

/// One result of one test: what detection looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The test, as the caller numbers them.
    pub test: u32,
    pub run: u64,
    pub attempt: u32,
    pub outcome: TestOutcome,
    /// The source tree, as the caller numbers them (`None`: not known).
    pub tree: Option<u32>,
    pub on_default_branch: bool,
    pub duration_ms: u64,
}

/// Why a test is flaky.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `retry`, `same-tree` or `flip-rate`.
    pub rule: String,
    /// The runs that show it.
    pub runs: Vec<u64>,
    pub detail: String,
}

/// What detection says of a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Flaky {
        evidence: Vec<Evidence>,
        /// Time spent on its failed results (attempts that were retried,
        /// runs that failed for it).
        lost_ms: u64,
    },
    Broken {
        failure_rate: f64,
        samples: usize,
    },
}

/// The verdicts for the tests that are flaky or broken, by test.
pub fn detect(observations: &[Observation], rules: &FlakyRules) -> BTreeMap<u32, Verdict> {
    let infrastructure = infrastructure_failures(observations, rules);
    let mut by_test: FxHashMap<u32, Vec<&Observation>> = FxHashMap::default();
    for observation in observations {
        if !infrastructure.contains(&(observation.run, observation.attempt)) {
            by_test
                .entry(observation.test)
                .or_default()
                .push(observation);
        }
    }
    let mut verdicts = BTreeMap::new();
    for (test, mut seen) in by_test {
        seen.sort_by_key(|o| (o.run, o.attempt));
        if let Some(verdict) = judge(&seen, rules) {
            verdicts.insert(test, verdict);
        }
    }
    verdicts
}

fn failed(outcome: TestOutcome) -> bool {
    outcome.is_failure() || outcome == TestOutcome::Flaky
}

fn passed(outcome: TestOutcome) -> bool {
    matches!(outcome, TestOutcome::Passed | TestOutcome::Flaky)
}

/// Run attempts where most tests failed.
fn infrastructure_failures(
    observations: &[Observation],
    rules: &FlakyRules,
) -> BTreeSet<(u64, u32)> {
    let mut counts: FxHashMap<(u64, u32), (usize, usize)> = FxHashMap::default();
    for o in observations {
        let entry = counts.entry((o.run, o.attempt)).or_default();
        entry.0 += 1;
        entry.1 += usize::from(o.outcome.is_failure());
    }
    counts
        .into_iter()
        .filter(|(_, (tests, failures))| {
            *tests >= MIN_TESTS_FOR_INFRASTRUCTURE
                && *failures as f64 / *tests as f64 > rules.infrastructure_ratio
        })
        .map(|(key, _)| key)
        .collect()
}

/// One test's verdict from its observations (by run, then attempt).
fn judge(seen: &[&Observation], rules: &FlakyRules) -> Option<Verdict> {
    // Per run: the outcome of its last attempt, and whether it flipped.
    let mut runs: BTreeMap<u64, Vec<&Observation>> = BTreeMap::new();
    for o in seen {
        runs.entry(o.run).or_default().push(o);
    }
    let recent: Vec<bool> = runs
        .values()
        .rev()
        .take(rules.recent_runs)
        .map(|attempts| attempts.iter().any(|o| failed(o.outcome)))
        .collect();
    if recent.len() >= rules.min_samples {
        let failure_rate = recent.iter().filter(|f| **f).count() as f64 / recent.len() as f64;
        if failure_rate >= rules.broken_failure_rate {
            return Some(Verdict::Broken {
                failure_rate,
                samples: recent.len(),
            });
        }
    }
    let mut evidence = Vec::new();
    let retried: Vec<u64> = runs
        .iter()
        .filter(|(_, attempts)| {
            attempts.iter().any(|o| o.outcome == TestOutcome::Flaky)
                || attempts
                    .windows(2)
                    .any(|w| failed(w[0].outcome) && passed(w[1].outcome))
        })
        .map(|(run, _)| *run)
        .collect();
    if !retried.is_empty() {
        evidence.push(Evidence {
            rule: "retry".into(),
            detail: format!(
                "failed, then passed when retried, in {} run(s)",
                retried.len()
            ),
            runs: retried,
        });
    }
    evidence.extend(same_tree(seen));
    evidence.extend(flip_rate(&runs, rules));
    if evidence.is_empty() {
        return None;
    }
    let lost_ms = seen
        .iter()
        .filter(|o| o.outcome.is_failure())
        .map(|o| o.duration_ms)
        .sum();
    Some(Verdict::Flaky { evidence, lost_ms })
}

/// Passed and failed on one tree.
fn same_tree(seen: &[&Observation]) -> Option<Evidence> {
    let mut by_tree: FxHashMap<u32, (Vec<u64>, bool, bool)> = FxHashMap::default();
    for o in seen {
        let Some(tree) = o.tree else {
            continue;
        };
        let entry = by_tree.entry(tree).or_default();
        if !entry.0.contains(&o.run) {
            entry.0.push(o.run);
        }
        entry.1 |= failed(o.outcome);
        entry.2 |= passed(o.outcome);
    }
    let mut runs: Vec<u64> = by_tree
        .into_values()
        .filter(|(_, failed, passed)| *failed && *passed)
        .flat_map(|(runs, _, _)| runs)
        .collect();
    if runs.is_empty() {
        return None;
    }
    runs.sort_unstable();
    runs.dedup();
    Some(Evidence {
        rule: "same-tree".into(),
        detail: "passed and failed on the same source tree".into(),
        runs,
    })
}

/// Outcome changes between consecutive default-branch runs.
fn flip_rate(runs: &BTreeMap<u64, Vec<&Observation>>, rules: &FlakyRules) -> Option<Evidence> {
    let recent: Vec<(u64, bool)> = runs
        .iter()
        .filter(|(_, attempts)| attempts.iter().any(|o| o.on_default_branch))
        .map(|(run, attempts)| {
            let last = attempts.last().map(|o| o.outcome);
            (*run, last.is_some_and(failed))
        })
        .rev()
        .take(rules.recent_runs)
        .collect();
    if recent.len() < rules.min_samples.max(2) {
        return None;
    }
    let flips: Vec<u64> = recent
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .map(|w| w[0].0)
        .collect();
    let rate = flips.len() as f64 / (recent.len() - 1) as f64;
    (rate >= rules.flip_rate).then(|| Evidence {
        rule: "flip-rate".into(),
        detail: format!(
            "its outcome changed in {} of its last {} default-branch runs ({:.0}%)",
            flips.len(),
            recent.len(),
            rate * 100.0
        ),
        runs: flips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(test: u32, run: u64, attempt: u32, outcome: TestOutcome, tree: u32) -> Observation {
        Observation {
            test,
            run,
            attempt,
            outcome,
            tree: Some(tree),
            on_default_branch: true,
            duration_ms: 100,
        }
    }

    /// `runs` results of test 0 on one tree, failing where `fails(run)`,
    /// with a steady test 1 beside it.
    fn history(runs: u64, fails: impl Fn(u64) -> bool) -> Vec<Observation> {
        (1..=runs)
            .flat_map(|run| {
                let outcome = if fails(run) {
                    TestOutcome::Failed
                } else {
                    TestOutcome::Passed
                };
                [
                    o(0, run, 1, outcome, 7),
                    o(1, run, 1, TestOutcome::Passed, 7),
                ]
            })
            .collect()
    }

    #[test]
    fn a_test_failing_one_run_in_three_on_one_commit_is_flaky() {
        let verdicts = detect(&history(30, |run| run % 3 == 0), &FlakyRules::default());
        let Some(Verdict::Flaky { evidence, lost_ms }) = verdicts.get(&0) else {
            panic!("{verdicts:?}");
        };
        let rules: Vec<&str> = evidence.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(rules, ["same-tree", "flip-rate"]);
        assert_eq!(*lost_ms, 1000);
        assert!(!verdicts.contains_key(&1), "a steady test is neither");
    }

    #[test]
    fn a_test_that_almost_always_fails_is_broken_not_flaky() {
        let verdicts = detect(&history(30, |run| run != 5), &FlakyRules::default());
        assert!(
            matches!(verdicts.get(&0), Some(Verdict::Broken { samples: 30, .. })),
            "{verdicts:?}"
        );
    }

    #[test]
    fn failing_then_passing_on_retry_in_one_run_is_flaky() {
        let observations = [
            o(0, 1, 1, TestOutcome::Failed, 1),
            o(0, 1, 2, TestOutcome::Passed, 1),
        ];
        let verdicts = detect(&observations, &FlakyRules::default());
        let Some(Verdict::Flaky { evidence, .. }) = verdicts.get(&0) else {
            panic!("{verdicts:?}");
        };
        assert_eq!(evidence[0].rule, "retry");
        assert_eq!(evidence[0].runs, [1]);
    }

    #[test]
    fn runs_where_most_tests_failed_do_not_count() {
        let mut observations = history(12, |_| false);
        // Run 13: everything failed at once (the database was down).
        observations.extend((0..6).map(|test| o(test, 13, 1, TestOutcome::Error, 7)));
        observations.extend(history(12, |_| false).into_iter().map(|mut o| {
            o.run += 13;
            o
        }));
        assert!(detect(&observations, &FlakyRules::default()).is_empty());
    }
}
