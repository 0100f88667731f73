//! `fromJSON(text)`: parses the string form of its argument as JSON.

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::value::Value;

pub(super) fn from_json<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    let input = args.eval(0)?;
    let text = input.to_display_string();
    if text.trim().is_empty() {
        return Err(args.error("Error parsing JSON when evaluating fromJson: empty input"));
    }
    // serde_json refuses nesting deeper than 128 levels, which keeps the
    // recursive walks over the result (rendering, sizing, dropping) shallow.
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => Ok(Evaluated::owned(Value::from_json(&json))),
        Err(error) => Err(args.error(format!(
            "Error parsing JSON when evaluating fromJson: {error}"
        ))),
    }
}
