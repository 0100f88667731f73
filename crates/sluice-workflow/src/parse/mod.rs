//! Reading a workflow file into the model.

mod action;
mod call;
mod job;
mod service;
mod step;
mod trigger;

use std::sync::Arc;

pub use action::{ParsedAction, parse_action};
pub use service::parse_duration;

use crate::contexts;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::graph;
use crate::model::{Dialect, RunDefaults, Workflow};
use crate::needs_refs;
use crate::reader::{Expect, Reader};
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Limits};

const ROOT_KEYS: &[&str] = &[
    "on",
    "name",
    "description",
    "run-name",
    "defaults",
    "env",
    "permissions",
    "concurrency",
    "jobs",
];

/// How to read workflow files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    pub limits: Limits,
    /// Make everything GitHub would reject an error (unknown keys, Sluice
    /// extensions in `.github/workflows`), instead of a warning.
    pub strict: bool,
    /// How deep reusable workflows may call each other.
    pub max_call_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            strict: false,
            max_call_depth: 10,
        }
    }
}

/// Finds the files that `uses:` on a job names.
pub trait WorkflowLoader {
    /// The file for a reference such as `./.github/workflows/deploy.yml` or
    /// `owner/repo/.github/workflows/deploy.yml@v1`. `Ok(None)` means the
    /// reference cannot be checked here (e.g. a remote workflow that is not
    /// vendored); `Err` means it should exist and could not be read.
    /// `caller` is the file that makes the call: a `./` reference in a
    /// workflow that was itself fetched names a file of that repository.
    fn load(&self, reference: &str, caller: &SourceFile)
    -> Result<Option<Arc<SourceFile>>, String>;
}

/// A loader that knows no files: calls to reusable workflows go unchecked.
pub struct NoLoader;

impl WorkflowLoader for NoLoader {
    fn load(
        &self,
        _reference: &str,
        _caller: &SourceFile,
    ) -> Result<Option<Arc<SourceFile>>, String> {
        Ok(None)
    }
}

/// The outcome of reading one workflow file.
#[derive(Debug)]
pub struct Parsed {
    /// The model; present whenever the file was YAML that could be read at
    /// all, even if it has errors (so that tools can still show it).
    pub workflow: Option<Workflow>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads a workflow file. The dialect follows from the file's path.
pub fn parse_workflow(
    source: Arc<SourceFile>,
    options: &ParseOptions,
    loader: &dyn WorkflowLoader,
) -> Parsed {
    parse_at_depth(source, options, loader, 0)
}

fn parse_at_depth(
    source: Arc<SourceFile>,
    options: &ParseOptions,
    loader: &dyn WorkflowLoader,
    depth: usize,
) -> Parsed {
    let mut diags = Diagnostics::new(source.clone(), options.strict);
    let dialect = Dialect::from_path(&source.name);
    let workflow = yaml::load(&source, &options.limits, &mut diags).and_then(|root| {
        let mut reader = Reader {
            diags: &mut diags,
            dialect,
        };
        let mut workflow = read_workflow(&mut reader, &source, dialect, &root)?;
        graph::check_needs(&workflow.jobs, reader.diags);
        for job in workflow.jobs.values() {
            needs_refs::check_needs_references(job, reader.diags);
        }
        call::resolve_calls(
            &mut workflow,
            reader.diags,
            options,
            loader,
            depth,
            &|s, d| parse_at_depth(s, options, loader, d),
        );
        Some(workflow)
    });
    Parsed {
        workflow,
        diagnostics: diags.into_sorted(),
    }
}

fn read_workflow(
    r: &mut Reader,
    source: &Arc<SourceFile>,
    dialect: Dialect,
    root: &yaml::Node,
) -> Option<Workflow> {
    if root.scalar_text().is_some() {
        r.diags
            .error(root.span, "A workflow must be a mapping")
            .with_help("start the file with `on:` and `jobs:` keys");
        return None;
    }
    let fields = r.fields(root, "workflow", ROOT_KEYS, &[])?;
    let file_start = Span {
        offset: 0,
        len: 0,
        line: 1,
        col: 1,
    };
    for key in ["on", "jobs"] {
        if !fields.has(key) {
            r.diags
                .error(file_start, format!("Required property is missing: {key}"))
                .with_help(match key {
                    "on" => "add `on:` with the events that start this workflow, e.g. `on: push`",
                    _ => "add `jobs:` with at least one job",
                });
        }
    }
    let name = fields.get("name").and_then(|n| r.literal_string(n, "name"));
    let workflow = Workflow {
        source: source.clone(),
        dialect,
        name_written: name.is_some(),
        name: name.map_or_else(|| source.name.clone(), |n| n.value),
        description: fields
            .get("description")
            .and_then(|n| r.literal_string(n, "description"))
            .map(|s| s.value),
        run_name: fields
            .get("run-name")
            .map(|n| r.token(n, "run-name", Expect::String, &contexts::RUN_NAME)),
        on: fields
            .get("on")
            .map(|n| trigger::read_on(r, n))
            .unwrap_or_default(),
        env: fields
            .get("env")
            .map(|n| r.token(n, "env", Expect::StringMap, &contexts::WORKFLOW_ENV)),
        defaults: fields
            .get("defaults")
            .map(|n| job::read_defaults(r, n, None))
            .unwrap_or_else(RunDefaults::default),
        concurrency: fields
            .get("concurrency")
            .and_then(|n| job::read_concurrency(r, n, &contexts::WORKFLOW_CONCURRENCY)),
        permissions: fields
            .get("permissions")
            .map(|n| job::read_permissions(r, n)),
        jobs: fields
            .get("jobs")
            .map(|n| job::read_jobs(r, n))
            .unwrap_or_default(),
    };
    Some(workflow)
}

impl Dialect {
    /// `.github/workflows/...` is GitHub's; anything else is Sluice's own.
    pub fn from_path(path: &str) -> Self {
        let normalized = path.replace('\\', "/");
        if normalized.contains(".github/workflows/") || normalized.starts_with(".github/") {
            Dialect::GitHub
        } else {
            Dialect::Sluice
        }
    }
}

/// Reads a workflow from text (for tests and tools): `.github/workflows`
/// paths in `name` select the GitHub dialect.
pub fn parse_str(name: &str, text: &str, options: &ParseOptions) -> Parsed {
    parse_workflow(SourceFile::new(name, text), options, &NoLoader)
}
