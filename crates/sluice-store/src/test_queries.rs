//! Reading test results back: one run's, one test's history, and the
//! recent results flaky detection looks at.

use rusqlite::params;
use sluice_events::Timestamp;

use crate::error::StoreError;
use crate::history::History;
use crate::run_queries::find_run_id;
use crate::test_records::{RESULT_COLUMNS, TestResultRecord, result_from_row};

const FROM: &str =
    "FROM test_results x JOIN tests t ON t.id = x.test_id JOIN runs r ON r.id = x.run_id";

impl History {
    /// Every test result of run `number`, in the order recorded.
    pub fn run_test_results(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<TestResultRecord>, StoreError> {
        self.db.read("read a run's test results", |db| {
            let run_id = find_run_id(db, repository, number)?;
            db.conn()
                .prepare(&format!(
                    "SELECT {RESULT_COLUMNS} {FROM} WHERE x.run_id = ?1 ORDER BY x.id"
                ))
                .and_then(|mut statement| statement.query_map([run_id], result_from_row)?.collect())
                .map_err(|e| db.error("read a run's test results", e))
        })
    }

    /// The newest `limit` results of the tests `name` names, newest first:
    /// a test's name, `class ‑ name`, `class::name` or `class.name`.
    pub fn test_history(
        &self,
        repository: &str,
        name: &str,
        limit: usize,
    ) -> Result<Vec<TestResultRecord>, StoreError> {
        let db = &self.db;
        db.conn()
            .prepare(&format!(
                "SELECT {RESULT_COLUMNS} {FROM}
                 WHERE t.repository = ?1
                   AND (t.name = ?2 OR t.classname || ' ‑ ' || t.name = ?2
                        OR t.classname || '::' || t.name = ?2 OR t.classname || '.' || t.name = ?2)
                 ORDER BY x.id DESC LIMIT ?3"
            ))
            .and_then(|mut statement| {
                statement
                    .query_map(
                        params![repository, name, i64::try_from(limit).unwrap_or(i64::MAX)],
                        result_from_row,
                    )?
                    .collect()
            })
            .map_err(|e| db.error("read a test's history", e))
    }

    /// Every result recorded since `since`, oldest first, for analysis.
    pub fn test_results_since(
        &self,
        repository: &str,
        since: Timestamp,
    ) -> Result<Vec<TestResultRecord>, StoreError> {
        self.db.read("read recent test results", |db| {
            db.conn()
                .prepare(&format!(
                    "SELECT {RESULT_COLUMNS} {FROM}
                     WHERE t.repository = ?1 AND x.at >= ?2 ORDER BY x.id"
                ))
                .and_then(|mut statement| {
                    statement
                        .query_map(params![repository, since as i64], result_from_row)?
                        .collect()
                })
                .map_err(|e| db.error("read recent test results", e))
        })
    }
}

/// Test results in a compact form, for analysing many at once: tests and
/// trees numbered, one small row per result.
#[derive(Debug, Clone, Default)]
pub struct TestObservations {
    /// The tests, by their number in `results`.
    pub tests: Vec<crate::test_records::TestIdentity>,
    pub results: Vec<ObservedResult>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObservedResult {
    pub test: u32,
    pub run: u64,
    pub attempt: u32,
    pub outcome: sluice_events::TestOutcome,
    /// Trees numbered in the order first seen.
    pub tree: Option<u32>,
    pub on_default_branch: bool,
    pub duration_ms: u64,
}

impl History {
    /// The results recorded since `since`, oldest first, compactly;
    /// `default_ref` (`refs/heads/main`) marks the default branch's.
    pub fn test_observations(
        &self,
        repository: &str,
        since: Timestamp,
        default_ref: &str,
    ) -> Result<TestObservations, StoreError> {
        self.db.read("read test results for analysis", |db| {
            let mut numbers: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
            let mut observations = TestObservations::default();
            let mut tests = db
                .conn()
                .prepare("SELECT id, suite, classname, name, file FROM tests WHERE repository = ?1")
                .map_err(|e| db.error("read tests", e))?;
            let rows = tests
                .query_map([repository], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        crate::test_records::TestIdentity {
                            suite: row.get(1)?,
                            classname: row.get(2)?,
                            name: row.get(3)?,
                            file: row.get(4)?,
                        },
                    ))
                })
                .map_err(|e| db.error("read tests", e))?;
            for row in rows {
                let (id, identity) = row.map_err(|e| db.error("read tests", e))?;
                numbers.insert(id, observations.tests.len() as u32);
                observations.tests.push(identity);
            }
            let mut trees: std::collections::HashMap<String, u32> =
                std::collections::HashMap::new();
            let mut statement = db
                .conn()
                .prepare(
                    "SELECT x.test_id, r.number, x.attempt, x.outcome, x.tree, r.git_ref = ?3,
                            x.duration_ms
                     FROM test_results x JOIN runs r ON r.id = x.run_id
                     WHERE r.repository = ?1 AND x.at >= ?2 ORDER BY x.id",
                )
                .map_err(|e| db.error("read test results", e))?;
            let mut rows = statement
                .query(params![repository, since as i64, default_ref])
                .map_err(|e| db.error("read test results", e))?;
            while let Some(row) = rows.next().map_err(|e| db.error("read test results", e))? {
                let read = || -> rusqlite::Result<_> {
                    let test: i64 = row.get(0)?;
                    let outcome: String = row.get(3)?;
                    let tree: Option<String> = row.get(4)?;
                    Ok((
                        test,
                        row.get::<_, i64>(1)?,
                        row.get::<_, u32>(2)?,
                        outcome,
                        tree,
                        row.get::<_, bool>(5)?,
                        row.get::<_, i64>(6)?,
                    ))
                };
                let (test, run, attempt, outcome, tree, on_default_branch, duration) =
                    read().map_err(|e| db.error("read test results", e))?;
                let Some(&test) = numbers.get(&test) else {
                    continue;
                };
                let tree = tree.map(|tree| {
                    let next = trees.len() as u32;
                    *trees.entry(tree).or_insert(next)
                });
                observations.results.push(ObservedResult {
                    test,
                    run: run as u64,
                    attempt,
                    outcome: sluice_events::TestOutcome::parse(&outcome)
                        .unwrap_or(sluice_events::TestOutcome::Error),
                    tree,
                    on_default_branch,
                    duration_ms: duration.max(0) as u64,
                });
            }
            Ok(observations)
        })
    }
}
