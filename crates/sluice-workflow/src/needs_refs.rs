//! `needs.<job>` must name a job the current job needs: the `needs` context
//! only holds direct dependencies, so anything else silently reads null.

use sluice_expr::{Allowed, TemplatePart, split_template};

use crate::diagnostic::Diagnostics;
use crate::model::{Job, StepAction};
use crate::suggest;
use crate::token::{Token, TokenKind};

pub(crate) fn check_needs_references(job: &Job, diags: &mut Diagnostics) {
    let mut tokens: Vec<&Token> = Vec::new();
    tokens.extend(job.name.iter());
    tokens.extend(job.runs_on.iter());
    tokens.extend(job.environment.iter());
    tokens.extend(job.env.iter());
    tokens.extend(job.container.iter());
    tokens.extend(job.timeout_minutes.iter());
    tokens.extend(job.continue_on_error.iter());
    tokens.extend(job.outputs.values());
    if let Some(strategy) = &job.strategy {
        tokens.extend(strategy.matrix.iter());
    }
    for step in job.steps() {
        tokens.extend(step.name.iter());
        tokens.extend(step.env.iter());
        tokens.extend(step.continue_on_error.iter());
        tokens.extend(step.timeout_minutes.iter());
        match &step.action {
            StepAction::Run {
                script,
                shell,
                working_directory,
                ..
            } => {
                tokens.push(script);
                tokens.extend(shell.iter());
                tokens.extend(working_directory.iter());
            }
            StepAction::Uses { with, .. } => tokens.extend(with.values()),
            _ => {}
        }
    }
    let mut strings = Vec::new();
    for token in tokens {
        collect_strings(token, &mut strings);
    }
    let conditions =
        std::iter::once(&job.condition).chain(job.steps().iter().map(|s| &s.condition));
    for condition in conditions {
        if let Some(written) = &condition.written {
            check_expression(job, &condition.expression, written.span, diags);
        }
    }
    for (text, span) in strings {
        let Ok(parts) = split_template(text) else {
            continue;
        };
        for part in parts {
            if let TemplatePart::Expression { source, .. } = part {
                check_expression(job, source, span, diags);
            }
        }
    }
}

fn check_expression(job: &Job, source: &str, span: crate::source::Span, diags: &mut Diagnostics) {
    let Ok(expr) = sluice_expr::parse(source, &Allowed::any()) else {
        return;
    };
    for (name, _) in expr.context_properties("needs") {
        if job.needs.iter().any(|n| n.value.eq_ignore_ascii_case(name)) {
            continue;
        }
        let help = if job.needs.is_empty() {
            format!("add `needs: {name}` to job '{}'", job.id)
        } else {
            match suggest::nearest(name, job.needs.iter().map(|n| n.value.as_str())) {
                Some(near) => {
                    format!("did you mean `{near}`? otherwise add '{name}' to this job's needs")
                }
                None => format!(
                    "add '{name}' to this job's needs (now: {})",
                    job.needs
                        .iter()
                        .map(|n| n.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        };
        diags
            .warning(
                span,
                format!(
                    "`needs.{name}` is always null here: job '{}' does not need '{name}'",
                    job.id
                ),
            )
            .with_help(help);
    }
}

fn collect_strings<'t>(token: &'t Token, out: &mut Vec<(&'t str, crate::source::Span)>) {
    match &token.kind {
        TokenKind::String(s) if s.contains("${{") => out.push((s, token.span)),
        TokenKind::Sequence(items) => items.iter().for_each(|i| collect_strings(i, out)),
        TokenKind::Mapping(entries) => entries.iter().for_each(|(_, _, v)| collect_strings(v, out)),
        _ => {}
    }
}
