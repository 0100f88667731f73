//! `sluice run [WORKFLOW] [--job ID]... [--event NAME] [--input KEY=VALUE]...`

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sluice_events::Fanout;
use sluice_exec::git::ReadOptions;
use std::sync::Arc;

use sluice_exec::remote::{AllowList, RemoteSettings, RemoteStore};
use sluice_exec::{CancelToken, EventSink, Outcome};
use sluice_plan::{Plan, PlanRequest, build_plan};
use sluice_workflow::{ParseOptions, Parsed, Workflow};

use crate::cli::{ColorChoice, DiagnosticFormat, RunArgs};
use crate::config::{self, Config, Overrides};
use crate::engine::{self, EngineSetup, RunParts};
use crate::exit::ExitStatus;
use crate::history::{Begun, History};
use crate::run_control::HistoryJobGroups;
use crate::view::{json::JsonView, live::LiveView, plain::PlainView, summary};
use crate::{event, render, secrets, workflows};
use sluice_store::CancelWatch;

pub fn run(cwd: &Path, args: &RunArgs, color_choice: ColorChoice) -> Result<ExitStatus> {
    let root = sluice_exec::git::find_root(cwd)?;
    let config = Config::load(
        &root,
        &Overrides {
            jobs: args.jobs.map(usize::from),
            vars: args.vars.clone(),
            in_place: args.in_place,
            containers_on_host: match args.container.as_deref() {
                None | Some("engine") => false,
                Some("host") => true,
                Some(other) => {
                    anyhow::bail!("--container {other}: use engine or host")
                }
            },
        },
    )?;
    let secrets = secrets::collect(&args.secrets, &args.secret_files)?;
    let err_color = render::stderr_color(color_choice);

    // The state directory is made (and ignored) before git is asked about
    // untracked files, as it remembers the head commit; the history opens
    // on another thread while the workflows load and git is read.
    config::ensure_ignored(&config.state_dir)?;
    // The cache first: remote reusable workflows are fetched into it while
    // the workflows load, and the run's remote actions share what it
    // resolved (a tag is one commit for the whole run).
    let cache = open_cache(&config)?;
    let remote = Arc::new(remote_store(&config, &secrets, cache.clone()));
    let (history, selection) = std::thread::scope(|scope| {
        let history = scope.spawn(|| History::open(&config.state_dir, &root));
        let selection = select_workflows(&root, &config, args, err_color, &remote);
        let history = history
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (history, selection)
    });
    let selected = match selection? {
        Selection::Run(selected) => selected,
        Selection::Exit(status) => return Ok(status),
    };
    let history = history?;
    for recovered in history.recovered() {
        eprintln!(
            "note: run #{recovered} was cut off (Sluice was killed); it is marked interrupted"
        );
    }

    let cache = Some(cache);
    let cancel = CancelToken::new();
    let _signals = crate::signals::install(cancel.clone())?;
    let exe = std::env::current_exe().context("cannot find Sluice's own executable")?;
    let mut status = ExitStatus::Success;
    for (workflow, plan) in selected {
        let jobs = select_jobs(&workflow, &args.only_jobs)?;
        let recorder = match history.begin_run(&workflow, &plan, &cancel)? {
            Begun::Started(recorder) => recorder,
            Begun::Cancelled(number) => {
                eprintln!("run #{number} was cancelled before it started");
                status = status.max(ExitStatus::Failure);
                if cancel.is_cancelled() {
                    break;
                }
                continue;
            }
        };
        let run_number = recorder.run_number();
        // This run alone may be stopped from outside (`sluice cancel`, a
        // newer run of its group); a Ctrl-C stops every run.
        let run_cancel = cancel.child();
        let _watch = CancelWatch::start(
            history.store().reopen()?,
            recorder.run_id(),
            run_cancel.clone(),
        );
        let job_groups = Arc::new(HistoryJobGroups::new(
            history.store().reopen()?,
            recorder.run_id(),
            history.repository().to_string(),
        ));
        let approvals = Arc::new(crate::approval_gate::HistoryApprovals::new(
            history.store().reopen()?,
            recorder.run_id(),
        ));
        let spec = engine::spec(
            &EngineSetup {
                root: &root,
                config: &config,
                secrets: &secrets,
                remote: &remote,
                cache: cache.as_ref(),
                exe: &exe,
                untrusted: false,
                repository: history.repository(),
            },
            RunParts {
                workflow,
                plan,
                run_number,
                selected_jobs: jobs,
                job_groups: Some(job_groups),
                reused: indexmap::IndexMap::new(),
                coverage_baseline: crate::coverage_settings::default_branch_baseline(
                    &root,
                    history.store(),
                    history.repository(),
                ),
                perf_history: Some(crate::perf_settings::HistoryPerfSeries::new(
                    history.store().reopen()?,
                    history.repository().to_string(),
                    crate::perf_settings::default_ref(&root),
                )),
                approvals: Some(approvals),
            },
        )?;
        let color = render::use_color(color_choice, std::io::stdout().is_terminal());
        let (report, live) = if args.json {
            let view = JsonView::default();
            let sinks = Fanout(vec![&recorder as &dyn EventSink, &view]);
            (sluice_exec::run(&spec, &sinks, &run_cancel), None)
        } else if std::io::stdout().is_terminal() {
            let view = LiveView::start(color);
            let sinks = Fanout(vec![&recorder as &dyn EventSink, &view]);
            let report = sluice_exec::run(&spec, &sinks, &run_cancel);
            view.finish();
            (report, Some(()))
        } else {
            let view = PlainView::new(color);
            let sinks = Fanout(vec![&recorder as &dyn EventSink, &view]);
            (sluice_exec::run(&spec, &sinks, &run_cancel), None)
        };
        let _ = live;
        let run_status = if cancel.is_cancelled() {
            ExitStatus::Interrupted
        } else if run_cancel.is_cancelled() {
            eprintln!("run #{run_number} was cancelled from outside this terminal");
            ExitStatus::Failure
        } else if report.result == Outcome::Failure {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        };
        recorder.finish(run_status.code() as i32);
        if !args.json {
            crate::output::text(&summary::render(run_number, &report, color));
        }
        if let Some(cache) = &cache {
            engine::keep_cache_in_bounds(&config, cache);
        }
        status = status.max(run_status);
        if cancel.is_cancelled() {
            break;
        }
    }
    if config.flaky.auto_quarantine {
        auto_quarantine(&root, &config, &history);
    }
    Ok(status)
}

/// `auto-quarantine = true`: the flaky tests the history shows now join
/// the quarantine file (to be committed, and reviewed).
fn auto_quarantine(root: &Path, config: &Config, history: &History) {
    let added = crate::commands::flaky::find(root, config, history, config.flaky.window_days)
        .and_then(|findings| crate::commands::flaky::quarantine_flaky(root, &findings));
    match added {
        Ok(0) => {}
        Ok(added) => eprintln!(
            "note: {added} flaky test(s) quarantined automatically in {}; commit it to keep them there",
            sluice_reports::QUARANTINE_FILE
        ),
        Err(e) => eprintln!("warning: flaky tests could not be quarantined: {e:#}"),
    }
}

/// What the workflows and the event decided.
enum Selection {
    Run(Vec<(Workflow, Plan)>),
    /// Nothing runs (errors were reported, or no workflow is triggered).
    Exit(ExitStatus),
}

/// The workflows to run: the one named, or every one the event selects.
fn select_workflows(
    root: &Path,
    config: &Config,
    args: &RunArgs,
    err_color: bool,
    remote: &RemoteStore,
) -> Result<Selection> {
    let options = ParseOptions::default();
    let files: Vec<(PathBuf, Parsed)> = match &args.workflow {
        Some(wanted) => vec![workflows::resolve(root, wanted, &options, Some(remote))?],
        None => workflows::discover(root)?
            .into_iter()
            .map(|p| {
                Ok((
                    root.join(&p),
                    workflows::load(root, &p, &options, Some(remote))?,
                ))
            })
            .collect::<Result<_>>()?,
    };
    // Changed files cost git processes; only path filters need them.
    let changed_files = files.iter().any(|(_, parsed)| {
        parsed
            .workflow
            .as_ref()
            .is_some_and(|w| w.uses_path_filters())
    });
    let state = sluice_exec::git::read_state(
        root,
        &ReadOptions {
            memo_dir: Some(&config.state_dir),
            changed_files,
        },
    )?;
    let repo = event::repository(&state);
    let event = event::build(root, &repo, &args.event, changed_files)?;
    let mut selected: Vec<(Workflow, Plan)> = Vec::new();
    for (path, parsed) in files {
        let name = workflows::display_name(root, &path);
        let has_errors = parsed.has_errors();
        for d in parsed.diagnostics.iter().filter(|d| d.is_error()) {
            eprintln!(
                "{}",
                render::diagnostic(d, DiagnosticFormat::Human, err_color)
            );
        }
        let Some(workflow) = parsed.workflow.filter(|_| !has_errors) else {
            eprintln!("error: {name} has errors; nothing was run");
            return Ok(Selection::Exit(ExitStatus::Usage));
        };
        let plan = build_plan(&PlanRequest {
            workflow: &workflow,
            workflow_path: &name,
            event: &event,
            repo: &repo,
            vars: &config.vars,
        })
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        if plan.selected || args.workflow.is_some() {
            if !plan.selected {
                eprintln!(
                    "note: {name} is not triggered by this event ({}); running it because it was named",
                    plan.reason
                );
            }
            selected.push((workflow, plan));
        }
    }
    if selected.is_empty() {
        eprintln!(
            "nothing to run: no workflow is triggered by {} of {}",
            event.name, event.git_ref
        );
        return Ok(Selection::Exit(ExitStatus::Success));
    }
    Ok(Selection::Run(selected))
}

/// The cache store. One that cannot be opened (the directory is a file,
/// or cannot be created) stops the command before anything runs: a run
/// without its cache would fail every job that uses it.
pub fn open_cache(config: &Config) -> Result<std::sync::Arc<sluice_cache::Cache>> {
    let mut cache_config = sluice_cache::CacheConfig::new(&config.cache_dir);
    cache_config.max_bytes = config.cache_max_bytes;
    cache_config.max_age = config.cache_max_age;
    let cache = sluice_cache::Cache::open(cache_config).with_context(|| {
        format!(
            "the cache directory {} cannot be used (set SLUICE_CACHE_DIR or cache-dir in sluice.toml to a directory Sluice may create)",
            config.cache_dir.display()
        )
    })?;
    Ok(std::sync::Arc::new(cache))
}

/// Fetches remote actions and workflows as configured, with the token
/// from the run's secrets.
pub fn remote_store(
    config: &Config,
    secrets: &indexmap::IndexMap<String, String>,
    cache: Arc<sluice_cache::Cache>,
) -> RemoteStore {
    remote_store_with(config, secrets, cache, false)
}

/// A remote store that only reads the cache (for commands that must not
/// fetch: `validate`, `plan`); `None` without a usable cache.
pub fn cache_only_remote_store(config: &Config) -> Option<RemoteStore> {
    let mut cache_config = sluice_cache::CacheConfig::new(&config.cache_dir);
    cache_config.max_bytes = config.cache_max_bytes;
    cache_config.max_age = config.cache_max_age;
    // Only an existing cache is read; none is made for a check.
    if !config.cache_dir.is_dir() {
        return None;
    }
    let cache = sluice_cache::Cache::open(cache_config).ok()?;
    Some(remote_store_with(
        config,
        &indexmap::IndexMap::new(),
        Arc::new(cache),
        true,
    ))
}

fn remote_store_with(
    config: &Config,
    secrets: &indexmap::IndexMap<String, String>,
    cache: Arc<sluice_cache::Cache>,
    offline: bool,
) -> RemoteStore {
    let token = match &config.actions.token_secret {
        Some(name) => secrets.get(name),
        None => secrets
            .get("SLUICE_ACTIONS_TOKEN")
            .or_else(|| secrets.get("GITHUB_TOKEN")),
    };
    RemoteStore::new(
        RemoteSettings {
            server: config.actions.server.clone(),
            allowed: AllowList::new(config.actions.allowed.clone()),
            token: token.cloned(),
            offline,
        },
        cache,
    )
}

/// `--job ID`: those jobs and everything they need, transitively.
fn select_jobs(workflow: &Workflow, wanted: &[String]) -> Result<Option<HashSet<String>>> {
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut selected = HashSet::new();
    let mut stack: Vec<String> = Vec::new();
    for id in wanted {
        let Some((found, _)) = workflow
            .jobs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(id))
        else {
            let ids: Vec<&str> = workflow.jobs.keys().map(String::as_str).collect();
            anyhow::bail!(
                "--job {id}: no such job in {}; its jobs are: {}",
                workflow.name,
                ids.join(", ")
            );
        };
        stack.push(found.clone());
    }
    while let Some(id) = stack.pop() {
        if !selected.insert(id.clone()) {
            continue;
        }
        if let Some(job) = workflow.jobs.get(&id) {
            for need in &job.needs {
                if let Some((found, _)) = workflow
                    .jobs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&need.value))
                {
                    stack.push(found.clone());
                }
            }
        }
    }
    Ok(Some(selected))
}
