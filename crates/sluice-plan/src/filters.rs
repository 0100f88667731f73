//! Whether a `push` or `pull_request` event passes a trigger's branch, tag
//! and path filters, following GitHub's documented rules, and why.
//!
//! The rules, from GitHub's workflow syntax reference:
//!
//! - `branches` and `branches-ignore` cannot both be given for one event;
//!   neither can `tags` and `tags-ignore`, nor `paths` and `paths-ignore`.
//! - Patterns are evaluated against the ref's short name (`main`, `v1.2`),
//!   in order, the last matching pattern deciding (see
//!   [`FilterPatternList`]). A `branches`/`tags`/`paths` list must contain at
//!   least one pattern without `!`.
//! - A push of a tag is filtered by `tags`/`tags-ignore` only, a push of a
//!   branch by `branches`/`branches-ignore` only. "If you define only
//!   `tags`/`tags-ignore` or only `branches`/`branches-ignore`, the workflow
//!   won't run for events affecting the undefined Git ref"; with neither,
//!   it runs for both.
//! - "Path filters are not evaluated for pushes of tags."
//! - "If you define both `branches`/`branches-ignore` and
//!   `paths`/`paths-ignore`, the workflow will only run when both filters
//!   are satisfied."
//! - `paths`: runs if at least one changed file is included.
//!   `paths-ignore`: does not run if every changed file is ignored. "If
//!   there are no files changed, the workflow will not run."
//! - For `pull_request` (and `pull_request_target`), branch filters apply to
//!   the pull request's base branch; tag filters do not exist there and are
//!   ignored.
//!
//! Unknown changed files ([`TriggerEvent::changed_files`] is `None`): GitHub
//! computes a diff even for a new branch (against the parent of the oldest
//! pushed commit) and only when it cannot ("more than 1,000 commits, or ...
//! a timeout") does it skip path filtering: "the workflow will always run".
//! This module does the same: with no list, path filters count as
//! satisfied, and the reason says so. Callers that can compute GitHub's diff
//! for a new branch should pass it. GitHub's 300-file limit on diffs is a
//! limitation of its diff service and is not imitated.

use std::fmt;

use sluice_glob::{FilterPatternList, PatternError};

#[cfg(test)]
mod tests;

/// The filters of one trigger event, as written in the workflow (each
/// `None` when the key is absent; `Some(vec![])` is an empty list, which
/// matches nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerFilters {
    /// `branches`
    pub branches: Option<Vec<String>>,
    /// `branches-ignore`
    pub branches_ignore: Option<Vec<String>>,
    /// `tags` (push only)
    pub tags: Option<Vec<String>>,
    /// `tags-ignore` (push only)
    pub tags_ignore: Option<Vec<String>>,
    /// `paths`
    pub paths: Option<Vec<String>>,
    /// `paths-ignore`
    pub paths_ignore: Option<Vec<String>>,
}

/// Which kind of event is being filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerEventKind {
    /// `push`
    Push,
    /// `pull_request` or `pull_request_target`
    PullRequest,
}

/// The facts about an event that filters look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerEvent {
    /// Push or pull request.
    pub kind: TriggerEventKind,
    /// For a push, the pushed ref: `refs/heads/<branch>` or
    /// `refs/tags/<tag>`. For a pull request, its base branch, as
    /// `refs/heads/<branch>` or just `<branch>`.
    pub git_ref: String,
    /// The changed files, relative to the repository root; `None` when they
    /// are not known (see the module documentation).
    pub changed_files: Option<Vec<String>>,
}

/// Whether the workflow is selected for the event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterDecision {
    /// `true` when the filters let the event through.
    pub selected: bool,
    /// A sentence for the user, e.g. ``no changed file matches paths [docs/**]``.
    pub reason: String,
}

impl fmt::Display for FilterDecision {
    /// `selected: <reason>` or `skipped: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.selected { "selected" } else { "skipped" };
        write!(f, "{verdict}: {}", self.reason)
    }
}

/// Filters that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A filter and its `-ignore` twin were both given.
    #[error(
        "`{include}` and `{ignore}` cannot both be given for the same event; \
         use `{include}` with `!` patterns to exclude"
    )]
    Conflicting {
        /// `branches`, `tags` or `paths`.
        include: &'static str,
        /// The matching `-ignore` key.
        ignore: &'static str,
    },
    /// A `branches`/`tags`/`paths` list with only `!` patterns.
    #[error(
        "`{key}` contains only `!` patterns, so it can never match; \
         add a pattern without `!`, or use `{key}-ignore`"
    )]
    OnlyNegativePatterns {
        /// The key of the list.
        key: &'static str,
    },
    /// A pattern that does not compile.
    #[error("in `{key}`: {source}")]
    InvalidPattern {
        /// The key of the list holding the pattern.
        key: &'static str,
        /// What is wrong with it.
        #[source]
        source: PatternError,
    },
    /// A pushed ref that is neither a branch nor a tag.
    #[error("`{git_ref}` is neither a branch (`refs/heads/...`) nor a tag (`refs/tags/...`)")]
    UnsupportedRef {
        /// The ref as given.
        git_ref: String,
    },
}

/// A trigger's filters, compiled once to be checked against many events.
#[derive(Debug, Clone)]
pub struct CompiledTriggerFilters {
    branches: Option<NamedList>,
    tags: Option<NamedList>,
    paths: Option<NamedList>,
}

/// Decides whether `event` passes `filters`.
///
/// A shortcut for [`CompiledTriggerFilters::compile`] followed by
/// [`CompiledTriggerFilters::decide`].
pub fn evaluate_trigger_filters(
    filters: &TriggerFilters,
    event: &TriggerEvent,
) -> Result<FilterDecision, FilterError> {
    CompiledTriggerFilters::compile(filters)?.decide(event)
}

impl CompiledTriggerFilters {
    /// Validates and compiles `filters`.
    pub fn compile(filters: &TriggerFilters) -> Result<Self, FilterError> {
        Ok(CompiledTriggerFilters {
            branches: NamedList::either(
                ("branches", &filters.branches),
                ("branches-ignore", &filters.branches_ignore),
            )?,
            tags: NamedList::either(
                ("tags", &filters.tags),
                ("tags-ignore", &filters.tags_ignore),
            )?,
            paths: NamedList::either(
                ("paths", &filters.paths),
                ("paths-ignore", &filters.paths_ignore),
            )?,
        })
    }

    /// Decides whether `event` passes the filters.
    pub fn decide(&self, event: &TriggerEvent) -> Result<FilterDecision, FilterError> {
        match event.kind {
            TriggerEventKind::Push => match parse_pushed_ref(&event.git_ref)? {
                PushedRef::Tag(tag) => Ok(self.decide_tag_push(tag)),
                PushedRef::Branch(branch) => Ok(self.decide_branch_change(
                    branch,
                    "branch",
                    true,
                    event.changed_files.as_deref(),
                )),
            },
            TriggerEventKind::PullRequest => {
                let base = event
                    .git_ref
                    .strip_prefix("refs/heads/")
                    .unwrap_or(&event.git_ref);
                Ok(self.decide_branch_change(
                    base,
                    "base branch",
                    false,
                    event.changed_files.as_deref(),
                ))
            }
        }
    }

    fn decide_tag_push(&self, tag: &str) -> FilterDecision {
        let paths_note = self
            .paths
            .as_ref()
            .map(|paths| format!("; {} is not evaluated for tag pushes", paths.key));
        let mut decision = match (&self.tags, &self.branches) {
            (Some(tags), _) => tags.check("tag", tag),
            (None, Some(branches)) => Check::fail(format!(
                "tag `{tag}` was pushed, but the trigger filters only branches \
                 (`{}`), so tag pushes do not run it",
                branches.key
            )),
            (None, None) => Check::pass(format!(
                "tag `{tag}` was pushed and the trigger has no branch or tag filters"
            )),
        }
        .into_decision();
        if decision.selected {
            decision.reason.extend(paths_note);
        }
        decision
    }

    /// A branch push, or a pull request against `branch`.
    fn decide_branch_change(
        &self,
        branch: &str,
        what: &str,
        tag_filters_apply: bool,
        changed_files: Option<&[String]>,
    ) -> FilterDecision {
        let mut reasons = Vec::new();
        match (&self.branches, &self.tags) {
            (Some(branches), _) => {
                let check = branches.check(what, branch);
                if !check.passed {
                    return check.into_decision();
                }
                reasons.push(check.reason);
            }
            (None, Some(tags)) if tag_filters_apply => {
                return Check::fail(format!(
                    "branch `{branch}` was pushed, but the trigger filters only tags \
                     (`{}`), so branch pushes do not run it",
                    tags.key
                ))
                .into_decision();
            }
            _ => {}
        }
        if let Some(paths) = &self.paths {
            let check = paths.check_changed_files(changed_files);
            if !check.passed {
                return check.into_decision();
            }
            reasons.push(check.reason);
        }
        if reasons.is_empty() {
            reasons.push(format!(
                "{what} `{branch}`: the trigger has no branch or path filters"
            ));
        }
        Check::pass(reasons.join("; ")).into_decision()
    }
}

enum PushedRef<'a> {
    Branch(&'a str),
    Tag(&'a str),
}

fn parse_pushed_ref(git_ref: &str) -> Result<PushedRef<'_>, FilterError> {
    if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
        Ok(PushedRef::Branch(branch))
    } else if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
        Ok(PushedRef::Tag(tag))
    } else {
        Err(FilterError::UnsupportedRef {
            git_ref: git_ref.to_owned(),
        })
    }
}

/// The outcome of one filter, before it becomes a [`FilterDecision`].
struct Check {
    passed: bool,
    reason: String,
}

impl Check {
    fn pass(reason: String) -> Check {
        Check {
            passed: true,
            reason,
        }
    }

    fn fail(reason: String) -> Check {
        Check {
            passed: false,
            reason,
        }
    }

    fn into_decision(self) -> FilterDecision {
        FilterDecision {
            selected: self.passed,
            reason: self.reason,
        }
    }
}

/// Whether a list includes what it matches or ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListRole {
    Include,
    Ignore,
}

/// One compiled filter list with the key it was written under.
#[derive(Debug, Clone)]
struct NamedList {
    key: &'static str,
    role: ListRole,
    patterns: FilterPatternList,
    /// The patterns as written, for reasons: `[docs/**, !docs/keep.md]`.
    shown: String,
}

impl NamedList {
    /// The list given under `include` or `ignore`, or `None` when neither.
    fn either(
        include: (&'static str, &Option<Vec<String>>),
        ignore: (&'static str, &Option<Vec<String>>),
    ) -> Result<Option<NamedList>, FilterError> {
        match (include.1, ignore.1) {
            (Some(_), Some(_)) => Err(FilterError::Conflicting {
                include: include.0,
                ignore: ignore.0,
            }),
            (Some(patterns), None) => {
                let list = NamedList::compile(include.0, ListRole::Include, patterns)?;
                if !list.patterns.is_empty() && !list.patterns.has_positive() {
                    return Err(FilterError::OnlyNegativePatterns { key: include.0 });
                }
                Ok(Some(list))
            }
            (None, Some(patterns)) => {
                NamedList::compile(ignore.0, ListRole::Ignore, patterns).map(Some)
            }
            (None, None) => Ok(None),
        }
    }

    fn compile(
        key: &'static str,
        role: ListRole,
        patterns: &[String],
    ) -> Result<NamedList, FilterError> {
        let compiled = FilterPatternList::new(patterns)
            .map_err(|source| FilterError::InvalidPattern { key, source })?;
        Ok(NamedList {
            key,
            role,
            patterns: compiled,
            shown: format!("[{}]", patterns.join(", ")),
        })
    }

    /// Checks a branch or tag name (`what` is "branch", "tag", ...).
    fn check(&self, what: &str, name: &str) -> Check {
        let (key, shown) = (self.key, &self.shown);
        let deciding = self.patterns.deciding_pattern(name);
        match (self.role, deciding) {
            (ListRole::Include, Some(pattern)) if !pattern.is_negated() => Check::pass(format!(
                "{what} `{name}` matches `{}` in {key} {shown}",
                pattern.as_str()
            )),
            (ListRole::Include, Some(pattern)) => Check::fail(format!(
                "{what} `{name}` is excluded by `{}` in {key} {shown}",
                pattern.as_str()
            )),
            (ListRole::Include, None) => {
                Check::fail(format!("{what} `{name}` does not match {key} {shown}"))
            }
            (ListRole::Ignore, Some(pattern)) if !pattern.is_negated() => Check::fail(format!(
                "{what} `{name}` matches `{}` in {key} {shown}",
                pattern.as_str()
            )),
            (ListRole::Ignore, Some(pattern)) => Check::pass(format!(
                "{what} `{name}` is let through by `{}` in {key} {shown}",
                pattern.as_str()
            )),
            (ListRole::Ignore, None) => {
                Check::pass(format!("{what} `{name}` does not match {key} {shown}"))
            }
        }
    }

    /// Checks the changed files against `paths` / `paths-ignore`.
    fn check_changed_files(&self, changed_files: Option<&[String]>) -> Check {
        let (key, shown) = (self.key, &self.shown);
        let Some(files) = changed_files else {
            return Check::pass(format!(
                "the changed files are unknown, so {key} is not evaluated \
                 (GitHub runs the workflow when it cannot compute the diff)"
            ));
        };
        if files.is_empty() {
            return Check::fail(format!(
                "no files changed, so {key} {shown} cannot be satisfied"
            ));
        }
        match self.role {
            ListRole::Include => match files.iter().find(|file| self.patterns.includes(file)) {
                Some(file) => Check::pass(format!("changed file `{file}` matches {key} {shown}")),
                None => Check::fail(format!("no changed file matches {key} {shown}")),
            },
            ListRole::Ignore => match files.iter().find(|file| !self.patterns.includes(file)) {
                Some(file) => Check::pass(format!(
                    "changed file `{file}` does not match {key} {shown}"
                )),
                None => Check::fail(format!("every changed file matches {key} {shown}")),
            },
        }
    }
}
