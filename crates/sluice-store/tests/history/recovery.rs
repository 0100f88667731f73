use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sluice_events::{AnnotationLevel, Outcome, Stream};
use sluice_store::{History, LogFilter, RecoveredRun, Status};

use crate::support::{REPO, Script, job, new_run, state_dir};

/// Set (to a state directory) in the child process that records part of a
/// run and is then killed.
const CHILD_STATE_DIR: &str = "SLUICE_STORE_TEST_CHILD_STATE_DIR";
const READY: &str = "CHILD-RECORDED-EVERYTHING";
const SPOOLED_LINES: usize = 1_000;

fn spooled_line(i: usize) -> String {
    format!("step two line {i} ✓")
}

/// Not a test of its own: the body of the child process that
/// `a_killed_run_is_recovered_with_its_spooled_lines` starts (by running
/// this test binary with `--exact` and the environment variable set).
/// Without the variable it does nothing.
#[test]
fn recording_child_process() {
    let Some(state_dir) = std::env::var_os(CHILD_STATE_DIR) else {
        return;
    };
    let history = History::open(Path::new(&state_dir)).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.run_started(
        recorder.number(),
        vec![
            job("build", "build", "Build", &[]),
            job("test", "test", "Test", &["build"]),
        ],
    );
    script.job_started("build", "Build");
    script.log("build", None, Stream::System, "job-level line");
    script.step_started("build", 0, "one", "Step one");
    script.log(
        "build",
        Some(0),
        Stream::Stdout,
        "step one, stored at its end",
    );
    script.step_finished("build", 0, Outcome::Success, Outcome::Success, Some(0));
    script.step_started("build", 1, "two", "Step two");
    for i in 0..SPOOLED_LINES {
        script.log("build", Some(1), Stream::Stdout, &spooled_line(i));
    }
    script.annotation("build", Some(1), AnnotationLevel::Notice, "still going");
    // What the recorder has committed is what a kill must not lose.
    recorder.sync();
    println!("{READY}");
    // Wait to be killed; give up eventually so no process outlives a broken test.
    std::thread::sleep(Duration::from_secs(60));
    std::process::exit(3);
}

#[test]
fn a_killed_run_is_recovered_with_its_spooled_lines() {
    let state = state_dir();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "recovery::recording_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_STATE_DIR, state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    // libtest prints the test's name on the same line before the marker.
    let ready = stdout
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains(READY));
    // SIGKILL: nothing in the child gets to clean up or flush.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(ready, "the child did not finish recording");
    assert!(!status.success());

    let spool_dir = state.path().join("spool");
    assert!(
        spool_dir.read_dir().unwrap().next().is_some(),
        "the child left spool files"
    );

    let history = History::open(state.path()).unwrap();
    assert_eq!(
        history.recovered_on_open(),
        [RecoveredRun {
            repository: REPO.to_owned(),
            number: 1,
            workflow: "CI".to_owned(),
            recovered_lines: SPOOLED_LINES as u64 + 1,
        }]
    );

    let run = history.run(REPO, 1).unwrap();
    assert_eq!(run.summary.status, Status::Interrupted);
    assert!(run.summary.finished_at.is_some());
    let build = &run.jobs[0];
    assert_eq!(build.status, Status::Interrupted);
    assert_eq!(build.steps[0].status, Status::Success);
    assert_eq!(build.steps[1].status, Status::Interrupted);
    assert_eq!(run.jobs[1].status, Status::Pending);
    assert_eq!(run.annotations.len(), 1);

    let lines = history.logs(REPO, 1, &LogFilter::default()).unwrap();
    let mut expected = vec![
        "job-level line".to_owned(),
        "step one, stored at its end".to_owned(),
    ];
    expected.extend((0..SPOOLED_LINES).map(spooled_line));
    let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
    assert_eq!(
        texts,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(
        spool_dir.read_dir().unwrap().next().is_none(),
        "spool files were removed"
    );

    // Recovery happens once: reopening finds nothing new and duplicates nothing.
    drop(history);
    let history = History::open(state.path()).unwrap();
    assert!(history.recovered_on_open().is_empty());
    assert_eq!(
        history.logs(REPO, 1, &LogFilter::default()).unwrap().len(),
        lines.len()
    );

    // And the file is sound.
    let conn = rusqlite::Connection::open(state.path().join("history.sqlite")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let violations: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);

    // The next run of the repository gets the next number.
    assert_eq!(history.start_run(new_run(REPO)).unwrap().number(), 2);
}

#[test]
fn a_run_whose_process_lives_is_left_alone() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.step_started("build", 0, "", "Build");
    script.log("build", Some(0), Stream::Stdout, "still running");
    recorder.sync();

    // Another handle (as another Sluice process would) must not take over.
    let other = History::open(state.path()).unwrap();
    assert!(other.recovered_on_open().is_empty());
    assert!(other.recover_interrupted().unwrap().is_empty());
    assert_eq!(other.run(REPO, 1).unwrap().summary.status, Status::Running);
    assert!(
        state
            .path()
            .join("spool")
            .read_dir()
            .unwrap()
            .next()
            .is_some()
    );

    script.step_finished("build", 0, Outcome::Success, Outcome::Success, Some(0));
    script.run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();
    let run = other.run(REPO, 1).unwrap();
    assert_eq!(run.summary.status, Status::Success);
    let lines = other.logs(REPO, 1, &LogFilter::default()).unwrap();
    assert_eq!(lines.len(), 1);
}

/// Makes the recorded owner of every run look like a process from an
/// earlier boot, as if it had died, without killing anything.
fn pretend_owners_died(state_dir: &Path) {
    let conn = rusqlite::Connection::open(state_dir.join("history.sqlite")).unwrap();
    conn.execute(
        "UPDATE runs SET owner_boot_id = '00000000-0000-0000-0000-000000000000'",
        [],
    )
    .unwrap();
}

fn spool_files(state_dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for run_dir in std::fs::read_dir(state_dir.join("spool")).unwrap() {
        for file in std::fs::read_dir(run_dir.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    files.sort();
    files
}

/// A process killed in the middle of writing a line leaves a torn record
/// at the end of its spool file; the complete lines before it are kept.
#[test]
fn a_torn_last_line_does_not_cost_the_lines_before_it() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.step_started("build", 0, "", "Build");
    script.log("build", Some(0), Stream::Stdout, "complete one");
    script.log("build", Some(0), Stream::Stdout, "complete two");
    recorder.sync();
    // Abandon the recorder as a dying process would: no finish, no Drop.
    std::mem::forget(recorder);
    let files = spool_files(state.path());
    assert_eq!(files.len(), 1);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    bytes.extend_from_slice(&[7, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
    std::fs::write(&files[0], bytes).unwrap();
    pretend_owners_died(state.path());

    let recovered = history.recover_interrupted().unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].recovered_lines, 2);
    let lines = history.logs(REPO, 1, &LogFilter::default()).unwrap();
    let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
    assert_eq!(texts, ["complete one", "complete two"]);
    let run = history.run(REPO, 1).unwrap();
    assert_eq!(run.jobs[0].steps[0].status, Status::Interrupted);
}

/// A process that died after storing a spool file but before deleting it
/// leaves a file whose lines are already stored: they are not stored twice.
#[test]
fn a_spool_file_already_stored_is_not_stored_twice() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.step_started("build", 0, "", "Build");
    script.log("build", Some(0), Stream::Stdout, "only once");
    recorder.sync();
    let files = spool_files(state.path());
    let kept = std::fs::read(&files[0]).unwrap();
    script.step_finished("build", 0, Outcome::Success, Outcome::Success, Some(0));
    script.run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();
    assert!(!files[0].exists());

    std::fs::create_dir_all(files[0].parent().unwrap()).unwrap();
    std::fs::write(&files[0], kept).unwrap();
    pretend_owners_died(state.path());
    let reopened = History::open(state.path()).unwrap();
    // The run had finished: nothing to report, but the leftover is cleared.
    assert!(reopened.recovered_on_open().is_empty());
    assert!(!files[0].exists());
    let lines = reopened.logs(REPO, 1, &LogFilter::default()).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        reopened.run(REPO, 1).unwrap().summary.status,
        Status::Success
    );
}
