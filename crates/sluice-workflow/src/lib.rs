//! GitHub Actions workflow files, read into a typed model with positions.
//!
//! Pure: the crate reads no files and spawns nothing. Callers hand it the
//! text ([`SourceFile`]) and, for reusable workflows, a [`WorkflowLoader`]
//! that finds called files. Every problem becomes a [`Diagnostic`] with a
//! file, line, column and advice; nothing here panics on any input.

pub mod contexts;
pub mod cron;
pub mod diagnostic;
pub mod events;
pub mod expressions;
mod graph;
pub mod ids;
pub mod model;
mod needs_refs;
mod parse;
mod reader;
pub mod scalar;
pub mod source;
mod suggest;
pub mod token;
pub mod yaml;
mod yaml_relax;

pub use cron::{CronMinute, CronSchedule};
pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
pub use parse::{
    NoLoader, ParseOptions, Parsed, ParsedAction, WorkflowLoader, parse_action, parse_duration,
    parse_str, parse_workflow,
};
pub use source::{SourceFile, Span};
pub use token::{Token, TokenKind};
pub use yaml::Limits;
