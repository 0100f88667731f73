//! Integration tests of sluice: one test binary, a module per area.

mod actions_artifacts;
mod caching;
mod concurrency;
mod containers;
mod coverage_and_shards;
mod deployments;
mod environments;
mod fidelity;
mod git_server;
mod http_load;
mod perf_gates;
mod remote_actions;
mod reusable_workflows;
mod run_engine;
mod security;
mod server;
mod server_support;
mod services_isolation;
mod static_server;
mod support;
mod test_results;
mod workflow_language;
