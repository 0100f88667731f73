//! placeholder

// Trigger filters (branches/tags/paths) and matrix expansion.
pub mod filters;
pub mod matrix;
