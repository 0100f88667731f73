//! The other commands about a deployed app: roll back, stop, status.

use crate::colour::Colour;
use crate::colours;
use crate::deploy::{self, Context};
use crate::error::DeployError;
use crate::report::{DeployReport, Kind};
use crate::state::AppState;

/// `sluice rollback APP [--to VERSION]`: the version before the live one,
/// or `to`, deployed again without a watch (it served before).
pub fn rollback(cx: &Context<'_>, to: Option<&str>) -> Result<DeployReport, DeployError> {
    let state = cx.dir.read_state()?;
    let live = state.live_slot().map(|(_, s)| s.version.clone());
    let target = match to {
        Some(version) if state.history.iter().any(|v| v == version) => version.to_owned(),
        Some(version) => {
            return Err(DeployError::NoRollbackTarget {
                app: cx.spec.name.clone(),
                detail: format!(
                    "{version} is not one of the versions kept: {}",
                    kept(&state)
                ),
            });
        }
        None => state
            .history
            .iter()
            .find(|v| Some(*v) != live.as_ref())
            .cloned()
            .ok_or_else(|| DeployError::NoRollbackTarget {
                app: cx.spec.name.clone(),
                detail: format!("no earlier version is kept ({})", kept(&state)),
            })?,
    };
    deploy::deploy(cx, &target, Kind::Rollback)
}

fn kept(state: &AppState) -> String {
    if state.history.is_empty() {
        "none yet".to_owned()
    } else {
        state.history.join(", ")
    }
}

/// `sluice deploy stop APP`: both colours and the proxy.
pub fn stop(cx: &Context<'_>) -> Result<Vec<String>, DeployError> {
    let mut session = cx.open(false)?;
    let mut stopped = std::mem::take(&mut session.recovered);
    for colour in [Colour::Blue, Colour::Green] {
        if let Some(slot) = session.state.slot(colour).cloned() {
            colours::stop(cx.spec, colour, &slot, None);
            session.state.set_slot(colour, None);
            stopped.push(format!("stopped {colour} ({})", slot.version));
        }
    }
    session.state.live = None;
    session.router.shut_down(&mut session.state)?;
    cx.dir.write_state(&session.state)?;
    Ok(stopped)
}

/// What is deployed, read without taking the lock.
pub fn status(cx: &Context<'_>) -> Result<AppState, DeployError> {
    cx.dir.read_state()
}
