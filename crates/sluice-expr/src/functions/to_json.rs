//! `toJSON(value)`: the value as pretty-printed JSON text.

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::json_text::{render_json, render_json_array};
use crate::value::Value;

pub(super) fn to_json<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    let value = args.eval(0)?;
    let limit = args.string_limit();
    let mut text = String::new();
    let rendered = match &value {
        Evaluated::Value(value) => render_json(value, &mut text, limit),
        Evaluated::Filtered(items) => {
            render_json_array(items.iter().map(AsRef::as_ref), &mut text, limit)
        }
    };
    match rendered {
        Ok(()) => Ok(Evaluated::owned(Value::String(text))),
        Err(_) => Err(args.memory_exceeded()),
    }
}
