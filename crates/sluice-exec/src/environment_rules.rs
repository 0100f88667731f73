//! The protection rules of deployment environments (`[environments.<name>]`
//! in `sluice.toml`, read by the binary): who must approve a job that
//! deploys there, from which branches, and how long it waits.

use std::time::Duration;

use sluice_glob::FilterPatternList;

/// How long a job waits for approval unless the rules say otherwise.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// One environment's rules.
#[derive(Debug, Clone)]
pub struct EnvironmentRules {
    /// Distinct approvers a job needs before it starts (0: none).
    pub required_approvals: u32,
    /// The branches that may deploy (GitHub's filter patterns); `None`:
    /// any ref may.
    pub branches: Option<FilterPatternList>,
    /// How long a job waits after its approval (or, without approvals,
    /// before it starts).
    pub wait_timer: Duration,
    /// A job not approved within this fails.
    pub approval_timeout: Duration,
}

impl Default for EnvironmentRules {
    fn default() -> Self {
        EnvironmentRules {
            required_approvals: 0,
            branches: None,
            wait_timer: Duration::ZERO,
            approval_timeout: DEFAULT_APPROVAL_TIMEOUT,
        }
    }
}

impl EnvironmentRules {
    /// Why a run of `git_ref` may not deploy to `environment`, in
    /// GitHub's words; `None` when it may. Only branches can match the
    /// patterns: a tag or a pull request's merge ref never does.
    pub fn refusal(&self, environment: &str, git_ref: &str) -> Option<String> {
        let branches = self.branches.as_ref()?;
        let (kind, name) = describe_ref(git_ref);
        if kind == "Branch" && branches.includes(name) {
            return None;
        }
        Some(format!(
            "{kind} \"{name}\" is not allowed to deploy to {environment} due to environment protection rules."
        ))
    }

    /// Whether a job deploying here holds before it starts at all.
    pub fn holds(&self) -> bool {
        self.required_approvals > 0 || !self.wait_timer.is_zero()
    }
}

/// `Branch`/`Tag`/`Ref` and the name a person knows it by.
fn describe_ref(git_ref: &str) -> (&'static str, &str) {
    if let Some(branch) = git_ref.strip_prefix("refs/heads/") {
        ("Branch", branch)
    } else if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
        ("Tag", tag)
    } else {
        ("Ref", git_ref)
    }
}

/// The rules of every environment `sluice.toml` declares. Names compare
/// without regard to case, as GitHub's do; an environment not declared
/// has no rules.
#[derive(Debug, Clone, Default)]
pub struct Environments {
    declared: Vec<(String, EnvironmentRules)>,
}

impl Environments {
    /// Declares `name` (replacing an earlier declaration of it).
    pub fn declare(&mut self, name: &str, rules: EnvironmentRules) {
        self.declared
            .retain(|(known, _)| !known.eq_ignore_ascii_case(name));
        self.declared.push((name.to_string(), rules));
    }

    /// The rules of `name`: its declared ones, or none.
    pub fn rules(&self, name: &str) -> EnvironmentRules {
        self.declared
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, rules)| rules.clone())
            .unwrap_or_default()
    }

    /// The declared names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.declared.iter().map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(patterns: &[&str]) -> EnvironmentRules {
        EnvironmentRules {
            branches: Some(FilterPatternList::new(patterns).unwrap()),
            ..EnvironmentRules::default()
        }
    }

    #[test]
    fn branches_match_as_github_filter_patterns() {
        let rules = only(&["main", "release/*"]);
        assert_eq!(rules.refusal("production", "refs/heads/main"), None);
        assert_eq!(rules.refusal("production", "refs/heads/release/1.2"), None);
        assert_eq!(
            rules
                .refusal("production", "refs/heads/feature/x")
                .as_deref(),
            Some(
                "Branch \"feature/x\" is not allowed to deploy to production due to environment protection rules."
            )
        );
    }

    #[test]
    fn tags_and_pull_requests_never_match_branch_patterns() {
        let rules = only(&["*"]);
        assert!(
            rules
                .refusal("prod", "refs/tags/v1")
                .unwrap()
                .starts_with("Tag \"v1\"")
        );
        assert!(
            rules
                .refusal("prod", "refs/pull/3/merge")
                .unwrap()
                .starts_with("Ref \"refs/pull/3/merge\"")
        );
    }

    #[test]
    fn without_patterns_every_ref_may_deploy() {
        assert_eq!(
            EnvironmentRules::default().refusal("prod", "refs/tags/v1"),
            None
        );
    }

    #[test]
    fn names_compare_without_case_and_undeclared_ones_have_no_rules() {
        let mut environments = Environments::default();
        environments.declare(
            "Production",
            EnvironmentRules {
                required_approvals: 2,
                ..EnvironmentRules::default()
            },
        );
        assert_eq!(environments.rules("production").required_approvals, 2);
        assert!(!environments.rules("staging").holds());
        assert_eq!(environments.names().collect::<Vec<_>>(), ["Production"]);
    }
}
