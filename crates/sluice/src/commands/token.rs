//! `sluice token create NAME | ls | revoke NAME`: the API tokens of the
//! server of this repository. A token is printed once; the history keeps
//! only its SHA-256 digest.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sluice_store::timestamp::format_rfc3339_seconds;

use crate::cli::{TokenArgs, TokenCommand};
use crate::exit::ExitStatus;

pub fn token(cwd: &Path, args: &TokenArgs) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let store = history.store();
    match &args.command {
        TokenCommand::Create { name } => {
            let token = create(store, name)?;
            crate::output::line(&token);
            eprintln!(
                "token `{name}` made; it is shown only now (send it as `Authorization: Bearer <token>`)"
            );
        }
        TokenCommand::Ls => {
            let tokens = store.tokens()?;
            if tokens.is_empty() {
                crate::output::line("no tokens; make one with `sluice token create NAME`");
            }
            for token in tokens {
                let used = token.last_used_at.map_or_else(
                    || "never used".to_string(),
                    |at| format!("last used {}", format_rfc3339_seconds(at)),
                );
                crate::output::line(&format!(
                    "{}  made {}  {used}",
                    token.name,
                    format_rfc3339_seconds(token.created_at)
                ));
            }
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_token(name)? {
                bail!("there is no token named `{name}` (see `sluice token ls`)");
            }
            eprintln!("token `{name}` revoked");
        }
    }
    Ok(ExitStatus::Success)
}

/// Makes token `name` and returns it (the history keeps its digest).
pub fn create(store: &sluice_store::History, name: &str) -> Result<String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        bail!("token name `{name}`: use up to 64 letters, digits, '-', '_' or '.'");
    }
    let token = sluice_server::new_token().context("cannot read random bytes for a token")?;
    let digest = sluice_server::token_digest(&token);
    if !store.add_token(name, &digest, sluice_store::timestamp::now_ms())? {
        bail!("a token named `{name}` exists; revoke it first (`sluice token revoke {name}`)");
    }
    Ok(token)
}
