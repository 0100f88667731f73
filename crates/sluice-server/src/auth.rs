//! API tokens: made once, shown once, kept only as a digest. A request
//! presents one as `Authorization: Bearer <token>`.

use std::io::Read;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::signature::hex;
use crate::state::Shared;

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// A new token: `sluice_` and 64 random hexadecimal characters.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!("sluice_{}", hex(&bytes)))
}

/// What the history keeps of a token.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lets the request through, or says why not. Reads pass without a
/// token when the server's reads are public.
pub(crate) async fn authorize(
    shared: &std::sync::Arc<Shared>,
    headers: &HeaderMap,
    access: Access,
) -> Result<(), ApiError> {
    if access == Access::Read && shared.config.public_reads {
        return Ok(());
    }
    token_name(shared, headers).await.map(|_| ())
}

/// The name of the valid token the request presents (a decision taken
/// through the API is taken in its name), or why there is none.
pub(crate) async fn token_name(
    shared: &std::sync::Arc<Shared>,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::Unauthorized(
            "this needs a token: `Authorization: Bearer <token>` (make one with `sluice token create NAME`)"
                .into(),
        ));
    };
    let digest = token_digest(&token);
    let known = shared
        .with_history(move |history| {
            Ok(history.token_by_digest(&digest, sluice_store::timestamp::now_ms())?)
        })
        .await?;
    match known {
        Some(name) => Ok(name),
        None => Err(ApiError::Unauthorized("the token is not valid".into())),
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_owned())
}
