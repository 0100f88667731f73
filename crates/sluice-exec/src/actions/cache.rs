//! `actions/cache`, `actions/cache/restore` and `actions/cache/save`, run
//! natively on Sluice's content-addressed store.
//!
//! As on GitHub: a lookup tries, in the branch of the run and then in the
//! default branch (and, for pull requests, the base branch), the key
//! exactly, then as a prefix, then each restore key exactly and as a
//! prefix — the newest entry wins. `cache-hit` is true only for the exact
//! key. `actions/cache` saves in a post step when the job succeeded and the
//! key did not hit; a saved key is immutable.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use indexmap::IndexMap;
use sluice_cache::{Cache, CaptureRoot, Digest, EntryRecord, PutOutcome};

use crate::eval_host::RunHost;
use crate::events::{CacheKind, CacheResult, Event, LogLevel, Outcome, now};
use crate::job::JobState;
use crate::step::{StepContext, StepResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    RestoreThenSave,
    RestoreOnly,
}

/// What the post step of `actions/cache` saves.
#[derive(Debug, Clone)]
pub(crate) struct PostSave {
    pub request: Request,
    /// The step that registered it (for naming the post step).
    pub step: usize,
    /// `save-always`: save even when the job failed.
    pub always: bool,
}

/// A key and the paths it covers, resolved for this run.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub key: String,
    pub restore_keys: Vec<String>,
    /// `path:` lines as written (they make the cache version).
    pub paths: Vec<String>,
    pub roots: Vec<CaptureRoot>,
    pub version: String,
    pub repository: String,
    /// Where the run may read entries from, in order; it saves to the first.
    pub scopes: Vec<String>,
}

pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    inputs: &IndexMap<String, String>,
    version: &str,
    mode: Mode,
) -> StepResult {
    if !matches!(version, "v3" | "v4") && !version.is_empty() {
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Notice,
            &format!("actions/cache@{version} runs with the behaviour of v4"),
        );
    }
    let request = match request(ctx, host, inputs) {
        Ok(request) => request,
        Err(message) => return StepResult::error(ctx, &message),
    };
    let Some(cache) = ctx.shared.spec.cache.as_deref() else {
        return StepResult::error(
            ctx,
            "the cache is not available (see the warning at the start of the run)",
        );
    };
    let flag = |name: &str| {
        inputs
            .get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    let started = Instant::now();
    let found = find(cache, &request);
    let (result, matched) = match &found {
        Ok(Some((entry, exact))) => {
            let kind = if *exact {
                CacheResult::Hit
            } else {
                CacheResult::Partial
            };
            (
                kind,
                Some(
                    entry
                        .id
                        .split_once(':')
                        .map_or(entry.id.clone(), |(_, k)| k.to_string()),
                ),
            )
        }
        Ok(None) => (CacheResult::Miss, None),
        Err(e) => return StepResult::error(ctx, &format!("cache lookup failed: {e}")),
    };
    let mut bytes = 0;
    let mut restored = false;
    if let Ok(Some((entry, _))) = &found
        && !flag("lookup-only")
        && let Some(manifest) = entry.references.first()
    {
        let bases = HashMap::from([
            ("base".to_string(), ctx.workspace.to_path_buf()),
            ("abs".to_string(), PathBuf::from("/")),
        ]);
        match cache.restore(manifest, &bases) {
            Ok(stats) => {
                bytes = stats.bytes_written;
                restored = true;
            }
            Err(e) => {
                ctx.shared.system_message(
                    ctx.key,
                    Some(ctx.index),
                    LogLevel::Warning,
                    &format!("the cache entry could not be restored ({e}); treating it as a miss"),
                );
                let _ = cache.remove_entry(&entry.kind, &entry.id);
            }
        }
    }
    let result = if restored || flag("lookup-only") {
        result
    } else {
        CacheResult::Miss
    };
    let matched = matched.filter(|_| result != CacheResult::Miss);
    ctx.shared.emit(Event::CacheLookup {
        job: ctx.key.clone(),
        step: ctx.index,
        kind: CacheKind::Key,
        key: request.key.clone(),
        result,
        matched_key: matched.clone().filter(|m| *m != request.key),
        bytes,
        duration_ms: started.elapsed().as_millis() as u64,
        saved_ms: None,
        at: now(),
    });
    let line = match (&result, &matched) {
        (CacheResult::Hit, _) => format!("Cache restored from key: {}", request.key),
        (CacheResult::Partial, Some(m)) => format!("Cache restored from key: {m}"),
        _ => format!(
            "Cache not found for input keys: {}",
            std::iter::once(request.key.as_str())
                .chain(request.restore_keys.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    ctx.shared.system_line(ctx.key, Some(ctx.index), &line);
    let mut outcome = StepResult::outcome(Outcome::Success);
    outcome
        .outputs
        .insert("cache-hit".into(), (result == CacheResult::Hit).to_string());
    outcome
        .outputs
        .insert("cache-primary-key".into(), request.key.clone());
    outcome
        .outputs
        .insert("cache-matched-key".into(), matched.unwrap_or_default());
    if result == CacheResult::Miss && flag("fail-on-cache-miss") {
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Error,
            &format!("Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: {}", request.key),
        );
        outcome.outcome = Outcome::Failure;
        return outcome;
    }
    if mode == Mode::RestoreThenSave {
        if result == CacheResult::Hit {
            // Nothing to save: the key is immutable and already there.
        } else {
            state.posts.push(super::Post::CacheSave(PostSave {
                request,
                step: ctx.index,
                always: flag("save-always"),
            }));
        }
    }
    outcome
}

/// `actions/cache/save`: saves now.
pub(crate) fn save_step(
    ctx: &StepContext,
    host: &RunHost,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let request = match request(ctx, host, inputs) {
        Ok(request) => request,
        Err(message) => return StepResult::error(ctx, &message),
    };
    save(ctx, &request);
    StepResult::outcome(Outcome::Success)
}

/// Saves `request`'s paths under its key in the run's own scope.
pub(crate) fn save(ctx: &StepContext, request: &Request) {
    let shared = ctx.shared;
    let Some(cache) = shared.spec.cache.as_deref() else {
        return;
    };
    let started = Instant::now();
    let Some(scope) = request.scopes.first() else {
        return;
    };
    let kind = scope_kind(&request.repository, scope);
    let id = format!("{}:{}", request.version, request.key);
    let report = |line: String| shared.system_line(ctx.key, Some(ctx.index), &line);
    if matches!(cache.get_entry(&kind, &id), Ok(Some(_))) {
        report(format!(
            "Cache already exists for key: {}; not saving (keys are immutable)",
            request.key
        ));
        return;
    }
    // Held across capture and put_entry so a prune in another process
    // cannot remove the new blobs before the entry references them.
    let _hold = match cache.hold() {
        Ok(hold) => hold,
        Err(e) => {
            report(format!("warning: cache not saved: {e}"));
            return;
        }
    };
    let capture = match cache.capture(&request.roots) {
        Ok(capture) => capture,
        Err(e) => {
            report(format!("warning: cache not saved: {e}"));
            return;
        }
    };
    if capture.files == 0 {
        report("warning: Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.".into());
        return;
    }
    let record = EntryRecord::new(
        kind.clone(),
        id.clone(),
        capture.bytes,
        vec![capture.manifest],
        serde_json::json!({"key": request.key, "paths": request.paths, "scope": scope, "repository": request.repository}),
    );
    match cache.put_entry(&kind, &id, &record) {
        Ok(PutOutcome::Created) => {
            report(format!("Cache saved with key: {}", request.key));
            shared.emit(Event::CacheSaved {
                job: ctx.key.clone(),
                step: ctx.index,
                kind: CacheKind::Key,
                key: request.key.clone(),
                bytes: capture.bytes,
                new_bytes: capture.new_bytes,
                duration_ms: started.elapsed().as_millis() as u64,
                at: now(),
            });
        }
        Ok(PutOutcome::AlreadyExists) => {
            report(format!(
                "Cache already exists for key: {}; not saving (keys are immutable)",
                request.key
            ));
        }
        Err(e) => report(format!("warning: cache not saved: {e}")),
    }
}

/// The entry for the request's key or restore keys, newest first within
/// each rule, and whether it matched the key exactly.
fn find(
    cache: &Cache,
    request: &Request,
) -> Result<Option<(EntryRecord, bool)>, sluice_cache::CacheError> {
    let newest = |entries: Vec<EntryRecord>| entries.into_iter().max_by_key(|e| e.created_ms);
    for scope in &request.scopes {
        let kind = scope_kind(&request.repository, scope);
        let id = |key: &str| format!("{}:{key}", request.version);
        let key_id = id(&request.key);
        if let Some(entry) = cache.get_entry(&kind, &key_id)? {
            return Ok(Some((entry, true)));
        }
        if let Some(entry) = newest(cache.list_entries(&kind, &key_id)?) {
            return Ok(Some((entry, false)));
        }
        for restore_key in &request.restore_keys {
            let restore_id = id(restore_key);
            if let Some(entry) = cache.get_entry(&kind, &restore_id)? {
                return Ok(Some((entry, false)));
            }
            if let Some(entry) = newest(cache.list_entries(&kind, &restore_id)?) {
                return Ok(Some((entry, false)));
            }
        }
    }
    Ok(None)
}

/// Entries of one repository and ref live under their own kind.
fn scope_kind(repository: &str, scope: &str) -> String {
    let hash = Digest::of(format!("{repository}\0{scope}").as_bytes()).to_hex();
    format!("key/{}", &hash[..20])
}

/// A key with each secret in it replaced by `***` and the cache's private
/// digest of the secret: keys are stored, listed and shown, so a secret
/// must not appear in one, yet another secret must make another key.
fn seal_secrets(ctx: &StepContext, key: &str) -> Result<String, SealError> {
    let shared = ctx.shared;
    if !shared.has_secret(key) {
        return Ok(key.to_string());
    }
    let Some(cache) = shared.spec.cache.as_deref() else {
        return Ok(shared.mask(key));
    };
    let masker = shared.masker.read().map_err(|_| SealError::Poisoned)?;
    let mut failure = None;
    let sealed = masker.replace_secrets(key, |secret, out| {
        out.push_str(crate::mask::MASK);
        match cache.private_digest(secret.as_bytes()) {
            Ok(digest) => out.push_str(&digest.to_hex()[..16]),
            Err(e) => failure = Some(e),
        }
    });
    match failure {
        Some(e) => Err(SealError::Cache(e)),
        None => Ok(sealed.into_owned()),
    }
}

#[derive(Debug, thiserror::Error)]
enum SealError {
    #[error("the run's secrets are unusable after a crash")]
    Poisoned,
    #[error("cannot protect the secret in the cache key: {0}")]
    Cache(#[from] sluice_cache::CacheError),
}

/// Reads the inputs into a request for this run.
fn request(
    ctx: &StepContext,
    host: &RunHost,
    inputs: &IndexMap<String, String>,
) -> Result<Request, String> {
    let lines = |name: &str| super::input_lines(inputs, name);
    let key = inputs
        .get("key")
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    if key.is_empty() {
        return Err("Input required and not supplied: key".into());
    }
    let key = seal_secrets(ctx, &key).map_err(|e| e.to_string())?;
    if key.contains(',') {
        return Err(format!(
            "Key Validation Error: {key} cannot contain commas."
        ));
    }
    let paths = lines("path");
    if paths.is_empty() {
        return Err("Input required and not supplied: path".into());
    }
    let workspace = ctx.workspace.to_path_buf();
    let home = std::env::var("HOME").unwrap_or_default();
    let mut base = Vec::new();
    let mut absolute = Vec::new();
    for line in &paths {
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.to_string()),
            None => (false, line.clone()),
        };
        let pattern = match pattern.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{home}{rest}"),
            _ => pattern,
        };
        let bang = if negated { "!" } else { "" };
        if let Some(inside) = pattern.strip_prefix(&format!("{}/", workspace.display())) {
            base.push(format!("{bang}{inside}"));
        } else if let Some(rooted) = pattern.strip_prefix('/') {
            absolute.push(format!("{bang}{rooted}"));
        } else {
            base.push(format!("{bang}{pattern}"));
        }
    }
    let mut roots = Vec::new();
    if !base.is_empty() {
        roots.push(CaptureRoot {
            label: "base".into(),
            dir: workspace,
            patterns: base,
        });
    }
    if !absolute.is_empty() {
        roots.push(CaptureRoot {
            label: "abs".into(),
            dir: PathBuf::from("/"),
            patterns: absolute,
        });
    }
    let version = Digest::of(format!("{}\nsluice-cache-v1", paths.join("\n")).as_bytes()).to_hex()
        [..16]
        .to_string();
    let github = host.contexts.get("github");
    let field = |path: &[&str]| -> String {
        let mut value = github;
        for part in path {
            value = value.and_then(|v| v.get(part));
        }
        value
            .map(|v| v.to_display_string().into_owned())
            .unwrap_or_default()
    };
    let mut scopes = vec![field(&["ref"])];
    let default_branch = field(&["event", "repository", "default_branch"]);
    if !default_branch.is_empty() {
        scopes.push(format!("refs/heads/{default_branch}"));
    }
    let base_ref = field(&["base_ref"]);
    if !base_ref.is_empty() {
        scopes.push(format!("refs/heads/{base_ref}"));
    }
    scopes.dedup();
    let mut seen = std::collections::HashSet::new();
    scopes.retain(|s| !s.is_empty() && seen.insert(s.clone()));
    Ok(Request {
        key,
        restore_keys: lines("restore-keys")
            .iter()
            .map(|k| seal_secrets(ctx, k))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        paths,
        roots,
        version,
        repository: field(&["repository"]),
        scopes,
    })
}
