//! Traffic per colour from nginx's access log, written with
//!
//! ```nginx
//! log_format sluice '$upstream_addr $status $upstream_response_time';
//! access_log /path/to/access.log sluice;
//! ```
//!
//! The log is read from where it ended when the deploy began; each line is
//! counted for the colour whose port served it (the last address when
//! nginx tried several).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use crate::stats::Traffic;

pub(super) struct AccessLog {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    /// Totals per port seen since the deploy began.
    per_port: Vec<(u16, Traffic)>,
}

impl AccessLog {
    /// Starts at the log's current end: earlier lines are history.
    pub fn from_end(path: PathBuf) -> AccessLog {
        let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
        AccessLog {
            path,
            offset,
            partial: Vec::new(),
            per_port: Vec::new(),
        }
    }

    pub fn traffic(&mut self, port: u16) -> std::io::Result<Traffic> {
        self.read_new_lines()?;
        Ok(self
            .per_port
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, t)| t.clone())
            .unwrap_or_default())
    }

    fn read_new_lines(&mut self) -> std::io::Result<()> {
        let mut file = File::open(&self.path)?;
        let length = file.metadata()?.len();
        if length < self.offset {
            // Rotated or truncated: what is there now is all new.
            self.offset = 0;
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut fresh = Vec::new();
        file.take(64 * 1024 * 1024).read_to_end(&mut fresh)?;
        self.offset += fresh.len() as u64;
        self.partial.extend_from_slice(&fresh);
        let Some(last_newline) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let complete: Vec<u8> = self.partial.drain(..=last_newline).collect();
        for line in complete.split(|&b| b == b'\n') {
            if let Some(entry) = std::str::from_utf8(line).ok().and_then(parse_line) {
                self.count(entry);
            }
        }
        Ok(())
    }

    fn count(&mut self, entry: Entry) {
        let index = match self.per_port.iter().position(|(p, _)| *p == entry.port) {
            Some(index) => index,
            None => {
                self.per_port.push((entry.port, Traffic::default()));
                self.per_port.len() - 1
            }
        };
        self.per_port[index]
            .1
            .record(Some(entry.status), entry.latency);
    }
}

/// One access-log line: which colour's port served, with what status,
/// in how long.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub port: u16,
    pub status: u16,
    pub latency: Duration,
}

/// `127.0.0.1:41234 200 0.004`, or with retries
/// `127.0.0.1:1, 127.0.0.1:2 200 0.001, 0.003`.
pub fn parse_line(line: &str) -> Option<Entry> {
    let fields: Vec<&str> = line.split(' ').filter(|f| !f.is_empty()).collect();
    // Addresses and times may be lists joined by ", ": the status is the
    // one field that is a bare three-digit number.
    let status_at = fields
        .iter()
        .position(|f| f.len() == 3 && f.bytes().all(|b| b.is_ascii_digit()))?;
    let address = fields[..status_at].last()?.trim_end_matches(',');
    let port = address.rsplit(':').next()?.parse().ok()?;
    let status: u16 = fields[status_at].parse().ok().filter(|s| *s >= 100)?;
    let seconds: f64 = fields[status_at + 1..]
        .iter()
        .filter_map(|t| t.trim_end_matches(',').parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0)
        .sum();
    Some(Entry {
        port,
        status,
        latency: Duration::try_from_secs_f64(seconds).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_line_of_the_sluice_log_format() {
        assert_eq!(
            parse_line("127.0.0.1:41234 200 0.004"),
            Some(Entry {
                port: 41234,
                status: 200,
                latency: Duration::from_millis(4)
            })
        );
        let retried = parse_line("127.0.0.1:1000, 127.0.0.1:2000 502 0.001, 0.002").unwrap();
        assert_eq!((retried.port, retried.status), (2000, 502));
        assert_eq!(parse_line("- 400 -"), None);
        assert_eq!(parse_line("garbage"), None);
        assert_eq!(parse_line("127.0.0.1:1 000 0.1"), None);
        assert_eq!(parse_line(""), None);
    }
}
