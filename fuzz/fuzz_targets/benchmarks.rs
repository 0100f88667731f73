//! Benchmark results files from anywhere: reading never panics in any
//! format, values are finite and not negative, and judging what was read
//! against itself never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_reports::perf::{PerfConfig, PerfFormat, judge_all, parse_benchmarks};

const FORMATS: [&str; 15] = [
    "bmf", "criterion", "criterion-sample", "cargo-criterion", "hyperfine", "pytest", "googlecpp", "go",
    "k6", "jmh", "benchmarkdotnet", "customBiggerIsBetter", "customSmallerIsBetter", "cargo", "benchmarkjs",
];

fuzz_target!(|data: &[u8]| {
    let mut formats: Vec<Option<PerfFormat>> = vec![None];
    formats.extend(FORMATS.iter().map(|name| PerfFormat::named(name).ok()));
    for format in formats {
        if let Ok(metrics) = parse_benchmarks(data, format, "fuzz") {
            assert!(metrics.iter().all(|m| !m.values.is_empty() && m.values.iter().all(|v| v.is_finite() && *v >= 0.0)));
            let series = |m: &sluice_reports::perf::BenchMetric| m.values.clone();
            let _ = judge_all(&metrics, &series, &PerfConfig::default());
        }
    }
});
