//! Errors and warnings about a workflow file, each tied to a place in it.

use std::fmt;
use std::sync::Arc;

use crate::source::{SourceFile, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about a source file: what is wrong, where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where; [`Span::NONE`] when the finding concerns the whole file.
    pub span: Span,
    /// What to do about it.
    pub help: Option<String>,
    /// The file the span points into.
    pub source: Arc<SourceFile>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:col` (or just `path` when the finding has no position).
    pub fn location(&self) -> String {
        if self.span.is_known() {
            format!("{}:{}:{}", self.source.name, self.span.line, self.span.col)
        } else {
            self.source.name.clone()
        }
    }
}

impl Diagnostic {
    /// One line: `path:line:col: error: message`.
    pub fn short(&self) -> String {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!("{}: {level}: {}", self.location(), self.message)
    }
}

/// The message alone; reports add the location (see [`Diagnostic::short`]).
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.is_known().then_some(&*self.source as _)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if !self.span.is_known() {
            return None;
        }
        let label = miette::LabeledSpan::new_with_span(
            Some(format!("line {}, column {}", self.span.line, self.span.col)),
            (self.span.offset, self.span.len.max(1)),
        );
        Some(Box::new(std::iter::once(label)))
    }
}

/// Snippets carry the file's name, so rendered reports show
/// `[path:line:col]` above the source lines.
impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// Collects findings for one source file while it is being read.
#[derive(Debug)]
pub struct Diagnostics {
    source: Arc<SourceFile>,
    items: Vec<Diagnostic>,
    /// In strict mode, findings that GitHub itself would reject (unknown
    /// keys, Sluice extensions in `.github/workflows`) are errors.
    strict: bool,
}

impl Diagnostics {
    pub fn new(source: Arc<SourceFile>, strict: bool) -> Self {
        Self {
            source,
            items: Vec::new(),
            strict,
        }
    }

    pub fn source(&self) -> &Arc<SourceFile> {
        &self.source
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Error, span, message.into())
    }

    pub fn warning(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Warning, span, message.into())
    }

    /// A finding that GitHub rejects but Sluice can live with: a warning,
    /// or an error in strict mode.
    pub fn github_rejects(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let severity = if self.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.push(severity, span, message.into())
    }

    fn push(&mut self, severity: Severity, span: Span, message: String) -> &mut Diagnostic {
        self.items.push(Diagnostic {
            severity,
            message,
            span,
            help: None,
            source: self.source.clone(),
        });
        let last = self.items.len() - 1;
        &mut self.items[last]
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    /// The findings in source order, errors before warnings at one place.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (a.source.name.as_str(), a.span.line, a.span.col, b.severity).cmp(&(
                b.source.name.as_str(),
                b.span.line,
                b.span.col,
                a.severity,
            ))
        });
        self.items.dedup();
        self.items
    }
}

impl Diagnostic {
    /// Attaches advice on what to do.
    pub fn with_help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }
}
