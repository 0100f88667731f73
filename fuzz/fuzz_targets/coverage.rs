//! Coverage reports from anywhere (each format, and format detection):
//! reading never panics, an error points inside the input, totals add
//! up, and a unified diff never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_reports::coverage::{CoverageError, CoverageFormat, DiffCoverage, changed_lines, parse_coverage};

fuzz_target!(|data: &[u8]| {
    let formats = [
        None,
        Some(CoverageFormat::Cobertura),
        Some(CoverageFormat::Jacoco),
        Some(CoverageFormat::Lcov),
        Some(CoverageFormat::Go),
    ];
    let lines = data.iter().filter(|b| **b == b'\n').count() + 1;
    for format in formats {
        match parse_coverage(data, format) {
            Ok(read) => {
                let totals = read.report.totals();
                assert!(totals.lines_covered <= totals.lines_total);
                assert!(totals.branches_covered <= totals.branches_total);
                let changed = changed_lines(&String::from_utf8_lossy(data), "");
                let diff = DiffCoverage::of(&read.report, &changed);
                assert!(diff.covered <= diff.total);
            }
            Err(CoverageError::UnknownFormat) => assert!(format.is_none()),
            Err(CoverageError::Unreadable(error)) => {
                assert!(error.line >= 1 && error.line <= lines, "{error}");
                assert!(error.column >= 1);
            }
        }
    }
});
