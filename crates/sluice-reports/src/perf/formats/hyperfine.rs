//! hyperfine `--export-json`: `{"results": [{"command", "mean", "times":
//! [...]}]}` in seconds; every run of the command is a repetition.

use crate::report_error::ContentError;
use serde_json::Value;

use super::json_shapes::{array, number, numbers, text};
use crate::perf::model::BenchMetric;

pub(crate) fn read(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    array(&json["results"], "results")?
        .iter()
        .enumerate()
        .map(|(i, result)| {
            let command = text(&result["command"], &format!("results[{i}].command"))?;
            let times = match &result["times"] {
                Value::Array(_) => numbers(&result["times"], &format!("results[{i}].times"))?,
                _ => vec![number(&result["mean"], &format!("results[{i}].mean"))?],
            };
            Ok(BenchMetric::latency(command, times))
        })
        .collect()
}
