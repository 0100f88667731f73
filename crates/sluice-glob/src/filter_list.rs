//! An ordered list of filter patterns, evaluated the way GitHub evaluates
//! `branches:`, `tags:` and `paths:` lists.

use crate::error::PatternError;
use crate::filter_pattern::FilterPattern;

/// An ordered list of [`FilterPattern`]s with GitHub's list semantics:
/// patterns are checked in order and the last one that matches decides, so a
/// value is included when the last matching pattern is positive ("A matching
/// negative pattern after a positive match will exclude ... A matching
/// positive pattern after a negative match will include ... again"). A value
/// no pattern matches is not included.
#[derive(Debug, Clone, Default)]
pub struct FilterPatternList {
    patterns: Vec<FilterPattern>,
}

impl FilterPatternList {
    /// Compiles every pattern, failing on the first invalid one.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let patterns = patterns
            .iter()
            .map(|pattern| FilterPattern::new(pattern.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FilterPatternList { patterns })
    }

    /// The compiled patterns, in order.
    pub fn patterns(&self) -> &[FilterPattern] {
        &self.patterns
    }

    /// Whether the list holds no pattern (and so includes nothing).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether at least one pattern is positive. A list of only `!` patterns
    /// can never include anything; GitHub's docs require a positive one.
    pub fn has_positive(&self) -> bool {
        self.patterns.iter().any(|pattern| !pattern.is_negated())
    }

    /// Whether `value` is included by the list.
    pub fn includes(&self, value: &str) -> bool {
        self.deciding_pattern(value)
            .is_some_and(|pattern| !pattern.is_negated())
    }

    /// The pattern that decides `value`'s fate: the last one that matches.
    /// Useful to explain a decision to a user.
    pub fn deciding_pattern(&self, value: &str) -> Option<&FilterPattern> {
        self.patterns
            .iter()
            .rev()
            .find(|pattern| pattern.matches(value))
    }
}
