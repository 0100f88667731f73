//! Writing to standard output without panicking when the reader goes away
//! (`sluice plan --json | head`).

use std::io::{ErrorKind, Write};

/// Prints `text` and a newline to standard output. When the reader has
/// closed the pipe, the process ends quietly, as command-line tools do.
pub fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    if let Err(e) = written
        && e.kind() == ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Prints `text` as is.
pub fn text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && e.kind() == ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}
