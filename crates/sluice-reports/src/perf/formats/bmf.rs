//! Bencher Metric Format: `{"benchmark": {"measure": {"value": v,
//! "lower_value": l, "upper_value": u}}}`. Bencher's built-in measures
//! keep their units: `latency` in nanoseconds (made seconds) and
//! `throughput` in operations per second (bigger is better); other
//! measures are kept as written, smaller being better.

use crate::report_error::ContentError;
use serde_json::Value;

use super::json_shapes::{number, object};
use crate::perf::model::{BenchMetric, PER_SECOND, SECONDS};

pub(crate) fn read(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    let mut metrics = Vec::new();
    for (benchmark, measures) in object(json, "the report")? {
        for (measure, entry) in object(measures, benchmark)? {
            let value = number(&entry["value"], &format!("{benchmark}.{measure}.value"))?;
            let (unit, scale, bigger_is_better) = match measure.as_str() {
                "latency" => (SECONDS, 1e-9, false),
                "throughput" => (PER_SECOND, 1.0, true),
                _ => ("", 1.0, false),
            };
            metrics.push(BenchMetric {
                benchmark: benchmark.clone(),
                measure: measure.clone(),
                unit: unit.into(),
                values: vec![value * scale],
                bigger_is_better,
            });
        }
    }
    Ok(metrics)
}
