//! Integration tests of sluice-glob: one test binary, a module per area.

mod filter_patterns;
mod path_globs;
mod walk;
