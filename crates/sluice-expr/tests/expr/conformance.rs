//! Runs GitHub's own expression test data (actions/languageservices,
//! `expressions/testdata`), read from `../shared/conformance/expressions`
//! next to the workspace. Every case must pass.
//!
//! Error messages must match exactly, except that a few expected messages
//! are truncated in the data (e.g. "Too few parameters supplied: ", or the
//! memory error without the expression GitHub appends) because GitHub's two
//! implementations differ in what follows; GitHub's own harness only checks
//! that the expected text is contained. Here it must be a prefix of ours,
//! and the run reports how many matched exactly.

use std::path::{Path, PathBuf};

use sluice_expr::{Allowed, ErrorKind, ExprError, MapHost, Value, evaluate, parse};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/expressions")
}

#[derive(Default)]
struct Tally {
    total: usize,
    with_contexts: usize,
    exact_messages: usize,
    prefix_messages: usize,
    failures: Vec<String>,
}

#[test]
fn github_expression_conformance() {
    let dir = conformance_dir();
    if !dir.is_dir() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance data not found at {}", dir.display());
        }
        eprintln!(
            "\n*** SKIPPED: expression conformance data not found at {} ***\n",
            dir.display()
        );
        return;
    }

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read conformance directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();

    let mut tally = Tally::default();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read conformance file");
        let groups: serde_json::Value =
            serde_json::from_str(&text).expect("conformance file is JSON");
        let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (group, cases) in groups.as_object().expect("file holds an object of groups") {
            for (index, case) in cases
                .as_array()
                .expect("group holds a list")
                .iter()
                .enumerate()
            {
                let label = format!("{file_name} / {group} #{index}");
                run_case(&label, case, &mut tally);
            }
        }
    }

    let passed = tally.total - tally.failures.len();
    println!(
        "expressions: {passed}/{} passed ({} with contexts); error messages: {} exact, {} extending a truncated expectation",
        tally.total, tally.with_contexts, tally.exact_messages, tally.prefix_messages
    );
    if !tally.failures.is_empty() {
        panic!(
            "{} conformance case(s) failed:\n{}",
            tally.failures.len(),
            tally.failures.join("\n")
        );
    }
}

fn run_case(label: &str, case: &serde_json::Value, tally: &mut Tally) {
    tally.total += 1;
    let expr = case["expr"].as_str().expect("case has expr");
    let contexts = case
        .get("contexts")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    if case.get("contexts").is_some() {
        tally.with_contexts += 1;
    }
    // `options` only says which of GitHub's implementations skip a case;
    // Sluice runs them all.
    let host = MapHost::from_json(&contexts).expect("contexts is an object");
    let allowed = Allowed::new().with_named_values(host.context_names().map(str::to_owned));

    let outcome = parse(expr, &allowed).and_then(|parsed| evaluate(&parsed, &host));
    let failure = match (&outcome, case.get("result"), case.get("err")) {
        (Ok(actual), Some(expected), None) => check_result(actual, expected),
        (Err(actual), None, Some(expected)) => check_error(actual, expected, tally),
        (Ok(actual), None, Some(expected)) => {
            Some(format!("expected error {expected}, got {actual:?}"))
        }
        (Err(actual), Some(expected), None) => Some(format!(
            "expected {expected}, got {:?} error: {}",
            actual.kind, actual.message
        )),
        _ => Some("case has neither result nor err".to_owned()),
    };
    if let Some(failure) = failure {
        tally
            .failures
            .push(format!("  {label}: {expr:?}: {failure}"));
    }
}

fn check_result(actual: &Value, expected: &serde_json::Value) -> Option<String> {
    let kind = expected["kind"].as_str().expect("result has kind");
    if actual.kind_name() != kind {
        return Some(format!(
            "expected kind {kind}, got {} ({actual:?})",
            actual.kind_name()
        ));
    }
    if !same_value(actual, &expected["value"]) {
        return Some(format!("expected {}, got {actual:?}", expected["value"]));
    }
    None
}

fn check_error(
    actual: &ExprError,
    expected: &serde_json::Value,
    tally: &mut Tally,
) -> Option<String> {
    let kind = match expected["kind"].as_str() {
        Some("lexing") => ErrorKind::Lexing,
        Some("parsing") => ErrorKind::Parsing,
        Some("evaluation") => ErrorKind::Evaluation,
        other => return Some(format!("unknown error kind {other:?}")),
    };
    let message = expected["value"].as_str().expect("error has value");
    if actual.kind != kind {
        return Some(format!(
            "expected {kind:?} error {message:?}, got {:?} error {:?}",
            actual.kind, actual.message
        ));
    }
    if actual.message == message {
        tally.exact_messages += 1;
        None
    } else if actual.message.starts_with(message) {
        tally.prefix_messages += 1;
        None
    } else {
        Some(format!(
            "expected message {message:?}, got {:?}",
            actual.message
        ))
    }
}

/// Structural equality with numbers compared by value (NaN equals NaN, -0 equals 0).
fn same_value(actual: &Value, expected: &serde_json::Value) -> bool {
    match (actual, expected) {
        (Value::Null, serde_json::Value::Null) => true,
        (Value::Boolean(a), serde_json::Value::Bool(e)) => a == e,
        (Value::Number(a), serde_json::Value::Number(e)) => {
            let e = e.as_f64().expect("finite number");
            a == &e || (a.is_nan() && e.is_nan())
        }
        (Value::String(a), serde_json::Value::String(e)) => a == e,
        (Value::Array(a), serde_json::Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| same_value(a, e))
        }
        (Value::Object(a), serde_json::Value::Object(e)) => {
            a.len() == e.len()
                && a.iter()
                    .zip(e)
                    .all(|((ak, av), (ek, ev))| ak == ek && same_value(av, ev))
        }
        _ => false,
    }
}
