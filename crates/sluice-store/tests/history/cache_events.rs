//! Cache lookups and saves recorded with a run, summed by `cache_stats`.

use sluice_events::{CacheKind, CacheResult, Event, EventSink, JobKey, Outcome};
use sluice_store::History;

use crate::support::{REPO, Script, T0, job, new_run, state_dir};

fn lookup(
    sink: &dyn EventSink,
    step: usize,
    kind: CacheKind,
    result: CacheResult,
    bytes: u64,
    saved_ms: Option<u64>,
) {
    sink.emit(&Event::CacheLookup {
        job: JobKey::parse("build").unwrap(),
        step,
        kind,
        key: format!("key-{step}"),
        result,
        matched_key: None,
        bytes,
        duration_ms: 5,
        saved_ms,
        at: T0 + 10,
    });
}

#[test]
fn lookups_and_saves_sum_into_cache_stats_and_steps_remember_they_were_cached() {
    let dir = state_dir();
    let history = History::open(dir.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.run_started(1, vec![job("build", "build", "build", &[])]);
    script.job_started("build", "build");
    script.step_started("build", 0, "compile", "Compile");
    lookup(
        &recorder,
        0,
        CacheKind::Step,
        CacheResult::Hit,
        1000,
        Some(2_000),
    );
    recorder.emit(&Event::StepFinished {
        job: JobKey::parse("build").unwrap(),
        step: 0,
        outcome: Outcome::Success,
        conclusion: Outcome::Success,
        exit_code: None,
        duration_ms: 5,
        cached: true,
        at: T0 + 20,
    });
    lookup(
        &recorder,
        1,
        CacheKind::Key,
        CacheResult::Partial,
        300,
        None,
    );
    lookup(&recorder, 2, CacheKind::Step, CacheResult::Miss, 0, None);
    recorder.emit(&Event::CacheSaved {
        job: JobKey::parse("build").unwrap(),
        step: 2,
        kind: CacheKind::Step,
        key: "key-2".into(),
        bytes: 4096,
        new_bytes: 1024,
        duration_ms: 3,
        at: T0 + 30,
    });
    script.job_finished("build", "build", Outcome::Success, &[]);
    script.run_finished(Outcome::Success, &["build"]);
    recorder.finish(Some(0)).unwrap();

    let stats = history.cache_stats(Some(REPO), 0).unwrap();
    assert_eq!(
        (stats.lookups, stats.hits, stats.partial_hits, stats.misses),
        (3, 1, 1, 1)
    );
    assert_eq!(stats.bytes_restored, 1300);
    assert_eq!(stats.time_saved_ms, 2_000 - 5);
    assert_eq!((stats.saves, stats.bytes_saved), (1, 1024));
    let step = &stats.by_kind.iter().find(|k| k.kind == "step").unwrap();
    assert_eq!((step.lookups, step.hits), (2, 1));
    assert_eq!(
        history.cache_stats(Some("/elsewhere"), 0).unwrap().lookups,
        0
    );

    let run = history.run(REPO, 1).unwrap();
    assert!(run.jobs[0].steps[0].cached);
    let recent = history.cache_lookups(REPO, 10).unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0].key, "key-2");
    assert_eq!(recent[0].result, "miss");
}
