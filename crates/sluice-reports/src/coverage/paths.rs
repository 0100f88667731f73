//! A report's paths made the repository's: absolute paths under the
//! repository lose its root, paths relative to a report's source
//! directories are joined to them, and paths no tool wrote relative to
//! the repository (Go import paths, JaCoCo package paths) are found by
//! suffix among the repository's files.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::model::{CoverageReport, FileCoverage};

/// Where a report's paths are made relative to.
#[derive(Debug, Default)]
pub struct PathContext {
    /// The repository's root as absolute paths (as written and with its
    /// links resolved: tools write either).
    pub roots: Vec<String>,
    /// The repository's files (relative, `/`-separated), when known.
    pub files: Option<HashSet<String>>,
}

impl PathContext {
    /// The report with every path the repository's.
    pub fn normalise(&self, report: CoverageReport, sources: &[String]) -> CoverageReport {
        let by_name = self.files_by_name();
        let mut files: BTreeMap<String, FileCoverage> = BTreeMap::new();
        for (written, coverage) in report.files {
            let path = self.path_of(&written, sources, &by_name);
            match files.get_mut(&path) {
                Some(existing) => existing.merge(&coverage),
                None => {
                    files.insert(path, coverage);
                }
            }
        }
        CoverageReport { files }
    }

    fn files_by_name(&self) -> HashMap<&str, Vec<&str>> {
        let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for file in self.files.iter().flatten() {
            let name = file.rsplit('/').next().unwrap_or(file);
            by_name.entry(name).or_default().push(file);
        }
        by_name
    }

    fn path_of(
        &self,
        written: &str,
        sources: &[String],
        by_name: &HashMap<&str, Vec<&str>>,
    ) -> String {
        let written = written.replace('\\', "/");
        let mut candidates: Vec<String> = Vec::new();
        if written.starts_with('/') {
            candidates.push(written.clone());
        } else {
            for source in sources {
                candidates.push(format!("{}/{}", source.trim_end_matches('/'), written));
            }
            candidates.push(written.clone());
        }
        let relative: Vec<String> = candidates.iter().map(|c| self.relative(c)).collect();
        if let Some(files) = &self.files {
            if let Some(found) = relative.iter().find(|r| files.contains(r.as_str())) {
                return found.clone();
            }
            if let Some(found) = by_suffix(&clean(&written), by_name) {
                return found;
            }
        }
        // Without the repository's files: the first candidate under the
        // root, else what was written.
        relative
            .into_iter()
            .find(|r| !r.starts_with('/'))
            .unwrap_or_else(|| clean(&written))
    }

    /// `path` relative to a root when under one (else unchanged).
    fn relative(&self, path: &str) -> String {
        let path = clean(path);
        for root in &self.roots {
            let root = clean(root);
            if let Some(rest) = path.strip_prefix(root.as_str())
                && rest.starts_with('/')
            {
                return rest.trim_start_matches('/').to_string();
            }
        }
        path
    }
}

/// `./a//b/../c` → `a/c` (lexically; `..` above the start is kept).
fn clean(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The one repository file that `written` names by suffix (either way
/// round: an import path is longer, a package path shorter), preferring
/// the longest shared suffix; none when two tie.
fn by_suffix(written: &str, by_name: &HashMap<&str, Vec<&str>>) -> Option<String> {
    let name = written.rsplit('/').next()?;
    let candidates = by_name.get(name)?;
    let mut best: Option<(usize, &str)> = None;
    let mut tied = false;
    for candidate in candidates {
        let shared = shared_suffix_parts(written, candidate);
        let whole = shared == parts(written) || shared == parts(candidate);
        if !whole {
            continue;
        }
        match best {
            Some((length, _)) if shared < length => {}
            Some((length, _)) if shared == length => tied = true,
            _ => {
                best = Some((shared, candidate));
                tied = false;
            }
        }
    }
    if tied {
        None
    } else {
        best.map(|(_, c)| c.to_string())
    }
}

fn parts(path: &str) -> usize {
    path.split('/').filter(|p| !p.is_empty()).count()
}

fn shared_suffix_parts(a: &str, b: &str) -> usize {
    a.rsplit('/')
        .zip(b.rsplit('/'))
        .take_while(|(x, y)| x == y && !x.is_empty())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(paths: &[&str]) -> CoverageReport {
        let mut report = CoverageReport::default();
        for path in paths {
            report.file_mut(path).add_line(1, 1);
        }
        report
    }

    fn paths(report: &CoverageReport) -> Vec<&str> {
        report.files.keys().map(String::as_str).collect()
    }

    #[test]
    fn absolute_and_source_relative_paths_lose_the_root() {
        let context = PathContext {
            roots: vec!["/work/repo".into()],
            files: None,
        };
        let normalised = context.normalise(
            report(&["/work/repo/src/a.py", "b.py"]),
            &["/work/repo/src".into()],
        );
        assert_eq!(paths(&normalised), vec!["src/a.py", "src/b.py"]);
    }

    #[test]
    fn import_and_package_paths_are_found_by_suffix() {
        let files: HashSet<String> = [
            "pkg/a.go",
            "src/main/java/org/demo/A.java",
            "x/util.go",
            "y/util.go",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let context = PathContext {
            roots: vec!["/r".into()],
            files: Some(files),
        };
        let normalised = context.normalise(
            report(&[
                "example.com/m/pkg/a.go",
                "org/demo/A.java",
                "example.com/m/z/util.go",
            ]),
            &[],
        );
        assert_eq!(
            paths(&normalised),
            vec![
                "example.com/m/z/util.go",
                "pkg/a.go",
                "src/main/java/org/demo/A.java"
            ]
        );
    }
}
