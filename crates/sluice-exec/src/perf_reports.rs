//! Benchmark results read during a run: the files a step declares with
//! `reports: {benchmarks: [...]}` (after its last attempt) or those
//! `benchmark-action/github-action-benchmark` names. Each metric is
//! judged against the default branch's history on this machine; the
//! results go to the history (a `BenchmarkReport` event), a critical
//! regression is an error (the caller fails the step), a warning an
//! annotation, and the step summary shows every metric with its
//! baseline, change, interval and recent values.

use std::path::Path;
use std::time::SystemTime;

use sluice_reports::perf::model::amount;
use sluice_reports::perf::sparkline::sparkline;
use sluice_reports::perf::{
    BenchMetric, MAX_BENCH_BYTES, PerfConfig, PerfFormat, judge_all, parse_benchmarks,
};

use crate::events::{AnnotationLevel, Event, LogLevel, PerfResult, now};
use crate::report_files::{self, ReportFileError};
use crate::step::StepContext;
use crate::testbed::this_machine;

/// Recent values drawn in a summary's sparkline.
const SPARK_RUNS: usize = 20;
/// Metrics listed at most in a summary.
const SUMMARY_ROWS: usize = 100;

#[derive(Debug, Default)]
pub(crate) struct BenchRequest {
    pub globs: Vec<String>,
    pub format: Option<PerfFormat>,
    /// The run's settings, or the action's thresholds.
    pub config: Option<PerfConfig>,
}

#[derive(Debug, Default)]
pub(crate) struct BenchRead {
    pub files: usize,
    pub unreadable: usize,
    pub results: Vec<PerfResult>,
}

impl BenchRead {
    pub fn critical(&self) -> impl Iterator<Item = &PerfResult> {
        self.results.iter().filter(|r| r.verdict == "critical")
    }
}

pub(crate) fn read(
    ctx: &StepContext,
    request: &BenchRequest,
    attempt: u32,
    since: Option<SystemTime>,
) -> BenchRead {
    let files = report_files::matching(ctx, &request.globs, since, "benchmark reports");
    let mut read = BenchRead {
        files: files.len(),
        ..BenchRead::default()
    };
    let mut metrics: Vec<BenchMetric> = Vec::new();
    let mut names = Vec::new();
    for file in &files {
        let name = report_files::relative(ctx.workspace, file);
        match read_one(file, request.format, &criterion_name(&name)) {
            Ok(found) => {
                metrics.extend(found);
                names.push(name);
            }
            Err(problem) => {
                read.unreadable += 1;
                message(ctx, LogLevel::Error, &format!("{name}:{problem}"));
            }
        }
    }
    if metrics.is_empty() {
        return read;
    }
    let testbed = this_machine();
    let spec = &ctx.shared.spec.perf;
    let config = request
        .config
        .clone()
        .unwrap_or_else(|| spec.config.clone());
    let series = |metric: &BenchMetric| -> Vec<f64> {
        spec.history
            .as_ref()
            .map(|h| h.series(&metric.benchmark, &metric.measure, &testbed))
            .unwrap_or_default()
    };
    read.results = judge_all(&metrics, &series, &config);
    announce(ctx, attempt, names, &testbed, &read, &series, &metrics);
    read
}

/// criterion's `estimates.json` and `sample.json` do not name their
/// benchmark: its directory does (`target/criterion/<id>/new/estimates.json`).
fn criterion_name(file: &str) -> String {
    let parts: Vec<&str> = file.split('/').collect();
    match parts.iter().position(|p| *p == "criterion") {
        Some(at) if parts.len() > at + 3 => parts[at + 1..parts.len() - 2].join("/"),
        _ => file.to_string(),
    }
}

fn read_one(
    file: &Path,
    format: Option<PerfFormat>,
    name: &str,
) -> Result<Vec<BenchMetric>, ReportFileError> {
    let bytes = report_files::read_bounded(file, MAX_BENCH_BYTES)?;
    parse_benchmarks(&bytes, format, name).map_err(|e| ReportFileError::NotAReport(format!(" {e}")))
}

fn message(ctx: &StepContext, level: LogLevel, text: &str) {
    ctx.shared
        .system_message(ctx.key, Some(ctx.index), level, text);
}

/// `parse › latency: 1.20 ms against 1.00 ms (+20.0%, +15.1% to +25.2%)`.
pub(crate) fn describe(result: &PerfResult) -> String {
    let mut text = format!(
        "{} › {}: {}",
        result.benchmark,
        result.measure,
        amount(result.value, &result.unit)
    );
    if let (Some(baseline), Some(change)) = (result.baseline, result.change) {
        text.push_str(&format!(
            " against a baseline of {} ({:+.1}%",
            amount(baseline, &result.unit),
            change * 100.0
        ));
        if let Some((low, high)) = result.interval {
            text.push_str(&format!(", {:+.1}% to {:+.1}%", low * 100.0, high * 100.0));
        }
        text.push(')');
    }
    text
}

fn announce(
    ctx: &StepContext,
    attempt: u32,
    files: Vec<String>,
    testbed: &sluice_events::Testbed,
    read: &BenchRead,
    series: &dyn Fn(&BenchMetric) -> Vec<f64>,
    metrics: &[BenchMetric],
) {
    let shared = ctx.shared;
    let masked: Vec<PerfResult> = read
        .results
        .iter()
        .map(|r| PerfResult {
            benchmark: shared.mask(&r.benchmark),
            ..r.clone()
        })
        .collect();
    shared.emit(Event::BenchmarkReport {
        job: ctx.key.clone(),
        step: ctx.index,
        attempt,
        files,
        testbed: testbed.clone(),
        results: masked.clone(),
        at: now(),
    });
    for result in masked
        .iter()
        .filter(|r| r.verdict == "critical" || r.verdict == "warning")
    {
        let critical = result.verdict == "critical";
        let text = format!("{} regression: {}", result.verdict, describe(result));
        if critical {
            message(ctx, LogLevel::Error, &text);
        }
        shared.emit(Event::Annotation {
            job: ctx.key.clone(),
            step: Some(ctx.index),
            level: if critical {
                AnnotationLevel::Error
            } else {
                AnnotationLevel::Warning
            },
            message: text,
            file: None,
            line: None,
            col: None,
            title: Some(format!("benchmark {}", result.verdict)),
            at: now(),
        });
    }
    let mut out = format!(
        "### Benchmarks\n\nOn {} ({} cores).\n\n| Benchmark | Measure | Value | Baseline | Change | Interval | Verdict | Recent |\n|---|---|---|---|---|---|---|---|\n",
        testbed.cpu_model.replace('|', " "),
        testbed.cores
    );
    for (result, metric) in masked.iter().zip(metrics).take(SUMMARY_ROWS) {
        let mut recent = series(metric);
        recent.push(result.value);
        let recent = &recent[recent.len().saturating_sub(SPARK_RUNS)..];
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            result.benchmark.replace('|', " "),
            result.measure.replace('|', " "),
            amount(result.value, &result.unit),
            result
                .baseline
                .map_or("–".into(), |b| amount(b, &result.unit)),
            result
                .change
                .map_or("–".into(), |c| format!("{:+.1}%", c * 100.0)),
            result.interval.map_or("–".into(), |(l, h)| format!(
                "{:+.1}% to {:+.1}%",
                l * 100.0,
                h * 100.0
            )),
            result.verdict,
            sparkline(recent)
        ));
    }
    if masked.len() > SUMMARY_ROWS {
        out.push_str(&format!("\n… and {} more.\n", masked.len() - SUMMARY_ROWS));
    }
    shared.emit(Event::StepSummary {
        job: ctx.key.clone(),
        step: ctx.index,
        markdown: out,
        at: now(),
    });
}
