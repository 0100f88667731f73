//! "Did you mean ...?" for misspelt keys and names.

/// The candidate closest to `typed`, if it is close enough to be a likely
/// typo: same letters in another case, or a small edit distance relative to
/// the word's length.
pub fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_lower = typed.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let candidate_lower = candidate.to_lowercase();
        let distance = if candidate_lower == typed_lower {
            0
        } else {
            edit_distance(&typed_lower, &candidate_lower)
        };
        // A key cut short (`timeout` for `timeout-minutes`) is a likely typo
        // however far apart the two are by edit distance.
        let truncated =
            typed_lower.chars().count() >= 4 && candidate_lower.starts_with(&typed_lower);
        let distance = if truncated { distance.min(1) } else { distance };
        let allowed = (candidate.chars().count().max(typed.chars().count()) / 3).max(1);
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus transpositions),
/// bounded to short inputs so hostile keys cost nothing.
pub fn edit_distance(a: &str, b: &str) -> usize {
    const MAX_LEN: usize = 64;
    let a: Vec<char> = a.chars().take(MAX_LEN).collect();
    let b: Vec<char> = b.chars().take(MAX_LEN).collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = value;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["runs-on", "needs", "steps", "timeout-minutes", "run"];
        assert_eq!(nearest("runn", keys), Some("run"));
        assert_eq!(nearest("runs_on", keys), Some("runs-on"));
        assert_eq!(nearest("Runs-On", keys), Some("runs-on"));
        assert_eq!(nearest("nedes", keys), Some("needs"));
        assert_eq!(nearest("timeout", keys), Some("timeout-minutes"));
        assert_eq!(nearest("tim", keys), None);
        assert_eq!(nearest("xyz", keys), None);
    }

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("steps", "setps"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
