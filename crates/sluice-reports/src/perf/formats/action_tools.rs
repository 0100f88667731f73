//! The formats of `benchmark-action/github-action-benchmark`'s tools that
//! no other file reads: `jmh` (JSON, `primaryMetric` with raw data),
//! `benchmarkdotnet` (its JSON exporter, nanoseconds), `customBiggerIsBetter`
//! and `customSmallerIsBetter` (`[{"name", "unit", "value"}]`), `cargo`
//! (libtest's `bench: N ns/iter (+/- d)` lines) and `benchmarkjs`
//! (`name x N ops/sec ±p% (k runs sampled)` lines).

use crate::report_error::ContentError;
use serde_json::Value;

use super::json_shapes::{array, number, text};
use crate::perf::model::{BenchMetric, seconds_per};

pub(crate) fn jmh(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    array(json, "the report")?
        .iter()
        .enumerate()
        .map(|(i, bench)| {
            let name = text(&bench["benchmark"], &format!("[{i}].benchmark"))?;
            let metric = &bench["primaryMetric"];
            let unit = metric["scoreUnit"].as_str().unwrap_or("");
            let mut values: Vec<f64> = metric["rawData"]
                .as_array()
                .map(|forks| {
                    forks
                        .iter()
                        .filter_map(Value::as_array)
                        .flatten()
                        .filter_map(Value::as_f64)
                        .collect()
                })
                .unwrap_or_default();
            if values.is_empty() {
                values.push(number(
                    &metric["score"],
                    &format!("[{i}].primaryMetric.score"),
                )?);
            }
            // `ops/s`-like units are throughputs; `s/op`-like ones times.
            let (per_op, rest) = unit.split_once('/').unwrap_or((unit, ""));
            Ok(if per_op == "ops" {
                let scale = 1.0 / seconds_per(rest).unwrap_or(1.0);
                BenchMetric::throughput(name, values.iter().map(|v| v * scale).collect())
            } else {
                let scale = seconds_per(per_op).unwrap_or(1.0);
                BenchMetric::latency(name, values.iter().map(|v| v * scale).collect())
            })
        })
        .collect()
}

pub(crate) fn benchmark_dotnet(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    array(&json["Benchmarks"], "Benchmarks")?
        .iter()
        .enumerate()
        .map(|(i, bench)| {
            let name = bench["FullName"].as_str().map_or_else(
                || text(&bench["Method"], &format!("Benchmarks[{i}].Method")),
                Ok,
            )?;
            let stats = &bench["Statistics"];
            let values = match stats["OriginalValues"].as_array() {
                Some(values) if !values.is_empty() => values
                    .iter()
                    .filter_map(Value::as_f64)
                    .map(|v| v * 1e-9)
                    .collect(),
                _ => vec![
                    number(
                        &stats["Median"],
                        &format!("Benchmarks[{i}].Statistics.Median"),
                    )? * 1e-9,
                ],
            };
            Ok(BenchMetric::latency(name, values))
        })
        .collect()
}

pub(crate) fn custom(
    json: &Value,
    bigger_is_better: bool,
) -> Result<Vec<BenchMetric>, ContentError> {
    array(json, "the report")?
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let name = text(&entry["name"], &format!("[{i}].name"))?;
            let value = number(&entry["value"], &format!("[{i}].value"))?;
            let unit = entry["unit"].as_str().unwrap_or("");
            Ok(BenchMetric {
                benchmark: name.to_string(),
                measure: if bigger_is_better {
                    "throughput"
                } else {
                    "value"
                }
                .into(),
                unit: unit.into(),
                values: vec![value],
                bigger_is_better,
            })
        })
        .collect()
}

/// `test parse::big ... bench:       1,234 ns/iter (+/- 56)`.
pub(crate) fn cargo_bench(text: &str) -> Result<Vec<BenchMetric>, ContentError> {
    let mut metrics = Vec::new();
    for line in text.lines() {
        let Some((head, tail)) = line.split_once(" bench:") else {
            continue;
        };
        let name = head
            .trim()
            .trim_start_matches("test ")
            .trim_end_matches(" ...")
            .trim();
        let tail = tail.trim_start();
        let (amount, rest) = tail
            .split_once(' ')
            .ok_or_else(|| format!("\"{line}\": no unit after the number"))?;
        let amount: f64 = amount
            .replace(',', "")
            .parse()
            .map_err(|_| format!("\"{line}\": \"{amount}\" is not a number"))?;
        let unit = rest
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches("/iter");
        let scale = seconds_per(unit)
            .ok_or_else(|| format!("\"{line}\": unit \"{unit}\" is not a unit of time"))?;
        metrics.push(BenchMetric::latency(name, vec![amount * scale]));
    }
    Ok(metrics)
}

/// `fib(20) x 11,465 ops/sec ±1.12% (91 runs sampled)`.
pub(crate) fn benchmark_js(text: &str) -> Result<Vec<BenchMetric>, ContentError> {
    let mut metrics = Vec::new();
    for line in text.lines() {
        let Some((name, tail)) = line.rsplit_once(" x ") else {
            continue;
        };
        let Some((amount, _)) = tail.split_once(" ops/sec") else {
            continue;
        };
        let amount: f64 = amount
            .replace(',', "")
            .trim()
            .parse()
            .map_err(|_| format!("\"{line}\": \"{amount}\" is not a number"))?;
        metrics.push(BenchMetric::throughput(name.trim(), vec![amount]));
    }
    Ok(metrics)
}
