//! Integration tests of sluice-cache: one test binary, a module per area.

mod blobs;
mod entries;
mod maintenance;
mod packs;
mod processes;
mod support;
mod trees;
