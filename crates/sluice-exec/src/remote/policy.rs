//! `allowed-actions`: which remote actions and reusable workflows may run,
//! in the spirit of GitHub's allow-list ("Allow specified actions and
//! reusable workflows").
//!
//! A pattern is `NAME[@REF]`. `NAME` is `owner/repo[/path]`, where `*`
//! matches any run of characters (`actions/*`, `my-org/*`, `*`); without
//! `@REF`, or with `@*`, any ref is allowed; otherwise the ref must be the
//! one given (a tag, branch or full SHA). Names compare without regard to
//! case, as GitHub's do; refs exactly. A pattern starting with `!` blocks
//! what it matches, whatever else allows it (`my-org/*`, `!my-org/old@*`).

use super::reference::RemoteRef;

/// The allow-list; `None` allows everything.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    patterns: Option<Vec<String>>,
}

impl AllowList {
    pub fn new(patterns: Option<Vec<String>>) -> AllowList {
        AllowList { patterns }
    }

    pub fn allows(&self, reference: &RemoteRef) -> bool {
        let Some(patterns) = &self.patterns else {
            return true;
        };
        let mut name = reference.repository();
        if !reference.path.is_empty() {
            name = format!("{name}/{}", reference.path);
        }
        let matches = |pattern: &str| {
            let (name_pattern, ref_pattern) = match pattern.rsplit_once('@') {
                Some((n, r)) => (n, Some(r)),
                None => (pattern, None),
            };
            wildcard_match(
                &name_pattern.to_ascii_lowercase(),
                &name.to_ascii_lowercase(),
            ) && ref_pattern.is_none_or(|r| r == "*" || r == reference.git_ref)
        };
        // `!pattern` blocks what it matches, whatever else allows it.
        let blocked = patterns
            .iter()
            .filter_map(|p| p.strip_prefix('!'))
            .any(&matches);
        !blocked
            && patterns
                .iter()
                .filter(|p| !p.starts_with('!'))
                .any(|p| matches(p.as_str()))
    }

    /// The patterns, for messages.
    pub fn describe(&self) -> String {
        match &self.patterns {
            None => "everything".into(),
            Some(list) if list.is_empty() => "nothing".into(),
            Some(list) => list.join(", "),
        }
    }
}

/// `*` matches any run of characters (including `/`); everything else
/// itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(patterns: &[&str], reference: &str) -> bool {
        AllowList::new(Some(patterns.iter().map(|p| p.to_string()).collect()))
            .allows(&RemoteRef::parse(reference).unwrap())
    }

    #[test]
    fn patterns_as_githubs_allow_list() {
        assert!(AllowList::default().allows(&RemoteRef::parse("any/thing@v1").unwrap()));
        assert!(allowed(&["actions/*"], "actions/setup-node@v4"));
        assert!(allowed(&["actions/*"], "Actions/Cache/restore@v4"));
        assert!(!allowed(&["actions/*"], "evil/actions@v1"));
        assert!(allowed(&["my-org/tool@*"], "my-org/tool@main"));
        assert!(allowed(&["my-org/tool@v2"], "my-org/tool@v2"));
        assert!(!allowed(&["my-org/tool@v2"], "my-org/tool@v3"));
        assert!(!allowed(&["my-org/tool@v2"], "my-org/tool-fork@v2"));
        assert!(allowed(
            &["o/r/.github/workflows/ci.yml@*"],
            "o/r/.github/workflows/ci.yml@v1"
        ));
        assert!(allowed(&["*"], "x/y@z"));
        assert!(!allowed(&[], "x/y@z"));
        assert!(allowed(&["*/*-action@*"], "someone/lint-action@v1"));
        assert!(!allowed(&["my-org/*", "!my-org/old@*"], "my-org/old@v1"));
        assert!(allowed(&["my-org/*", "!my-org/old@*"], "my-org/new@v1"));
        assert!(!allowed(&["!x/y@*"], "a/b@v1"), "only blocks allow nothing");
    }
}
