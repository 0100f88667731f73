//! `sluice perf`: a run's benchmark verdicts, one benchmark's history
//! with its change points, importing results files, and judging a file
//! against the history without a run.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sluice_events::PerfResult;
use sluice_reports::perf::change_points::change_points;
use sluice_reports::perf::model::amount;
use sluice_reports::perf::sparkline::sparkline;
use sluice_reports::perf::stats::median;
use sluice_reports::perf::{BenchMetric, PerfFormat, judge_all, parse_benchmarks};
use sluice_store::{PerfOrigin, PerfPoint};

use crate::cli::{PerfArgs, PerfCommand};
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;
use crate::terminal_text::inert;

pub fn perf(cwd: &Path, args: &PerfArgs) -> Result<ExitStatus> {
    match &args.command {
        None => show_run(cwd, args.run.as_deref(), args.json),
        Some(PerfCommand::History {
            benchmark,
            measure,
            json,
        }) => history(cwd, benchmark, measure.as_deref(), *json),
        Some(PerfCommand::Record {
            file,
            format,
            branch,
            commit,
            at,
        }) => record(
            cwd,
            file,
            format.as_deref(),
            branch.as_deref(),
            commit.as_deref(),
            at.as_deref(),
        ),
        Some(PerfCommand::Check { file, format, json }) => {
            check(cwd, file, format.as_deref(), *json)
        }
    }
}

/// A results file read; exit 2 (through the error) when it is not one.
fn read_file(cwd: &Path, file: &Path, format: Option<&str>) -> Result<Vec<BenchMetric>> {
    let format = format
        .map(PerfFormat::named)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let path = cwd.join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    parse_benchmarks(&bytes, format, &name).with_context(|| format!("{}", file.display()))
}

fn show_run(cwd: &Path, run: Option<&str>, json: bool) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let number = match run {
        Some(run) => history.resolve_run(run)?,
        None => history
            .store()
            .latest_perf_run(history.repository())?
            .context("no run has recorded benchmarks (steps declare them with `reports: {benchmarks: [...]}`)")?,
    };
    let points = history
        .store()
        .run_perf_results(history.repository(), number)?;
    if json {
        crate::output::line(&serde_json::to_string_pretty(&points)?);
        return Ok(ExitStatus::Success);
    }
    crate::output::line(&format!("run #{number}: {} metrics", points.len()));
    for point in &points {
        crate::output::line(&format!(
            "  {:<18} {} › {}: {}{}",
            point.verdict.as_deref().unwrap_or("-"),
            inert(&point.benchmark, false),
            inert(&point.measure, false),
            amount(point.value, &point.unit),
            match (point.baseline, point.change) {
                (Some(b), Some(c)) =>
                    format!(" (baseline {}, {:+.1}%)", amount(b, &point.unit), c * 100.0),
                _ => String::new(),
            }
        ));
    }
    Ok(ExitStatus::Success)
}

#[derive(Serialize)]
struct Series<'a> {
    measure: &'a str,
    git_ref: &'a str,
    points: Vec<&'a PerfPoint>,
    /// Indices into `points` where the series moved.
    change_points: Vec<ChangePoint>,
}

#[derive(Serialize)]
struct ChangePoint {
    index: usize,
    sha: String,
    change: f64,
}

fn history(cwd: &Path, benchmark: &str, measure: Option<&str>, json: bool) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    let history = super::history::open(cwd)?;
    let points = history
        .store()
        .perf_history(history.repository(), benchmark)?;
    if points.is_empty() {
        bail!("no results of benchmark '{benchmark}' in the history");
    }
    let default_ref = crate::perf_settings::default_ref(&root);
    let settings = config.perf.settings_for(benchmark);
    let mut measures: Vec<&str> = points.iter().map(|p| p.measure.as_str()).collect();
    measures.sort();
    measures.dedup();
    let mut all = Vec::new();
    for m in measures
        .into_iter()
        .filter(|m| measure.is_none_or(|want| want == *m))
    {
        let on_default: Vec<&PerfPoint> = points
            .iter()
            .filter(|p| p.measure == m && p.git_ref == default_ref)
            .collect();
        let logs: Vec<f64> = on_default
            .iter()
            .map(|p| p.value.max(1e-300).ln())
            .collect();
        let found = change_points(&logs, &settings)
            .into_iter()
            .map(|index| {
                let before = median(
                    &on_default[index.saturating_sub(5)..index]
                        .iter()
                        .map(|p| p.value)
                        .collect::<Vec<_>>(),
                );
                let after = median(
                    &on_default[index..(index + 5).min(on_default.len())]
                        .iter()
                        .map(|p| p.value)
                        .collect::<Vec<_>>(),
                );
                ChangePoint {
                    index,
                    sha: on_default[index].sha.clone(),
                    change: after / before - 1.0,
                }
            })
            .collect();
        all.push(Series {
            measure: m,
            git_ref: &default_ref,
            points: on_default,
            change_points: found,
        });
    }
    if json {
        crate::output::line(&serde_json::to_string_pretty(&all)?);
        return Ok(ExitStatus::Success);
    }
    for series in &all {
        let values: Vec<f64> = series.points.iter().map(|p| p.value).collect();
        crate::output::line(&format!(
            "{} › {} on {}: {} values  {}",
            inert(benchmark, false),
            inert(series.measure, false),
            series.git_ref,
            values.len(),
            sparkline(&values)
        ));
        for (index, point) in series.points.iter().enumerate() {
            let marker = series
                .change_points
                .iter()
                .find(|c| c.index == index)
                .map_or(String::new(), |c| {
                    format!("  ◀ moved {:+.1}%", c.change * 100.0)
                });
            crate::output::line(&format!(
                "  {}  {}  {}{}",
                point.run.map_or("import".to_string(), |r| format!("#{r}")),
                point.sha.chars().take(10).collect::<String>(),
                amount(point.value, &point.unit),
                marker
            ));
        }
    }
    Ok(ExitStatus::Success)
}

fn record(
    cwd: &Path,
    file: &Path,
    format: Option<&str>,
    branch: Option<&str>,
    commit: Option<&str>,
    at: Option<&str>,
) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let metrics = read_file(cwd, file, format)?;
    let history = super::history::open(cwd)?;
    let git_ref = match branch {
        Some(branch) => format!("refs/heads/{}", branch.trim_start_matches("refs/heads/")),
        None => crate::perf_settings::default_ref(&root),
    };
    let sha = match commit {
        Some(sha) => sha.to_string(),
        None => sluice_exec::git::commits::resolve(&root, "HEAD").unwrap_or_default(),
    };
    let at = match at {
        Some(text) => parse_time(text)?,
        None => sluice_store::timestamp::now_ms(),
    };
    let results: Vec<PerfResult> = metrics
        .iter()
        .map(|m| PerfResult {
            benchmark: m.benchmark.clone(),
            measure: m.measure.clone(),
            unit: m.unit.clone(),
            bigger_is_better: m.bigger_is_better,
            value: median(&m.values),
            repetitions: m.values.clone(),
            verdict: String::new(),
            baseline: None,
            change: None,
            interval: None,
        })
        .collect();
    let origin = PerfOrigin {
        repository: history.repository(),
        step: None,
        git_ref: &git_ref,
        sha: &sha,
        at,
    };
    history.store().import_perf_results(
        &origin,
        &sluice_exec::testbed::this_machine(),
        &results,
    )?;
    crate::output::line(&format!(
        "recorded {} metrics of {} for {git_ref}",
        results.len(),
        file.display()
    ));
    Ok(ExitStatus::Success)
}

/// Unix seconds, or `YYYY-MM-DD[THH:MM[:SS]][Z]` in UTC, as milliseconds.
fn parse_time(text: &str) -> Result<u64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return seconds
            .checked_mul(1000)
            .ok_or_else(|| anyhow::anyhow!("--at {text}: too far in the future"));
    }
    let bad = || anyhow::anyhow!("--at {text}: write Unix seconds or YYYY-MM-DD[THH:MM:SS] (UTC)");
    let (date, time) = text
        .trim_end_matches('Z')
        .split_once(['T', ' '])
        .unwrap_or((text, "00:00:00"));
    let date: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let time: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let [year, month, day] = date[..] else {
        bail!(bad())
    };
    let (hour, minute, second) = match time[..] {
        [hour, minute] => (hour, minute, 0),
        [hour, minute, second] => (hour, minute, second),
        _ => bail!(bad()),
    };
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..61).contains(&second)
    {
        bail!(bad());
    }
    // Days from the civil date (proleptic Gregorian), 1970-01-01 = 0.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(seconds).map(|s| s * 1000).map_err(|_| bad())
}

#[derive(Serialize)]
struct Checked<'a> {
    benchmark: &'a str,
    measure: &'a str,
    unit: &'a str,
    value: f64,
    baseline: Option<f64>,
    change: Option<f64>,
    interval: Option<(f64, f64)>,
    verdict: &'a str,
}

fn check(cwd: &Path, file: &Path, format: Option<&str>, json: bool) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    let metrics = read_file(cwd, file, format)?;
    let history: History = super::history::open(cwd)?;
    let testbed = sluice_exec::testbed::this_machine();
    let default_ref = crate::perf_settings::default_ref(&root);
    let series = |m: &BenchMetric| {
        history
            .store()
            .perf_series(
                history.repository(),
                &m.benchmark,
                &m.measure,
                &testbed,
                &default_ref,
            )
            .unwrap_or_default()
    };
    let results = judge_all(&metrics, &series, &config.perf);
    let critical = results.iter().any(|r| r.verdict == "critical");
    if json {
        let checked: Vec<Checked> = results
            .iter()
            .map(|r| Checked {
                benchmark: &r.benchmark,
                measure: &r.measure,
                unit: &r.unit,
                value: r.value,
                baseline: r.baseline,
                change: r.change,
                interval: r.interval,
                verdict: &r.verdict,
            })
            .collect();
        crate::output::line(&serde_json::to_string_pretty(&checked)?);
    } else {
        for r in &results {
            crate::output::line(&format!(
                "{:<18} {} › {}: {}{}",
                r.verdict,
                inert(&r.benchmark, false),
                inert(&r.measure, false),
                amount(r.value, &r.unit),
                match (r.baseline, r.change) {
                    (Some(b), Some(c)) =>
                        format!(" against {} ({:+.1}%)", amount(b, &r.unit), c * 100.0),
                    _ => " (not enough history on this machine)".to_string(),
                }
            ));
        }
    }
    Ok(if critical {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
