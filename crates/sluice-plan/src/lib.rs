//! A workflow and an event become a plan: whether the event selects the
//! workflow, which job instances exist after matrix expansion, and the
//! `needs` graph between them.
//!
//! Pure: a plan depends only on the workflow, the event and the
//! repository description passed in; nothing here reads files, clocks or
//! processes.

pub mod calls;
pub mod concurrency;
pub mod event;
pub mod filters;
pub mod matrix;
pub mod plan;

pub use calls::{CallInputError, JobOrigin, PlannedCall, call_inputs};
pub use concurrency::{ConcurrencyError, PlannedConcurrency, evaluate_concurrency};
pub use event::{Event, Repository, github_context};
pub use plan::{JobInstance, Plan, PlanError, PlanRequest, PlannedJob, build_plan};
