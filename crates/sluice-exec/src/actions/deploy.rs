//! `uses: sluice/deploy@v1` with `app:` and `version:` (optional): the
//! same as `run: sluice deploy APP --version VERSION`, with this Sluice
//! executable, so a workflow needs no `sluice` on its PATH. The deployed
//! app outlives the job on purpose: `sluice-deploy` starts it outside the
//! run's tracking.

use indexmap::IndexMap;
use sluice_workflow::Token;

use crate::eval_host::RunHost;
use crate::job::JobState;
use crate::script_step::RunStep;
use crate::services::words::shell_quote;
use crate::step::{StepContext, StepLimits, StepResult};

pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let Some(app) = inputs.get("app").filter(|a| !a.trim().is_empty()) else {
        return StepResult::error(
            ctx,
            "sluice/deploy: the input `app` is required (an app of sluice.toml)",
        );
    };
    let executable = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            return StepResult::error(
                ctx,
                &format!("sluice/deploy: cannot find Sluice's executable: {e}"),
            );
        }
    };
    let mut command = format!(
        "{} deploy {}",
        shell_quote(&executable.to_string_lossy()),
        shell_quote(app.trim())
    );
    if let Some(version) = inputs.get("version").filter(|v| !v.trim().is_empty()) {
        command.push_str(&format!(" --version {}", shell_quote(version.trim())));
    }
    let span = ctx.step.span;
    let script = Token::string(command, span);
    let shell = Token::string("bash".to_owned(), span);
    let step = RunStep {
        script: &script,
        shell: Some(&shell),
        working_directory: None,
    };
    crate::script_step::run(ctx, state, host, env, limits, &step)
}
