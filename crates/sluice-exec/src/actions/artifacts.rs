//! `actions/upload-artifact` and `actions/download-artifact` (v3 and v4),
//! natively: an artifact's files go into the content-addressed cache (as
//! a tree manifest, so identical files are stored once), the run keeps a
//! list of its artifacts for later jobs, and the history records them for
//! `sluice artifacts ls|get`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indexmap::IndexMap;
use sluice_cache::{CaptureRoot, Confinement, Digest, EntryRecord, Links};

use super::artifact_name::check_artifact_name;
use super::{input, input_lines, normalize};
use crate::events::{Event, Outcome, now};
use crate::step::{StepContext, StepResult};

/// The cache entry kind of artifacts; ids are `<run id>/<name>`.
pub const ARTIFACT_KIND: &str = "artifact";
/// GitHub's default and longest retention.
const MAX_RETENTION_DAYS: u64 = 90;

/// An artifact of the running run.
#[derive(Debug, Clone)]
pub(crate) struct RunArtifact {
    pub id: u64,
    pub manifest: Digest,
    pub files: u64,
    pub bytes: u64,
}

pub(crate) fn upload(
    ctx: &StepContext,
    inputs: &IndexMap<String, String>,
    version: &str,
) -> StepResult {
    let shared = ctx.shared;
    let say = |line: &str| shared.system_line(ctx.key, Some(ctx.index), line);
    let Some(cache) = shared.spec.cache.as_deref() else {
        return StepResult::error(
            ctx,
            "artifacts are kept in the cache, which could not be opened",
        );
    };
    let name = input(inputs, "name").unwrap_or_else(|| "artifact".into());
    if let Err(invalid) = check_artifact_name(&name) {
        return StepResult::error(ctx, &invalid.to_string());
    }
    let patterns = input_lines(inputs, "path");
    if patterns.is_empty() {
        return StepResult::error(ctx, "Input required and not supplied: path");
    }
    let retention = match input(inputs, "retention-days") {
        None => MAX_RETENTION_DAYS,
        Some(text) => match text.parse::<u64>() {
            Ok(0) => MAX_RETENTION_DAYS,
            Ok(days) if days <= MAX_RETENTION_DAYS => days,
            Ok(days) => {
                say(&format!(
                    "warning: retention-days {days} is more than {MAX_RETENTION_DAYS}; {MAX_RETENTION_DAYS} is used"
                ));
                MAX_RETENTION_DAYS
            }
            Err(_) => {
                return StepResult::error(
                    ctx,
                    &format!("retention-days: '{text}' is not a whole number of days"),
                );
            }
        },
    };
    let if_none = input(inputs, "if-no-files-found").unwrap_or_else(|| "warn".into());
    if !matches!(if_none.as_str(), "warn" | "error" | "ignore") {
        return StepResult::error(
            ctx,
            &format!("if-no-files-found: '{if_none}' is not one of warn, error, ignore"),
        );
    }
    let overwrite = input(inputs, "overwrite").is_some_and(|v| v == "true");
    let v4 = !version.starts_with("v3") && !version.starts_with("v2") && !version.starts_with("v1");
    let exists = shared
        .artifacts
        .lock()
        .map(|list| list.contains_key(&name))
        .unwrap_or(false);
    if exists && !overwrite {
        return StepResult::error(
            ctx,
            &format!(
                "an artifact named '{name}' already exists in this run; artifacts cannot be changed once uploaded (set `overwrite: true` to replace it)"
            ),
        );
    }
    let hidden = input(inputs, "include-hidden-files").is_some_and(|v| v == "true");
    let (root, mut relative) = search_root(ctx.workspace, &patterns);
    if v4 && !hidden {
        // upload-artifact v4 leaves hidden files out unless asked.
        relative.push("!**/.*".into());
    }
    let started = Instant::now();
    let message = format!(
        "No files were found with the provided path: {}. No artifacts will be uploaded.",
        patterns.join(", ")
    );
    let nothing_found = || match if_none.as_str() {
        "error" => StepResult::error(ctx, &message),
        "warn" => {
            say(&format!("warning: {message}"));
            StepResult::outcome(Outcome::Success)
        }
        _ => {
            say(&message);
            StepResult::outcome(Outcome::Success)
        }
    };
    if !root.is_dir() {
        return nothing_found();
    }
    let _hold = match cache.hold() {
        Ok(hold) => hold,
        Err(e) => return StepResult::error(ctx, &format!("cannot store the artifact: {e}")),
    };
    // upload-artifact stores what links point to, never the links: a
    // download then cannot be made to write through one.
    let roots = [CaptureRoot {
        label: "base".into(),
        dir: root.clone(),
        patterns: relative,
    }];
    let capture = match cache.capture_with(&roots, Links::Follow) {
        Ok(capture) => capture,
        Err(e) => return StepResult::error(ctx, &format!("cannot store the artifact: {e}")),
    };
    if capture.files == 0 {
        return nothing_found();
    }
    let spec = shared.spec;
    let id = format!("{}/{name}", spec.run_id);
    let created = now();
    let expires_at = created + retention * 86_400_000;
    let record = EntryRecord::new(
        ARTIFACT_KIND,
        id.clone(),
        capture.bytes,
        vec![capture.manifest],
        serde_json::json!({"name": name, "run": spec.run_number, "expires_at": expires_at}),
    );
    if overwrite {
        let _ = cache.remove_entry(ARTIFACT_KIND, &id);
    }
    if let Err(e) = cache.put_entry(ARTIFACT_KIND, &id, &record) {
        return StepResult::error(ctx, &format!("cannot store the artifact: {e}"));
    }
    let artifact_id = {
        let Ok(mut list) = shared.artifacts.lock() else {
            return StepResult::error(ctx, "the run's artifact list is unusable after a crash");
        };
        let next = list.values().map(|a| a.id).max().unwrap_or(0) + 1;
        list.insert(
            name.clone(),
            RunArtifact {
                id: next,
                manifest: capture.manifest,
                files: capture.files,
                bytes: capture.bytes,
            },
        );
        next
    };
    shared.emit(Event::ArtifactUploaded {
        job: ctx.key.clone(),
        step: ctx.index,
        name: name.clone(),
        cache_kind: ARTIFACT_KIND.into(),
        cache_id: id,
        files: capture.files,
        bytes: capture.bytes,
        expires_at,
        at: created,
    });
    say(&format!(
        "uploaded artifact '{name}': {} files, {} bytes ({} new) from {} in {} ms; kept {retention} days",
        capture.files,
        capture.bytes,
        capture.new_bytes,
        root.display(),
        started.elapsed().as_millis()
    ));
    let mut result = StepResult::outcome(Outcome::Success);
    result
        .outputs
        .insert("artifact-id".into(), artifact_id.to_string());
    result.outputs.insert("artifact-url".into(), String::new());
    result
        .outputs
        .insert("artifact-digest".into(), capture.manifest.to_hex());
    result
}

pub(crate) fn download(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let shared = ctx.shared;
    let say = |line: &str| shared.system_line(ctx.key, Some(ctx.index), line);
    let Some(cache) = shared.spec.cache.as_deref() else {
        return StepResult::error(
            ctx,
            "artifacts are kept in the cache, which could not be opened",
        );
    };
    if let Some(run) = input(inputs, "run-id")
        && run != shared.spec.run_id
    {
        return StepResult::error(
            ctx,
            &format!(
                "downloading artifacts of another run ({run}) is not supported; use `sluice artifacts get RUN NAME DIR` in a `run:` step"
            ),
        );
    }
    let dest = match input(inputs, "path") {
        Some(path) => {
            let expanded = match path.strip_prefix('~') {
                Some(rest) => format!("{}{rest}", std::env::var("HOME").unwrap_or_default()),
                None => path,
            };
            ctx.workspace.join(expanded)
        }
        None => ctx.workspace.to_path_buf(),
    };
    let artifacts = shared
        .artifacts
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    let name = input(inputs, "name");
    if let Some(Err(invalid)) = name.as_deref().map(check_artifact_name) {
        return StepResult::error(ctx, &invalid.to_string());
    }
    // download-artifact matches names with minimatch, as `@actions/glob`
    // matches paths (`?` is any one character).
    let pattern = match input(inputs, "pattern").map(|p| sluice_glob::PathGlob::new(&p)) {
        None => None,
        Some(Ok(pattern)) => Some(pattern),
        Some(Err(e)) => return StepResult::error(ctx, &format!("pattern: {e}")),
    };
    let selected: Vec<(String, RunArtifact)> = match (&name, pattern) {
        (Some(name), _) => match artifacts.get(name) {
            Some(artifact) => vec![(name.clone(), artifact.clone())],
            None => {
                let known: Vec<&str> = artifacts.keys().map(String::as_str).collect();
                return StepResult::error(
                    ctx,
                    &format!(
                        "no artifact named '{name}' in this run (it has: {}); an artifact is visible to jobs that run after the job that uploads it — add that job to `needs:`",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            }
        },
        (None, pattern) => artifacts
            .iter()
            .filter(|(n, _)| {
                pattern
                    .as_ref()
                    .is_none_or(|p| p.matches(n, sluice_glob::EntryKind::File) != p.is_negated())
            })
            .map(|(n, a)| (n.clone(), a.clone()))
            .collect(),
    };
    // v3 without a name put each artifact in a directory of its name; v4
    // does too for several, unless `merge-multiple`.
    let merge = input(inputs, "merge-multiple").is_some_and(|v| v == "true");
    let by_name = name.is_none() && !merge;
    let started = Instant::now();
    let (mut files, mut bytes) = (0, 0);
    for (artifact_name, artifact) in &selected {
        let target = if by_name {
            dest.join(artifact_name)
        } else {
            dest.clone()
        };
        let bases = HashMap::from([("base".to_string(), target.clone())]);
        match cache.restore_with(&artifact.manifest, &bases, Confinement::Confined) {
            Ok(_) => {
                files += artifact.files;
                bytes += artifact.bytes;
            }
            Err(e) => {
                return StepResult::error(
                    ctx,
                    &format!("cannot download artifact '{artifact_name}': {e}"),
                );
            }
        }
    }
    if selected.is_empty() {
        say("warning: no artifacts matched; nothing was downloaded");
    } else {
        say(&format!(
            "downloaded {} artifact(s) ({files} files, {bytes} bytes) to {} in {} ms",
            selected.len(),
            dest.display(),
            started.elapsed().as_millis()
        ));
    }
    let mut result = StepResult::outcome(Outcome::Success);
    result
        .outputs
        .insert("download-path".into(), dest.display().to_string());
    result
}

/// Removes the artifacts whose retention period is over (their blobs go
/// with the cache's next sweep). Returns how many went.
pub fn remove_expired_artifacts(cache: &sluice_cache::Cache) -> usize {
    let now = now();
    let Ok(entries) = cache.list_entries(ARTIFACT_KIND, "") else {
        return 0;
    };
    entries
        .iter()
        .filter(|entry| {
            entry
                .payload
                .get("expires_at")
                .and_then(serde_json::Value::as_u64)
                .is_some_and(|at| at <= now)
        })
        .filter(|entry| {
            cache
                .remove_entry(ARTIFACT_KIND, &entry.id)
                .unwrap_or(false)
        })
        .count()
}

/// The directory an upload's files are stored relative to, as
/// upload-artifact does it: the deepest directory that holds every search
/// path; and the patterns relative to it.
fn search_root(workspace: &Path, patterns: &[String]) -> (PathBuf, Vec<String>) {
    let absolute = |pattern: &str| -> PathBuf {
        let expanded = match pattern.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{rest}", std::env::var("HOME").unwrap_or_default())
            }
            _ => pattern.to_string(),
        };
        normalize(&workspace.join(expanded))
    };
    let mut root: Option<PathBuf> = None;
    for pattern in patterns.iter().filter(|p| !p.starts_with('!')) {
        let full = absolute(pattern);
        let mut literal = PathBuf::new();
        let mut globbed = false;
        for part in full.components() {
            let text = part.as_os_str().to_string_lossy();
            if text.contains(['*', '?', '[', '{']) {
                globbed = true;
                break;
            }
            literal.push(part);
        }
        // A literal path to a file is stored by its name: the root is its
        // directory.
        if !globbed && !literal.is_dir() {
            literal.pop();
        }
        root = Some(match root {
            None => literal,
            Some(current) => common_ancestor(&current, &literal),
        });
    }
    let root = root.unwrap_or_else(|| workspace.to_path_buf());
    let relative = patterns
        .iter()
        .map(|pattern| {
            let (bang, rest) = match pattern.strip_prefix('!') {
                Some(rest) => ("!", rest),
                None => ("", pattern.as_str()),
            };
            let full = absolute(rest);
            let inside = full
                .strip_prefix(&root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| full.to_string_lossy().into_owned());
            let inside = if inside.is_empty() {
                "**".to_string()
            } else {
                inside
            };
            format!("{bang}{inside}")
        })
        .collect();
    (root, relative)
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_artifacts_go_and_current_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let cache = sluice_cache::Cache::open(sluice_cache::CacheConfig::new(&dir)).unwrap();
        let manifest = cache.put_bytes(b"files").unwrap();
        for (id, expires_at) in [("1/old", now() - 1), ("1/current", now() + 86_400_000)] {
            let record = EntryRecord::new(
                ARTIFACT_KIND,
                id,
                5,
                vec![manifest],
                serde_json::json!({"expires_at": expires_at}),
            );
            cache.put_entry(ARTIFACT_KIND, id, &record).unwrap();
        }
        assert_eq!(remove_expired_artifacts(&cache), 1);
        assert!(cache.get_entry(ARTIFACT_KIND, "1/old").unwrap().is_none());
        assert!(
            cache
                .get_entry(ARTIFACT_KIND, "1/current")
                .unwrap()
                .is_some()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_and_roots() {
        let ws = Path::new("/w");
        let (root, rel) = search_root(ws, &["dist/**/*.js".into(), "!dist/tmp".into()]);
        assert_eq!(root, PathBuf::from("/w/dist"));
        assert_eq!(rel, ["**/*.js", "!tmp"]);
        let (root, rel) = search_root(ws, &["a/x/*.txt".into(), "a/y/z/*.txt".into()]);
        assert_eq!(root, PathBuf::from("/w/a"));
        assert_eq!(rel, ["x/*.txt", "y/z/*.txt"]);
        let (root, rel) = search_root(ws, &["./out/../report.xml".into()]);
        assert_eq!(root, PathBuf::from("/w"));
        assert_eq!(rel, ["report.xml"]);
    }
}
