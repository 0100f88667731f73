//! The switching proxy: a process of its own per app (started in the
//! background by the first deploy, `sluice __proxy`), listening where the
//! app's users connect and sending each request to the live colour.
//!
//! It outlives the command that started it, and keeps no state a restart
//! would lose: the route is read from `route.json` when it starts, and
//! every later switch comes through the control socket after `route.json`
//! was written.

mod affinity;
mod control_server;
mod forward;
mod table;
mod tracked_body;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::error::DeployError;
use crate::state::AppDir;
use table::Table;

/// Serves `listen` until asked to shut down. Blocks.
/// `answer_timeout`: how long a colour may take to begin an answer.
pub fn run(dir: &AppDir, listen: SocketAddr, answer_timeout: Duration) -> Result<(), DeployError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| DeployError::io("start the proxy's runtime for", &dir.dir, e))?;
    runtime.block_on(serve(dir, listen, answer_timeout))
}

async fn serve(
    dir: &AppDir,
    listen: SocketAddr,
    answer_timeout: Duration,
) -> Result<(), DeployError> {
    let table = Arc::new(Table::default());
    if let Some(route) = dir.read_route()? {
        table.switch(route.colour, route.port);
    }
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| DeployError::io("listen on", listen.to_string(), e))?;
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let control = control_server::bind(&dir.socket())?;
    tokio::spawn(control_server::serve(control, table.clone(), stop_tx));
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: forward::Upstream = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of descriptors, say: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, peer, table.clone(), client.clone(), answer_timeout));
            }
            _ = stop_rx.changed() => break,
        }
    }
    drop(listener);
    wait_for_in_flight(&table).await;
    let _ = std::fs::remove_file(dir.socket());
    Ok(())
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    table: Arc<Table>,
    pool: forward::Upstream,
    answer_timeout: Duration,
) {
    let shared = Arc::new(forward::Connection {
        table,
        pool,
        affinity: affinity::Affinity::default(),
        peer,
        answer_timeout,
    });
    let service = service_fn(move |request| forward::handle(shared.clone(), request));
    let builder = auto::Builder::new(TokioExecutor::new());
    let _ = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service)
        .await;
}

/// Lets requests under way finish (at most five seconds) before exiting.
async fn wait_for_in_flight(table: &Table) {
    let Some(current) = table.current() else {
        return;
    };
    let port = current.port;
    drop(current);
    for _ in 0..100 {
        if table.in_flight(port) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
