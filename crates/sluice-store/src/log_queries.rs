//! Reading a run's logs back as labelled lines.

use sluice_events::JobKey;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::log_filter::{self, JobOutline, LogFilter, StepOutline};
use crate::log_store;
use crate::records::LogLine;
use crate::run_queries::find_run_id;
use crate::sql_values::{get_job_key, get_u64};

impl History {
    /// The log lines of run `number` that `filter` chooses, decompressed.
    /// Jobs come in the run's order; within a job, lines come in the order
    /// they were emitted, the job's own lines interleaved with its steps'.
    pub fn logs(
        &self,
        repository: &str,
        number: u64,
        filter: &LogFilter,
    ) -> Result<Vec<LogLine>, StoreError> {
        self.db.read("read logs", |db| {
            let run_id = find_run_id(db, repository, number)?;
            let outline = read_outline(db, run_id)?;
            let selection = log_filter::select(filter, number, &outline)?;
            let wanted: HashSet<(&str, Option<usize>)> = selection
                .jobs
                .iter()
                .flat_map(|(job, steps)| steps.iter().map(|step| (job.key.as_str(), *step)))
                .collect();
            let mut chunks_by_job: HashMap<String, Vec<log_store::Chunk>> = HashMap::new();
            for chunk in
                log_store::read_chunks(db, run_id, |job, step| wanted.contains(&(job, step)))?
            {
                chunks_by_job
                    .entry(chunk.job.clone())
                    .or_default()
                    .push(chunk);
            }

            let mut lines = Vec::new();
            for (job, _) in &selection.jobs {
                let Some(chunks) = chunks_by_job.remove(job.key.as_str()) else {
                    continue;
                };
                let step_labels: HashMap<usize, Option<String>> = job
                    .steps
                    .iter()
                    .map(|step| (step.index, step.label()))
                    .collect();
                let first = lines.len();
                for chunk in chunks {
                    let step_name = chunk
                        .step
                        .and_then(|step| step_labels.get(&step).cloned().flatten());
                    lines.extend(chunk.records.into_iter().map(|record| LogLine {
                        job: job.key.clone(),
                        job_name: job.name.clone(),
                        step: chunk.step,
                        step_name: step_name.clone(),
                        stream: record.stream,
                        at: record.at,
                        seq: record.seq,
                        text: record.text,
                    }));
                }
                lines[first..].sort_by_key(|line| line.seq);
            }
            Ok(lines)
        })
    }
}

/// The run's jobs (in order) with their steps, including any job or step
/// known only from its stored lines.
fn read_outline(db: &Database, run_id: i64) -> Result<Vec<JobOutline>, StoreError> {
    let mut jobs: Vec<JobOutline> = db
        .conn()
        .prepare_cached(
            "SELECT job_key, job_id, name FROM jobs WHERE run_id = ?1 ORDER BY position",
        )
        .and_then(|mut statement| {
            statement
                .query_map([run_id], |row| {
                    Ok(JobOutline {
                        key: get_job_key(row, 0)?,
                        id: row.get(1)?,
                        name: row.get(2)?,
                        steps: Vec::new(),
                    })
                })?
                .collect()
        })
        .map_err(|e| db.error("read jobs", e))?;

    let mut steps: BTreeMap<(String, usize), StepOutline> = BTreeMap::new();
    db.conn()
        .prepare_cached("SELECT job_key, step_index, step_id, name FROM steps WHERE run_id = ?1")
        .and_then(|mut statement| {
            let rows = statement.query_map([run_id], |row| {
                let index = get_u64(row, 1)? as usize;
                Ok((
                    (row.get::<_, String>(0)?, index),
                    StepOutline {
                        index,
                        id: row.get(2)?,
                        name: row.get(3)?,
                    },
                ))
            })?;
            for row in rows {
                let (key, step) = row?;
                steps.insert(key, step);
            }
            Ok(())
        })
        .map_err(|e| db.error("read steps", e))?;

    for (job, step) in log_store::logged_targets(db, run_id)? {
        if !jobs.iter().any(|known| known.key == job)
            && let Ok(key) = JobKey::parse(&job)
        {
            jobs.push(JobOutline {
                id: key.job().to_string(),
                name: job.clone(),
                key,
                steps: Vec::new(),
            });
        }
        if let Some(index) = step {
            steps.entry((job, index)).or_insert_with(|| StepOutline {
                index,
                id: String::new(),
                name: String::new(),
            });
        }
    }

    let position: HashMap<JobKey, usize> = jobs
        .iter()
        .enumerate()
        .map(|(position, job)| (job.key.clone(), position))
        .collect();
    for ((job, _), step) in steps {
        if let Some(&position) = position.get(job.as_str()) {
            jobs[position].steps.push(step);
        }
    }
    Ok(jobs)
}
