//! `contains(search, item)`: a case-insensitive substring test when
//! `search` is a primitive, loose equality against each element when it is
//! an array, false otherwise.

use crate::comparison::{Operand, loose_equal};
use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::ignore_case::contains_ignore_case;
use crate::value::Value;

pub(super) fn contains<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    let search = args.eval(0)?;
    // Like GitHub, the item is not evaluated when the answer is already known.
    let found = if search.is_primitive() {
        let item = args.eval(1)?;
        item.is_primitive()
            && contains_ignore_case(&search.to_display_string(), &item.to_display_string())
    } else if let Some(elements) = search.array_items() {
        let item = args.eval(1)?;
        let wanted = item.operand();
        // Elements of an array are the same object each time they are read,
        // so they carry their identity into the comparison.
        elements
            .into_iter()
            .any(|element| loose_equal(wanted, Operand::of(element, true)))
    } else {
        false
    };
    Ok(Evaluated::owned(Value::Boolean(found)))
}
