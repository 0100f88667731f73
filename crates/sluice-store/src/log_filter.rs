//! Choosing which log lines of a run to read: by job and by step.

use std::fmt;

use crate::error::StoreError;

/// Which log lines [`History::logs`](crate::History::logs) returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub job: JobSelector,
    pub step: StepSelector,
}

/// Which jobs' lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum JobSelector {
    #[default]
    All,
    /// One job instance, e.g. `test[1]`.
    Key(String),
    /// Every instance of a workflow job, e.g. `test` for `test[0]`, `test[1]`.
    Id(String),
    /// Every job with this display name.
    Name(String),
    /// What a user typed: a key if one matches, else an id, else a name.
    Auto(String),
}

/// Which lines of the chosen jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StepSelector {
    /// Every line: each step's and the job's own.
    #[default]
    All,
    /// Only the lines about the job rather than a step.
    JobLevel,
    /// The step at this 0-based index.
    Index(usize),
    /// The step with this `id:`.
    Id(String),
    /// The step with this name.
    Name(String),
    /// What a user typed: digits are a 0-based index; otherwise a step id
    /// if one matches, else a name.
    Auto(String),
}

impl fmt::Display for JobSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobSelector::All => f.write_str("*"),
            JobSelector::Key(text) | JobSelector::Auto(text) => f.write_str(text),
            JobSelector::Id(id) => write!(f, "id {id}"),
            JobSelector::Name(name) => write!(f, "name {name}"),
        }
    }
}

impl fmt::Display for StepSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepSelector::All => f.write_str("*"),
            StepSelector::JobLevel => f.write_str("(job-level lines)"),
            // People count steps from 1 (as `sluice show` lists them).
            StepSelector::Index(index) => write!(f, "#{}", index + 1),
            StepSelector::Id(id) => write!(f, "id {id}"),
            StepSelector::Name(name) | StepSelector::Auto(name) => f.write_str(name),
        }
    }
}

/// A job as far as choosing logs is concerned.
#[derive(Debug, Clone)]
pub(crate) struct JobOutline {
    pub(crate) key: sluice_events::JobKey,
    pub(crate) id: String,
    pub(crate) name: String,
    /// Steps with a row or with stored lines, by index.
    pub(crate) steps: Vec<StepOutline>,
}

#[derive(Debug, Clone)]
pub(crate) struct StepOutline {
    pub(crate) index: usize,
    pub(crate) id: String,
    pub(crate) name: String,
}

impl StepOutline {
    /// The label shown with the step's lines: its name, else its id.
    pub(crate) fn label(&self) -> Option<String> {
        [&self.name, &self.id]
            .into_iter()
            .find(|text| !text.is_empty())
            .cloned()
    }
}

/// The chosen (job, step) pairs: for each chosen job (in `jobs` order), the
/// steps whose lines to read, `None` standing for the job-level lines.
pub(crate) struct Selection<'a> {
    pub(crate) jobs: Vec<(&'a JobOutline, Vec<Option<usize>>)>,
}

pub(crate) fn select<'a>(
    filter: &LogFilter,
    run_number: u64,
    jobs: &'a [JobOutline],
) -> Result<Selection<'a>, StoreError> {
    let chosen_jobs = select_jobs(&filter.job, jobs);
    if chosen_jobs.is_empty() {
        return Err(StoreError::NoSuchJob {
            number: run_number,
            selector: filter.job.to_string(),
            available: jobs.iter().map(|job| job.key.to_string()).collect(),
        });
    }
    let step_match = StepMatch::for_selector(&filter.step, &chosen_jobs);
    let selection: Vec<(&JobOutline, Vec<Option<usize>>)> = chosen_jobs
        .into_iter()
        .map(|job| {
            let steps = step_match.steps_of(job);
            (job, steps)
        })
        .collect();
    let anything_chosen = selection.iter().any(|(_, steps)| !steps.is_empty());
    if !anything_chosen && !matches!(filter.step, StepSelector::All | StepSelector::JobLevel) {
        return Err(StoreError::NoSuchStep {
            number: run_number,
            selector: filter.step.to_string(),
            jobs: selection
                .iter()
                .map(|(job, _)| job.key.to_string())
                .collect(),
        });
    }
    Ok(Selection { jobs: selection })
}

fn select_jobs<'a>(selector: &JobSelector, jobs: &'a [JobOutline]) -> Vec<&'a JobOutline> {
    let matching = |test: &dyn Fn(&JobOutline) -> bool| -> Vec<&'a JobOutline> {
        jobs.iter().filter(|job| test(job)).collect()
    };
    match selector {
        JobSelector::All => jobs.iter().collect(),
        JobSelector::Key(key) => matching(&|job| job.key == *key),
        JobSelector::Id(id) => matching(&|job| job.id == *id),
        JobSelector::Name(name) => matching(&|job| job.name == *name),
        JobSelector::Auto(text) => [
            matching(&|job| job.key == *text),
            matching(&|job| job.id == *text),
            matching(&|job| job.name == *text),
        ]
        .into_iter()
        .find(|found| !found.is_empty())
        .unwrap_or_default(),
    }
}

/// A step selector with `Auto` decided.
enum StepMatch<'s> {
    All,
    JobLevel,
    Index(usize),
    Id(&'s str),
    Name(&'s str),
}

impl<'s> StepMatch<'s> {
    fn for_selector(selector: &'s StepSelector, jobs: &[&JobOutline]) -> Self {
        match selector {
            StepSelector::All => StepMatch::All,
            StepSelector::JobLevel => StepMatch::JobLevel,
            StepSelector::Index(index) => StepMatch::Index(*index),
            StepSelector::Id(id) => StepMatch::Id(id),
            StepSelector::Name(name) => StepMatch::Name(name),
            StepSelector::Auto(text) => {
                if let Ok(index) = text.parse() {
                    StepMatch::Index(index)
                } else if jobs
                    .iter()
                    .flat_map(|job| &job.steps)
                    .any(|step| step.id == *text)
                {
                    StepMatch::Id(text)
                } else {
                    StepMatch::Name(text)
                }
            }
        }
    }

    fn steps_of(&self, job: &JobOutline) -> Vec<Option<usize>> {
        let matching = |test: &dyn Fn(&StepOutline) -> bool| -> Vec<Option<usize>> {
            job.steps
                .iter()
                .filter(|step| test(step))
                .map(|step| Some(step.index))
                .collect()
        };
        match self {
            StepMatch::All => std::iter::once(None)
                .chain(job.steps.iter().map(|step| Some(step.index)))
                .collect(),
            StepMatch::JobLevel => vec![None],
            StepMatch::Index(index) => matching(&|step| step.index == *index),
            StepMatch::Id(id) => matching(&|step| step.id == *id),
            StepMatch::Name(name) => matching(&|step| step.name == *name),
        }
    }
}
