//! JaCoCo XML: `<report>`, `<package name="org/x">`, `<sourcefile
//! name="A.java">` with `<line nr mi ci mb cb>` (missed and covered
//! instructions and branches). A line is covered when one of its
//! instructions ran. Paths are `package/file`, found in the repository
//! by suffix when normalised.

use crate::report_error::ContentError;
use quick_xml::events::BytesStart;

use super::cobertura::line_number;
use super::model::CoverageReport;
use super::{MAX_COVERAGE_BYTES, MAX_DEPTH};
use crate::report_error::ReportError;
use crate::xml_walk::{Limits, XmlVisitor, attributes, walk};

pub(crate) fn read(bytes: &[u8]) -> Result<CoverageReport, ReportError> {
    let mut visitor = Jacoco::default();
    let limits = Limits {
        max_bytes: MAX_COVERAGE_BYTES,
        max_depth: MAX_DEPTH,
    };
    walk(bytes, &limits, &mut visitor)?;
    Ok(visitor.report)
}

#[derive(Default)]
struct Jacoco {
    report: CoverageReport,
    package: String,
    file: Option<String>,
}

impl XmlVisitor for Jacoco {
    fn open(&mut self, element: &BytesStart, depth: usize) -> Result<(), ContentError> {
        match element.name().as_ref() {
            b"report" if depth == 0 => {}
            other if depth == 0 => {
                return Err(format!(
                    "<{}> is not a JaCoCo report's root (<report>)",
                    String::from_utf8_lossy(other)
                )
                .into());
            }
            b"package" => {
                let [name] = attributes(element, [b"name"])?;
                self.package = name.unwrap_or_default();
                self.file = None;
            }
            b"sourcefile" => {
                let [name] = attributes(element, [b"name"])?;
                let name = name.ok_or("a <sourcefile> without a name")?;
                self.file = Some(if self.package.is_empty() {
                    name
                } else {
                    format!("{}/{name}", self.package)
                });
            }
            b"line" => self.line(element)?,
            _ => {}
        }
        Ok(())
    }
}

impl Jacoco {
    fn line(&mut self, element: &BytesStart) -> Result<(), ContentError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let [nr, ci, mb, cb] = attributes(element, [b"nr", b"ci", b"mb", b"cb"])?;
        let number = line_number(nr.as_deref())?;
        let count = |value: Option<String>, name: &str| -> Result<u32, ContentError> {
            value.map_or(Ok(0), |v| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| ContentError(format!("{name}=\"{v}\" is not a count")))
            })
        };
        let covered_instructions = count(ci, "ci")?;
        let (missed_branches, covered_branches) = (count(mb, "mb")?, count(cb, "cb")?);
        let file = self.report.file_mut(file);
        file.add_line(number, u64::from(covered_instructions));
        let branches = missed_branches.saturating_add(covered_branches);
        if branches > 0 {
            file.add_branches(number, covered_branches, branches);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_branches_of_source_files() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="demo"><sessioninfo id="x" start="1" dump="2"/><package name="org/demo"><class name="org/demo/A" sourcefilename="A.java"><method name="f" desc="()V" line="3"><counter type="LINE" missed="0" covered="1"/></method></class><sourcefile name="A.java"><line nr="3" mi="0" ci="2" mb="1" cb="1"/><line nr="4" mi="3" ci="0" mb="0" cb="0"/><counter type="LINE" missed="1" covered="1"/></sourcefile></package></report>"#;
        let report = read(xml).unwrap();
        let file = &report.files["org/demo/A.java"];
        let totals = file.totals();
        assert_eq!((totals.lines_covered, totals.lines_total), (1, 2));
        assert_eq!((totals.branches_covered, totals.branches_total), (1, 2));
    }
}
