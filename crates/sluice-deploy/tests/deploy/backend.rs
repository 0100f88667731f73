//! A colour for proxy tests: an HTTP/1.1 server on a loopback port that
//! answers its name, keeps connections alive, hangs on `/hang`, refuses a target that is
//! not a path (400), answers `/slow` after a
//! second, echoes what it was told on `/headers`, and on an `Upgrade`
//! request answers 101 and echoes bytes from then on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

pub struct Backend {
    pub port: u16,
}

impl Backend {
    pub fn start(name: &'static str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream, name));
            }
        });
        Backend { port }
    }
}

fn serve(stream: TcpStream, name: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
            headers.push(line.trim_end().to_owned());
        }
        if !path.starts_with('/') {
            // A server sees the origin form; an absolute URI here means
            // the proxy forwarded the form meant for a proxy.
            let _ = writer.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            continue;
        }
        let upgrade = headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("upgrade:"));
        if upgrade {
            let _ = writer.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n",
            );
            let mut buffer = [0u8; 1024];
            loop {
                match reader.read(&mut buffer) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let mut echoed = name.as_bytes().to_vec();
                        echoed.push(b':');
                        echoed.extend_from_slice(&buffer[..n]);
                        if writer.write_all(&echoed).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        if path == "/slow" {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        if path == "/hang" {
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
        let body = if path == "/headers" {
            headers.join("\n")
        } else {
            name.to_owned()
        };
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
