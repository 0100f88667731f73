//! Reports test runners, coverage tools and benchmarks write, read and
//! analysed. Pure: bytes in, data out; no file is opened here, no clock
//! read. Every reader is for untrusted input: bounded, and never panics.

mod fast_hash;
pub mod flaky;
pub mod junit;
pub mod quarantine;

pub use junit::{JunitReport, ReportError, TestCase, TestOutcome, Totals, parse_junit};
pub use quarantine::{QUARANTINE_FILE, Quarantine, QuarantineEntry, QuarantineError};
