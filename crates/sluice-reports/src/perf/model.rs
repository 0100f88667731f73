//! A benchmark result as Sluice keeps it: one measure of one benchmark,
//! with every repetition of this run, in normalised units.

use serde::Serialize;

/// Seconds, for every timing.
pub const SECONDS: &str = "s";
/// Operations per second, for every throughput.
pub const PER_SECOND: &str = "ops/s";
pub const BYTES: &str = "B";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchMetric {
    pub benchmark: String,
    /// `latency`, `throughput`, `memory`... as the format names it.
    pub measure: String,
    pub unit: String,
    /// One value per repetition (at least one).
    pub values: Vec<f64>,
    /// Throughput: a smaller value is the regression.
    pub bigger_is_better: bool,
}

impl BenchMetric {
    pub fn latency(benchmark: impl Into<String>, seconds: Vec<f64>) -> BenchMetric {
        BenchMetric {
            benchmark: benchmark.into(),
            measure: "latency".into(),
            unit: SECONDS.into(),
            values: seconds,
            bigger_is_better: false,
        }
    }

    pub fn throughput(benchmark: impl Into<String>, per_second: Vec<f64>) -> BenchMetric {
        BenchMetric {
            benchmark: benchmark.into(),
            measure: "throughput".into(),
            unit: PER_SECOND.into(),
            values: per_second,
            bigger_is_better: true,
        }
    }

    /// `benchmark › measure`, as people read it.
    pub fn key(&self) -> String {
        format!("{} › {}", self.benchmark, self.measure)
    }
}

/// Seconds in one `unit` of time (`ns`, `us`/`µs`, `ms`, `s`).
pub fn seconds_per(unit: &str) -> Option<f64> {
    Some(match unit.trim() {
        "ns" | "nanoseconds" => 1e-9,
        "us" | "µs" | "μs" | "microseconds" => 1e-6,
        "ms" | "milliseconds" => 1e-3,
        "s" | "sec" | "seconds" => 1.0,
        "m" | "min" | "minutes" => 60.0,
        _ => return None,
    })
}

/// A value in its unit, seconds shown at a readable scale.
pub fn amount(value: f64, unit: &str) -> String {
    if unit != "s" {
        return format!("{value:.4} {unit}").trim_end().to_string();
    }
    let (scaled, suffix) = match value {
        v if v >= 1.0 => (v, "s"),
        v if v >= 1e-3 => (v * 1e3, "ms"),
        v if v >= 1e-6 => (v * 1e6, "µs"),
        v => (v * 1e9, "ns"),
    };
    format!("{scaled:.3} {suffix}")
}
