//! Ctrl-C and friends during a run: the first asks for a graceful stop,
//! the second for an immediate one.

use std::io::Write;

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
        let mut count = 0;
        for _ in signals.forever() {
            count += 1;
            // Never panic here (stderr may be a closed pipe or a hung-up
            // terminal): this thread must survive to hear the next signal.
            let mut stderr = std::io::stderr();
            match cancel.interrupt() {
                _ if count >= 3 => {
                    let _ = writeln!(stderr, "\nthird interrupt: exiting now");
                    std::process::exit(130);
                }
                CancelLevel::Graceful => {
                    let _ = writeln!(
                        stderr,
                        "\ncancelling: running steps get SIGTERM, then SIGKILL after the grace period; `if: always()` steps still run (Ctrl-C again to kill now)"
                    );
                }
                _ => {
                    let _ = writeln!(
                        stderr,
                        "\nkilling every running step now (Ctrl-C once more to exit at once)"
                    );
                }
            }
        }
    });
    Ok(SignalGuard { handle })
}
