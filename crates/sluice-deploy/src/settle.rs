//! What a command finds when it takes an app's lock after another was
//! killed mid-way, settled into one colour serving and the other stopped.

use crate::colours;
use crate::deploy::Context;
use crate::error::DeployError;
use crate::router::Router;
use crate::state::AppState;

/// Returns a line per thing it settled.
pub(crate) fn settle(
    cx: &Context<'_>,
    state: &mut AppState,
    router: &mut dyn Router,
) -> Result<Vec<String>, DeployError> {
    let mut settled = Vec::new();
    if let Some(interrupted) = state.deploying.take() {
        let colour = interrupted.colour;
        if interrupted.switched && state.live == Some(colour) {
            settled.push(format!(
                "an interrupted deploy of {} had switched traffic to it: it keeps serving",
                interrupted.version
            ));
            state.remember(&interrupted.version, cx.spec.keep);
        } else {
            if let Some(slot) = state.slot(colour).cloned() {
                colours::stop(cx.spec, colour, &slot, None);
                state.set_slot(colour, None);
            }
            settled.push(format!(
                "an interrupted deploy of {} never took traffic: stopped it",
                interrupted.version
            ));
        }
    }
    // Outside a deploy only the live colour runs.
    for colour in [crate::colour::Colour::Blue, crate::colour::Colour::Green] {
        if state.live == Some(colour) {
            continue;
        }
        if let Some(slot) = state.slot(colour).cloned() {
            // It may still finish requests routed to it before the route
            // was put right (with the router down there are none).
            let _ = router.wait_drained(slot.port, cx.spec.timeouts.drain);
            colours::stop(cx.spec, colour, &slot, None);
            state.set_slot(colour, None);
            settled.push(format!(
                "stopped {colour} ({}), left running by an interrupted command",
                slot.version
            ));
        }
    }
    if let Some((colour, slot)) = state.live_slot()
        && cx.spec.stop.is_none()
        && slot.process.is_some_and(|p| !p.alive())
    {
        settled.push(format!(
            "the live colour {colour} ({}) is not running any more: deploy again, or `sluice rollback`",
            slot.version
        ));
    }
    cx.dir.write_state(state)?;
    Ok(settled)
}
