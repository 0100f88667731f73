//! Starting and stopping one colour of an app.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::colour::Colour;
use crate::error::DeployError;
use crate::health::{self, Probe};
use crate::process::{self, Launch, ProcessId};
use crate::shell;
use crate::spec::AppSpec;
use crate::state::{AppDir, Slot};

/// The variables a colour's commands get.
pub fn environment(
    spec: &AppSpec,
    colour: Colour,
    port: u16,
    version: &str,
) -> BTreeMap<String, String> {
    let mut env = spec.env.clone();
    env.insert("PORT".to_owned(), port.to_string());
    env.insert("SLUICE_APP".to_owned(), spec.name.clone());
    env.insert("SLUICE_COLOR".to_owned(), colour.to_string());
    env.insert("SLUICE_VERSION".to_owned(), version.to_owned());
    env
}

/// A port nothing listens on, and none of `avoid` (ports colours used
/// lately: a proxy may still hold idle connections to them).
pub fn free_port(avoid: &[u16]) -> std::io::Result<u16> {
    for _ in 0..50 {
        let port = TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
        if !avoid.contains(&port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no free port found"))
}

pub struct Started {
    pub child: Child,
    pub slot: Slot,
}

pub fn start(
    spec: &AppSpec,
    dir: &AppDir,
    colour: Colour,
    port: u16,
    version: &str,
) -> Result<Started, DeployError> {
    if !spec.dir.is_dir() {
        return Err(DeployError::Config {
            app: spec.name.clone(),
            key: "dir",
            value: spec.dir.display().to_string(),
            problem: "no such directory".to_owned(),
        });
    }
    let log = dir.colour_log(colour);
    if let Ok(mut file) = process::open_log(&log) {
        let _ = writeln!(
            file,
            "--- sluice deploy: {} {version} as {colour} on port {port}",
            spec.name
        );
    }
    let args = vec!["-c".to_owned(), spec.start.clone()];
    let env = environment(spec, colour, port, version);
    let child = process::spawn_detached(&Launch {
        program: "sh",
        args: &args,
        dir: &spec.dir,
        env: &env,
        log: &log,
    })
    .map_err(|source| DeployError::Spawn {
        app: spec.name.clone(),
        what: format!("{colour} ({})", spec.start),
        source,
    })?;
    let slot = Slot {
        version: version.to_owned(),
        port,
        process: Some(ProcessId::of(child.id())),
        started_at_ms: now_ms(),
    };
    Ok(Started { child, slot })
}

/// Waits until the colour answers its health path, it exits, or the
/// deploy's time is up.
pub fn wait_healthy(
    spec: &AppSpec,
    dir: &AppDir,
    colour: Colour,
    started: &mut Started,
    deadline: Instant,
) -> Result<(), String> {
    loop {
        if let Ok(Some(status)) = started.child.try_wait()
            && (spec.stop.is_none() || !status.success())
        {
            return Err(format!(
                "the start command exited ({status}) before the app was healthy; its last lines: {}",
                one_line(&process::log_tail(&dir.colour_log(colour), 5))
            ));
        }
        let last = health::probe(started.slot.port, &spec.health, spec.timeouts.health_check);
        if last == Probe::Healthy {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not healthy within the deploy timeout ({:?}): GET {} on port {} {last}",
                spec.timeouts.deploy, spec.health, started.slot.port
            ));
        }
        std::thread::sleep(spec.timeouts.health_interval);
    }
}

/// Stops a colour: its `stop` command if the app has one, then whatever
/// is left of the process it started.
pub fn stop(spec: &AppSpec, colour: Colour, slot: &Slot, child: Option<&mut Child>) {
    if let Some(stop) = &spec.stop {
        let env = environment(spec, colour, slot.port, &slot.version);
        let _ = shell::run(stop, &spec.dir, &env, spec.timeouts.stop);
    }
    if let Some(process) = slot.process {
        process.stop(spec.timeouts.stop);
    }
    if let Some(child) = child {
        let _ = child.wait();
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" | ")
}

/// How long until `deadline`, at least a moment.
pub fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100))
}
