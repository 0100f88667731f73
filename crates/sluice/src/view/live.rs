//! Live progress on a terminal: one line per running job with its current
//! step and elapsed time; finished jobs settle above with their result and
//! duration; a failing step's last output lines are shown where it failed.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_events::Stream;
use sluice_events::{Event, EventSink, Outcome};

use super::{dim, duration, outcome_mark, paint};
use crate::terminal_text::{inert, truncate_to_width};

/// Lines of output kept per running job, shown when a step fails.
const TAIL_LINES: usize = 15;
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

struct Running {
    name: String,
    started: Instant,
    step: String,
    steps: IndexMap<usize, String>,
    tail: VecDeque<String>,
}

struct State {
    running: IndexMap<sluice_events::JobKey, Running>,
    /// The run's number, to say how to approve a waiting job.
    run: Option<u64>,
    /// How many live lines are on screen below the settled output.
    drawn: usize,
    frame: usize,
    finished: bool,
}

#[derive(Clone)]
pub struct LiveView {
    state: Arc<Mutex<State>>,
    color: bool,
}

impl LiveView {
    /// Starts the view and a ticker that refreshes elapsed times.
    pub fn start(color: bool) -> LiveView {
        let view = LiveView {
            state: Arc::new(Mutex::new(State {
                running: IndexMap::new(),
                run: None,
                drawn: 0,
                frame: 0,
                finished: false,
            })),
            color,
        };
        let ticker = view.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(120));
                let Ok(mut state) = ticker.state.lock() else {
                    return;
                };
                if state.finished {
                    return;
                }
                state.frame += 1;
                ticker.redraw(&mut state, &[]);
            }
        });
        view
    }

    /// Clears the live lines for good (before the summary is printed).
    pub fn finish(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.running.clear();
            self.redraw(&mut state, &[]);
            state.finished = true;
        }
    }

    /// Erases the live lines, prints `settled` above, draws the live lines.
    /// The terminal's size is read at every frame (it may be resized);
    /// lines are cut to its width by display width, and when more jobs run
    /// than it has rows, the rest are counted on one line (lines that
    /// scrolled off could not be erased).
    fn redraw(&self, state: &mut State, settled: &[String]) {
        let color = self.color;
        let (width, rows) = terminal_size::terminal_size()
            .map_or((100, 40), |(w, h)| (usize::from(w.0), usize::from(h.0)));
        let width = width.max(20);
        let mut out = String::new();
        for _ in 0..state.drawn {
            out.push_str("\x1b[1A\x1b[2K");
        }
        out.push('\r');
        for line in settled {
            out.push_str(&inert(line, color));
            out.push('\n');
        }
        let spinner = SPINNER[state.frame % SPINNER.len()];
        let room = rows.saturating_sub(1).max(1);
        let shown = if state.running.len() > room {
            room - 1
        } else {
            state.running.len()
        };
        let mut drawn = 0;
        for (key, job) in state.running.iter().take(shown) {
            let label = if job.name == *key {
                key.as_str()
            } else {
                job.name.as_str()
            };
            let line = format!(
                "{spinner} {}  {}  {}",
                inert(label, color),
                inert(&job.step, color),
                dim(&duration(job.started.elapsed()), color)
            );
            out.push_str(&truncate_to_width(&line, width));
            out.push('\n');
            drawn += 1;
        }
        if shown < state.running.len() {
            let more = format!("  … and {} more running", state.running.len() - shown);
            out.push_str(&truncate_to_width(&dim(&more, color), width));
            out.push('\n');
            drawn += 1;
        }
        state.drawn = drawn;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
}

impl EventSink for LiveView {
    fn emit(&self, event: &Event) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let color = self.color;
        let mut settled = Vec::new();
        match event {
            Event::RunStarted {
                run,
                workflow,
                event,
                git_ref,
                ..
            } => {
                state.run = Some(*run);
                settled.push(format!("run #{run}: {workflow} ({event} of {git_ref})"));
            }
            Event::JobWaiting {
                job,
                name,
                environment,
                required_approvals,
                wait_timer_ms,
                ..
            } => {
                let label = if name == job { job.as_str() } else { name };
                let line = super::waiting_line(
                    state.run,
                    environment,
                    *required_approvals,
                    *wait_timer_ms,
                );
                settled.push(dim(&format!("⏸ {label} {line}"), color));
            }
            Event::JobStarted { job, name, .. } => {
                state.running.insert(
                    job.clone(),
                    Running {
                        name: name.clone(),
                        started: Instant::now(),
                        step: "starting".into(),
                        steps: IndexMap::new(),
                        tail: VecDeque::new(),
                    },
                );
            }
            Event::StepStarted {
                job, step, name, ..
            } => {
                if let Some(running) = state.running.get_mut(job) {
                    running.step = name.clone();
                    running.steps.insert(*step, name.clone());
                    running.tail.clear();
                }
            }
            Event::Log {
                level,
                stream: Stream::System,
                ..
            } if super::is_detail(*level) => return,
            // Services' own output is for history (`sluice logs`), not the screen.
            Event::Log {
                stream: Stream::Service,
                ..
            } => return,
            Event::Log {
                job, line, stream, ..
            } => {
                if let Some(running) = state.running.get_mut(job) {
                    let line = if *stream == Stream::System {
                        dim(line, color)
                    } else {
                        line.clone()
                    };
                    running.tail.push_back(line);
                    if running.tail.len() > TAIL_LINES {
                        running.tail.pop_front();
                    }
                }
            }
            Event::StepFinished {
                job,
                step,
                outcome,
                conclusion,
                exit_code,
                ..
            } if *outcome == Outcome::Failure => {
                if let Some(running) = state.running.get(job) {
                    let name = running.steps.get(step).cloned().unwrap_or_default();
                    let allowed = *conclusion == Outcome::Success;
                    let tag = if allowed {
                        "failed, allowed to continue"
                    } else {
                        "failed"
                    };
                    let code = exit_code
                        .map(|c| format!(" (exit code {c})"))
                        .unwrap_or_default();
                    let paint_as = if allowed {
                        Outcome::Cancelled
                    } else {
                        Outcome::Failure
                    };
                    settled.push(paint(
                        &format!("  ✗ {job}: {name} {tag}{code}"),
                        paint_as,
                        color,
                    ));
                    for line in &running.tail {
                        settled.push(format!("    │ {line}"));
                    }
                }
            }
            Event::JobFinished {
                job,
                name,
                result,
                duration_ms,
                ..
            } => {
                state.running.shift_remove(job);
                let (mark, word) = outcome_mark(*result);
                let label = if name == job {
                    job.to_string()
                } else {
                    name.clone()
                };
                settled.push(format!(
                    "{} {label} {}",
                    paint(mark, *result, color),
                    dim(
                        &format!(
                            "{word} in {}",
                            duration(Duration::from_millis(*duration_ms))
                        ),
                        color
                    )
                ));
            }
            Event::JobSkipped {
                job, name, reason, ..
            } => {
                let label = if name == job {
                    job.to_string()
                } else {
                    name.clone()
                };
                settled.push(dim(&format!("– {label} skipped: {reason}"), color));
            }
            _ => return,
        }
        self.redraw(&mut state, &settled);
    }
}
