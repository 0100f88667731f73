//! The client side of the API: requests to a Sluice server from the
//! command line (`sluice dispatch --server`), here so that all of
//! Sluice's HTTP is in this crate. Made with `curl` (TLS included, as the
//! notifier's deliveries are): the token travels in a header of the
//! configuration curl reads on its standard input, never on a command
//! line another user could read.

use std::io::Write;
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot run curl (is it installed?): {0}")]
    Spawn(std::io::Error),
    /// What curl said (it names hosts, never a URL's path).
    #[error("{0}")]
    Failed(String),
}

/// POSTs `body` (JSON) to `url`, with `token` as a bearer token; the
/// status and the response's body.
pub fn post_json(url: &str, token: Option<&str>, body: &str) -> Result<(u16, String), HttpError> {
    post(url, token, body, 30)
}

/// [`post_json`], giving up after `timeout_seconds`. The URL too goes
/// through curl's standard input: a webhook URL's path is often its
/// credential.
pub fn post(
    url: &str,
    token: Option<&str>,
    body: &str,
    timeout_seconds: u64,
) -> Result<(u16, String), HttpError> {
    let marker = "\n--sluice-status:";
    // curl reads its options from standard input (`--config -`), so the
    // token never appears in the process list; the body follows from a pipe.
    let mut config = String::new();
    config.push_str(&format!("url = \"{}\"\n", quote(url)));
    config.push_str("header = \"Content-Type: application/json\"\n");
    if let Some(token) = token {
        config.push_str(&format!(
            "header = \"Authorization: Bearer {}\"\n",
            quote(token)
        ));
    }
    config.push_str(&format!("data-binary = \"{}\"\n", quote(body)));
    config.push_str(&format!(
        "write-out = \"{}%{{http_code}}\"\n",
        quote(marker)
    ));
    let mut child = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            &timeout_seconds.to_string(),
            "--config",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(HttpError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(config.as_bytes());
    }
    let output = child.wait_with_output().map_err(HttpError::Spawn)?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let failed = HttpError::Failed;
    let Some((response, status)) = text.rsplit_once(marker) else {
        return Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    };
    match status.trim().parse::<u16>() {
        Ok(status) if status > 0 => Ok((status, response.to_owned())),
        _ => Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        )),
    }
}

/// A value inside a double-quoted curl config string.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
