//! The conditions of one `include` or `exclude` entry on a matrix
//! combination.
//!
//! GitHub does not compare whole values: it walks the entry down to its
//! scalar leaves and requires `matrix.<key>[...path] == leaf` for each. So
//! an entry `node: {version: 14}` matches a combination whose `node` is
//! `{version: 14, env: X}` (objects compare deeply and partially), arrays
//! compare element by element, and an empty object or array constrains
//! nothing.

use sluice_expr::Value;

use super::loose_equality::loosely_equal;

/// All the leaf conditions of one entry.
#[derive(Debug, Clone, Default)]
pub(super) struct ValueFilter {
    leaves: Vec<Leaf>,
}

#[derive(Debug, Clone)]
struct Leaf {
    /// Which matrix vector the condition is about.
    vector: usize,
    /// Where below that vector's value the leaf sits.
    path: Vec<Step>,
    /// The scalar the value found there must equal.
    expected: Value,
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

impl ValueFilter {
    /// Adds the conditions of `value` on the matrix vector `vector`.
    pub(super) fn require(&mut self, vector: usize, value: &Value) {
        // Iterative, so that deeply nested input cannot exhaust the stack.
        let mut pending: Vec<(Vec<Step>, &Value)> = vec![(Vec::new(), value)];
        while let Some((path, value)) = pending.pop() {
            match value {
                Value::Object(entries) => {
                    for (key, child) in entries.iter().rev() {
                        pending.push((extended(&path, Step::Key(key.clone())), child));
                    }
                }
                Value::Array(items) => {
                    for (index, child) in items.iter().enumerate().rev() {
                        pending.push((extended(&path, Step::Index(index)), child));
                    }
                }
                scalar => self.leaves.push(Leaf {
                    vector,
                    path,
                    expected: scalar.clone(),
                }),
            }
        }
    }

    /// Whether a combination (one value per vector, in vector order)
    /// satisfies every condition.
    pub(super) fn matches(&self, combination: &[&Value]) -> bool {
        self.leaves.iter().all(|leaf| {
            let found = combination
                .get(leaf.vector)
                .and_then(|value| descend(value, &leaf.path));
            // A missing property reads as null, as in expressions.
            loosely_equal(found.unwrap_or(&Value::Null), &leaf.expected)
        })
    }
}

fn extended(path: &[Step], step: Step) -> Vec<Step> {
    let mut path = path.to_vec();
    path.push(step);
    path
}

/// `value[step][step]...`, with expression semantics: object keys are found
/// case-insensitively, anything else that does not exist is `None`.
fn descend<'a>(mut value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    for step in path {
        value = match (value, step) {
            (Value::Object(_), Step::Key(key)) => value.get(key)?,
            (Value::Array(items), Step::Index(index)) => items.get(*index)?,
            _ => return None,
        };
    }
    Some(value)
}
