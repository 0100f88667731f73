//! `owner/repo[/path]@ref`: what a remote action or reusable workflow is
//! called by.

use std::fmt;

/// A parsed remote reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteRef {
    pub owner: String,
    pub repo: String,
    /// The directory (action) or file (workflow) inside the repository,
    /// without leading or trailing `/`; empty for the repository's root.
    pub path: String,
    /// The tag, branch or commit after `@`.
    pub git_ref: String,
}

/// Why a reference cannot name a remote repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReference {
    #[error("`{0}` has no `@ref`: remote actions and workflows are named `owner/repo[/path]@ref`")]
    NoRef(String),
    #[error("`{0}` does not name an owner and a repository (`owner/repo[/path]@ref`)")]
    NoRepository(String),
    #[error("`{reference}`: `{part}` is not a valid {what} name")]
    BadName {
        reference: String,
        part: String,
        what: &'static str,
    },
    #[error("`{0}`: a path inside the repository may not use `.` or `..` steps")]
    PathStep(String),
}

impl RemoteRef {
    /// Parses `owner/repo[/path]@ref`.
    pub fn parse(reference: &str) -> Result<RemoteRef, InvalidReference> {
        let (name, git_ref) = reference
            .rsplit_once('@')
            .filter(|(_, r)| !r.is_empty())
            .ok_or_else(|| InvalidReference::NoRef(reference.to_string()))?;
        let mut parts = name.splitn(3, '/');
        let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
            return Err(InvalidReference::NoRepository(reference.to_string()));
        };
        let path = parts.next().unwrap_or_default().trim_matches('/');
        let bad = |part: &str, what| InvalidReference::BadName {
            reference: reference.to_string(),
            part: part.to_string(),
            what,
        };
        if !is_name(owner) {
            return Err(bad(owner, "owner"));
        }
        if !is_name(repo) {
            return Err(bad(repo, "repository"));
        }
        if !git_ref
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+".contains(c))
            || git_ref.starts_with('-')
            || git_ref.contains("..")
        {
            return Err(bad(git_ref, "ref"));
        }
        if path
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..")
            && !path.is_empty()
        {
            return Err(InvalidReference::PathStep(reference.to_string()));
        }
        Ok(RemoteRef {
            owner: owner.to_string(),
            repo: repo.to_string(),
            path: path.to_string(),
            git_ref: git_ref.to_string(),
        })
    }

    /// `owner/repo`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// Whether the ref is a full commit SHA (the only pin that cannot move).
    pub fn is_pinned(&self) -> bool {
        is_full_sha(&self.git_ref)
    }
}

impl fmt::Display for RemoteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.repo)?;
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        write!(f, "@{}", self.git_ref)
    }
}

/// 40 hexadecimal digits.
pub fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// GitHub's owner and repository names: letters, digits, `-`, `_`, `.`,
/// not `.` or `..` themselves.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text != "."
        && text != ".."
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_bad_ones_are_refused() {
        let r = RemoteRef::parse("actions/setup-node@v4").unwrap();
        assert_eq!(
            (r.owner.as_str(), r.repo.as_str(), r.path.as_str()),
            ("actions", "setup-node", "")
        );
        assert_eq!(r.git_ref, "v4");
        assert!(!r.is_pinned());
        let r = RemoteRef::parse("dtolnay/.github/.github/workflows/pre_ci.yml@master").unwrap();
        assert_eq!(r.repo, ".github");
        assert_eq!(r.path, ".github/workflows/pre_ci.yml");
        let sha = "8e5e7e5ab8b370d6c329ec480221332ada57f0ab";
        assert!(
            RemoteRef::parse(&format!("a/b/sub/dir@{sha}"))
                .unwrap()
                .is_pinned()
        );
        assert_eq!(
            r.to_string(),
            "dtolnay/.github/.github/workflows/pre_ci.yml@master"
        );
        for bad in [
            "actions/checkout",
            "actions@v4",
            "a/b@",
            "../b@v1",
            "a/b/../../etc@v1",
            "a/b@--upload-pack=x",
            "a/b@v1..v2",
            "a b/c@v1",
            "a/b/x/./y@v1",
        ] {
            assert!(RemoteRef::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
