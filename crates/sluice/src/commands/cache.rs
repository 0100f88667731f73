//! `sluice cache ls | stats | why | prune | verify | clear`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sluice_cache::{Cache, EntryRecord};
use sluice_exec::ARTIFACT_KIND;
use sluice_exec::step_cache::{KeyComponents, MISS_KIND, STEP_KIND, StepPayload};
use sluice_store::timestamp::format_rfc3339_seconds;

use crate::cli::{CacheArgs, CacheCommand};
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;
use crate::view::duration;

pub fn run(cwd: &Path, args: &CacheArgs) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let config = Config::load(&root, &Overrides::default())?;
    let cache = crate::commands::run::open_cache(&config)?;
    match &args.command {
        CacheCommand::Ls { json, all } => ls(&cache, *json, *all),
        CacheCommand::Stats { json, days } => stats(&root, &config, &cache, *json, *days),
        CacheCommand::Why { step } => why(&root, &cache, step),
        CacheCommand::Prune => {
            let expired = sluice_exec::remove_expired_artifacts(&cache);
            if expired > 0 {
                crate::output::line(&format!(
                    "removed {expired} artifacts past their retention period"
                ));
            }
            // Asked for: nothing unreferenced is kept for its grace period.
            let report = cache.prune_now()?;
            let workspaces = sluice_exec::workspace::remove_idle_workspaces(
                &config.cache_dir.join("workspaces"),
                Some(config.cache_max_age),
            );
            if workspaces > 0 {
                crate::output::line(&format!(
                    "removed {workspaces} job workspaces unused for longer than the age limit"
                ));
            }
            let toolchains = sluice_exec::toolchains::remove_unused_toolchains(
                &config.cache_dir.join("toolchains"),
                config.cache_max_age,
            );
            if toolchains > 0 {
                crate::output::line(&format!(
                    "removed {toolchains} downloaded toolchains unused for longer than the age limit"
                ));
            }
            crate::output::line(&format!(
                "removed {} expired and {} least recently used entries and {} blobs ({}); {} entries left, {} stored",
                report.expired.len(),
                report.evicted.len(),
                report.blobs_removed,
                bytes(report.bytes_freed),
                report.entries_kept,
                bytes(report.bytes_stored),
            ));
            Ok(ExitStatus::Success)
        }
        CacheCommand::Verify => {
            let report = cache.verify()?;
            crate::output::line(&format!(
                "checked {} blobs ({}) in {}",
                report.blobs_checked,
                bytes(report.bytes_checked),
                duration(report.elapsed)
            ));
            if report.staging_removed > 0 {
                crate::output::line(&format!(
                    "removed {} partial files left by saves that were killed",
                    report.staging_removed
                ));
            }
            if report.unreferenced > 0 {
                crate::output::line(&format!(
                    "{} blobs belong to no entry (left by saves that were killed, or by entries removed since); `sluice cache prune` removes them",
                    report.unreferenced
                ));
            }
            for digest in &report.corrupt {
                crate::output::line(&format!("corrupt blob removed: {digest}"));
            }
            for dangling in &report.dangling {
                crate::output::line(&format!(
                    "entry removed (its data was lost): {} {}",
                    dangling.entry.kind, dangling.entry.id
                ));
            }
            let damaged = !report.corrupt.is_empty() || !report.dangling.is_empty();
            Ok(if damaged {
                ExitStatus::Failure
            } else {
                ExitStatus::Success
            })
        }
        CacheCommand::Clear => {
            cache.clear()?;
            // Kept job workspaces live beside the store; running jobs keep theirs.
            sluice_exec::workspace::remove_idle_workspaces(
                &config.cache_dir.join("workspaces"),
                None,
            );
            // Service data templates too, renamed aside first so that no
            // job copies half of one.
            let templates = config.cache_dir.join(crate::engine::SERVICE_TEMPLATES_DIR);
            let aside = config.cache_dir.join(format!(
                ".{}-cleared-{}",
                crate::engine::SERVICE_TEMPLATES_DIR,
                std::process::id()
            ));
            if std::fs::rename(&templates, &aside).is_ok() {
                let _ = std::fs::remove_dir_all(&aside);
            }
            crate::output::line(&format!(
                "cleared the cache in {}",
                config.cache_dir.display()
            ));
            Ok(ExitStatus::Success)
        }
    }
}

/// `1.2 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn ls(cache: &Cache, json: bool, all: bool) -> Result<ExitStatus> {
    let entries: Vec<EntryRecord> = cache
        .list()?
        .into_iter()
        .filter(|e| all || e.kind != MISS_KIND)
        .collect();
    if json {
        crate::output::line(&serde_json::to_string_pretty(&entries)?);
        return Ok(ExitStatus::Success);
    }
    if entries.is_empty() {
        crate::output::line("the cache is empty");
        return Ok(ExitStatus::Success);
    }
    crate::output::line(&format!(
        "{:8}  {:>9}  {:20}  {:20}  {}",
        "KIND", "SIZE", "CREATED", "LAST USED", "WHAT"
    ));
    for entry in &entries {
        let (kind, what) = describe(entry);
        // Keys and names come from workflows.
        let what = crate::terminal_text::inert(&what, false);
        crate::output::line(&format!(
            "{kind:8}  {:>9}  {:20}  {:20}  {what}",
            bytes(entry.size),
            format_rfc3339_seconds(entry.created_ms),
            format_rfc3339_seconds(entry.last_used_ms),
        ));
    }
    Ok(ExitStatus::Success)
}

fn describe(entry: &EntryRecord) -> (&'static str, String) {
    let text = |key: &str| {
        entry
            .payload
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    if entry.kind == STEP_KIND || entry.kind == MISS_KIND {
        let identity = &entry.payload["identity"];
        let field = |k: &str| {
            identity
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let short = entry
            .id
            .rsplit('/')
            .next()
            .unwrap_or(&entry.id)
            .get(..12)
            .unwrap_or("")
            .to_string();
        let kind = if entry.kind == STEP_KIND {
            "step"
        } else {
            "miss"
        };
        (
            kind,
            format!(
                "{} › {} › {}  ({short})",
                field("workflow"),
                field("job"),
                field("step")
            ),
        )
    } else if entry.kind == ARTIFACT_KIND {
        let expires = entry
            .payload
            .get("expires_at")
            .and_then(serde_json::Value::as_u64)
            .map(format_rfc3339_seconds)
            .unwrap_or_default();
        let run = entry
            .payload
            .get("run")
            .and_then(serde_json::Value::as_u64)
            .map(|n| format!("run #{n}"))
            .unwrap_or_else(|| "a run".into());
        (
            "artifact",
            format!("{}  [{run}, expires {expires}]", text("name")),
        )
    } else {
        let scope = text("scope");
        let scope = scope
            .strip_prefix("refs/heads/")
            .unwrap_or(&scope)
            .to_string();
        (
            "key",
            format!("{}  [{}, {}]", text("key"), text("repository"), scope),
        )
    }
}

fn stats(root: &Path, config: &Config, cache: &Cache, json: bool, days: u64) -> Result<ExitStatus> {
    let store = cache.stats()?;
    let since = sluice_exec::events::now().saturating_sub(days.saturating_mul(86_400_000));
    let history = History::open(&config.state_dir, root)?;
    let usage = history
        .store()
        .cache_stats(Some(history.repository()), since)?;
    if json {
        let value = serde_json::json!({
            "store": {
                "entries": store.entries,
                "entries_by_kind": store.entries_by_kind,
                "blobs": store.blobs,
                "bytes": store.bytes,
                "max_bytes": config.cache_max_bytes,
            },
            "days": days,
            "usage": usage,
        });
        crate::output::line(&serde_json::to_string_pretty(&value)?);
        return Ok(ExitStatus::Success);
    }
    let rate = |hits: u64, lookups: u64| {
        if lookups == 0 {
            "-".to_string()
        } else {
            format!("{:.0}%", 100.0 * hits as f64 / lookups as f64)
        }
    };
    let mut out = String::new();
    out.push_str(&format!(
        "store: {} in {} blobs, {} entries (limit {}) at {}\n",
        bytes(store.bytes),
        store.blobs,
        store.entries,
        bytes(config.cache_max_bytes),
        config.cache_dir.display()
    ));
    out.push_str(&format!("last {days} days in this repository:\n"));
    out.push_str(&format!(
        "  lookups {}: {} hits, {} restored from a restore key, {} misses (hit rate {})\n",
        usage.lookups,
        usage.hits,
        usage.partial_hits,
        usage.misses,
        rate(usage.hits, usage.lookups)
    ));
    for kind in &usage.by_kind {
        let name = if kind.kind == "step" {
            "step cache"
        } else {
            "actions/cache"
        };
        out.push_str(&format!(
            "    {name}: {} lookups, hit rate {}\n",
            kind.lookups,
            rate(kind.hits, kind.lookups)
        ));
    }
    out.push_str(&format!(
        "  restored {} in {}; steps not run saved {}\n",
        bytes(usage.bytes_restored),
        duration(Duration::from_millis(usage.restore_ms)),
        duration(Duration::from_millis(usage.time_saved_ms))
    ));
    out.push_str(&format!(
        "  saved {} times, {} new\n",
        usage.saves,
        bytes(usage.bytes_saved)
    ));
    crate::output::text(&out);
    Ok(ExitStatus::Success)
}

/// Explains the newest miss of a step (`JOB` or `JOB/STEP`, the step by
/// its id or number) against the closest earlier entry of the same step.
fn why(root: &Path, cache: &Cache, wanted: &str) -> Result<ExitStatus> {
    let (job, step) = match wanted.split_once('/') {
        Some((job, step)) => (job, Some(step)),
        None => (wanted, None),
    };
    let repository = sluice_exec::git::read_state(root, &Default::default())
        .map(|s| s.repository)
        .unwrap_or_default();
    let matches = |payload: &serde_json::Value| {
        let identity = &payload["identity"];
        let field = |k: &str| identity.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let number = identity
            .get("number")
            .and_then(|v| v.as_u64())
            .map(|n| n.to_string());
        let step_matches = match step {
            None => true,
            Some(s) => field("step") == s || number.as_deref() == Some(s.trim_start_matches('#')),
        };
        field("repository") == repository && field("job").eq_ignore_ascii_case(job) && step_matches
    };
    let newest_miss = cache
        .list_entries(MISS_KIND, "")?
        .into_iter()
        .filter(|e| matches(&e.payload))
        .max_by_key(|e| e.created_ms);
    let Some(miss) = newest_miss else {
        bail!(
            "no recorded cache miss of a step matching '{wanted}' in this repository (misses are recorded for steps with `cache:`)"
        );
    };
    let missed: KeyComponents = serde_json::from_value(miss.payload["components"].clone())
        .context("the recorded miss is unreadable")?;
    let identity = miss.payload["identity"].clone();
    let missed_key = missed.key();
    let earlier = cache
        .list_entries(STEP_KIND, "")?
        .into_iter()
        .filter_map(|e| {
            let payload: StepPayload = serde_json::from_value(e.payload.clone()).ok()?;
            let same_step = serde_json::to_value(&payload.identity).ok()? == identity;
            (same_step && e.id != missed_key).then_some((e, payload))
        })
        .max_by_key(|(e, _)| e.created_ms);
    let step_name = identity.get("step").and_then(|v| v.as_str()).unwrap_or("");
    let mut out = format!(
        "{job} › {step_name} missed at {} (key {})\n",
        format_rfc3339_seconds(miss.created_ms),
        missed_key.get(..12).unwrap_or("")
    );
    let Some((entry, previous)) = earlier else {
        out.push_str("no earlier cache entry of this step is stored: it never succeeded before with `cache:`, or its entries were evicted\n");
        crate::output::text(&out);
        return Ok(ExitStatus::Success);
    };
    out.push_str(&format!(
        "compared with the entry stored at {} (key {}):\n",
        format_rfc3339_seconds(entry.created_ms),
        entry.id.get(..12).unwrap_or("")
    ));
    let differences = explain(&previous.components, &missed);
    if differences.is_empty() {
        out.push_str(
            "  no difference in the key's parts: the entry was written after this lookup\n",
        );
    }
    for line in differences {
        out.push_str(&format!("  {line}\n"));
    }
    crate::output::text(&out);
    Ok(ExitStatus::Success)
}

/// The parts of a step's key that differ, in words.
pub fn explain(before: &KeyComponents, now: &KeyComponents) -> Vec<String> {
    let mut lines = Vec::new();
    if before.format != now.format || before.platform != now.platform {
        lines.push(format!(
            "Sluice's key format or platform changed ({} {} -> {} {})",
            before.format, before.platform, now.format, now.platform
        ));
    }
    if before.command != now.command {
        lines.push("the command changed".into());
    }
    if before.shell != now.shell {
        lines.push(format!(
            "the shell changed: {} -> {}",
            before.shell, now.shell
        ));
    }
    if before.working_directory != now.working_directory {
        lines.push(format!(
            "the working directory changed: '{}' -> '{}'",
            before.working_directory, now.working_directory
        ));
    }
    for (path, digest) in &now.inputs {
        match before.inputs.get(path) {
            None => lines.push(format!("input file added: {path}")),
            Some(old) if old != digest => lines.push(format!("input file changed: {path}")),
            Some(_) => {}
        }
    }
    for path in before
        .inputs
        .keys()
        .filter(|p| !now.inputs.contains_key(*p))
    {
        lines.push(format!("input file removed: {path}"));
    }
    for (name, value) in &now.env {
        if before.env.get(name) != Some(value) {
            lines.push(format!("env {name} changed"));
        }
    }
    for name in before.env.keys().filter(|n| !now.env.contains_key(*n)) {
        lines.push(format!("env {name} is no longer part of the key"));
    }
    if before.outputs != now.outputs {
        lines.push(format!(
            "the declared outputs changed: {:?} -> {:?}",
            before.outputs, now.outputs
        ));
    }
    for (job, keys) in &now.upstream {
        if before.upstream.get(job) != Some(keys) {
            lines.push(format!("a cached step of needed job '{job}' changed"));
        }
    }
    for job in before
        .upstream
        .keys()
        .filter(|j| !now.upstream.contains_key(*j))
    {
        lines.push(format!("needed job '{job}' is no longer needed"));
    }
    lines
}
