//! `sluice artifacts ls RUN` and `sluice artifacts get RUN NAME [DIR]`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sluice_cache::Digest;
use sluice_store::timestamp::format_rfc3339_seconds;

use crate::cli::{ArtifactsArgs, ArtifactsCommand};
use crate::commands::cache::bytes;
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;

pub fn run(cwd: &Path, args: &ArtifactsArgs) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    let history = History::open(&config.state_dir, &root)?;
    let now = sluice_exec::events::now();
    match &args.command {
        ArtifactsCommand::Ls { run, json } => {
            let number = history.resolve_run(run)?;
            let artifacts = history.store().artifacts(history.repository(), number)?;
            if *json {
                crate::output::line(&serde_json::to_string_pretty(&artifacts)?);
                return Ok(ExitStatus::Success);
            }
            if artifacts.is_empty() {
                crate::output::line(&format!("run #{number} uploaded no artifacts"));
                return Ok(ExitStatus::Success);
            }
            crate::output::line(&format!(
                "{:24}  {:16}  {:>7}  {:>10}  EXPIRES",
                "NAME", "JOB", "FILES", "SIZE"
            ));
            for artifact in &artifacts {
                let expires = if artifact.expires_at <= now {
                    "expired".to_string()
                } else {
                    format_rfc3339_seconds(artifact.expires_at)
                };
                crate::output::line(&format!(
                    "{:24}  {:16}  {:>7}  {:>10}  {expires}",
                    artifact.name,
                    artifact.job,
                    artifact.files,
                    bytes(artifact.bytes)
                ));
            }
            Ok(ExitStatus::Success)
        }
        ArtifactsCommand::Get { run, name, dir } => {
            let number = history.resolve_run(run)?;
            let target = dir.clone().unwrap_or_else(|| PathBuf::from(name));
            let target = if target.is_absolute() {
                target
            } else {
                cwd.join(target)
            };
            let cache = crate::commands::run::open_cache(&config)?;
            let (artifact, stats) = restore(
                history.store(),
                history.repository(),
                number,
                name,
                &cache,
                &target,
            )?;
            crate::output::line(&format!(
                "wrote artifact '{name}' of run #{number} to {} ({} files, {})",
                target.display(),
                artifact.files,
                bytes(stats.bytes_written.max(artifact.bytes))
            ));
            Ok(ExitStatus::Success)
        }
    }
}

/// Writes artifact `name` of run `number` into `target`, checking that it
/// exists, has not expired and is still in the cache.
pub fn restore(
    history: &sluice_store::History,
    repository: &str,
    number: u64,
    name: &str,
    cache: &sluice_cache::Cache,
    target: &Path,
) -> Result<(sluice_store::ArtifactRecord, sluice_cache::RestoreStats)> {
    sluice_exec::check_artifact_name(name)?;
    let now = sluice_exec::events::now();
    let artifacts = history.artifacts(repository, number)?;
    let Some(artifact) = artifacts.into_iter().find(|a| a.name == name) else {
        let known: Vec<String> = history
            .artifacts(repository, number)?
            .into_iter()
            .map(|a| a.name)
            .collect();
        bail!(
            "run #{number} has no artifact named '{name}' (it has: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    if artifact.expires_at <= now {
        let _ = cache.remove_entry(&artifact.cache_kind, &artifact.cache_id);
        bail!(
            "artifact '{name}' of run #{number} expired on {}",
            format_rfc3339_seconds(artifact.expires_at)
        );
    }
    let entry = cache
        .get_entry(&artifact.cache_kind, &artifact.cache_id)?
        .with_context(|| {
            format!("the files of artifact '{name}' are no longer in the cache (it was pruned or cleared)")
        })?;
    let manifest: &Digest = entry
        .references
        .first()
        .with_context(|| format!("the cache entry of artifact '{name}' names no files"))?;
    let bases = HashMap::from([("base".to_string(), target.to_path_buf())]);
    // Artifacts are other jobs' files: nothing in one may write outside
    // the target directory.
    let stats = cache
        .restore_with(manifest, &bases, sluice_cache::Confinement::Confined)
        .with_context(|| format!("cannot write artifact '{name}' to {}", target.display()))?;
    Ok((artifact, stats))
}
