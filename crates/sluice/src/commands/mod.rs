//! One module per subcommand.

pub mod expr;
pub mod plan;
pub mod validate;
