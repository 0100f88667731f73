//! The errors of this crate: a pattern that cannot be compiled, and a walk
//! that cannot read the file system.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Which of the two pattern languages a pattern was written in; errors name
/// it because the two accept different syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternFlavour {
    /// A workflow trigger filter (`on.push.branches`, `paths`, ...).
    Filter,
    /// A file-system glob (`hashFiles`, `actions/cache` paths).
    Path,
}

impl fmt::Display for PatternFlavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PatternFlavour::Filter => "filter pattern",
            PatternFlavour::Path => "path glob",
        })
    }
}

/// A pattern that cannot be compiled, with the place where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {flavour} `{pattern}` at column {column}: {kind}")]
pub struct PatternError {
    /// The language the pattern was compiled as.
    pub flavour: PatternFlavour,
    /// The pattern exactly as it was given.
    pub pattern: String,
    /// Byte offset into `pattern` of the offending character (the pattern's
    /// length when the problem is that the pattern ends too early).
    pub offset: usize,
    /// The same place as a 1-based column counted in characters, for people.
    pub column: usize,
    /// What is wrong.
    pub kind: PatternErrorKind,
}

/// What is wrong with a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// A `[` without the `]` that ends its character class.
    #[error("`[` is never closed by a `]` (write `\\[` for a literal bracket)")]
    UnclosedBracket,
    /// `[]`, which would match nothing at all.
    #[error("`[]` lists no characters")]
    EmptyBracket,
    /// A range such as `z-a`, or one that GitHub does not allow in filters.
    #[error("the range `{start}-{end}` is invalid: {why}")]
    InvalidRange {
        /// First character of the range.
        start: char,
        /// Last character of the range.
        end: char,
        /// Why GitHub (or this crate) rejects it.
        why: &'static str,
    },
    /// A `\` with nothing after it to escape.
    #[error("`\\` has nothing after it to escape")]
    DanglingEscape,
    /// A path glob with nothing in it but whitespace or `!`.
    #[error("the pattern is empty")]
    Empty,
    /// A path glob containing a `..` segment.
    #[error("`..` is not allowed; patterns are relative to the root and may not leave it")]
    ParentSegment,
    /// A path glob containing `.` anywhere but as its first segment.
    #[error("`.` is only allowed as the first segment")]
    DotSegment,
    /// A path glob starting with `/`.
    #[error("absolute patterns are not supported; write the pattern relative to the root")]
    Absolute,
}

/// Why [`walk_matches`](crate::walk_matches) failed.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// One of the patterns does not compile.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// A directory or file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The path that could not be read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}
