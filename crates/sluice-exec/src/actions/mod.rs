//! Actions Sluice runs natively (`uses:` steps), instead of fetching and
//! running their code: the cache actions for now.

mod cache;

use indexmap::IndexMap;
use sluice_workflow::Token;

use crate::eval_host::RunHost;
use crate::job::JobState;
use crate::step::{StepContext, StepResult};

pub(crate) use cache::{PostSave, save as save_cache};

/// Runs a `uses:` step.
pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    _env: &IndexMap<String, String>,
    uses: &str,
    with: &IndexMap<String, Token>,
) -> StepResult {
    let mut inputs = IndexMap::new();
    for (name, token) in with {
        match host.string(token) {
            Ok(value) => {
                inputs.insert(name.to_ascii_lowercase(), value);
            }
            Err(message) => return StepResult::error(ctx, &format!("with.{name}: {message}")),
        }
    }
    let (action, version) = match uses.split_once('@') {
        Some((action, version)) => (action.to_ascii_lowercase(), version),
        None => (uses.to_ascii_lowercase(), ""),
    };
    match action.as_str() {
        "actions/cache" => cache::run(
            ctx,
            state,
            host,
            &inputs,
            version,
            cache::Mode::RestoreThenSave,
        ),
        "actions/cache/restore" => {
            cache::run(ctx, state, host, &inputs, version, cache::Mode::RestoreOnly)
        }
        "actions/cache/save" => cache::save_step(ctx, host, &inputs),
        _ => StepResult::error(
            ctx,
            &format!(
                "`uses: {uses}`: this version of Sluice cannot run this action yet; replace the step with a `run:` step"
            ),
        ),
    }
}
