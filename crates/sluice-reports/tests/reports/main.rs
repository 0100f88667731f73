//! Integration tests of sluice-reports: one test binary, a module per area.

mod junit_conformance;
mod junit_dialects;
mod perf_formats;
