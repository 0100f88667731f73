//! The formats benchmarks write, told apart by their contents or named.

mod action_tools;
mod bmf;
mod criterion;
mod go_bench;
mod google_benchmark;
mod hyperfine;
mod json_shapes;
mod k6;
mod pytest_benchmark;

use crate::report_error::ContentError;
use serde_json::Value;

use super::model::BenchMetric;
use crate::report_text::report_text;

/// The largest benchmark report read.
pub const MAX_BENCH_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerfFormat {
    /// Bencher Metric Format.
    Bmf,
    CriterionEstimates,
    CriterionSample,
    CargoCriterion,
    Hyperfine,
    PytestBenchmark,
    GoogleBenchmark,
    GoBench,
    K6,
    Jmh,
    BenchmarkDotnet,
    CustomBiggerIsBetter,
    CustomSmallerIsBetter,
    CargoBench,
    BenchmarkJs,
}

impl PerfFormat {
    /// A format by Sluice's name for it, or by the `tool` name of
    /// `benchmark-action/github-action-benchmark`.
    pub fn named(name: &str) -> Result<PerfFormat, ContentError> {
        Ok(match name.trim() {
            "bmf" | "bencher" | "json" => PerfFormat::Bmf,
            "criterion" | "criterion-estimates" => PerfFormat::CriterionEstimates,
            "criterion-sample" => PerfFormat::CriterionSample,
            "cargo-criterion" => PerfFormat::CargoCriterion,
            "hyperfine" => PerfFormat::Hyperfine,
            "pytest" | "pytest-benchmark" => PerfFormat::PytestBenchmark,
            "googlecpp" | "google-benchmark" => PerfFormat::GoogleBenchmark,
            "go" => PerfFormat::GoBench,
            "k6" => PerfFormat::K6,
            "jmh" => PerfFormat::Jmh,
            "benchmarkdotnet" => PerfFormat::BenchmarkDotnet,
            "customBiggerIsBetter" => PerfFormat::CustomBiggerIsBetter,
            "customSmallerIsBetter" => PerfFormat::CustomSmallerIsBetter,
            "cargo" => PerfFormat::CargoBench,
            "benchmarkjs" => PerfFormat::BenchmarkJs,
            "catch2" | "julia" => {
                return Err(format!(
                    "the {name} format is not read by Sluice (use bmf, or vendor the action)"
                )
                .into());
            }
            other => {
                return Err(format!(
                    "unknown benchmark format \"{other}\" (bmf, criterion, criterion-sample, cargo-criterion, hyperfine, pytest, googlecpp, go, k6, jmh, benchmarkdotnet, customBiggerIsBetter, customSmallerIsBetter, cargo, benchmarkjs)"
                ).into());
            }
        })
    }

    /// The format the text shows: JSON by its keys, text by its lines.
    pub fn detect(text: &str) -> Option<PerfFormat> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            if let Ok(json) = serde_json::from_str::<Value>(trimmed) {
                return detect_json(&json);
            }
            // One JSON object per line: cargo-criterion's messages.
            return trimmed
                .lines()
                .any(|l| l.contains("\"reason\"") && l.contains("benchmark-complete"))
                .then_some(PerfFormat::CargoCriterion);
        }
        let lines = || trimmed.lines();
        if lines()
            .any(|l| l.starts_with("Benchmark") && (l.contains(" ns/op") || l.contains("/op")))
        {
            Some(PerfFormat::GoBench)
        } else if lines().any(|l| l.contains(" bench:") && l.contains("/iter")) {
            Some(PerfFormat::CargoBench)
        } else if lines().any(|l| l.contains(" ops/sec ")) {
            Some(PerfFormat::BenchmarkJs)
        } else {
            None
        }
    }
}

fn detect_json(json: &Value) -> Option<PerfFormat> {
    if let Some(items) = json.as_array() {
        let first = items.first()?;
        return if first.get("primaryMetric").is_some() {
            Some(PerfFormat::Jmh)
        } else if first.get("name").is_some() && first.get("value").is_some() {
            Some(PerfFormat::CustomSmallerIsBetter)
        } else {
            None
        };
    }
    let has = |key: &str| json.get(key).is_some();
    Some(
        if has("results") && json["results"][0].get("command").is_some() {
            PerfFormat::Hyperfine
        } else if has("benchmarks") && has("machine_info") {
            PerfFormat::PytestBenchmark
        } else if has("benchmarks") && has("context") {
            PerfFormat::GoogleBenchmark
        } else if has("Benchmarks") {
            PerfFormat::BenchmarkDotnet
        } else if has("metrics") && json["metrics"].is_object() {
            PerfFormat::K6
        } else if json["mean"].get("point_estimate").is_some() {
            PerfFormat::CriterionEstimates
        } else if has("iters") && has("times") {
            PerfFormat::CriterionSample
        } else if json.as_object()?.values().all(|m| {
            m.as_object()
                .is_some_and(|m| m.values().all(|e| e.get("value").is_some()))
        }) {
            PerfFormat::Bmf
        } else {
            return None;
        },
    )
}

/// Why a file is not a benchmark report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PerfError {
    #[error("not a benchmark report Sluice reads (name its format with --format)")]
    UnknownFormat,
    #[error("{0}")]
    Unreadable(String),
    #[error("the report holds no benchmark")]
    Empty,
}

/// Reads a benchmark report. `name` names the benchmark of formats that
/// do not (criterion's `estimates.json` and `sample.json`).
pub fn parse_benchmarks(
    bytes: &[u8],
    format: Option<PerfFormat>,
    name: &str,
) -> Result<Vec<BenchMetric>, PerfError> {
    let text =
        report_text(bytes, MAX_BENCH_BYTES).map_err(|e| PerfError::Unreadable(e.to_string()))?;
    let format = format
        .or_else(|| PerfFormat::detect(text))
        .ok_or(PerfError::UnknownFormat)?;
    let json = || -> Result<Value, PerfError> {
        serde_json::from_str(text)
            .map_err(|e| PerfError::Unreadable(format!("{}:{}: {e}", e.line(), e.column())))
    };
    let read = match format {
        PerfFormat::Bmf => bmf::read(&json()?),
        PerfFormat::CriterionEstimates => criterion::estimates(&json()?, name),
        PerfFormat::CriterionSample => criterion::sample(&json()?, name),
        PerfFormat::CargoCriterion => criterion::messages(text),
        PerfFormat::Hyperfine => hyperfine::read(&json()?),
        PerfFormat::PytestBenchmark => pytest_benchmark::read(&json()?),
        PerfFormat::GoogleBenchmark => google_benchmark::read(&json()?),
        PerfFormat::GoBench => go_bench::read(text),
        PerfFormat::K6 => k6::read(&json()?),
        PerfFormat::Jmh => action_tools::jmh(&json()?),
        PerfFormat::BenchmarkDotnet => action_tools::benchmark_dotnet(&json()?),
        PerfFormat::CustomBiggerIsBetter => action_tools::custom(&json()?, true),
        PerfFormat::CustomSmallerIsBetter => action_tools::custom(&json()?, false),
        PerfFormat::CargoBench => action_tools::cargo_bench(text),
        PerfFormat::BenchmarkJs => action_tools::benchmark_js(text),
    };
    let metrics = read.map_err(|e| PerfError::Unreadable(e.0))?;
    let metrics: Vec<BenchMetric> = metrics
        .into_iter()
        .map(|mut m| {
            m.values.retain(|v| v.is_finite() && *v >= 0.0);
            m
        })
        .filter(|m| !m.values.is_empty())
        .collect();
    if metrics.is_empty() {
        return Err(PerfError::Empty);
    }
    Ok(metrics)
}
