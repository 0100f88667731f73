//! Line numbers kept compactly as ranges: `1-5,7,9-12`.

/// Sorted, distinct lines as ranges.
pub fn to_ranges(lines: impl IntoIterator<Item = u32>) -> String {
    let mut out = String::new();
    let mut run: Option<(u32, u32)> = None;
    let push = |out: &mut String, (from, to): (u32, u32)| {
        if !out.is_empty() {
            out.push(',');
        }
        if from == to {
            out.push_str(&from.to_string());
        } else {
            out.push_str(&format!("{from}-{to}"));
        }
    };
    for line in lines {
        run = match run {
            Some((from, to)) if line == to + 1 => Some((from, line)),
            Some((from, to)) if line <= to => Some((from, to)),
            Some(done) => {
                push(&mut out, done);
                Some((line, line))
            }
            None => Some((line, line)),
        };
    }
    if let Some(done) = run {
        push(&mut out, done);
    }
    out
}

/// The lines of `ranges` (at most `limit` of them; malformed parts are
/// skipped, the text being Sluice's own).
pub fn from_ranges(ranges: &str, limit: usize) -> Vec<u32> {
    let mut lines = Vec::new();
    for part in ranges.split(',').filter(|p| !p.is_empty()) {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u32>(), b.parse::<u32>()),
            None => (part.parse::<u32>(), part.parse::<u32>()),
        };
        let (Ok(from), Ok(to)) = (from, to) else {
            continue;
        };
        for line in from..=to {
            if lines.len() >= limit {
                return lines;
            }
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_round_trip() {
        let lines = vec![1, 2, 3, 5, 7, 8];
        let text = to_ranges(lines.iter().copied());
        assert_eq!(text, "1-3,5,7-8");
        assert_eq!(from_ranges(&text, 100), lines);
        assert_eq!(from_ranges(&text, 2), vec![1, 2]);
        assert_eq!(to_ranges([]), "");
    }
}
