//! The `GITHUB_*` and `RUNNER_*` variables every step sees, as a
//! self-hosted GitHub runner sets them.

use std::path::Path;

use sluice_expr::Value;

/// Files a step writes its file commands to.
#[derive(Debug, Clone)]
pub struct CommandFiles {
    pub output: std::path::PathBuf,
    pub env: std::path::PathBuf,
    pub path: std::path::PathBuf,
    pub state: std::path::PathBuf,
    pub summary: std::path::PathBuf,
}

impl CommandFiles {
    /// Empty files for the next step in `dir`. The same files serve every
    /// step of a job: they are read after each step and emptied before the
    /// next, which costs far less than creating new ones (creating inodes
    /// dominated the engine's overhead per step).
    pub fn create(dir: &Path) -> std::io::Result<CommandFiles> {
        std::fs::create_dir_all(dir)?;
        let file = |name: &str| -> std::io::Result<std::path::PathBuf> {
            let path = dir.join(name);
            std::fs::File::create(&path)?;
            Ok(path)
        };
        Ok(CommandFiles {
            output: file("set_output")?,
            env: file("set_env")?,
            path: file("add_path")?,
            state: file("save_state")?,
            summary: file("step_summary")?,
        })
    }
}

/// Where a job's runner-level directories are.
pub struct RunnerDirs<'a> {
    pub workspace: &'a Path,
    pub temp: &'a Path,
    pub tool_cache: &'a Path,
    pub event_path: &'a Path,
}

/// The names of the default variables (for passing them on by name, to a
/// container).
pub fn default_variable_names() -> Vec<String> {
    let none = Path::new("");
    let dirs = RunnerDirs {
        workspace: none,
        temp: none,
        tool_cache: none,
        event_path: none,
    };
    let files = CommandFiles {
        output: none.into(),
        env: none.into(),
        path: none.into(),
        state: none.into(),
        summary: none.into(),
    };
    default_variables(&Value::Null, "", "", &dirs, &files)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The default variables for a step of job `job_id`.
pub fn default_variables(
    github: &Value,
    job_id: &str,
    step_id: &str,
    dirs: &RunnerDirs,
    files: &CommandFiles,
) -> Vec<(String, String)> {
    let field = |name: &str| {
        github
            .get(name)
            .map(|v| v.to_display_string().into_owned())
            .unwrap_or_default()
    };
    let display = |p: &Path| p.display().to_string();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        "arm" => "ARM",
        "x86" => "X86",
        other => other,
    };
    let vars = vec![
        ("CI", "true".to_string()),
        ("GITHUB_ACTIONS", "true".to_string()),
        ("SLUICE", "true".to_string()),
        ("GITHUB_ACTION", step_id.to_string()),
        ("GITHUB_ACTOR", field("actor")),
        ("GITHUB_ACTOR_ID", field("actor_id")),
        ("GITHUB_API_URL", field("api_url")),
        ("GITHUB_BASE_REF", field("base_ref")),
        ("GITHUB_EVENT_NAME", field("event_name")),
        ("GITHUB_EVENT_PATH", display(dirs.event_path)),
        ("GITHUB_GRAPHQL_URL", field("graphql_url")),
        ("GITHUB_HEAD_REF", field("head_ref")),
        ("GITHUB_JOB", job_id.to_string()),
        ("GITHUB_REF", field("ref")),
        ("GITHUB_REF_NAME", field("ref_name")),
        ("GITHUB_REF_PROTECTED", field("ref_protected")),
        ("GITHUB_REF_TYPE", field("ref_type")),
        ("GITHUB_REPOSITORY", field("repository")),
        ("GITHUB_REPOSITORY_ID", field("repository_id")),
        ("GITHUB_REPOSITORY_OWNER", field("repository_owner")),
        ("GITHUB_REPOSITORY_OWNER_ID", field("repository_owner_id")),
        ("GITHUB_RETENTION_DAYS", field("retention_days")),
        ("GITHUB_RUN_ATTEMPT", field("run_attempt")),
        ("GITHUB_RUN_ID", field("run_id")),
        ("GITHUB_RUN_NUMBER", field("run_number")),
        ("GITHUB_SERVER_URL", field("server_url")),
        ("GITHUB_SHA", field("sha")),
        ("GITHUB_TRIGGERING_ACTOR", field("triggering_actor")),
        ("GITHUB_WORKFLOW", field("workflow")),
        ("GITHUB_WORKFLOW_REF", field("workflow_ref")),
        ("GITHUB_WORKFLOW_SHA", field("workflow_sha")),
        ("GITHUB_WORKSPACE", display(dirs.workspace)),
        ("GITHUB_OUTPUT", display(&files.output)),
        ("GITHUB_ENV", display(&files.env)),
        ("GITHUB_PATH", display(&files.path)),
        ("GITHUB_STATE", display(&files.state)),
        ("GITHUB_STEP_SUMMARY", display(&files.summary)),
        ("RUNNER_ARCH", arch.to_string()),
        ("RUNNER_ENVIRONMENT", "self-hosted".to_string()),
        ("RUNNER_NAME", "sluice".to_string()),
        ("RUNNER_OS", "Linux".to_string()),
        ("RUNNER_TEMP", display(dirs.temp)),
        ("RUNNER_TOOL_CACHE", display(dirs.tool_cache)),
        (
            "RUNNER_WORKSPACE",
            display(dirs.workspace.parent().unwrap_or(dirs.workspace)),
        ),
    ];
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
