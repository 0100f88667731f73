//! Coverage in the history: each step attempt's totals and per-file
//! lines, written as reports are read; read back per run, and the
//! default branch's latest for a gate's baseline.

use rusqlite::{OptionalExtension, params};
use sluice_events::{CoverageFile, CoverageTotals, DiffTotals, JobKey, Timestamp};

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::run_queries::find_run_id;
use crate::sql_values::{get_job_key, get_u64, to_json, to_sql_u64};

/// One step attempt's coverage, as [`record_coverage`] writes it.
pub(crate) struct CoverageRecord<'a> {
    pub run_id: i64,
    pub job: &'a JobKey,
    pub step: usize,
    pub attempt: u32,
    pub files: &'a [String],
    pub totals: &'a CoverageTotals,
    pub per_file: &'a [CoverageFile],
    pub diff: Option<&'a DiffTotals>,
    pub at: Timestamp,
}

/// Call inside a write transaction.
pub(crate) fn record_coverage(db: &Database, record: &CoverageRecord) -> Result<(), StoreError> {
    let fail = |e| db.error("record coverage", e);
    let totals = record.totals;
    db.execute(
        "INSERT INTO coverage_reports (run_id, job_key, step_index, attempt, files, lines_covered,
             lines_total, branches_covered, branches_total, diff_base, diff_covered, diff_total, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            record.run_id,
            record.job.as_str(),
            record.step as i64,
            record.attempt,
            to_json(&record.files),
            to_sql_u64(totals.lines_covered),
            to_sql_u64(totals.lines_total),
            to_sql_u64(totals.branches_covered),
            to_sql_u64(totals.branches_total),
            record.diff.map(|d| d.base.as_str()),
            record.diff.map(|d| to_sql_u64(d.covered)),
            record.diff.map(|d| to_sql_u64(d.total)),
            to_sql_u64(record.at),
        ],
    )
    .map_err(fail)?;
    let report_id = db.conn().last_insert_rowid();
    let mut insert = db
        .conn()
        .prepare_cached(
            "INSERT OR REPLACE INTO coverage_files (report_id, path, lines_covered, lines_total,
                 branches_covered, branches_total, covered, uncovered)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(fail)?;
    for file in record.per_file {
        insert
            .execute(params![
                report_id,
                file.path,
                to_sql_u64(file.totals.lines_covered),
                to_sql_u64(file.totals.lines_total),
                to_sql_u64(file.totals.branches_covered),
                to_sql_u64(file.totals.branches_total),
                file.covered,
                file.uncovered,
            ])
            .map_err(fail)?;
    }
    Ok(())
}

/// A step attempt's coverage as the history has it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CoverageReportRecord {
    pub run: u64,
    pub job: JobKey,
    pub step: usize,
    pub attempt: u32,
    pub files: Vec<String>,
    pub totals: CoverageTotals,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<DiffTotals>,
    pub per_file: Vec<CoverageFile>,
}

const REPORT_COLUMNS: &str = "c.id, r.number, c.job_key, c.step_index, c.attempt, c.files,
    c.lines_covered, c.lines_total, c.branches_covered, c.branches_total,
    c.diff_base, c.diff_covered, c.diff_total";

fn report_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, CoverageReportRecord)> {
    let diff = match row.get::<_, Option<String>>(10)? {
        Some(base) => Some(DiffTotals {
            base,
            covered: get_u64(row, 11)?,
            total: get_u64(row, 12)?,
        }),
        None => None,
    };
    Ok((
        row.get(0)?,
        CoverageReportRecord {
            run: get_u64(row, 1)?,
            job: get_job_key(row, 2)?,
            step: row.get::<_, i64>(3)? as usize,
            attempt: row.get(4)?,
            files: serde_json::from_str(&row.get::<_, String>(5)?).unwrap_or_default(),
            totals: CoverageTotals {
                lines_covered: get_u64(row, 6)?,
                lines_total: get_u64(row, 7)?,
                branches_covered: get_u64(row, 8)?,
                branches_total: get_u64(row, 9)?,
            },
            diff,
            per_file: Vec::new(),
        },
    ))
}

impl History {
    /// The coverage reports of run `number` (the last attempt of each
    /// step), with their files.
    pub fn run_coverage(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<CoverageReportRecord>, StoreError> {
        self.db.read("read a run's coverage", |db| {
            let run_id = find_run_id(db, repository, number)?;
            let fail = |e| db.error("read a run's coverage", e);
            let mut reports: Vec<(i64, CoverageReportRecord)> = db
                .conn()
                .prepare(&format!(
                    "SELECT {REPORT_COLUMNS} FROM coverage_reports c JOIN runs r ON r.id = c.run_id
                     WHERE c.run_id = ?1
                       AND c.attempt = (SELECT MAX(o.attempt) FROM coverage_reports o
                                        WHERE o.run_id = c.run_id AND o.job_key = c.job_key
                                          AND o.step_index = c.step_index)
                     ORDER BY c.id"
                ))
                .and_then(|mut s| s.query_map([run_id], report_from_row)?.collect())
                .map_err(fail)?;
            for (id, report) in &mut reports {
                report.per_file = coverage_files(db, *id)?;
            }
            Ok(reports.into_iter().map(|(_, r)| r).collect())
        })
    }

    /// The newest run with coverage, of `git_ref` when given: its number.
    pub fn latest_coverage_run(
        &self,
        repository: &str,
        git_ref: Option<&str>,
        before_run: Option<u64>,
    ) -> Result<Option<u64>, StoreError> {
        self.db.read("find the latest coverage", |db| {
            db.conn()
                .query_row(
                    "SELECT r.number FROM coverage_reports c JOIN runs r ON r.id = c.run_id
                     WHERE r.repository = ?1 AND (?2 IS NULL OR r.git_ref = ?2)
                       AND (?3 IS NULL OR r.number < ?3)
                     ORDER BY r.number DESC LIMIT 1",
                    params![repository, git_ref, before_run.map(to_sql_u64)],
                    |row| get_u64(row, 0),
                )
                .optional()
                .map_err(|e| db.error("find the latest coverage", e))
        })
    }
}

fn coverage_files(db: &Database, report_id: i64) -> Result<Vec<CoverageFile>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT path, lines_covered, lines_total, branches_covered, branches_total, covered,
                    uncovered
             FROM coverage_files WHERE report_id = ?1 ORDER BY path",
        )
        .and_then(|mut s| {
            s.query_map([report_id], |row| {
                Ok(CoverageFile {
                    path: row.get(0)?,
                    totals: CoverageTotals {
                        lines_covered: get_u64(row, 1)?,
                        lines_total: get_u64(row, 2)?,
                        branches_covered: get_u64(row, 3)?,
                        branches_total: get_u64(row, 4)?,
                    },
                    covered: row.get(5)?,
                    uncovered: row.get(6)?,
                })
            })?
            .collect()
        })
        .map_err(|e| db.error("read coverage files", e))
}
