//! criterion.rs: `estimates.json` (the mean's point estimate, in
//! nanoseconds), `sample.json` (every sample's total time and iteration
//! count: repetitions) and cargo-criterion's JSON messages (one line per
//! benchmark, `reason: benchmark-complete`, with the measured values).
//! The first two do not name their benchmark: the caller's name (from
//! the file's directory) is used.

use crate::report_error::ContentError;
use serde_json::Value;

use super::json_shapes::{number, numbers, text};
use crate::perf::model::{BenchMetric, seconds_per};

pub(crate) fn estimates(json: &Value, name: &str) -> Result<Vec<BenchMetric>, ContentError> {
    let mean = number(&json["mean"]["point_estimate"], "mean.point_estimate")?;
    Ok(vec![BenchMetric::latency(name, vec![mean * 1e-9])])
}

pub(crate) fn sample(json: &Value, name: &str) -> Result<Vec<BenchMetric>, ContentError> {
    let iterations = numbers(&json["iters"], "iters")?;
    let times = numbers(&json["times"], "times")?;
    per_iteration(name, &iterations, &times, 1e-9)
}

/// Each line of cargo-criterion's `--message-format=json` output.
pub(crate) fn messages(text_lines: &str) -> Result<Vec<BenchMetric>, ContentError> {
    let mut metrics = Vec::new();
    for (index, line) in text_lines.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let json: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", index + 1))?;
        if json["reason"] != "benchmark-complete" {
            continue;
        }
        let id = text(&json["id"], "id")?;
        let unit = json["unit"].as_str().unwrap_or("ns");
        let scale = seconds_per(unit)
            .ok_or_else(|| format!("{id}: unit \"{unit}\" is not a unit of time"))?;
        let iterations = numbers(&json["iteration_count"], "iteration_count")?;
        let values = numbers(&json["measured_values"], "measured_values")?;
        metrics.extend(per_iteration(id, &iterations, &values, scale)?);
    }
    Ok(metrics)
}

fn per_iteration(
    name: &str,
    iterations: &[f64],
    totals: &[f64],
    scale: f64,
) -> Result<Vec<BenchMetric>, ContentError> {
    if iterations.len() != totals.len() || iterations.is_empty() {
        return Err(format!("{name}: iteration counts and times do not pair up").into());
    }
    let values = iterations
        .iter()
        .zip(totals)
        .filter(|(n, _)| **n > 0.0)
        .map(|(n, t)| t / n * scale)
        .collect();
    Ok(vec![BenchMetric::latency(name, values)])
}
