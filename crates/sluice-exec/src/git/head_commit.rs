//! The facts of the checked-out commit (parents, subject, author, date)
//! for the event payload. A commit never changes, so once git has told us
//! about one the answer is remembered, keyed by its sha, and the next run
//! of the same commit (the common case: re-running after an edit) starts
//! no git process for it.

use std::path::Path;

use super::git;

/// What the event payload says about the head commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HeadCommit {
    pub sha: String,
    pub parents: Vec<String>,
    pub subject: String,
    pub author: String,
    pub timestamp: String,
}

/// git's format for the fields, separated by NUL (the subject may hold
/// anything else).
const FORMAT: &str = "--format=%H%x00%P%x00%s%x00%an%x00%aI";

/// The file under the memo directory holding the last commit read.
const MEMO_FILE: &str = "head-commit";

/// The facts of commit `sha` (of HEAD when `sha` is `None`), from the memo
/// when it is about that commit, else from git. `None` when git cannot say
/// (no commits yet).
pub(crate) fn read(root: &Path, sha: Option<&str>, memo_dir: Option<&Path>) -> Option<HeadCommit> {
    let memo = memo_dir.map(|dir| dir.join(MEMO_FILE));
    if let (Some(sha), Some(memo)) = (sha, &memo)
        && let Ok(text) = std::fs::read_to_string(memo)
        && let Some(commit) = parse(&text)
        && commit.sha == sha
    {
        return Some(commit);
    }
    let text = git(root, &["log", "-1", FORMAT, sha.unwrap_or("HEAD"), "--"]).ok()?;
    let commit = parse(&text)?;
    if let Some(memo) = memo {
        remember(&memo, &text);
    }
    Some(commit)
}

fn parse(text: &str) -> Option<HeadCommit> {
    let mut fields = text.split('\0');
    let sha = fields.next()?.trim().to_owned();
    if sha.is_empty() {
        return None;
    }
    let parents = fields
        .next()?
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    Some(HeadCommit {
        sha,
        parents,
        subject: fields.next()?.to_owned(),
        author: fields.next()?.to_owned(),
        timestamp: fields.next()?.trim_end().to_owned(),
    })
}

/// Best effort: a memo that cannot be written only costs the next run a
/// git process. Written to a temporary name and renamed, so a concurrent
/// reader sees the old memo or the new one, never half of one.
fn remember(memo: &Path, text: &str) {
    let Some(dir) = memo.parent() else { return };
    let temporary = dir.join(format!("{MEMO_FILE}.{}.tmp", std::process::id()));
    if std::fs::create_dir_all(dir).is_ok()
        && std::fs::write(&temporary, text).is_ok()
        && std::fs::rename(&temporary, memo).is_err()
    {
        let _ = std::fs::remove_file(&temporary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gits_fields() {
        let commit = parse("abc\0p1 p2\0Fix: a; b\0Ada\x002026-01-02T03:04:05+00:00\n").unwrap();
        assert_eq!(commit.sha, "abc");
        assert_eq!(commit.parents, ["p1", "p2"]);
        assert_eq!(commit.subject, "Fix: a; b");
        assert_eq!(commit.author, "Ada");
        assert_eq!(commit.timestamp, "2026-01-02T03:04:05+00:00");
        assert_eq!(parse(""), None);
        assert_eq!(parse("abc\0"), None);
        let root = parse("abc\0\0Initial\0Ada\0t").unwrap();
        assert!(root.parents.is_empty());
    }
}
