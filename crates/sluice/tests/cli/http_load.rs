//! Steady load for deploy tests: clients that each hold one keep-alive
//! HTTP/1.1 connection and send requests back to back, recording every
//! answer with its time.
//!
//! A client behaves as real ones do (RFC 9112 §9.3.1): when a reused
//! connection turns out closed before any byte of the answer came, it
//! reconnects and sends the request again. Anything else is a failure:
//! an error on a fresh connection, or a connection that broke mid-answer.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Instant,
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub answers: Vec<Answer>,
    pub failures: Vec<String>,
    /// Requests sent again because a reused connection was found closed.
    pub resent: usize,
}

impl Tally {
    pub fn count(&self, status: u16, body: &str) -> usize {
        self.answers
            .iter()
            .filter(|a| a.status == status && a.body == body)
            .count()
    }
    pub fn with_status(&self, status: u16) -> usize {
        self.answers.iter().filter(|a| a.status == status).count()
    }
}

pub struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Tally>>,
}

impl Load {
    pub fn start(port: u16, clients: usize, pause: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || client(port, &stop, pause))
            })
            .collect();
        Load { stop, clients }
    }

    pub fn finish(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Tally::default();
        for client in self.clients {
            let tally = client.join().expect("client thread");
            all.answers.extend(tally.answers);
            all.failures.extend(tally.failures);
            all.resent += tally.resent;
        }
        all.answers.sort_by_key(|a| a.at);
        all
    }
}

fn client(port: u16, stop: &AtomicBool, pause: Duration) -> Tally {
    let mut tally = Tally::default();
    let mut connection: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::SeqCst) {
        let reused = connection.is_some();
        let stream = match connection.take() {
            Some(stream) => stream,
            None => match connect(port) {
                Ok(stream) => stream,
                Err(e) => {
                    tally.failures.push(format!("connect: {e}"));
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            },
        };
        match exchange(stream) {
            Ok((answer, stream)) => {
                tally.answers.push(answer);
                connection = stream;
            }
            Err(Broke::BeforeAnswer(_)) if reused => {
                tally.resent += 1;
                continue;
            }
            Err(broke) => tally.failures.push(format!("{broke:?}")),
        }
        std::thread::sleep(pause);
    }
    tally
}

fn connect(port: u16) -> std::io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

#[derive(Debug)]
enum Broke {
    BeforeAnswer(String),
    MidAnswer(String),
}

/// One request and its answer; the connection back if it stays open.
fn exchange(
    mut stream: BufReader<TcpStream>,
) -> Result<(Answer, Option<BufReader<TcpStream>>), Broke> {
    let request = b"GET / HTTP/1.1\r\nHost: test\r\nUser-Agent: sluice-test\r\n\r\n";
    stream
        .get_mut()
        .write_all(request)
        .map_err(|e| Broke::BeforeAnswer(e.to_string()))?;
    let mut status_line = String::new();
    match stream.read_line(&mut status_line) {
        Ok(0) => return Err(Broke::BeforeAnswer("closed".into())),
        Ok(_) => {}
        Err(e) => return Err(Broke::BeforeAnswer(e.to_string())),
    }
    let at = Instant::now();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Broke::MidAnswer(format!("status line {status_line:?}")))?;
    let mut length = 0usize;
    let mut close = false;
    loop {
        let mut line = String::new();
        stream
            .read_line(&mut line)
            .map_err(|e| Broke::MidAnswer(e.to_string()))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value
                .trim()
                .parse()
                .map_err(|_| Broke::MidAnswer(line.to_string()))?;
        }
        if lower.starts_with("connection:") && lower.contains("close") {
            close = true;
        }
    }
    let mut body = vec![0; length];
    stream
        .read_exact(&mut body)
        .map_err(|e| Broke::MidAnswer(e.to_string()))?;
    let answer = Answer {
        at,
        status,
        body: String::from_utf8_lossy(&body).trim().to_string(),
    };
    Ok((answer, (!close).then_some(stream)))
}

/// One request on a fresh connection: (status, body).
pub fn get(port: u16) -> Option<(u16, String)> {
    let stream = connect(port).ok()?;
    exchange(stream).ok().map(|(a, _)| (a.status, a.body))
}
