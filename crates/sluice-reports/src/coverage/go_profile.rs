//! Go cover profiles (`go test -coverprofile`): `mode: set|count|atomic`,
//! then `file.go:startLine.startCol,endLine.endCol statements count` per
//! block. Blocks become lines: a line is executable when a block spans
//! it and covered when one such block ran (blocks repeated by several
//! packages' tests count once, at their highest count). Go's own
//! percentage counts statements; Sluice's counts lines, as for every
//! other format.

use crate::report_error::ContentError;
use std::collections::BTreeMap;

use super::MAX_COVERAGE_BYTES;
use super::model::{CoverageReport, MAX_LINE};
use crate::report_error::ReportError;
use crate::report_text::report_text;

/// The most lines one block may span.
const MAX_BLOCK_LINES: u32 = 100_000;
/// The most lines all blocks together may span: a small file must not
/// expand into billions of lines.
const MAX_TOTAL_LINES: u64 = 20_000_000;

pub(crate) fn read(bytes: &[u8]) -> Result<CoverageReport, ReportError> {
    let text = report_text(bytes, MAX_COVERAGE_BYTES)?;
    // (file, start, end) → highest count: a block repeated by the
    // profiles of several packages is one block.
    let mut blocks: BTreeMap<(String, u32, u32), u64> = BTreeMap::new();
    let mut offset = 0;
    let mut seen_mode = false;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(mode) = line.strip_prefix("mode:") {
            if !matches!(mode.trim(), "set" | "count" | "atomic") {
                return Err(ReportError::at(
                    bytes,
                    at,
                    format!("unknown cover mode \"{}\"", mode.trim()),
                ));
            }
            seen_mode = true;
            continue;
        }
        if !seen_mode {
            return Err(ReportError::at(
                bytes,
                at,
                "a Go cover profile starts with \"mode: set|count|atomic\"",
            ));
        }
        let (file, start, end, count) = block(line).map_err(|p| ReportError::at(bytes, at, p))?;
        let entry = blocks.entry((file, start, end)).or_insert(0);
        *entry = (*entry).max(count);
    }
    let spanned: u64 = blocks
        .keys()
        .map(|(_, start, end)| u64::from(end - start) + 1)
        .sum();
    if spanned > MAX_TOTAL_LINES {
        return Err(ReportError::at(
            bytes,
            bytes.len(),
            format!("the profile's blocks span more than {MAX_TOTAL_LINES} lines"),
        ));
    }
    let mut report = CoverageReport::default();
    for ((path, start, end), count) in blocks {
        let file = report.file_mut(&path);
        for number in start..=end {
            let hits = file.lines.entry(number).or_insert(0);
            *hits = (*hits).max(count);
        }
    }
    Ok(report)
}

/// `pkg/file.go:10.13,12.2 2 1` → (file, 10, 12, 1).
fn block(line: &str) -> Result<(String, u32, u32, u64), ContentError> {
    let shape = || {
        format!(
            "\"{}\" is not file:line.col,line.col statements count",
            line.chars().take(80).collect::<String>()
        )
    };
    let (position, count) = line.rsplit_once(' ').ok_or_else(shape)?;
    let (position, _statements) = position.rsplit_once(' ').ok_or_else(shape)?;
    let (file, range) = position.rsplit_once(':').ok_or_else(shape)?;
    let (from, to) = range.split_once(',').ok_or_else(shape)?;
    let line_of = |p: &str| p.split_once('.').and_then(|(l, _)| l.parse::<u32>().ok());
    let (start, end) = (
        line_of(from).ok_or_else(shape)?,
        line_of(to).ok_or_else(shape)?,
    );
    let count = count.parse::<u64>().map_err(|_| shape())?;
    if start == 0 || start > end || end > MAX_LINE || end - start > MAX_BLOCK_LINES {
        return Err(format!("block lines {start} to {end} are not a range of lines").into());
    }
    Ok((file.to_string(), start, end, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_lines_and_repeats_count_once() {
        let text = b"mode: set\nexample.com/m/a.go:3.10,5.2 2 1\nexample.com/m/a.go:7.1,7.20 1 0\nexample.com/m/a.go:3.10,5.2 2 0\n";
        let report = read(text).unwrap();
        let totals = report.files["example.com/m/a.go"].totals();
        assert_eq!((totals.lines_covered, totals.lines_total), (3, 4));
    }

    #[test]
    fn a_profile_needs_its_mode_line_and_sane_blocks() {
        assert!(
            read(b"a.go:1.1,2.2 1 1\n")
                .unwrap_err()
                .problem
                .contains("mode")
        );
        let error = read(b"mode: set\na.go:9.1,2.2 1 1\n").unwrap_err();
        assert_eq!(error.line, 2);
    }
}
