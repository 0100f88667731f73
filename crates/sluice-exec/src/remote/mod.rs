//! Remote actions and reusable workflows: `owner/repo[/path]@ref` fetched
//! from an actions server (GitHub by default; any base URL under which
//! `OWNER/REPO` is a git repository), pinned to a commit, kept in Sluice's
//! content-addressed cache, and put in place for a run.
//!
//! - A tag or branch is resolved to a commit (`git ls-remote`) the first
//!   time a run asks for it; a full SHA is taken as the pin.
//! - A commit's tree is fetched once (`git fetch --depth 1`), checked to be
//!   that very commit (git names objects by their hash, and the fetched
//!   commit must equal the pin), and captured into the cache as an entry
//!   of kind [`ACTION_KIND`]: bounded and pruned like everything else. A
//!   later run restores it without the network.
//! - Offline (the server cannot be reached), a tag resolves to the commit
//!   it had when last resolved (entries of kind [`REF_KIND`]), and a pinned
//!   or cached commit needs nothing; otherwise the error names the
//!   reference and what to do.
//! - `allowed-actions` is checked before anything is fetched.

mod error;
mod git_remote;
mod policy;
mod reference;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sluice_cache::{Cache, CaptureRoot, Digest, EntryRecord, Links};

pub use error::RemoteError;
use git_remote::{GitRemote, Resolved};
pub use policy::AllowList;
pub use reference::{InvalidReference, RemoteRef, is_full_sha};

/// Cache entries holding a fetched commit's tree.
pub const ACTION_KIND: &str = "action";
/// Cache entries remembering what a tag or branch last resolved to.
pub const REF_KIND: &str = "action-ref";
/// GitHub, where `uses: owner/repo@ref` points by default.
pub const DEFAULT_SERVER: &str = "https://github.com";

/// How remote references are fetched.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// The base URL: `<server>/<owner>/<repo>` is a git repository.
    pub server: String,
    pub allowed: AllowList,
    /// A token for private repositories (a secret of the run).
    pub token: Option<String>,
    /// Never reach the server: only what the cache holds (for `validate`
    /// and `plan`, which must not fetch).
    pub offline: bool,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            server: DEFAULT_SERVER.into(),
            allowed: AllowList::default(),
            token: None,
            offline: false,
        }
    }
}

/// How a reference was made available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Resolved and fetched from the server now.
    Fetched,
    /// Resolved now (or pinned); the tree came from the cache.
    Cached,
    /// The server could not be reached: the cached resolution was used.
    Offline,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Fetched => "fetched",
            Origin::Cached => "cached",
            Origin::Offline => "offline",
        }
    }
}

/// A reference made available: its commit and the tree in the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub reference: RemoteRef,
    pub commit: String,
    pub manifest: Digest,
    pub origin: Origin,
}

/// What a cached action entry records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionPayload {
    pub server: String,
    pub repository: String,
    pub commit: String,
    /// The refs that resolved to it when it was fetched.
    #[serde(default)]
    pub refs: Vec<String>,
}

/// Fetches references for one run (or one `sluice actions` command); what
/// it resolved is remembered, so a tag means one commit for the whole run.
pub struct RemoteStore {
    settings: RemoteSettings,
    cache: Arc<Cache>,
    resolved: Mutex<HashMap<String, Arc<Fetched>>>,
    placed: Mutex<HashMap<String, PathBuf>>,
}

impl RemoteStore {
    pub fn new(settings: RemoteSettings, cache: Arc<Cache>) -> RemoteStore {
        RemoteStore {
            settings,
            cache,
            resolved: Mutex::new(HashMap::new()),
            placed: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &RemoteSettings {
        &self.settings
    }

    /// Makes `reference` available (see the module documentation).
    pub fn get(&self, reference: &RemoteRef) -> Result<Arc<Fetched>, RemoteError> {
        if !self.settings.allowed.allows(reference) {
            return Err(RemoteError::NotAllowed {
                reference: reference.to_string(),
                allowed: self.settings.allowed.describe(),
            });
        }
        let memo_key = format!(
            "{}@{}",
            reference.repository().to_ascii_lowercase(),
            reference.git_ref
        );
        if let Some(known) = self.lock_resolved().get(&memo_key) {
            return Ok(Arc::new(Fetched {
                reference: reference.clone(),
                ..(**known).clone()
            }));
        }
        let fetched = Arc::new(self.fetch(reference)?);
        self.lock_resolved().insert(memo_key, fetched.clone());
        Ok(fetched)
    }

    fn lock_resolved(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Fetched>>> {
        self.resolved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fetch(&self, reference: &RemoteRef) -> Result<Fetched, RemoteError> {
        let remote = GitRemote {
            url: self.url(reference),
            token: self.settings.token.as_deref(),
        };
        // A pin whose tree is cached needs no network at all.
        if reference.is_pinned()
            && let Some(manifest) = self.cached_tree(reference, &reference.git_ref)?
        {
            return Ok(Fetched {
                reference: reference.clone(),
                commit: reference.git_ref.to_ascii_lowercase(),
                manifest,
                origin: Origin::Cached,
            });
        }
        if self.settings.offline {
            return self.cached_only(reference);
        }
        let (resolved, offline) = match remote.resolve(&reference.git_ref) {
            Ok(Some(resolved)) => (resolved, None),
            Ok(None) => {
                return Err(RemoteError::RefNotFound {
                    reference: reference.to_string(),
                    url: remote.url.clone(),
                    git_ref: reference.git_ref.clone(),
                });
            }
            Err(RemoteError::Unreachable { reason, .. }) => {
                match self.remembered_commit(reference)? {
                    Some(commit) => (
                        Resolved {
                            commit,
                            full_ref: None,
                        },
                        Some(reason),
                    ),
                    None => return Err(self.offline(reference, &remote.url, reason)),
                }
            }
            Err(other) => return Err(other),
        };
        if resolved.full_ref.is_some() {
            self.remember_commit(reference, &resolved.commit)?;
        }
        if let Some(manifest) = self.cached_tree(reference, &resolved.commit)? {
            return Ok(Fetched {
                reference: reference.clone(),
                commit: resolved.commit,
                manifest,
                origin: if offline.is_some() {
                    Origin::Offline
                } else {
                    Origin::Cached
                },
            });
        }
        if let Some(reason) = offline {
            return Err(self.offline(reference, &remote.url, reason));
        }
        let manifest = self.fetch_into_cache(&remote, reference, &resolved)?;
        Ok(Fetched {
            reference: reference.clone(),
            commit: resolved.commit,
            manifest,
            origin: Origin::Fetched,
        })
    }

    /// What the cache alone can make available.
    fn cached_only(&self, reference: &RemoteRef) -> Result<Fetched, RemoteError> {
        let commit = if reference.is_pinned() {
            Some(reference.git_ref.to_ascii_lowercase())
        } else {
            self.remembered_commit(reference)?
        };
        let manifest = match &commit {
            Some(commit) => self.cached_tree(reference, commit)?,
            None => None,
        };
        match (commit, manifest) {
            (Some(commit), Some(manifest)) => Ok(Fetched {
                reference: reference.clone(),
                commit,
                manifest,
                origin: Origin::Cached,
            }),
            _ => Err(RemoteError::NotCached {
                reference: reference.to_string(),
            }),
        }
    }

    fn offline(&self, reference: &RemoteRef, url: &str, reason: String) -> RemoteError {
        RemoteError::Offline {
            reference: reference.to_string(),
            url: url.to_string(),
            reason,
            vendor: format!(
                "{}/{}@{}",
                crate::actions::VENDOR_DIR,
                reference.repository(),
                reference.git_ref
            ),
        }
    }

    /// `<server>/<owner>/<repo>`.
    fn url(&self, reference: &RemoteRef) -> String {
        format!(
            "{}/{}",
            self.settings.server.trim_end_matches('/'),
            reference.repository()
        )
    }

    fn tree_id(&self, reference: &RemoteRef, commit: &str) -> String {
        format!(
            "{}|{}@{}",
            self.settings.server.trim_end_matches('/'),
            reference.repository().to_ascii_lowercase(),
            commit.to_ascii_lowercase()
        )
    }

    fn ref_id(&self, reference: &RemoteRef) -> String {
        format!(
            "{}|{}@{}",
            self.settings.server.trim_end_matches('/'),
            reference.repository().to_ascii_lowercase(),
            reference.git_ref
        )
    }

    fn cached_tree(
        &self,
        reference: &RemoteRef,
        commit: &str,
    ) -> Result<Option<Digest>, RemoteError> {
        let entry = self
            .cache
            .get_entry(ACTION_KIND, &self.tree_id(reference, commit))?;
        Ok(entry.and_then(|e| e.references.first().copied()))
    }

    fn remembered_commit(&self, reference: &RemoteRef) -> Result<Option<String>, RemoteError> {
        let entry = self.cache.get_entry(REF_KIND, &self.ref_id(reference))?;
        Ok(entry.and_then(|e| {
            e.payload
                .get("commit")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        }))
    }

    /// Remembers what a tag or branch resolved to (replacing what it was).
    fn remember_commit(&self, reference: &RemoteRef, commit: &str) -> Result<(), RemoteError> {
        let id = self.ref_id(reference);
        if self.remembered_commit(reference)?.as_deref() == Some(commit) {
            return Ok(());
        }
        let _ = self.cache.remove_entry(REF_KIND, &id);
        // The entry refers to the tree's manifest once it is fetched; a
        // resolution alone needs no blob.
        let record = EntryRecord::new(
            REF_KIND,
            id.clone(),
            0,
            Vec::new(),
            serde_json::json!({"commit": commit, "reference": reference.to_string()}),
        );
        self.cache.put_entry(REF_KIND, &id, &record)?;
        Ok(())
    }

    fn fetch_into_cache(
        &self,
        remote: &GitRemote<'_>,
        reference: &RemoteRef,
        resolved: &Resolved,
    ) -> Result<Digest, RemoteError> {
        let local = |action: &'static str| {
            move |e: std::io::Error| RemoteError::Local {
                action,
                reason: e.to_string(),
            }
        };
        let scratch = tempfile::Builder::new()
            .prefix("sluice-fetch-")
            .tempdir()
            .map_err(local("make a scratch directory"))?;
        let git_dir = scratch.path().join("repo.git");
        let work_tree = scratch.path().join("tree");
        std::fs::create_dir(&work_tree).map_err(local("make a scratch directory"))?;
        remote.fetch_tree(resolved, &git_dir, &work_tree)?;
        let _hold = self.cache.hold()?;
        let capture = self.cache.capture_with(
            &[CaptureRoot {
                label: "base".into(),
                dir: work_tree,
                patterns: vec!["**".into()],
            }],
            Links::Keep,
        )?;
        let payload = ActionPayload {
            server: self.settings.server.clone(),
            repository: reference.repository(),
            commit: resolved.commit.clone(),
            refs: resolved.full_ref.iter().cloned().collect(),
        };
        let id = self.tree_id(reference, &resolved.commit);
        let record = EntryRecord::new(
            ACTION_KIND,
            id.clone(),
            capture.bytes,
            vec![capture.manifest],
            serde_json::to_value(&payload).unwrap_or_default(),
        );
        self.cache.put_entry(ACTION_KIND, &id, &record)?;
        Ok(capture.manifest)
    }

    /// The fetched tree, put in place under `root` once per store (a run's
    /// scratch directory): `root/<owner>/<repo>/<commit>`.
    pub fn place(&self, fetched: &Fetched, root: &Path) -> Result<PathBuf, RemoteError> {
        let key = self.tree_id(&fetched.reference, &fetched.commit);
        let mut placed = self
            .placed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(dir) = placed.get(&key) {
            return Ok(dir.clone());
        }
        let dir = root
            .join(&fetched.reference.owner)
            .join(&fetched.reference.repo)
            .join(&fetched.commit);
        let bases = HashMap::from([("base".to_string(), dir.clone())]);
        self.cache.restore(&fetched.manifest, &bases)?;
        placed.insert(key, dir.clone());
        Ok(dir)
    }
}
