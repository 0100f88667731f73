//! `join(items, separator)`: the string forms of an array's elements joined
//! by the separator (default `,`, also used when the separator is an array
//! or object); a primitive is returned as its string form, an object as ''.

use std::borrow::Cow;

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::value::Value;

pub(super) fn join<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    let items = args.eval(0)?;
    let Some(elements) = items.array_items() else {
        let text = if items.is_primitive() {
            items.to_display_string().into_owned()
        } else {
            String::new()
        };
        return Ok(Evaluated::owned(Value::String(text)));
    };
    let separator = if elements.len() > 1 && args.len() > 1 {
        let separator = args.eval(1)?;
        if separator.is_primitive() {
            separator.to_display_string().into_owned()
        } else {
            ",".to_owned()
        }
    } else {
        ",".to_owned()
    };
    let limit = args.string_limit();
    let mut joined = String::new();
    for (i, element) in elements.into_iter().enumerate() {
        if i > 0 {
            joined.push_str(&separator);
        }
        joined.push_str(&element.to_display_string());
        if joined.len() > limit {
            return Err(args.memory_exceeded());
        }
    }
    Ok(Evaluated::Value(Cow::Owned(Value::String(joined))))
}
