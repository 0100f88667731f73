//! The two parts of a job's `environment:`: its name (a string, or `name:`
//! of the mapping form) and its `url:`. They are evaluated at different
//! times: the name before the job starts, with the contexts of a job's
//! `if`; the url after its steps, when `steps.*` outputs exist.

use sluice_expr::Value;
use sluice_workflow::{Token, TokenKind};

use crate::eval_host::RunHost;

/// The token that names the environment.
fn name_part(token: &Token) -> Option<&Token> {
    match &token.kind {
        TokenKind::Mapping(entries) => entry(entries, "name"),
        _ => Some(token),
    }
}

/// The token of `url:`, in the mapping form.
fn url_part(token: &Token) -> Option<&Token> {
    match &token.kind {
        TokenKind::Mapping(entries) => entry(entries, "url"),
        _ => None,
    }
}

fn entry<'t>(
    entries: &'t [(String, sluice_workflow::Span, Token)],
    key: &str,
) -> Option<&'t Token> {
    entries
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, _, value)| value)
}

/// The environment's name; `None` when it evaluates to nothing (an
/// empty name deploys nowhere, as on GitHub).
pub(crate) fn evaluate_name(token: &Token, host: &RunHost) -> Result<Option<String>, String> {
    let Some(part) = name_part(token) else {
        return Ok(None);
    };
    let name = match host.evaluate(part)? {
        // `environment: ${{ ... }}` may give the mapping form itself.
        Value::Object(map) => map
            .get("name")
            .map(|v| v.to_display_string().into_owned())
            .unwrap_or_default(),
        Value::Null => String::new(),
        other => other.to_display_string().into_owned(),
    };
    let name = name.trim();
    Ok((!name.is_empty()).then(|| name.to_string()))
}

/// The environment's url, if it has one that is not empty.
pub(crate) fn evaluate_url(token: &Token, host: &RunHost) -> Result<Option<String>, String> {
    let Some(part) = url_part(token) else {
        return Ok(None);
    };
    let url = host.string(part)?;
    let url = url.trim();
    Ok((!url.is_empty()).then(|| url.to_string()))
}
