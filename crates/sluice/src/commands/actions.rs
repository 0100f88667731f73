//! `sluice actions pull` and `sluice actions ls`: remote actions and
//! reusable workflows, fetched ahead of time for machines without a
//! network, and what the cache holds.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use sluice_exec::remote::{ACTION_KIND, ActionPayload, REF_KIND, RemoteRef, RemoteStore};
use sluice_store::timestamp::format_rfc3339_seconds;
use sluice_workflow::{ActionRuns, JobBody, ParseOptions, SourceFile, Step, StepAction};

use crate::cli::{ActionsArgs, ActionsCommand};
use crate::commands::cache::bytes;
use crate::config::{Config, Overrides};
use crate::exit::ExitStatus;

pub fn run(cwd: &Path, args: &ActionsArgs) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(&root, &Overrides::default())?;
    let cache = crate::commands::run::open_cache(&config)?;
    match &args.command {
        ActionsCommand::Pull {
            secrets,
            secret_files,
        } => {
            let secrets = crate::secrets::collect(secrets, secret_files)?;
            let store = crate::commands::run::remote_store(&config, &secrets, cache);
            let native = sluice_exec::NativeActions::new(
                config.actions.native_default,
                config.actions.native_overrides.clone(),
            );
            pull(&root, &store, &native)
        }
        ActionsCommand::Ls { json } => ls(&cache, *json),
    }
}

/// What still has to be fetched, and what was.
struct Puller<'a> {
    store: &'a RemoteStore,
    /// Actions that run natively are not fetched.
    native: &'a sluice_exec::NativeActions,
    scratch: tempfile::TempDir,
    seen: HashSet<String>,
    failures: usize,
}

fn pull(
    root: &Path,
    store: &RemoteStore,
    native: &sluice_exec::NativeActions,
) -> Result<ExitStatus> {
    let mut puller = Puller {
        store,
        native,
        scratch: tempfile::Builder::new().prefix("sluice-pull-").tempdir()?,
        seen: HashSet::new(),
        failures: 0,
    };
    let options = ParseOptions::default();
    for path in crate::workflows::discover(root)? {
        let parsed = crate::workflows::load(root, &path, &options, Some(puller.store))?;
        if let Some(workflow) = parsed.workflow {
            puller.workflow(root, &workflow);
        }
    }
    if puller.seen.is_empty() {
        crate::output::line("no remote actions or reusable workflows to fetch");
    }
    Ok(if puller.failures > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

impl Puller<'_> {
    fn workflow(&mut self, root: &Path, workflow: &sluice_workflow::Workflow) {
        for job in workflow.jobs.values() {
            match &job.body {
                JobBody::Steps(steps) => self.steps(root, steps),
                JobBody::Call(call) => {
                    if let Some(callee) = &call.callee {
                        self.workflow(root, callee);
                    } else if !call.uses.value.starts_with("./") {
                        self.reference(root, &call.uses.value, true);
                    }
                }
            }
        }
    }

    fn steps(&mut self, root: &Path, steps: &[Step]) {
        for step in steps {
            if let StepAction::Uses { uses, .. } = &step.action {
                let uses = &uses.value;
                let local = uses.starts_with("./") || uses.starts_with("../");
                let elsewhere = local || uses.starts_with("docker://") || uses.contains("${{");
                let vendored = sluice_exec::vendored_action_dir(root, uses).is_some();
                if !elsewhere && !vendored && !self.native.runs_natively(uses) {
                    self.reference(root, uses, false);
                }
            }
        }
    }

    /// Fetches one reference and what it uses in turn.
    fn reference(&mut self, root: &Path, uses: &str, is_workflow: bool) {
        if !self.seen.insert(uses.to_string()) {
            return;
        }
        let fetched = RemoteRef::parse(uses)
            .map_err(sluice_exec::remote::RemoteError::from)
            .and_then(|reference| self.store.get(&reference));
        let fetched = match fetched {
            Ok(fetched) => fetched,
            Err(e) => {
                self.failures += 1;
                eprintln!("error: {uses}: {e}");
                return;
            }
        };
        crate::output::line(&format!(
            "{uses} → {} ({})",
            fetched.commit,
            fetched.origin.as_str()
        ));
        let Ok(dir) = self.store.place(&fetched, self.scratch.path()) else {
            return;
        };
        let path = dir.join(&fetched.reference.path);
        let options = ParseOptions::default();
        if is_workflow {
            let Ok(text) = std::fs::read_to_string(&path) else {
                return;
            };
            let parsed = sluice_workflow::parse_workflow(
                SourceFile::new(uses, text),
                &options,
                &sluice_workflow::NoLoader,
            );
            if let Some(workflow) = parsed.workflow {
                self.workflow(root, &workflow);
            }
            return;
        }
        let text = ["action.yml", "action.yaml"]
            .iter()
            .find_map(|name| std::fs::read_to_string(path.join(name)).ok());
        let Some(text) = text else { return };
        let parsed = sluice_workflow::parse_action(SourceFile::new(uses, text), &options);
        if let Some(action) = parsed.action
            && let ActionRuns::Composite { steps } = &action.runs
        {
            self.steps(root, steps);
        }
    }
}

/// One cached action, for `ls`.
#[derive(serde::Serialize)]
struct Listed {
    repository: String,
    commit: String,
    server: String,
    refs: Vec<String>,
    bytes: u64,
    last_used: String,
}

fn ls(cache: &Arc<sluice_cache::Cache>, json: bool) -> Result<ExitStatus> {
    let refs = cache.list_entries(REF_KIND, "")?;
    let mut listed = Vec::new();
    for entry in cache.list_entries(ACTION_KIND, "")? {
        let Ok(payload) = serde_json::from_value::<ActionPayload>(entry.payload.clone()) else {
            continue;
        };
        // Refs that resolve to this commit now, besides those it was fetched by.
        let mut names = payload.refs.clone();
        for r in &refs {
            let same = r.payload.get("commit").and_then(|c| c.as_str()) == Some(&payload.commit);
            if let (true, Some(reference)) =
                (same, r.payload.get("reference").and_then(|v| v.as_str()))
                && let Some((_, name)) = reference.rsplit_once('@')
                && !names.iter().any(|n| n.ends_with(name))
            {
                names.push(name.to_string());
            }
        }
        listed.push(Listed {
            repository: payload.repository,
            commit: payload.commit,
            server: payload.server,
            refs: names,
            bytes: entry.size,
            last_used: format_rfc3339_seconds(entry.last_used_ms),
        });
    }
    listed.sort_by(|a, b| (&a.repository, &a.commit).cmp(&(&b.repository, &b.commit)));
    if json {
        crate::output::line(&serde_json::to_string_pretty(&listed)?);
        return Ok(ExitStatus::Success);
    }
    if listed.is_empty() {
        crate::output::line(
            "no actions in the cache; `sluice run` and `sluice actions pull` fetch them",
        );
        return Ok(ExitStatus::Success);
    }
    crate::output::line(&format!(
        "{:32}  {:12}  {:>9}  {:20}  REFS",
        "REPOSITORY", "COMMIT", "SIZE", "LAST USED"
    ));
    for item in &listed {
        let refs: Vec<&str> = item
            .refs
            .iter()
            .map(|r| {
                r.trim_start_matches("refs/tags/")
                    .trim_start_matches("refs/heads/")
            })
            .collect();
        let line = format!(
            "{:32}  {:12}  {:>9}  {:20}  {}",
            item.repository,
            &item.commit[..item.commit.len().min(12)],
            bytes(item.bytes),
            item.last_used,
            refs.join(", ")
        );
        crate::output::line(&crate::terminal_text::inert(&line, false));
    }
    Ok(ExitStatus::Success)
}
