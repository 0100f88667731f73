//! Printing diagnostics for people and for tools.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};
use sluice_workflow::{Diagnostic, Severity};

use crate::cli::{ColorChoice, DiagnosticFormat};

/// Whether to colour output on a stream, honouring `--color` and `NO_COLOR`.
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

pub fn stderr_color(choice: ColorChoice) -> bool {
    use_color(choice, std::io::stderr().is_terminal())
}

/// Renders one diagnostic in the chosen format.
pub fn diagnostic(d: &Diagnostic, format: DiagnosticFormat, color: bool) -> String {
    match format {
        DiagnosticFormat::Short => {
            let mut line = d.short();
            if let Some(help) = &d.help {
                line.push_str(&format!(" (help: {help})"));
            }
            line
        }
        DiagnosticFormat::Json => serde_json::json!({
            "severity": d.severity,
            "file": d.source.name,
            "line": (d.span.is_known()).then_some(d.span.line),
            "column": (d.span.is_known()).then_some(d.span.col),
            "message": d.message,
            "help": d.help,
        })
        .to_string(),
        DiagnosticFormat::Human => human(d, color),
    }
}

fn human(d: &Diagnostic, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_context_lines(1)
        .with_width(100);
    let mut out = String::new();
    if !d.span.is_known() {
        // No snippet to show the file in: name it in the first line.
        out.push_str(&format!("{}:\n", d.source.name));
    }
    if handler.render_report(&mut out, d).is_err() {
        out = d.short();
    }
    out
}

/// "2 errors, 1 warning" for summaries.
pub fn count_summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
