//! JUnit XML from anywhere: reading never panics, an error points inside
//! the input, and what is read adds up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_reports::parse_junit;

fuzz_target!(|data: &[u8]| {
    match parse_junit(data) {
        Ok(report) => {
            let totals = report.totals();
            if !report.cases.is_empty() {
                assert_eq!(totals.tests as usize, report.cases.len());
                assert_eq!(
                    totals.passed + totals.failed + totals.errors + totals.skipped + totals.flaky,
                    totals.tests
                );
            }
            assert!(report.cases.iter().all(|c| c.time >= 0.0 && c.time.is_finite()));
            let _ = report.reference_stats();
        }
        Err(error) => {
            let lines = data.iter().filter(|b| **b == b'\n').count() + 1;
            assert!(error.line >= 1 && error.line <= lines, "{error}");
            assert!(error.column >= 1);
        }
    }
});
