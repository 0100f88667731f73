//! Traffic figures of one colour: requests, server errors, failures to
//! reach it, and a latency histogram. The proxy (or nginx's access log)
//! keeps running totals; the watch subtracts the totals at the switch to
//! get the window's figures.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Histogram buckets: bucket 0 holds up to 100 µs, bucket i up to
/// 100 µs × 1.25^i, the last everything longer (about 2.5 minutes on).
/// A percentile is reported as its bucket's upper edge: never
/// optimistic, at most 25% pessimistic.
pub const BUCKETS: usize = 64;
const FIRST_EDGE_MICROS: f64 = 100.0;
const GROWTH: f64 = 1.25;

pub fn bucket_of(latency: Duration) -> usize {
    let micros = latency.as_secs_f64() * 1e6;
    if micros <= FIRST_EDGE_MICROS {
        return 0;
    }
    let index = ((micros / FIRST_EDGE_MICROS).ln() / GROWTH.ln()).ceil();
    (index as usize).min(BUCKETS - 1)
}

pub fn bucket_upper_edge(index: usize) -> Duration {
    Duration::from_secs_f64(FIRST_EDGE_MICROS * GROWTH.powi(index as i32) / 1e6)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// Requests that began (answered or not yet).
    #[serde(default)]
    pub started: u64,
    /// Requests answered (or given up on).
    pub requests: u64,
    /// Answers with a 5xx status from the app.
    pub server_errors: u64,
    /// Requests the router could not get answered (refused, reset): 502s
    /// the app never saw.
    pub unreachable: u64,
    pub latency: Vec<u64>,
}

impl Traffic {
    pub fn record(&mut self, status: Option<u16>, latency: Duration) {
        self.requests += 1;
        match status {
            Some(code) if code >= 500 => self.server_errors += 1,
            Some(_) => {}
            None => self.unreachable += 1,
        }
        if self.latency.len() < BUCKETS {
            self.latency.resize(BUCKETS, 0);
        }
        self.latency[bucket_of(latency)] += 1;
    }

    /// What happened since `earlier` (totals only grow; a restart of the
    /// proxy makes them smaller, and then all of `self` is new).
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        if self.requests < earlier.requests {
            return self.clone();
        }
        let latency = (0..self.latency.len())
            .map(|i| self.latency[i].saturating_sub(earlier.latency.get(i).copied().unwrap_or(0)))
            .collect();
        Traffic {
            started: self.started.saturating_sub(earlier.started),
            requests: self.requests - earlier.requests,
            server_errors: self.server_errors.saturating_sub(earlier.server_errors),
            unreachable: self.unreachable.saturating_sub(earlier.unreachable),
            latency,
        }
    }

    /// Requests begun and not answered yet.
    pub fn unanswered(&self) -> u64 {
        self.started.saturating_sub(self.requests)
    }

    pub fn errors(&self) -> u64 {
        self.server_errors + self.unreachable
    }

    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors() as f64 / self.requests as f64
        }
    }

    pub fn percentile(&self, fraction: f64) -> Option<Duration> {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let wanted = (fraction * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, count) in self.latency.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                return Some(bucket_upper_edge(index));
            }
        }
        Some(bucket_upper_edge(BUCKETS - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_falls_in_the_bucket_whose_edge_is_at_or_above_it() {
        for micros in [1u64, 100, 101, 500, 12_345, 999_999, 10_000_000] {
            let latency = Duration::from_micros(micros);
            let bucket = bucket_of(latency);
            assert!(
                bucket_upper_edge(bucket) >= latency - Duration::from_nanos(1),
                "{micros}"
            );
            if bucket > 0 {
                assert!(bucket_upper_edge(bucket - 1) < latency, "{micros}");
            }
        }
    }

    #[test]
    fn the_window_is_the_difference_of_totals() {
        let mut before = Traffic::default();
        before.record(Some(200), Duration::from_millis(1));
        let mut after = before.clone();
        for _ in 0..9 {
            after.record(Some(200), Duration::from_millis(2));
        }
        after.record(Some(503), Duration::from_millis(400));
        after.record(None, Duration::from_millis(1));
        let window = after.since(&before);
        assert_eq!(window.requests, 11);
        assert_eq!(window.errors(), 2);
        assert!((window.error_rate() - 2.0 / 11.0).abs() < 1e-9);
        let p95 = window.percentile(0.95).unwrap();
        assert!(
            p95 >= Duration::from_millis(400) && p95 < Duration::from_millis(500),
            "{p95:?}"
        );
        let p50 = window.percentile(0.5).unwrap();
        assert!(
            p50 >= Duration::from_millis(2) && p50 < Duration::from_micros(2500),
            "{p50:?}"
        );
    }
}
