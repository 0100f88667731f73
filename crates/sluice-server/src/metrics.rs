//! Pipeline health in Prometheus' text format.

use std::fmt::Write;

use sluice_store::{Histogram, PipelineMetrics};

/// Upper bounds (seconds) of the duration histograms.
pub const BUCKETS: [f64; 12] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];

pub fn render(metrics: &PipelineMetrics) -> String {
    let mut out = String::new();
    header(
        &mut out,
        "sluice_runs_total",
        "counter",
        "Runs by workflow and status.",
    );
    for (workflow, status, count) in &metrics.runs {
        let _ = writeln!(
            out,
            "sluice_runs_total{{workflow=\"{}\",status=\"{}\"}} {count}",
            label(workflow),
            label(status)
        );
    }
    histogram(
        &mut out,
        "sluice_job_duration_seconds",
        "How long finished jobs ran.",
        &metrics.job_seconds,
    );
    histogram(
        &mut out,
        "sluice_queue_wait_seconds",
        "How long runs waited in the queue before starting.",
        &metrics.queue_seconds,
    );
    gauge(
        &mut out,
        "sluice_queue_depth",
        "Runs queued and not started.",
        metrics.queued_runs as f64,
    );
    gauge(
        &mut out,
        "sluice_running_jobs",
        "Jobs running now.",
        metrics.running_jobs as f64,
    );
    header(
        &mut out,
        "sluice_cache_lookups_total",
        "counter",
        "Cache lookups by steps and actions/cache.",
    );
    let _ = writeln!(out, "sluice_cache_lookups_total {}", metrics.cache_lookups);
    header(
        &mut out,
        "sluice_cache_hits_total",
        "counter",
        "Cache lookups that found their exact key.",
    );
    let _ = writeln!(out, "sluice_cache_hits_total {}", metrics.cache_hits);
    let ratio = if metrics.cache_lookups == 0 {
        0.0
    } else {
        metrics.cache_hits as f64 / metrics.cache_lookups as f64
    };
    gauge(
        &mut out,
        "sluice_cache_hit_ratio",
        "Share of cache lookups that hit (0 without lookups).",
        ratio,
    );
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn histogram(out: &mut String, name: &str, help: &str, histogram: &Histogram) {
    header(out, name, "histogram", help);
    for (bound, count) in &histogram.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", histogram.count);
    let _ = writeln!(out, "{name}_sum {}", histogram.sum_seconds);
    let _ = writeln!(out, "{name}_count {}", histogram.count);
}

/// A label value as the text format wants it.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_is_well_formed() {
        let metrics = PipelineMetrics {
            runs: vec![("C\"I".into(), "success".into(), 2)],
            job_seconds: Histogram {
                buckets: vec![(1.0, 1), (5.0, 2)],
                count: 3,
                sum_seconds: 12.5,
            },
            queue_seconds: Histogram {
                buckets: vec![(1.0, 0), (5.0, 0)],
                count: 0,
                sum_seconds: 0.0,
            },
            queued_runs: 4,
            running_jobs: 1,
            cache_lookups: 4,
            cache_hits: 3,
        };
        let text = render(&metrics);
        insta::assert_snapshot!("metrics_text", text);
        assert!(text.contains("sluice_runs_total{workflow=\"C\\\"I\",status=\"success\"} 2"));
        assert!(text.contains("sluice_job_duration_seconds_bucket{le=\"5\"} 2"));
        assert!(text.contains("sluice_job_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("sluice_queue_depth 4"));
        assert!(text.contains("sluice_cache_hit_ratio 0.75"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split(' ').count(), 2, "{line}");
        }
    }
}
