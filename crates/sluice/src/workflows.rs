//! Finding a repository's workflow files and the files they call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sluice_exec::remote::{RemoteError, RemoteRef, RemoteStore};
use sluice_workflow::{ParseOptions, Parsed, SourceFile, WorkflowLoader, parse_workflow};

/// The folders workflows are read from, relative to the repository root.
pub const WORKFLOW_DIRS: [&str; 2] = [".github/workflows", ".sluice/workflows"];

/// Every workflow file of the repository, sorted, with paths relative to `root`.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for dir in WORKFLOW_DIRS {
        let path = root.join(dir);
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", path.display()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
            if is_yaml && entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                found.push(Path::new(dir).join(name.as_ref()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The name a file is shown under: relative to the repository root when
/// inside it, else as given.
pub fn display_name(root: &Path, path: &Path) -> String {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let canonical = absolute.canonicalize().unwrap_or(absolute);
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    canonical
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string_lossy().into_owned())
}

/// Reads and parses one workflow file; the workflows it calls are read
/// through `remote` when they are remote (checked only if it is `None`
/// and no vendored copy exists).
pub fn load(
    root: &Path,
    path: &Path,
    options: &ParseOptions,
    remote: Option<&RemoteStore>,
) -> Result<Parsed> {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    };
    refuse_links_out_of(root, &full)?;
    let bytes = std::fs::read(&full).with_context(|| format!("cannot read {}", full.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (invalid byte at offset {})",
            full.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let name = display_name(root, &full);
    let loader = FsLoader::new(root, remote);
    Ok(parse_workflow(
        SourceFile::new(name, text),
        options,
        &loader,
    ))
}

/// A file inside the repository that is a link to a file outside it is
/// not read: its lines would be quoted in diagnostics (a link to a system
/// file would show that file). A path outside the repository given as such
/// is the user's own choice and is read.
fn refuse_links_out_of(root: &Path, file: &Path) -> Result<()> {
    let absolute = if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir()?.join(file)
    };
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let Ok(target) = absolute.canonicalize() else {
        return Ok(());
    };
    // Inside as written, or once the directories on the way are resolved.
    let named_inside = absolute.starts_with(root)
        || absolute
            .parent()
            .and_then(|parent| parent.canonicalize().ok())
            .is_some_and(|parent| parent.starts_with(&canonical_root));
    if named_inside && !target.starts_with(&canonical_root) {
        bail!(
            "{} is a symbolic link to {}, outside the repository; workflows are read only from inside it",
            absolute.display(),
            target.display()
        );
    }
    Ok(())
}

/// Resolves a WORKFLOW argument: a path to a file, or the `name:` of one of
/// the repository's workflows (or its file name without extension). The
/// file is read and parsed once.
pub fn resolve(
    root: &Path,
    wanted: &str,
    options: &ParseOptions,
    remote: Option<&RemoteStore>,
) -> Result<(PathBuf, Parsed)> {
    for candidate in [PathBuf::from(wanted), root.join(wanted)] {
        if candidate.is_file() {
            let parsed = load(root, &candidate, options, remote)?;
            return Ok((candidate, parsed));
        }
    }
    let mut names = Vec::new();
    for path in discover(root)? {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed = load(root, &path, options, remote)?;
        let name = parsed
            .workflow
            .as_ref()
            .map(|w| w.name.clone())
            .unwrap_or_default();
        if name == wanted || stem == wanted {
            return Ok((root.join(path), parsed));
        }
        names.push(format!("{name} ({})", path.display()));
    }
    if names.is_empty() {
        bail!(
            "no workflow named or at '{wanted}': this repository has no workflows in .github/workflows or .sluice/workflows"
        );
    }
    bail!(
        "no workflow named or at '{wanted}'; the workflows are:\n  {}",
        names.join("\n  ")
    )
}

/// Finds files that jobs call with `uses:`. Local references are read
/// from the repository (or, in a workflow that was itself fetched, from
/// that workflow's repository at the same commit); remote ones from a
/// vendored copy under `.sluice/actions/OWNER/REPO@REF/`, else through
/// the remote store (fetched, or from the cache).
pub struct FsLoader<'a> {
    pub root: PathBuf,
    pub remote: Option<&'a RemoteStore>,
    /// Where fetched repositories are put to be read.
    scratch: std::sync::OnceLock<Option<tempfile::TempDir>>,
}

impl<'a> FsLoader<'a> {
    pub fn new(root: &Path, remote: Option<&'a RemoteStore>) -> Self {
        FsLoader {
            root: root.to_path_buf(),
            remote,
            scratch: std::sync::OnceLock::new(),
        }
    }

    fn fetched_file(&self, reference: &RemoteRef) -> Result<Option<String>, String> {
        let Some(remote) = self.remote else {
            return Ok(None);
        };
        let scratch = self.scratch.get_or_init(|| {
            tempfile::Builder::new()
                .prefix("sluice-calls-")
                .tempdir()
                .ok()
        });
        let Some(scratch) = scratch else {
            return Err("cannot make a directory to read fetched workflows in".into());
        };
        let fetched = match remote.get(reference) {
            Ok(fetched) => fetched,
            // Not fetched here, and not cached: the call goes unchecked.
            Err(RemoteError::NotCached { .. }) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let dir = remote
            .place(&fetched, scratch.path())
            .map_err(|e| e.to_string())?;
        let path = dir.join(&reference.path);
        std::fs::read_to_string(&path)
            .map(Some)
            .map_err(|e| format!("{reference}: {e}"))
    }
}

impl WorkflowLoader for FsLoader<'_> {
    fn load(
        &self,
        reference: &str,
        caller: &SourceFile,
    ) -> Result<Option<Arc<SourceFile>>, String> {
        if let Some(local) = reference.strip_prefix("./") {
            // A `./` call inside a fetched workflow names a file of its
            // repository, at the same commit.
            if let Ok(outer) = RemoteRef::parse(&caller.name) {
                let inner = RemoteRef {
                    path: local.to_string(),
                    ..outer
                };
                return Ok(self
                    .fetched_file(&inner)?
                    .map(|text| SourceFile::new(inner.to_string(), text)));
            }
            let path = self.root.join(local);
            if let Err(e) = refuse_links_out_of(&self.root, &path) {
                return Err(e.to_string());
            }
            return match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(SourceFile::new(reference, text))),
                Err(e) => Err(format!("{}: {e}", path.display())),
            };
        }
        let Some((path, git_ref)) = reference.split_once('@') else {
            return Ok(None);
        };
        let mut parts = path.splitn(3, '/');
        let (Some(owner), Some(repo), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let vendored = self
            .root
            .join(".sluice/actions")
            .join(owner)
            .join(format!("{repo}@{git_ref}"))
            .join(file);
        if vendored.is_file() {
            return match std::fs::read_to_string(&vendored) {
                Ok(text) => Ok(Some(SourceFile::new(reference, text))),
                Err(e) => Err(format!("{}: {e}", vendored.display())),
            };
        }
        let remote = RemoteRef::parse(reference).map_err(|e| e.to_string())?;
        Ok(self
            .fetched_file(&remote)?
            .map(|text| SourceFile::new(reference, text)))
    }
}
