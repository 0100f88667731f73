//! Strings with embedded `${{ expression }}` parts, as found in workflow
//! YAML values.
//!
//! The scan follows GitHub: after `${{`, the expression ends at the first
//! `}}` outside a single-quoted string; the text between is trimmed and must
//! not be empty. A value that is exactly one expression evaluates to that
//! expression's value with its type (`${{ matrix.n }}` stays a number);
//! anything else is a string, each expression converted with GitHub's
//! string coercion.

use crate::allowed::Allowed;
use crate::ast::Expr;
use crate::error::{ErrorKind, ExprError};
use crate::evaluator::evaluate;
use crate::host::EvalHost;
use crate::limits::MAX_MEMORY_BYTES;
use crate::memory::max_string_len;
use crate::parser::parse;
use crate::value::Value;

/// One piece of a template, borrowing from the template text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart<'t> {
    /// Text outside `${{ }}`.
    Literal(&'t str),
    /// The trimmed text inside `${{ }}`.
    Expression {
        source: &'t str,
        /// 0-based character offset of `source` within the template, so a
        /// 1-based position `p` inside the expression is template character
        /// `offset + p` (1-based).
        offset: usize,
    },
}

/// Splits a template into literal text and expressions, without parsing
/// the expressions. A template without `${{` is one literal (none if empty).
pub fn split_template(template: &str) -> Result<Vec<TemplatePart<'_>>, ExprError> {
    let chars: Vec<(usize, char)> = template.char_indices().collect();
    let byte_at = |index: usize| chars.get(index).map_or(template.len(), |&(byte, _)| byte);
    let is_open_at = |j: usize| {
        chars
            .get(j..j + 3)
            .is_some_and(|three| three[0].1 == '$' && three[1].1 == '{' && three[2].1 == '{')
    };

    let mut parts = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let Some(start) = (index..chars.len()).find(|&j| is_open_at(j)) else {
            parts.push(TemplatePart::Literal(&template[byte_at(index)..]));
            break;
        };
        if start > index {
            parts.push(TemplatePart::Literal(
                &template[byte_at(index)..byte_at(start)],
            ));
        }
        let end = find_close(&chars, start + 3).ok_or_else(|| {
            template_error(
                "The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found.",
                start,
            )
        })?;
        let inner = &template[byte_at(start + 3)..byte_at(end - 1)];
        let source = inner.trim();
        if source.is_empty() {
            return Err(template_error("An expression was expected", start));
        }
        let leading = inner.len() - inner.trim_start().len();
        let offset = start + 3 + inner[..leading].chars().count();
        parts.push(TemplatePart::Expression { source, offset });
        index = end + 1;
    }
    Ok(parts)
}

/// The index of the second `}` of the first `}}` outside single quotes.
/// Quote toggling also handles the `''` escape, since it toggles twice.
fn find_close(chars: &[(usize, char)], from: usize) -> Option<usize> {
    let mut in_string = false;
    for j in from..chars.len() {
        match chars[j].1 {
            '\'' => in_string = !in_string,
            '}' if !in_string && chars[j - 1].1 == '}' => return Some(j),
            _ => {}
        }
    }
    None
}

/// An error about the template structure at 0-based character `index`.
fn template_error(message: &str, index: usize) -> ExprError {
    ExprError::new(ErrorKind::Parsing, message, Some(index + 1))
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

/// A parsed piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Literal(String),
    Expression {
        expr: Expr,
        /// 0-based character offset of the expression text in the template.
        offset: usize,
    },
}

impl Template {
    /// Splits and parses a template. Errors carry positions relative to the
    /// template text (the message keeps GitHub's wording, relative to the
    /// expression).
    pub fn parse(template: &str, allowed: &Allowed) -> Result<Template, ExprError> {
        let mut segments = Vec::new();
        for part in split_template(template)? {
            segments.push(match part {
                TemplatePart::Literal(text) => Segment::Literal(text.to_owned()),
                TemplatePart::Expression { source, offset } => Segment::Expression {
                    expr: parse(source, allowed).map_err(|error| error.shifted(offset))?,
                    offset,
                },
            });
        }
        Ok(Template {
            source: template.to_owned(),
            segments,
        })
    }

    /// The template text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The pieces, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// True when the template contains no expression.
    pub fn is_literal(&self) -> bool {
        self.expressions().next().is_none()
    }

    /// The expressions with their character offsets in the template.
    pub fn expressions(&self) -> impl Iterator<Item = (&Expr, usize)> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Expression { expr, offset } => Some((expr, *offset)),
            Segment::Literal(_) => None,
        })
    }

    /// Evaluates the template: the value itself if the template is exactly
    /// one expression, otherwise the concatenated string.
    pub fn evaluate(&self, host: &dyn EvalHost) -> Result<Value, ExprError> {
        if let [Segment::Expression { expr, offset }] = self.segments.as_slice() {
            return evaluate(expr, host).map_err(|error| error.shifted(*offset));
        }
        // GitHub evaluates a mixed template as one `format()` call, so the
        // result shares a single memory budget.
        let limit = max_string_len(MAX_MEMORY_BYTES);
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Expression { expr, offset } => {
                    let value = evaluate(expr, host).map_err(|error| error.shifted(*offset))?;
                    out.push_str(&value.to_display_string());
                }
            }
            if out.len() > limit {
                return Err(ExprError::new(
                    ErrorKind::Evaluation,
                    format!(
                        "The maximum allowed memory size was exceeded while evaluating the following expression: {}",
                        self.source
                    ),
                    None,
                ));
            }
        }
        Ok(Value::String(out))
    }
}
