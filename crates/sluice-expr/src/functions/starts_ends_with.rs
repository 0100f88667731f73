//! `startsWith(text, prefix)` and `endsWith(text, suffix)`: case-insensitive
//! tests on the string forms of two primitives; false for anything else.

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::ignore_case::{ends_with_ignore_case, starts_with_ignore_case};
use crate::value::Value;

pub(super) fn starts_with<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    test_affix(args, starts_with_ignore_case)
}

pub(super) fn ends_with<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    test_affix(args, ends_with_ignore_case)
}

fn test_affix<'h>(
    args: &mut Args<'_, 'h, '_>,
    test: fn(&str, &str) -> bool,
) -> Result<Evaluated<'h>, ExprError> {
    let text = args.eval(0)?;
    let matched = if text.is_primitive() {
        let affix = args.eval(1)?;
        affix.is_primitive() && test(&text.to_display_string(), &affix.to_display_string())
    } else {
        false
    };
    Ok(Evaluated::owned(Value::Boolean(matched)))
}
