//! GitHub's built-in functions. Each lives in its own file; this module
//! names them, states their arity and dispatches calls.
//!
//! Functions receive their arguments unevaluated ([`Args`]) because several
//! evaluate lazily as GitHub does: `case` only the branches it needs,
//! `format` only the arguments its format string references, `join` its
//! separator only when there are two or more items.

mod case;
mod contains;
mod format;
mod from_json;
mod join;
mod starts_ends_with;
mod to_json;

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;

/// A built-in function. Names match case-insensitively (`toJson`, `TOJSON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Contains,
    StartsWith,
    EndsWith,
    Format,
    Join,
    ToJson,
    FromJson,
    Case,
}

const ALL: [Builtin; 8] = [
    Builtin::Contains,
    Builtin::StartsWith,
    Builtin::EndsWith,
    Builtin::Format,
    Builtin::Join,
    Builtin::ToJson,
    Builtin::FromJson,
    Builtin::Case,
];

impl Builtin {
    /// The built-in called `name`, ignoring case.
    pub fn lookup(name: &str) -> Option<Builtin> {
        ALL.into_iter()
            .find(|builtin| builtin.name().eq_ignore_ascii_case(name))
    }

    /// The documented spelling.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Contains => "contains",
            Builtin::StartsWith => "startsWith",
            Builtin::EndsWith => "endsWith",
            Builtin::Format => "format",
            Builtin::Join => "join",
            Builtin::ToJson => "toJSON",
            Builtin::FromJson => "fromJSON",
            Builtin::Case => "case",
        }
    }

    /// Fewest arguments accepted.
    pub fn min_args(self) -> usize {
        match self {
            Builtin::Format | Builtin::Join | Builtin::ToJson | Builtin::FromJson => 1,
            Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => 2,
            Builtin::Case => 3,
        }
    }

    /// Most arguments accepted. `format` takes at most 255 because GitHub
    /// stores argument indexes in a byte.
    pub fn max_args(self) -> usize {
        match self {
            Builtin::ToJson | Builtin::FromJson => 1,
            Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith | Builtin::Join => 2,
            Builtin::Format => 255,
            Builtin::Case => usize::MAX,
        }
    }

    /// `case` pairs predicates with values and ends with a default.
    pub fn requires_odd_args(self) -> bool {
        self == Builtin::Case
    }
}

/// Evaluates a call of a built-in.
pub(crate) fn call<'h>(
    builtin: Builtin,
    args: &mut Args<'_, 'h, '_>,
) -> Result<Evaluated<'h>, ExprError> {
    match builtin {
        Builtin::Contains => contains::contains(args),
        Builtin::StartsWith => starts_ends_with::starts_with(args),
        Builtin::EndsWith => starts_ends_with::ends_with(args),
        Builtin::Format => format::format(args),
        Builtin::Join => join::join(args),
        Builtin::ToJson => to_json::to_json(args),
        Builtin::FromJson => from_json::from_json(args),
        Builtin::Case => case::case(args),
    }
}
