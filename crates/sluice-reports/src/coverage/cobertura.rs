//! Cobertura XML (coverage.py, istanbul, gcovr, JaCoCo's converter):
//! `<coverage>`, `<sources><source>`, then `<class filename>` with
//! `<lines><line number hits branch condition-coverage>`. The lines a
//! `<method>` repeats are not counted twice.

use crate::report_error::ContentError;
use quick_xml::events::BytesStart;

use super::model::{CoverageReport, MAX_LINE};
use super::{MAX_COVERAGE_BYTES, MAX_DEPTH};
use crate::report_error::ReportError;
use crate::xml_walk::{Limits, XmlVisitor, attributes, walk};

/// A Cobertura report, its paths as written, and the source directories
/// they are relative to.
pub(crate) fn read(bytes: &[u8]) -> Result<(CoverageReport, Vec<String>), ReportError> {
    let mut visitor = Cobertura::default();
    let limits = Limits {
        max_bytes: MAX_COVERAGE_BYTES,
        max_depth: MAX_DEPTH,
    };
    walk(bytes, &limits, &mut visitor)?;
    Ok((visitor.report, visitor.sources))
}

#[derive(Default)]
struct Cobertura {
    report: CoverageReport,
    sources: Vec<String>,
    /// The file of the open `<class>`.
    file: Option<String>,
    /// Depth of the open `<method>`, whose lines repeat the class's.
    method_depth: Option<usize>,
    /// Depth of the open `<source>`, whose text is a directory.
    source_depth: Option<usize>,
    source_text: String,
}

impl XmlVisitor for Cobertura {
    fn open(&mut self, element: &BytesStart, depth: usize) -> Result<(), ContentError> {
        match element.name().as_ref() {
            b"coverage" if depth == 0 => {}
            _ if depth == 0 => {
                return Err(root_error(element));
            }
            b"source" => {
                self.source_depth = Some(depth);
                self.source_text.clear();
            }
            b"class" => {
                let [filename] = attributes(element, [b"filename"])?;
                let filename = filename.ok_or("a <class> without a filename")?;
                self.file = Some(filename);
            }
            b"method" => self.method_depth = Some(depth),
            b"line" if self.method_depth.is_none() => self.line(element)?,
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self, depth: usize) {
        if self.method_depth == Some(depth) {
            self.method_depth = None;
        }
        if self.source_depth == Some(depth) {
            self.source_depth = None;
            let source = self.source_text.trim();
            if !source.is_empty() {
                self.sources.push(source.to_string());
            }
        }
    }

    fn text(&mut self, text: &str) {
        if self.source_depth.is_some() && self.source_text.len() < 4096 {
            self.source_text.push_str(text);
        }
    }
}

impl Cobertura {
    fn line(&mut self, element: &BytesStart) -> Result<(), ContentError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let [number, hits, condition] =
            attributes(element, [b"number", b"hits", b"condition-coverage"])?;
        let number = line_number(number.as_deref())?;
        let hits = hits
            .as_deref()
            .map(|h| {
                h.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("hits=\"{h}\" is not a number"))
            })
            .transpose()?
            .unwrap_or(0.0);
        let file = self.report.file_mut(file);
        // Some tools write hits as a float or a negative "unknown".
        file.add_line(number, hits.max(0.0) as u64);
        if let Some((covered, total)) = condition.as_deref().and_then(condition_counts) {
            file.add_branches(number, covered, total);
        }
        Ok(())
    }
}

pub(super) fn line_number(written: Option<&str>) -> Result<u32, ContentError> {
    let written = written.ok_or("a line without a number")?;
    match written.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LINE).contains(&n) => Ok(n),
        _ => Err(
            format!("line number \"{written}\" is not a line number from 1 to {MAX_LINE}").into(),
        ),
    }
}

/// `50% (1/2)` → (1, 2).
fn condition_counts(written: &str) -> Option<(u32, u32)> {
    let inside = written.split_once('(')?.1.split_once(')')?.0;
    let (covered, total) = inside.split_once('/')?;
    Some((covered.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn root_error(element: &BytesStart) -> ContentError {
    ContentError(format!(
        "<{}> is not a Cobertura report's root (<coverage>)",
        String::from_utf8_lossy(element.name().as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_coverage_is_read() {
        assert_eq!(condition_counts("50% (1/2)"), Some((1, 2)));
        assert_eq!(condition_counts("100%"), None);
    }

    #[test]
    fn method_lines_are_not_counted_twice() {
        let xml = br#"<?xml version="1.0"?>
<coverage line-rate="0.5"><sources><source>/src/app</source></sources>
<packages><package name="a"><classes>
<class name="A" filename="a/A.java"><methods><method name="m"><lines>
<line number="3" hits="1"/></lines></method></methods>
<lines><line number="3" hits="1"/><line number="4" hits="0" branch="true" condition-coverage="50% (1/2)"/></lines></class>
</classes></package></packages></coverage>"#;
        let (report, sources) = read(xml).unwrap();
        assert_eq!(sources, vec!["/src/app".to_string()]);
        let file = &report.files["a/A.java"];
        assert_eq!(file.lines.get(&3), Some(&1));
        assert_eq!(file.totals().lines_total, 2);
        assert_eq!(file.branches.get(&4), Some(&(1, 2)));
    }

    #[test]
    fn entity_declarations_are_refused() {
        let xml = br#"<!DOCTYPE coverage [<!ENTITY x SYSTEM "file:///etc/passwd">]><coverage>&x;</coverage>"#;
        let error = read(xml).unwrap_err();
        assert!(error.problem.contains("DOCTYPE"), "{error}");
    }

    #[test]
    fn bad_line_numbers_name_the_value() {
        let xml = br#"<coverage><packages><package><classes><class filename="a.py"><lines><line number="0" hits="1"/></lines></class></classes></package></packages></coverage>"#;
        let error = read(xml).unwrap_err();
        assert!(error.problem.contains("\"0\""), "{error}");
        assert_eq!(error.line, 1);
    }
}
