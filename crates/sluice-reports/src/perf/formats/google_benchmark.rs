//! Google Benchmark `--benchmark_format=json`: `{"context", "benchmarks":
//! [{"name", "run_name", "run_type", "real_time", "time_unit"}]}`. With
//! `--benchmark_repetitions`, each `iteration` entry is a repetition and
//! the aggregates (mean, median, stddev) are left out; a file of
//! aggregates only (`--benchmark_report_aggregates_only`) gives its
//! medians. `items_per_second` becomes a throughput.

use crate::report_error::ContentError;
use indexmap::IndexMap;
use serde_json::Value;

use super::json_shapes::{array, number, text};
use crate::perf::model::{BenchMetric, seconds_per};

pub(crate) fn read(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    let entries = array(&json["benchmarks"], "benchmarks")?;
    let has_iterations = entries.iter().any(|e| e["run_type"] != "aggregate");
    let mut latency: IndexMap<String, Vec<f64>> = IndexMap::new();
    let mut throughput: IndexMap<String, Vec<f64>> = IndexMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let aggregate = entry["run_type"] == "aggregate";
        if aggregate && (has_iterations || entry["aggregate_name"] != "median") {
            continue;
        }
        let name = entry["run_name"].as_str().map_or_else(
            || text(&entry["name"], &format!("benchmarks[{i}].name")),
            Ok,
        )?;
        let unit = entry["time_unit"].as_str().unwrap_or("ns");
        let scale = seconds_per(unit)
            .ok_or_else(|| format!("benchmarks[{i}].time_unit \"{unit}\" is not a unit of time"))?;
        let real = number(&entry["real_time"], &format!("benchmarks[{i}].real_time"))?;
        latency
            .entry(name.to_string())
            .or_default()
            .push(real * scale);
        if let Some(items) = entry["items_per_second"].as_f64() {
            throughput.entry(name.to_string()).or_default().push(items);
        }
    }
    let mut metrics: Vec<BenchMetric> = latency
        .into_iter()
        .map(|(name, values)| BenchMetric::latency(name, values))
        .collect();
    metrics.extend(
        throughput
            .into_iter()
            .map(|(name, values)| BenchMetric::throughput(name, values)),
    );
    Ok(metrics)
}
