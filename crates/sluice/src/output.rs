//! Writing to standard output without panicking when the reader goes away
//! (`sluice plan --json | head`). Once the pipe is closed, further output
//! is dropped and the command carries on to its end (a run still finishes
//! and is recorded, and reports its own exit status).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints `text` and a newline to standard output.
pub fn line(text: &str) {
    write(text, true);
}

/// Prints `text` as is.
pub fn text(text: &str) {
    write(text, false);
}

fn write(text: &str, newline: bool) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| {
            if newline {
                stdout.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| stdout.flush());
    if written.is_err() {
        CLOSED.store(true, Ordering::Relaxed);
    }
}
