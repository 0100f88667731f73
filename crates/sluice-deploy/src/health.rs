//! Is a colour healthy: one HTTP/1.1 GET of its health path, within a
//! timeout, answered with a 2xx status.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What one check saw, for the message when a colour never gets healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Healthy,
    Status(u16),
    Unreachable(String),
}

pub fn probe(port: u16, path: &str, timeout: Duration) -> Probe {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = match TcpStream::connect_timeout(&address, timeout) {
        Ok(stream) => stream,
        Err(e) => return Probe::Unreachable(e.to_string()),
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: sluice-deploy\r\nConnection: close\r\n\r\n"
    );
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Probe::Unreachable(e.to_string());
    }
    // The status line is all we need; it fits in the first read or two.
    let mut head = Vec::with_capacity(64);
    let mut buffer = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) => return Probe::Unreachable(e.to_string()),
        }
    }
    match status_code(&head) {
        Some(code) if (200..300).contains(&code) => Probe::Healthy,
        Some(code) => Probe::Status(code),
        None => Probe::Unreachable("no HTTP status line in the answer".to_owned()),
    }
}

fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Healthy => f.write_str("healthy"),
            Probe::Status(code) => write!(f, "answered {code}"),
            Probe::Unreachable(why) => write!(f, "did not answer ({why})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::status_code;

    #[test]
    fn reads_the_status_of_a_status_line() {
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_code(b"HTTP/1.0 500 Oops\r\n"), Some(500));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(b""), None);
    }
}
