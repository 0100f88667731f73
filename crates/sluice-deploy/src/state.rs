//! An app's deploy state, kept in `<state dir>/deploy/<app>/`:
//!
//! ```text
//! state.json     which colour is live, each colour's process, port and
//!                version, a deploy in progress, the versions to roll back to
//! route.json     where the proxy sends traffic (read again when it restarts)
//! lock           flock(2)ed for the whole of a deploy, rollback or stop
//! control.sock   the proxy's control socket
//! proxy.log, blue.log, green.log
//! ```
//!
//! Both JSON files are replaced whole by rename, so a reader (or a deploy
//! killed mid-write) sees the old state or the new, never half of one.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::colour::Colour;
use crate::error::DeployError;
use crate::process::ProcessId;

const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AppState {
    pub version: u32,
    /// The colour traffic goes to.
    pub live: Option<Colour>,
    pub blue: Option<Slot>,
    pub green: Option<Slot>,
    /// Set while a deploy runs: if it is still set when the lock is taken,
    /// the command that set it died.
    pub deploying: Option<InProgress>,
    /// Versions that went live, newest first (at most `keep`).
    pub history: Vec<String>,
    pub proxy: Option<ProcessId>,
    /// Ports colours used lately, not handed out again soon.
    #[serde(default)]
    pub recent_ports: Vec<u16>,
}

/// One colour's running version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub version: String,
    pub port: u16,
    pub process: Option<ProcessId>,
    pub started_at_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InProgress {
    pub colour: Colour,
    pub version: String,
    /// Traffic already went to `colour`.
    pub switched: bool,
}

/// Where the proxy sends traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub colour: Colour,
    pub port: u16,
}

impl AppState {
    pub fn slot(&self, colour: Colour) -> Option<&Slot> {
        match colour {
            Colour::Blue => self.blue.as_ref(),
            Colour::Green => self.green.as_ref(),
        }
    }

    pub fn set_slot(&mut self, colour: Colour, slot: Option<Slot>) {
        match colour {
            Colour::Blue => self.blue = slot,
            Colour::Green => self.green = slot,
        }
    }

    pub fn live_slot(&self) -> Option<(Colour, &Slot)> {
        let live = self.live?;
        Some((live, self.slot(live)?))
    }

    pub fn note_port(&mut self, port: u16) {
        self.recent_ports.insert(0, port);
        self.recent_ports.truncate(16);
    }

    pub fn remember(&mut self, version: &str, keep: usize) {
        self.history.retain(|v| v != version);
        self.history.insert(0, version.to_owned());
        self.history.truncate(keep + 1);
    }
}

/// The paths of one app's state.
#[derive(Debug, Clone)]
pub struct AppDir {
    pub dir: PathBuf,
}

impl AppDir {
    /// Creates `<state_dir>/deploy/<app>` private to the user.
    pub fn create(state_dir: &Path, app: &str) -> Result<AppDir, DeployError> {
        let dir = state_dir.join("deploy").join(app);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| DeployError::io("create", &dir, e))?;
        Ok(AppDir { dir })
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn route_file(&self) -> PathBuf {
        self.dir.join("route.json")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.join("control.sock")
    }
    pub fn proxy_log(&self) -> PathBuf {
        self.dir.join("proxy.log")
    }
    pub fn colour_log(&self, colour: Colour) -> PathBuf {
        self.dir.join(format!("{colour}.log"))
    }

    pub fn read_state(&self) -> Result<AppState, DeployError> {
        Ok(read_json(&self.state_file())?.unwrap_or(AppState {
            version: STATE_VERSION,
            ..AppState::default()
        }))
    }

    pub fn write_state(&self, state: &AppState) -> Result<(), DeployError> {
        write_json(&self.state_file(), state)
    }

    pub fn read_route(&self) -> Result<Option<Route>, DeployError> {
        read_json(&self.route_file())
    }

    pub fn write_route(&self, route: &Route) -> Result<(), DeployError> {
        write_json(&self.route_file(), route)
    }

    /// Blocks until no other deploy, rollback or stop of this app runs;
    /// `on_wait` is told once if it has to wait.
    pub fn lock(&self, on_wait: impl FnOnce()) -> Result<File, DeployError> {
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| DeployError::io("open", &path, e))?;
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => on_wait(),
            Err(std::fs::TryLockError::Error(e)) => return Err(DeployError::io("lock", &path, e)),
        }
        file.lock().map_err(|e| DeployError::io("lock", &path, e))?;
        Ok(file)
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, DeployError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DeployError::io("read", path, e)),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| DeployError::State {
            path: path.to_owned(),
            problem: format!("not a state Sluice wrote ({e}); remove it to start over"),
        })
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), DeployError> {
    let text = serde_json::to_vec_pretty(value).expect("state serialises");
    write_atomically(path, &text)
}

/// Writes `bytes` next to `path` and renames it over: readers see the old
/// content or the new, and a crash leaves at worst a stray temporary file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), DeployError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temporary = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    // create_new: never follow or reuse what someone else put there.
    let mut file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(|e| DeployError::io("write", &temporary, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| DeployError::io("write", &temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| DeployError::io("rename", path, e))
}
