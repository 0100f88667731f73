//! The JUnit files of ../shared/conformance/junit (written by real
//! runners) with the counts EnricoMi/publish-unit-test-result-action
//! computes for each: Sluice reads the same tests, runs, suites and
//! outcomes, and refuses the same files.

use std::path::{Path, PathBuf};

use sluice_reports::parse_junit;

fn conformance_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/junit");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("conformance data missing at {} (CI=true)", dir.display());
    }
    eprintln!(
        "\n*** SKIPPED: JUnit conformance data not found at {} ***\n",
        dir.display()
    );
    None
}

fn xml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            xml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "xml") {
            found.push(path);
        }
    }
}

const FIELDS: [&str; 12] = [
    "suites",
    "duration",
    "tests",
    "tests_succ",
    "tests_skip",
    "tests_fail",
    "tests_error",
    "runs",
    "runs_succ",
    "runs_skip",
    "runs_fail",
    "runs_error",
];

#[test]
fn junit_reports_agree_with_the_reference_action() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let mut files = Vec::new();
    xml_files(&dir, &mut files);
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for file in &files {
        let expected = file.with_extension("results.json");
        let Ok(text) = std::fs::read_to_string(&expected) else {
            continue;
        };
        checked += 1;
        let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
        let stats = &expected["stats"];
        let name = file.strip_prefix(&dir).unwrap().display().to_string();
        let refused_by_reference = stats["errors"].as_array().is_some_and(|e| !e.is_empty());
        match parse_junit(&std::fs::read(file).unwrap()) {
            Err(error) if refused_by_reference => {
                assert!(error.line >= 1 && error.column >= 1, "{name}: {error}");
            }
            Err(error) => disagreements.push(format!("{name}: refused ({error})")),
            Ok(_) if refused_by_reference => {
                disagreements.push(format!("{name}: read, but the action refuses it"));
            }
            Ok(report) => {
                let ours = serde_json::to_value(report.reference_stats()).unwrap();
                for field in FIELDS {
                    if ours[field] != stats[field] {
                        disagreements.push(format!(
                            "{name}: {field} is {} (expected {})",
                            ours[field], stats[field]
                        ));
                    }
                }
            }
        }
    }
    println!(
        "JUnit conformance: {}/{checked} files agree with the reference action's counts",
        checked
            - disagreements
                .iter()
                .map(|d| d.split(':').next().unwrap())
                .collect::<std::collections::HashSet<_>>()
                .len()
    );
    assert!(checked >= 28, "only {checked} files with expected results");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn a_truncated_report_is_refused_with_its_position() {
    let Some(dir) = conformance_dir() else {
        return;
    };
    let error = parse_junit(&std::fs::read(dir.join("pytest/corrupt-xml.xml")).unwrap())
        .expect_err("corrupt XML is refused");
    assert!(error.line > 1, "{error}");
}
