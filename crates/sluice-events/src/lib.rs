//! What a run reports while it happens: the vocabulary every part of
//! Sluice that watches a run shares.
//!
//! The executor emits [`Event`]s and knows nothing of who listens: the
//! terminal views, the NDJSON printer (`--json`), the history recorder and
//! the server all consume the same stream, and depend on this crate alone,
//! never on the executor. Pure: no I/O, no clock. The shape is versioned
//! ([`EVENT_FORMAT_VERSION`]) because `--json` output is read by other tools.
//!
//! Every text field is already masked: secrets never reach an event.

mod approval;
mod benchmarks;
mod cache_report;
mod cancel;
mod coverage;
mod event;
mod job_key;
mod levels;
mod outcome;
mod sink;
mod test_results;

pub use approval::{Approval, ApprovalDecision};
pub use benchmarks::{PerfResult, Testbed};
pub use cache_report::{CacheKind, CacheResult};
pub use cancel::{CancelLevel, CancelToken};
pub use coverage::{CoverageFile, CoverageTotals, DiffTotals};
pub use event::{EVENT_FORMAT_VERSION, Event, JobInfo, Timestamp};
pub use job_key::{JobKey, JobKeyError, KeyPart};
pub use levels::{AnnotationLevel, LogLevel, Stream};
pub use outcome::Outcome;
pub use sink::{EventSink, Fanout};
pub use test_results::{TestCase, TestOutcome, Totals};
