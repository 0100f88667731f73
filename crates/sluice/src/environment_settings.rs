//! `[environments.<name>]` in `sluice.toml`: the protection rules of a
//! deployment environment, which jobs with `environment: <name>` pass
//! before they start.
//!
//! ```toml
//! [environments.production]
//! required-approvals = 1              # distinct approvers (default 0)
//! branches = ["main", "release/*"]    # GitHub filter patterns (default: any)
//! wait-timer = "30s"                  # after approval, before the job starts
//! approval-timeout = "24h"            # a job not approved by then fails
//! ```

use std::time::Duration;

use anyhow::{Result, bail};
use indexmap::IndexMap;
use serde::Deserialize;
use sluice_exec::{DEFAULT_APPROVAL_TIMEOUT, EnvironmentRules, Environments};
use sluice_glob::FilterPatternList;

/// One `[environments.<name>]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EnvironmentFile {
    required_approvals: Option<u32>,
    branches: Option<Vec<String>>,
    wait_timer: Option<String>,
    approval_timeout: Option<String>,
}

/// The most approvers a rule may ask for (GitHub allows six reviewers;
/// more than this is surely a typo).
const MAX_APPROVALS: u32 = 100;

/// The rules of every declared environment, checked.
pub fn environments(file: IndexMap<String, EnvironmentFile>) -> Result<Environments> {
    let mut environments = Environments::default();
    for (name, table) in file {
        if name.trim().is_empty() {
            bail!("[environments.\"{name}\"]: an environment needs a name");
        }
        environments.declare(&name, rules(&name, table)?);
    }
    Ok(environments)
}

fn rules(name: &str, file: EnvironmentFile) -> Result<EnvironmentRules> {
    let context = format!("[environments.{name}]");
    let required_approvals = file.required_approvals.unwrap_or(0);
    if required_approvals > MAX_APPROVALS {
        bail!("{context} required-approvals = {required_approvals}: at most {MAX_APPROVALS}");
    }
    let branches = match file.branches {
        None => None,
        Some(patterns) => Some(branch_patterns(&context, &patterns)?),
    };
    let wait_timer = match file.wait_timer {
        None => Duration::ZERO,
        Some(text) => duration(&context, "wait-timer", &text)?,
    };
    let approval_timeout = match file.approval_timeout {
        None => DEFAULT_APPROVAL_TIMEOUT,
        Some(text) => duration(&context, "approval-timeout", &text)?,
    };
    if approval_timeout.is_zero() {
        bail!("{context} approval-timeout = \"0s\": a job could never be approved in time");
    }
    Ok(EnvironmentRules {
        required_approvals,
        branches,
        wait_timer,
        approval_timeout,
    })
}

fn branch_patterns(context: &str, patterns: &[String]) -> Result<FilterPatternList> {
    let list = FilterPatternList::new(patterns)
        .map_err(|e| anyhow::anyhow!("{context} branches = {patterns:?}: {e}"))?;
    if !list.has_positive() {
        bail!(
            "{context} branches = {patterns:?}: only `!` patterns match no branch; add the branches that may deploy"
        );
    }
    Ok(list)
}

/// `30s`, `5m`, `1h30m`, `7d`, `500ms`, or a number of seconds.
fn duration(context: &str, key: &str, text: &str) -> Result<Duration> {
    let parsed = match text.trim().strip_suffix('d') {
        Some(days) => days
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d >= 0.0)
            .and_then(|d| Duration::try_from_secs_f64(d * 86_400.0).ok()),
        None => sluice_workflow::parse_duration(text),
    };
    parsed.ok_or_else(|| {
        anyhow::anyhow!(
            "{context} {key} = \"{text}\": not a duration (write it like 30s, 5m, 1h30m or 7d)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml: &str) -> Result<Environments> {
        #[derive(Deserialize)]
        struct Wrapper {
            environments: IndexMap<String, EnvironmentFile>,
        }
        let wrapper: Wrapper = toml::from_str(toml)?;
        environments(wrapper.environments)
    }

    #[test]
    fn a_full_table_reads_into_rules() {
        let environments = parse(
            r#"
            [environments.production]
            required-approvals = 2
            branches = ["main", "release/*"]
            wait-timer = "30s"
            approval-timeout = "1h30m"
            "#,
        )
        .unwrap();
        let rules = environments.rules("Production");
        assert_eq!(rules.required_approvals, 2);
        assert_eq!(rules.wait_timer, Duration::from_secs(30));
        assert_eq!(rules.approval_timeout, Duration::from_secs(5400));
        assert!(
            rules
                .refusal("production", "refs/heads/release/2")
                .is_none()
        );
    }

    #[test]
    fn defaults_hold_nothing_and_time_out_after_a_day() {
        let rules = parse("[environments.staging]\n").unwrap().rules("staging");
        assert!(!rules.holds());
        assert_eq!(rules.approval_timeout, DEFAULT_APPROVAL_TIMEOUT);
        assert!(rules.branches.is_none());
    }

    #[test]
    fn days_are_a_unit() {
        let rules = parse("[environments.prod]\napproval-timeout = \"7d\"\n")
            .unwrap()
            .rules("prod");
        assert_eq!(rules.approval_timeout, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn bad_values_name_the_table_key_and_value() {
        let message = parse("[environments.prod]\nwait-timer = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "[environments.prod] wait-timer = \"soon\": not a duration (write it like 30s, 5m, 1h30m or 7d)"
        );
        let message = parse("[environments.prod]\nbranches = [\"!main\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("[environments.prod] branches = [\"!main\"]"),
            "{message}"
        );
        let message = parse("[environments.prod]\napproval-timeout = \"0s\"\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("approval-timeout"), "{message}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let message = parse("[environments.prod]\nrequired-approval = 1\n")
            .expect_err("a misspelt key is an error")
            .to_string();
        assert!(message.contains("required-approval"), "{message}");
        assert!(message.contains("required-approvals"), "{message}");
    }
}
