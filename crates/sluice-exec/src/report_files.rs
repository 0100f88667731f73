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

/// Why a report file was not read. Shown after the file's name and a
/// colon: `report.xml:3:7: …`, `report.xml: cannot read it: …`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReportFileError {
    #[error(" the report is larger than {} MiB", .0 >> 20)]
    TooLarge(usize),
    #[error(" cannot read it: {0}")]
    Unreadable(std::io::Error),
    /// The reader's own account, starting with its line and column where
    /// it has them.
    #[error("{0}")]
    NotAReport(String),
}

/// The bytes of a report of at most `max_bytes`.
pub(crate) fn read_bounded(file: &Path, max_bytes: usize) -> Result<Vec<u8>, ReportFileError> {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size > max_bytes as u64 {
        return Err(ReportFileError::TooLarge(max_bytes));
    }
    std::fs::read(file).map_err(ReportFileError::Unreadable)
}
