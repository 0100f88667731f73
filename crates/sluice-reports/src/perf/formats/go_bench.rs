//! `go test -bench` output: `BenchmarkName-8  1000000  1234 ns/op  56 B/op
//! 7 allocs/op  12.5 MB/s`. Lines repeated by `-count` are repetitions;
//! the `-8` (GOMAXPROCS) is the machine's, not the benchmark's.

use crate::report_error::ContentError;
use indexmap::IndexMap;

use crate::perf::model::{BYTES, BenchMetric, SECONDS};

pub(crate) fn read(text: &str) -> Result<Vec<BenchMetric>, ContentError> {
    let procs = common_procs_suffix(text);
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
        let name = match &procs {
            Some(suffix) => name.strip_suffix(suffix.as_str()).unwrap_or(name),
            None => name,
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

/// The `-N` every result line ends its name with, when they all share
/// one: that is GOMAXPROCS. Go leaves it out when GOMAXPROCS is 1, and a
/// sub-benchmark's own name may end in `-100`, so a suffix is only taken
/// for the machine's when every line agrees.
fn common_procs_suffix(text: &str) -> Option<String> {
    let mut common: Option<String> = None;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(name) = fields.next().filter(|n| n.starts_with("Benchmark")) else {
            continue;
        };
        if fields.next().is_none_or(|n| n.parse::<u64>().is_err()) {
            continue;
        }
        let (_, procs) = name.rsplit_once('-')?;
        procs.parse::<u32>().ok()?;
        let suffix = format!("-{procs}");
        match &common {
            Some(existing) if *existing != suffix => return None,
            _ => common = Some(suffix),
        }
    }
    common
}
