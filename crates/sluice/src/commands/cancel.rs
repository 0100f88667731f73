//! `sluice cancel RUN`: a queued run never starts; a running one is asked
//! to stop (its process, a `sluice run` or a server, notices within a
//! fraction of a second and cancels it as a Ctrl-C would).

use std::path::Path;

use anyhow::Result;
use sluice_store::CancelOutcome;

use crate::cli::CancelArgs;
use crate::exit::ExitStatus;

pub fn cancel(cwd: &Path, args: &CancelArgs) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let number = history.resolve_run(&args.run)?;
    match history
        .store()
        .request_cancel(history.repository(), number)?
    {
        CancelOutcome::CancelledWhileQueued => {
            eprintln!("run #{number} was queued; it is cancelled and will not start");
        }
        CancelOutcome::Requested => {
            eprintln!(
                "run #{number} is asked to stop; `sluice logs --follow {number}` shows it end"
            );
        }
        CancelOutcome::AlreadyOver(status) => {
            eprintln!("run #{number} already ended ({status}); nothing to cancel");
        }
    }
    Ok(ExitStatus::Success)
}
