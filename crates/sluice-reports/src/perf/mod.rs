//! Benchmark results: read from the formats benchmarks write, and judged
//! against a metric's history (see `detector.rs`).

pub mod change_points;
pub mod detector;
mod formats;
pub mod judge;
pub mod model;
pub mod sparkline;
pub mod stats;

pub use detector::{Comparison, PerfSettings, Verdict, compare, judge_one, significant, verdict};
pub use formats::{MAX_BENCH_BYTES, PerfError, PerfFormat, parse_benchmarks};
pub use judge::{PerfConfig, judge_all};
pub use model::BenchMetric;
