//! `sluice tests shard`: the items (test files or classes) of one shard,
//! balanced by the durations the history measured, or handed out a batch
//! at a time from a queue the run's shards share (`--queue`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;

use anyhow::{Context, Result, bail};
use sluice_reports::shard::{
    ShardBasis, ShardPlan, module_of, plan_shards, predicted_order, smoothed_seconds,
};
use sluice_store::TestTiming;

use crate::cli::ShardBy;
use crate::engine::{RUN_REPOSITORY_VAR, RUN_STATE_DIR_VAR};
use crate::exit::ExitStatus;
use crate::history::History;

/// The most shards a split has.
const MAX_SHARDS: usize = 10_000;

/// How many recent runs with test results the durations come from.
const RECENT_RUNS: usize = 10;

pub struct ShardRequest<'a> {
    pub total: usize,
    pub index: Option<usize>,
    pub by: ShardBy,
    pub queue: bool,
    pub explain: bool,
    pub items: &'a [String],
}

pub fn shard(cwd: &Path, request: &ShardRequest) -> Result<ExitStatus> {
    let total = request.total;
    if !(1..=MAX_SHARDS).contains(&total) {
        bail!("--total {total}: a split has 1 to {MAX_SHARDS} shards");
    }
    if let Some(index) = request.index.filter(|i| *i == 0 || *i > total) {
        bail!("--index {index}: shards are numbered 1 to {total}");
    }
    let items = expand(cwd, request.items)?;
    let history = open_history(cwd);
    let seconds = match &history {
        Some(history) => measured_seconds(history, &items, request.by)?,
        None => HashMap::new(),
    };
    if request.queue {
        let history =
            history.context("--queue needs the run's history (run it inside a Sluice run)")?;
        return from_queue(&history, &items, &seconds, request);
    }
    let plan = plan_shards(&items, &seconds, total);
    if request.explain {
        explain(&plan);
        return Ok(ExitStatus::Success);
    }
    let index = request.index.unwrap_or(1);
    let shard = &plan.shards[index - 1];
    if shard.items.is_empty() {
        eprintln!("shard {index} of {total} has no items");
    }
    for item in &shard.items {
        crate::output::line(item);
    }
    Ok(ExitStatus::Success)
}

/// Items as given, globs among them expanded (GitHub's path-glob rules),
/// each once.
fn expand(cwd: &Path, written: &[String]) -> Result<Vec<String>> {
    let mut items = Vec::new();
    for item in written {
        if !item.contains(['*', '?', '[']) {
            items.push(item.trim_start_matches("./").to_string());
            continue;
        }
        let found = sluice_glob::walk_matches(cwd, std::slice::from_ref(item))
            .with_context(|| format!("cannot expand {item}"))?;
        for path in found {
            let relative = path.strip_prefix(cwd).unwrap_or(&path);
            items.push(relative.to_string_lossy().into_owned());
        }
    }
    items.sort();
    items.dedup();
    Ok(items)
}

/// The run's history inside a Sluice run, else the repository's; none
/// outside a repository (the split is then by count).
fn open_history(cwd: &Path) -> Option<History> {
    match (
        std::env::var_os(RUN_STATE_DIR_VAR),
        std::env::var(RUN_REPOSITORY_VAR),
    ) {
        (Some(state_dir), Ok(repository)) => {
            History::open_named(Path::new(&state_dir), repository).ok()
        }
        _ => super::history::open(cwd).ok(),
    }
}

/// Each item's smoothed recent duration, in seconds, for the items the
/// history knows.
fn measured_seconds(
    history: &History,
    items: &[String],
    by: ShardBy,
) -> Result<HashMap<String, f64>> {
    // Inside a run, the history as it was when the run started.
    let during = std::env::var(RUN_STATE_DIR_VAR)
        .ok()
        .and_then(|_| std::env::var("GITHUB_RUN_NUMBER").ok())
        .and_then(|n| n.parse::<u64>().ok());
    let timings = history
        .store()
        .recent_test_timings(history.repository(), RECENT_RUNS, during)?;
    let matcher = ItemMatcher::new(items, by);
    // Item → (run → milliseconds), runs newest first as read.
    let mut per_item: HashMap<usize, Vec<(u64, u64)>> = HashMap::new();
    for timing in &timings {
        let Some(item) = matcher.item_of(timing) else {
            continue;
        };
        let runs = per_item.entry(item).or_default();
        match runs.last_mut() {
            Some((run, ms)) if *run == timing.run => *ms += timing.duration_ms,
            _ => runs.push((timing.run, timing.duration_ms)),
        }
    }
    Ok(per_item
        .into_iter()
        .filter_map(|(item, runs)| {
            let newest_first: Vec<f64> = runs.iter().map(|(_, ms)| *ms as f64 / 1000.0).collect();
            smoothed_seconds(&newest_first).map(|s| (items[item].clone(), s))
        })
        .collect())
}

/// Finds the item a test's file or class belongs to.
struct ItemMatcher {
    by: ShardBy,
    /// Every `/`-suffix of every item (`None` when two items share it).
    by_suffix: HashMap<String, Option<usize>>,
    /// Items as modules or classes.
    by_module: HashMap<String, usize>,
}

impl ItemMatcher {
    fn new(items: &[String], by: ShardBy) -> ItemMatcher {
        let mut by_suffix: HashMap<String, Option<usize>> = HashMap::new();
        let mut by_module = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            match by {
                ShardBy::File => {
                    for suffix in suffixes(item) {
                        by_suffix
                            .entry(suffix.to_string())
                            .and_modify(|found| {
                                if *found != Some(index) {
                                    *found = None;
                                }
                            })
                            .or_insert(Some(index));
                    }
                    by_module.insert(module_of(item), index);
                }
                ShardBy::Class => {
                    by_module.insert(item.clone(), index);
                }
            }
        }
        ItemMatcher {
            by,
            by_suffix,
            by_module,
        }
    }

    fn item_of(&self, timing: &TestTiming) -> Option<usize> {
        if self.by == ShardBy::File && !timing.file.is_empty() {
            let file = timing.file.trim_start_matches("./");
            if let Some(found) =
                suffixes(file).find_map(|s| self.by_suffix.get(s).copied().flatten())
            {
                return Some(found);
            }
        }
        // The class, or a module it is in (`tests.test_a.TestX` → `tests.test_a`).
        let mut class = timing.classname.as_str();
        loop {
            if let Some(found) = self.by_module.get(class) {
                return Some(*found);
            }
            class = &class[..class.rfind('.')?];
        }
    }
}

/// `a/b/c.py`, `b/c.py`, `c.py`.
fn suffixes(path: &str) -> impl Iterator<Item = &str> {
    std::iter::once(path).chain(path.match_indices('/').map(move |(at, _)| &path[at + 1..]))
}

fn explain(plan: &ShardPlan) {
    match plan.basis {
        ShardBasis::Timing { known } => crate::output::line(&format!(
            "split by measured durations ({known} of the items have history; the others count as their mean)"
        )),
        ShardBasis::Count => {
            crate::output::line("no history for these items: split evenly by count")
        }
    }
    for (index, shard) in plan.shards.iter().enumerate() {
        crate::output::line(&format!(
            "shard {}: {} items, {:.1}s predicted",
            index + 1,
            shard.items.len(),
            shard.predicted_seconds
        ));
        for item in &shard.items {
            crate::output::line(&format!("  {item}"));
        }
    }
}

/// `--queue`: the next batch for this step, from the queue the run's
/// shards of this job share.
fn from_queue(
    history: &History,
    items: &[String],
    seconds: &HashMap<String, f64>,
    request: &ShardRequest,
) -> Result<ExitStatus> {
    let var = |name: &str| {
        std::env::var(name)
            .with_context(|| format!("--queue works inside a Sluice run ({name} is not set)"))
    };
    let (run, job, tracking) = (
        var("GITHUB_RUN_ID")?,
        var("GITHUB_JOB")?,
        var(sluice_exec::process_tree::TRACKING_VAR)?,
    );
    // The step's own id (the last of a nested run's ids) and the session
    // its attempt runs in: a retried step is a new holder, and the items
    // its failed attempt held go back once that attempt's processes are gone.
    let step = tracking.rsplit(':').next().unwrap_or(&tracking).to_string();
    let session = sluice_exec::process_tree::session_and_start(std::process::id() as i32)
        .map_or(0, |(session, _)| session);
    let holder = format!("{step}@{session}");
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (items, request.by == ShardBy::Class).hash(&mut hasher);
    let queue = format!("{run}/{job}/{:016x}", hasher.finish());
    let order: Vec<(String, u64)> = predicted_order(items, seconds)
        .into_iter()
        .map(|(item, s)| (item, (s * 1000.0).round() as u64))
        .collect();
    let store = history.store();
    store.shard_queue_init(&queue, &order, sluice_store::timestamp::now_ms())?;
    let alive = |holder: &str| {
        let (step, session) = holder.rsplit_once('@').unwrap_or((holder, "0"));
        let session: i32 = session.parse().unwrap_or(0);
        sluice_exec::process_tree::tracked_processes(step)
            .into_iter()
            .any(|pid| {
                sluice_exec::process_tree::session_and_start(pid).is_some_and(|(s, _)| s == session)
            })
    };
    let batch = store.shard_queue_next(&queue, &holder, request.total, &alive)?;
    if batch.is_empty() {
        eprintln!("the queue is empty: every item has been handed out");
    }
    for item in &batch {
        crate::output::line(item);
    }
    Ok(ExitStatus::Success)
}
