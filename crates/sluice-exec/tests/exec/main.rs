//! Integration tests of sluice-exec: one test binary, a module per area.

mod assignment;
mod file_commands;
mod mask;
mod workflow_commands;
