//! Data directories made once and copied after: a service whose setup
//! is costly and deterministic (PostgreSQL's `initdb`) keeps what that
//! setup produced under the cache directory, keyed by everything that
//! shapes it, and the next job copies it instead of running the setup.
//! Copies are never shared between jobs. Nothing secret goes in: the
//! steps a template replaces are given no password (it is set after the
//! copy). A template is used only when it is complete (written under a
//! temporary name, its marker last, then renamed into place) and of the
//! version its key names.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Written last into a complete template, holding its version.
const MARKER: &str = "TEMPLATE";

#[derive(Debug, Clone)]
pub(crate) struct DataTemplate {
    /// The template's directory (its key in the name).
    pub dir: PathBuf,
    /// The data directory's name inside a service's directory (and the
    /// template's).
    pub data: String,
    /// How many of the launch's first setup programs the template replaces.
    pub steps: usize,
    /// What the marker must say (the server's version).
    pub version: String,
}

impl DataTemplate {
    /// Copies the template into `service_dir`; false when there is no
    /// complete template of the right version (the setup runs then).
    pub fn restore(&self, service_dir: &Path) -> bool {
        let marker = std::fs::read_to_string(self.dir.join(MARKER)).unwrap_or_default();
        if marker.trim() != self.version || !self.dir.join(&self.data).is_dir() {
            return false;
        }
        let target = service_dir.join(&self.data);
        let copied = copy_tree(&self.dir.join(&self.data), &target).is_ok();
        if !copied {
            // A part of a copy would stop the setup that runs instead.
            let _ = std::fs::remove_dir_all(&target);
        }
        copied
    }

    /// Keeps `service_dir`'s freshly set-up data as the template, unless
    /// another job already did. Failures only cost the next job the setup.
    pub fn save(&self, service_dir: &Path) {
        if self.dir.join(MARKER).is_file() {
            return;
        }
        let Some(parent) = self.dir.parent() else {
            return;
        };
        let made = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent);
        if made.is_err() {
            return;
        }
        remove_abandoned(parent);
        let staging = parent.join(format!(".staging-{}", crate::ids::random_hex(8)));
        let written = std::fs::create_dir(&staging).is_ok()
            && copy_tree(&service_dir.join(&self.data), &staging.join(&self.data)).is_ok()
            && std::fs::write(staging.join(MARKER), &self.version).is_ok();
        if !written || std::fs::rename(&staging, &self.dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
    }
}

impl DataTemplate {
    /// Throws the template away (a job that started from it failed its
    /// setup): renamed aside first, so that no job copies half of it.
    pub fn discard(&self) {
        let Some(parent) = self.dir.parent() else {
            return;
        };
        let aside = parent.join(format!(".discarded-{}", crate::ids::random_hex(8)));
        if std::fs::rename(&self.dir, &aside).is_ok() {
            let _ = std::fs::remove_dir_all(&aside);
        }
    }
}

/// Staging and discarded directories an interrupted Sluice left behind,
/// once they are an hour old (a live one is written in seconds).
fn remove_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let hour = std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let leftover = name.starts_with(".staging-") || name.starts_with(".discarded-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > hour));
        if leftover && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// `cp -a` (reflinks where the file system has them): owners, modes and
/// links as they are, which PostgreSQL insists on for its data directory.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let status = Command::new("cp")
        .arg("-a")
        .arg("--reflink=auto")
        .arg("--")
        .arg(from)
        .arg(to)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("cp -a exited with {status}")))
    }
}
