//! `sluice deploys [APP]` and `sluice dora`: the deploy history, and the
//! DORA figures computed from it.

use std::path::Path;

use anyhow::{Result, anyhow};
use sluice_deploy::dora::{self, DeployRecord, Dora};
use sluice_store::AppDeployRecord;

use crate::cli::{DeploysArgs, DoraArgs};
use crate::exit::ExitStatus;
use crate::terminal_text::inert;

pub fn deploys(cwd: &Path, args: &DeploysArgs) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let records = history
        .store()
        .app_deploys(args.app.as_deref(), args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&records)?);
        return Ok(ExitStatus::Success);
    }
    if records.is_empty() {
        println!("no deploys yet");
        return Ok(ExitStatus::Success);
    }
    println!(
        "{:<5} {:<12} {:<14} {:<9} {:<20} {:>8} {:>22} {:>9}  WHEN",
        "ID", "APP", "VERSION", "KIND", "OUTCOME", "READY", "WATCH req/err/p95", "RESTORE"
    );
    for record in &records {
        println!("{}", row(record));
        if let Some(reason) = &record.reason {
            println!("      {}", inert(reason, false));
        }
    }
    Ok(ExitStatus::Success)
}

fn row(record: &AppDeployRecord) -> String {
    let ms = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v} ms"));
    let watch = match (record.watch_requests, record.watch_errors) {
        (Some(requests), Some(errors)) => format!(
            "{requests}/{errors}/{}",
            record
                .watch_p95_ms
                .map_or("-".to_owned(), |p| format!("{p:.0}ms"))
        ),
        _ => "-".to_owned(),
    };
    format!(
        "{:<5} {:<12} {:<14} {:<9} {:<20} {:>8} {:>22} {:>9}  {}",
        record.id,
        inert(&record.app, false),
        inert(&record.version, false),
        record.kind,
        record.outcome,
        ms(record.ready_ms),
        watch,
        ms(record.breach_to_restore_ms),
        sluice_store::timestamp::format_rfc3339_seconds(record.started_at),
    )
}

pub fn dora(cwd: &Path, args: &DoraArgs) -> Result<ExitStatus> {
    let window_ms = parse_since(&args.since)?;
    let history = super::history::open(cwd)?;
    let records: Vec<DeployRecord> = history
        .store()
        .app_deploys(args.app.as_deref(), usize::MAX >> 1)?
        .into_iter()
        .map(|r| DeployRecord {
            app: r.app,
            version: r.version,
            outcome: r.outcome,
            kind: r.kind,
            started_at_ms: r.started_at,
            switched_at_ms: r.switched_at,
            finished_at_ms: r.finished_at,
            commit_times_ms: r.commit_times,
            restored_at_ms: r.restored_at,
        })
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let figures = dora::compute(&records, now.saturating_sub(window_ms), now);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print!("{}", render(&figures, args));
    }
    Ok(ExitStatus::Success)
}

fn render(d: &Dora, args: &DoraArgs) -> String {
    let scope = args
        .app
        .as_deref()
        .map_or("all apps".to_owned(), |a| inert(a, false).into_owned());
    let span = |ms: Option<u64>| ms.map_or("-".to_owned(), human);
    let mut text = format!("DORA for {scope}, last {}\n", args.since);
    text.push_str(&format!(
        "  deployment frequency    {:.2} per day ({} deploys that took traffic)\n",
        d.deployments_per_day, d.deployments
    ));
    text.push_str(&format!(
        "  lead time for changes   median {}, p90 {} (commit to live)\n",
        span(d.lead_time_median_ms),
        span(d.lead_time_p90_ms)
    ));
    text.push_str(&format!(
        "  change failure rate     {} ({} of {} rolled back)\n",
        d.change_failure_rate
            .map_or("-".to_owned(), |r| format!("{:.1}%", r * 100.0)),
        d.failed_changes,
        d.deployments
    ));
    text.push_str(&format!(
        "  time to restore         median {}\n",
        span(d.time_to_restore_median_ms)
    ));
    text.push_str(&format!(
        "  stopped before traffic  {} (not healthy, or the smoke test failed)\n",
        d.blocked_before_traffic
    ));
    text
}

fn human(ms: u64) -> String {
    match ms {
        ms if ms < 10_000 => format!("{:.1} s", ms as f64 / 1000.0),
        ms if ms < 3_600_000 => format!("{}m {}s", ms / 60_000, ms / 1000 % 60),
        ms if ms < 86_400_000 => format!("{}h {}m", ms / 3_600_000, ms / 60_000 % 60),
        ms => format!("{}d {}h", ms / 86_400_000, ms / 3_600_000 % 24),
    }
}

/// `90d`, `4w`, `12h` → milliseconds.
fn parse_since(text: &str) -> Result<u64> {
    let bad = || anyhow!("--since {text:?}: a number of days, weeks or hours, like 90d, 4w or 12h");
    // The unit is the last character, which need not be one byte.
    let split = text.char_indices().last().map_or(0, |(at, _)| at);
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    number
        .checked_mul(unit_ms)
        .filter(|ms| *ms > 0)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_hours_days_and_weeks_and_refuses_the_rest_without_panicking() {
        assert_eq!(parse_since("12h").unwrap(), 12 * 3_600_000);
        assert_eq!(parse_since("90d").unwrap(), 90 * 86_400_000);
        assert_eq!(parse_since("4w").unwrap(), 28 * 86_400_000);
        for bad in [
            "",
            "d",
            "0d",
            "9日",
            "3µ",
            "12",
            "99999999999999999999w",
            "-1d",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }
}
