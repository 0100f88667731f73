//! The proxy's side of the control socket (see `crate::control`).

use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::table::Table;
use crate::control::{Answer, Request};
use crate::error::DeployError;

pub(super) fn bind(path: &Path) -> Result<UnixListener, DeployError> {
    // A socket left by a proxy that died is in the way; anything else
    // there is not ours to remove.
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        let _ = std::fs::remove_file(path);
    }
    UnixListener::bind(path).map_err(|e| DeployError::io("listen on", path, e))
}

pub(super) async fn serve(listener: UnixListener, table: Arc<Table>, stop: watch::Sender<bool>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let table = table.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _ = answer(stream, &table, &stop).await;
        });
    }
}

async fn answer(
    stream: UnixStream,
    table: &Table,
    stop: &watch::Sender<bool>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // A line longer than any request is not one of ours.
    let mut reader = BufReader::new(read.take(64 * 1024));
    reader.read_line(&mut line).await?;
    let answer = match serde_json::from_str::<Request>(&line) {
        Ok(request) => obey(request, table, stop),
        Err(e) => Answer {
            error: Some(format!("not a control request: {e}")),
            ..Answer::default()
        },
    };
    let mut text = serde_json::to_vec(&answer).unwrap_or_default();
    text.push(b'\n');
    write.write_all(&text).await
}

fn obey(request: Request, table: &Table, stop: &watch::Sender<bool>) -> Answer {
    let ok = Answer {
        ok: true,
        pid: Some(std::process::id()),
        ..Answer::default()
    };
    match request {
        Request::Ping => ok,
        Request::Route { colour, port } => {
            table.switch(colour, port);
            ok
        }
        Request::Stats => {
            let [blue, green] = table.traffic();
            Answer {
                blue: Some(blue),
                green: Some(green),
                ..ok
            }
        }
        Request::Drained { port } => Answer {
            drained: Some(table.drained(port)),
            in_flight: Some(table.in_flight(port)),
            ..ok
        },
        Request::Shutdown => {
            let _ = stop.send(true);
            ok
        }
    }
}
