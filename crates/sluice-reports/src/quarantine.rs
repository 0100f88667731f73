//! The quarantine: tests whose failures do not fail their step. They
//! still run and are recorded; the list lives in the repository
//! (`.sluice/quarantine.yml`), with a reason and a date for each test,
//! so that it is reviewed like code.
//!
//! ```yaml
//! quarantined:
//!   - classname: tests.test_api
//!     name: test_timeout
//!     reason: times out under load (flaky, found by sluice)
//!     since: 2026-12-03
//!     automatic: true
//! ```

use serde::{Deserialize, Serialize};
use sluice_events::TestCase;
use yaml_rust2::{Yaml, YamlLoader};

/// Where the quarantine lives, relative to the repository root.
pub const QUARANTINE_FILE: &str = ".sluice/quarantine.yml";

/// One quarantined test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub classname: String,
    pub name: String,
    /// When given, only the test in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub since: String,
    /// Added by flaky detection rather than by a person.
    #[serde(default)]
    pub automatic: bool,
}

impl QuarantineEntry {
    pub fn display_name(&self) -> String {
        if self.classname.is_empty() {
            self.name.clone()
        } else {
            format!("{} ‑ {}", self.classname, self.name)
        }
    }

    fn covers(&self, case: &TestCase) -> bool {
        self.classname == case.classname
            && self.name == case.name
            && self
                .file
                .as_ref()
                .is_none_or(|file| case.file.as_deref() == Some(file.as_str()))
    }
}

/// The quarantined tests of a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    pub entries: Vec<QuarantineEntry>,
}

/// Why a quarantine file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {problem}")]
pub struct QuarantineError {
    pub line: usize,
    pub column: usize,
    pub problem: String,
}

impl Quarantine {
    /// Reads the file's text.
    pub fn parse(text: &str) -> Result<Quarantine, QuarantineError> {
        let documents = YamlLoader::load_from_str(text).map_err(|e| QuarantineError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            problem: e.info().to_string(),
        })?;
        let at_top = |problem: &str| QuarantineError {
            line: 1,
            column: 1,
            problem: problem.to_owned(),
        };
        let Some(document) = documents.first() else {
            return Ok(Quarantine::default());
        };
        let list = match &document["quarantined"] {
            Yaml::Array(list) => list,
            Yaml::BadValue | Yaml::Null => return Ok(Quarantine::default()),
            _ => return Err(at_top("`quarantined` must be a list of tests")),
        };
        let mut entries = Vec::new();
        for (index, item) in list.iter().enumerate() {
            let text = |key: &str| item[key].as_str().map(str::to_owned);
            let missing = |key: &str| at_top(&format!("quarantined[{index}] has no `{key}`"));
            entries.push(QuarantineEntry {
                classname: text("classname").unwrap_or_default(),
                name: text("name").ok_or_else(|| missing("name"))?,
                file: text("file"),
                reason: text("reason").ok_or_else(|| missing("reason"))?,
                since: text("since").ok_or_else(|| missing("since"))?,
                automatic: item["automatic"].as_bool().unwrap_or(false),
            });
        }
        Ok(Quarantine { entries })
    }

    /// The entry that quarantines `case`, if one does.
    pub fn entry_for(&self, case: &TestCase) -> Option<&QuarantineEntry> {
        self.entries.iter().find(|entry| entry.covers(case))
    }

    /// Adds `entry` (replacing one for the same test); whether it was new.
    pub fn add(&mut self, entry: QuarantineEntry) -> bool {
        let same = |e: &QuarantineEntry| {
            e.classname == entry.classname && e.name == entry.name && e.file == entry.file
        };
        match self.entries.iter_mut().find(|e| same(e)) {
            Some(existing) => {
                *existing = entry;
                false
            }
            None => {
                self.entries.push(entry);
                true
            }
        }
    }

    /// Removes the entries for the test `name` names (`name`, `class ‑
    /// name`, `class::name` or `class.name`); how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| !names(e, name));
        before - self.entries.len()
    }

    /// The file's text.
    pub fn to_yaml(&self) -> String {
        let mut out = String::from(
            "# Tests whose failures do not fail their step: they still run and are recorded.\n\
             # Managed with `sluice tests quarantine add|rm|ls`; review changes as code.\n",
        );
        if self.entries.is_empty() {
            out.push_str("quarantined: []\n");
            return out;
        }
        out.push_str("quarantined:\n");
        for entry in &self.entries {
            out.push_str(&format!("  - classname: {}\n", quoted(&entry.classname)));
            out.push_str(&format!("    name: {}\n", quoted(&entry.name)));
            if let Some(file) = &entry.file {
                out.push_str(&format!("    file: {}\n", quoted(file)));
            }
            out.push_str(&format!("    reason: {}\n", quoted(&entry.reason)));
            out.push_str(&format!("    since: {}\n", quoted(&entry.since)));
            if entry.automatic {
                out.push_str("    automatic: true\n");
            }
        }
        out
    }
}

/// Whether `name` names the entry's test.
fn names(entry: &QuarantineEntry, name: &str) -> bool {
    let class = &entry.classname;
    entry.name == name
        || format!("{class} ‑ {}", entry.name) == name
        || format!("{class}::{}", entry.name) == name
        || format!("{class}.{}", entry.name) == name
}

/// A YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_events::TestOutcome;

    fn case(classname: &str, name: &str, file: Option<&str>) -> TestCase {
        TestCase {
            suite: "s".into(),
            classname: classname.into(),
            name: name.into(),
            file: file.map(str::to_owned),
            line: None,
            outcome: TestOutcome::Failed,
            time: 0.0,
            message: None,
            details: None,
            runs: 1,
        }
    }

    #[test]
    fn the_file_reads_back_what_it_wrote() {
        let mut quarantine = Quarantine::default();
        assert!(quarantine.add(QuarantineEntry {
            classname: "tests.test_api".into(),
            name: "test \"odd\" name".into(),
            file: None,
            reason: "times out: under load\nsometimes".into(),
            since: "2026-12-03".into(),
            automatic: true,
        }));
        let text = quarantine.to_yaml();
        assert_eq!(Quarantine::parse(&text).unwrap(), quarantine);
        assert!(
            quarantine
                .entry_for(&case("tests.test_api", "test \"odd\" name", None))
                .is_some()
        );
        assert!(
            quarantine
                .entry_for(&case("tests.test_api", "other", None))
                .is_none()
        );
        assert_eq!(quarantine.remove("tests.test_api::test \"odd\" name"), 1);
        assert_eq!(
            Quarantine::parse(&quarantine.to_yaml())
                .unwrap()
                .entries
                .len(),
            0
        );
    }

    #[test]
    fn bad_files_say_where() {
        let error = Quarantine::parse("quarantined:\n  - name: [unclosed\n").unwrap_err();
        assert!(error.line >= 2, "{error}");
        let error = Quarantine::parse("quarantined:\n  - name: a\n").unwrap_err();
        assert!(error.problem.contains("reason"), "{error}");
        assert_eq!(Quarantine::parse("").unwrap(), Quarantine::default());
    }
}
