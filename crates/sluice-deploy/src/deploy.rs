//! `sluice deploy APP`: the new version in the idle colour, healthy and
//! smoke-tested, then traffic switched to it and watched; the old colour
//! drained and stopped, or, on a breach, traffic back to it and the new
//! one stopped.
//!
//! Each step is written to `state.json` before it is taken, so a deploy
//! killed at any point leaves a state the next command settles
//! (`settle.rs`): one colour serving, the other stopped.

use std::time::Instant;

use crate::colour::Colour;
use crate::colours::{self, Started, now_ms, remaining};
use crate::error::DeployError;
use crate::health::{self, Probe};
use crate::report::{DeployReport, Kind, Outcome, WatchFigures, millis};
use crate::router::{self, ProxyLauncher, Router};
use crate::settle;
use crate::shell;
use crate::spec::{AppSpec, OnInconclusive};
use crate::state::{AppDir, AppState, InProgress, Route, Slot};
use crate::watch::{self, Probes, Verdict, WatchResult};

/// An app and what a command about it needs.
pub struct Context<'a> {
    pub spec: &'a AppSpec,
    pub dir: AppDir,
    pub launcher: ProxyLauncher,
    /// Progress lines for the terminal.
    pub progress: &'a dyn Fn(&str),
}

impl Context<'_> {
    /// Takes the app's lock, settles what an interrupted command left and
    /// makes sure the router runs and routes to the live colour.
    /// `start_router`: false to stop, not start, the proxy.
    pub(crate) fn open(&self, start_router: bool) -> Result<Session, DeployError> {
        let lock = self.dir.lock(|| {
            (self.progress)(&format!(
                "another deploy of {} is under way; waiting for it",
                self.spec.name
            ))
        })?;
        let mut router = router::for_app(self.spec, &self.dir, &self.launcher);
        let mut state = self.dir.read_state()?;
        // The route first: a command killed between saving a switch and
        // making it left the router on the colour about to be stopped.
        if start_router {
            router.ensure_running(&mut state)?;
            self.dir.write_state(&state)?;
            if let Some((colour, slot)) = state.live_slot() {
                router.reassert(Route {
                    colour,
                    port: slot.port,
                })?;
            }
        }
        let recovered = settle::settle(self, &mut state, router.as_mut())?;
        self.dir.write_state(&state)?;
        Ok(Session {
            _lock: lock,
            router,
            state,
            recovered,
        })
    }
}

pub(crate) struct Session {
    _lock: std::fs::File,
    pub router: Box<dyn Router>,
    pub state: AppState,
    pub recovered: Vec<String>,
}

/// Deploys `version`; with `Kind::Rollback`, without a watch.
pub fn deploy(cx: &Context<'_>, version: &str, kind: Kind) -> Result<DeployReport, DeployError> {
    let session = cx.open(true)?;
    let old = session.state.live_slot().map(|(c, s)| (c, s.clone()));
    let colour = old.as_ref().map_or(Colour::Blue, |(c, _)| c.other());
    let mut run = Run {
        cx,
        session,
        colour,
        old,
        report: DeployReport {
            app: cx.spec.name.clone(),
            kind,
            version: version.to_owned(),
            colour,
            previous_version: None,
            outcome: Outcome::Failed,
            reason: None,
            started_at_ms: now_ms(),
            ready_ms: None,
            switched_at_ms: None,
            finished_at_ms: 0,
            watch: None,
            breach_to_restore_ms: None,
            restored_at_ms: None,
            drained: None,
            recovered: Vec::new(),
        },
    };
    run.report.previous_version = run.old.as_ref().map(|(_, s)| s.version.clone());
    run.report.recovered = std::mem::take(&mut run.session.recovered);
    run.go()?;
    run.report.finished_at_ms = now_ms();
    Ok(run.report)
}

struct Run<'a, 'c> {
    cx: &'a Context<'c>,
    session: Session,
    colour: Colour,
    old: Option<(Colour, Slot)>,
    report: DeployReport,
}

impl Run<'_, '_> {
    fn say(&self, line: &str) {
        (self.cx.progress)(line);
    }

    fn save(&self) -> Result<(), DeployError> {
        self.cx.dir.write_state(&self.session.state)
    }

    fn go(&mut self) -> Result<(), DeployError> {
        let spec = self.cx.spec;
        self.stop_leftover_in_new_colour();
        let avoid = recent_ports(&self.session.state);
        let port = colours::free_port(&avoid)
            .map_err(|e| DeployError::io("find a free port on", "127.0.0.1", e))?;
        self.session.state.note_port(port);
        self.session.state.deploying = Some(InProgress {
            colour: self.colour,
            version: self.report.version.clone(),
            switched: false,
        });
        self.save()?;
        self.say(&format!(
            "starting {} {} as {} on port {port}",
            spec.name, self.report.version, self.colour
        ));
        let started_at = Instant::now();
        let mut started =
            match colours::start(spec, &self.cx.dir, self.colour, port, &self.report.version) {
                Ok(started) => started,
                Err(error) => {
                    // Nothing started: nothing for the next command to settle.
                    self.session.state.deploying = None;
                    self.save()?;
                    return Err(error);
                }
            };
        self.session
            .state
            .set_slot(self.colour, Some(started.slot.clone()));
        self.save()?;
        if let Err(reason) = self.make_ready(&mut started, started_at) {
            return self.abandon(started, reason);
        }
        self.report.ready_ms = Some(millis(started_at.elapsed()));
        if let Err(error) = self.switch_to_new(&started.slot) {
            self.back_to_old_route();
            return self.abandon(
                started,
                format!("the switch failed, the old version serves on: {error}"),
            );
        }
        if self.report.kind == Kind::Rollback {
            return self.keep_new(Outcome::Succeeded);
        }
        self.watch_new(started)
    }

    /// A process left in the idle colour (a standby of old) goes first.
    fn stop_leftover_in_new_colour(&mut self) {
        if let Some(slot) = self.session.state.slot(self.colour).cloned() {
            colours::stop(self.cx.spec, self.colour, &slot, None);
            self.session.state.set_slot(self.colour, None);
        }
    }

    fn make_ready(&self, started: &mut Started, started_at: Instant) -> Result<(), String> {
        let spec = self.cx.spec;
        let deadline = started_at + spec.timeouts.deploy;
        colours::wait_healthy(spec, &self.cx.dir, self.colour, started, deadline)?;
        self.say(&format!(
            "{} is healthy ({} ms)",
            self.colour,
            started_at.elapsed().as_millis()
        ));
        if let Some(smoke) = &spec.smoke {
            let env =
                colours::environment(spec, self.colour, started.slot.port, &self.report.version);
            shell::run(smoke, &spec.dir, &env, remaining(deadline))
                .map_err(|failure| format!("smoke test failed: {failure}"))?;
            self.say("smoke test passed");
        }
        Ok(())
    }

    /// The new version never took traffic: stop it; the old one serves on.
    fn abandon(&mut self, mut started: Started, reason: String) -> Result<(), DeployError> {
        colours::stop(
            self.cx.spec,
            self.colour,
            &started.slot,
            Some(&mut started.child),
        );
        self.session.state.set_slot(self.colour, None);
        self.session.state.deploying = None;
        self.save()?;
        self.report.outcome = Outcome::Failed;
        self.report.reason = Some(reason);
        Ok(())
    }

    /// After a failed switch: the state and (as far as it can be told)
    /// the router back on the old colour.
    fn back_to_old_route(&mut self) {
        self.session.state.live = self.old.as_ref().map(|(colour, _)| *colour);
        if let Some((colour, slot)) = &self.old {
            let _ = self.session.router.reassert(Route {
                colour: *colour,
                port: slot.port,
            });
        }
    }

    fn switch_to_new(&mut self, slot: &Slot) -> Result<(), DeployError> {
        // Recorded as switched before it is: killed in between, the next
        // command routes to the new colour, which is healthy.
        self.session.state.live = Some(self.colour);
        if let Some(deploying) = &mut self.session.state.deploying {
            deploying.switched = true;
        }
        self.save()?;
        self.session.router.switch(Route {
            colour: self.colour,
            port: slot.port,
        })?;
        self.report.switched_at_ms = Some(now_ms());
        self.say(&format!(
            "traffic switched to {} ({})",
            self.colour, self.report.version
        ));
        Ok(())
    }

    fn watch_new(&mut self, mut started: Started) -> Result<(), DeployError> {
        let spec = self.cx.spec;
        let port = started.slot.port;
        let at_switch = self.session.router.traffic(self.colour, port)?;
        self.say(&format!("watching for {:?}", spec.watch.window));
        let env = colours::environment(spec, self.colour, port, &self.report.version);
        let mut check = spec
            .check
            .as_ref()
            .map(|command| CheckLoop::new(command, spec, env));
        let mut vote = || check.as_mut().and_then(CheckLoop::poll);
        let probes = Probes {
            process: if spec.stop.is_none() {
                Some(&mut started.child)
            } else {
                None
            },
            check: if spec.check.is_some() {
                Some(&mut vote)
            } else {
                None
            },
        };
        let mut result = watch::watch(
            &spec.watch,
            self.session.router.as_mut(),
            self.colour,
            port,
            &at_switch,
            probes,
        )?;
        if result.verdict == Verdict::Healthy && check.as_ref().is_some_and(|c| c.passed == 0) {
            // A check that never finished within the window voted for
            // nothing: no silent pass.
            result.verdict = Verdict::Inconclusive(
                "the check command did not finish once within the watch".to_owned(),
            );
        }
        drop(check);
        self.report.watch = Some(figures(&result));
        match result.verdict {
            Verdict::Healthy => self.keep_new(Outcome::Succeeded),
            Verdict::Inconclusive(why) if spec.watch.on_inconclusive == OnInconclusive::Keep => {
                self.say(&format!("inconclusive: {why}; the new version stays"));
                self.report.reason = Some(why);
                self.keep_new(Outcome::Inconclusive)
            }
            Verdict::Inconclusive(why) | Verdict::Breach(why) => self.roll_back(
                started,
                why,
                result.breached_at.unwrap_or_else(Instant::now),
            ),
        }
    }

    /// The new version stays: the old colour finishes what it serves and
    /// stops.
    fn keep_new(&mut self, outcome: Outcome) -> Result<(), DeployError> {
        if let Some((old_colour, old_slot)) = self.old.clone() {
            let drained = self
                .session
                .router
                .wait_drained(old_slot.port, self.cx.spec.timeouts.drain)?;
            self.report.drained = Some(drained);
            colours::stop(self.cx.spec, old_colour, &old_slot, None);
            self.session.state.set_slot(old_colour, None);
            self.say(&format!(
                "{old_colour} ({}) drained and stopped",
                old_slot.version
            ));
        }
        let keep = self.cx.spec.keep;
        self.session.state.remember(&self.report.version, keep);
        if self.report.kind == Kind::Rollback
            && let Some(bad) = &self.report.previous_version
            && *bad != self.report.version
        {
            // Rolled back from: not a version to go back to.
            self.session.state.history.retain(|v| v != bad);
        }
        self.session.state.deploying = None;
        self.save()?;
        self.report.outcome = outcome;
        Ok(())
    }

    /// Traffic back to the old colour, and the new one stopped once it
    /// finished what it was serving.
    fn roll_back(
        &mut self,
        mut started: Started,
        reason: String,
        breached_at: Instant,
    ) -> Result<(), DeployError> {
        self.say(&format!("{reason}: rolling back"));
        self.report.reason = Some(reason);
        let Some((old_colour, old_slot)) = self.old.clone().filter(|(_, slot)| self.answers(slot))
        else {
            return self.keep_breached();
        };
        self.session.state.live = Some(old_colour);
        self.session.state.deploying = None;
        self.save()?;
        self.session.router.switch(Route {
            colour: old_colour,
            port: old_slot.port,
        })?;
        self.report.breach_to_restore_ms = Some(millis(breached_at.elapsed()));
        self.report.restored_at_ms = Some(now_ms());
        self.say(&format!(
            "traffic back on {old_colour} ({})",
            old_slot.version
        ));
        let drained = self
            .session
            .router
            .wait_drained(started.slot.port, self.cx.spec.timeouts.drain)?;
        self.report.drained = Some(drained);
        colours::stop(
            self.cx.spec,
            self.colour,
            &started.slot,
            Some(&mut started.child),
        );
        self.session.state.set_slot(self.colour, None);
        self.save()?;
        self.report.outcome = Outcome::RolledBack;
        Ok(())
    }

    /// Whether the old colour can take the traffic back: running, and
    /// answering its health path.
    fn answers(&self, slot: &Slot) -> bool {
        let spec = self.cx.spec;
        let running = spec.stop.is_some() || slot.process.is_none_or(|p| p.alive());
        running
            && health::probe(slot.port, &spec.health, spec.timeouts.health_check) == Probe::Healthy
    }

    /// A breach with nothing healthy to go back to: the new version keeps
    /// serving, and the deploy says so (exit 1).
    fn keep_breached(&mut self) -> Result<(), DeployError> {
        let why = match &self.old {
            None => "nothing to roll back to (this was the first version)",
            Some(_) => "the old version does not answer its health check",
        };
        self.say(&format!("{why}: the new version keeps serving"));
        if let Some(reason) = &mut self.report.reason {
            reason.push_str(&format!("; {why}, so the new version keeps serving"));
        }
        if let Some((old_colour, old_slot)) = self.old.clone() {
            colours::stop(self.cx.spec, old_colour, &old_slot, None);
            self.session.state.set_slot(old_colour, None);
        }
        let keep = self.cx.spec.keep;
        self.session.state.remember(&self.report.version, keep);
        self.session.state.deploying = None;
        self.save()?;
        self.report.outcome = Outcome::Breached;
        Ok(())
    }
}

fn figures(result: &WatchResult) -> WatchFigures {
    WatchFigures {
        requests: result.window.requests,
        errors: result.window.errors(),
        p95_ms: result
            .window
            .percentile(0.95)
            .map(|d| d.as_secs_f64() * 1000.0),
        verdict: match &result.verdict {
            Verdict::Healthy => "healthy".to_owned(),
            Verdict::Breach(_) => "breach".to_owned(),
            Verdict::Inconclusive(_) => "inconclusive".to_owned(),
        },
    }
}

fn recent_ports(state: &AppState) -> Vec<u16> {
    let mut ports: Vec<u16> = [&state.blue, &state.green]
        .iter()
        .filter_map(|s| s.as_ref().map(|s| s.port))
        .collect();
    ports.extend(&state.recent_ports);
    ports
}

/// The app's `check` command, run again a second after each success
/// while the watch lasts; each run may take as long as a health check's
/// deploy timeout, and one that takes longer fails.
struct CheckLoop<'a> {
    command: &'a str,
    spec: &'a AppSpec,
    env: std::collections::BTreeMap<String, String>,
    running: Option<shell::Running>,
    next_start: Instant,
    /// Runs that finished and passed: none by the end is no vote at all.
    passed: u32,
}

impl<'a> CheckLoop<'a> {
    fn new(
        command: &'a str,
        spec: &'a AppSpec,
        env: std::collections::BTreeMap<String, String>,
    ) -> Self {
        CheckLoop {
            command,
            spec,
            env,
            running: None,
            next_start: Instant::now(),
            passed: 0,
        }
    }

    /// `Some(Err)` once a run failed; `None` while there is no news.
    fn poll(&mut self) -> Option<Result<(), String>> {
        let Some(running) = &mut self.running else {
            if Instant::now() >= self.next_start {
                match shell::spawn(
                    self.command,
                    &self.spec.dir,
                    &self.env,
                    self.spec.timeouts.deploy,
                ) {
                    Ok(running) => self.running = Some(running),
                    Err(failure) => return Some(Err(failure.detail)),
                }
            }
            return None;
        };
        let result = running.poll()?;
        self.running = None;
        self.next_start = Instant::now() + std::time::Duration::from_secs(1);
        if result.is_ok() {
            self.passed += 1;
        }
        Some(result.map_err(|f| f.detail))
    }
}
