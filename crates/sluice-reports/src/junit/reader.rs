//! JUnit XML into a light tree of suites and testcase elements.
//!
//! The text is untrusted: it must be UTF-8, a DOCTYPE is refused (no DTD,
//! so no entity definitions to expand: XXE and billion-laughs files stop
//! here), only XML's predefined entities and character references are
//! decoded, and its size, nesting and the text kept of each failure are
//! bounded. Errors say where, by line and column.

use crate::report_error::ContentError;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::report_error::ReportError;
use crate::report_text::report_text;
use crate::xml_walk::attributes;

/// The largest report read.
pub const MAX_REPORT_BYTES: usize = 512 * 1024 * 1024;
/// The deepest nesting of elements read.
pub const MAX_DEPTH: usize = 256;
/// Most testcase elements in one report.
pub const MAX_CASES: usize = 5_000_000;
/// The text kept of a failure, error or skip (its stack trace).
pub const MAX_DETAILS_BYTES: usize = 16 * 1024;

/// A `<testsuite>`: its attributes as written, its testcase elements and
/// the suites nested in it.
#[derive(Debug, Default)]
pub(crate) struct RawSuite {
    pub name: String,
    pub attrs: SuiteAttrs,
    /// Indices into [`RawReport::cases`] of its direct testcases.
    pub cases: Vec<usize>,
    /// Indices into [`RawReport::suites`] of its direct child suites.
    pub children: Vec<usize>,
}

/// A suite's count attributes, as written (`None` when absent).
#[derive(Debug, Default, Clone)]
pub(crate) struct SuiteAttrs {
    pub tests: Option<String>,
    pub failures: Option<String>,
    pub errors: Option<String>,
    pub skipped: Option<String>,
    pub disabled: Option<String>,
    pub time: Option<String>,
}

/// A `<testcase>` element: one run of a test.
#[derive(Debug, Default)]
pub(crate) struct RawCase {
    pub suite: usize,
    pub classname: Option<String>,
    pub name: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub time: Option<String>,
    /// `status` (TST, Catch2, bazel): `disabled` means skipped.
    pub status: Option<String>,
    pub results: Vec<RawResult>,
}

/// A result element inside a testcase.
#[derive(Debug)]
pub(crate) struct RawResult {
    pub kind: ResultKind,
    pub message: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultKind {
    Failure,
    Error,
    Skipped,
    /// Surefire: a failure, then a pass on a re-run (the test is flaky).
    FlakyFailure,
    FlakyError,
    /// Surefire: a failure that failed again on re-run.
    RerunFailure,
    RerunError,
}

impl ResultKind {
    fn of(name: &[u8]) -> Option<ResultKind> {
        Some(match name {
            b"failure" => ResultKind::Failure,
            b"error" => ResultKind::Error,
            b"skipped" => ResultKind::Skipped,
            b"flakyFailure" => ResultKind::FlakyFailure,
            b"flakyError" => ResultKind::FlakyError,
            b"rerunFailure" => ResultKind::RerunFailure,
            b"rerunError" => ResultKind::RerunError,
            _ => return None,
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct RawReport {
    pub suites: Vec<RawSuite>,
    /// Top-level suites: the children of `<testsuites>`, or the root suite.
    pub roots: Vec<usize>,
    pub cases: Vec<RawCase>,
    /// The nameless suite of testcases written straight under
    /// `<testsuites>` (Node's test runner does); not a top-level suite
    /// for the reference counts, which do not see such testcases.
    pub loose: Option<usize>,
}

/// What an open element is, for the elements that matter.
enum Open {
    Suite(usize),
    Case(usize),
    Result { case: usize, result: usize },
    Other,
}

pub(crate) fn read(bytes: &[u8]) -> Result<RawReport, ReportError> {
    let text = report_text(bytes, MAX_REPORT_BYTES)?;
    let mut reader = Reader::from_str(text);
    let mut report = RawReport::default();
    let mut open: Vec<Open> = Vec::new();
    // The names of the open elements, for a file that ends inside one.
    let mut names: Vec<String> = Vec::new();
    let mut seen_root = false;
    loop {
        let position = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ReportError::at(
                bytes,
                reader.error_position() as usize,
                format!("not well-formed XML: {e}"),
            )
        })?;
        match event {
            Event::Start(element) => {
                let entry = open_element(&mut report, &open, &element, seen_root)
                    .map_err(|problem| ReportError::at(bytes, position, problem))?;
                seen_root = true;
                open.push(entry);
                names.push(String::from_utf8_lossy(element.name().as_ref()).into_owned());
                if open.len() > MAX_DEPTH {
                    return Err(ReportError::at(
                        bytes,
                        position,
                        format!("elements nest deeper than {MAX_DEPTH}"),
                    ));
                }
            }
            Event::Empty(element) => {
                open_element(&mut report, &open, &element, seen_root)
                    .map_err(|problem| ReportError::at(bytes, position, problem))?;
                seen_root = true;
            }
            Event::End(_) => {
                open.pop();
                names.pop();
            }
            Event::Text(content) => {
                if let Some(Open::Result { case, result }) = open.last() {
                    let decoded = content
                        .unescape()
                        .map_err(|e| ReportError::at(bytes, position, format!("bad text: {e}")))?;
                    append_bounded(&mut report.cases[*case].results[*result].text, &decoded);
                }
            }
            Event::CData(content) => {
                if let Some(Open::Result { case, result }) = open.last() {
                    let raw = String::from_utf8_lossy(&content);
                    append_bounded(&mut report.cases[*case].results[*result].text, &raw);
                }
            }
            Event::DocType(_) => {
                return Err(ReportError::at(
                    bytes,
                    position,
                    "a DOCTYPE is not allowed in a test report (its entities could read files or expand without bound)",
                ));
            }
            Event::Eof => {
                if let Some(inside) = names.last() {
                    return Err(ReportError::at(
                        bytes,
                        bytes.len(),
                        format!("the file ends inside <{inside}> (it was cut off)"),
                    ));
                }
                break;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        if report.cases.len() > MAX_CASES {
            return Err(ReportError::at(
                bytes,
                position,
                format!("the report has more than {MAX_CASES} testcases"),
            ));
        }
    }
    if !seen_root {
        return Err(ReportError::at(
            bytes,
            bytes.len(),
            "the file has no XML element",
        ));
    }
    Ok(report)
}

/// Records an element opening; what it is, for the stack.
fn open_element(
    report: &mut RawReport,
    open: &[Open],
    element: &BytesStart,
    seen_root: bool,
) -> Result<Open, ContentError> {
    let name = element.name();
    let name = name.as_ref();
    if open.is_empty() {
        if seen_root {
            return Err("a second root element".into());
        }
        return match name {
            b"testsuites" => Ok(Open::Other),
            b"testsuite" => {
                let suite = new_suite(report, element, None)?;
                report.roots.push(suite);
                Ok(Open::Suite(suite))
            }
            other => Err(format!(
                "<{}> is not a test report's root (JUnit reports start with <testsuites> or <testsuite>)",
                String::from_utf8_lossy(other)
            ).into()),
        };
    }
    let parent_suite = open.iter().rev().find_map(|o| match o {
        Open::Suite(suite) => Some(*suite),
        _ => None,
    });
    let in_case = open.iter().rev().find_map(|o| match o {
        Open::Case(case) | Open::Result { case, .. } => Some(*case),
        _ => None,
    });
    match (name, in_case) {
        (b"testsuite", None) => {
            let suite = new_suite(report, element, parent_suite)?;
            if parent_suite.is_none() {
                report.roots.push(suite);
            }
            Ok(Open::Suite(suite))
        }
        (b"testcase", None) => {
            let suite = match parent_suite.or(report.loose) {
                Some(suite) => suite,
                None => {
                    report.suites.push(RawSuite::default());
                    let loose = report.suites.len() - 1;
                    report.loose = Some(loose);
                    loose
                }
            };
            new_case(report, element, suite).map(Open::Case)
        }
        (kind, Some(case)) => match ResultKind::of(kind) {
            Some(kind) => {
                let [message] = attributes(element, [b"message"])?;
                let results = &mut report.cases[case].results;
                results.push(RawResult {
                    kind,
                    message,
                    text: String::new(),
                });
                Ok(Open::Result {
                    case,
                    result: results.len() - 1,
                })
            }
            None => Ok(Open::Other),
        },
        _ => Ok(Open::Other),
    }
}

fn new_suite(
    report: &mut RawReport,
    element: &BytesStart,
    parent: Option<usize>,
) -> Result<usize, ContentError> {
    let [name, tests, failures, errors, skipped, disabled, time] = attributes(
        element,
        [
            b"name",
            b"tests",
            b"failures",
            b"errors",
            b"skipped",
            b"disabled",
            b"time",
        ],
    )?;
    let suite = RawSuite {
        name: name.unwrap_or_default(),
        attrs: SuiteAttrs {
            tests,
            failures,
            errors,
            skipped,
            disabled,
            time,
        },
        cases: Vec::new(),
        children: Vec::new(),
    };
    report.suites.push(suite);
    let index = report.suites.len() - 1;
    if let Some(parent) = parent {
        report.suites[parent].children.push(index);
    }
    Ok(index)
}

fn new_case(
    report: &mut RawReport,
    element: &BytesStart,
    suite: usize,
) -> Result<usize, ContentError> {
    let [classname, name, file, line, time, status] = attributes(
        element,
        [b"classname", b"name", b"file", b"line", b"time", b"status"],
    )?;
    let case = RawCase {
        suite,
        classname,
        name,
        file,
        line: line.and_then(|l| l.trim().parse().ok()),
        time,
        status,
        results: Vec::new(),
    };
    report.cases.push(case);
    let index = report.cases.len() - 1;
    report.suites[suite].cases.push(index);
    Ok(index)
}

/// Appends, keeping at most [`MAX_DETAILS_BYTES`] (cut at a character).
fn append_bounded(target: &mut String, text: &str) {
    let room = MAX_DETAILS_BYTES.saturating_sub(target.len());
    if room == 0 {
        return;
    }
    let mut cut = text.len().min(room);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    target.push_str(&text[..cut]);
}
