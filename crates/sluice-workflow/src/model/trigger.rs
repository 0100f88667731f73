//! `on:`: the events that start a workflow and their filters.

use indexmap::IndexMap;

use super::Spanned;
use crate::source::Span;
use crate::token::Token;

/// One event under `on:` with its configuration.
#[derive(Debug, Clone, Default)]
pub struct Trigger {
    /// The event name, e.g. `push`, `pull_request`, `workflow_dispatch`.
    pub event: String,
    pub span: Span,
    /// Activity types (`types:`); empty means the event's defaults.
    pub types: Vec<String>,
    pub filters: RefFilters,
    /// `schedule:` entries.
    pub schedule: Vec<Cron>,
    /// `workflow_dispatch` / `workflow_call` inputs.
    pub inputs: IndexMap<String, InputDef>,
    /// `workflow_call` secrets.
    pub secrets: IndexMap<String, SecretDef>,
    /// `workflow_call` outputs.
    pub outputs: IndexMap<String, OutputDef>,
    /// `workflow_run.workflows`.
    pub workflows: Vec<String>,
}

/// Branch, tag and path filters of `push`, `pull_request` and friends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefFilters {
    pub branches: Option<Vec<Spanned<String>>>,
    pub branches_ignore: Option<Vec<Spanned<String>>>,
    pub tags: Option<Vec<Spanned<String>>>,
    pub tags_ignore: Option<Vec<Spanned<String>>>,
    pub paths: Option<Vec<Spanned<String>>>,
    pub paths_ignore: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    pub cron: Spanned<String>,
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    String,
    Boolean,
    Number,
    Choice,
    Environment,
}

impl InputType {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "string" => Self::String,
            "boolean" => Self::Boolean,
            "number" => Self::Number,
            "choice" => Self::Choice,
            "environment" => Self::Environment,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Number => "number",
            Self::Choice => "choice",
            Self::Environment => "environment",
        }
    }
}

/// An input of `workflow_dispatch` or `workflow_call`.
#[derive(Debug, Clone)]
pub struct InputDef {
    pub name: String,
    pub span: Span,
    pub description: Option<String>,
    pub input_type: InputType,
    /// False when `type:` was left out (allowed for `workflow_dispatch`).
    pub type_written: bool,
    pub required: bool,
    pub default: Option<Token>,
    pub options: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SecretDef {
    pub name: String,
    pub span: Span,
    pub description: Option<String>,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct OutputDef {
    pub name: String,
    pub span: Span,
    pub description: Option<String>,
    pub value: Token,
}
