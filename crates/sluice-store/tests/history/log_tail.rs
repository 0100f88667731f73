//! Following a run's log while it is written.

use sluice_events::{Outcome, Stream};
use sluice_store::{History, TailCursor};

use crate::support::{REPO, Script, job, new_run, state_dir};

fn texts(lines: &[sluice_store::LogLine]) -> Vec<String> {
    lines.iter().map(|l| l.text.clone()).collect()
}

#[test]
fn a_follower_sees_each_line_once_from_spool_and_database_then_the_end() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let number = recorder.number();
    let mut script = Script::new(&recorder);
    script.run_started(number, vec![job("build", "build", "Build", &[])]);
    script.job_started("build", "Build");
    script.step_started("build", 0, "compile", "Compile");
    script.log("build", Some(0), Stream::Stdout, "one");
    script.log("build", Some(0), Stream::Stdout, "two");
    recorder.sync();

    let mut cursor = TailCursor::default();
    let first = history.log_tail(REPO, number, &mut cursor).unwrap();
    assert_eq!(texts(&first.lines), ["one", "two"], "read from the spool");
    assert!(!first.over);
    assert_eq!(first.lines[0].step_name.as_deref(), Some("Compile"));

    script.log("build", Some(0), Stream::Stderr, "three");
    script.step_finished("build", 0, Outcome::Success, Outcome::Success, Some(0));
    recorder.sync();
    let second = history.log_tail(REPO, number, &mut cursor).unwrap();
    assert_eq!(texts(&second.lines), ["three"], "no line twice once stored");

    script.job_finished("build", "Build", Outcome::Success, &[]);
    script.run_finished(Outcome::Success, &["build"]);
    recorder.finish(Some(0)).unwrap();
    let last = history.log_tail(REPO, number, &mut cursor).unwrap();
    assert!(last.lines.is_empty());
    assert!(last.over);

    // A new follower reads everything from the database.
    let all = history
        .log_tail(REPO, number, &mut TailCursor::default())
        .unwrap();
    assert_eq!(texts(&all.lines), ["one", "two", "three"]);
}
