//! A job instance's identity within a run, as a type that writes and
//! reads itself.
//!
//! Written as `/`-separated parts, outermost caller first, each a job id
//! with `[i]` for the i-th (0-based) instance of a matrix of several:
//! `build`, `test[2]`, `deploy[1]/smoke` (the `smoke` job of the workflow
//! called by the second `deploy` instance). Job ids cannot contain `/`,
//! `[` or `]` (GitHub allows letters, digits, `_` and `-`), so the text is
//! never ambiguous.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One job instance in a run (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobKey(String);

/// One part of a [`JobKey`]: a job id in its own workflow, and the matrix
/// instance when the job has several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPart<'a> {
    pub id: &'a str,
    pub index: Option<usize>,
}

/// Why a text is not a job key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a job key ({problem}); keys look like `build`, `test[2]` or `deploy[1]/smoke`"
)]
pub struct JobKeyError {
    pub text: String,
    pub problem: &'static str,
}

impl JobKey {
    /// The key of job `id` (a job of the run's own workflow), instance
    /// `index` of its matrix when it has several.
    pub fn new(id: &str, index: Option<usize>) -> JobKey {
        let mut key = JobKey(String::with_capacity(id.len() + 4));
        key.push_part(id, index);
        key
    }

    /// The key of job `id` of the workflow this (caller) instance calls.
    pub fn called(&self, id: &str, index: Option<usize>) -> JobKey {
        let mut key = JobKey(format!("{}/", self.0));
        key.push_part(id, index);
        key
    }

    /// This key with instance `index` on its innermost part (a job's key
    /// before its matrix is known, made into one instance's).
    pub fn with_index(&self, index: usize) -> JobKey {
        let mut key = self.clone();
        if key.innermost().index.is_none() {
            key.0.push_str(&format!("[{index}]"));
        }
        key
    }

    /// Reads a key, refusing text Sluice would never write.
    pub fn parse(text: &str) -> Result<JobKey, JobKeyError> {
        let fail = |problem| JobKeyError {
            text: text.to_owned(),
            problem,
        };
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        for part in text.split('/') {
            parse_part(part).map_err(fail)?;
        }
        Ok(JobKey(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts, outermost caller first.
    pub fn parts(&self) -> impl Iterator<Item = KeyPart<'_>> {
        // Every constructor keeps each part well formed.
        self.0.split('/').map(|part| {
            parse_part(part).unwrap_or(KeyPart {
                id: part,
                index: None,
            })
        })
    }

    /// The job itself (its id in its own workflow, and its instance).
    pub fn innermost(&self) -> KeyPart<'_> {
        let last = self.0.rsplit('/').next().unwrap_or(&self.0);
        parse_part(last).unwrap_or(KeyPart {
            id: last,
            index: None,
        })
    }

    /// The job's id in the workflow it is written in: `test[2]` -> `test`,
    /// `deploy[1]/smoke` -> `smoke`.
    pub fn job_id(&self) -> &str {
        self.innermost().id
    }

    /// The key without its matrix instance: the job, all instances.
    pub fn job(&self) -> JobKey {
        let KeyPart { id, index } = self.innermost();
        match index {
            None => self.clone(),
            Some(_) => {
                let prefix_len = self.0.len() - self.0.rsplit('/').next().map_or(0, str::len);
                JobKey(format!("{}{id}", &self.0[..prefix_len]))
            }
        }
    }

    /// The instance that called this job's workflow, for a called job.
    pub fn caller(&self) -> Option<JobKey> {
        self.0
            .rsplit_once('/')
            .map(|(caller, _)| JobKey(caller.to_owned()))
    }

    fn push_part(&mut self, id: &str, index: Option<usize>) {
        self.0.push_str(id);
        if let Some(index) = index {
            self.0.push_str(&format!("[{index}]"));
        }
    }
}

fn parse_part(part: &str) -> Result<KeyPart<'_>, &'static str> {
    let (id, index) = match part.strip_suffix(']') {
        Some(body) => {
            let (id, index) = body.split_once('[').ok_or("a `]` without its `[`")?;
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return Err("a matrix instance is a number in brackets");
            }
            let index = index
                .parse::<usize>()
                .map_err(|_| "a matrix instance is a number in brackets")?;
            (id, Some(index))
        }
        None => (part, None),
    };
    if id.is_empty() {
        return Err("a part has no job id");
    }
    if id.contains(['[', ']']) {
        return Err("a job id cannot contain brackets");
    }
    if id.chars().any(char::is_control) {
        return Err("a job id cannot contain control characters");
    }
    Ok(KeyPart { id, index })
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for JobKey {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for JobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for JobKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for JobKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for JobKey {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl PartialEq<JobKey> for String {
    fn eq(&self, other: &JobKey) -> bool {
        *self == other.0
    }
}

impl PartialEq<JobKey> for str {
    fn eq(&self, other: &JobKey) -> bool {
        *self == other.0
    }
}

impl PartialEq<&str> for JobKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::str::FromStr for JobKey {
    type Err = JobKeyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        JobKey::parse(text)
    }
}

impl TryFrom<String> for JobKey {
    type Error = JobKeyError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        JobKey::parse(&text)
    }
}

impl From<JobKey> for String {
    fn from(key: JobKey) -> String {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_write_what_they_read() {
        for text in [
            "build",
            "test[2]",
            "deploy[1]/smoke",
            "a/b[0]/c",
            "x-y_z[10]",
        ] {
            assert_eq!(JobKey::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(JobKey::new("test", Some(2)).as_str(), "test[2]");
        assert_eq!(JobKey::new("build", None).as_str(), "build");
        let caller = JobKey::new("deploy", Some(1));
        assert_eq!(caller.called("smoke", None).as_str(), "deploy[1]/smoke");
    }

    #[test]
    fn parts_name_ids_and_instances() {
        let key = JobKey::parse("deploy[1]/smoke[0]").unwrap();
        let parts: Vec<KeyPart> = key.parts().collect();
        assert_eq!(
            parts,
            [
                KeyPart {
                    id: "deploy",
                    index: Some(1)
                },
                KeyPart {
                    id: "smoke",
                    index: Some(0)
                }
            ]
        );
        assert_eq!(key.job_id(), "smoke");
        assert_eq!(key.job().as_str(), "deploy[1]/smoke");
        assert_eq!(key.caller().unwrap().as_str(), "deploy[1]");
        assert_eq!(JobKey::parse("test[12]").unwrap().job_id(), "test");
        assert_eq!(JobKey::new("build", None).caller(), None);
        assert_eq!(JobKey::new("m", None).with_index(3).as_str(), "m[3]");
    }

    #[test]
    fn malformed_keys_are_refused_with_the_text() {
        for text in [
            "", "odd[x]", "odd[]", "a//b", "/a", "a]", "[1]", "a[1]b", "a[-1]",
        ] {
            let error = JobKey::parse(text).unwrap_err();
            assert_eq!(error.text, text);
        }
        assert!(serde_json::from_str::<JobKey>("\"odd[x]\"").is_err());
        assert_eq!(
            serde_json::to_string(&JobKey::parse("t[1]").unwrap()).unwrap(),
            "\"t[1]\""
        );
    }
}
