//! GitHub's loose comparison: JavaScript's abstract equality, except that
//! strings compare ignoring case and arrays and objects are never coerced
//! (they are equal only to themselves, by identity).

use std::cmp::Ordering;

use crate::ignore_case::{cmp_ignore_case, eq_ignore_case};
use crate::number::parse_number;
use crate::value::Value;

/// A value as the comparison operators see it. Arrays and objects carry an
/// identity (an address) when they are the same object each time they are
/// read, as context data is; freshly computed ones have none and are equal
/// to nothing, as on GitHub where each evaluation creates a new object.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operand<'a> {
    Null,
    Boolean(bool),
    Number(f64),
    String(&'a str),
    Array(Option<usize>),
    Object(Option<usize>),
}

impl<'a> Operand<'a> {
    /// Views a value; `shared` says whether its address is a stable identity.
    pub(crate) fn of(value: &'a Value, shared: bool) -> Self {
        let identity = shared.then_some(std::ptr::from_ref(value) as usize);
        match value {
            Value::Null => Operand::Null,
            Value::Boolean(b) => Operand::Boolean(*b),
            Value::Number(n) => Operand::Number(*n),
            Value::String(s) => Operand::String(s),
            Value::Array(_) => Operand::Array(identity),
            Value::Object(_) => Operand::Object(identity),
        }
    }

    fn to_number(self) -> f64 {
        match self {
            Operand::Null => 0.0,
            Operand::Boolean(b) => f64::from(u8::from(b)),
            Operand::Number(n) => n,
            Operand::String(s) => parse_number(s),
            Operand::Array(_) | Operand::Object(_) => f64::NAN,
        }
    }

    fn same_kind(self, other: Operand<'_>) -> bool {
        matches!(
            (self, other),
            (Operand::Null, Operand::Null)
                | (Operand::Boolean(_), Operand::Boolean(_))
                | (Operand::Number(_), Operand::Number(_))
                | (Operand::String(_), Operand::String(_))
                | (Operand::Array(_), Operand::Array(_))
                | (Operand::Object(_), Operand::Object(_))
        )
    }
}

/// Brings two operands to the same kind where GitHub's rules allow it:
/// a number against a string compares numerically; a boolean or null on
/// either side becomes a number and the rules apply again. Other mixes stay
/// unequal kinds, which compare false under every operator.
fn coerce<'a, 'b>(mut left: Operand<'a>, mut right: Operand<'b>) -> (Operand<'a>, Operand<'b>) {
    // At most two conversions happen (one per side), so this terminates.
    loop {
        if left.same_kind(right) {
            return (left, right);
        }
        match (left, right) {
            (Operand::Number(_), Operand::String(_)) => right = Operand::Number(right.to_number()),
            (Operand::String(_), Operand::Number(_)) => left = Operand::Number(left.to_number()),
            (Operand::Boolean(_) | Operand::Null, _) => left = Operand::Number(left.to_number()),
            (_, Operand::Boolean(_) | Operand::Null) => right = Operand::Number(right.to_number()),
            _ => return (left, right),
        }
    }
}

/// `left == right`.
pub(crate) fn loose_equal(left: Operand<'_>, right: Operand<'_>) -> bool {
    match coerce(left, right) {
        (Operand::Null, Operand::Null) => true,
        (Operand::Boolean(l), Operand::Boolean(r)) => l == r,
        // IEEE equality: NaN is unequal to everything, 0 equals -0.
        (Operand::Number(l), Operand::Number(r)) => l == r,
        (Operand::String(l), Operand::String(r)) => eq_ignore_case(l, r),
        (Operand::Array(Some(l)), Operand::Array(Some(r)))
        | (Operand::Object(Some(l)), Operand::Object(Some(r))) => l == r,
        _ => false,
    }
}

/// The ordering of two operands, if they are of an ordered kind after
/// coercion (numbers other than NaN, strings, booleans).
fn order(left: Operand<'_>, right: Operand<'_>) -> Option<Ordering> {
    match coerce(left, right) {
        (Operand::Number(l), Operand::Number(r)) => l.partial_cmp(&r),
        (Operand::String(l), Operand::String(r)) => Some(cmp_ignore_case(l, r)),
        (Operand::Boolean(l), Operand::Boolean(r)) => Some(l.cmp(&r)),
        _ => None,
    }
}

/// `left > right`.
pub(crate) fn greater_than(left: Operand<'_>, right: Operand<'_>) -> bool {
    order(left, right) == Some(Ordering::Greater)
}

/// `left < right`.
pub(crate) fn less_than(left: Operand<'_>, right: Operand<'_>) -> bool {
    order(left, right) == Some(Ordering::Less)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_kinds_coerce_like_github() {
        assert!(loose_equal(Operand::Null, Operand::String("0")));
        assert!(!loose_equal(Operand::Null, Operand::String("false")));
        assert!(loose_equal(
            Operand::Boolean(true),
            Operand::String(" 1.0 ")
        ));
        assert!(!loose_equal(Operand::String(""), Operand::Object(None)));
        assert!(less_than(Operand::Null, Operand::Boolean(true)));
        assert!(!greater_than(
            Operand::Number(f64::NAN),
            Operand::Boolean(false)
        ));
    }

    #[test]
    fn containers_are_equal_only_to_themselves() {
        assert!(loose_equal(
            Operand::Array(Some(8)),
            Operand::Array(Some(8))
        ));
        assert!(!loose_equal(
            Operand::Array(Some(8)),
            Operand::Array(Some(16))
        ));
        assert!(!loose_equal(Operand::Array(None), Operand::Array(None)));
        assert!(!loose_equal(
            Operand::Array(Some(8)),
            Operand::Object(Some(8))
        ));
    }
}
