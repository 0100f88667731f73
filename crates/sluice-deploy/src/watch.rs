//! The watch after a switch: the new colour's traffic, counted by the
//! router, judged against the app's limits as it comes in. A breach ends
//! the watch at once; too few requests by the end of the window is
//! inconclusive, never a pass.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::colour::Colour;
use crate::error::DeployError;
use crate::router::Router;
use crate::spec::WatchSpec;
use crate::stats::Traffic;

const TICK: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Healthy,
    Breach(String),
    Inconclusive(String),
}

/// What the watch saw, for the report and the history.
#[derive(Debug, Clone)]
pub struct WatchResult {
    pub verdict: Verdict,
    pub window: Traffic,
    /// When the breach was seen.
    pub breached_at: Option<Instant>,
}

/// Things besides traffic that can end a watch.
pub struct Probes<'a> {
    /// The new colour's process, if this command started it: its exit is
    /// a breach.
    pub process: Option<&'a mut Child>,
    /// Runs again and again during the window; a failure is a breach.
    pub check: Option<&'a mut dyn FnMut() -> Option<Result<(), String>>>,
}

pub fn watch(
    spec: &WatchSpec,
    router: &mut dyn Router,
    colour: Colour,
    port: u16,
    at_switch: &Traffic,
    mut probes: Probes<'_>,
) -> Result<WatchResult, DeployError> {
    let deadline = Instant::now() + spec.window;
    loop {
        let window = router.traffic(colour, port)?.since(at_switch);
        let breach = judge(spec, &window).or_else(|| probe_breach(&mut probes));
        if let Some(reason) = breach {
            return Ok(WatchResult {
                verdict: Verdict::Breach(reason),
                window,
                breached_at: Some(Instant::now()),
            });
        }
        if Instant::now() >= deadline {
            // A request the new version never answered within the window
            // is a failed one (a hung version would otherwise pass).
            let unanswered = window.unanswered();
            let mut judged = window.clone();
            judged.requests += unanswered;
            judged.unreachable += unanswered;
            if let Some(reason) = judge(spec, &judged) {
                return Ok(WatchResult {
                    verdict: Verdict::Breach(format!(
                        "{reason}; {unanswered} of them unanswered when the watch ended"
                    )),
                    window: judged,
                    breached_at: Some(Instant::now()),
                });
            }
            let verdict = if window.requests < spec.min_requests {
                Verdict::Inconclusive(format!(
                    "{} requests in {:?}, fewer than the {} the watch needs to judge",
                    window.requests, spec.window, spec.min_requests
                ))
            } else {
                Verdict::Healthy
            };
            return Ok(WatchResult {
                verdict,
                window,
                breached_at: None,
            });
        }
        std::thread::sleep(TICK);
    }
}

/// A limit crossed with enough requests to say so.
pub fn judge(spec: &WatchSpec, window: &Traffic) -> Option<String> {
    if window.requests < spec.min_requests.max(1) {
        return None;
    }
    if let Some(limit) = spec.max_error_rate
        && window.error_rate() > limit
    {
        return Some(format!(
            "error rate {:.1}% ({} of {} requests) above the {:.1}% allowed",
            window.error_rate() * 100.0,
            window.errors(),
            window.requests,
            limit * 100.0
        ));
    }
    if let (Some(limit), Some(p95)) = (spec.max_p95, window.percentile(0.95))
        && p95 > limit
    {
        return Some(format!(
            "p95 latency {} ms above the {} ms allowed ({} requests)",
            p95.as_millis(),
            limit.as_millis(),
            window.requests
        ));
    }
    None
}

fn probe_breach(probes: &mut Probes<'_>) -> Option<String> {
    if let Some(child) = probes.process.as_deref_mut()
        && let Ok(Some(status)) = child.try_wait()
    {
        return Some(format!("the new version exited ({status})"));
    }
    if let Some(check) = probes.check.as_deref_mut()
        && let Some(Err(why)) = check()
    {
        return Some(format!("the check command failed: {why}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::OnInconclusive;

    fn spec() -> WatchSpec {
        WatchSpec {
            window: Duration::from_secs(1),
            max_error_rate: Some(0.05),
            max_p95: Some(Duration::from_millis(200)),
            min_requests: 20,
            on_inconclusive: OnInconclusive::Keep,
        }
    }

    fn traffic(ok: u64, errors: u64, latency: Duration) -> Traffic {
        let mut t = Traffic::default();
        for _ in 0..ok {
            t.record(Some(200), latency);
        }
        for _ in 0..errors {
            t.record(Some(500), latency);
        }
        t
    }

    #[test]
    fn errors_above_the_rate_breach_only_with_enough_requests() {
        assert_eq!(
            judge(&spec(), &traffic(5, 5, Duration::from_millis(1))),
            None
        );
        let breach = judge(&spec(), &traffic(18, 2, Duration::from_millis(1))).unwrap();
        assert!(
            breach.starts_with("error rate 10.0% (2 of 20 requests)"),
            "{breach}"
        );
        assert_eq!(
            judge(&spec(), &traffic(99, 1, Duration::from_millis(1))),
            None
        );
    }

    #[test]
    fn slow_answers_breach_the_p95() {
        let breach = judge(&spec(), &traffic(30, 0, Duration::from_millis(400))).unwrap();
        assert!(breach.starts_with("p95 latency"), "{breach}");
        assert_eq!(
            judge(&spec(), &traffic(30, 0, Duration::from_millis(50))),
            None
        );
    }
}
