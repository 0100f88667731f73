//! `go test -bench` output: `BenchmarkName-8  1000000  1234 ns/op  56 B/op
//! 7 allocs/op  12.5 MB/s`. Lines repeated by `-count` are repetitions;
//! the `-8` (GOMAXPROCS) is the machine's, not the benchmark's.

use indexmap::IndexMap;

use crate::perf::model::{BYTES, BenchMetric, SECONDS};

pub(crate) fn read(text: &str) -> Result<Vec<BenchMetric>, String> {
    // (benchmark, measure) → (unit, bigger is better, values)
    let mut found: IndexMap<(String, String), (String, bool, Vec<f64>)> = IndexMap::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(name) = fields.next().filter(|n| n.starts_with("Benchmark")) else {
            continue;
        };
        // A line that names a benchmark but has no iteration count is a
        // heading (`BenchmarkX` alone, before its sub-benchmarks).
        let Some(Ok(_iterations)) = fields.next().map(str::parse::<u64>) else {
            continue;
        };
        let name = match name.rsplit_once('-') {
            Some((base, procs)) if procs.parse::<u32>().is_ok() => base,
            _ => name,
        };
        let rest: Vec<&str> = fields.collect();
        for pair in rest.chunks(2) {
            let [amount, unit] = pair else { continue };
            let amount: f64 = amount
                .parse()
                .map_err(|_| format!("\"{line}\": \"{amount}\" is not a number"))?;
            let (measure, unit, scale, bigger) = match *unit {
                "ns/op" => ("latency", SECONDS, 1e-9, false),
                "B/op" => ("memory", BYTES, 1.0, false),
                "allocs/op" => ("allocations", "", 1.0, false),
                "MB/s" => ("throughput", "MB/s", 1.0, true),
                other => (other, "", 1.0, other.ends_with("/s")),
            };
            let entry = found
                .entry((name.to_string(), measure.to_string()))
                .or_insert_with(|| (unit.to_string(), bigger, Vec::new()));
            entry.2.push(amount * scale);
        }
    }
    Ok(found
        .into_iter()
        .map(
            |((benchmark, measure), (unit, bigger_is_better, values))| BenchMetric {
                benchmark,
                measure,
                unit,
                values,
                bigger_is_better,
            },
        )
        .collect())
}
