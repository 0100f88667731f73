//! One upstream connection per HTTP/1.1 client connection.
//!
//! An HTTP/1.1 connection carries one request at a time, so the proxy can
//! give each client connection a connection of its own to the colour,
//! reused for as long as the route stays, instead of taking one from a
//! shared pool for every request (a lock and a lookup each time). A switch
//! is seen on the next request: its route has another port, and a new
//! connection is made to it. HTTP/2 clients multiplex, and use the pool.

use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::Mutex;

#[derive(Default)]
pub(crate) struct Affinity {
    upstream: Mutex<Option<Held>>,
}

struct Held {
    port: u16,
    sender: SendRequest<Incoming>,
}

#[derive(Debug)]
pub(crate) struct Unreachable;

impl Affinity {
    /// Sends `request` to `port` over this client connection's upstream
    /// connection, made anew if it is to another port or closed. A request
    /// the old connection could not even start to send (the colour closed
    /// it while idle) is sent again on a new one.
    pub async fn send(
        &self,
        port: u16,
        request: Request<Incoming>,
    ) -> Result<Response<Incoming>, Unreachable> {
        let mut held = self.upstream.lock().await;
        let reusable = held
            .as_ref()
            .is_some_and(|h| h.port == port && !h.sender.is_closed());
        let mut request = request;
        if reusable && let Some(current) = held.as_mut() {
            if current.sender.ready().await.is_ok() {
                match current.sender.try_send_request(request).await {
                    Ok(response) => return Ok(response),
                    Err(mut failed) => match failed.take_message() {
                        Some(unsent) => request = unsent,
                        None => {
                            *held = None;
                            return Err(Unreachable);
                        }
                    },
                }
            } else {
                return self.fresh(&mut held, port, request).await;
            }
        }
        self.fresh(&mut held, port, request).await
    }

    async fn fresh(
        &self,
        held: &mut Option<Held>,
        port: u16,
        request: Request<Incoming>,
    ) -> Result<Response<Incoming>, Unreachable> {
        *held = None;
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|_| Unreachable)?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| Unreachable)?;
        tokio::spawn(connection);
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| Unreachable)?;
        *held = Some(Held { port, sender });
        Ok(response)
    }
}
