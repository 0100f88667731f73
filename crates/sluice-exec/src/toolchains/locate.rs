//! Finding toolchains already on the host: on `PATH`, and in the
//! directories version managers install into (one directory per version,
//! named after it).

use std::path::{Path, PathBuf};

use super::{Installed, Version, VersionSpec};
use crate::shell::find_program;

/// A directory holding one installation per version, and where the
/// programs are inside each.
pub(crate) struct Place {
    pub dir: PathBuf,
    /// The programs' directory inside a version's directory (`bin`,
    /// `installation/bin`, `x64/bin`...).
    pub bin: &'static str,
    /// What it is, for messages (`nvm`, `pyenv`...).
    pub label: &'static str,
}

impl Place {
    pub fn new(dir: impl Into<PathBuf>, bin: &'static str, label: &'static str) -> Place {
        Place {
            dir: dir.into(),
            bin,
            label,
        }
    }
}

/// A version read from a directory name: the first run of digits and dots
/// (`v20.11.1`, `go1.22.3`, `java-17-openjdk-amd64`, `17.0.2-tem`).
pub(crate) fn version_in_name(name: &str) -> Option<Version> {
    let start = name.find(|c: char| c.is_ascii_digit())?;
    let digits: String = name[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let trimmed = digits.trim_end_matches('.');
    let parts: Vec<&str> = trimmed.split('.').take(3).collect();
    Version::parse(&parts.join("."))
}

/// Every installation of `program` in `places`.
pub(crate) fn installs(places: &[Place], program: &str) -> Vec<Installed> {
    let mut found = Vec::new();
    for place in places {
        for entry in std::fs::read_dir(&place.dir)
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = version_in_name(&name) else {
                continue;
            };
            let bin = entry.path().join(place.bin);
            if bin.join(program).is_file() {
                found.push(Installed {
                    version,
                    program: bin.join(program),
                    bin,
                    source: format!("{} ({})", place.label, entry.path().display()),
                });
            }
        }
    }
    found
}

/// `program` on `path_var`, with the version it reports (`args`, read by
/// `parse`).
pub(crate) fn on_path(
    program: &str,
    path_var: &str,
    args: &[&str],
    parse: &dyn Fn(&str) -> Option<String>,
) -> Option<Installed> {
    let found = find_program(program, path_var)?;
    let output = std::process::Command::new(&found)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let version = parse(&text).and_then(|v| version_in_name(&v))?;
    Some(Installed {
        version,
        bin: found.parent().unwrap_or(Path::new("/")).to_path_buf(),
        program: found.clone(),
        source: format!("PATH ({})", found.display()),
    })
}

/// The best of `candidates` for `spec`: the newest that matches (for
/// `latest`, the newest of all).
pub(crate) fn best(spec: &VersionSpec, candidates: Vec<Installed>) -> Option<Installed> {
    candidates
        .into_iter()
        .filter(|c| match spec {
            // LTS lines are not known from a directory name.
            VersionSpec::Lts(_) => false,
            _ => spec.matches(c.version),
        })
        .max_by_key(|c| c.version)
}

/// Describes the places, for "looked in ...".
pub(crate) fn describe(places: &[Place]) -> String {
    let mut names: Vec<String> = vec!["PATH".into()];
    names.extend(
        places
            .iter()
            .map(|p| format!("{} ({})", p.label, p.dir.display())),
    );
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_directory_names() {
        for (name, version) in [
            ("v20.11.1", "20.11.1"),
            ("go1.22.3", "1.22.3"),
            ("java-17-openjdk-amd64", "17.0.0"),
            ("17.0.2-tem", "17.0.2"),
            ("3.11.7", "3.11.7"),
        ] {
            assert_eq!(
                version_in_name(name).map(|v| v.to_string()).as_deref(),
                Some(version)
            );
        }
        assert_eq!(version_in_name("default"), None);
    }

    #[test]
    fn installs_are_found_by_their_program() {
        let home = tempfile::tempdir().unwrap();
        let nvm = home.path().join(".nvm/versions/node");
        for version in ["v16.20.2", "v18.19.0"] {
            let bin = nvm.join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("node"), "").unwrap();
        }
        std::fs::create_dir_all(nvm.join("v20.0.0/bin")).unwrap(); // no node inside
        let places = [Place::new(&nvm, "bin", "nvm")];
        let found = installs(&places, "node");
        assert_eq!(found.len(), 2);
        let pick = best(&VersionSpec::parse("16").unwrap(), found).unwrap();
        assert_eq!(pick.version.to_string(), "16.20.2");
        assert!(pick.source.starts_with("nvm ("));
    }
}
