//! Settings, by precedence: command-line flag > environment variable
//! (`SLUICE_*`) > `sluice.toml` at the repository root > defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::Deserialize;

/// `sluice.toml`, all keys optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    state_dir: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
    jobs: Option<usize>,
    cancel_grace_seconds: Option<f64>,
    /// Largest the cache may grow, e.g. "10GiB", "500MB".
    cache_max_size: Option<String>,
    /// Cache entries unused for longer are evicted.
    cache_max_age_days: Option<f64>,
    /// Run jobs in the working tree instead of per-job snapshots.
    in_place: Option<bool>,
    #[serde(default)]
    vars: IndexMap<String, String>,
    /// Where `uses: owner/repo@ref` is fetched from.
    actions_server: Option<String>,
    /// Patterns of the remote actions and reusable workflows that may run.
    allowed_actions: Option<Vec<String>>,
    /// `false`, or a table of action names to `true`/`false`.
    native_actions: Option<NativeSetting>,
    /// The secret holding a token for private action repositories.
    actions_token_secret: Option<String>,
    /// The container engine: a socket URL or a client program.
    container_engine: Option<String>,
    /// `"host"`: container jobs run their steps on the host.
    container: Option<String>,
    /// Where `sluice serve` sends notifications.
    #[serde(default)]
    notify: Vec<crate::server_settings::NotifyFile>,
    /// Flaky detection.
    #[serde(default)]
    flaky: crate::flaky_settings::FlakyFile,
    /// Coverage gates.
    #[serde(default)]
    coverage: crate::coverage_settings::CoverageFile,
    /// How benchmark results are judged.
    #[serde(default)]
    perf: crate::perf_settings::PerfFile,
    /// Apps `sluice deploy` deploys.
    #[serde(default)]
    apps: IndexMap<String, sluice_deploy::AppFile>,
    /// Deployment environments' protection rules.
    #[serde(default)]
    environments: IndexMap<String, crate::environment_settings::EnvironmentFile>,
    // The keys of `sluice serve` (see server_settings.rs). Listed here,
    // not flattened, so that a misspelt key is reported where it is.
    webhook_secret: Option<String>,
    public_reads: Option<bool>,
    requeue_interrupted: Option<bool>,
    server_workers: Option<usize>,
    queue_limit: Option<u64>,
    max_body_size: Option<String>,
    remote: Option<String>,
    public_url: Option<String>,
    fork_pull_requests: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NativeSetting {
    All(bool),
    Each(IndexMap<String, bool>),
}

/// The settings a command runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// History database and logs.
    pub state_dir: PathBuf,
    /// Content-addressed cache.
    pub cache_dir: PathBuf,
    /// Parallel job slots.
    pub jobs: usize,
    /// Between SIGTERM and SIGKILL for a cancelled step.
    pub cancel_grace: Duration,
    /// The `vars` context.
    pub vars: IndexMap<String, String>,
    /// The cache's size cap, in bytes.
    pub cache_max_bytes: u64,
    /// How long an unused cache entry is kept.
    pub cache_max_age: Duration,
    /// Jobs run in the working tree rather than in snapshots of it.
    pub in_place: bool,
    /// How `uses:` reaches remote actions and reusable workflows.
    pub actions: ActionsConfig,
    /// The container engine to use (`container-engine`), if set.
    pub container_engine: Option<String>,
    /// Container jobs run their steps on the host.
    pub containers_on_host: bool,
    /// What `sluice serve` does.
    pub server: crate::server_settings::ServerSettings,
    /// Flaky detection.
    pub flaky: crate::flaky_settings::FlakySettings,
    pub coverage: crate::coverage_settings::CoverageConfig,
    pub perf: sluice_reports::perf::PerfConfig,
    /// Deployment environments' protection rules.
    pub environments: sluice_exec::Environments,
    /// `[apps.NAME]`, checked when an app is deployed.
    pub apps: IndexMap<String, sluice_deploy::AppFile>,
}

/// The settings for remote actions and reusable workflows.
#[derive(Debug, Clone)]
pub struct ActionsConfig {
    /// The base URL under which `OWNER/REPO` is a git repository.
    pub server: String,
    pub allowed: Option<Vec<String>>,
    /// Whether actions with a native version run natively, and exceptions.
    pub native_default: bool,
    pub native_overrides: Vec<(String, bool)>,
    /// The secret whose value is the token for private repositories; by
    /// default `SLUICE_ACTIONS_TOKEN`, else `GITHUB_TOKEN`, when given.
    pub token_secret: Option<String>,
}

/// Flag values that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub jobs: Option<usize>,
    pub vars: Vec<String>,
    /// `--in-place`.
    pub in_place: bool,
    /// `--container host`.
    pub containers_on_host: bool,
}

impl Config {
    pub fn load(root: &Path, overrides: &Overrides) -> Result<Config> {
        let path = root.join("sluice.toml");
        let file: File = match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let relative_to_root = |p: PathBuf| if p.is_absolute() { p } else { root.join(p) };
        let state_dir = env_path("SLUICE_STATE_DIR")
            .or(file.state_dir.map(relative_to_root))
            .unwrap_or_else(|| root.join(".sluice/state"));
        let cache_dir = env_path("SLUICE_CACHE_DIR")
            .or(file.cache_dir.map(relative_to_root))
            .map_or_else(default_cache_dir, Ok)?;
        let env_jobs = match std::env::var("SLUICE_JOBS") {
            Ok(v) if !v.is_empty() => Some(
                v.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("SLUICE_JOBS={v} is not a positive number"))?,
            ),
            _ => None,
        };
        let jobs = overrides
            .jobs
            .or(env_jobs)
            .or(file.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        if jobs == 0 {
            bail!("the number of parallel jobs must be at least 1");
        }
        let mut vars = file.vars;
        for item in &overrides.vars {
            let Some((k, v)) = item.split_once('=') else {
                bail!("--var '{item}' must have the form NAME=VALUE");
            };
            vars.insert(k.to_string(), v.to_string());
        }
        let env_text = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let cache_max_bytes = match env_text("SLUICE_CACHE_MAX_SIZE").or(file.cache_max_size) {
            Some(text) => parse_size(&text).with_context(|| format!("cache size '{text}'"))?,
            None => 10 * 1024 * 1024 * 1024,
        };
        let cache_max_age_days = match env_text("SLUICE_CACHE_MAX_AGE_DAYS") {
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d > 0.0)
                .with_context(|| {
                    format!("SLUICE_CACHE_MAX_AGE_DAYS={text} is not a positive number of days")
                })?,
            None => file.cache_max_age_days.unwrap_or(7.0),
        };
        let in_place = match env_text("SLUICE_IN_PLACE").as_deref() {
            _ if overrides.in_place => true,
            Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                bail!("SLUICE_IN_PLACE={other} is not one of 1, true, yes, 0, false, no")
            }
            None => file.in_place.unwrap_or(false),
        };
        let server = env_text("SLUICE_ACTIONS_SERVER")
            .or(file.actions_server)
            .unwrap_or_else(|| sluice_exec::remote::DEFAULT_SERVER.to_string());
        check_server_url(&server)?;
        let (native_default, native_overrides) = match file.native_actions {
            None => (true, Vec::new()),
            Some(NativeSetting::All(on)) => (on, Vec::new()),
            Some(NativeSetting::Each(each)) => (true, each.into_iter().collect()),
        };
        let actions = ActionsConfig {
            server,
            allowed: file.allowed_actions,
            native_default,
            native_overrides,
            token_secret: file.actions_token_secret,
        };
        let containers_on_host = match file.container.as_deref() {
            _ if overrides.containers_on_host => true,
            None | Some("engine") => false,
            Some("host") => true,
            Some(other) => {
                bail!("container = \"{other}\" in sluice.toml: use \"host\" or \"engine\"")
            }
        };
        let server_file = crate::server_settings::ServerFile {
            webhook_secret: file.webhook_secret,
            public_reads: file.public_reads,
            requeue_interrupted: file.requeue_interrupted,
            server_workers: file.server_workers,
            queue_limit: file.queue_limit,
            max_body_size: file.max_body_size,
            remote: file.remote,
            public_url: file.public_url,
            fork_pull_requests: file.fork_pull_requests,
        };
        let server = crate::server_settings::ServerSettings::from_file(server_file, file.notify)
            .with_context(|| format!("{}", path.display()))?;
        let flaky = crate::flaky_settings::FlakySettings::from_file(file.flaky)
            .with_context(|| format!("{}", path.display()))?;
        let coverage = crate::coverage_settings::CoverageConfig::from_file(file.coverage)
            .with_context(|| format!("{}", path.display()))?;
        let perf = crate::perf_settings::perf_config(file.perf)
            .with_context(|| format!("{}", path.display()))?;
        let environments = crate::environment_settings::environments(file.environments)
            .with_context(|| format!("{}", path.display()))?;
        Ok(Config {
            environments,
            apps: file.apps,
            flaky,
            coverage,
            perf,
            server,
            actions,
            container_engine: env_text("SLUICE_CONTAINER_ENGINE").or(file.container_engine),
            containers_on_host,
            in_place,
            state_dir,
            cache_dir,
            cache_max_bytes,
            cache_max_age: Duration::from_secs_f64(
                cache_max_age_days.clamp(0.0, 36_500.0) * 86_400.0,
            ),
            jobs,
            cancel_grace: Duration::from_secs_f64(
                file.cancel_grace_seconds.unwrap_or(10.0).clamp(0.0, 3600.0),
            ),
            vars,
        })
    }
}

/// An actions server must be a URL git can fetch from.
fn check_server_url(server: &str) -> Result<()> {
    let schemes = ["https://", "http://", "file://", "ssh://", "git://"];
    if schemes.iter().any(|s| server.starts_with(s)) && server.len() > 8 {
        return Ok(());
    }
    bail!(
        "actions server '{server}' is not a URL git can fetch from (it must start with one of {}); set actions-server in sluice.toml or SLUICE_ACTIONS_SERVER",
        schemes.join(", ")
    )
}

/// A size with an optional unit: `1048576`, `500MB`, `10GiB`, `2 gb`.
pub fn parse_size(text: &str) -> Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
        .context("not a size")?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => bail!("unknown unit '{other}' (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)"),
    };
    Ok((number * factor) as u64)
}

/// `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`, with the home
/// directory from the user database when `HOME` is not set. Never a fixed
/// place in the shared temporary directory, where another user could have
/// made it first.
fn default_cache_dir() -> Result<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("sluice"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|user| user.dir)
        })
        .filter(|dir| dir.is_absolute())
        .context("no cache directory: HOME is not set and this user has no home directory; set SLUICE_CACHE_DIR")?;
    Ok(home.join(".cache/sluice"))
}

/// Keeps the state directory out of git: a `.gitignore` with `*` inside it.
pub fn ensure_ignored(state_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("cannot create {}", state_dir.display()))?;
    let ignore = state_dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# Sluice's run history and logs; not for version control.\n*\n",
        )
        .with_context(|| format!("cannot write {}", ignore.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("10GiB").unwrap(), 10 * 1024 * 1024 * 1024);
        assert_eq!(parse_size("500 MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("1.5kib").unwrap(), 1536);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
