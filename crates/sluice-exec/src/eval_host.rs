//! Evaluating expressions during a run: the contexts a job or step sees,
//! and the functions only the runner can answer (`success()`,
//! `hashFiles()`, ...).

use std::path::Path;

use indexmap::IndexMap;
use sluice_expr::{Allowed, EvalHost, Value};
use sluice_workflow::Token;

use crate::events::Outcome;

/// What the status functions report.
#[derive(Debug, Clone)]
pub enum Status {
    /// Inside a job: whether an earlier step failed, and whether the run
    /// is being cancelled.
    Step { failed: bool, cancelled: bool },
    /// A job's `if`: the results of the jobs it needs (by id, lowercase)
    /// and of all its ancestors.
    Job {
        needs: IndexMap<String, Outcome>,
        ancestors_failed: bool,
        cancelled: bool,
    },
}

/// Contexts plus status, answering expressions.
pub struct RunHost<'a> {
    pub contexts: &'a IndexMap<String, Value>,
    pub status: Status,
    /// Where `hashFiles` looks.
    pub workspace: &'a Path,
}

impl EvalHost for RunHost<'_> {
    fn context(&self, name: &str) -> Option<&Value> {
        self.contexts
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    fn call_host_function(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let named: Vec<String> = args
            .iter()
            .map(|a| a.to_display_string().to_ascii_lowercase())
            .collect();
        let result = match (name.to_ascii_lowercase().as_str(), &self.status) {
            ("always", _) => true,
            ("cancelled", Status::Step { cancelled, .. } | Status::Job { cancelled, .. }) => {
                *cancelled
            }
            ("success", Status::Step { failed, cancelled }) => !failed && !cancelled,
            ("failure", Status::Step { failed, cancelled }) => *failed && !cancelled,
            (
                "success",
                Status::Job {
                    needs,
                    cancelled,
                    ancestors_failed,
                },
            ) => {
                let selected = select(needs, &named)?;
                !cancelled && !ancestors_failed && selected.iter().all(|o| *o == Outcome::Success)
            }
            (
                "failure",
                Status::Job {
                    needs,
                    cancelled,
                    ancestors_failed,
                },
            ) => {
                if named.is_empty() {
                    !cancelled && *ancestors_failed
                } else {
                    !cancelled && select(needs, &named)?.contains(&Outcome::Failure)
                }
            }
            ("hashfiles", _) => {
                let patterns: Vec<String> = args
                    .iter()
                    .map(|a| a.to_display_string().into_owned())
                    .collect();
                return crate::hash_files::hash_files(self.workspace, &patterns)
                    .map(Value::String)
                    .map_err(|e| e.to_string());
            }
            (other, _) => return Err(format!("The function '{other}' is not available here")),
        };
        Ok(Value::Boolean(result))
    }
}

/// The outcomes of the named needs (all when no names are given).
fn select(needs: &IndexMap<String, Outcome>, names: &[String]) -> Result<Vec<Outcome>, String> {
    if names.is_empty() {
        return Ok(needs.values().copied().collect());
    }
    names
        .iter()
        .map(|n| {
            needs
                .get(n)
                .copied()
                .ok_or_else(|| format!("'{n}' is not a job this job needs"))
        })
        .collect()
}

impl RunHost<'_> {
    /// The names of the contexts this host offers, for parsing.
    pub fn allowed(&self) -> Allowed {
        Allowed::everything_for_contexts(self.contexts.keys().cloned().collect::<Vec<_>>())
    }

    /// Evaluates a token against this host.
    pub fn evaluate(&self, token: &Token) -> Result<Value, String> {
        token.evaluate(self, &self.allowed()).map_err(|e| e.message)
    }

    /// Evaluates a condition (`if:` in normalised form) to a boolean.
    pub fn condition(&self, expression: &str) -> Result<bool, String> {
        let expr = sluice_expr::parse(expression, &self.allowed()).map_err(|e| e.message)?;
        expr.evaluate(self)
            .map(|v| v.to_boolean())
            .map_err(|e| e.message)
    }

    /// A token as text (GitHub's string conversion), e.g. for `env` values.
    pub fn string(&self, token: &Token) -> Result<String, String> {
        self.evaluate(token)
            .map(|v| v.to_display_string().into_owned())
    }
}

/// A JSON-like object value from string pairs.
pub fn string_object<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}
