//! One module per subcommand.

pub mod actions;
pub mod artifacts;
pub mod cache;
pub mod cancel;
pub mod dispatch;
pub mod expr;
pub mod follow;
pub mod history;
pub mod hook;
pub mod plan;
pub mod report;
pub mod run;
pub mod token;
pub mod validate;
