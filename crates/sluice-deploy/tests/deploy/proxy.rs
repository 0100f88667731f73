//! The switching proxy, run in the test's process, between real clients
//! and colours.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use sluice_deploy::control::{self, Request};
use sluice_deploy::{AppDir, Colour};

use crate::backend::Backend;

struct Proxy {
    _place: tempfile::TempDir,
    dir: AppDir,
    port: u16,
}

impl Proxy {
    fn start_with(place: tempfile::TempDir, route: Option<(Colour, u16)>) -> Proxy {
        Proxy::start_timed(place, route, Duration::from_secs(60))
    }

    fn start_timed(
        place: tempfile::TempDir,
        route: Option<(Colour, u16)>,
        answer_timeout: Duration,
    ) -> Proxy {
        let dir = AppDir::create(place.path(), "web").unwrap();
        if let Some((colour, port)) = route {
            std::fs::write(
                dir.dir.join("route.json"),
                format!("{{\"colour\": \"{colour}\", \"port\": {port}}}"),
            )
            .unwrap();
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen: SocketAddr = ([127, 0, 0, 1], port).into();
        let served = dir.clone();
        std::thread::spawn(move || sluice_deploy::proxy::run(&served, listen, answer_timeout));
        let proxy = Proxy {
            _place: place,
            dir,
            port,
        };
        for _ in 0..200 {
            if proxy.ask(&Request::Ping).is_ok() && TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                return proxy;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the proxy did not start");
    }

    fn start() -> Proxy {
        Proxy::start_with(tempfile::tempdir().unwrap(), None)
    }

    fn ask(&self, request: &Request) -> Result<control::Answer, control::ControlError> {
        control::ask(&self.dir.socket(), request)
    }

    fn route(&self, colour: Colour, port: u16) {
        self.ask(&Request::Route { colour, port }).unwrap();
    }

    fn drained(&self, port: u16) -> bool {
        self.ask(&Request::Drained { port })
            .unwrap()
            .drained
            .unwrap()
    }

    fn get(&self, path: &str) -> (u16, String) {
        let output = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .arg(format!("http://127.0.0.1:{}{path}", self.port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse().unwrap(), body.to_owned())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.ask(&Request::Shutdown);
    }
}

#[test]
fn without_a_route_the_proxy_answers_503() {
    let proxy = Proxy::start();
    assert_eq!(proxy.get("/").0, 503);
}

#[test]
fn a_slow_request_finishes_on_the_old_colour_after_the_switch_and_only_then_is_it_drained() {
    let (blue, green) = (Backend::start("blue"), Backend::start("green"));
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, blue.port);
    assert_eq!(proxy.get("/"), (200, "blue".to_owned()));
    let port = proxy.port;
    let slow = std::thread::spawn(move || {
        let output = Command::new("curl")
            .args(["-s", &format!("http://127.0.0.1:{port}/slow")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    });
    std::thread::sleep(Duration::from_millis(300));
    proxy.route(Colour::Green, green.port);
    assert_eq!(
        proxy.get("/"),
        (200, "green".to_owned()),
        "new requests go to green at once"
    );
    assert!(
        !proxy.drained(blue.port),
        "the slow request still uses blue"
    );
    assert_eq!(
        proxy
            .ask(&Request::Drained { port: blue.port })
            .unwrap()
            .in_flight,
        Some(1)
    );
    assert_eq!(
        slow.join().unwrap(),
        "blue",
        "the request under way finished where it began"
    );
    assert!(proxy.drained(blue.port));
    assert!(!proxy.drained(green.port), "green is routed to");
    let stats = proxy.ask(&Request::Stats).unwrap();
    assert_eq!(stats.traffic(Colour::Blue).requests, 2);
    assert_eq!(stats.traffic(Colour::Green).requests, 1);
}

#[test]
fn http2_clients_reach_http1_colours_with_the_host_and_forwarded_headers() {
    let blue = Backend::start("blue");
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, blue.port);
    let output = Command::new("curl")
        .args(["-s", "--http2-prior-knowledge"])
        .args(["-w", "\n%{http_version}"])
        .arg(format!("http://127.0.0.1:{}/headers", proxy.port))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let (headers, version) = text.rsplit_once('\n').unwrap();
    assert_eq!(version, "2", "{text}");
    let headers = headers.to_ascii_lowercase();
    assert!(
        headers.contains(&format!("host: 127.0.0.1:{}", proxy.port)),
        "{headers}"
    );
    assert!(headers.contains("x-forwarded-for: 127.0.0.1"), "{headers}");
    assert!(headers.contains("x-forwarded-proto: http"), "{headers}");
}

#[test]
fn headers_about_the_client_connection_stay_on_that_hop() {
    let blue = Backend::start("blue");
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, blue.port);
    let output = Command::new("curl")
        .args([
            "-s",
            "--http1.1",
            "-H",
            "Connection: keep-alive, X-Secret-Hop",
            "-H",
            "X-Secret-Hop: 1",
        ])
        .args(["-H", "Keep-Alive: timeout=5", "-H", "X-Kept: yes"])
        .arg(format!("http://127.0.0.1:{}/headers", proxy.port))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
    assert!(headers.contains("x-kept: yes"), "{headers}");
    assert!(
        !headers.contains("x-secret-hop"),
        "named by Connection: {headers}"
    );
    assert!(!headers.contains("keep-alive: timeout"), "{headers}");
}

#[test]
fn an_upgraded_connection_passes_bytes_both_ways_and_keeps_its_colour_until_closed() {
    let (blue, green) = (Backend::start("blue"), Backend::start("green"));
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, blue.port);
    let mut socket = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
        )
        .unwrap();
    let head = read_until(&mut socket, b"\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    socket.write_all(b"hello").unwrap();
    assert_eq!(read_until(&mut socket, b"hello"), "blue:hello");
    proxy.route(Colour::Green, green.port);
    socket.write_all(b"again").unwrap();
    assert_eq!(
        read_until(&mut socket, b"again"),
        "blue:again",
        "an open upgrade stays on its colour"
    );
    assert!(
        !proxy.drained(blue.port),
        "blue is in use by the upgraded connection"
    );
    drop(socket);
    let mut drained = false;
    for _ in 0..100 {
        drained = proxy.drained(blue.port);
        if drained {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(drained, "closing the connection drains blue");
}

#[test]
fn a_restarted_proxy_routes_where_the_route_file_says() {
    let green = Backend::start("green");
    let proxy = Proxy::start_with(
        tempfile::tempdir().unwrap(),
        Some((Colour::Green, green.port)),
    );
    assert_eq!(proxy.get("/"), (200, "green".to_owned()));
}

#[test]
fn a_colour_that_does_not_answer_is_a_502_counted_as_unreachable() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, closed);
    assert_eq!(proxy.get("/").0, 502);
    let stats = proxy.ask(&Request::Stats).unwrap();
    assert_eq!(stats.traffic(Colour::Blue).unreachable, 1);
}

#[test]
fn a_control_request_that_is_not_one_is_refused() {
    let proxy = Proxy::start();
    let mut socket = std::os::unix::net::UnixStream::connect(proxy.dir.socket()).unwrap();
    socket
        .write_all(b"{\"op\": \"launch-missiles\"}\n")
        .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    assert!(
        answer.contains("\"ok\":false") && answer.contains("not a control request"),
        "{answer}"
    );
}

fn read_until(socket: &mut TcpStream, end: &[u8]) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(end) {
        match socket.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_colour_that_hangs_is_answered_504_and_counted() {
    let blue = Backend::start("blue");
    let proxy = Proxy::start_timed(
        tempfile::tempdir().unwrap(),
        None,
        Duration::from_millis(300),
    );
    proxy.route(Colour::Blue, blue.port);
    let started = std::time::Instant::now();
    assert_eq!(proxy.get("/hang").0, 504);
    assert!(started.elapsed() < Duration::from_secs(2));
    let traffic = proxy.ask(&Request::Stats).unwrap().traffic(Colour::Blue);
    assert_eq!(
        (traffic.started, traffic.requests, traffic.server_errors),
        (1, 1, 1)
    );
}

#[test]
fn an_http10_request_without_host_reaches_the_colour_with_one() {
    let blue = Backend::start("blue");
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, blue.port);
    let mut socket = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.write_all(b"GET /headers HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains(&format!("host: 127.0.0.1:{}", blue.port)),
        "{answer}"
    );
}

#[test]
fn split_http2_cookies_reach_an_http1_colour_joined() {
    let blue = Backend::start("blue");
    let proxy = Proxy::start();
    proxy.route(Colour::Blue, blue.port);
    let output = Command::new("curl")
        .args([
            "-s",
            "--http2-prior-knowledge",
            "-H",
            "Cookie: a=1",
            "-H",
            "Cookie: b=2",
        ])
        .arg(format!("http://127.0.0.1:{}/headers", proxy.port))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
    assert!(headers.contains("cookie: a=1; b=2"), "{headers}");
}
