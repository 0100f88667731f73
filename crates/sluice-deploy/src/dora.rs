//! The four DORA figures from an app's deploy records: how often changes
//! reach users, how long a commit waits to get there, how many deploys
//! fail in production, and how long it takes to restore service.
//!
//! Pure: the caller reads the records (with each deploy's commit times)
//! from the history.

use serde::Serialize;

/// One deploy, as the history keeps it.
#[derive(Debug, Clone)]
pub struct DeployRecord {
    pub app: String,
    pub version: String,
    /// "succeeded", "inconclusive", "failed", "rolled-back", "breached",
    /// or "rolled-back-by-hand" for a deploy a later `sluice rollback` undid.
    pub outcome: String,
    pub kind: String,
    pub started_at_ms: u64,
    pub switched_at_ms: Option<u64>,
    pub finished_at_ms: u64,
    /// Author times of the commits it shipped (the range since the last
    /// version that went live); empty when not from a git repository.
    pub commit_times_ms: Vec<u64>,
    /// When the previous version served again (automatic rollback, or the
    /// `sluice rollback` that undid it).
    pub restored_at_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dora {
    pub days: f64,
    /// Deploys whose version went live (not rollbacks).
    pub deployments: u64,
    pub deployments_per_day: f64,
    /// Median, over shipped commits, of commit to live.
    pub lead_time_median_ms: Option<u64>,
    pub lead_time_p90_ms: Option<u64>,
    /// Live deploys later rolled back (automatically or by hand), over
    /// live deploys.
    pub change_failure_rate: Option<f64>,
    pub failed_changes: u64,
    /// Median time from a failed change to service restored.
    pub time_to_restore_median_ms: Option<u64>,
    /// Deploys that never took traffic (did not get healthy or failed
    /// their smoke test): not changes users saw, counted apart.
    pub blocked_before_traffic: u64,
}

pub fn compute(records: &[DeployRecord], since_ms: u64, until_ms: u64) -> Dora {
    let window: Vec<&DeployRecord> = records
        .iter()
        .filter(|r| {
            r.kind == "deploy" && r.started_at_ms >= since_ms && r.started_at_ms <= until_ms
        })
        .collect();
    let took_traffic: Vec<&&DeployRecord> = window
        .iter()
        .filter(|r| r.switched_at_ms.is_some())
        .collect();
    let failed: Vec<&&DeployRecord> = took_traffic
        .iter()
        .copied()
        .filter(|r| {
            r.outcome.starts_with("rolled-back") || r.outcome == "failed" || r.outcome == "breached"
        })
        .collect();
    let mut lead_times: Vec<u64> = took_traffic
        .iter()
        .filter(|r| r.outcome != "rolled-back")
        .flat_map(|r| {
            let live = r.switched_at_ms.unwrap_or(r.finished_at_ms);
            r.commit_times_ms
                .iter()
                .map(move |t| live.saturating_sub(*t))
        })
        .collect();
    lead_times.sort_unstable();
    let mut restore: Vec<u64> = failed.iter().filter_map(|r| restore_time(r)).collect();
    restore.sort_unstable();
    let days = (until_ms.saturating_sub(since_ms) as f64 / 86_400_000.0).max(1.0 / 24.0);
    let live_count = took_traffic.len() as u64;
    Dora {
        days,
        deployments: live_count,
        deployments_per_day: live_count as f64 / days,
        lead_time_median_ms: quantile(&lead_times, 0.5),
        lead_time_p90_ms: quantile(&lead_times, 0.9),
        change_failure_rate: (live_count > 0).then(|| failed.len() as f64 / live_count as f64),
        failed_changes: failed.len() as u64,
        time_to_restore_median_ms: quantile(&restore, 0.5),
        blocked_before_traffic: window.len() as u64 - live_count,
    }
}

/// From the bad version taking traffic to the good one serving again.
fn restore_time(record: &DeployRecord) -> Option<u64> {
    Some(
        record
            .restored_at_ms?
            .saturating_sub(record.switched_at_ms?),
    )
}

/// Nearest-rank quantile of sorted values.
fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000;
    const DAY: u64 = 24 * HOUR;

    fn record(outcome: &str, at: u64, commits: &[u64]) -> DeployRecord {
        DeployRecord {
            app: "web".into(),
            version: format!("v{at}"),
            outcome: outcome.into(),
            kind: "deploy".into(),
            started_at_ms: at,
            switched_at_ms: (outcome != "failed").then_some(at + 1000),
            finished_at_ms: at + 60_000,
            commit_times_ms: commits.to_vec(),
            restored_at_ms: (outcome == "rolled-back").then_some(at + 1500),
        }
    }

    #[test]
    fn the_four_figures_of_a_week() {
        let records = vec![
            record(
                "succeeded",
                DAY,
                &[DAY - 2 * HOUR + 1000, DAY - 4 * HOUR + 1000],
            ),
            record("rolled-back", 2 * DAY, &[2 * DAY - HOUR]),
            record("failed", 3 * DAY, &[]),
            record("succeeded", 4 * DAY, &[4 * DAY - 6 * HOUR + 1000]),
        ];
        let dora = compute(&records, 0, 7 * DAY);
        assert_eq!(dora.deployments, 3);
        assert!((dora.deployments_per_day - 3.0 / 7.0).abs() < 1e-9);
        assert_eq!(dora.blocked_before_traffic, 1);
        assert_eq!(dora.failed_changes, 1);
        assert!((dora.change_failure_rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        // Lead times 2 h, 4 h and 6 h; the rolled-back change never stayed live.
        assert_eq!(dora.lead_time_median_ms, Some(4 * HOUR));
        assert_eq!(dora.time_to_restore_median_ms, Some(500));
    }

    #[test]
    fn a_change_undone_by_hand_or_kept_after_a_breach_is_a_failed_change_with_its_lead_time() {
        let mut by_hand = record("rolled-back-by-hand", DAY, &[DAY - HOUR + 1000]);
        by_hand.restored_at_ms = Some(DAY + 1000 + 30 * 60_000);
        let breached = record("breached", 2 * DAY, &[2 * DAY - 3 * HOUR + 1000]);
        let mut rollback = record("succeeded", DAY + HOUR, &[]);
        rollback.kind = "rollback".into();
        let dora = compute(&[by_hand, breached, rollback], 0, 7 * DAY);
        assert_eq!(
            dora.deployments, 2,
            "the rollback is not a deployment of a change"
        );
        assert_eq!(dora.failed_changes, 2);
        assert_eq!(
            dora.lead_time_median_ms,
            Some(HOUR),
            "both were live: lead times 1 h and 3 h"
        );
        assert_eq!(
            dora.time_to_restore_median_ms,
            Some(30 * 60_000),
            "only the one restored"
        );
    }

    #[test]
    fn no_deploys_no_rates() {
        let dora = compute(&[], 0, DAY);
        assert_eq!(dora.deployments, 0);
        assert_eq!(dora.change_failure_rate, None);
        assert_eq!(dora.lead_time_median_ms, None);
    }
}
