//! GitHub webhook deliveries (`X-GitHub-Event` and a JSON body) read into
//! triggers. Only names and commits are taken from a payload, each checked
//! for shape: nothing in it chooses what is fetched or from where.

use serde_json::Value as Json;

use crate::pipelines::Trigger;

/// What a delivery asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Trigger(Trigger),
    /// GitHub's hello when a hook is set up.
    Ping,
    /// A known event that starts nothing (a deleted branch, a labelled
    /// pull request); the reason is told back.
    Ignored(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the body is not JSON: {0}")]
    BadJson(String),
    #[error("the payload has no `{0}`")]
    Missing(&'static str),
    #[error("the payload's `{field}` is not valid: {value:?}")]
    BadValue { field: &'static str, value: String },
    #[error("event `{0}` is not handled (push, pull_request, workflow_dispatch and ping are)")]
    UnknownEvent(String),
}

/// Reads a delivery of event `event` (the `X-GitHub-Event` header).
pub fn read(event: &str, body: &[u8]) -> Result<Delivery, WebhookError> {
    if !matches!(
        event,
        "push" | "pull_request" | "workflow_dispatch" | "ping"
    ) {
        return Err(WebhookError::UnknownEvent(printable(event)));
    }
    let payload: Json =
        serde_json::from_slice(body).map_err(|e| WebhookError::BadJson(e.to_string()))?;
    match event {
        "push" => push(payload),
        "pull_request" => pull_request(payload),
        "workflow_dispatch" => dispatch(payload),
        _ => Ok(Delivery::Ping),
    }
}

fn push(payload: Json) -> Result<Delivery, WebhookError> {
    let git_ref = checked_ref(text(&payload, "ref", "ref")?, "ref")?;
    let after = checked_sha(text(&payload, "after", "after")?, "after")?;
    let before = checked_sha(text(&payload, "before", "before")?, "before")?;
    if payload["deleted"] == Json::Bool(true) || after.bytes().all(|b| b == b'0') {
        return Ok(Delivery::Ignored(format!("{git_ref} was deleted")));
    }
    Ok(Delivery::Trigger(Trigger::Push {
        git_ref,
        before,
        after,
        payload,
    }))
}

fn pull_request(payload: Json) -> Result<Delivery, WebhookError> {
    let action = text(&payload, "action", "action")?.to_owned();
    if !matches!(
        action.as_str(),
        "opened" | "synchronize" | "reopened" | "closed"
    ) {
        return Ok(Delivery::Ignored(format!(
            "pull request action `{}` starts nothing",
            printable(&action)
        )));
    }
    let number = payload["number"]
        .as_u64()
        .ok_or(WebhookError::Missing("number"))?;
    let pr = &payload["pull_request"];
    let head_sha = checked_sha(
        text(&pr["head"], "sha", "pull_request.head.sha")?,
        "pull_request.head.sha",
    )?;
    let head_ref = checked_branch(
        text(&pr["head"], "ref", "pull_request.head.ref")?,
        "pull_request.head.ref",
    )?;
    let base_ref = checked_branch(
        text(&pr["base"], "ref", "pull_request.base.ref")?,
        "pull_request.base.ref",
    )?;
    // A head whose repository is another (or gone) is a fork's.
    let head_repo = pr["head"]["repo"]["full_name"].as_str();
    let base_repo = pr["base"]["repo"]["full_name"].as_str();
    let from_fork = match (head_repo, base_repo) {
        (Some(head), Some(base)) => !head.eq_ignore_ascii_case(base),
        (None, Some(_)) => true,
        _ => false,
    };
    Ok(Delivery::Trigger(Trigger::PullRequest {
        action,
        number,
        head_sha,
        base_ref,
        head_ref,
        from_fork,
        payload,
    }))
}

fn dispatch(payload: Json) -> Result<Delivery, WebhookError> {
    let workflow = text(&payload, "workflow", "workflow")?.to_owned();
    let git_ref = checked_ref(text(&payload, "ref", "ref")?, "ref")?;
    let mut inputs = indexmap::IndexMap::new();
    if let Some(given) = payload["inputs"].as_object() {
        for (name, value) in given {
            let value = match value {
                Json::String(s) => s.clone(),
                Json::Null => String::new(),
                other => other.to_string(),
            };
            inputs.insert(name.clone(), value);
        }
    }
    Ok(Delivery::Trigger(Trigger::Dispatch {
        workflow,
        git_ref: Some(git_ref),
        inputs,
        payload,
    }))
}

fn text<'a>(value: &'a Json, key: &str, field: &'static str) -> Result<&'a str, WebhookError> {
    value
        .get(key)
        .and_then(Json::as_str)
        .ok_or(WebhookError::Missing(field))
}

/// A full commit id (SHA-1 or SHA-256, lower-case hex).
pub fn checked_sha(value: &str, field: &'static str) -> Result<String, WebhookError> {
    let hex = value
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex && matches!(value.len(), 40 | 64) {
        Ok(value.to_owned())
    } else {
        Err(bad(field, value))
    }
}

/// A branch or tag ref (`refs/heads/...`, `refs/tags/...`) git would accept.
pub fn checked_ref(value: &str, field: &'static str) -> Result<String, WebhookError> {
    let name = value
        .strip_prefix("refs/heads/")
        .or_else(|| value.strip_prefix("refs/tags/"))
        .ok_or_else(|| bad(field, value))?;
    checked_branch(name, field)?;
    Ok(value.to_owned())
}

/// A branch name as `git check-ref-format` would take it.
pub fn checked_branch(value: &str, field: &'static str) -> Result<String, WebhookError> {
    let forbidden = |c: char| c.is_control() || " ~^:?*[\\".contains(c);
    let fine = !value.is_empty()
        && value.len() <= 255
        && !value.contains(forbidden)
        && !value.contains("..")
        && !value.contains("@{")
        && !value.starts_with(['-', '/', '.'])
        && !value.ends_with(['/', '.'])
        && !value.ends_with(".lock")
        && !value.contains("//")
        && !value.contains("/.");
    if fine {
        Ok(value.to_owned())
    } else {
        Err(bad(field, value))
    }
}

fn bad(field: &'static str, value: &str) -> WebhookError {
    WebhookError::BadValue {
        field,
        value: printable(value),
    }
}

/// At most 100 characters of `text`, controls escaped, for messages.
fn printable(text: &str) -> String {
    text.chars()
        .take(100)
        .flat_map(char::escape_debug)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA_A: &str = "1111111111111111111111111111111111111111";
    const SHA_B: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn a_push_is_read_with_its_range() {
        let body = format!(r#"{{"ref":"refs/heads/main","before":"{SHA_A}","after":"{SHA_B}"}}"#);
        let Delivery::Trigger(Trigger::Push {
            git_ref,
            before,
            after,
            ..
        }) = read("push", body.as_bytes()).unwrap()
        else {
            panic!("not a push");
        };
        assert_eq!(
            (git_ref.as_str(), before.as_str(), after.as_str()),
            ("refs/heads/main", SHA_A, SHA_B)
        );
    }

    #[test]
    fn hostile_payloads_are_refused_with_the_field() {
        for (event, body, field) in [
            (
                "push",
                r#"{"ref":"refs/heads/../x","before":"a","after":"b"}"#.to_string(),
                "ref",
            ),
            (
                "push",
                format!(
                    r#"{{"ref":"refs/heads/main","before":"{SHA_A}","after":"--upload-pack=x"}}"#
                ),
                "after",
            ),
            (
                "push",
                format!(r#"{{"ref":"main","before":"{SHA_A}","after":"{SHA_B}"}}"#),
                "ref",
            ),
            (
                "push",
                format!(r#"{{"ref":"refs/heads/a b","before":"{SHA_A}","after":"{SHA_B}"}}"#),
                "ref",
            ),
            (
                "pull_request",
                format!(
                    r#"{{"action":"opened","number":1,"pull_request":{{"head":{{"sha":"{SHA_A}","ref":"-x"}},"base":{{"ref":"main"}}}}}}"#
                ),
                "pull_request.head.ref",
            ),
        ] {
            match read(event, body.as_bytes()) {
                Err(WebhookError::BadValue { field: f, .. }) => assert_eq!(f, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(matches!(
            read("push", b"{not json"),
            Err(WebhookError::BadJson(_))
        ));
        assert!(matches!(
            read("push", b"{}"),
            Err(WebhookError::Missing("ref"))
        ));
        assert!(matches!(
            read("issues", b"{}"),
            Err(WebhookError::UnknownEvent(_))
        ));
    }

    #[test]
    fn deleted_branches_and_other_actions_start_nothing() {
        let zero = "0".repeat(40);
        let body = format!(
            r#"{{"ref":"refs/heads/gone","before":"{SHA_A}","after":"{zero}","deleted":true}}"#
        );
        assert!(matches!(
            read("push", body.as_bytes()).unwrap(),
            Delivery::Ignored(_)
        ));
        let labelled = r#"{"action":"labeled","number":3}"#;
        assert!(matches!(
            read("pull_request", labelled.as_bytes()).unwrap(),
            Delivery::Ignored(_)
        ));
        assert_eq!(read("ping", b"{\"zen\":\"hi\"}").unwrap(), Delivery::Ping);
    }
}
