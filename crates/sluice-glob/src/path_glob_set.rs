//! An ordered list of path globs with `@actions/glob`'s list semantics:
//! `!` patterns exclude, the last matching pattern decides, and a pattern
//! that matches a directory also matches everything below it.

use crate::error::PatternError;
use crate::path_glob::{EntryKind, PathGlob, Progress, path_segments};

/// Options for building a [`PathGlobSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathGlobOptions {
    /// When a pattern matches a directory, also match everything below it
    /// (`@actions/glob`'s `implicitDescendants`, on by default there and
    /// here: `hashFiles('vendor')` hashes every file under `vendor/`).
    pub implicit_descendants: bool,
}

impl Default for PathGlobOptions {
    fn default() -> Self {
        PathGlobOptions {
            implicit_descendants: true,
        }
    }
}

/// A compiled list of path globs.
#[derive(Debug, Clone, Default)]
pub struct PathGlobSet {
    globs: Vec<PathGlob>,
}

/// Matching progress of every glob of a set, carried from a directory down
/// to its entries while walking.
pub(crate) type SetProgress = Vec<Progress>;

impl PathGlobSet {
    /// Compiles `patterns` with the default options. Blank patterns and
    /// patterns starting with `#` (comments) are skipped, as `@actions/glob`
    /// does with the lines of its input.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        Self::with_options(patterns, PathGlobOptions::default())
    }

    /// Compiles `patterns` with explicit options.
    pub fn with_options<S: AsRef<str>>(
        patterns: &[S],
        options: PathGlobOptions,
    ) -> Result<Self, PatternError> {
        let mut globs = Vec::new();
        for pattern in patterns {
            let trimmed = pattern.as_ref().trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let glob = PathGlob::new(pattern.as_ref())?;
            let descendants = if options.implicit_descendants {
                glob.with_descendants()
            } else {
                None
            };
            globs.push(glob);
            globs.extend(descendants);
        }
        Ok(PathGlobSet { globs })
    }

    /// Whether no pattern could ever include anything.
    pub fn includes_nothing(&self) -> bool {
        self.globs.iter().all(PathGlob::is_negated)
    }

    /// Whether `path` (relative to the root, `/`-separated) is included: the
    /// last glob that matches it is not negated.
    pub fn matches(&self, path: &str, kind: EntryKind) -> bool {
        let mut progress = self.start();
        for name in path_segments(path) {
            progress = self.advance(&progress, name);
        }
        self.is_included(&progress, kind)
    }

    pub(crate) fn start(&self) -> SetProgress {
        self.globs.iter().map(PathGlob::start).collect()
    }

    pub(crate) fn advance(&self, progress: &SetProgress, name: &str) -> SetProgress {
        self.globs
            .iter()
            .zip(progress)
            .map(|(glob, progress)| glob.advance(progress, name))
            .collect()
    }

    pub(crate) fn is_included(&self, progress: &SetProgress, kind: EntryKind) -> bool {
        self.globs
            .iter()
            .zip(progress)
            .rev()
            .find(|(glob, progress)| {
                glob.is_complete(progress)
                    && (kind == EntryKind::Directory || !glob.is_directory_only())
            })
            .is_some_and(|(glob, _)| !glob.is_negated())
    }

    /// Whether a directory with this progress may contain an included file,
    /// so that the walker can skip (prune) the ones that cannot.
    ///
    /// Reading the globs from last to first, as the last match decides: a
    /// positive glob that can still match below means "maybe"; a negative
    /// glob that matches everything below (`!node_modules` with implicit
    /// descendants) before any such positive one means "no".
    pub(crate) fn may_include_below(&self, progress: &SetProgress) -> bool {
        for (glob, progress) in self.globs.iter().zip(progress).rev() {
            // A directory-only glob never decides about a file.
            if glob.is_directory_only() {
                continue;
            }
            if glob.is_negated() {
                if glob.accepts_any_continuation(progress) {
                    return false;
                }
            } else if glob.can_continue(progress) {
                return true;
            }
        }
        false
    }
}
