use std::thread;

use sluice_events::{AnnotationLevel, EventSink, Outcome, Stream};
use sluice_store::{History, JobSelector, LogFilter, LogLine, RunQuery, Status, StepSelector};

use crate::support::{REPO, Script, T0, job, new_run, state_dir};

const MULTI_LINE: &str = "first half\nsecond half\r\n\tindented";
const UNICODE: &str = "ünïcødé ✓ 🚀 日本語 — done";

/// Records a run with every kind of event: a matrix job, a failing
/// instance, a skipped job, outputs, annotations and summaries.
fn record_full_run(history: &History) -> u64 {
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let number = recorder.number();
    let mut script = Script::new(&recorder);
    script.run_started(
        number,
        vec![
            job("build", "build", "Build", &[]),
            job("test[0]", "test", "Test (linux)", &["build"]),
            job("test[1]", "test", "Test (mac)", &["build"]),
            job("deploy", "deploy", "Deploy", &["test[0]", "test[1]"]),
        ],
    );

    script.job_started("build", "Build");
    script.log("build", None, Stream::System, "Preparing workspace");
    script.step_started("build", 0, "checkout", "Check out");
    script.log("build", Some(0), Stream::Stdout, "cloning");
    script.log("build", Some(0), Stream::Stdout, MULTI_LINE);
    script.log("build", Some(0), Stream::Stderr, UNICODE);
    script.step_finished("build", 0, Outcome::Success, Outcome::Success, Some(0));
    script.step_started("build", 1, "compile", "Compile");
    script.log("build", Some(1), Stream::Stdout, "compiling");
    script.log("build", Some(1), Stream::Stdout, "");
    script.annotation(
        "build",
        Some(1),
        AnnotationLevel::Warning,
        "unused variable",
    );
    script.summary("build", 1, "## Build\n\n| a | b |\n|---|---|\n| ✓ | 1 |\n");
    script.step_finished("build", 1, Outcome::Failure, Outcome::Success, Some(1));
    script.log("build", None, Stream::System, "Cleaning up");
    script.job_finished(
        "build",
        "Build",
        Outcome::Success,
        &[("version", "1.2.3"), ("artifact", "app.tar")],
    );

    for (key, name, result, code) in [
        ("test[0]", "Test (linux)", Outcome::Success, 0),
        ("test[1]", "Test (mac)", Outcome::Failure, 2),
    ] {
        script.job_started(key, name);
        script.step_started(key, 0, "tests", "Run tests");
        script.log(
            key,
            Some(0),
            Stream::Stdout,
            &format!("running tests on {key}"),
        );
        if result == Outcome::Failure {
            script.annotation(key, Some(0), AnnotationLevel::Error, "test_login failed");
        }
        script.summary(key, 0, &format!("Tests of {key}"));
        script.step_finished(key, 0, result, result, Some(code));
        script.job_finished(key, name, result, &[]);
    }
    script.job_skipped("deploy", "Deploy", "a needed job failed");
    script.run_finished(Outcome::Failure, &["build", "test[1]"]);
    recorder.finish(Some(1)).unwrap();
    number
}

fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|line| line.text.as_str()).collect()
}

#[test]
fn a_whole_run_reads_back_as_recorded() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let number = record_full_run(&history);
    assert_eq!(number, 1);

    let run = history.run(REPO, number).unwrap();
    let summary = &run.summary;
    assert_eq!(summary.status, Status::Failure);
    assert_eq!(summary.exit_code, Some(1));
    assert_eq!(summary.workflow, "CI");
    assert_eq!(summary.workflow_path, ".github/workflows/ci.yml");
    assert_eq!(summary.event, "push");
    assert_eq!(summary.git_ref, "refs/heads/main");
    assert_eq!(summary.short_sha(), "0123456");
    assert_eq!(summary.started_at, Some(T0 + 3));
    let finished_at = summary.finished_at.unwrap();
    assert_eq!(summary.duration_ms, Some(finished_at - T0));
    assert_eq!(run.critical_path, ["build", "test[1]"]);

    let keys: Vec<&str> = run.jobs.iter().map(|job| job.key.as_str()).collect();
    assert_eq!(keys, ["build", "test[0]", "test[1]", "deploy"]);
    let build = &run.jobs[0];
    assert_eq!((build.id.as_str(), build.name.as_str()), ("build", "Build"));
    assert_eq!(build.status, Status::Success);
    assert_eq!(build.duration_ms, Some(42));
    assert!(build.started_at.unwrap() < build.finished_at.unwrap());
    let outputs: Vec<(&str, &str)> = build
        .outputs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    assert_eq!(outputs, [("version", "1.2.3"), ("artifact", "app.tar")]);
    assert_eq!(build.steps.len(), 2);
    let compile = &build.steps[1];
    assert_eq!(
        (compile.index, compile.id.as_str(), compile.name.as_str()),
        (1, "compile", "Compile")
    );
    assert_eq!(compile.outcome, Some(Outcome::Failure));
    assert_eq!(compile.conclusion, Some(Outcome::Success));
    assert_eq!(compile.status, Status::Success);
    assert_eq!(compile.exit_code, Some(1));
    assert_eq!(compile.duration_ms, Some(7));

    assert_eq!(run.jobs[1].id, "test");
    assert_eq!(run.jobs[1].needs, ["build"]);
    assert_eq!(run.jobs[2].status, Status::Failure);
    assert_eq!(run.jobs[2].steps[0].exit_code, Some(2));
    let deploy = &run.jobs[3];
    assert_eq!(deploy.status, Status::Skipped);
    assert_eq!(deploy.skip_reason.as_deref(), Some("a needed job failed"));
    assert_eq!(deploy.needs, ["test[0]", "test[1]"]);
    assert!(deploy.steps.is_empty());

    let annotations: Vec<(&str, Option<usize>, AnnotationLevel, &str)> = run
        .annotations
        .iter()
        .map(|a| (a.job.as_str(), a.step, a.level, a.message.as_str()))
        .collect();
    assert_eq!(
        annotations,
        [
            (
                "build",
                Some(1),
                AnnotationLevel::Warning,
                "unused variable"
            ),
            (
                "test[1]",
                Some(0),
                AnnotationLevel::Error,
                "test_login failed"
            ),
        ]
    );
    let first = &run.annotations[0];
    assert_eq!(
        (
            first.file.as_deref(),
            first.line,
            first.col,
            first.title.as_deref()
        ),
        (Some("src/lib.rs"), Some(12), Some(5), Some("Lint"))
    );

    let summaries = history.step_summaries(REPO, number).unwrap();
    assert_eq!(summaries, run.step_summaries);
    assert_eq!(summaries.len(), 3);
    assert_eq!(
        summaries[0].markdown,
        "## Build\n\n| a | b |\n|---|---|\n| ✓ | 1 |\n"
    );
    assert_eq!(
        (
            summaries[0].job_name.as_str(),
            summaries[0].step,
            summaries[0].step_name.as_str()
        ),
        ("Build", 1, "Compile")
    );
    assert_eq!(summaries[2].markdown, "Tests of test[1]");

    let logs = history.logs(REPO, number, &LogFilter::default()).unwrap();
    assert_eq!(
        texts(&logs),
        [
            "Preparing workspace",
            "cloning",
            MULTI_LINE,
            UNICODE,
            "compiling",
            "",
            "Cleaning up",
            "running tests on test[0]",
            "running tests on test[1]",
        ]
    );
    assert_eq!(logs[0].step, None);
    assert_eq!(logs[0].step_name, None);
    assert_eq!(logs[0].stream, Stream::System);
    assert_eq!(logs[3].stream, Stream::Stderr);
    assert_eq!(logs[3].step_name.as_deref(), Some("Check out"));
    assert_eq!(
        (logs[7].job.as_str(), logs[7].job_name.as_str()),
        ("test[0]", "Test (linux)")
    );
    assert!(
        logs.windows(2)
            .take(7)
            .all(|pair| pair[0].seq < pair[1].seq)
    );

    // Everything was imported: no spool file is left behind.
    assert!(!state.path().join("spool").join("1").exists());

    // The JSON the CLI would print carries the same facts.
    let json = serde_json::to_value(&run).unwrap();
    assert_eq!(json["status"], "failure");
    assert_eq!(json["ref"], "refs/heads/main");
    assert_eq!(json["jobs"][0]["outputs"]["version"], "1.2.3");

    let listed = history.list_runs(&RunQuery::default()).unwrap();
    assert_eq!(listed, std::slice::from_ref(&run.summary));
}

#[test]
fn a_hundred_thousand_lines_round_trip_exactly() {
    const LINES: usize = 100_000;
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let expected: Vec<String> = (0..LINES)
        .map(|i| match i % 4 {
            0 => format!("line {i}: compiling crate number {i} of many"),
            1 => format!("ünïcødé {i} ✓ {}", "🚀".repeat(i % 7)),
            2 => format!("{i}\twith\ttabs and trailing spaces   "),
            _ => "x".repeat(i % 300),
        })
        .collect();
    let mut script = Script::new(&recorder);
    script.step_started("big", 0, "spam", "Spam");
    for (i, line) in expected.iter().enumerate() {
        let stream = if i % 10 == 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        script.log("big", Some(0), stream, line);
    }
    script.step_finished("big", 0, Outcome::Success, Outcome::Success, Some(0));
    script.run_finished(Outcome::Success, &["big"]);
    recorder.finish(Some(0)).unwrap();

    let logs = history.logs(REPO, 1, &LogFilter::default()).unwrap();
    assert_eq!(logs.len(), LINES);
    for (i, (line, expected)) in logs.iter().zip(&expected).enumerate() {
        assert_eq!(&line.text, expected, "line {i}");
        assert_eq!(line.seq, i as u64);
        let stream = if i % 10 == 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        assert_eq!(line.stream, stream, "line {i}");
    }

    let conn = rusqlite::Connection::open(state.path().join("history.sqlite")).unwrap();
    let (stored, raw): (i64, i64) = conn
        .query_row(
            "SELECT SUM(LENGTH(data)), SUM(byte_count) FROM logs",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert!(stored * 4 < raw, "compressed {stored} bytes of {raw}");
}

/// The executor emits from one thread per job; each job's lines must come
/// back complete and in order.
#[test]
fn lines_from_many_threads_keep_their_order() {
    const JOBS: usize = 4;
    const LINES: usize = 2_000;
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let sink: &dyn EventSink = &recorder;
    thread::scope(|scope| {
        for job in 0..JOBS {
            scope.spawn(move || {
                let key = format!("job{job}");
                let mut script = Script::new(sink);
                script.job_started(&key, &key);
                script.step_started(&key, 0, "", "Work");
                for line in 0..LINES {
                    script.log(&key, Some(0), Stream::Stdout, &format!("{key} line {line}"));
                    if line % 500 == 0 {
                        script.log(
                            &key,
                            None,
                            Stream::System,
                            &format!("{key} progress {line}"),
                        );
                    }
                }
                script.step_finished(&key, 0, Outcome::Success, Outcome::Success, Some(0));
                script.job_finished(&key, &key, Outcome::Success, &[]);
            });
        }
    });
    Script::new(&recorder).run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();

    for job in 0..JOBS {
        let key = format!("job{job}");
        let filter = LogFilter {
            job: JobSelector::Key(key.clone()),
            step: StepSelector::Index(0),
        };
        let lines = history.logs(REPO, 1, &filter).unwrap();
        let expected: Vec<String> = (0..LINES)
            .map(|line| format!("{key} line {line}"))
            .collect();
        assert_eq!(
            texts(&lines),
            expected.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let all = history
            .logs(
                REPO,
                1,
                &LogFilter {
                    job: JobSelector::Key(key.clone()),
                    step: StepSelector::All,
                },
            )
            .unwrap();
        assert_eq!(all.len(), LINES + LINES / 500);
        assert_eq!(all[0].text, format!("{key} line 0"));
        assert_eq!(all[1].text, format!("{key} progress 0"));
    }
}

/// A line that arrives after its step was stored is kept, as a second
/// chunk, in its place.
#[test]
fn a_late_line_is_kept_after_its_step_is_stored() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.step_started("build", 0, "", "Build");
    script.log("build", Some(0), Stream::Stdout, "on time");
    script.step_finished("build", 0, Outcome::Success, Outcome::Success, Some(0));
    script.log("build", Some(0), Stream::Stdout, "late");
    script.log(
        "build",
        Some(1),
        Stream::Stdout,
        "a step that never started",
    );
    script.run_finished(Outcome::Success, &[]);
    recorder.finish(None).unwrap();

    let lines = history.logs(REPO, 1, &LogFilter::default()).unwrap();
    assert_eq!(
        texts(&lines),
        ["on time", "late", "a step that never started"]
    );
    let run = history.run(REPO, 1).unwrap();
    assert_eq!(run.summary.status, Status::Success);
    assert_eq!(run.summary.exit_code, None);
}

#[test]
fn a_recorder_dropped_before_the_run_finished_leaves_an_interrupted_run() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    {
        let recorder = history.start_run(new_run(REPO)).unwrap();
        let mut script = Script::new(&recorder);
        script.run_started(1, vec![job("build", "build", "Build", &[])]);
        script.job_started("build", "Build");
        script.step_started("build", 0, "", "Build");
        script.log("build", Some(0), Stream::Stdout, "half way");
    }
    let run = history.run(REPO, 1).unwrap();
    assert_eq!(run.summary.status, Status::Interrupted);
    assert_eq!(run.jobs[0].status, Status::Interrupted);
    assert_eq!(run.jobs[0].steps[0].status, Status::Interrupted);
    assert!(run.summary.finished_at.unwrap() >= run.jobs[0].steps[0].started_at.unwrap());
    let lines = history.logs(REPO, 1, &LogFilter::default()).unwrap();
    assert_eq!(texts(&lines), ["half way"]);
}
