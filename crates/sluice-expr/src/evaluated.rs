//! Intermediate results of an evaluation.
//!
//! Context data is borrowed from the host rather than copied, so reading
//! `github.event` costs nothing and, as on GitHub, the same object read twice
//! is the same object (`a == a` is true for arrays and objects, while two
//! equal-looking results of `fromJSON` are not equal). Filtered arrays, the
//! results of `.*` and `[*]`, are kept apart from ordinary arrays because
//! indexing one applies the index to each of its elements.

use std::borrow::Cow;

use crate::comparison::Operand;
use crate::memory::{OBJECT_BYTES, REFERENCE_BYTES, deep_bytes, string_bytes};
use crate::value::{Value, ValueKind};

#[derive(Debug, Clone)]
pub(crate) enum Evaluated<'h> {
    /// A borrowed context value or a value computed by the evaluation.
    Value(Cow<'h, Value>),
    /// The elements selected by a wildcard.
    Filtered(Vec<Cow<'h, Value>>),
}

impl<'h> Evaluated<'h> {
    pub(crate) fn owned(value: Value) -> Self {
        Evaluated::Value(Cow::Owned(value))
    }

    pub(crate) fn kind(&self) -> ValueKind {
        match self {
            Evaluated::Value(value) => value.kind(),
            Evaluated::Filtered(_) => ValueKind::Array,
        }
    }

    pub(crate) fn is_primitive(&self) -> bool {
        self.kind().is_primitive()
    }

    pub(crate) fn is_truthy(&self) -> bool {
        match self {
            Evaluated::Value(value) => value.is_truthy(),
            Evaluated::Filtered(_) => true,
        }
    }

    pub(crate) fn to_number(&self) -> f64 {
        match self {
            Evaluated::Value(value) => value.to_number(),
            Evaluated::Filtered(_) => f64::NAN,
        }
    }

    pub(crate) fn to_display_string(&self) -> Cow<'_, str> {
        match self {
            Evaluated::Value(value) => value.to_display_string(),
            Evaluated::Filtered(_) => Cow::Borrowed("Array"),
        }
    }

    /// The value as the comparison operators see it; only borrowed arrays
    /// and objects have an identity.
    pub(crate) fn operand(&self) -> Operand<'_> {
        match self {
            Evaluated::Value(Cow::Borrowed(value)) => Operand::of(value, true),
            Evaluated::Value(Cow::Owned(value)) => Operand::of(value, false),
            Evaluated::Filtered(_) => Operand::Array(None),
        }
    }

    /// The elements, if this is an array of either sort.
    pub(crate) fn array_items(&self) -> Option<Vec<&Value>> {
        match self {
            Evaluated::Value(value) => match value.as_ref() {
                Value::Array(items) => Some(items.iter().collect()),
                _ => None,
            },
            Evaluated::Filtered(items) => Some(items.iter().map(AsRef::as_ref).collect()),
        }
    }

    /// The final, owned value; borrowed context data is copied here, once.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Evaluated::Value(value) => value.into_owned(),
            Evaluated::Filtered(items) => {
                Value::Array(items.into_iter().map(Cow::into_owned).collect())
            }
        }
    }

    /// The estimated memory held by this result. Borrowed containers belong
    /// to the host and cost one reference; borrowed strings are counted in
    /// full, as GitHub counts the strings it reads from contexts.
    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            Evaluated::Value(Cow::Borrowed(Value::String(s))) => string_bytes(s),
            Evaluated::Value(Cow::Borrowed(_)) => OBJECT_BYTES,
            Evaluated::Value(Cow::Owned(value)) => deep_bytes(value),
            Evaluated::Filtered(items) => items.iter().fold(OBJECT_BYTES, |sum, item| {
                sum.saturating_add(REFERENCE_BYTES)
                    .saturating_add(match item {
                        Cow::Borrowed(_) => 0,
                        Cow::Owned(value) => deep_bytes(value),
                    })
            }),
        }
    }
}
