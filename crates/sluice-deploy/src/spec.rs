//! `[apps.NAME]` in `sluice.toml`: what an app is and how to deploy it.
//!
//! ```toml
//! [apps.web]
//! listen = "127.0.0.1:8080"      # where users connect (the proxy)
//! start  = "python3 app.py"      # gets PORT, SLUICE_COLOR, SLUICE_VERSION
//! health = "/up"                 # 2xx = healthy
//! smoke  = "curl -fsS http://127.0.0.1:$PORT/api/ping"
//! watch  = { for = "60s", max-error-rate = 0.01, max-p95 = "500ms", min-requests = 20 }
//! ```
//!
//! The file's shape is read by serde (`AppFile`, unknown keys refused);
//! `AppSpec::from_file` checks the values and fills in defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::DeployError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppFile {
    listen: String,
    start: String,
    stop: Option<String>,
    dir: Option<PathBuf>,
    #[serde(default = "default_health")]
    health: String,
    smoke: Option<String>,
    check: Option<String>,
    health_interval: Option<String>,
    health_timeout: Option<String>,
    deploy_timeout: Option<String>,
    drain_timeout: Option<String>,
    stop_timeout: Option<String>,
    answer_timeout: Option<String>,
    keep: Option<usize>,
    router: Option<String>,
    #[serde(default)]
    watch: WatchFile,
    #[serde(default)]
    env: BTreeMap<String, String>,
    nginx: Option<NginxFile>,
}

fn default_health() -> String {
    "/".to_owned()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct WatchFile {
    #[serde(rename = "for")]
    window: Option<String>,
    max_error_rate: Option<f64>,
    max_p95: Option<String>,
    min_requests: Option<u64>,
    on_inconclusive: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NginxFile {
    upstream_file: PathBuf,
    upstream_name: Option<String>,
    pid_file: PathBuf,
    config: Option<PathBuf>,
    prefix: Option<PathBuf>,
    binary: Option<String>,
    access_log: Option<PathBuf>,
}

/// An app, checked, with every default filled in.
#[derive(Debug, Clone)]
pub struct AppSpec {
    pub name: String,
    pub listen: SocketAddr,
    pub start: String,
    /// For apps that are not a foreground process (`docker compose up -d`):
    /// their start command may exit, and this stops a colour.
    pub stop: Option<String>,
    /// Where commands run (default: the repository's root).
    pub dir: PathBuf,
    pub health: String,
    pub smoke: Option<String>,
    /// Run during the watch; a failure votes for rolling back.
    pub check: Option<String>,
    pub timeouts: Timeouts,
    /// Successful versions remembered as rollback targets.
    pub keep: usize,
    pub watch: WatchSpec,
    pub env: BTreeMap<String, String>,
    pub router: RouterSpec,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub health_interval: Duration,
    pub health_check: Duration,
    /// From starting a colour to it being healthy and smoke-tested.
    pub deploy: Duration,
    /// How long the old colour may finish what it serves after a switch.
    pub drain: Duration,
    /// From asking a colour to stop to killing it.
    pub stop: Duration,
    /// How long the proxy lets a colour take to begin an answer (504
    /// after), fixed when the proxy starts.
    pub answer: Duration,
}

#[derive(Debug, Clone)]
pub struct WatchSpec {
    pub window: Duration,
    pub max_error_rate: Option<f64>,
    pub max_p95: Option<Duration>,
    pub min_requests: u64,
    pub on_inconclusive: OnInconclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInconclusive {
    /// Keep the new version, reported as inconclusive.
    Keep,
    Rollback,
}

#[derive(Debug, Clone)]
pub enum RouterSpec {
    /// Sluice's own proxy listens on `listen`.
    Builtin,
    Nginx(NginxSpec),
}

#[derive(Debug, Clone)]
pub struct NginxSpec {
    /// The file nginx includes; Sluice rewrites it whole.
    pub upstream_file: PathBuf,
    pub upstream_name: String,
    /// The running master's pid file: Sluice signals it to reload.
    pub pid_file: PathBuf,
    /// Passed to `nginx -t` as `-c` and `-p` (default: nginx's own).
    pub config: Option<PathBuf>,
    pub prefix: Option<PathBuf>,
    pub binary: String,
    /// An access log written with `log_format sluice '$upstream_addr $status
    /// $upstream_response_time';` feeds the watch.
    pub access_log: Option<PathBuf>,
}

impl AppSpec {
    /// Checks `file`; relative paths are the repository's (`root`).
    pub fn from_file(name: &str, file: &AppFile, root: &Path) -> Result<AppSpec, DeployError> {
        let bad = |key: &'static str, value: &str, problem: &str| DeployError::Config {
            app: name.to_owned(),
            key,
            value: value.to_owned(),
            problem: problem.to_owned(),
        };
        check_name(name).map_err(|problem| bad("name", name, problem))?;
        let listen = file.listen.parse::<SocketAddr>().map_err(|_| {
            bad(
                "listen",
                &file.listen,
                "an address and port, like 127.0.0.1:8080",
            )
        })?;
        if file.start.trim().is_empty() {
            return Err(bad("start", &file.start, "a command that starts the app"));
        }
        let path_like = file.health.starts_with('/')
            && file.health.len() <= 2048
            && file.health.bytes().all(|b| b.is_ascii_graphic());
        if !path_like {
            return Err(bad(
                "health",
                &file.health,
                "an HTTP path starting with /, without spaces",
            ));
        }
        let duration = |key: &'static str, text: &Option<String>, default: Duration| match text {
            None => Ok(default),
            Some(text) => match sluice_workflow::parse_duration(text) {
                Some(d) if !d.is_zero() && d <= LONGEST => Ok(d),
                _ => Err(bad(
                    key,
                    text,
                    "a duration like 500ms, 30s or 2m, at most 7 days",
                )),
            },
        };
        let timeouts = Timeouts {
            health_interval: duration(
                "health-interval",
                &file.health_interval,
                Duration::from_millis(200),
            )?,
            health_check: duration(
                "health-timeout",
                &file.health_timeout,
                Duration::from_secs(2),
            )?,
            deploy: duration(
                "deploy-timeout",
                &file.deploy_timeout,
                Duration::from_secs(60),
            )?,
            drain: duration(
                "drain-timeout",
                &file.drain_timeout,
                Duration::from_secs(30),
            )?,
            stop: duration("stop-timeout", &file.stop_timeout, Duration::from_secs(10))?,
            answer: duration(
                "answer-timeout",
                &file.answer_timeout,
                Duration::from_secs(60),
            )?,
        };
        let watch = &file.watch;
        if let Some(rate) = watch.max_error_rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(bad(
                "watch.max-error-rate",
                &rate.to_string(),
                "a fraction from 0 to 1",
            ));
        }
        let on_inconclusive = match watch.on_inconclusive.as_deref() {
            None | Some("keep") => OnInconclusive::Keep,
            Some("rollback") => OnInconclusive::Rollback,
            Some(other) => {
                return Err(bad(
                    "watch.on-inconclusive",
                    other,
                    "\"keep\" or \"rollback\"",
                ));
            }
        };
        let watch = WatchSpec {
            window: duration("watch.for", &watch.window, Duration::from_secs(60))?,
            max_error_rate: watch.max_error_rate,
            max_p95: match &watch.max_p95 {
                None => None,
                some => Some(duration("watch.max-p95", some, Duration::ZERO)?),
            },
            min_requests: watch.min_requests.unwrap_or(20),
            on_inconclusive,
        };
        let router = match file.router.as_deref() {
            None | Some("builtin") => {
                if file.nginx.is_some() {
                    return Err(bad("nginx", "…", "set router = \"nginx\" to use it"));
                }
                RouterSpec::Builtin
            }
            Some("nginx") => match &file.nginx {
                Some(nginx) => {
                    let spec = nginx_spec(name, nginx, root);
                    let upstream_ok = !spec.upstream_name.is_empty()
                        && spec.upstream_name.len() <= 64
                        && spec
                            .upstream_name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !upstream_ok {
                        // It is written into nginx's configuration.
                        return Err(bad(
                            "nginx.upstream-name",
                            &spec.upstream_name,
                            "letters, digits and _",
                        ));
                    }
                    RouterSpec::Nginx(spec)
                }
                None => {
                    return Err(bad(
                        "router",
                        "nginx",
                        "needs [apps.NAME.nginx] with upstream-file and pid-file",
                    ));
                }
            },
            Some(other) => return Err(bad("router", other, "\"builtin\" or \"nginx\"")),
        };
        for key in file.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err(bad("env", key, "not a variable name"));
            }
        }
        Ok(AppSpec {
            name: name.to_owned(),
            listen,
            start: file.start.clone(),
            stop: file.stop.clone(),
            dir: file
                .dir
                .as_ref()
                .map_or_else(|| root.to_owned(), |d| root.join(d)),
            health: file.health.clone(),
            smoke: file.smoke.clone(),
            check: file.check.clone(),
            timeouts,
            keep: file.keep.unwrap_or(5).max(1),
            watch,
            env: file.env.clone(),
            router,
        })
    }
}

/// Longer than any deploy should wait; keeps deadlines computable.
const LONGEST: Duration = Duration::from_secs(7 * 24 * 60 * 60);

fn nginx_spec(app: &str, file: &NginxFile, root: &Path) -> NginxSpec {
    NginxSpec {
        upstream_file: root.join(&file.upstream_file),
        upstream_name: file
            .upstream_name
            .clone()
            .unwrap_or_else(|| format!("sluice_{}", app.replace('-', "_"))),
        pid_file: root.join(&file.pid_file),
        config: file.config.as_ref().map(|c| root.join(c)),
        prefix: file.prefix.as_ref().map(|p| root.join(p)),
        binary: file.binary.clone().unwrap_or_else(|| "nginx".to_owned()),
        access_log: file.access_log.as_ref().map(|l| root.join(l)),
    }
}

/// An app's name names a directory and appears in nginx's configuration.
fn check_name(name: &str) -> Result<(), &'static str> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err("app names are letters, digits, - and _ (at most 64)")
    }
}
