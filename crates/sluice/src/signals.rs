//! Ctrl-C and friends during a run: the first asks for a graceful stop,
//! the second for an immediate one.

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};
use sluice_exec::{CancelLevel, CancelToken};

/// Stops listening when dropped.
pub struct SignalGuard {
    handle: Handle,
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        self.handle.close();
    }
}

pub fn install(cancel: CancelToken) -> Result<SignalGuard> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGHUP]).context("cannot install signal handlers")?;
    let handle = signals.handle();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            match cancel.interrupt() {
                CancelLevel::Graceful => eprintln!(
                    "\ncancelling: running steps get SIGTERM, then SIGKILL after the grace period; `if: always()` steps still run (Ctrl-C again to kill now)"
                ),
                _ => eprintln!("\nkilling every running step now"),
            }
        }
    });
    Ok(SignalGuard { handle })
}
