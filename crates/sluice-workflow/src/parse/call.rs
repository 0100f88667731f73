//! Jobs that call reusable workflows: reading the callee and checking the
//! call against its `on.workflow_call` interface.

use std::sync::Arc;

use super::{ParseOptions, Parsed, WorkflowLoader};
use crate::diagnostic::Diagnostics;
use crate::model::{CallSecrets, InputType, JobBody, Workflow, WorkflowCall};
use crate::source::SourceFile;
use crate::token::TokenKind;

pub(super) fn resolve_calls(
    workflow: &mut Workflow,
    diags: &mut Diagnostics,
    options: &ParseOptions,
    loader: &dyn WorkflowLoader,
    depth: usize,
    parse: &dyn Fn(Arc<SourceFile>, usize) -> Parsed,
) {
    let caller = workflow.source.clone();
    for job in workflow.jobs.values_mut() {
        let JobBody::Call(call) = &mut job.body else {
            continue;
        };
        let reference = call.uses.value.clone();
        if depth + 1 > options.max_call_depth {
            diags
                .error(
                    call.uses.span,
                    format!("Nested reusable workflow depth exceeded {}.", options.max_call_depth),
                )
                .with_help("reusable workflows may call each other only this deep; check for a workflow that calls itself");
            continue;
        }
        if !reference.starts_with("./") && !is_remote_reference(&reference) {
            diags
                .error(call.uses.span, format!("Invalid workflow reference '{reference}'"))
                .with_help("use ./.github/workflows/<file>.yml, or owner/repo/.github/workflows/<file>.yml@ref");
            continue;
        }
        let source = match loader.load(&reference, &caller) {
            Ok(Some(source)) => source,
            Ok(None) => continue,
            Err(why) => {
                diags
                    .error(call.uses.span, format!("Cannot read the called workflow '{reference}': {why}"))
                    .with_help("check the path; local reusable workflows are named from the repository root, e.g. ./.github/workflows/deploy.yml");
                continue;
            }
        };
        let parsed = parse(source, depth + 1);
        diags.extend(parsed.diagnostics);
        let Some(callee) = parsed.workflow else {
            continue;
        };
        check_call(call, &callee, diags);
        call.callee = Some(callee);
    }
}

fn is_remote_reference(reference: &str) -> bool {
    match reference.split_once('@') {
        Some((path, r)) => !r.is_empty() && path.split('/').count() >= 3,
        None => false,
    }
}

fn check_call(call: &WorkflowCall, callee: &Workflow, diags: &mut Diagnostics) {
    let reference = &call.uses.value;
    let Some(interface) = callee.call_interface() else {
        diags
            .error(
                call.uses.span,
                format!("The workflow '{reference}' cannot be called: it has no `on: workflow_call` trigger"),
            )
            .with_help("add `workflow_call:` under `on:` in the called workflow");
        return;
    };
    for (name, value) in &call.with {
        let span = call.with_spans.get(name).copied().unwrap_or(call.uses.span);
        let Some(input) = interface
            .inputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
        else {
            let defined: Vec<&str> = interface.inputs.keys().map(String::as_str).collect();
            diags
                .error(
                    span,
                    format!("Invalid input, {name} is not defined in the referenced workflow."),
                )
                .with_help(if defined.is_empty() {
                    format!(
                        "the called workflow ({}) takes no inputs",
                        callee.source.name
                    )
                } else {
                    format!(
                        "the inputs of {} are: {}",
                        callee.source.name,
                        defined.join(", ")
                    )
                });
            continue;
        };
        let fits = match (input.input_type, &value.kind) {
            (_, TokenKind::String(s)) if s.contains("${{") => true,
            (InputType::Boolean, TokenKind::Boolean(_)) => true,
            (InputType::Boolean, _) => false,
            (InputType::Number, TokenKind::Number(_)) => true,
            (InputType::Number, _) => false,
            _ => true,
        };
        if !fits {
            let shown = match &value.kind {
                TokenKind::String(s) => s.clone(),
                _ => value.to_json().to_string(),
            };
            diags
                .error(value.span, format!("Unexpected value '{shown}'"))
                .with_help(format!(
                    "input '{name}' is a {}, declared at {}:{}:{}",
                    input.input_type.as_str(),
                    callee.source.name,
                    input.span.line,
                    input.span.col
                ));
        }
    }
    for input in interface.inputs.values() {
        let given = call
            .with
            .keys()
            .any(|k| k.eq_ignore_ascii_case(&input.name));
        if input.required && input.default.is_none() && !given {
            diags
                .error(
                    call.uses.span,
                    format!(
                        "Input {} is required, but not provided while calling.",
                        input.name
                    ),
                )
                .with_help(format!("add `{}:` under `with:`", input.name));
        }
    }
    match &call.secrets {
        CallSecrets::Inherit => {}
        CallSecrets::None | CallSecrets::Map(_) => {
            let given: Vec<&str> = match &call.secrets {
                CallSecrets::Map(map) => map.keys().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            if let CallSecrets::Map(map) = &call.secrets {
                for (name, (span, _)) in map {
                    if !interface
                        .secrets
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case(name))
                    {
                        diags
                            .error(*span, format!("Invalid secret, {name} is not defined in the referenced workflow."))
                            .with_help("pass only the secrets the called workflow declares under on.workflow_call.secrets, or use `secrets: inherit`");
                    }
                }
            }
            for secret in interface.secrets.values() {
                if secret.required && !given.iter().any(|g| g.eq_ignore_ascii_case(&secret.name)) {
                    diags
                        .error(
                            call.uses.span,
                            format!(
                                "Secret {} is required, but not provided while calling.",
                                secret.name
                            ),
                        )
                        .with_help(format!(
                            "add `{}:` under `secrets:`, or use `secrets: inherit`",
                            secret.name
                        ));
                }
            }
        }
    }
}
