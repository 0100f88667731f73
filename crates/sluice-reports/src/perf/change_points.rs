//! Change points of a series of run values (logarithms, oldest first):
//! where the default branch's numbers moved and stayed moved. Binary
//! segmentation: the split of a stretch with the largest Welch t between
//! its two sides is a change point when it is significant after paying
//! for every split tried, the move is at least the smallest change worth
//! reporting, and each side has a few runs; then both sides are searched
//! again.

use super::detector::PerfSettings;
use super::stats::t_two_sided_p;

/// Runs each side of a change point needs.
pub const MIN_SEGMENT: usize = 3;
/// Change points are held to a stricter rate than verdicts: a false one
/// would restart a baseline.
const STRICTER: f64 = 10.0;

/// Where each segment after the first starts, in order.
pub fn change_points(logs: &[f64], settings: &PerfSettings) -> Vec<usize> {
    let prefix = Prefix::of(logs);
    let mut found = Vec::new();
    let mut stretches = vec![(0, logs.len())];
    while let Some((start, end)) = stretches.pop() {
        if let Some(split) = best_split(&prefix, start, end, settings) {
            found.push(split);
            stretches.push((start, split));
            stretches.push((split, end));
        }
    }
    found.sort_unstable();
    found
}

/// The start of the last segment (where the baseline starts), if any.
pub fn last_change_point(logs: &[f64], settings: &PerfSettings) -> Option<usize> {
    change_points(logs, settings).last().copied()
}

/// Sums for a stretch's mean and variance in constant time.
struct Prefix {
    sum: Vec<f64>,
    squares: Vec<f64>,
}

impl Prefix {
    fn of(values: &[f64]) -> Prefix {
        let mut sum = vec![0.0];
        let mut squares = vec![0.0];
        for v in values {
            sum.push(sum.last().unwrap_or(&0.0) + v);
            squares.push(squares.last().unwrap_or(&0.0) + v * v);
        }
        Prefix { sum, squares }
    }

    /// (mean, sample variance) of `start..end`.
    fn moments(&self, start: usize, end: usize) -> (f64, f64) {
        let n = (end - start) as f64;
        let mean = (self.sum[end] - self.sum[start]) / n;
        let squares = self.squares[end] - self.squares[start];
        let variance = ((squares - n * mean * mean) / (n - 1.0).max(1.0)).max(0.0);
        (mean, variance)
    }
}

fn best_split(prefix: &Prefix, start: usize, end: usize, settings: &PerfSettings) -> Option<usize> {
    if end - start < 2 * MIN_SEGMENT {
        return None;
    }
    let candidates = (end - start + 1 - 2 * MIN_SEGMENT) as f64;
    let mut best: Option<(f64, usize, f64)> = None;
    for split in start + MIN_SEGMENT..=end - MIN_SEGMENT {
        let (left_mean, left_var) = prefix.moments(start, split);
        let (right_mean, right_var) = prefix.moments(split, end);
        let (nl, nr) = ((split - start) as f64, (end - split) as f64);
        // The same floor as the detector's: flat stretches are not
        // infinitely certain.
        let (vl, vr) = ((left_var.max(1e-8)) / nl, (right_var.max(1e-8)) / nr);
        let t = (right_mean - left_mean) / (vl + vr).sqrt();
        // Welch–Satterthwaite degrees of freedom.
        let df =
            (vl + vr).powi(2) / (vl * vl / (nl - 1.0).max(1.0) + vr * vr / (nr - 1.0).max(1.0));
        let p = t_two_sided_p(t, df);
        if best.is_none_or(|b| p < b.0) {
            best = Some((p, split, right_mean - left_mean));
        }
    }
    let (p, split, moved) = best?;
    let alpha = (1.0 - settings.confidence) / STRICTER;
    let large_enough = moved.abs() >= (1.0 + settings.min_change).ln();
    (p * candidates <= alpha && large_enough).then_some(split)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_found_where_they_happen() {
        let wiggle = |i: usize| 0.01 * ((i * 7 % 5) as f64 - 2.0) / 2.0;
        let mut logs: Vec<f64> = (0..15).map(|i| 100f64.ln() + wiggle(i)).collect();
        logs.extend((15..30).map(|i| 110f64.ln() + wiggle(i)));
        logs.extend((30..45).map(|i| 99f64.ln() + wiggle(i)));
        assert_eq!(change_points(&logs, &PerfSettings::default()), vec![15, 30]);
        let flat: Vec<f64> = (0..40).map(|i| 100f64.ln() + wiggle(i)).collect();
        assert!(change_points(&flat, &PerfSettings::default()).is_empty());
        assert_eq!(
            change_points(&logs[..4], &PerfSettings::default()),
            Vec::<usize>::new()
        );
    }
}
