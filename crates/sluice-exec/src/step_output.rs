//! What a step leaves behind besides its exit code: workflow commands in
//! its output (`::set-output::`, `::add-mask::`, annotations) and file
//! commands (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`, the summary).

use std::path::Path;

use indexmap::IndexMap;

use crate::events::{AnnotationLevel, Event, Stream, now};
use crate::file_commands;
use crate::job::JobState;
use crate::mask::{MASK, PieceMasker};
use crate::runner_env::CommandFiles;
use crate::step::StepContext;
use crate::step_process::LineEnd;
use crate::workflow_commands::{self, CommandParser, LineKind, WorkflowCommand};

/// GitHub's limit on one step's summary.
const MAX_SUMMARY_BYTES: usize = 1024 * 1024;

/// Everything a step asked for, applied to the job when it ends (and kept
/// with a step-cache entry, so a cached step has the same effects).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Effects {
    pub outputs: IndexMap<String, String>,
    /// `GITHUB_ENV` (and `::set-env::`) in order.
    pub env: Vec<(String, String)>,
    /// `GITHUB_PATH` (and `::add-path::`) in order.
    pub path: Vec<String>,
    /// `GITHUB_STATE`: values a JavaScript action keeps for its post step.
    #[serde(skip)]
    pub state: Vec<(String, String)>,
    /// What the step wrote to `GITHUB_STEP_SUMMARY` (masked).
    pub summary: Option<String>,
    /// A command or command file could not be processed: GitHub fails the
    /// step.
    #[serde(skip)]
    pub failed: bool,
    /// The step's log lines (masked), kept when the step may be cached.
    #[serde(skip)]
    pub captured: Option<Vec<(Stream, String)>>,
    /// The step registered a value to mask (`::add-mask::`).
    #[serde(skip)]
    pub registered_mask: bool,
}

impl Effects {
    /// Applies the step's `GITHUB_ENV` and `GITHUB_PATH` to the job.
    pub(crate) fn apply_to(&self, state: &mut JobState) {
        for (name, value) in &self.env {
            state.exported_env.insert(name.clone(), value.clone());
        }
        for dir in &self.path {
            state.added_path.insert(0, dir.clone());
        }
    }

    /// Keeps the step's `GITHUB_STATE` for its post step.
    pub(crate) fn keep_state(&self, state: &mut JobState, step: usize) {
        if !self.state.is_empty() {
            state
                .saved_state
                .entry(step)
                .or_default()
                .extend(self.state.iter().cloned());
        }
    }
}

/// Emits a step's output line, masked, and keeps it when capturing.
pub(crate) fn log_line(ctx: &StepContext, effects: &mut Effects, stream: Stream, text: &str) {
    let shared = ctx.shared;
    let line = shared.mask(text);
    if let Some(captured) = effects.captured.as_mut() {
        captured.push((stream, line.clone()));
    }
    let level = level_of(stream, &line);
    shared.emit(Event::Log {
        job: ctx.key.clone(),
        step: Some(ctx.index),
        stream,
        line,
        level,
        at: now(),
    });
}

/// The level of a line Sluice writes (its own lines start with the word
/// that says so); what steps print is plain output. Decided here, where
/// the lines are written, so that observers read the event's field.
pub(crate) fn level_of(stream: Stream, text: &str) -> crate::events::LogLevel {
    use crate::events::LogLevel;
    if stream != Stream::System {
        return LogLevel::Info;
    }
    match text.split_once(": ").map(|(word, _)| word) {
        Some("error") => LogLevel::Error,
        Some("warning") => LogLevel::Warning,
        Some("notice") => LogLevel::Notice,
        Some("shell") => LogLevel::Detail,
        _ => LogLevel::Info,
    }
}

/// A line too long to keep whole arrives in pieces; they are shown as
/// they come, masked so that a secret cut between two pieces is still
/// masked whole (see [`PieceMasker`]). Their text is output, never a
/// workflow command.
#[derive(Default)]
pub(crate) struct SplitLine {
    pieces: PieceMasker,
    /// Inside a line that was split.
    splitting: bool,
    /// Inside a split `::add-mask::` line: nothing of it is shown.
    hiding: bool,
}

impl SplitLine {
    pub(crate) fn piece(
        &mut self,
        ctx: &StepContext,
        parser: &mut CommandParser,
        stream: Stream,
        piece: &str,
        end: LineEnd,
        effects: &mut Effects,
    ) {
        if !self.splitting && end == LineEnd::Complete {
            handle_line(ctx, parser, stream, piece, effects);
            return;
        }
        let last = end == LineEnd::Complete;
        if !self.splitting && piece.trim_start().starts_with("::add-mask::") {
            // A value to mask too long to keep whole: all of it is hidden
            // (it cannot be registered, but it is never shown).
            self.hiding = true;
            log_line(ctx, effects, stream, MASK);
        }
        self.splitting = !last;
        if self.hiding {
            self.hiding = !last;
            return;
        }
        let shown = match ctx.shared.masker.read() {
            Ok(masker) => self.pieces.push(&masker, piece, last),
            Err(_) => MASK.to_string(),
        };
        if !shown.is_empty() || last {
            log_line(ctx, effects, stream, &shown);
        }
    }
}

/// One line of the step's output: a workflow command, or a log line.
pub(crate) fn handle_line(
    ctx: &StepContext,
    parser: &mut CommandParser,
    stream: Stream,
    line: &str,
    effects: &mut Effects,
) {
    let shared = ctx.shared;
    let (command, echo) = match parser.parse_line(line) {
        LineKind::Output(text) => {
            log_line(ctx, effects, stream, text);
            return;
        }
        LineKind::Command { command, echo } => (command, echo),
    };
    // A new secret is registered before anything about the line is shown.
    if let Some(secret) = command.secret() {
        shared.add_mask(secret);
        effects.registered_mask = true;
    }
    if let Some(echo) = echo {
        log_line(ctx, effects, stream, echo);
    }
    if let Some(warning) = command.deprecation_warning() {
        log_line(ctx, effects, Stream::System, &format!("warning: {warning}"));
    }
    match command {
        WorkflowCommand::Group { title } => log_line(ctx, effects, stream, &format!("▸ {title}")),
        WorkflowCommand::Annotation(annotation) => {
            annotate(
                ctx,
                effects,
                annotation.level,
                &annotation.message,
                Some(&annotation),
            );
        }
        WorkflowCommand::Problem { level, message } => {
            annotate(ctx, effects, level, &message, None)
        }
        WorkflowCommand::SetOutput { name, value } => {
            effects.outputs.insert(name, value);
        }
        WorkflowCommand::SetEnv { name, value } => effects.env.push((name, value)),
        WorkflowCommand::AddPath { path } => effects.path.push(path),
        WorkflowCommand::AddMatcher { .. } | WorkflowCommand::RemoveMatcher(_) => log_line(
            ctx,
            effects,
            Stream::System,
            "notice: problem matchers are not supported by Sluice; the command was ignored",
        ),
        WorkflowCommand::Failed(failure) => {
            for line in failure.lines() {
                log_line(ctx, effects, Stream::System, &format!("error: {line}"));
            }
            effects.failed = true;
        }
        WorkflowCommand::AddMask { .. }
        | WorkflowCommand::EndGroup
        | WorkflowCommand::Debug { .. }
        | WorkflowCommand::SaveState { .. }
        | WorkflowCommand::StopCommands { .. }
        | WorkflowCommand::ResumeCommands { .. }
        | WorkflowCommand::Echo { .. } => {}
    }
}

fn annotate(
    ctx: &StepContext,
    effects: &mut Effects,
    level: workflow_commands::AnnotationLevel,
    message: &str,
    annotation: Option<&workflow_commands::Annotation>,
) {
    let shared = ctx.shared;
    let level = match level {
        workflow_commands::AnnotationLevel::Error => AnnotationLevel::Error,
        workflow_commands::AnnotationLevel::Warning => AnnotationLevel::Warning,
        workflow_commands::AnnotationLevel::Notice => AnnotationLevel::Notice,
    };
    let message = shared.mask(message);
    let word = match level {
        AnnotationLevel::Error => "error",
        AnnotationLevel::Warning => "warning",
        AnnotationLevel::Notice => "notice",
    };
    log_line(ctx, effects, Stream::System, &format!("{word}: {message}"));
    shared.emit(Event::Annotation {
        job: ctx.key.clone(),
        step: Some(ctx.index),
        level,
        message,
        file: annotation.and_then(|a| a.file.as_deref().map(|f| shared.mask(f))),
        line: annotation.and_then(|a| a.line),
        col: annotation.and_then(|a| a.col),
        title: annotation.and_then(|a| a.title.as_deref().map(|t| shared.mask(t))),
        at: now(),
    });
}

/// Reads the step's command files into `effects`. As on GitHub, the pairs
/// before a malformed line apply, and a malformed file fails the step.
pub(crate) fn read_file_commands(ctx: &StepContext, files: &CommandFiles, effects: &mut Effects) {
    let shared = ctx.shared;
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let report = |effects: &mut Effects, message: String| {
        log_line(ctx, effects, Stream::System, &format!("error: {message}"));
    };
    let (pairs, error) = file_commands::parse_key_values_until_error(
        &read(&files.output),
        "GITHUB_OUTPUT",
        file_commands::Newlines::HOST,
    );
    effects.outputs.extend(pairs);
    if let Some(e) = error {
        report(effects, e.to_string());
        effects.failed = true;
    }
    let (pairs, error) = file_commands::parse_key_values_until_error(
        &read(&files.env),
        "GITHUB_ENV",
        file_commands::Newlines::HOST,
    );
    for (name, value) in pairs {
        match file_commands::check_env_name(&name) {
            Ok(()) => effects.env.push((name, value)),
            Err(blocked) => report(effects, blocked.to_string()),
        }
    }
    if let Some(e) = error {
        report(effects, e.to_string());
        effects.failed = true;
    }
    effects
        .path
        .extend(file_commands::parse_path_file(&read(&files.path)));
    let (pairs, error) = file_commands::parse_key_values_until_error(
        &read(&files.state),
        "GITHUB_STATE",
        file_commands::Newlines::HOST,
    );
    effects.state.extend(pairs);
    if let Some(e) = error {
        report(effects, e.to_string());
        effects.failed = true;
    }
    let mut summary = read(&files.summary);
    if !summary.trim().is_empty() {
        if summary.len() > MAX_SUMMARY_BYTES {
            let mut cut = MAX_SUMMARY_BYTES;
            while !summary.is_char_boundary(cut) {
                cut -= 1;
            }
            summary.truncate(cut);
            report(effects, "the step summary is over 1 MiB and was cut".into());
        }
        effects.summary = Some(shared.mask(&summary));
    }
}

/// Emits the step's summary, if it wrote one.
pub(crate) fn emit_summary(ctx: &StepContext, effects: &Effects) {
    if let Some(markdown) = &effects.summary {
        ctx.shared.emit(Event::StepSummary {
            job: ctx.key.clone(),
            step: ctx.index,
            markdown: markdown.clone(),
            at: now(),
        });
    }
}
