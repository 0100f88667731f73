//! `sluice deploy APP`, `sluice deploy stop|status`, `sluice rollback APP`
//! and the background proxy (`sluice __proxy`): the terminal side of
//! `sluice-deploy`, and the record of each deploy in the history.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use sluice_deploy::{AppDir, AppSpec, Context, DeployReport, Kind, Outcome, ProxyLauncher};
use sluice_store::AppDeployRecord;

use crate::cli::{DeployArgs, DeployCommand, RollbackArgs};
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;

/// An app's settings and where its state is.
struct App {
    root: PathBuf,
    config: Config,
    spec: AppSpec,
}

fn load_app(cwd: &Path, name: &str) -> Result<App> {
    let root = sluice_exec::git::find_root(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut config = Config::load(&root, &Overrides::default())?;
    // A step of a run deploys into the run's state, not its job's copy of
    // the repository: the app's colours are the same whichever job ships.
    if let Some(dir) = std::env::var_os(crate::engine::RUN_STATE_DIR_VAR) {
        config.state_dir = PathBuf::from(dir);
    }
    let file = config
        .apps
        .get(name)
        .ok_or_else(|| sluice_deploy::DeployError::UnknownApp(name.to_owned()))?;
    let spec = AppSpec::from_file(name, file, &root)?;
    Ok(App { root, config, spec })
}

fn launcher(dir: &AppDir, spec: &AppSpec) -> Result<ProxyLauncher> {
    let program = std::env::current_exe().context("cannot find Sluice's own executable")?;
    Ok(ProxyLauncher {
        program,
        args: vec![
            "__proxy".to_owned(),
            "--listen".to_owned(),
            spec.listen.to_string(),
            "--dir".to_owned(),
            dir.dir.display().to_string(),
            "--answer-timeout-ms".to_owned(),
            spec.timeouts.answer.as_millis().to_string(),
        ],
    })
}

fn progress(line: &str) {
    eprintln!("deploy: {}", crate::terminal_text::inert(line, false));
}

fn with_context<T>(app: &App, run: impl FnOnce(&Context<'_>) -> Result<T>) -> Result<T> {
    let dir = AppDir::create(&app.config.state_dir, &app.spec.name)?;
    let launcher = launcher(&dir, &app.spec)?;
    let cx = Context {
        spec: &app.spec,
        dir,
        launcher,
        progress: &progress,
    };
    run(&cx)
}

pub fn deploy(cwd: &Path, args: &DeployArgs) -> Result<ExitStatus> {
    match &args.command {
        Some(DeployCommand::Stop { app }) => return stop(cwd, app),
        Some(DeployCommand::Status { app, json }) => return status(cwd, app.as_deref(), *json),
        None => {}
    }
    let name = args
        .app
        .as_deref()
        .ok_or_else(|| anyhow!("which app? `sluice deploy APP`"))?;
    let app = load_app(cwd, name)?;
    let commit = sluice_exec::git::commits::resolve(&app.root, "HEAD");
    let version = match &args.version {
        Some(version) => check_version(version)?,
        None => default_version(commit.as_deref()),
    };
    let report = with_context(&app, |cx| {
        Ok(sluice_deploy::deploy(cx, &version, Kind::Deploy)?)
    })?;
    record(&app, &report, commit.as_deref())?;
    finish(&report, args.json)
}

pub fn rollback(cwd: &Path, args: &RollbackArgs) -> Result<ExitStatus> {
    let app = load_app(cwd, &args.app)?;
    let names_version = |text: &str| text.contains("SLUICE_VERSION");
    if !names_version(&app.spec.start) && app.spec.stop.as_deref().is_none_or(|s| !names_version(s))
    {
        progress(&format!(
            "note: [apps.{}] start does not use $SLUICE_VERSION: an earlier version runs the same code under its old label",
            app.spec.name
        ));
    }
    let report = with_context(&app, |cx| {
        Ok(sluice_deploy::rollback(cx, args.to.as_deref())?)
    })?;
    record(&app, &report, None)?;
    finish(&report, args.json)
}

fn stop(cwd: &Path, name: &str) -> Result<ExitStatus> {
    let app = load_app(cwd, name)?;
    let lines = with_context(&app, |cx| Ok(sluice_deploy::stop(cx)?))?;
    for line in &lines {
        progress(line);
    }
    println!("{name}: stopped");
    Ok(ExitStatus::Success)
}

fn status(cwd: &Path, only: Option<&str>, json: bool) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let config = Config::load(&root, &Overrides::default())?;
    let names: Vec<String> = match only {
        Some(name) => vec![name.to_owned()],
        None => config.apps.keys().cloned().collect(),
    };
    let mut all = serde_json::Map::new();
    for name in &names {
        let app = load_app(cwd, name)?;
        let state = with_context(&app, |cx| Ok(sluice_deploy::status(cx)?))?;
        if json {
            all.insert(name.clone(), serde_json::to_value(&state)?);
            continue;
        }
        match state.live_slot() {
            Some((colour, slot)) => {
                let running = slot.process.is_none_or(|p| p.alive());
                println!(
                    "{name}: {} live as {colour} on port {} ({}), behind {}",
                    slot.version,
                    slot.port,
                    if running { "running" } else { "NOT RUNNING" },
                    app.spec.listen
                );
            }
            None => println!("{name}: not deployed"),
        }
        if state.history.len() > 1 {
            println!("  kept for rollback: {}", state.history[1..].join(", "));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    }
    Ok(ExitStatus::Success)
}

/// Versions appear in messages, paths of apps and the history: printable,
/// one line, not empty.
fn check_version(version: &str) -> Result<String> {
    let ok = !version.is_empty()
        && version.len() <= 128
        && version.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(version.to_owned())
    } else {
        Err(anyhow!(
            "--version {version:?}: a version is 1 to 128 printable characters without spaces"
        ))
    }
}

fn default_version(commit: Option<&str>) -> String {
    match commit {
        Some(sha) => sha.chars().take(12).collect(),
        None => format!("t{}", now_secs()),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Keeps the deploy in the history, with the commits it shipped.
fn record(app: &App, report: &DeployReport, commit: Option<&str>) -> Result<()> {
    let history = History::open(&app.config.state_dir, &app.root)?;
    let store = history.store();
    let commit_times = match (
        commit,
        report.outcome.is_live() || report.switched_at_ms.is_some(),
    ) {
        (Some(sha), true) if report.kind == Kind::Deploy => {
            let since = store.last_live_commit(&report.app)?;
            sluice_exec::git::commits::commit_times(&app.root, since.as_deref(), sha, 1000)
                .unwrap_or_default()
                .into_iter()
                .map(|seconds| seconds * 1000)
                .collect()
        }
        _ => Vec::new(),
    };
    if report.kind == Kind::Rollback
        && report.outcome.is_live()
        && let Some(undone) = &report.previous_version
    {
        store.mark_rolled_back_by_hand(
            &report.app,
            undone,
            report.switched_at_ms.unwrap_or(report.finished_at_ms),
        )?;
    }
    let watch = report.watch.as_ref();
    store.record_app_deploy(&AppDeployRecord {
        id: 0,
        app: report.app.clone(),
        kind: match report.kind {
            Kind::Deploy => "deploy",
            Kind::Rollback => "rollback",
        }
        .to_owned(),
        version: report.version.clone(),
        colour: report.colour.to_string(),
        previous_version: report.previous_version.clone(),
        commit_sha: commit.map(str::to_owned),
        outcome: report.outcome.as_str().to_owned(),
        reason: report.reason.clone(),
        started_at: report.started_at_ms,
        ready_ms: report.ready_ms,
        switched_at: report.switched_at_ms,
        finished_at: report.finished_at_ms,
        restored_at: report.restored_at_ms,
        breach_to_restore_ms: report.breach_to_restore_ms,
        watch_requests: watch.map(|w| w.requests),
        watch_errors: watch.map(|w| w.errors),
        watch_p95_ms: watch.and_then(|w| w.p95_ms),
        watch_verdict: watch.map(|w| w.verdict.clone()),
        drained: report.drained,
        run_id: std::env::var("GITHUB_RUN_ID")
            .ok()
            .and_then(|v| v.parse().ok()),
        commit_times,
    })?;
    Ok(())
}

fn finish(report: &DeployReport, json: bool) -> Result<ExitStatus> {
    for line in &report.recovered {
        progress(line);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{}", summary(report));
    }
    Ok(match report.outcome {
        Outcome::Succeeded | Outcome::Inconclusive => ExitStatus::Success,
        Outcome::Failed | Outcome::RolledBack | Outcome::Breached => ExitStatus::Failure,
    })
}

fn summary(report: &DeployReport) -> String {
    let mut line = format!(
        "{} {}: {}",
        report.app,
        report.version,
        report.outcome.as_str()
    );
    if let Some(ready) = report.ready_ms {
        line.push_str(&format!(", ready in {ready} ms"));
    }
    if let Some(watch) = &report.watch {
        line.push_str(&format!(
            ", watch: {} requests, {} errors",
            watch.requests, watch.errors
        ));
        if let Some(p95) = watch.p95_ms {
            line.push_str(&format!(", p95 ≤ {p95:.0} ms"));
        }
    }
    if let Some(ms) = report.breach_to_restore_ms {
        line.push_str(&format!(", old version back {ms} ms after the breach"));
    }
    if let Some(reason) = &report.reason {
        line.push_str(&format!(
            "\n  {}",
            crate::terminal_text::inert(reason, false)
        ));
    }
    line
}

/// `sluice __proxy`: serves until told to stop through its socket.
pub fn proxy(listen: SocketAddr, dir: &Path, answer_timeout_ms: u64) -> Result<ExitStatus> {
    let dir = AppDir {
        dir: dir.to_owned(),
    };
    let answer_timeout = std::time::Duration::from_millis(answer_timeout_ms.max(1));
    sluice_deploy::proxy::run(&dir, listen, answer_timeout)?;
    Ok(ExitStatus::Success)
}
