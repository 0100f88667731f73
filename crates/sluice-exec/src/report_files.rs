//! The files a step's reports are read from (test results, coverage,
//! benchmarks): its globs matched in the job's workspace, only those
//! written since the attempt began when that is asked.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::events::LogLevel;
use crate::step::StepContext;

/// The files `globs` match (`what` names them in a warning when the globs
/// are not valid: then none).
pub(crate) fn matching(
    ctx: &StepContext,
    globs: &[String],
    since: Option<SystemTime>,
    what: &str,
) -> Vec<PathBuf> {
    match sluice_glob::walk_matches(ctx.workspace, globs) {
        Ok(files) => files
            .into_iter()
            .filter(|f| since.is_none_or(|since| written_since(f, since)))
            .collect(),
        Err(e) => {
            ctx.shared.system_message(
                ctx.key,
                Some(ctx.index),
                LogLevel::Warning,
                &format!("{what}: {e}"),
            );
            Vec::new()
        }
    }
}

fn written_since(file: &Path, since: SystemTime) -> bool {
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified >= since)
}

/// `file` relative to the workspace, as reports name their files.
pub(crate) fn relative(workspace: &Path, file: &Path) -> String {
    file.strip_prefix(workspace)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned()
}
