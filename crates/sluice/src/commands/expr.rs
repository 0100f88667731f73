//! `sluice expr 'EXPR' [--context FILE.json]`: one line of JSON out.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use sluice_expr::{Allowed, ErrorKind, ExprError, MapHost, Template, Value, split_template};

use crate::cli::ExprArgs;
use crate::exit::ExitStatus;

pub fn run(cwd: &Path, args: &ExprArgs) -> Result<ExitStatus> {
    let contexts = match &args.context {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the context file {}", path.display()))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", path.display()))?;
            if !json.is_object() {
                anyhow::bail!(
                    "{} must hold a JSON object mapping context names to values",
                    path.display()
                );
            }
            json
        }
        None => json!({}),
    };
    let host = host(cwd, &contexts);
    let allowed = Allowed::everything_for_contexts(
        host.context_names().map(str::to_string).collect::<Vec<_>>(),
    );
    let outcome = evaluate(&args.expression, &allowed, &host);
    let (line, status) = match outcome {
        Ok(value) => (
            format!(
                "{{\"kind\":\"{}\",\"value\":{}}}",
                value.kind_name(),
                json_text(&value)
            ),
            ExitStatus::Success,
        ),
        Err(e) => {
            let kind = match e.kind {
                ErrorKind::Lexing => "lexing",
                ErrorKind::Parsing => "parsing",
                ErrorKind::Evaluation => "evaluation",
            };
            let body = json!({"error": {"kind": kind, "message": e.message}});
            (body.to_string(), ExitStatus::Failure)
        }
    };
    crate::output::line(&line);
    Ok(status)
}

/// A bare expression, or a template: `${{ x }}` alone yields x's value,
/// text around expressions makes a string.
fn evaluate(text: &str, allowed: &Allowed, host: &MapHost) -> Result<Value, ExprError> {
    if text.contains("${{") {
        split_template(text)?;
        return Template::parse(text, allowed)?.evaluate(host);
    }
    sluice_expr::parse(text, allowed)?.evaluate(host)
}

/// Contexts from the file, `hashFiles` over the current directory, and the
/// status functions answering as in a job where everything so far passed.
fn host(cwd: &Path, contexts: &serde_json::Value) -> MapHost {
    let workspace = cwd.to_path_buf();
    let mut host = MapHost::from_json(contexts).unwrap_or_default();
    host = host.with_function("hashFiles", move |args: &[Value]| {
        let patterns: Vec<String> = args
            .iter()
            .map(|a| a.to_display_string().into_owned())
            .collect();
        sluice_exec::hash_files::hash_files(&workspace, &patterns)
            .map(Value::String)
            .map_err(|e| e.to_string())
    });
    for (name, result) in [
        ("success", true),
        ("always", true),
        ("failure", false),
        ("cancelled", false),
    ] {
        host = host.with_function(name, move |_: &[Value]| Ok(Value::Boolean(result)));
    }
    host
}

/// JSON text of a value; NaN and the infinities, which JSON cannot spell,
/// are written as the bare words NaN, Infinity and -Infinity (as Python's
/// json module reads and writes them).
fn json_text(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_nan() => "NaN".into(),
        Value::Number(n) if n.is_infinite() => {
            if *n > 0.0 {
                "Infinity".into()
            } else {
                "-Infinity".into()
            }
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(json_text).collect::<Vec<_>>().join(",")
        ),
        Value::Object(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::String(k.clone()), json_text(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_json().to_string(),
    }
}
