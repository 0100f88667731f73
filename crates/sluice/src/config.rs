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
    #[serde(default)]
    vars: IndexMap<String, String>,
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
}

/// Flag values that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub jobs: Option<usize>,
    pub vars: Vec<String>,
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
            .unwrap_or_else(default_cache_dir);
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
        Ok(Config {
            state_dir,
            cache_dir,
            jobs,
            cancel_grace: Duration::from_secs_f64(
                file.cancel_grace_seconds.unwrap_or(10.0).clamp(0.0, 3600.0),
            ),
            vars,
        })
    }
}

/// `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`.
fn default_cache_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("sluice");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache/sluice"),
        None => std::env::temp_dir().join("sluice-cache"),
    }
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
