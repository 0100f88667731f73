//! Building blocks for tests: state directories and scripted events.

use indexmap::IndexMap;
use sluice_events::{AnnotationLevel, Event, EventSink, JobInfo, JobKey, Outcome, Stream};
use sluice_store::NewRun;

pub const REPO: &str = "/work/example-repo";

/// Timestamps in tests count from an arbitrary fixed instant.
pub const T0: u64 = 1_700_000_000_000;

pub fn state_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary state directory")
}

pub fn new_run(repository: &str) -> NewRun {
    NewRun {
        repository: repository.to_owned(),
        workflow: "CI".to_owned(),
        workflow_path: ".github/workflows/ci.yml".to_owned(),
        event: "push".to_owned(),
        git_ref: "refs/heads/main".to_owned(),
        sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
        started_at: T0,
    }
}

pub fn job(key: &str, id: &str, name: &str, needs: &[&str]) -> JobInfo {
    JobInfo {
        job: JobKey::parse(key).unwrap(),
        id: id.to_owned(),
        name: name.to_owned(),
        needs: needs
            .iter()
            .map(|need| JobKey::parse(need).unwrap())
            .collect(),
    }
}

/// Emits events with a clock that advances a little at each one.
pub struct Script<'a> {
    pub sink: &'a dyn EventSink,
    pub clock: u64,
}

impl<'a> Script<'a> {
    pub fn new(sink: &'a dyn EventSink) -> Self {
        Script { sink, clock: T0 }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 3;
        self.clock
    }

    pub fn run_started(&mut self, number: u64, jobs: Vec<JobInfo>) {
        let at = self.tick();
        self.sink.emit(&Event::RunStarted {
            version: 1,
            run: number,
            workflow: "CI".to_owned(),
            workflow_path: ".github/workflows/ci.yml".to_owned(),
            event: "push".to_owned(),
            git_ref: "refs/heads/main".to_owned(),
            sha: "0123456789abcdef0123456789abcdef01234567".to_owned(),
            jobs,
            at,
        });
    }

    pub fn job_started(&mut self, key: &str, name: &str) {
        let at = self.tick();
        self.sink.emit(&Event::JobStarted {
            job: JobKey::parse(key).unwrap(),
            name: name.to_owned(),
            at,
        });
    }

    pub fn job_finished(
        &mut self,
        key: &str,
        name: &str,
        result: Outcome,
        outputs: &[(&str, &str)],
    ) {
        let at = self.tick();
        self.sink.emit(&Event::JobFinished {
            job: JobKey::parse(key).unwrap(),
            name: name.to_owned(),
            result,
            duration_ms: 42,
            outputs: outputs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect::<IndexMap<_, _>>(),
            at,
        });
    }

    pub fn job_skipped(&mut self, key: &str, name: &str, reason: &str) {
        let at = self.tick();
        self.sink.emit(&Event::JobSkipped {
            job: JobKey::parse(key).unwrap(),
            name: name.to_owned(),
            reason: reason.to_owned(),
            at,
        });
    }

    pub fn step_started(&mut self, key: &str, step: usize, step_id: &str, name: &str) {
        let at = self.tick();
        self.sink.emit(&Event::StepStarted {
            job: JobKey::parse(key).unwrap(),
            step,
            step_id: step_id.to_owned(),
            name: name.to_owned(),
            at,
        });
    }

    pub fn step_finished(
        &mut self,
        key: &str,
        step: usize,
        outcome: Outcome,
        conclusion: Outcome,
        exit_code: Option<i32>,
    ) {
        let at = self.tick();
        self.sink.emit(&Event::StepFinished {
            job: JobKey::parse(key).unwrap(),
            step,
            outcome,
            conclusion,
            exit_code,
            duration_ms: 7,
            cached: false,
            at,
        });
    }

    pub fn log(&mut self, key: &str, step: Option<usize>, stream: Stream, line: &str) {
        let at = self.tick();
        self.sink.emit(&Event::Log {
            job: JobKey::parse(key).unwrap(),
            step,
            stream,
            line: line.to_owned(),
            level: Default::default(),
            at,
        });
    }

    pub fn annotation(
        &mut self,
        key: &str,
        step: Option<usize>,
        level: AnnotationLevel,
        message: &str,
    ) {
        let at = self.tick();
        self.sink.emit(&Event::Annotation {
            job: JobKey::parse(key).unwrap(),
            step,
            level,
            message: message.to_owned(),
            file: Some("src/lib.rs".to_owned()),
            line: Some(12),
            col: Some(5),
            title: Some("Lint".to_owned()),
            at,
        });
    }

    pub fn summary(&mut self, key: &str, step: usize, markdown: &str) {
        let at = self.tick();
        self.sink.emit(&Event::StepSummary {
            job: JobKey::parse(key).unwrap(),
            step,
            markdown: markdown.to_owned(),
            at,
        });
    }

    pub fn run_finished(&mut self, result: Outcome, critical_path: &[&str]) {
        let at = self.tick();
        self.sink.emit(&Event::RunFinished {
            result,
            duration_ms: at - T0,
            critical_path: critical_path
                .iter()
                .map(|key| JobKey::parse(key).unwrap())
                .collect(),
            at,
        });
    }
}
