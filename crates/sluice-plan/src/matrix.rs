//! Expanding `strategy.matrix` into job instances, with GitHub's exact
//! include/exclude rules.
//!
//! The rules, from GitHub's docs ("Using a matrix for your jobs") and its
//! workflow parser:
//!
//! 1. The cross product of the vectors, in key order, the first key varying
//!    slowest: `{version: [10, 12], os: [a, b]}` gives `10 a`, `10 b`, `12 a`,
//!    `12 b`.
//! 2. `exclude`: a combination is removed when it matches every key of some
//!    exclude entry ("only has to be a partial match"). Exclude keys must be
//!    matrix keys.
//! 3. `include`, processed after `exclude` (so it can add back an excluded
//!    combination): each entry's keys that are matrix keys are conditions,
//!    its other keys are additions. The additions are added to every
//!    original combination that meets the conditions ("if none of the
//!    key:value pairs overwrite any of the original matrix values"); an
//!    entry without conditions therefore extends every combination. Later
//!    entries may overwrite what earlier entries added, never an original
//!    value. An entry that extends no original combination becomes a new
//!    combination of its own, after all the others, in entry order, and
//!    never extends other such new combinations.
//! 4. With no vectors, every include entry is a combination ("include-only"
//!    matrix).
//!
//! Values are compared as GitHub compares them: each filter value is
//! reduced to its scalar leaves, compared with the expression language's
//! `==` (strings ignore case, `'12' == 12`, missing is null); see
//! `value_filter`. Matrix keys are case-insensitive: `OS` and `os` are the
//! same variable.
//!
//! Errors, as GitHub's: an empty vector, a matrix with neither vectors nor
//! include entries, empty include/exclude entries, exclude keys that are not
//! matrix keys, and more than [`MAX_MATRIX_JOBS`] jobs. Sluice adds one
//! limit of its own: it refuses to enumerate a cross product larger than
//! [`MAX_CROSS_PRODUCT`] combinations, which no workflow under the job limit
//! needs unless it excludes nearly all of them.
//!
//! Values are [`sluice_expr::Value`]s, and each instance's `matrix` is the
//! object the job's `matrix` context holds.

mod job_name;
mod loose_equality;
#[cfg(test)]
mod tests;
mod value_filter;

use indexmap::IndexMap;
use sluice_expr::{Value, eq_ignore_case};

pub use job_name::job_instance_name;
use value_filter::ValueFilter;

/// One `include` or `exclude` entry, or one instance's matrix: keys in the
/// order written.
pub type MatrixObject = IndexMap<String, Value>;

/// GitHub's limit: "A matrix will generate a maximum of 256 jobs per
/// workflow run."
pub const MAX_MATRIX_JOBS: usize = 256;

/// The largest cross product Sluice enumerates (before exclusions): 256
/// times the job limit. Every combination is checked against every exclude
/// and include entry, so this bounds the work a hostile matrix can cause,
/// while no sensible matrix excludes its way down from further away.
pub const MAX_CROSS_PRODUCT: usize = 256 * MAX_MATRIX_JOBS;

/// A `strategy.matrix` as written, with expressions already evaluated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatrixDefinition {
    /// The vectors (`os: [ubuntu, windows]`), in the order written.
    pub vectors: IndexMap<String, Vec<Value>>,
    /// `include` entries, in order.
    pub include: Vec<MatrixObject>,
    /// `exclude` entries, in order.
    pub exclude: Vec<MatrixObject>,
}

/// One job of an expanded matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixInstance {
    /// The job's `matrix` context: the matrix keys in order, then what
    /// `include` added.
    pub matrix: MatrixObject,
    /// How many leading entries of `matrix` appear in the job's name: the
    /// vectors for a cross-product combination (GitHub names jobs before it
    /// adds include values), everything for a combination made by `include`.
    named_entries: usize,
}

impl MatrixInstance {
    /// The values that GitHub shows in the job's name, in order.
    pub fn name_values(&self) -> impl Iterator<Item = &Value> {
        self.matrix.values().take(self.named_entries)
    }

    /// The job's display name, e.g. `build (ubuntu-latest, 18)`; see
    /// [`job_instance_name`].
    pub fn display_name(&self, job_name: &str) -> String {
        job_instance_name(job_name, self.name_values())
    }
}

/// A matrix that cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// No vectors and no include entries.
    #[error("the matrix must define at least one vector or `include` entry")]
    NoVectors,
    /// A vector without values.
    #[error("matrix vector `{key}` does not contain any values")]
    EmptyVector {
        /// The vector's key.
        key: String,
    },
    /// Two vector keys that differ only in letter case.
    #[error(
        "matrix keys `{first}` and `{second}` differ only in letter case, \
         and matrix keys are case-insensitive"
    )]
    DuplicateKey {
        /// The key written first.
        first: String,
        /// The key written second.
        second: String,
    },
    /// An include entry without keys.
    #[error("matrix `include[{index}]` does not contain any values")]
    EmptyInclude {
        /// The entry's position in `include`, from 0.
        index: usize,
    },
    /// An exclude entry without keys.
    #[error("matrix `exclude[{index}]` must not be empty")]
    EmptyExclude {
        /// The entry's position in `exclude`, from 0.
        index: usize,
    },
    /// An exclude key that names no vector.
    #[error(
        "matrix exclude key `{key}` (in `exclude[{index}]`) does not match any key within the matrix"
    )]
    UnknownExcludeKey {
        /// The key.
        key: String,
        /// The entry's position in `exclude`, from 0.
        index: usize,
    },
    /// More jobs than GitHub allows.
    #[error("the matrix produces {count} jobs; at most {MAX_MATRIX_JOBS} are allowed")]
    TooManyJobs {
        /// How many jobs the matrix would produce.
        count: usize,
    },
    /// A cross product too large to enumerate.
    #[error(
        "the matrix vectors combine into more than {MAX_CROSS_PRODUCT} combinations, \
         far over the limit of {MAX_MATRIX_JOBS} jobs"
    )]
    CrossProductTooLarge,
}

/// An include entry split into conditions and additions.
struct Include<'a> {
    conditions: ValueFilter,
    /// The condition pairs as written, for a combination of its own.
    condition_entries: Vec<(&'a String, &'a Value)>,
    additions: Vec<(&'a String, &'a Value)>,
}

/// Expands a matrix into its job instances, in GitHub's order.
pub fn expand_matrix(definition: &MatrixDefinition) -> Result<Vec<MatrixInstance>, MatrixError> {
    let vectors: Vec<(&String, &Vec<Value>)> = definition.vectors.iter().collect();
    check_vectors(&vectors)?;
    if vectors.is_empty() && definition.include.is_empty() {
        return Err(MatrixError::NoVectors);
    }
    let excludes = compile_excludes(&vectors, &definition.exclude)?;
    let includes = compile_includes(&vectors, &definition.include)?;

    let product = cross_product_size(&vectors)?;
    let mut instances = Vec::new();
    let mut count = 0usize;
    let mut include_used = vec![false; includes.len()];
    for product_index in 0..product {
        let combination = combination_at(&vectors, product_index);
        if excludes.iter().any(|exclude| exclude.matches(&combination)) {
            continue;
        }
        count += 1;
        let mut additions: Vec<(&String, &Value)> = Vec::new();
        for (include, used) in includes.iter().zip(include_used.iter_mut()) {
            if include.conditions.matches(&combination) {
                *used = true;
                for &(key, value) in &include.additions {
                    add_or_overwrite(&mut additions, key, value);
                }
            }
        }
        // Past the limit the result is an error anyway: keep counting (the
        // error reports the total) but stop building.
        if count <= MAX_MATRIX_JOBS {
            let named = vectors.iter().map(|(key, _)| *key).zip(combination);
            instances.push(instance(named, additions));
        }
    }
    for (include, used) in includes.iter().zip(&include_used) {
        if *used {
            continue;
        }
        count += 1;
        if count <= MAX_MATRIX_JOBS {
            let named = include
                .condition_entries
                .iter()
                .chain(&include.additions)
                .copied();
            instances.push(instance(named, Vec::new()));
        }
    }
    if count > MAX_MATRIX_JOBS {
        return Err(MatrixError::TooManyJobs { count });
    }
    Ok(instances)
}

fn check_vectors(vectors: &[(&String, &Vec<Value>)]) -> Result<(), MatrixError> {
    for (position, (key, values)) in vectors.iter().enumerate() {
        if values.is_empty() {
            return Err(MatrixError::EmptyVector {
                key: (*key).clone(),
            });
        }
        let earlier = vectors
            .iter()
            .take(position)
            .find(|(other, _)| eq_ignore_case(other, key));
        if let Some((first, _)) = earlier {
            return Err(MatrixError::DuplicateKey {
                first: (*first).clone(),
                second: (*key).clone(),
            });
        }
    }
    Ok(())
}

fn vector_index(vectors: &[(&String, &Vec<Value>)], key: &str) -> Option<usize> {
    vectors
        .iter()
        .position(|(vector_key, _)| eq_ignore_case(vector_key, key))
}

fn compile_excludes(
    vectors: &[(&String, &Vec<Value>)],
    entries: &[MatrixObject],
) -> Result<Vec<ValueFilter>, MatrixError> {
    let mut excludes = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.is_empty() {
            return Err(MatrixError::EmptyExclude { index });
        }
        let mut filter = ValueFilter::default();
        for (key, value) in entry {
            let Some(vector) = vector_index(vectors, key) else {
                return Err(MatrixError::UnknownExcludeKey {
                    key: key.clone(),
                    index,
                });
            };
            filter.require(vector, value);
        }
        excludes.push(filter);
    }
    Ok(excludes)
}

fn compile_includes<'a>(
    vectors: &[(&String, &Vec<Value>)],
    entries: &'a [MatrixObject],
) -> Result<Vec<Include<'a>>, MatrixError> {
    let mut includes = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.is_empty() {
            return Err(MatrixError::EmptyInclude { index });
        }
        let mut include = Include {
            conditions: ValueFilter::default(),
            condition_entries: Vec::new(),
            additions: Vec::new(),
        };
        for (key, value) in entry {
            match vector_index(vectors, key) {
                Some(vector) => {
                    include.conditions.require(vector, value);
                    include.condition_entries.push((key, value));
                }
                None => include.additions.push((key, value)),
            }
        }
        includes.push(include);
    }
    Ok(includes)
}

/// The number of combinations, or an error when it is beyond what Sluice
/// enumerates. No vectors make no combinations (an include-only matrix).
fn cross_product_size(vectors: &[(&String, &Vec<Value>)]) -> Result<usize, MatrixError> {
    if vectors.is_empty() {
        return Ok(0);
    }
    vectors
        .iter()
        .try_fold(1usize, |size, (_, values)| size.checked_mul(values.len()))
        .filter(|&size| size <= MAX_CROSS_PRODUCT)
        .ok_or(MatrixError::CrossProductTooLarge)
}

/// The `index`-th combination, the first vector varying slowest.
fn combination_at<'a>(vectors: &[(&String, &'a Vec<Value>)], index: usize) -> Vec<&'a Value> {
    let mut combination = vec![&Value::Null; vectors.len()];
    let mut rest = index;
    for (slot, (_, values)) in combination.iter_mut().zip(vectors).rev() {
        let len = values.len().max(1);
        if let Some(value) = values.get(rest % len) {
            *slot = value;
        }
        rest /= len;
    }
    combination
}

/// Sets `key` among the additions: a later include entry overwrites the
/// value an earlier one added (keys compared case-insensitively, the first
/// spelling and position kept).
fn add_or_overwrite<'a>(
    additions: &mut Vec<(&'a String, &'a Value)>,
    key: &'a String,
    value: &'a Value,
) {
    match additions
        .iter_mut()
        .find(|(existing, _)| eq_ignore_case(existing, key))
    {
        Some(slot) => slot.1 = value,
        None => additions.push((key, value)),
    }
}

fn instance<'a>(
    named: impl Iterator<Item = (&'a String, &'a Value)>,
    additions: Vec<(&'a String, &'a Value)>,
) -> MatrixInstance {
    let mut matrix = MatrixObject::new();
    for (key, value) in named {
        matrix.insert(key.clone(), value.clone());
    }
    let named_entries = matrix.len();
    for (key, value) in additions {
        matrix.insert(key.clone(), value.clone());
    }
    MatrixInstance {
        matrix,
        named_entries,
    }
}
