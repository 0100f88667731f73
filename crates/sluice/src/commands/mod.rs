//! One module per subcommand.

pub mod actions;
pub mod approve;
pub mod artifacts;
pub mod cache;
pub mod cancel;
pub mod coverage;
pub mod deploy;
pub mod deploys;
pub mod dispatch;
pub mod environments;
pub mod expr;
pub mod flaky;
pub mod follow;
pub mod history;
pub mod hook;
pub mod perf;
pub mod plan;
pub mod quarantine;
pub mod report;
pub mod report_coverage;
pub mod run;
pub mod shard;
pub mod tests;
pub mod token;
pub mod validate;
