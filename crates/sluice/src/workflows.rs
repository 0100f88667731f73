//! Finding a repository's workflow files and the files they call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
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

/// Reads and parses one workflow file.
pub fn load(root: &Path, path: &Path, options: &ParseOptions) -> Result<Parsed> {
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
    let loader = FsLoader {
        root: root.to_path_buf(),
    };
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
pub fn resolve(root: &Path, wanted: &str, options: &ParseOptions) -> Result<(PathBuf, Parsed)> {
    for candidate in [PathBuf::from(wanted), root.join(wanted)] {
        if candidate.is_file() {
            let parsed = load(root, &candidate, options)?;
            return Ok((candidate, parsed));
        }
    }
    let mut names = Vec::new();
    for path in discover(root)? {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed = load(root, &path, options)?;
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

/// Finds files that jobs call with `uses:`. Local references are read from
/// the repository; remote ones from a vendored copy under
/// `.sluice/actions/OWNER/REPO@REF/`, when there is one.
pub struct FsLoader {
    pub root: PathBuf,
}

impl WorkflowLoader for FsLoader {
    fn load(&self, reference: &str) -> Result<Option<Arc<SourceFile>>, String> {
        let path = if let Some(local) = reference.strip_prefix("./") {
            self.root.join(local)
        } else {
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
            if !vendored.is_file() {
                return Ok(None);
            }
            vendored
        };
        if let Err(e) = refuse_links_out_of(&self.root, &path) {
            return Err(e.to_string());
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(SourceFile::new(reference, text))),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}
