//! `sluice tests flaky [--days N] [--quarantine] [--json]`: flaky and
//! broken tests from the history, each with the rule and the runs that
//! show it, the time flaky tests cost, and the quarantined tests that
//! have passed long enough to be released. `--quarantine` (and `sluice
//! run` with `auto-quarantine`) adds the flaky ones to the quarantine.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use sluice_reports::flaky::{Evidence, Observation, Verdict, detect};
use sluice_reports::{QuarantineEntry, TestOutcome};
use sluice_store::{TestIdentity, TestObservations};

use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;
use crate::terminal_text::inert;

/// What detection found.
#[derive(Debug, Serialize)]
pub struct Findings {
    pub days: u32,
    pub flaky: Vec<FlakyTest>,
    pub broken: Vec<BrokenTest>,
    /// Quarantined tests whose recent results all passed.
    pub ready_for_release: Vec<String>,
    /// Time spent on flaky tests' failed results, and the runs affected.
    pub lost_ms: u64,
    pub runs_affected: usize,
}

#[derive(Debug, Serialize)]
pub struct FlakyTest {
    pub test: TestIdentity,
    pub evidence: Vec<Evidence>,
    pub lost_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct BrokenTest {
    pub test: TestIdentity,
    pub failure_rate: f64,
    pub samples: usize,
}

pub fn flaky(cwd: &Path, days: Option<u32>, quarantine: bool, json: bool) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    let history = History::open(&config.state_dir, &root)?;
    let days = days.unwrap_or(config.flaky.window_days).max(1);
    let findings = find(&root, &config, &history, days)?;
    if quarantine {
        let added = quarantine_flaky(&root, &findings)?;
        eprintln!(
            "quarantined {added} flaky test(s) in {}",
            sluice_reports::QUARANTINE_FILE
        );
    }
    if json {
        crate::output::line(&serde_json::to_string_pretty(&findings)?);
    } else {
        print(&findings);
    }
    Ok(ExitStatus::Success)
}

/// Runs detection over the last `days` of the repository's history.
pub fn find(root: &Path, config: &Config, history: &History, days: u32) -> Result<Findings> {
    let since = sluice_store::timestamp::now_ms().saturating_sub(u64::from(days) * 86_400_000);
    let default_branch = sluice_exec::git::read_state(root, &Default::default())
        .map(|state| state.default_branch)
        .unwrap_or_else(|_| "main".into());
    let observed = history.store().test_observations(
        history.repository(),
        since,
        &format!("refs/heads/{default_branch}"),
    )?;
    let observations: Vec<Observation> = observed
        .results
        .iter()
        .map(|r| Observation {
            test: r.test,
            run: r.run,
            attempt: r.attempt,
            outcome: r.outcome,
            tree: r.tree,
            on_default_branch: r.on_default_branch,
            duration_ms: r.duration_ms,
        })
        .collect();
    let verdicts = detect(&observations, &config.flaky.rules);
    let mut findings = Findings {
        days,
        flaky: Vec::new(),
        broken: Vec::new(),
        ready_for_release: ready_for_release(root, &observed, config.flaky.release_after)?,
        lost_ms: 0,
        runs_affected: 0,
    };
    let mut affected = std::collections::BTreeSet::new();
    for (test, verdict) in verdicts {
        let identity = observed.tests[test as usize].clone();
        match verdict {
            Verdict::Flaky { evidence, lost_ms } => {
                findings.lost_ms += lost_ms;
                affected.extend(evidence.iter().flat_map(|e| e.runs.iter().copied()));
                findings.flaky.push(FlakyTest {
                    test: identity,
                    evidence,
                    lost_ms,
                });
            }
            Verdict::Broken {
                failure_rate,
                samples,
            } => findings.broken.push(BrokenTest {
                test: identity,
                failure_rate,
                samples,
            }),
        }
    }
    findings.runs_affected = affected.len();
    Ok(findings)
}

/// Quarantined tests whose last `streak` results all passed.
fn ready_for_release(
    root: &Path,
    observed: &TestObservations,
    streak: usize,
) -> Result<Vec<String>> {
    let quarantine = super::quarantine::load(root)?;
    let mut ready = Vec::new();
    for entry in &quarantine.entries {
        let recent: Vec<TestOutcome> = observed
            .results
            .iter()
            .rev()
            .filter(|r| {
                let test = &observed.tests[r.test as usize];
                test.classname == entry.classname && test.name == entry.name
            })
            .take(streak)
            .map(|r| r.outcome)
            .collect();
        if recent.len() >= streak && recent.iter().all(|o| *o == TestOutcome::Passed) {
            ready.push(entry.display_name());
        }
    }
    Ok(ready)
}

/// Adds the flaky tests found to the quarantine (never the broken ones);
/// how many were new.
pub fn quarantine_flaky(root: &Path, findings: &Findings) -> Result<usize> {
    let mut quarantine = super::quarantine::load(root)?;
    let mut added = 0;
    for flaky in &findings.flaky {
        let already = quarantine
            .entries
            .iter()
            .any(|e| e.classname == flaky.test.classname && e.name == flaky.test.name);
        if already {
            continue;
        }
        let rules: Vec<&str> = flaky.evidence.iter().map(|e| e.rule.as_str()).collect();
        quarantine.add(QuarantineEntry {
            classname: flaky.test.classname.clone(),
            name: flaky.test.name.clone(),
            file: None,
            reason: format!("flaky ({}), found by sluice", rules.join(", ")),
            since: super::quarantine::today(),
            automatic: true,
        });
        added += 1;
    }
    if added > 0 {
        super::quarantine::save(root, &quarantine)?;
    }
    Ok(added)
}

fn print(findings: &Findings) {
    let out = |text: String| crate::output::line(&inert(&text, false));
    if findings.flaky.is_empty() && findings.broken.is_empty() {
        out(format!(
            "no flaky or broken test in the last {} days",
            findings.days
        ));
    }
    if !findings.flaky.is_empty() {
        out(format!("flaky ({}):", findings.flaky.len()));
        for flaky in &findings.flaky {
            out(format!("  {}", flaky.test.display_name()));
            for evidence in &flaky.evidence {
                let runs: Vec<String> = evidence
                    .runs
                    .iter()
                    .take(10)
                    .map(|r| format!("#{r}"))
                    .collect();
                out(format!(
                    "    {}: {} (runs {})",
                    evidence.rule,
                    evidence.detail,
                    runs.join(", ")
                ));
            }
        }
    }
    if !findings.broken.is_empty() {
        out(format!("broken ({}):", findings.broken.len()));
        for broken in &findings.broken {
            out(format!(
                "  {}: failed in {:.0}% of its last {} runs",
                broken.test.display_name(),
                broken.failure_rate * 100.0,
                broken.samples
            ));
        }
    }
    for name in &findings.ready_for_release {
        out(format!(
            "quarantined, and passing since: {name} (release it with `sluice tests quarantine rm`)"
        ));
    }
    out(format!(
        "time lost to flaky tests in the last {} days: {:.1}s over {} runs",
        findings.days,
        findings.lost_ms as f64 / 1000.0,
        findings.runs_affected
    ));
}
