//! `case(pred1, value1, pred2, value2, ..., default)`: the value after the
//! first predicate that is `true`, else the default. Predicates must be
//! booleans (no truthiness here), and nothing after the chosen branch is
//! evaluated.

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::value::{Value, ValueKind};

pub(super) fn case<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    let default = args.len() - 1;
    for predicate_index in (0..default).step_by(2) {
        let predicate = args.eval(predicate_index)?;
        if predicate.kind() != ValueKind::Boolean {
            return Err(args.error("case predicate must evaluate to a boolean value"));
        }
        if matches!(predicate, Evaluated::Value(ref value) if **value == Value::Boolean(true)) {
            return args.eval(predicate_index + 1);
        }
    }
    args.eval(default)
}
