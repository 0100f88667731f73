//! The memory budget of one evaluation, accounted the way GitHub does it.
//!
//! Every node's result is charged at the node's depth in the tree. When a
//! node finishes, the results of its children (charged one level deeper)
//! are no longer needed and are released; its own result is charged in
//! their place. Siblings therefore add up (all arguments of a call are alive
//! together) but a finished subtree costs only its result. The sizes are
//! GitHub's estimates of .NET objects: 24 bytes per object, and 26 bytes
//! plus two per UTF-16 code unit for a string.

use crate::limits::MAX_MEMORY_BYTES;
use crate::value::Value;

/// Estimated size of a non-string object (GitHub's minimum object size).
pub(crate) const OBJECT_BYTES: usize = 24;

/// Estimated size of a reference held in a filtered array.
pub(crate) const REFERENCE_BYTES: usize = 8;

/// Estimated size of a string.
pub(crate) fn string_bytes(s: &str) -> usize {
    let utf16_len: usize = s.chars().map(char::len_utf16).sum();
    26 + 2 * utf16_len
}

/// The longest string (in UTF-8 bytes) whose estimated size fits in `bytes`.
/// Counting UTF-8 bytes where GitHub counts UTF-16 units errs on the safe side.
pub(crate) fn max_string_len(bytes: usize) -> usize {
    bytes.saturating_sub(26) / 2
}

/// Estimated size of a value that the evaluation owns, counting everything
/// inside it.
pub(crate) fn deep_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => string_bytes(s),
        Value::Array(items) => items.iter().fold(OBJECT_BYTES, |sum, item| {
            sum.saturating_add(deep_bytes(item))
        }),
        Value::Object(entries) => entries.iter().fold(OBJECT_BYTES, |sum, (key, item)| {
            sum.saturating_add(string_bytes(key))
                .saturating_add(deep_bytes(item))
        }),
        Value::Null | Value::Boolean(_) | Value::Number(_) => OBJECT_BYTES,
    }
}

/// The budget was exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget;

/// Bytes charged per tree level, and their total.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    levels: Vec<usize>,
    total: usize,
    limit: usize,
}

impl MemoryBudget {
    pub(crate) fn new() -> Self {
        MemoryBudget {
            levels: Vec::new(),
            total: 0,
            limit: MAX_MEMORY_BYTES,
        }
    }

    /// Records the result of a node at `level`, releasing everything charged
    /// below it.
    pub(crate) fn charge(&mut self, level: usize, bytes: usize) -> Result<(), OverBudget> {
        for released in self.levels.drain((level + 1).min(self.levels.len())..) {
            self.total = self.total.saturating_sub(released);
        }
        if self.levels.len() <= level {
            self.levels.resize(level + 1, 0);
        }
        self.levels[level] = self.levels[level].saturating_add(bytes);
        self.total = self.total.saturating_add(bytes);
        if self.total > self.limit {
            Err(OverBudget)
        } else {
            Ok(())
        }
    }

    /// How many more bytes may be charged before the budget is exceeded.
    #[cfg(test)]
    pub(crate) fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.total)
    }

    /// How large a result a node at `level` may produce: everything charged
    /// below it is released before its result is charged, so only the levels
    /// above and at it count. Functions building large strings stop there.
    pub(crate) fn remaining_at(&self, level: usize) -> usize {
        let held: usize = self
            .levels
            .iter()
            .take(level + 1)
            .fold(0, |sum, bytes| sum.saturating_add(*bytes));
        self.limit.saturating_sub(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_subtrees_release_their_children() {
        let mut budget = MemoryBudget::new();
        budget.charge(2, 600_000).unwrap();
        // The parent at level 1 replaces its child's charge with its own.
        budget.charge(1, 30).unwrap();
        budget.charge(2, 600_000).unwrap();
        budget.charge(1, 30).unwrap();
        assert_eq!(budget.remaining(), MAX_MEMORY_BYTES - 60);
    }

    #[test]
    fn siblings_add_up() {
        let mut budget = MemoryBudget::new();
        budget.charge(1, 600_000).unwrap();
        assert_eq!(budget.charge(1, 600_000), Err(OverBudget));
    }

    #[test]
    fn a_node_may_use_what_its_children_will_release() {
        let mut budget = MemoryBudget::new();
        budget.charge(2, 900_000).unwrap();
        assert_eq!(budget.remaining(), MAX_MEMORY_BYTES - 900_000);
        assert_eq!(budget.remaining_at(1), MAX_MEMORY_BYTES);
    }
}
