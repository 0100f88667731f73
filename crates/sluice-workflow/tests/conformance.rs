//! GitHub's own workflow-parser test data (../shared/conformance/workflow-parser).
//!
//! Each case is a YAML stream: options, the workflow, optionally pairs of
//! (reference, file) for called workflows, then the expected result: a
//! parsed workflow (we must report no errors) or `{"errors": [...]}` (we
//! must report an error on every line the expected messages name). Cases
//! are read in strict mode, where everything GitHub rejects is an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice_workflow::{Limits, ParseOptions, SourceFile, WorkflowLoader, parse_workflow};

/// Cases where Sluice deliberately differs from GitHub's parser.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn conformance_dir() -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/workflow-parser");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("conformance data missing at {} (CI=true)", dir.display());
    }
    eprintln!(
        "\n*** SKIPPED: workflow-parser conformance data not found at {} ***\n",
        dir.display()
    );
    None
}

struct MapLoader(HashMap<String, Arc<SourceFile>>);

impl WorkflowLoader for MapLoader {
    fn load(
        &self,
        reference: &str,
        _caller: &SourceFile,
    ) -> Result<Option<Arc<SourceFile>>, String> {
        Ok(self.0.get(reference).cloned())
    }
}

/// Splits a YAML stream at `---` lines.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    docs
}

fn option_number(options: &str, key: &str) -> Option<usize> {
    options.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(key)?.strip_prefix(':')?;
        rest.split('#').next()?.trim().parse().ok()
    })
}

/// (file, line) pairs named by expected messages like
/// `.github/workflows/x.yml (Line: 12, Col: 9): ...`.
fn expected_lines(expected: &serde_json::Value) -> Vec<(String, u32)> {
    let mut lines = Vec::new();
    for error in expected["errors"].as_array().into_iter().flatten() {
        let message = error["Message"].as_str().unwrap_or("");
        let message = message.strip_prefix("In ").unwrap_or(message);
        if let Some((file, rest)) = message.split_once(" (Line: ")
            && let Some(line) = rest.split(',').next().and_then(|l| l.parse().ok())
        {
            lines.push((file.to_string(), line));
        }
    }
    lines
}

#[derive(Debug)]
enum Outcome {
    Pass,
    Fail(String),
}

fn run_case(path: &Path) -> Outcome {
    let text = std::fs::read_to_string(path).expect("readable case");
    let docs = documents(&text);
    if docs.len() < 3 {
        return Outcome::Fail("malformed case".into());
    }
    let options_doc = &docs[0];
    let workflow_text = &docs[1];
    let expected: serde_json::Value = match serde_json::from_str(docs.last().expect("expected doc"))
    {
        Ok(v) => v,
        Err(e) => return Outcome::Fail(format!("expected output is not JSON: {e}")),
    };
    let mut files = HashMap::new();
    for pair in docs[2..docs.len() - 1].chunks(2) {
        if let [reference, content] = pair {
            let reference = reference.trim().to_string();
            files.insert(
                reference.clone(),
                SourceFile::new(reference, content.clone()),
            );
        }
    }
    let mut options = ParseOptions {
        strict: true,
        ..ParseOptions::default()
    };
    let defaults = Limits::default();
    options.limits.max_depth =
        option_number(options_doc, "max-depth").unwrap_or(defaults.max_depth);
    options.limits.max_file_chars =
        option_number(options_doc, "max-file-size").unwrap_or(defaults.max_file_chars);
    if let Some(depth) = option_number(options_doc, "max-nested-reusable-workflows-depth") {
        options.max_call_depth = depth;
    }
    let name = format!(
        ".github/workflows/{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("case.yml")
    );
    let parsed = parse_workflow(
        SourceFile::new(name, workflow_text.clone()),
        &options,
        &MapLoader(files),
    );
    let errors: Vec<_> = parsed.diagnostics.iter().filter(|d| d.is_error()).collect();
    let shown = || {
        errors
            .iter()
            .map(|d| d.short())
            .collect::<Vec<_>>()
            .join("\n      ")
    };
    if expected.get("errors").is_none() {
        return if errors.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(format!("expected no errors, got:\n      {}", shown()))
        };
    }
    if errors.is_empty() {
        return Outcome::Fail(format!("expected errors {}, got none", expected["errors"]));
    }
    for (file, line) in expected_lines(&expected) {
        let found = errors.iter().any(|d| {
            d.span.line == line && (d.source.name == file || file.ends_with(&d.source.name))
        });
        if !found {
            return Outcome::Fail(format!(
                "expected an error at {file} line {line}; got:\n      {}",
                shown()
            ));
        }
    }
    Outcome::Pass
}

#[test]
fn workflow_parser_conformance() {
    let Some(dir) = conformance_dir() else { return };
    let skipped: Vec<String> = std::fs::read_to_string(dir.join("skipped-tests.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable conformance dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    cases.sort();

    let (mut passed, mut total, mut skipped_passed, mut skipped_total) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let file = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let is_skipped = skipped.contains(&file);
        let outcome = run_case(case);
        let pass = matches!(outcome, Outcome::Pass);
        if is_skipped {
            skipped_total += 1;
            skipped_passed += usize::from(pass);
            continue;
        }
        total += 1;
        if pass {
            passed += 1;
        } else if !KNOWN_DIFFERENCES.iter().any(|(name, _)| *name == file)
            && let Outcome::Fail(why) = outcome
        {
            failures.push(format!("  {file}: {why}"));
        }
    }
    println!(
        "workflow-parser conformance: {passed}/{total} passed ({} known differences); cases GitHub's TypeScript parser skips: {skipped_passed}/{skipped_total} also pass",
        KNOWN_DIFFERENCES.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
