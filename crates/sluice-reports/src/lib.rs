//! Reports test runners, coverage tools and benchmarks write, read and
//! analysed. Pure: bytes in, data out; no file is opened here, no clock
//! read. Every reader is for untrusted input: bounded, and never panics.

pub mod coverage;
mod fast_hash;
pub mod flaky;
pub mod junit;
pub mod perf;
pub mod quarantine;
mod report_error;
mod report_text;
pub mod shard;
mod xml_walk;

pub use junit::{JunitReport, ReportError, TestCase, TestOutcome, Totals, parse_junit};
pub use quarantine::{QUARANTINE_FILE, Quarantine, QuarantineEntry, QuarantineError};
pub use report_error::ContentError;
