//! pytest-benchmark `--benchmark-json`: `{"benchmarks": [{"fullname",
//! "stats": {"median", "data"?}}]}` in seconds. Its rounds are the
//! repetitions when the file keeps them (`--benchmark-save-data`), else
//! the median stands for the run.

use crate::report_error::ContentError;
use serde_json::Value;

use super::json_shapes::{array, number, numbers, text};
use crate::perf::model::BenchMetric;

pub(crate) fn read(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    array(&json["benchmarks"], "benchmarks")?
        .iter()
        .enumerate()
        .map(|(i, bench)| {
            let name = bench["fullname"].as_str().map_or_else(
                || text(&bench["name"], &format!("benchmarks[{i}].name")),
                Ok,
            )?;
            let stats = &bench["stats"];
            let values = match &stats["data"] {
                Value::Array(_) => numbers(&stats["data"], &format!("benchmarks[{i}].stats.data"))?,
                _ => vec![number(
                    &stats["median"],
                    &format!("benchmarks[{i}].stats.median"),
                )?],
            };
            Ok(BenchMetric::latency(name, values))
        })
        .collect()
}
