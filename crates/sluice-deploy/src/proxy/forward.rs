//! One request through the proxy: routed with the table's current target,
//! sent to the colour over a pooled HTTP/1.1 connection, answered back
//! over whatever the client spoke (HTTP/1.1 or HTTP/2). Upgrades
//! (WebSocket) are handed through as a byte stream once both sides agreed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;

use super::affinity::Affinity;
use super::table::{Table, Target};
use super::tracked_body::TrackedBody;

pub(crate) type ProxyBody = BoxBody<Bytes, hyper::Error>;
pub(crate) type Upstream = Client<HttpConnector, Incoming>;

/// What one client connection's requests share.
pub(crate) struct Connection {
    pub table: Arc<Table>,
    pub pool: Upstream,
    pub affinity: Affinity,
    pub peer: SocketAddr,
    /// How long a colour may take to begin its answer: a hung version
    /// answers 504 (and the watch counts it) instead of holding clients.
    pub answer_timeout: std::time::Duration,
}

pub(crate) async fn handle(
    connection: Arc<Connection>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, std::convert::Infallible> {
    let table = &connection.table;
    let peer = connection.peer;
    let Some(route) = table.current() else {
        return Ok(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "no version is deployed yet\n",
        ));
    };
    let started = Instant::now();
    table.begin(route.colour);
    let sent = async {
        if is_upgrade(&request) {
            upgrade(route.clone(), peer, request).await
        } else {
            forward(&connection, &route, peer, request).await
        }
    };
    let answer = match tokio::time::timeout(connection.answer_timeout, sent).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(Failed)) => plain(StatusCode::BAD_GATEWAY, "the app did not answer\n"),
        Err(_) => plain(
            StatusCode::GATEWAY_TIMEOUT,
            "the app did not answer in time\n",
        ),
    };
    let status = match answer.status() {
        StatusCode::BAD_GATEWAY if answer.headers().contains_key(FROM_PROXY) => None,
        status => Some(status.as_u16()),
    };
    table.record(route.colour, status, started.elapsed());
    Ok(answer)
}

async fn forward(
    connection: &Connection,
    route: &Arc<Target>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Failed> {
    let multiplexed = request.version() == Version::HTTP_2;
    let target = if multiplexed {
        Addressing::Pool(route.port)
    } else {
        Addressing::Connection(route.port)
    };
    let request = to_upstream(request, target, peer, false)?;
    let response = if multiplexed {
        connection.pool.request(request).await.map_err(|_| Failed)?
    } else {
        connection
            .affinity
            .send(route.port, request)
            .await
            .map_err(|_| Failed)?
    };
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers, false);
    let body = TrackedBody::new(body, route.clone()).boxed();
    Ok(Response::from_parts(parts, body))
}

/// A WebSocket (or other HTTP/1.1 upgrade): its own connection to the
/// colour, kept in use (the route held) until either side closes.
async fn upgrade(
    route: Arc<Target>,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Failed> {
    let client_side = hyper::upgrade::on(&mut request);
    let request = to_upstream(request, Addressing::Connection(route.port), peer, true)?;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", route.port))
        .await
        .map_err(|_| Failed)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|_| Failed)?;
    tokio::spawn(connection.with_upgrades());
    let mut response = sender.send_request(request).await.map_err(|_| Failed)?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let colour_side = hyper::upgrade::on(&mut response);
        let held = route.clone();
        tokio::spawn(async move {
            let _held = held;
            if let (Ok(client), Ok(colour)) = (client_side.await, colour_side.await) {
                let mut client = TokioIo::new(client);
                let mut colour = TokioIo::new(colour);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut colour).await;
            }
        });
    }
    let (mut parts, body) = response.into_parts();
    if parts.status != StatusCode::SWITCHING_PROTOCOLS {
        // Refused: an ordinary answer, handled as `forward` does.
        strip_hop_by_hop(&mut parts.headers, false);
        let body = TrackedBody::new(body, route).boxed();
        return Ok(Response::from_parts(parts, body));
    }
    Ok(Response::from_parts(parts, body.boxed()))
}

#[derive(Debug)]
struct Failed;

/// Marks the proxy's own 502s, to tell them from an app's.
const FROM_PROXY: HeaderName = HeaderName::from_static("x-sluice-proxy");

fn target_port(addressing: Addressing) -> u16 {
    match addressing {
        Addressing::Pool(port) | Addressing::Connection(port) => port,
    }
}

/// HTTP/2 may split `cookie` into several fields; HTTP/1.1 servers read
/// one, joined with "; " (RFC 9113 §8.2.3).
fn join_cookies(headers: &mut HeaderMap) {
    let values: Vec<&[u8]> = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    if values.len() < 2 {
        return;
    }
    let joined = values.join(&b"; "[..]);
    if let Ok(value) = HeaderValue::from_bytes(&joined) {
        headers.insert(header::COOKIE, value);
    }
}

/// Where a request goes, and how it names its target there.
#[derive(Clone, Copy)]
enum Addressing {
    /// Through the pool: the absolute form tells the pool where to go.
    Pool(u16),
    /// Over a connection already made to the colour (at this port): the
    /// origin form (`/path?query`), as a server expects.
    Connection(u16),
}

fn to_upstream(
    request: Request<Incoming>,
    target: Addressing,
    peer: SocketAddr,
    keep_upgrade: bool,
) -> Result<Request<Incoming>, Failed> {
    let (mut parts, body) = request.into_parts();
    // HTTP/2 carries the host in the URI's authority, and so does an
    // absolute-form request, which then wins over a Host header (RFC
    // 9112 §3.2.2); an HTTP/1.0 request may carry none, and HTTP/1.1
    // requires one.
    let host = parts
        .uri
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        .or_else(|| parts.headers.get(header::HOST).cloned())
        .or_else(|| HeaderValue::from_str(&format!("127.0.0.1:{}", target_port(target))).ok());
    if parts.version == Version::HTTP_2 {
        join_cookies(&mut parts.headers);
    }
    let origin_form = parts.uri.scheme().is_none() && parts.uri.authority().is_none();
    match target {
        Addressing::Pool(port) => {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            parts.uri = format!("http://127.0.0.1:{port}{path}")
                .parse()
                .map_err(|_| Failed)?;
        }
        Addressing::Connection(_) if origin_form => {}
        Addressing::Connection(_) => {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            parts.uri = path.parse().map_err(|_| Failed)?;
        }
    }
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers, keep_upgrade);
    if let Some(host) = &host {
        parts.headers.insert(header::HOST, host.clone());
        parts.headers.insert(X_FORWARDED_HOST, host.clone());
    }
    append_forwarded_for(&mut parts.headers, peer);
    parts
        .headers
        .insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    Ok(Request::from_parts(parts, body))
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

fn append_forwarded_for(headers: &mut HeaderMap, peer: SocketAddr) {
    let ip = peer.ip().to_string();
    let value = match headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {ip}"),
        None => ip,
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(X_FORWARDED_FOR, value);
    }
}

/// Headers about one connection (RFC 9110 §7.6.1) stay on that
/// connection; HTTP/2 forbids them outright.
fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .filter(|name| !(keep_upgrade && name == header::UPGRADE))
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::PROXY_AUTHORIZATION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
    ] {
        headers.remove(name);
    }
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::CONNECTION);
        headers.remove(header::UPGRADE);
    }
}

fn is_upgrade(request: &Request<Incoming>) -> bool {
    request.version() == Version::HTTP_11
        && request.headers().contains_key(header::UPGRADE)
        && request
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            })
}

fn plain(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut response = plain_answer(status, text);
    response
        .headers_mut()
        .insert(FROM_PROXY, HeaderValue::from_static("1"));
    response
}

fn plain_answer(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let body = Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
