//! LCOV tracefiles (`genhtml`'s input; coverage.py, istanbul, c8,
//! grcov, cargo-llvm-cov write them): `SF:` starts a file, `DA:line,hits`
//! an executable line, `BRDA:line,block,branch,taken` a branch (`-`:
//! never reached), `end_of_record` ends the file. Summary lines (`LF`,
//! `LH`...) are recomputed, not trusted.

use crate::report_error::ContentError;
use std::collections::BTreeMap;

use super::MAX_COVERAGE_BYTES;
use super::cobertura::line_number;
use super::model::CoverageReport;
use crate::report_error::ReportError;
use crate::report_text::report_text;

pub(crate) fn read(bytes: &[u8]) -> Result<CoverageReport, ReportError> {
    let text = report_text(bytes, MAX_COVERAGE_BYTES)?;
    let mut report = CoverageReport::default();
    // Each branch once, by file, line, block and branch: a tracefile that
    // repeats a file (several test names, concatenated files) must not
    // count its branches twice. Taken in any record means taken.
    let mut branches: BTreeMap<(String, u32, String), bool> = BTreeMap::new();
    let mut file: Option<String> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        let fail = |problem: ContentError| ReportError::at(bytes, at, problem);
        let Some((key, value)) = line.split_once(':') else {
            if line.trim() == "end_of_record" {
                file = None;
            } else if !line.trim().is_empty() {
                return Err(fail(
                    format!("\"{}\" is not an LCOV record", cut(line)).into(),
                ));
            }
            continue;
        };
        match key.trim() {
            "SF" => file = Some(value.to_string()),
            "DA" => {
                let path = file
                    .as_deref()
                    .ok_or_else(|| fail("DA: before any SF:".into()))?;
                let (number, hits) = line_hits(value).map_err(fail)?;
                report.file_mut(path).add_line(number, hits);
            }
            "BRDA" => {
                let path = file
                    .as_deref()
                    .ok_or_else(|| fail("BRDA: before any SF:".into()))?;
                let (number, which, taken) = branch(value).map_err(fail)?;
                *branches
                    .entry((path.to_string(), number, which))
                    .or_insert(false) |= taken;
            }
            _ => {}
        }
    }
    for ((path, number, _), taken) in branches {
        report.file_mut(&path).add_branch_outcome(number, taken);
    }
    Ok(report)
}

/// `12,3` or `12,3,checksum`.
fn line_hits(value: &str) -> Result<(u32, u64), ContentError> {
    let mut fields = value.split(',');
    let number = line_number(fields.next())?;
    let hits = fields.next().ok_or("DA: without a count")?.trim();
    // gcov may write a negative count for "unknown"; a float is tolerated.
    let hits = hits
        .parse::<f64>()
        .map_err(|_| format!("DA: count \"{hits}\" is not a number"))?;
    Ok((number, hits.max(0.0) as u64))
}

/// `line,block,branch,taken` → (line, `block,branch`, taken at least once).
fn branch(value: &str) -> Result<(u32, String, bool), ContentError> {
    let fields: Vec<&str> = value.splitn(4, ',').collect();
    let [number, block, which, taken] = fields[..] else {
        return Err(format!("BRDA:{} is not line,block,branch,taken", cut(value)).into());
    };
    let number = line_number(Some(number))?;
    let taken = taken.trim();
    let taken = taken != "-" && taken.parse::<f64>().is_ok_and(|t| t > 0.0);
    Ok((number, format!("{},{}", block.trim(), which.trim()), taken))
}

fn cut(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_several_files() {
        let text = b"TN:\nSF:/repo/app.py\nDA:1,1\nDA:2,0\nBRDA:2,0,0,-\nBRDA:2,0,1,3\nLF:2\nLH:1\nend_of_record\nSF:/repo/util.py\nDA:5,4,abc\nend_of_record\n";
        let report = read(text).unwrap();
        let app = report.files["/repo/app.py"].totals();
        assert_eq!((app.lines_covered, app.lines_total), (1, 2));
        assert_eq!((app.branches_covered, app.branches_total), (1, 2));
        assert_eq!(report.totals().lines_total, 3);
    }

    #[test]
    fn a_file_repeated_in_a_tracefile_counts_its_branches_once() {
        let record = "SF:a.py\nDA:2,1\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nend_of_record\n";
        let second = "SF:a.py\nDA:2,1\nBRDA:2,0,0,-\nBRDA:2,0,1,2\nend_of_record\n";
        let report = read(format!("TN:one\n{record}TN:two\n{second}").as_bytes()).unwrap();
        let totals = report.files["a.py"].totals();
        assert_eq!((totals.branches_covered, totals.branches_total), (2, 2));
    }

    #[test]
    fn a_bad_record_names_its_line() {
        let error = read(b"SF:a.py\nDA:x,1\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.problem.contains("\"x\""), "{error}");
        assert!(read(b"hello world\n").is_err());
    }
}
