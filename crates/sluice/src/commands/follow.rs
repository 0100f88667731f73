//! `sluice logs --follow RUN [JOB [STEP]]`: a run's lines as it writes
//! them (from any process: the history is shared), until it ends.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use sluice_store::{LogLine, Status, TailCursor};

use crate::cli::{ColorChoice, LogsArgs};
use crate::exit::ExitStatus;
use crate::terminal_text::inert;

/// How often the history is read for new lines.
const POLL: Duration = Duration::from_millis(200);

pub fn follow(cwd: &Path, args: &LogsArgs, color_choice: ColorChoice) -> Result<ExitStatus> {
    let color = crate::render::use_color(color_choice, std::io::stdout().is_terminal());
    let history = super::history::open(cwd)?;
    let number = history.resolve_run(&args.run)?;
    let store = history.store();
    let mut cursor = TailCursor::default();
    let mut current: Option<(String, Option<usize>)> = None;
    loop {
        let tail = store.log_tail(history.repository(), number, &mut cursor)?;
        for line in tail.lines.iter().filter(|line| wanted(args, line)) {
            let place = (line.job.to_string(), line.step);
            if current.as_ref() != Some(&place) {
                let header = match &line.step_name {
                    Some(step) => format!("── {} › {step}", line.job_name),
                    None => format!("── {}", line.job_name),
                };
                crate::output::line(&inert(&header, color));
                current = Some(place);
            }
            crate::output::line(&inert(&line.text, color));
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

/// The job and step asked for: a job by key, id or name; a step by
/// number (1-based) or name.
fn wanted(args: &LogsArgs, line: &LogLine) -> bool {
    let job_matches = args.job.as_deref().is_none_or(|job| {
        line.job == job || line.job.job().as_str() == job || line.job_name == job
    });
    let step_matches = args
        .step
        .as_deref()
        .is_none_or(|step| match step.parse::<usize>() {
            Ok(n) => line.step == n.checked_sub(1),
            Err(_) => line.step_name.as_deref() == Some(step),
        });
    job_matches && step_matches
}
