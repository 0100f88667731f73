//! The process exit codes, in one place.

/// What the process reports to its caller.
/// Ordered by severity, so several runs report the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// 0: everything selected succeeded.
    Success,
    /// 1: the pipeline ran and failed (or validation found errors).
    Failure,
    /// 2: usage, configuration or workflow error; nothing ran.
    Usage,
    /// 130: interrupted (Ctrl-C).
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Interrupted => 130,
        }
    }
}
