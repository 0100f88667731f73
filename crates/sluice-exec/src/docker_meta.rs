//! The tags `docker/metadata-action` derives from an event, by its rules:
//! `type=ref` (`event=branch|tag|pr`), `type=sha`, `type=semver`
//! (`pattern={{version}}`, `{{major}}.{{minor}}`...), `type=raw`,
//! `type=schedule` and `type=edge`, each with `prefix`/`suffix` and
//! `enable`; without rules, the action's default set. As with the action,
//! a release tag (a semver rule that matched, not a pre-release) adds
//! `latest`. Pure: the event's facts come in, tags go out.

/// What the tags are made from.
#[derive(Debug, Clone, Default)]
pub struct EventFacts {
    pub event_name: String,
    pub git_ref: String,
    pub sha: String,
    pub pr_number: String,
    pub default_branch: String,
}

/// The versions (tags without the image name) the rules give, in order,
/// each once.
pub fn versions(event: &EventFacts, rules: &[String]) -> Vec<String> {
    let defaults = [
        "type=schedule",
        "type=ref,event=branch",
        "type=ref,event=tag",
        "type=ref,event=pr",
    ];
    let rules: Vec<&str> = if rules.is_empty() {
        defaults.to_vec()
    } else {
        rules.iter().map(String::as_str).collect()
    };
    let mut out: Vec<String> = Vec::new();
    let mut release = false;
    for rule in rules {
        let attrs: Vec<(&str, &str)> = rule
            .split(',')
            .filter_map(|a| a.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
            .collect();
        let attr = |name: &str| attrs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        if attr("enable") == Some("false") {
            continue;
        }
        let value = match attr("type").unwrap_or("") {
            "ref" => match attr("event").unwrap_or("") {
                "branch" => branch(event).map(sanitize),
                "tag" => event.git_ref.strip_prefix("refs/tags/").map(sanitize),
                "pr" if event.event_name.starts_with("pull_request")
                    && !event.pr_number.is_empty() =>
                {
                    Some(format!("pr-{}", event.pr_number))
                }
                _ => None,
            },
            "sha" => {
                let long = attr("format") == Some("long");
                let sha = if long {
                    event.sha.as_str()
                } else {
                    event.sha.get(..7).unwrap_or(&event.sha)
                };
                (!sha.is_empty()).then(|| format!("{}{sha}", attr("prefix").unwrap_or("sha-")))
            }
            "semver" => semver(event, attr("pattern").unwrap_or("{{version}}")).map(|(v, pre)| {
                release |= !pre;
                v
            }),
            "raw" => attr("value").map(str::to_string),
            "schedule" if event.event_name == "schedule" => {
                Some(attr("pattern").unwrap_or("nightly").to_string())
            }
            "edge" if branch(event).is_some_and(|b| b == event.default_branch) => {
                Some(attr("branch").map_or("edge", |_| "edge").to_string())
            }
            _ => None,
        };
        let Some(value) = value else { continue };
        // `sha` carries its prefix already.
        let prefix = if attr("type") == Some("sha") {
            ""
        } else {
            attr("prefix").unwrap_or("")
        };
        let tag = format!("{prefix}{value}{}", attr("suffix").unwrap_or(""));
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if release && !out.iter().any(|t| t == "latest") {
        out.push("latest".into());
    }
    out
}

fn branch(event: &EventFacts) -> Option<&str> {
    event.git_ref.strip_prefix("refs/heads/")
}

/// Tags may not hold `/` (and a few other characters).
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A `v1.2.3` (or `1.2.3-rc.1`) tag rendered through `pattern`; whether it
/// is a pre-release.
fn semver(event: &EventFacts, pattern: &str) -> Option<(String, bool)> {
    let tag = event.git_ref.strip_prefix("refs/tags/")?;
    let text = tag.strip_prefix('v').unwrap_or(tag);
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (text, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let rendered = pattern
        .replace("{{version}}", text)
        .replace("{{major}}", parts[0])
        .replace("{{minor}}", parts[1])
        .replace("{{patch}}", parts[2]);
    Some((rendered, pre.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(event: &str, git_ref: &str) -> EventFacts {
        EventFacts {
            event_name: event.into(),
            git_ref: git_ref.into(),
            sha: "860c1904a1ce19322e91ac35af1ab07466440c37".into(),
            pr_number: "42".into(),
            default_branch: "main".into(),
        }
    }

    fn rules(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_follow_the_actions_rules() {
        assert_eq!(
            versions(&facts("push", "refs/heads/feature/x"), &[]),
            ["feature-x"]
        );
        assert_eq!(
            versions(&facts("pull_request", "refs/pull/42/merge"), &[]),
            ["pr-42"]
        );
        assert_eq!(
            versions(&facts("push", "refs/tags/v1.2.3"), &[]),
            ["v1.2.3"]
        );
        let semver = rules(&[
            "type=semver,pattern={{version}}",
            "type=semver,pattern={{major}}.{{minor}}",
            "type=sha",
        ]);
        assert_eq!(
            versions(&facts("push", "refs/tags/v1.2.3"), &semver),
            ["1.2.3", "1.2", "sha-860c190", "latest"]
        );
        assert_eq!(
            versions(&facts("push", "refs/tags/v2.0.0-rc.1"), &semver),
            ["2.0.0-rc.1", "2.0", "sha-860c190"],
            "a pre-release is not latest"
        );
        assert_eq!(
            versions(
                &facts("push", "refs/heads/main"),
                &rules(&[
                    "type=edge",
                    "type=raw,value=stable,enable=false",
                    "type=raw,value=dev,prefix=x-"
                ])
            ),
            ["edge", "x-dev"]
        );
        assert_eq!(
            versions(&facts("schedule", "refs/heads/main"), &[]),
            ["nightly", "main"]
        );
    }
}
