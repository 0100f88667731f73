//! Test results in the history: written as reports are read, read back
//! per run and per test.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use sluice_events::{JobKey, TestCase, TestOutcome, Timestamp, Totals};

use crate::database::Database;
use crate::error::StoreError;
use crate::sql_values::{get_job_key, to_json, to_sql_u64};

/// One report read in a run, as [`record_report`] writes it.
pub(crate) struct ReportRecord<'a> {
    pub run_id: i64,
    pub repository: &'a str,
    pub job: &'a JobKey,
    pub step: usize,
    pub attempt: u32,
    pub files: &'a [String],
    pub totals: &'a Totals,
    pub cases: &'a [TestCase],
    pub tree: Option<&'a str>,
    pub at: Timestamp,
}

/// The longest message kept with a result: its first line, cut here.
const MESSAGE_CHARS: usize = 500;

/// Writes a report's counts and one result per test. Call inside a write
/// transaction.
pub(crate) fn record_report(db: &Database, report: &ReportRecord) -> Result<(), StoreError> {
    let totals = report.totals;
    db.execute(
        "INSERT INTO test_reports (run_id, job_key, step_index, attempt, files, tests, passed,
                                   failed, errors, skipped, flaky, time_ms, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            report.run_id,
            report.job.as_str(),
            report.step as i64,
            report.attempt,
            to_json(&report.files),
            to_sql_u64(totals.tests),
            to_sql_u64(totals.passed),
            to_sql_u64(totals.failed),
            to_sql_u64(totals.errors),
            to_sql_u64(totals.skipped),
            to_sql_u64(totals.flaky),
            millis(totals.time),
            to_sql_u64(report.at),
        ],
    )
    .map_err(|e| db.error("record a test report", e))?;
    for case in report.cases {
        let test_id = test_id(db, report.repository, case)?;
        let message = case.message.as_deref().map(|m| {
            m.lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(MESSAGE_CHARS)
                .collect::<String>()
        });
        db.execute(
            "INSERT INTO test_results (run_id, test_id, job_key, step_index, attempt, outcome,
                                       duration_ms, repeats, message, tree, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                report.run_id,
                test_id,
                report.job.as_str(),
                report.step as i64,
                report.attempt,
                case.outcome.as_str(),
                millis(case.time),
                case.runs,
                message,
                report.tree,
                to_sql_u64(report.at),
            ],
        )
        .map_err(|e| db.error("record a test result", e))?;
    }
    Ok(())
}

fn millis(seconds: f64) -> i64 {
    (seconds * 1000.0).round().clamp(0.0, i64::MAX as f64) as i64
}

/// The id of a test, made the first time it is seen.
fn test_id(db: &Database, repository: &str, case: &TestCase) -> Result<i64, StoreError> {
    let file = case.file.as_deref().unwrap_or("");
    db.execute(
        "INSERT INTO tests (repository, suite, classname, name, file) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (repository, suite, classname, name, file) DO NOTHING",
        params![repository, case.suite, case.classname, case.name, file],
    )
    .map_err(|e| db.error("record a test", e))?;
    db.conn()
        .prepare_cached(
            "SELECT id FROM tests
             WHERE repository = ?1 AND suite = ?2 AND classname = ?3 AND name = ?4 AND file = ?5",
        )
        .and_then(|mut statement| {
            statement.query_row(
                params![repository, case.suite, case.classname, case.name, file],
                |row| row.get(0),
            )
        })
        .map_err(|e| db.error("find a test", e))
}

/// A test's identity as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestIdentity {
    pub suite: String,
    pub classname: String,
    pub name: String,
    /// Empty when the report named no file.
    pub file: String,
}

impl TestIdentity {
    /// `class ‑ name` (or the name), as people read a test.
    pub fn display_name(&self) -> String {
        if self.classname.is_empty() {
            self.name.clone()
        } else {
            format!("{} ‑ {}", self.classname, self.name)
        }
    }
}

/// One result of a test, with its run's facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResultRecord {
    pub test: TestIdentity,
    pub run: u64,
    pub job: JobKey,
    pub step: usize,
    pub attempt: u32,
    pub outcome: TestOutcome,
    pub duration_ms: u64,
    pub message: Option<String>,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub tree: Option<String>,
    pub at: Timestamp,
}

pub(crate) const RESULT_COLUMNS: &str = "t.suite, t.classname, t.name, t.file, r.number, x.job_key, \
     x.step_index, x.attempt, x.outcome, x.duration_ms, x.message, r.sha, r.git_ref, x.tree, x.at";

pub(crate) fn result_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TestResultRecord> {
    let outcome: String = row.get(8)?;
    Ok(TestResultRecord {
        test: TestIdentity {
            suite: row.get(0)?,
            classname: row.get(1)?,
            name: row.get(2)?,
            file: row.get(3)?,
        },
        run: row.get::<_, i64>(4)? as u64,
        job: get_job_key(row, 5)?,
        step: row.get::<_, i64>(6)? as usize,
        attempt: row.get(7)?,
        outcome: TestOutcome::parse(&outcome).unwrap_or(TestOutcome::Error),
        duration_ms: row.get::<_, i64>(9)?.max(0) as u64,
        message: row.get(10)?,
        sha: row.get(11)?,
        git_ref: row.get(12)?,
        tree: row.get(13)?,
        at: row.get::<_, i64>(14)?.max(0) as u64,
    })
}
