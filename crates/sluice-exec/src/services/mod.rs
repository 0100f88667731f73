//! A job's services: started in parallel before its first step, checked
//! for health, exposed through `job.services`, and stopped with their
//! whole process trees and data directories when the job ends.
//!
//! Three kinds: Sluice's native `run:` services; GitHub's `postgres` and
//! `redis` images run with the host's binaries ([`host_image`]); and other
//! images through a container engine when one is running ([`engine`]).
//! Everything that can be checked is checked before anything starts, so a
//! job that cannot get its services fails without side effects.

mod data_template;
mod declaration;
mod engine_service;
mod health;
mod host_image;
mod launch;
mod ports;
pub(crate) mod words;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::Job;

use crate::eval_host::RunHost;
use crate::events::CancelLevel;
use crate::events::{Event, JobKey, LogLevel, Stream, now};
use crate::process_tree;
use crate::run_spec::Shared;
pub use declaration::{HealthCheck, PortRequest, docker_health, parse_port};
pub use words::split_words;

use crate::engine::Engine;
use declaration::{Declaration, Source};
use health::Readiness;
use host_image::HostImage;
use launch::Launch;
use ports::Assigned;

/// A service's directory is the run's scratch directory's path plus this
/// and a unique part (see [`crate::reaper`]).
pub const SERVICE_DIR_INFIX: &str = "-svc-";
/// How long a service gets to stop after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Service log lines kept in history per service (the newest).
const MAX_LOG_LINES: usize = 20_000;

/// What starting services needs from the job.
pub(crate) struct ServiceContext<'a> {
    pub shared: &'a Shared<'a>,
    pub key: &'a JobKey,
    pub host: &'a RunHost<'a>,
    /// `SLUICE_JOB_ID`, also given to the services.
    pub job_id: &'a str,
    pub cancel: &'a (dyn Fn() -> CancelLevel + Sync),
    /// The container job's network: image services join it, reached by
    /// their name.
    pub network: Option<&'a str>,
}

/// The running services of one job.
#[derive(Default)]
pub(crate) struct Services {
    running: Vec<Running>,
}

struct Running {
    name: String,
    tracking_id: String,
    dir: PathBuf,
    ports: Assigned,
    process: Process,
}

enum Process {
    Host {
        child: Child,
        log: PathBuf,
    },
    Container {
        engine: Engine,
        id: String,
    },
    /// Prepared but never started (another service failed first).
    NotStarted,
}

/// A service ready to start: everything checked, ports and directory
/// assigned.
struct Prepared {
    declaration: Declaration,
    tracking_id: String,
    dir: PathBuf,
    ports: Assigned,
    how: How,
    notices: Vec<String>,
}

enum How {
    Host(Box<Launch>),
    Container(Engine),
}

impl Services {
    /// The `job.services` context: `{name: {id, network, ports}}`.
    pub fn context(&self) -> Value {
        Value::Object(
            self.running
                .iter()
                .map(|r| {
                    let ports: IndexMap<String, Value> = r
                        .ports
                        .pairs
                        .iter()
                        .map(|(c, h)| (c.to_string(), Value::String(h.to_string())))
                        .collect();
                    let id = match &r.process {
                        Process::Container { id, .. } => id.clone(),
                        _ => r.tracking_id.clone(),
                    };
                    let mut fields = IndexMap::new();
                    fields.insert("id".to_string(), Value::String(id));
                    fields.insert("network".to_string(), Value::String(String::new()));
                    fields.insert("ports".to_string(), Value::Object(ports));
                    (r.name.clone(), Value::Object(fields))
                })
                .collect(),
        )
    }

    /// Stops every service, records its log, removes its directory.
    pub fn stop(self, shared: &Shared, key: &JobKey) {
        std::thread::scope(|scope| {
            for running in self.running {
                scope.spawn(move || stop_one(shared, key, running));
            }
        });
    }
}

/// Starts the job's services and waits until all are ready. On failure
/// nothing is left running and the message says why.
pub(crate) fn start(ctx: &ServiceContext, job: &Job) -> Result<Services, String> {
    let mut prepared = Vec::new();
    for service in job.services.values() {
        match prepare(ctx, Declaration::evaluate(service, ctx.host)) {
            Ok(p) => prepared.push(p),
            Err(message) => {
                for p in prepared {
                    discard(&p);
                }
                return Err(message);
            }
        }
    }
    for p in &prepared {
        for notice in &p.notices {
            ctx.shared.system_message(
                ctx.key,
                None,
                LogLevel::Warning,
                &format!("service {}: {notice}", p.declaration.name),
            );
        }
    }
    let results: Vec<(Running, Started)> = std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .into_iter()
            .map(|p| scope.spawn(move || start_one(ctx, p)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut services = Services::default();
    let mut failures = Vec::new();
    for (running, result) in results {
        match result {
            Ok((description, took)) => ctx.shared.system_line(
                ctx.key,
                None,
                &format!(
                    "service {}: {description}, ready after {:.2} s{}",
                    running.name,
                    took.as_secs_f64(),
                    port_list(&running.ports)
                ),
            ),
            Err(message) => failures.push(format!("service '{}': {message}", running.name)),
        }
        services.running.push(running);
    }
    if failures.is_empty() {
        Ok(services)
    } else {
        services.stop(ctx.shared, ctx.key);
        Err(failures.join("\n"))
    }
}

fn port_list(ports: &Assigned) -> String {
    if ports.pairs.is_empty() {
        return String::new();
    }
    let list: Vec<String> = ports
        .pairs
        .iter()
        .map(|(c, h)| {
            if c == h {
                format!("{h}")
            } else {
                format!("{h} (for {c})")
            }
        })
        .collect();
    format!(" on 127.0.0.1:{}", list.join(", "))
}

/// Checks a declaration and reserves what it needs.
fn prepare(
    ctx: &ServiceContext,
    declaration: Result<Declaration, String>,
) -> Result<Prepared, String> {
    let declaration = declaration?;
    let name = declaration.name.clone();
    let path_var = path_of(&ctx.shared.spec.base_env);
    let mut requests = declaration.ports.clone();
    let (how_kind, mut notices) = match &declaration.source {
        Source::Native { .. } => (Kind::Native, Vec::new()),
        Source::Image { image, options, .. } => match HostImage::recognise(image) {
            Some(host_image) => {
                let port = host_image.container_port();
                if !requests.iter().any(|r| r.container == port) {
                    requests.insert(
                        0,
                        declaration::PortRequest {
                            host: None,
                            container: port,
                        },
                    );
                }
                let mut notices = Vec::new();
                if !options.is_empty() {
                    notices.push(format!(
                        "runs {image} with the host's binaries; these options are ignored: {}",
                        options.join(" ")
                    ));
                }
                (Kind::HostImage(host_image), notices)
            }
            None => {
                match crate::engine::find(&path_var, ctx.shared.spec.container_engine.as_deref()) {
                    Some(engine) => (Kind::Engine(engine), Vec::new()),
                    None => {
                        return Err(format!(
                            "service '{name}' uses image '{image}'. Without a container engine Sluice runs only postgres and redis images (with the host's binaries), and neither docker nor podman is running here. Declare a native service instead:\n  services:\n    {name}:\n      run: <command that starts the server on $PORT>\n      ports: [<port>]\n      healthcheck: {{cmd: '<command that exits 0 when ready>', interval: 1s, retries: 30}}"
                        ));
                    }
                }
            }
        },
    };
    let ports = ports::assign(&requests).map_err(|e| format!("service '{name}': {e}"))?;
    for (asked, got) in &ports.moved {
        notices.push(format!(
            "port {asked} is in use; the service listens on {got} instead (see job.services.{name}.ports)"
        ));
    }
    let tracking_id = format!(
        "{}_svc_{}",
        ctx.shared.spec.tracking_prefix,
        crate::ids::random_hex(6)
    );
    // Beside the run's scratch directory, named after it, so the watcher
    // that cleans up after a killed Sluice finds it too. Not inside it:
    // that one is private, and a service may run as another user.
    let dir = PathBuf::from(format!(
        "{}{SERVICE_DIR_INFIX}{}-{}",
        ctx.shared.spec.temp_root.display(),
        crate::ids::random_hex(4),
        short_name(&name)
    ));
    let fail = |message: String| {
        ports.release();
        let _ = std::fs::remove_dir_all(&dir);
        Err(format!("service '{name}': {message}"))
    };
    if let Err(e) = crate::scratch::create_private_dir(&dir) {
        return fail(e.to_string());
    }
    let how = match how_kind {
        Kind::Native => {
            let Source::Native { run } = &declaration.source else {
                unreachable!("a native kind comes from a native source")
            };
            How::Host(Box::new(native_launch(run, &path_var)))
        }
        Kind::HostImage(image) => {
            let Source::Image { command, .. } = &declaration.source else {
                unreachable!("an image kind comes from an image source")
            };
            let port = ports.host_port(image.container_port()).unwrap_or_default();
            match image.launch(
                &declaration.env,
                command.as_deref(),
                port,
                &dir,
                &path_var,
                ctx.shared.spec.service_templates.as_deref(),
            ) {
                Ok(launch) => How::Host(Box::new(launch)),
                Err(e) => return fail(e),
            }
        }
        Kind::Engine(engine) => How::Container(engine),
    };
    if let How::Host(launch) = &how {
        notices.extend(launch.notices.iter().cloned());
        if let Some(user) = &launch.run_as
            && let Err(e) = launch::hand_over(&dir, user)
        {
            return fail(e);
        }
    }
    Ok(Prepared {
        declaration,
        tracking_id,
        dir,
        ports,
        how,
        notices,
    })
}

enum Kind {
    Native,
    HostImage(HostImage),
    Engine(Engine),
}

fn native_launch(run: &str, path_var: &str) -> Launch {
    let shell =
        crate::shell::find_program("bash", path_var).unwrap_or_else(|| PathBuf::from("/bin/sh"));
    Launch {
        description: "started".to_string(),
        setup: Vec::new(),
        service: launch::Program {
            path: shell,
            args: vec!["-c".into(), run.to_string()],
            stdin: None,
        },
        env: Vec::new(),
        run_as: None,
        default_health: None,
        health_env: Vec::new(),
        health_path: None,
        adjust_health: None,
        notices: Vec::new(),
        template: None,
    }
}

/// How starting one service went: (description, time to ready), or why it
/// failed.
type Started = Result<(String, Duration), String>;

/// Starts one prepared service and waits for it.
fn start_one(ctx: &ServiceContext, p: Prepared) -> (Running, Started) {
    let mut running = Running {
        name: p.declaration.name.clone(),
        tracking_id: p.tracking_id.clone(),
        dir: p.dir.clone(),
        ports: p.ports,
        process: Process::NotStarted,
    };
    let started = Instant::now();
    let result = match &p.how {
        How::Host(launch) => start_on_host(ctx, &p.declaration, launch, &mut running),
        How::Container(engine) => start_in_engine(ctx, &p.declaration, engine, &mut running),
    };
    let result = result.map(|description| (description, started.elapsed()));
    (running, result)
}

/// The variables every service process gets.
fn service_variables(
    ctx: &ServiceContext,
    declaration: &Declaration,
    running: &Running,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = declaration
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some((_, host)) = running.ports.pairs.first() {
        vars.push(("PORT".into(), host.to_string()));
    }
    for (container, host) in &running.ports.pairs {
        vars.push((format!("PORT_{container}"), host.to_string()));
    }
    vars.push(("SERVICE_DIR".into(), running.dir.display().to_string()));
    vars.push(("SLUICE_JOB_ID".into(), ctx.job_id.to_string()));
    vars
}

fn start_on_host(
    ctx: &ServiceContext,
    declaration: &Declaration,
    launch: &Launch,
    running: &mut Running,
) -> Result<String, String> {
    let mut vars = service_variables(ctx, declaration, running);
    vars.extend(launch.env.iter().cloned());
    let base = &ctx.shared.spec.base_env;
    let env = launch::environment(base, &vars, &running.tracking_id);
    let run_as = launch.run_as.as_ref();
    let mut setup: &[launch::Program] = &launch.setup;
    let mut restored = None;
    if let Some(template) = &launch.template {
        let steps = template.steps.min(setup.len());
        if template.restore(&running.dir) {
            setup = &setup[steps..];
            restored = Some(template);
        } else {
            for program in &setup[..steps] {
                launch::run_setup(program, &env, &running.dir, run_as)?;
            }
            template.save(&running.dir);
            setup = &setup[steps..];
        }
    }
    for program in setup {
        if let Err(e) = launch::run_setup(program, &env, &running.dir, run_as) {
            // A template whose copy cannot be set up is not used again.
            if let Some(template) = restored {
                template.discard();
            }
            return Err(e);
        }
    }
    let log = running.dir.join("service.log");
    let child = launch::spawn(&launch.service, &env, &running.dir, run_as, &log)?;
    crate::session_log::record(&ctx.shared.spec.temp_root, child.id());
    running.process = Process::Host {
        child,
        log: log.clone(),
    };
    let first_port = running
        .ports
        .pairs
        .first()
        .map(|(_, h)| *h)
        .unwrap_or_default();
    let readiness = match (&declaration.health, &launch.default_health) {
        (Some(check), _) => {
            let mut check = check.clone();
            if let Some(adjust) = launch.adjust_health {
                check.cmd = adjust(&check.cmd, first_port);
            }
            Readiness::Command {
                probe: host_probe(base, &check.cmd, &vars, launch, running),
                check,
            }
        }
        (None, Some(cmd)) => Readiness::Command {
            probe: host_probe(base, cmd, &vars, launch, running),
            check: declaration::HealthCheck {
                cmd: cmd.clone(),
                interval: Duration::from_millis(100),
                timeout: Duration::from_secs(5),
                retries: 300,
                start_period: Duration::ZERO,
            },
        },
        (None, None) if running.ports.pairs.is_empty() => Readiness::Immediate,
        (None, None) => Readiness::Ports(running.ports.pairs.iter().map(|(_, h)| *h).collect()),
    };
    let Process::Host { child, .. } = &mut running.process else {
        unreachable!("the process was just started")
    };
    let mut exited = || match child.try_wait() {
        Ok(Some(status)) => Some(status.to_string()),
        _ => None,
    };
    health::wait_ready(&readiness, &mut exited, ctx.cancel).map_err(|why| {
        let tail = std::fs::read_to_string(&log)
            .map(|text| launch::last_lines(&text, 20))
            .unwrap_or_default();
        if tail.trim().is_empty() {
            why
        } else {
            format!("{why}\nthe service's last log lines:\n{tail}")
        }
    })?;
    Ok(launch.description.clone())
}

/// A probe for a host service: Sluice's environment, the service's
/// variables and the launch's own (PGHOST...), run in the service's
/// directory.
fn host_probe(
    base: &[(String, String)],
    cmd: &str,
    vars: &[(String, String)],
    launch: &Launch,
    running: &Running,
) -> crate::step_process::ProcessSpec {
    let mut extra: Vec<(String, String)> = vars.to_vec();
    extra.extend(launch.health_env.iter().cloned());
    let tracking_id = format!("{}_probe", running.tracking_id);
    let mut env = launch::environment(base, &extra, &tracking_id);
    env.retain(|(k, _)| k != process_tree::TRACKING_VAR);
    health::shell_probe(
        cmd,
        with_path(env, launch.health_path.as_deref()),
        running.dir.clone(),
        tracking_id,
    )
}

fn start_in_engine(
    ctx: &ServiceContext,
    declaration: &Declaration,
    engine: &Engine,
    running: &mut Running,
) -> Result<String, String> {
    let container_name = format!(
        "sluice-{}-{}",
        crate::ids::random_hex(6),
        short_name(&declaration.name)
    );
    if let Some(scratch) = ctx.shared.scratch_dir() {
        engine.note_for_watcher(scratch);
    }
    let network = ctx.network.map(|network| engine_service::JobNetwork {
        network,
        alias: &declaration.name,
    });
    let id = engine_service::start_service(
        engine,
        &container_name,
        &declaration.source,
        &declaration.env,
        &running.ports,
        &running.dir,
        &ctx.shared.spec.run_id,
        network,
    )?;
    running.process = Process::Container {
        engine: engine.clone(),
        id: id.clone(),
    };
    let readiness = match &declaration.health {
        Some(check) => Readiness::Command {
            probe: crate::step_process::ProcessSpec {
                program: engine.program.clone(),
                args: engine_service::exec_arguments(&id, &check.cmd),
                cwd: running.dir.clone(),
                env: ctx
                    .shared
                    .spec
                    .base_env
                    .iter()
                    .cloned()
                    .chain(engine.client_env())
                    .collect(),
                tracking_id: format!("{}_probe", running.tracking_id),
                session_log: None,
            },
            check: check.clone(),
        },
        None if running.ports.pairs.is_empty() => Readiness::Immediate,
        None => Readiness::Ports(running.ports.pairs.iter().map(|(_, h)| *h).collect()),
    };
    health::wait_ready(&readiness, &mut || None, ctx.cancel).map_err(|why| {
        format!(
            "{why}\nthe container's last log lines:\n{}",
            launch::last_lines(&engine.logs(&id), 20)
        )
    })?;
    let image = match &declaration.source {
        Source::Image { image, .. } => image.as_str(),
        Source::Native { .. } => "",
    };
    Ok(format!("{image} in {}", engine.program.display()))
}

fn stop_one(shared: &Shared, key: &JobKey, running: Running) {
    let log_text = match running.process {
        Process::Host { mut child, log } => {
            process_tree::terminate_tree(Some(child.id() as i32), &running.tracking_id, STOP_GRACE);
            let _ = child.wait();
            std::fs::read(&log)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        }
        Process::Container { engine, id } => {
            let text = engine.logs(&id);
            engine.remove(&id);
            text
        }
        Process::NotStarted => String::new(),
    };
    let lines: Vec<&str> = log_text.lines().collect();
    for line in &lines[lines.len().saturating_sub(MAX_LOG_LINES)..] {
        shared.emit(Event::Log {
            job: key.clone(),
            step: None,
            stream: Stream::Service,
            line: shared.mask(&format!("[{}] {line}", running.name)),
            level: crate::events::LogLevel::Info,
            at: now(),
        });
    }
    let _ = std::fs::remove_dir_all(&running.dir);
    running.ports.release();
}

fn discard(p: &Prepared) {
    p.ports.release();
    let _ = std::fs::remove_dir_all(&p.dir);
}

/// A service name fit for a directory or container name.
fn short_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(24)
        .collect()
}

fn path_of(env: &[(String, String)]) -> String {
    env.iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".to_string())
}

fn with_path(mut env: Vec<(String, String)>, first: Option<&Path>) -> Vec<(String, String)> {
    let current = path_of(&env);
    let path = match first {
        Some(dir) => format!("{}:{current}", dir.display()),
        None => current,
    };
    env.retain(|(k, _)| k != "PATH");
    env.push(("PATH".to_string(), path));
    env
}
