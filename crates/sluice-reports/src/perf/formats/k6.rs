//! k6's end-of-test summary as JSON (`--summary-export`, or the data
//! `handleSummary` gets): per metric, trends (`avg`, `med`, `p(95)`...,
//! in milliseconds, made seconds), counters' `rate` (per second, bigger is
//! better) and rates (a fraction, such as `http_req_failed`: smaller is
//! better). Each statistic is a measure of the metric.

use crate::report_error::ContentError;
use serde_json::Value;

use super::json_shapes::object;
use crate::perf::model::{BenchMetric, PER_SECOND, SECONDS};

/// Trend statistics kept.
const TREND_STATS: [&str; 4] = ["avg", "med", "p(90)", "p(95)"];

pub(crate) fn read(json: &Value) -> Result<Vec<BenchMetric>, ContentError> {
    let mut metrics = Vec::new();
    for (name, metric) in object(&json["metrics"], "metrics")? {
        // handleSummary nests the numbers in `values` and says the type.
        let values = if metric["values"].is_object() {
            &metric["values"]
        } else {
            metric
        };
        let kind = metric["type"].as_str().unwrap_or("");
        let is_trend = kind == "trend" || (kind.is_empty() && values.get("avg").is_some());
        if is_trend {
            // `contains: time` trends are milliseconds; others keep their unit.
            let timing = metric["contains"].as_str().is_none_or(|c| c == "time");
            for stat in TREND_STATS {
                if let Some(v) = values[stat].as_f64() {
                    metrics.push(BenchMetric {
                        benchmark: name.clone(),
                        measure: stat.into(),
                        unit: if timing {
                            SECONDS.into()
                        } else {
                            String::new()
                        },
                        values: vec![if timing { v / 1000.0 } else { v }],
                        bigger_is_better: false,
                    });
                }
            }
        } else if kind == "counter" || (kind.is_empty() && values.get("count").is_some()) {
            if let Some(rate) = values["rate"].as_f64() {
                metrics.push(BenchMetric {
                    benchmark: name.clone(),
                    measure: "rate".into(),
                    unit: PER_SECOND.into(),
                    values: vec![rate],
                    bigger_is_better: true,
                });
            }
        } else if let Some(rate) = values["rate"].as_f64().or_else(|| values["value"].as_f64()) {
            metrics.push(BenchMetric {
                benchmark: name.clone(),
                measure: "rate".into(),
                unit: String::new(),
                values: vec![rate],
                // The share of checks that passed; of other rates
                // (`http_req_failed`), less is better.
                bigger_is_better: name == "checks",
            });
        }
    }
    Ok(metrics)
}
