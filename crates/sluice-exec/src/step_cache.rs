//! Sluice's step cache: a `run:` step with `cache:` is skipped when its
//! key — the command, shell, directory, the content of its declared
//! inputs, the named env values, and the cached steps of the jobs it
//! needs — matches an earlier successful run; its outputs are restored
//! (files already in place are left alone), its log replayed, and its
//! outputs, env and path effects applied as if it had run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sluice_cache::{Cache, CacheError, CaptureRoot, Digest, EntryRecord, PutOutcome};
use sluice_workflow::StepCache;

use crate::events::{CacheKind, CacheResult, Event, LogLevel, Outcome, Stream, now};
use crate::job::JobState;
use crate::script_step::Script;
use crate::step::{StepContext, StepResult};
use crate::step_output::{self, Effects};

/// Entry kinds in the cache store.
pub const STEP_KIND: &str = "step";
/// What a step's key was made of when it missed, for `sluice cache why`.
pub const MISS_KIND: &str = "step-miss";

/// Changes whenever the key's recipe changes, so old entries stop matching.
/// 2: entries are never made of steps that leave secrets behind (entries of
/// format 1 may hold them, so they must not be hit).
const KEY_FORMAT: u32 = 2;

/// Which step an entry belongs to, to compare a miss with earlier entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepIdentity {
    pub repository: String,
    pub workflow: String,
    pub job: String,
    /// The step's `id:`, or `#n` for the n-th step when it has none.
    pub step: String,
    /// The step's number in the job, from 1.
    pub number: usize,
}

impl StepIdentity {
    /// A short stable name for the identity, usable as an id prefix.
    pub fn hash(&self) -> String {
        let text = format!(
            "{}\0{}\0{}\0{}",
            self.repository, self.workflow, self.job, self.step
        );
        Digest::of(text.as_bytes()).to_hex()[..24].to_string()
    }
}

/// What a key is made of (kept with entries so a miss can be explained).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyComponents {
    pub format: u32,
    pub platform: String,
    /// The command with secrets masked (see `secrets`).
    pub command: String,
    pub shell: String,
    pub working_directory: String,
    /// Input files (relative to the working directory) and their digests.
    pub inputs: IndexMap<String, String>,
    /// Named env values, hashed (they may be secrets).
    pub env: IndexMap<String, String>,
    /// The declared output patterns.
    pub outputs: Vec<String>,
    /// Keys of the cached steps of the jobs this one needs.
    pub upstream: IndexMap<crate::events::JobKey, Vec<String>>,
    /// When the command holds secrets: the cache's private digest of it,
    /// so the key follows the secrets without them being stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<String>,
}

impl KeyComponents {
    pub fn key(&self) -> String {
        let canonical = serde_json::to_vec(self).unwrap_or_default();
        Digest::of(&canonical).to_hex()
    }
}

/// What a step-cache entry carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepPayload {
    pub identity: StepIdentity,
    pub components: KeyComponents,
    /// The files the step produced (its `outputs` patterns).
    pub manifest: Option<Digest>,
    /// The step's log lines, as JSON lines of `[stream, text]`.
    pub log: Option<Digest>,
    pub effects: Effects,
    /// How long the step took when it ran.
    pub duration_ms: u64,
}

pub(crate) struct Pending {
    pub key: String,
    components: KeyComponents,
    identity: StepIdentity,
}

pub(crate) enum Lookup {
    Hit(StepResult),
    Miss(Box<Pending>),
    /// The cache cannot be used for this step (say, unreadable inputs).
    Unavailable(String),
}

/// Computes the step's key and looks it up; on a hit, restores the step.
pub(crate) fn lookup(
    ctx: &StepContext,
    state: &mut JobState,
    cache: &Cache,
    declared: &StepCache,
    script: &Script,
    env: &IndexMap<String, String>,
) -> Lookup {
    let started = Instant::now();
    let components = match components(ctx, cache, declared, script, env) {
        Ok(components) => components,
        Err(error) => return Lookup::Unavailable(error.to_string()),
    };
    let key = components.key();
    let identity = identity(ctx);
    let entry = match cache.get_entry(STEP_KIND, &key) {
        Ok(entry) => entry,
        Err(e) => return Lookup::Unavailable(e.to_string()),
    };
    let payload = entry.and_then(|e| serde_json::from_value::<StepPayload>(e.payload).ok());
    // An entry that holds a value that is secret in this run (whatever
    // run made it) is never replayed.
    let payload = payload.filter(|p| secret_in_result(ctx, &p.effects).is_none());
    if let Some(payload) = payload {
        match replay(ctx, state, cache, script, &payload) {
            Ok(bytes) => {
                lookup_event(
                    ctx,
                    &key,
                    CacheResult::Hit,
                    bytes,
                    started.elapsed(),
                    Some(payload.duration_ms),
                );
                let mut result = StepResult::outcome(Outcome::Success);
                result.outputs = payload.effects.outputs.clone();
                result.cached = true;
                result.cache_key = Some(key);
                return Lookup::Hit(result);
            }
            Err(e) => {
                // A corrupt or vanished blob is a miss, never a half-restored step.
                ctx.shared.system_message(
                    ctx.key,
                    Some(ctx.index),
                    LogLevel::Warning,
                    &format!(
                        "the cached result of this step could not be restored ({e}); running it"
                    ),
                );
                let _ = cache.remove_entry(STEP_KIND, &key);
            }
        }
    }
    lookup_event(ctx, &key, CacheResult::Miss, 0, started.elapsed(), None);
    // What missed, for `sluice cache why`.
    let miss = EntryRecord::new(
        MISS_KIND,
        format!("{}/{key}", identity.hash()),
        0,
        Vec::new(),
        serde_json::json!({"identity": identity, "components": components}),
    );
    let _ = cache.put_entry(MISS_KIND, &miss.id.clone(), &miss);
    Lookup::Miss(Box::new(Pending {
        key,
        components,
        identity,
    }))
}

/// Stores a step that succeeded: its output files, log and effects.
pub(crate) fn save(
    ctx: &StepContext,
    cache: &Cache,
    declared: &StepCache,
    script: &Script,
    pending: Pending,
    effects: &Effects,
    took: Duration,
) {
    let started = Instant::now();
    let stored = store(cache, declared, script, &pending, effects, took);
    match stored {
        Ok((bytes, new_bytes)) => ctx.shared.emit(Event::CacheSaved {
            job: ctx.key.clone(),
            step: ctx.index,
            kind: CacheKind::Step,
            key: pending.key,
            bytes,
            new_bytes,
            duration_ms: started.elapsed().as_millis() as u64,
            at: now(),
        }),
        Err(e) => ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Warning,
            &format!("the step's result could not be cached: {e}"),
        ),
    }
}

fn store(
    cache: &Cache,
    declared: &StepCache,
    script: &Script,
    pending: &Pending,
    effects: &Effects,
    took: Duration,
) -> Result<(u64, u64), CacheError> {
    // Held across capture and put_entry so a prune in another process
    // cannot remove the new blobs before the entry references them.
    let _hold = cache.hold()?;
    let patterns: Vec<String> = declared.outputs.iter().map(|o| o.value.clone()).collect();
    let capture = if patterns.is_empty() {
        None
    } else {
        Some(cache.capture(&[CaptureRoot {
            label: "base".into(),
            dir: script.cwd.clone(),
            patterns,
        }])?)
    };
    let log = match &effects.captured {
        Some(lines) if !lines.is_empty() => {
            let mut text = Vec::new();
            for (stream, line) in lines {
                let row = serde_json::json!([stream, line]);
                text.extend_from_slice(row.to_string().as_bytes());
                text.push(b'\n');
            }
            Some(cache.put_bytes(&text)?)
        }
        _ => None,
    };
    let payload = StepPayload {
        identity: pending.identity.clone(),
        components: pending.components.clone(),
        manifest: capture.map(|c| c.manifest),
        log,
        effects: effects.clone(),
        duration_ms: took.as_millis() as u64,
    };
    let references: Vec<Digest> = payload
        .manifest
        .iter()
        .chain(payload.log.iter())
        .copied()
        .collect();
    let bytes = capture.map_or(0, |c| c.bytes);
    let new_bytes = capture.map_or(0, |c| c.new_bytes);
    let record = EntryRecord::new(
        STEP_KIND,
        pending.key.clone(),
        bytes,
        references,
        serde_json::to_value(&payload).unwrap_or_default(),
    );
    // Keys are immutable: if another run stored this key meanwhile, theirs
    // stays (it was made from the same inputs).
    let _: PutOutcome = cache.put_entry(STEP_KIND, &pending.key, &record)?;
    Ok((bytes, new_bytes))
}

/// Puts a cached step back: files, log, outputs, env, path and summary.
fn replay(
    ctx: &StepContext,
    state: &mut JobState,
    cache: &Cache,
    script: &Script,
    payload: &StepPayload,
) -> Result<u64, CacheError> {
    // Everything that can fail comes before anything is shown or applied.
    let log = match &payload.log {
        Some(digest) => Some(cache.get_bytes(digest)?),
        None => None,
    };
    let bytes = match &payload.manifest {
        Some(manifest) => {
            let bases = HashMap::from([("base".to_string(), script.cwd.clone())]);
            cache.restore(manifest, &bases)?.bytes_written
        }
        None => 0,
    };
    let mut effects = payload.effects.clone();
    effects.captured = None;
    for row in log.as_deref().unwrap_or_default().split(|b| *b == b'\n') {
        if row.is_empty() {
            continue;
        }
        if let Ok((stream, line)) = serde_json::from_slice::<(Stream, String)>(row) {
            step_output::log_line(ctx, &mut effects, stream, &line);
        }
    }
    effects.apply_to(state);
    step_output::emit_summary(ctx, &effects);
    Ok(bytes)
}

fn lookup_event(
    ctx: &StepContext,
    key: &str,
    result: CacheResult,
    bytes: u64,
    took: Duration,
    saved_ms: Option<u64>,
) {
    ctx.shared.emit(Event::CacheLookup {
        job: ctx.key.clone(),
        step: ctx.index,
        kind: CacheKind::Step,
        key: key.to_string(),
        result,
        matched_key: None,
        bytes,
        duration_ms: took.as_millis() as u64,
        saved_ms,
        at: now(),
    });
}

fn identity(ctx: &StepContext) -> StepIdentity {
    let spec = ctx.shared.spec;
    let repository = spec
        .plan
        .github
        .get("repository")
        .and_then(|r| r.as_str())
        .unwrap_or_default()
        .to_string();
    StepIdentity {
        repository,
        workflow: spec.workflow_path.clone(),
        job: ctx.job.id.clone(),
        step: if ctx.step.id_written {
            ctx.step.id.clone()
        } else {
            format!("#{}", ctx.index + 1)
        },
        number: ctx.index + 1,
    }
}

/// Why a step that ran must not be cached, if it must not: a cached copy
/// would keep a secret at rest and replay it where it is not masked (in
/// another run, with other secrets, or before its `add-mask` runs).
pub(crate) fn secret_in_result(ctx: &StepContext, effects: &Effects) -> Option<&'static str> {
    if effects.registered_mask {
        return Some(
            "it registered a value to mask (::add-mask::), which a cached copy would replay unmasked",
        );
    }
    let shared = ctx.shared;
    let values = effects
        .outputs
        .values()
        .chain(effects.env.iter().map(|(_, value)| value))
        .chain(effects.path.iter());
    for value in values {
        if shared.has_secret(value) {
            return Some(
                "its outputs, env or path hold a secret, which the cache would keep in clear",
            );
        }
    }
    None
}

/// Why the step's output files must not be cached: one of them holds a
/// secret (a token written to `.npmrc`, say). Read only when the run has
/// secrets at all.
pub(crate) fn secret_in_output_files(
    ctx: &StepContext,
    declared: &StepCache,
    script: &Script,
) -> Option<String> {
    let no_secrets = ctx.shared.masker.read().is_ok_and(|m| m.is_empty());
    if no_secrets || declared.outputs.is_empty() {
        return None;
    }
    let patterns: Vec<String> = declared.outputs.iter().map(|o| o.value.clone()).collect();
    let files = sluice_glob::walk_matches(&script.cwd, &patterns).ok()?;
    files.into_iter().find_map(|file| {
        let bytes = std::fs::read(&file).ok()?;
        ctx.shared
            .has_secret(&String::from_utf8_lossy(&bytes))
            .then(|| {
                let shown = file.strip_prefix(&script.cwd).unwrap_or(&file);
                format!(
                    "its output file {} holds a secret, which the cache would keep in clear",
                    shown.display()
                )
            })
    })
}

/// Everything the key is made of.
fn components(
    ctx: &StepContext,
    cache: &Cache,
    declared: &StepCache,
    script: &Script,
    env: &IndexMap<String, String>,
) -> Result<KeyComponents, KeyError> {
    let shared = ctx.shared;
    let patterns: Vec<String> = declared.inputs.iter().map(|i| i.value.clone()).collect();
    let files = sluice_glob::walk_matches(&script.cwd, &patterns)?;
    let mut inputs = IndexMap::new();
    for file in files {
        let relative = file
            .strip_prefix(&script.cwd)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let content = std::fs::read(&file).map_err(|source| KeyError::ReadInput {
            path: file.clone(),
            source,
        })?;
        inputs.insert(relative, Digest::of(&content).to_hex());
    }
    let env = declared
        .env
        .iter()
        .map(|name| {
            let value = env
                .get(&name.value)
                .cloned()
                .or_else(|| std::env::var(&name.value).ok());
            let hashed = match value {
                None => "unset".to_string(),
                Some(v) if shared.has_secret(&v) => {
                    format!("private:{}", private_digest(cache, &v)?)
                }
                Some(v) => Digest::of(v.as_bytes()).to_hex(),
            };
            Ok((name.value.clone(), hashed))
        })
        .collect::<Result<_, KeyError>>()?;
    let secrets = if shared.has_secret(&script.text) {
        Some(private_digest(cache, &script.text)?)
    } else {
        None
    };
    Ok(KeyComponents {
        format: KEY_FORMAT,
        platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        command: shared.mask(&script.text),
        shell: script.shell.clone().unwrap_or_else(|| "default".into()),
        working_directory: script.relative_dir.clone(),
        inputs,
        env,
        outputs: declared.outputs.iter().map(|o| o.value.clone()).collect(),
        upstream: ctx.upstream_keys.clone(),
        secrets,
    })
}

fn private_digest(cache: &Cache, value: &str) -> Result<String, KeyError> {
    Ok(cache.private_digest(value.as_bytes())?.to_hex())
}

/// Why a step's key could not be computed (the step then runs uncached).
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("inputs: {0}")]
    Inputs(#[from] sluice_glob::WalkError),
    #[error("cannot read input {}: {source}", path.display())]
    ReadInput {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
}
