//! Everything that touches the host: git, files for `hashFiles`, processes
//! and the scheduler that runs a workflow's jobs as a DAG.

mod actions;
pub mod archive;
pub mod assignment;
mod call_scope;
mod coverage_reports;
pub mod docker_meta;
pub mod engine;
mod environment_gate;
mod environment_rules;
mod environment_token;
pub mod eval_host;
pub mod events;
pub mod file_commands;
pub mod git;
pub mod hash_files;
pub mod ids;
mod job;
mod job_container;
pub mod job_groups;
pub mod mask;
mod perf_reports;
pub mod process_tree;
pub mod reaper;
pub mod remote;
mod report_files;
pub mod run_spec;
pub mod runner_env;
pub mod scheduler;
pub mod scratch;
mod script_step;
pub mod services;
pub mod session_log;
pub mod shell;
mod step;
mod step_attempts;
pub mod step_cache;
pub mod step_output;
pub mod step_process;
mod test_reports;
pub mod testbed;
pub mod toolchains;
pub mod workflow_commands;
pub mod workspace;

pub use actions::artifact_name::{InvalidArtifactName, check_artifact_name};
pub use actions::{
    ARTIFACT_KIND, NativeActions, remove_expired_artifacts, vendored_in as vendored_action_dir,
};
pub use environment_gate::ApprovalGate;
pub use environment_rules::{DEFAULT_APPROVAL_TIMEOUT, EnvironmentRules, Environments};
pub use events::{CancelLevel, CancelToken};
pub use events::{Event, EventSink, Outcome};
pub use run_spec::{CoverageSettings, Isolation, PerfSeries, PerfSpec, ReusedJob, RunSpec};
pub use scheduler::{RunReport, run};
