//! `format(template, arg0, arg1, ...)`: replaces `{0}`, `{1}`, ... with the
//! string forms of the arguments; `{{` and `}}` stand for literal braces.
//!
//! The whole format string is checked before any argument is evaluated, and
//! only referenced arguments are evaluated (each once), as on GitHub.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::error::ExprError;
use crate::evaluated::Evaluated;
use crate::evaluator::Args;
use crate::value::Value;

enum Segment {
    Text(String),
    Arg { index: usize, specifiers: String },
}

pub(super) fn format<'h>(args: &mut Args<'_, 'h, '_>) -> Result<Evaluated<'h>, ExprError> {
    let template = args.eval(0)?.to_display_string().into_owned();
    let segments =
        parse_format(&template, args.len() - 1).map_err(|message| args.error(message))?;

    let limit = args.string_limit();
    let mut arg_text: HashMap<usize, (String, &'static str)> = HashMap::new();
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(&text),
            Segment::Arg { index, specifiers } => {
                if let Entry::Vacant(slot) = arg_text.entry(index) {
                    let value = args.eval(index + 1)?;
                    slot.insert((value.to_display_string().into_owned(), value.kind().name()));
                }
                let (text, kind) = &arg_text[&index];
                if !specifiers.is_empty() {
                    // GitHub accepts specifiers only for dates, which
                    // expressions cannot produce.
                    return Err(args.error(format!(
                        "The format specifiers '{specifiers}' are not valid for objects of type '{kind}'"
                    )));
                }
                out.push_str(text);
            }
        }
        if out.len() > limit {
            return Err(args.memory_exceeded());
        }
    }
    Ok(Evaluated::owned(Value::String(out)))
}

/// Splits a format string into text and argument references; the error is
/// GitHub's message for the first problem found scanning left to right.
fn parse_format(template: &str, arg_count: usize) -> Result<Vec<Segment>, String> {
    let invalid = || format!("The following format string is invalid: {template}");
    let chars: Vec<char> = template.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let find = |c: char, from: usize| chars[from..].iter().position(|&x| x == c).map(|p| p + from);
    let text = |range: std::ops::Range<usize>| Segment::Text(chars[range].iter().collect());

    let mut segments = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let left = find('{', index);
        let right = find('}', index);
        match (left, right) {
            (Some(left), right) if right.is_none_or(|right| right > left) => {
                if at(left + 1) == Some('{') {
                    // `{{`: keep one brace.
                    segments.push(text(index..left + 1));
                    index = left + 2;
                    continue;
                }
                let reference = right
                    .filter(|&right| right > left + 1)
                    .and_then(|_| read_arg_index(&chars, left + 1))
                    .and_then(|(arg, end)| {
                        read_specifiers(&chars, end).map(|(spec, close)| (arg, spec, close))
                    });
                let Some((arg, specifiers, close)) = reference else {
                    return Err(invalid());
                };
                if arg >= arg_count {
                    return Err(format!(
                        "The following format string references more arguments than were supplied: {template}"
                    ));
                }
                if left > index {
                    segments.push(text(index..left));
                }
                segments.push(Segment::Arg {
                    index: arg,
                    specifiers,
                });
                index = close + 1;
            }
            (_, Some(right)) => {
                if at(right + 1) != Some('}') {
                    return Err(invalid());
                }
                // `}}`: keep one brace.
                segments.push(text(index..right + 1));
                index = right + 2;
            }
            (_, None) => {
                segments.push(text(index..chars.len()));
                break;
            }
        }
    }
    Ok(segments)
}

/// Reads the decimal argument index starting at `start`; it must fit in a
/// byte, as on GitHub. Returns the index and the position after its digits.
fn read_arg_index(chars: &[char], start: usize) -> Option<(usize, usize)> {
    let digits: String = chars[start..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let value: u8 = digits.parse().ok()?;
    Some((usize::from(value), start + digits.len()))
}

/// Reads optional `:specifiers` (where `}}` is an escaped brace) up to the
/// closing `}`. Returns the specifiers and the position of the closing brace.
fn read_specifiers(chars: &[char], start: usize) -> Option<(String, usize)> {
    match chars.get(start) {
        Some('}') => return Some((String::new(), start)),
        Some(':') => {}
        _ => return None,
    }
    let mut specifiers = String::new();
    let mut index = start + 1;
    loop {
        match chars.get(index)? {
            '}' if chars.get(index + 1) == Some(&'}') => {
                specifiers.push('}');
                index += 2;
            }
            '}' => return Some((specifiers, index)),
            c => {
                specifiers.push(*c);
                index += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, arg_count: usize) -> Result<String, String> {
        let segments = parse_format(template, arg_count)?;
        Ok(segments
            .into_iter()
            .map(|segment| match segment {
                Segment::Text(text) => text,
                Segment::Arg { index, specifiers } => format!("<{index}{specifiers}>"),
            })
            .collect())
    }

    #[test]
    fn escapes_and_references() {
        assert_eq!(render("a{0}b{1}", 2).unwrap(), "a<0>b<1>");
        assert_eq!(render("{{0}}", 1).unwrap(), "{0}");
        assert_eq!(render("}}{{}}", 0).unwrap(), "}{}");
        assert_eq!(render("{0:x}}y}", 1).unwrap(), "<0x}y>");
    }

    #[test]
    fn errors_are_reported_in_order() {
        assert!(
            render("{1} {", 1)
                .unwrap_err()
                .contains("references more arguments")
        );
        assert!(render("{0", 1).unwrap_err().contains("is invalid"));
        assert!(render("{256}", 300).unwrap_err().contains("is invalid"));
        assert!(render("{x}", 1).unwrap_err().contains("is invalid"));
    }
}
