//! GitHub's hard limits on expressions.
//!
//! They exist on GitHub to protect its servers; here they also guarantee that
//! no input, however hostile, can exhaust the stack or the heap: the parser
//! and evaluator recurse at most [`MAX_DEPTH`] levels, and every value an
//! evaluation creates is charged against [`MAX_MEMORY_BYTES`].

/// The deepest an expression tree may be (GitHub: "Exceeded max expression depth 50").
pub const MAX_DEPTH: usize = 50;

/// The longest expression GitHub accepts, in characters.
pub const MAX_EXPRESSION_LENGTH: usize = 21_000;

/// The memory one evaluation may hold at once, as GitHub measures it: 1 MiB.
pub const MAX_MEMORY_BYTES: usize = 1_048_576;
