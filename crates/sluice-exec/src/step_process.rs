//! One step's process: started in its own process group with a tracking
//! id, its output streamed line by line, waited for with timeouts and
//! cancellation, and stopped together with everything it started.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use crate::events::Stream;
use crate::events::{CancelLevel, CancelToken};
use crate::process_tree::{self, TRACKING_VAR};

/// Longest line kept whole; longer output is split (bounded memory). Large
/// enough that a secret is practically never cut in two at a split.
const MAX_LINE: usize = 8 << 20;
/// Lines in flight between the readers and the step's consumer: a chatty
/// step is slowed down rather than buffered without bound.
const CHANNEL_LINES: usize = 4096;

/// What to run.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The complete environment (nothing else is inherited).
    pub env: Vec<(String, String)>,
    /// Marks the process tree; see [`process_tree`].
    pub tracking_id: String,
    /// The run's scratch directory, to note the step's session in for
    /// the watcher ([`crate::session_log`]); `None` for short-lived
    /// processes Sluice waits for anyway (health probes).
    pub session_log: Option<PathBuf>,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    /// Killed by a signal (not by us).
    Signalled(i32),
    TimedOut,
    Cancelled,
}

impl Ending {
    pub fn exit_code(self) -> Option<i32> {
        match self {
            Ending::Exited(code) => Some(code),
            _ => None,
        }
    }
}

/// Whether a piece of output ends its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// The piece is a whole line (or ends one).
    Complete,
    /// The line was longer than the longest kept whole: more of it follows.
    Split,
}

enum Message {
    Line(Stream, String, LineEnd),
    ReaderDone,
    Exited(ExitStatus),
}

/// Runs `spec`, handing each output line to `on_line` as it arrives (a
/// line over 8 MiB in pieces, all but the last marked [`LineEnd::Split`]), until
/// the process exits, `deadline` passes (the tree is killed), or `cancel`
/// asks to stop (graceful: SIGTERM then SIGKILL after `grace`).
pub fn run(
    spec: &ProcessSpec,
    deadline: Option<Instant>,
    cancel: &dyn Fn() -> CancelLevel,
    grace: Duration,
    on_line: &mut dyn FnMut(Stream, &str, LineEnd),
) -> std::io::Result<Ending> {
    // Inside another Sluice run (Sluice testing itself, say), keep the
    // outer run's id too, so both runs can find these processes.
    let tracking = match spec.env.iter().find(|(k, _)| k == TRACKING_VAR) {
        Some((_, outer)) if !outer.is_empty() => format!("{outer}:{}", spec.tracking_id),
        _ => spec.tracking_id.clone(),
    };
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(TRACKING_VAR, &tracking)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    new_session(&mut command);
    let mut child = command.spawn()?;
    if let Some(scratch) = &spec.session_log {
        crate::session_log::record(scratch, child.id());
    }
    // The new session's id is also its process group's.
    let pgid = child.id() as i32;
    let (tx, rx) = sync_channel(CHANNEL_LINES);
    if let Some(stdout) = child.stdout.take() {
        spawn_reader(stdout, Stream::Stdout, tx.clone());
    }
    if let Some(stderr) = child.stderr.take() {
        spawn_reader(stderr, Stream::Stderr, tx.clone());
    }
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(Message::Exited(status));
            }
        });
    }
    drop(tx);
    supervise(
        &rx,
        pgid,
        &spec.tracking_id,
        deadline,
        cancel,
        grace,
        on_line,
    )
}

/// Starts the command in a session of its own: its own process group (so
/// it can be stopped as a whole and a Ctrl-C at the terminal does not reach
/// it), and no controlling terminal, so a program that would prompt on
/// `/dev/tty` (sudo, ssh) fails at once instead of hanging — as on GitHub,
/// where steps have no terminal.
#[allow(unsafe_code)]
pub(crate) fn new_session(command: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe functions may be called; setsid(2) is one, and
    // the closure allocates nothing.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
}

fn spawn_reader(stream: impl Read + Send + 'static, kind: Stream, tx: SyncSender<Message>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(64 * 1024, stream);
        let mut buffer = Vec::new();
        // Once the step is over nobody listens, but background processes
        // it started may still write: keep draining so they never die of
        // SIGPIPE (a server started by one step serves the next).
        let mut listening = true;
        loop {
            // What a split left over (an unfinished character) comes first.
            let carried = buffer.len();
            match (&mut reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut buffer)
            {
                Ok(0) | Err(_) if carried == 0 => break,
                Ok(0) | Err(_) => {
                    send_line(&tx, &mut listening, kind, &buffer, LineEnd::Complete);
                    break;
                }
                Ok(read) => {
                    let ended = buffer.last() == Some(&b'\n');
                    if ended || read < MAX_LINE {
                        while buffer.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                            buffer.pop();
                        }
                        send_line(&tx, &mut listening, kind, &buffer, LineEnd::Complete);
                        buffer.clear();
                    } else {
                        // Cut between characters, never inside one.
                        let whole = complete_characters_len(&buffer);
                        send_line(&tx, &mut listening, kind, &buffer[..whole], LineEnd::Split);
                        buffer.drain(..whole);
                    }
                }
            }
        }
        let _ = tx.send(Message::ReaderDone);
    });
}

/// How much of `bytes` ends on a character boundary: an unfinished UTF-8
/// sequence at the end (whatever comes before it) waits for the rest.
fn complete_characters_len(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(3);
    for start in (tail..bytes.len()).rev() {
        let byte = bytes[start];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: look further back
        }
        let needed = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if bytes.len() - start < needed {
            start
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

fn send_line(
    tx: &SyncSender<Message>,
    listening: &mut bool,
    kind: Stream,
    bytes: &[u8],
    end: LineEnd,
) {
    if *listening {
        let line = String::from_utf8_lossy(bytes).into_owned();
        *listening = tx.send(Message::Line(kind, line, end)).is_ok();
    }
}

fn supervise(
    rx: &Receiver<Message>,
    pgid: i32,
    tracking_id: &str,
    deadline: Option<Instant>,
    cancel: &dyn Fn() -> CancelLevel,
    grace: Duration,
    on_line: &mut dyn FnMut(Stream, &str, LineEnd),
) -> std::io::Result<Ending> {
    const TICK: Duration = Duration::from_millis(50);
    let mut status: Option<ExitStatus> = None;
    let mut readers_open = 2;
    let mut forced: Option<Ending> = None;
    let mut killed_at_once = false;
    // After the main process exits, background children may hold the pipes
    // open; the step is over anyway (as on GitHub), so stop reading soon.
    let mut drain_until: Option<Instant> = None;
    loop {
        if status.is_some() && readers_open == 0 {
            break;
        }
        if status.is_some() && drain_until.is_some_and(|d| Instant::now() >= d) {
            // Stop waiting for background writers, but keep what already
            // arrived (handling a long line may have taken the whole wait);
            // no more than was queued, or a chatty background process
            // would keep the step going forever.
            for message in rx.try_iter().take(CHANNEL_LINES) {
                if let Message::Line(stream, line, end) = message {
                    on_line(stream, &line, end);
                }
            }
            break;
        }
        match rx.recv_timeout(TICK) {
            Ok(Message::Line(stream, line, end)) => on_line(stream, &line, end),
            Ok(Message::ReaderDone) => readers_open -= 1,
            Ok(Message::Exited(s)) => {
                status = Some(s);
                drain_until = Some(Instant::now() + Duration::from_millis(300));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if status.is_some() {
            continue;
        }
        let level = cancel();
        if forced == Some(Ending::Cancelled) && level == CancelLevel::Immediate && !killed_at_once {
            // A second Ctrl-C during the grace period: no more waiting.
            killed_at_once = true;
            let prefix = tracking_id.to_string();
            std::thread::spawn(move || {
                process_tree::terminate_tree(Some(pgid), &prefix, Duration::ZERO)
            });
        }
        if forced.is_some() {
            continue;
        }
        let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
        if timed_out || level != CancelLevel::None {
            let immediate = timed_out || level == CancelLevel::Immediate;
            killed_at_once = immediate;
            let grace = if immediate { Duration::ZERO } else { grace };
            forced = Some(if timed_out {
                Ending::TimedOut
            } else {
                Ending::Cancelled
            });
            let prefix = tracking_id.to_string();
            // Stop the tree in the background so output keeps draining.
            std::thread::spawn(move || process_tree::terminate_tree(Some(pgid), &prefix, grace));
        }
    }
    // Background processes the step started live on until the job ends, as
    // on GitHub (a server started by one step is used by the next); the job
    // then stops its whole tree.
    if let Some(ending) = forced {
        return Ok(ending);
    }
    let status = status.ok_or_else(|| std::io::Error::other("the step's process vanished"))?;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signalled(signal),
        (None, None) => Ending::Exited(-1),
    })
}

/// A cancel check for a token (the common case).
pub fn token_level(token: &CancelToken) -> impl Fn() -> CancelLevel + '_ {
    move || token.level()
}

#[cfg(test)]
mod tests {
    use super::complete_characters_len;

    #[test]
    fn a_split_never_cuts_a_character() {
        let euro = "€".as_bytes(); // three bytes
        let mut text = b"ab".to_vec();
        text.extend_from_slice(&euro[..2]);
        assert_eq!(complete_characters_len(&text), 2);
        // Whatever invalid bytes come earlier.
        let mut invalid = vec![0xFF, b'x'];
        invalid.extend_from_slice(&euro[..1]);
        assert_eq!(complete_characters_len(&invalid), 2);
        assert_eq!(complete_characters_len("a€".as_bytes()), 4);
        assert_eq!(complete_characters_len(b"plain"), 5);
        assert_eq!(complete_characters_len(&[]), 0);
    }
}
