//! Benchmark results in the history: per metric and testbed, from runs
//! and from imported files; read back as a default-branch series (one
//! value per run, oldest first), per run, and per benchmark.

use rusqlite::{OptionalExtension, params};
use sluice_events::{JobKey, PerfResult, Testbed, Timestamp};

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::run_queries::find_run_id;
use crate::sql_values::{get_u64, to_json, to_sql_u64};

/// Where a set of results came from.
pub struct PerfOrigin<'a> {
    pub repository: &'a str,
    /// A run's step (`None` for an import).
    pub step: Option<(i64, &'a JobKey, usize)>,
    pub git_ref: &'a str,
    pub sha: &'a str,
    pub at: Timestamp,
}

fn testbed_id(db: &Database, testbed: &Testbed) -> Result<i64, StoreError> {
    let fail = |e| db.error("record a testbed", e);
    db.execute(
        "INSERT OR IGNORE INTO testbeds (machine_id, cpu_model, cores) VALUES (?1, ?2, ?3)",
        params![testbed.machine_id, testbed.cpu_model, testbed.cores],
    )
    .map_err(fail)?;
    db.conn()
        .query_row(
            "SELECT id FROM testbeds WHERE machine_id = ?1 AND cpu_model = ?2 AND cores = ?3",
            params![testbed.machine_id, testbed.cpu_model, testbed.cores],
            |row| row.get(0),
        )
        .map_err(fail)
}

/// Call inside a write transaction.
pub(crate) fn record_results(
    db: &Database,
    origin: &PerfOrigin,
    testbed: &Testbed,
    results: &[PerfResult],
) -> Result<(), StoreError> {
    let fail = |e| db.error("record benchmark results", e);
    let testbed = testbed_id(db, testbed)?;
    let mut insert = db
        .conn()
        .prepare_cached(
            "INSERT INTO perf_results (repository, run_id, job_key, step_index, git_ref, sha, testbed_id,
                 benchmark, measure, unit, bigger_is_better, value, repetitions, verdict, baseline,
                 change, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .map_err(fail)?;
    for result in results {
        insert
            .execute(params![
                origin.repository,
                origin.step.map(|s| s.0),
                origin.step.map(|s| s.1.as_str()),
                origin.step.map(|s| s.2 as i64),
                origin.git_ref,
                origin.sha,
                testbed,
                result.benchmark,
                result.measure,
                result.unit,
                result.bigger_is_better,
                result.value,
                to_json(&result.repetitions),
                (!result.verdict.is_empty()).then_some(result.verdict.as_str()),
                result.baseline,
                result.change,
                to_sql_u64(origin.at),
            ])
            .map_err(fail)?;
    }
    Ok(())
}

/// One stored value of a metric.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PerfPoint {
    /// The run, or `None` for an import.
    pub run: Option<u64>,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub at: Timestamp,
    pub benchmark: String,
    pub measure: String,
    pub unit: String,
    pub bigger_is_better: bool,
    pub value: f64,
    pub verdict: Option<String>,
    pub baseline: Option<f64>,
    pub change: Option<f64>,
}

const POINT_COLUMNS: &str = "r.number, p.sha, p.git_ref, p.at, p.benchmark, p.measure, p.unit,
    p.bigger_is_better, p.value, p.verdict, p.baseline, p.change";
const POINT_FROM: &str = "FROM perf_results p LEFT JOIN runs r ON r.id = p.run_id";

fn point_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PerfPoint> {
    Ok(PerfPoint {
        run: row.get::<_, Option<i64>>(0)?.map(|n| n as u64),
        sha: row.get(1)?,
        git_ref: row.get(2)?,
        at: get_u64(row, 3)?,
        benchmark: row.get(4)?,
        measure: row.get(5)?,
        unit: row.get(6)?,
        bigger_is_better: row.get(7)?,
        value: row.get(8)?,
        verdict: row.get(9)?,
        baseline: row.get(10)?,
        change: row.get(11)?,
    })
}

impl History {
    /// Records imported results (`sluice perf record`).
    pub fn import_perf_results(
        &self,
        origin: &PerfOrigin,
        testbed: &Testbed,
        results: &[PerfResult],
    ) -> Result<(), StoreError> {
        self.db.write("import benchmark results", |db| {
            record_results(db, origin, testbed, results)
        })
    }

    /// A metric's values on `git_ref` and `testbed`, oldest first: what a
    /// new result is judged against.
    pub fn perf_series(
        &self,
        repository: &str,
        benchmark: &str,
        measure: &str,
        testbed: &Testbed,
        git_ref: &str,
    ) -> Result<Vec<f64>, StoreError> {
        self.db.read("read a benchmark's series", |db| {
            let Some(testbed) = db
                .conn()
                .query_row(
                    "SELECT id FROM testbeds WHERE machine_id = ?1 AND cpu_model = ?2 AND cores = ?3",
                    params![testbed.machine_id, testbed.cpu_model, testbed.cores],
                    |row| row.get::<_, i64>(0),
                )
                .optional()
                .map_err(|e| db.error("find a testbed", e))?
            else {
                return Ok(Vec::new());
            };
            // Several jobs of one run (a matrix) may measure the same
            // metric: the run is one observation, their median.
            let rows: Vec<(i64, f64)> = db
                .conn()
                .prepare_cached(
                    "SELECT COALESCE(run_id, -id), value FROM perf_results
                     WHERE repository = ?1 AND benchmark = ?2 AND measure = ?3 AND testbed_id = ?4
                       AND git_ref = ?5
                     ORDER BY at, id",
                )
                .and_then(|mut s| {
                    s.query_map(params![repository, benchmark, measure, testbed, git_ref], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?
                    .collect()
                })
                .map_err(|e| db.error("read a benchmark's series", e))?;
            Ok(one_value_per_run(&rows))
        })
    }

    /// The results of run `number`.
    pub fn run_perf_results(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<PerfPoint>, StoreError> {
        self.db.read("read a run's benchmarks", |db| {
            let run_id = find_run_id(db, repository, number)?;
            db.conn()
                .prepare(&format!(
                    "SELECT {POINT_COLUMNS} {POINT_FROM} WHERE p.run_id = ?1 ORDER BY p.id"
                ))
                .and_then(|mut s| s.query_map([run_id], point_from_row)?.collect())
                .map_err(|e| db.error("read a run's benchmarks", e))
        })
    }

    /// The newest run with benchmark results.
    pub fn latest_perf_run(&self, repository: &str) -> Result<Option<u64>, StoreError> {
        self.db.read("find the latest benchmarks", |db| {
            db.conn()
                .query_row(
                    "SELECT r.number FROM perf_results p JOIN runs r ON r.id = p.run_id
                     WHERE p.repository = ?1 ORDER BY r.number DESC LIMIT 1",
                    [repository],
                    |row| get_u64(row, 0),
                )
                .optional()
                .map_err(|e| db.error("find the latest benchmarks", e))
        })
    }

    /// Every stored value of benchmark `benchmark` (all measures, refs
    /// and testbeds), oldest first.
    pub fn perf_history(
        &self,
        repository: &str,
        benchmark: &str,
    ) -> Result<Vec<PerfPoint>, StoreError> {
        self.db.read("read a benchmark's history", |db| {
            db.conn()
                .prepare(&format!(
                    "SELECT {POINT_COLUMNS} {POINT_FROM}
                     WHERE p.repository = ?1 AND p.benchmark = ?2 ORDER BY p.at, p.id"
                ))
                .and_then(|mut s| {
                    s.query_map(params![repository, benchmark], point_from_row)?
                        .collect()
                })
                .map_err(|e| db.error("read a benchmark's history", e))
        })
    }
}

/// (run, value) rows in time order → one value per run (the median of its
/// rows), in the order runs first appear.
fn one_value_per_run(rows: &[(i64, f64)]) -> Vec<f64> {
    let mut runs: Vec<(i64, Vec<f64>)> = Vec::new();
    for (run, value) in rows {
        match runs.iter_mut().find(|(r, _)| r == run) {
            Some((_, values)) => values.push(*value),
            None => runs.push((*run, vec![*value])),
        }
    }
    runs.into_iter()
        .map(|(_, mut values)| {
            values.sort_by(f64::total_cmp);
            let mid = values.len() / 2;
            if values.len() % 2 == 1 {
                values[mid]
            } else {
                0.5 * (values[mid - 1] + values[mid])
            }
        })
        .collect()
}
