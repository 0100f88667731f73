//! Finding the files under a root that a list of path globs includes.
//!
//! This is the one place in the crate that touches the file system.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::WalkError;
use crate::path_glob::EntryKind;
use crate::path_glob_set::{PathGlobSet, SetProgress};

/// Options for [`walk_matches_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    /// Descend into symbolic links to directories (as `@actions/glob` does by
    /// default). Loops are detected either way: a directory whose real path
    /// is one of its own ancestors' is not entered again.
    pub follow_symlinks: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            follow_symlinks: true,
        }
    }
}

/// The files under `root` that `patterns` include, sorted.
///
/// See [`walk_matches_with`]; this uses the default [`WalkOptions`].
pub fn walk_matches(root: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, WalkError> {
    walk_matches_with(root, patterns, &WalkOptions::default())
}

/// The files under `root` that `patterns` (path globs relative to `root`,
/// see [`PathGlobSet`]) include.
///
/// - Only files are returned, never directories; a symbolic link to a file
///   counts as a file, a broken one is skipped.
/// - Paths are `root` joined with the relative path, sorted component by
///   component, so the order does not depend on the file system.
/// - Anything named `.git` is skipped.
/// - Directories that no pattern could include anything from are not read
///   at all, so `src/**` never walks `node_modules/`.
/// - A pattern that is absolute but lies inside `root` (say
///   `/work/repo/src/**` for root `/work/repo`) is made relative to it.
pub fn walk_matches_with(
    root: &Path,
    patterns: &[String],
    options: &WalkOptions,
) -> Result<Vec<PathBuf>, WalkError> {
    walk(root, patterns, options, &mut |_| {})
}

/// The walk itself; `on_read_dir` sees every directory that gets read, which
/// is how the tests check that pruning happens.
fn walk(
    root: &Path,
    patterns: &[String],
    options: &WalkOptions,
    on_read_dir: &mut dyn FnMut(&Path),
) -> Result<Vec<PathBuf>, WalkError> {
    let relative: Vec<String> = patterns
        .iter()
        .map(|pattern| relative_to_root(root, pattern))
        .collect();
    let set = PathGlobSet::new(&relative)?;
    let mut found = Vec::new();
    let start = set.start();
    if set.includes_nothing() || !set.may_include_below(&start) {
        return Ok(found);
    }
    let real_root = fs::canonicalize(root).map_err(|source| io_error(root, source))?;

    // Depth-first with an explicit stack (no recursion, so a deep tree cannot
    // overflow the thread's stack). `ancestors` holds the real paths of the
    // directories on the way down to the one being read, for loop detection.
    let mut stack = vec![Frame {
        path: root.to_path_buf(),
        real_path: real_root,
        depth: 0,
        progress: start,
    }];
    let mut ancestors: Vec<PathBuf> = Vec::new();
    while let Some(frame) = stack.pop() {
        ancestors.truncate(frame.depth);
        ancestors.push(frame.real_path.clone());
        on_read_dir(&frame.path);
        let entries = match fs::read_dir(&frame.path) {
            Ok(entries) => entries,
            // Removed while we were walking: nothing to report.
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(io_error(&frame.path, source)),
        };
        for entry in entries {
            let entry = entry.map_err(|source| io_error(&frame.path, source))?;
            let name = entry.file_name();
            if name == ".git" {
                continue;
            }
            // Patterns are text; a name that is not UTF-8 is matched in its
            // lossy form, which wildcards still match.
            let name_text = name.to_string_lossy();
            let progress = set.advance(&frame.progress, &name_text);
            let path = entry.path();
            let Some(kind) = entry_kind(&entry, &path, options)? else {
                continue;
            };
            match kind {
                Found::File => {
                    if set.is_included(&progress, EntryKind::File) {
                        found.push(path);
                    }
                }
                Found::Directory { symlink } => {
                    if !set.may_include_below(&progress) {
                        continue;
                    }
                    let real_path = if symlink {
                        match fs::canonicalize(&path) {
                            Ok(real) => real,
                            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                            Err(source) => return Err(io_error(&path, source)),
                        }
                    } else {
                        frame.real_path.join(&name)
                    };
                    if ancestors.contains(&real_path) {
                        continue;
                    }
                    stack.push(Frame {
                        path,
                        real_path,
                        depth: frame.depth + 1,
                        progress,
                    });
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

struct Frame {
    path: PathBuf,
    real_path: PathBuf,
    depth: usize,
    progress: SetProgress,
}

enum Found {
    File,
    Directory { symlink: bool },
}

/// What an entry is, following a symbolic link when allowed; `None` for a
/// broken link, a link to a directory we may not follow, or an entry that
/// vanished.
fn entry_kind(
    entry: &fs::DirEntry,
    path: &Path,
    options: &WalkOptions,
) -> Result<Option<Found>, WalkError> {
    let file_type = match entry.file_type() {
        Ok(file_type) => file_type,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io_error(path, source)),
    };
    if file_type.is_dir() {
        return Ok(Some(Found::Directory { symlink: false }));
    }
    if !file_type.is_symlink() {
        return Ok(Some(Found::File));
    }
    match fs::metadata(path) {
        Ok(target) if target.is_dir() => Ok(options
            .follow_symlinks
            .then_some(Found::Directory { symlink: true })),
        Ok(_) => Ok(Some(Found::File)),
        // Broken (or looping) link: skipped, as `@actions/glob` does by default.
        Err(_) => Ok(None),
    }
}

/// Rewrites an absolute pattern that lies inside `root` to be relative to it,
/// keeping any leading `!`; leaves every other pattern alone.
fn relative_to_root(root: &Path, pattern: &str) -> String {
    let Some(root_text) = root.to_str() else {
        return pattern.to_owned();
    };
    let root_text = root_text.trim_end_matches('/');
    let trimmed = pattern.trim_start();
    let bangs = trimmed.len() - trimmed.trim_start_matches('!').len();
    let (negation, body) = trimmed.split_at(bangs);
    if root_text.is_empty() || !body.starts_with('/') {
        return pattern.to_owned();
    }
    match body.strip_prefix(root_text) {
        Some("") => format!("{negation}."),
        Some(rest) if rest.starts_with('/') => format!("{negation}.{rest}"),
        _ => pattern.to_owned(),
    }
}

fn io_error(path: &Path, source: io::Error) -> WalkError {
    WalkError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::{WalkOptions, relative_to_root, walk};
    use std::fs;
    use std::path::{Path, PathBuf};

    /// The directories (relative to `root`) that a walk reads.
    fn directories_read(root: &Path, patterns: &[&str]) -> Vec<String> {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        let mut read = Vec::new();
        walk(
            root,
            &patterns,
            &WalkOptions::default(),
            &mut |dir: &Path| {
                let relative = dir.strip_prefix(root).unwrap_or(dir);
                read.push(relative.to_string_lossy().into_owned());
            },
        )
        .unwrap();
        read.sort();
        read
    }

    fn scratch_tree(name: &str) -> PathBuf {
        // Removed by the test itself when it passes.
        let root = tempfile::Builder::new()
            .prefix(&format!("sluice-glob-walk-{name}-"))
            .tempdir()
            .unwrap()
            .keep();
        for dir in ["src/inner", "node_modules/pkg/lib", "target/debug", "docs"] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "src/main.rs",
            "src/inner/lib.rs",
            "node_modules/pkg/lib/index.js",
            "target/debug/out.rs",
            "docs/guide.md",
        ] {
            fs::write(root.join(file), file).unwrap();
        }
        root
    }

    #[test]
    fn directories_that_cannot_match_are_not_read() {
        let root = scratch_tree("prune");
        assert_eq!(
            directories_read(&root, &["src/**"]),
            ["", "src", "src/inner"]
        );
        assert_eq!(directories_read(&root, &["docs/*.md"]), ["", "docs"]);
        // An exclusion that covers a whole directory prunes it too.
        assert_eq!(
            directories_read(&root, &["**/*.rs", "!target", "!node_modules/**"]),
            ["", "docs", "src", "src/inner"]
        );
        // ... unless a later pattern may include something from it again.
        assert!(
            directories_read(&root, &["**", "!target", "target/debug/out.rs"])
                .contains(&"target/debug".to_owned())
        );
        assert_eq!(directories_read(&root, &["nothing/here/*"]), [""]);
        // Nothing positive: not even the root is read.
        assert!(directories_read(&root, &["!src"]).is_empty());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn absolute_patterns_inside_the_root_become_relative() {
        let root = Path::new("/work/repo");
        let cases = [
            ("/work/repo/src/**", "./src/**"),
            ("!/work/repo/target", "!./target"),
            ("/work/repo", "."),
            ("/work/repo/", "./"),
            ("/work/repository/x", "/work/repository/x"),
            ("/elsewhere/x", "/elsewhere/x"),
            ("src/**", "src/**"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(relative_to_root(root, pattern), expected, "{pattern}");
        }
    }
}
