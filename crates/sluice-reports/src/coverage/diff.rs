//! Diff coverage: the lines a change added or modified (read from a
//! unified diff with no context, `git diff -U0`) that tests executed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::model::{CoverageReport, MAX_LINE};

/// Lines added or modified, per file (the new file's line numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedLines {
    pub files: BTreeMap<String, BTreeSet<u32>>,
}

/// The changed lines of a unified diff (`--- a/x`, `+++ b/x`, `@@ -a,b
/// +c,d @@`); deleted files have none. `prefix` is what precedes new
/// paths (`b/`, or nothing with `--no-prefix`).
pub fn changed_lines(diff: &str, prefix: &str) -> ChangedLines {
    let mut changed = ChangedLines::default();
    let mut file: Option<String> = None;
    // A `+++ ` line is a header only right after a `--- ` line: inside a
    // hunk it is an added line that starts with `++`.
    let mut after_old_header = false;
    for line in diff.lines() {
        let header = after_old_header;
        after_old_header = line.starts_with("--- ");
        if let Some(path) = line.strip_prefix("+++ ").filter(|_| header) {
            let path = unquote(path.trim_end());
            file = (path != "/dev/null")
                .then(|| path.strip_prefix(prefix).unwrap_or(&path).to_string());
            continue;
        }
        let (Some(path), Some(hunk)) = (&file, line.strip_prefix("@@ ")) else {
            continue;
        };
        if let Some((start, count)) = new_range(hunk) {
            let lines = changed.files.entry(path.clone()).or_default();
            let end = start.saturating_add(count).min(MAX_LINE);
            lines.extend(start..end);
        }
    }
    changed.files.retain(|_, lines| !lines.is_empty());
    changed
}

/// `-a,b +c,d @@ …` → (c, d); `+c` alone means one line.
fn new_range(hunk: &str) -> Option<(u32, u32)> {
    let new = hunk.split_whitespace().find(|p| p.starts_with('+'))?;
    let new = &new[1..];
    let (start, count) = match new.split_once(',') {
        Some((s, c)) => (s.parse().ok()?, c.parse().ok()?),
        None => (new.parse().ok()?, 1),
    };
    Some((start, count))
}

/// Git quotes paths with unusual bytes: `"b/a\"b"`. Simple escapes are
/// undone; octal ones are left as written.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How well a change's executable lines are covered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffCoverage {
    /// Changed executable lines that ran.
    pub covered: u64,
    /// Changed executable lines (changed lines the report measures).
    pub total: u64,
    /// Per changed file that the report measures, least covered first.
    pub files: Vec<DiffFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffFile {
    pub path: String,
    pub covered: u64,
    pub total: u64,
    /// The changed lines that never ran.
    pub uncovered: Vec<u32>,
}

impl DiffFile {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.covered as f64 / self.total as f64
        }
    }
}

impl DiffCoverage {
    /// Changed lines the report does not know (not executable, or in
    /// files it does not measure) do not count.
    pub fn of(report: &CoverageReport, changed: &ChangedLines) -> DiffCoverage {
        let mut diff = DiffCoverage::default();
        for (path, lines) in &changed.files {
            let Some(file) = report.files.get(path) else {
                continue;
            };
            let mut entry = DiffFile {
                path: path.clone(),
                covered: 0,
                total: 0,
                uncovered: Vec::new(),
            };
            for line in lines {
                match file.line_covered(*line) {
                    Some(true) => entry.covered += 1,
                    Some(false) => entry.uncovered.push(*line),
                    None => continue,
                }
                entry.total += 1;
            }
            if entry.total > 0 {
                diff.covered += entry.covered;
                diff.total += entry.total;
                diff.files.push(entry);
            }
        }
        diff.files.sort_by(|a, b| {
            a.rate()
                .total_cmp(&b.rate())
                .then(b.total.cmp(&a.total))
                .then(a.path.cmp(&b.path))
        });
        diff
    }

    /// Covered over total, 0 to 1 (`None` when the change has no
    /// executable line: nothing to judge).
    pub fn rate(&self) -> Option<f64> {
        (self.total > 0).then(|| self.covered as f64 / self.total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/app.py b/app.py\nindex 1..2 100644\n--- a/app.py\n+++ b/app.py\n@@ -3,0 +4,3 @@ def f():\n+    a = 1\n+    b = 2\n+    return a\n@@ -10 +13 @@\n-x\n+y\ndiff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n";

    #[test]
    fn an_added_line_starting_with_plus_plus_is_not_a_header() {
        let diff = "--- a.c\n+++ a.c\n@@ -1,0 +2,2 @@\n+++ i;\n+x\n@@ -9 +11 @@\n-y\n+z\n";
        let changed = changed_lines(diff, "");
        assert_eq!(changed.files.len(), 1);
        assert_eq!(
            changed.files["a.c"].iter().copied().collect::<Vec<_>>(),
            vec![2, 3, 11]
        );
    }

    #[test]
    fn added_and_modified_lines_are_read() {
        let changed = changed_lines(DIFF, "b/");
        assert_eq!(changed.files.len(), 1);
        assert_eq!(
            changed.files["app.py"].iter().copied().collect::<Vec<_>>(),
            vec![4, 5, 6, 13]
        );
    }

    #[test]
    fn only_executable_changed_lines_count() {
        let mut report = CoverageReport::default();
        let file = report.file_mut("app.py");
        file.add_line(4, 1);
        file.add_line(5, 0);
        file.add_line(13, 2);
        let diff = DiffCoverage::of(&report, &changed_lines(DIFF, "b/"));
        assert_eq!((diff.covered, diff.total), (2, 3));
        assert_eq!(diff.files[0].uncovered, vec![5]);
    }
}
