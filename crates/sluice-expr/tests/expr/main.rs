//! Integration tests of sluice-expr: one test binary, a module per area.

mod behaviour;
mod conformance;
