//! Checking the `${{ }}` expressions written in a workflow, where they are
//! written: syntax, and that they only use the contexts and functions the
//! key allows.

use sluice_expr::{Allowed, Expr, TemplatePart, split_template};

use crate::contexts::{self, Availability};
use crate::diagnostic::Diagnostics;
use crate::model::{Condition, Spanned};
use crate::source::Span;

/// The `sluice_expr` view of an availability.
pub fn allowed(avail: &Availability) -> Allowed {
    let mut allowed = Allowed::new().with_named_values(avail.contexts.iter().copied());
    for f in avail.functions {
        allowed.add_function(f.name, f.min_args, f.max_args);
    }
    allowed
}

/// Checks each expression of a template string (a YAML string that holds
/// `${{ }}`), reporting problems at the expression's position.
pub fn check_template(text: &str, span: Span, avail: &Availability, diags: &mut Diagnostics) {
    let parts = match split_template(text) {
        Ok(parts) => parts,
        Err(e) => {
            let at = position_in(diags, span, text, e.position.unwrap_or(1) - 1);
            diags
                .error(at, e.message)
                .with_help("write expressions as ${{ <expression> }}; to write a literal ${{, use ${{ '${{' }}");
            return;
        }
    };
    let allowed = allowed(avail);
    for part in parts {
        if let TemplatePart::Expression { source, offset } = part
            && let Err(e) = sluice_expr::parse(source, &allowed)
        {
            let at = position_in(diags, span, text, offset);
            report(diags, at, &e, avail);
        }
    }
}

/// An `if:` as GitHub reads it: an expression with or without `${{ }}`,
/// prefixed with `success() && ` unless it calls a status function.
pub fn condition(
    text: &str,
    span: Span,
    avail: &Availability,
    diags: &mut Diagnostics,
) -> Condition {
    let written = Some(Spanned::new(text.to_string(), span));
    let trimmed = text.trim();
    let inner = if trimmed.contains("${{") {
        match split_template(trimmed) {
            Ok(parts) => {
                match parts.as_slice() {
                    [TemplatePart::Expression { source, .. }] => source.to_string(),
                    _ => {
                        // Text around an expression makes the condition a
                        // non-empty string, which is always true: almost
                        // certainly not what was meant.
                        check_template(trimmed, span, avail, diags);
                        diags
                        .warning(span, "This condition mixes text with ${{ }} and is therefore always true")
                        .with_help("write the whole condition as one expression, without ${{ }}");
                        let format = template_as_format(&parts);
                        return Condition {
                            expression: format,
                            written,
                        };
                    }
                }
            }
            Err(e) => {
                diags.error(span, e.message);
                return Condition {
                    expression: "false".into(),
                    written,
                };
            }
        }
    } else {
        trimmed.to_string()
    };
    let allowed = allowed(avail);
    match sluice_expr::parse(&inner, &allowed) {
        Ok(expr) => {
            let expression = if inner.is_empty() {
                "success()".to_string()
            } else if calls_status_function(&expr) {
                inner
            } else {
                format!("success() && ({inner})")
            };
            Condition {
                expression,
                written,
            }
        }
        Err(e) => {
            report(diags, span, &e, avail);
            Condition {
                expression: "false".into(),
                written,
            }
        }
    }
}

fn calls_status_function(expr: &Expr) -> bool {
    expr.function_calls().any(|call| {
        call.is_host_function
            && ["success", "failure", "cancelled", "always"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(call.name))
    })
}

fn template_as_format(parts: &[TemplatePart]) -> String {
    let mut format = String::new();
    let mut args = Vec::new();
    for part in parts {
        match part {
            TemplatePart::Literal(text) => format.push_str(
                &text
                    .replace('\'', "''")
                    .replace('{', "{{")
                    .replace('}', "}}"),
            ),
            TemplatePart::Expression { source, .. } => {
                format.push_str(&format!("{{{}}}", args.len()));
                args.push(source.to_string());
            }
        }
    }
    format!("format('{format}', {})", args.join(", "))
}

fn report(diags: &mut Diagnostics, at: Span, e: &sluice_expr::ExprError, avail: &Availability) {
    let d = diags.error(at, e.message.clone());
    if let Some(name) = unrecognized_name(&e.message) {
        let mut help = format!("`{}` may use: {}", avail.key, avail.describe());
        if let Some(when) = contexts::where_available(name) {
            help.push_str(&format!("; `{name}` is available {when}"));
        }
        d.with_help(help);
    }
}

/// The name in "Unrecognized named-value: 'x'" / "Unrecognized function: 'x'".
fn unrecognized_name(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("Unrecognized named-value: '")
        .or_else(|| message.strip_prefix("Unrecognized function: '"))?;
    rest.split('\'').next()
}

/// The position of character `offset` inside a scalar written at `span`.
/// When the scalar's first line appears verbatim in the source (plain or
/// simply quoted strings) the position is exact; otherwise the scalar's
/// start is used, as GitHub does.
fn position_in(diags: &Diagnostics, span: Span, text: &str, offset: usize) -> Span {
    let source = diags.source();
    let first_line = text.lines().next().unwrap_or("");
    let Some(byte_offset) = first_line.char_indices().nth(offset).map(|(i, _)| i) else {
        return span;
    };
    let Some(written) = source.text.get(span.offset..) else {
        return span;
    };
    let quote_skip = usize::from(written.starts_with(['\'', '"']));
    if written[quote_skip..].starts_with(first_line) {
        return source.span_from_offset(span.offset + quote_skip + byte_offset, 3);
    }
    span
}
