//! A series drawn in one line of block characters, for step summaries.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub fn sparkline(values: &[f64]) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (Some(low), Some(high)) = (
        finite.iter().copied().reduce(f64::min),
        finite.iter().copied().reduce(f64::max),
    ) else {
        return String::new();
    };
    finite
        .iter()
        .map(|v| {
            let at = if high > low {
                (v - low) / (high - low)
            } else {
                0.5
            };
            BARS[((at * 7.0).round() as usize).min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_follow_the_values() {
        assert_eq!(super::sparkline(&[1.0, 2.0, 3.0]), "▁▅█");
        assert_eq!(super::sparkline(&[]), "");
    }
}
