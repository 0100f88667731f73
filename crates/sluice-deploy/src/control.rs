//! The proxy's control socket: one JSON request per line, one JSON answer
//! per line, on a Unix socket in the app's private state directory (so
//! only its user can steer traffic).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::colour::Colour;
use crate::stats::Traffic;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Ping,
    /// New requests go to `port` from now on.
    Route {
        colour: Colour,
        port: u16,
    },
    /// Running totals per colour.
    Stats,
    /// Whether no request, response or upgraded connection still uses
    /// `port` (the colour it was is drained).
    Drained {
        port: u16,
    },
    /// Stop accepting and exit once in-flight requests are done.
    Shutdown,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answer {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue: Option<Traffic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub green: Option<Traffic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drained: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<u64>,
}

impl Answer {
    pub fn traffic(&self, colour: Colour) -> Traffic {
        match colour {
            Colour::Blue => self.blue.clone(),
            Colour::Green => self.green.clone(),
        }
        .unwrap_or_default()
    }
}

/// Why a control request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("an answer that is not Sluice's: {0}")]
    Garbled(#[from] serde_json::Error),
    #[error("{0}")]
    Refused(String),
}

/// Sends one request and reads its answer.
pub fn ask(socket: &Path, request: &Request) -> Result<Answer, ControlError> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    let answer: Answer = serde_json::from_str(&answer)?;
    match (&answer.ok, &answer.error) {
        (false, Some(error)) => Err(ControlError::Refused(error.clone())),
        _ => Ok(answer),
    }
}
