//! `sluice logs --follow RUN [JOB [STEP]]`: a run's lines as it writes
//! them (from any process: the history is shared), until it ends.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use sluice_store::{LogLine, Status, TailCursor};

use super::history::LogPrinter;
use crate::cli::{ColorChoice, LogsArgs};
use crate::exit::ExitStatus;

/// How often the history is read for new lines.
const POLL: Duration = Duration::from_millis(200);

pub fn follow(cwd: &Path, args: &LogsArgs, color_choice: ColorChoice) -> Result<ExitStatus> {
    let color = crate::render::use_color(color_choice, std::io::stdout().is_terminal());
    let history = super::history::open(cwd)?;
    let number = history.resolve_run(&args.run)?;
    let store = history.store();
    let mut cursor = TailCursor::default();
    let mut printer = LogPrinter {
        headers: true,
        color,
        current: None,
    };
    loop {
        let tail = store.log_tail(history.repository(), number, &mut cursor)?;
        let wanted = |line: &&LogLine| line.is_of(args.job.as_deref(), args.step.as_deref());
        for line in tail.lines.iter().filter(wanted) {
            printer.print(line);
        }
        if tail.over {
            break;
        }
        std::thread::sleep(POLL);
    }
    let status = store.run(history.repository(), number)?.summary.status;
    eprintln!("run #{number} {status}");
    Ok(match status {
        Status::Success | Status::Skipped => ExitStatus::Success,
        _ => ExitStatus::Failure,
    })
}
