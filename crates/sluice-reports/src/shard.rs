//! Splitting test items (files or classes) into shards that take about
//! as long as each other, by their measured durations: longest first,
//! each to the shard with the least predicted time so far. Items without
//! history get the mean of those with; with no history at all, an even
//! split by count. The same items and history always give the same shards,
//! and every item lands in exactly one.

use std::collections::HashMap;

use serde::Serialize;

/// What a split was based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShardBasis {
    /// Measured durations (`known` of the items had some).
    Timing { known: usize },
    /// No item had history: an even split by count.
    Count,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shard {
    /// Longest first.
    pub items: Vec<String>,
    /// The sum of the items' predicted seconds.
    pub predicted_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardPlan {
    pub basis: ShardBasis,
    pub shards: Vec<Shard>,
}

/// An item and its predicted seconds, longest first (ties by name), as a
/// split or a queue hands them out.
pub fn predicted_order(items: &[String], seconds: &HashMap<String, f64>) -> Vec<(String, f64)> {
    let mut unique: Vec<&String> = items.iter().collect();
    unique.sort();
    unique.dedup();
    let known: Vec<f64> = unique
        .iter()
        .filter_map(|i| seconds.get(*i).copied())
        .collect();
    let mean = if known.is_empty() {
        1.0
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    let mut ordered: Vec<(String, f64)> = unique
        .into_iter()
        .map(|item| (item.clone(), seconds.get(item).copied().unwrap_or(mean)))
        .collect();
    ordered.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ordered
}

/// Splits `items` into `total` shards (at least one).
pub fn plan_shards(items: &[String], seconds: &HashMap<String, f64>, total: usize) -> ShardPlan {
    let total = total.max(1);
    let ordered = predicted_order(items, seconds);
    let known = ordered
        .iter()
        .filter(|(item, _)| seconds.contains_key(item))
        .count();
    let mut shards: Vec<Shard> = (0..total)
        .map(|_| Shard {
            items: Vec::new(),
            predicted_seconds: 0.0,
        })
        .collect();
    if known == 0 {
        // By name, dealt out in turn: shard sizes differ by one at most.
        let mut by_name = ordered;
        by_name.sort_by(|a, b| a.0.cmp(&b.0));
        for (index, (item, predicted)) in by_name.into_iter().enumerate() {
            let shard = &mut shards[index % total];
            shard.items.push(item);
            shard.predicted_seconds += predicted;
        }
        return ShardPlan {
            basis: ShardBasis::Count,
            shards,
        };
    }
    for (item, predicted) in ordered {
        let least = (0..total)
            .min_by(|a, b| {
                shards[*a]
                    .predicted_seconds
                    .total_cmp(&shards[*b].predicted_seconds)
                    .then(a.cmp(b))
            })
            .unwrap_or(0);
        shards[least].items.push(item);
        shards[least].predicted_seconds += predicted;
    }
    ShardPlan {
        basis: ShardBasis::Timing { known },
        shards,
    }
}

/// A recent duration that one slow run does not swing: an exponentially
/// weighted mean of the runs' durations, newest weighing most (`newest_first`).
pub fn smoothed_seconds(newest_first: &[f64]) -> Option<f64> {
    const WEIGHT_OF_NEWEST: f64 = 0.5;
    let mut runs = newest_first.iter().rev();
    let mut smoothed = *runs.next()?;
    for seconds in runs {
        smoothed = WEIGHT_OF_NEWEST * seconds + (1.0 - WEIGHT_OF_NEWEST) * smoothed;
    }
    Some(smoothed)
}

/// The module a test file is (`tests/unit/test_a.py` → `tests.unit.test_a`),
/// for matching class names to files when a report has no `file`.
pub fn module_of(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let stem = match path.rsplit_once('.') {
        Some((stem, extension)) if !extension.contains('/') => stem,
        _ => path,
    };
    stem.replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn longest_first_balances_uneven_items() {
        let seconds: HashMap<String, f64> = [
            ("a", 8.0),
            ("b", 5.0),
            ("c", 4.0),
            ("d", 3.0),
            ("e", 2.0),
            ("f", 2.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let plan = plan_shards(&items(&["f", "e", "d", "c", "b", "a", "a"]), &seconds, 2);
        assert_eq!(plan.basis, ShardBasis::Timing { known: 6 });
        let predicted: Vec<f64> = plan.shards.iter().map(|s| s.predicted_seconds).collect();
        // Longest first: a 8+3+2, b 5+4+2 (the best is 12 and 12; LPT is
        // within a third of the best by construction).
        assert_eq!(predicted, vec![13.0, 11.0]);
        let mut all: Vec<String> = plan.shards.iter().flat_map(|s| s.items.clone()).collect();
        all.sort();
        assert_eq!(all, items(&["a", "b", "c", "d", "e", "f"]));
    }

    #[test]
    fn unknown_items_get_the_mean_and_no_history_splits_by_count() {
        let seconds: HashMap<String, f64> =
            [("a".to_string(), 10.0), ("b".to_string(), 2.0)].into();
        let order = predicted_order(&items(&["a", "b", "new"]), &seconds);
        assert_eq!(order[1], ("new".to_string(), 6.0));
        let plan = plan_shards(&items(&["x", "y", "z"]), &HashMap::new(), 2);
        assert_eq!(plan.basis, ShardBasis::Count);
        assert_eq!(plan.shards[0].items, items(&["x", "z"]));
        assert_eq!(plan.shards[1].items, items(&["y"]));
    }

    #[test]
    fn smoothing_and_modules() {
        assert_eq!(smoothed_seconds(&[]), None);
        assert_eq!(smoothed_seconds(&[4.0, 2.0]), Some(3.0));
        assert_eq!(module_of("./tests/unit/test_a.py"), "tests.unit.test_a");
    }
}
