//! Figures for a metrics endpoint: runs by outcome, how long jobs took
//! and runs waited, how full the queue is, how often the cache served.

use rusqlite::params;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;

/// A cumulative histogram: for each upper bound (seconds), how many
/// observations were at most that.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineMetrics {
    /// Finished or running runs: (workflow, status, count).
    pub runs: Vec<(String, String, u64)>,
    pub job_seconds: Histogram,
    /// From queued to started, for runs that started.
    pub queue_seconds: Histogram,
    pub queued_runs: u64,
    pub running_jobs: u64,
    pub cache_lookups: u64,
    pub cache_hits: u64,
}

impl History {
    /// The metrics of `repository`'s whole history, with histograms over
    /// `bounds` (seconds, ascending).
    pub fn metrics(&self, repository: &str, bounds: &[f64]) -> Result<PipelineMetrics, StoreError> {
        self.db.read("read metrics", |db| {
            let (cache_lookups, cache_hits) = cache_figures(db, repository)?;
            Ok(PipelineMetrics {
                runs: runs_by_status(db, repository)?,
                job_seconds: histogram(
                    db,
                    "SELECT j.duration_ms FROM jobs j JOIN runs r ON r.id = j.run_id
                     WHERE r.repository = ?1 AND j.duration_ms IS NOT NULL
                       AND j.status IN ('success', 'failure', 'cancelled')",
                    repository,
                    bounds,
                )?,
                queue_seconds: histogram(
                    db,
                    "SELECT MAX(started_at - queued_at, 0) FROM runs
                     WHERE repository = ?1 AND started_at IS NOT NULL",
                    repository,
                    bounds,
                )?,
                queued_runs: count(
                    db,
                    "SELECT COUNT(*) FROM runs WHERE repository = ?1 AND status = 'queued'",
                    repository,
                )?,
                running_jobs: count(
                    db,
                    "SELECT COUNT(*) FROM jobs j JOIN runs r ON r.id = j.run_id
                     WHERE r.repository = ?1 AND r.status = 'running' AND j.status = 'running'",
                    repository,
                )?,
                cache_lookups,
                cache_hits,
            })
        })
    }
}

fn runs_by_status(
    db: &Database,
    repository: &str,
) -> Result<Vec<(String, String, u64)>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT workflow, status, COUNT(*) FROM runs WHERE repository = ?1
             GROUP BY workflow, status ORDER BY workflow, status",
        )
        .and_then(|mut statement| {
            statement
                .query_map([repository], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)? as u64))
                })?
                .collect()
        })
        .map_err(|e| db.error("count runs", e))
}

fn count(db: &Database, sql: &str, repository: &str) -> Result<u64, StoreError> {
    db.conn()
        .query_row(sql, [repository], |row| row.get::<_, i64>(0))
        .map(|n| n as u64)
        .map_err(|e| db.error("count for metrics", e))
}

/// Durations (ms) selected by `sql` into a histogram over `bounds`.
fn histogram(
    db: &Database,
    sql: &str,
    repository: &str,
    bounds: &[f64],
) -> Result<Histogram, StoreError> {
    let durations: Vec<i64> = db
        .conn()
        .prepare_cached(sql)
        .and_then(|mut statement| {
            statement
                .query_map([repository], |row| row.get(0))?
                .collect()
        })
        .map_err(|e| db.error("read durations for metrics", e))?;
    let seconds: Vec<f64> = durations.iter().map(|ms| *ms as f64 / 1000.0).collect();
    Ok(Histogram {
        buckets: bounds
            .iter()
            .map(|bound| {
                (
                    *bound,
                    seconds.iter().filter(|s| *s <= bound).count() as u64,
                )
            })
            .collect(),
        count: seconds.len() as u64,
        sum_seconds: seconds.iter().sum(),
    })
}

fn cache_figures(db: &Database, repository: &str) -> Result<(u64, u64), StoreError> {
    db.conn()
        .query_row(
            "SELECT COUNT(*), COALESCE(SUM(c.result = 'hit'), 0) FROM cache_events c
             JOIN runs r ON r.id = c.run_id
             WHERE r.repository = ?1 AND c.action = 'lookup'",
            params![repository],
            |row| Ok((row.get::<_, i64>(0)? as u64, row.get::<_, i64>(1)? as u64)),
        )
        .map_err(|e| db.error("read cache figures", e))
}
