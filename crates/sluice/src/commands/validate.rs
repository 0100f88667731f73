//! `sluice validate [PATH...]`

use std::path::Path;

use anyhow::Result;
use sluice_workflow::ParseOptions;

use crate::cli::{DiagnosticFormat, ValidateArgs};
use crate::exit::ExitStatus;
use crate::{render, workflows};

pub fn run(root: &Path, args: &ValidateArgs, color: bool) -> Result<ExitStatus> {
    let options = ParseOptions {
        strict: args.strict,
        ..ParseOptions::default()
    };
    let paths = if args.paths.is_empty() {
        let found = workflows::discover(root)?;
        if found.is_empty() {
            eprintln!(
                "no workflows found in {} (looked in .github/workflows and .sluice/workflows)",
                root.display()
            );
            return Ok(ExitStatus::Success);
        }
        found.into_iter().map(|p| root.join(p)).collect()
    } else {
        for path in &args.paths {
            if !path.exists() {
                eprintln!("error: {} does not exist", path.display());
                return Ok(ExitStatus::Usage);
            }
        }
        args.paths.clone()
    };
    // Calls of remote workflows are checked when the cache has them;
    // validating never fetches.
    let remote = crate::config::Config::load(root, &crate::config::Overrides::default())
        .ok()
        .and_then(|config| crate::commands::run::cache_only_remote_store(&config));
    let mut all = Vec::new();
    for path in &paths {
        let parsed = workflows::load(root, path, &options, remote.as_ref())?;
        for d in &parsed.diagnostics {
            let text = render::diagnostic(d, args.format, color);
            if args.format == DiagnosticFormat::Human {
                eprintln!("{text}");
            } else {
                crate::output::line(&text);
            }
        }
        all.extend(parsed.diagnostics);
    }
    let has_errors = all.iter().any(|d| d.is_error());
    if args.format == DiagnosticFormat::Human {
        let files = if paths.len() == 1 {
            "1 file".to_string()
        } else {
            format!("{} files", paths.len())
        };
        eprintln!("checked {files}: {}", render::count_summary(&all));
    }
    Ok(if has_errors {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
