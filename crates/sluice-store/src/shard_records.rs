//! What sharding needs from the history: recent durations per test file
//! and class, and the run-scoped queues that hand items to shards one
//! batch at a time.

use rusqlite::params;
use sluice_events::Timestamp;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::sql_values::{get_u64, to_sql_u64};

/// The time a run's tests of one file and class took (first attempts only:
/// retries would count a test twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestTiming {
    pub run: u64,
    /// `''` when the report names no file.
    pub file: String,
    pub classname: String,
    pub duration_ms: u64,
}

/// Queued items older than this are dropped when a new queue is made.
const QUEUE_KEPT_MS: u64 = 7 * 24 * 3600 * 1000;

impl History {
    /// Test time per run, file and class over the newest `runs` finished
    /// runs that recorded tests, newest run first. Inside run `during`, only
    /// runs that finished before it started count: its shards, asking at
    /// different times, must all see the same history.
    pub fn recent_test_timings(
        &self,
        repository: &str,
        runs: usize,
        during: Option<u64>,
    ) -> Result<Vec<TestTiming>, StoreError> {
        self.db.read("read recent test timings", |db| {
            db.conn()
                .prepare(
                    "SELECT r.number, t.file, t.classname, SUM(x.duration_ms)
                     FROM test_results x JOIN tests t ON t.id = x.test_id JOIN runs r ON r.id = x.run_id
                     WHERE x.attempt = 1 AND x.run_id IN (
                         SELECT DISTINCT x2.run_id FROM test_results x2 JOIN runs r2 ON r2.id = x2.run_id
                         WHERE r2.repository = ?1 AND r2.finished_at IS NOT NULL
                           AND (?3 IS NULL OR r2.finished_at <= (
                               SELECT COALESCE(c.started_at, c.queued_at) FROM runs c
                               WHERE c.repository = ?1 AND c.number = ?3))
                         ORDER BY x2.run_id DESC LIMIT ?2)
                     GROUP BY r.number, t.file, t.classname
                     ORDER BY r.number DESC, t.file, t.classname",
                )
                .and_then(|mut s| {
                    s.query_map(params![repository, runs as i64, during.map(to_sql_u64)], |row| {
                        Ok(TestTiming {
                            run: get_u64(row, 0)?,
                            file: row.get(1)?,
                            classname: row.get(2)?,
                            duration_ms: get_u64(row, 3)?,
                        })
                    })?
                    .collect()
                })
                .map_err(|e| db.error("read recent test timings", e))
        })
    }

    /// Makes queue `queue` of `items` (item, predicted ms; longest first)
    /// unless it exists: the first shard to ask makes it, the others find
    /// it.
    pub fn shard_queue_init(
        &self,
        queue: &str,
        items: &[(String, u64)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.db.write("make a shard queue", |db| {
            let fail = |e| db.error("make a shard queue", e);
            db.execute(
                "DELETE FROM shard_queue WHERE created_at < ?1",
                params![to_sql_u64(now.saturating_sub(QUEUE_KEPT_MS))],
            )
            .map_err(fail)?;
            let mut insert = db
                .conn()
                .prepare_cached(
                    "INSERT OR IGNORE INTO shard_queue (queue, item, position, predicted_ms, state,
                         created_at)
                     VALUES (?1, ?2, ?3, ?4, 'waiting', ?5)",
                )
                .map_err(fail)?;
            for (position, (item, predicted)) in items.iter().enumerate() {
                insert
                    .execute(params![
                        queue,
                        item,
                        position as i64,
                        to_sql_u64(*predicted),
                        to_sql_u64(now)
                    ])
                    .map_err(fail)?;
            }
            Ok(())
        })
    }

    /// The next batch for `holder`: what it took before is done; items
    /// taken by holders `alive` says are gone go back first; then the
    /// longest waiting items, about a `1/(2 × shards)` share of the time
    /// left (one item at least). Empty when nothing is left to take.
    pub fn shard_queue_next(
        &self,
        queue: &str,
        holder: &str,
        shards: usize,
        alive: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        self.db.write("take items from a shard queue", |db| {
            let fail = |e| db.error("take items from a shard queue", e);
            db.execute(
                "UPDATE shard_queue SET state = 'done' WHERE queue = ?1 AND holder = ?2 AND state = 'taken'",
                params![queue, holder],
            )
            .map_err(fail)?;
            return_abandoned(db, queue, alive)?;
            let waiting: Vec<(String, u64)> = db
                .conn()
                .prepare_cached(
                    "SELECT item, predicted_ms FROM shard_queue
                     WHERE queue = ?1 AND state = 'waiting' ORDER BY position",
                )
                .and_then(|mut s| s.query_map([queue], |row| Ok((row.get(0)?, get_u64(row, 1)?)))?.collect())
                .map_err(fail)?;
            let batch = batch_of(&waiting, shards);
            let mut take = db
                .conn()
                .prepare_cached(
                    "UPDATE shard_queue SET state = 'taken', holder = ?3 WHERE queue = ?1 AND item = ?2",
                )
                .map_err(fail)?;
            for item in &batch {
                take.execute(params![queue, item, holder]).map_err(fail)?;
            }
            Ok(batch)
        })
    }
}

/// Taken items whose holder is gone go back to waiting.
fn return_abandoned(
    db: &Database,
    queue: &str,
    alive: &dyn Fn(&str) -> bool,
) -> Result<(), StoreError> {
    let fail = |e| db.error("return a dead shard's items", e);
    let holders: Vec<String> = db
        .conn()
        .prepare_cached(
            "SELECT DISTINCT holder FROM shard_queue WHERE queue = ?1 AND state = 'taken'",
        )
        .and_then(|mut s| s.query_map([queue], |row| row.get(0))?.collect())
        .map_err(fail)?;
    for holder in holders.iter().filter(|h| !alive(h)) {
        db.execute(
            "UPDATE shard_queue SET state = 'waiting', holder = NULL
             WHERE queue = ?1 AND holder = ?2 AND state = 'taken'",
            params![queue, holder],
        )
        .map_err(fail)?;
    }
    Ok(())
}

/// The longest waiting items adding up to about a `1/(2 × shards)` share
/// of the waiting time: batches shrink as the queue empties, so shards
/// finish close together.
fn batch_of(waiting: &[(String, u64)], shards: usize) -> Vec<String> {
    let left: u64 = waiting.iter().map(|(_, ms)| *ms).sum();
    let share = left / (shards.max(1) as u64).saturating_mul(2);
    let mut batch = Vec::new();
    let mut taken = 0u64;
    for (item, ms) in waiting {
        if !batch.is_empty() && taken + ms > share {
            break;
        }
        batch.push(item.clone());
        taken += ms;
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_take_a_share_of_what_is_left_and_at_least_one_item() {
        let waiting: Vec<(String, u64)> =
            [("a", 900), ("b", 100), ("c", 100), ("d", 100), ("e", 100)]
                .iter()
                .map(|(i, m)| (i.to_string(), *m))
                .collect();
        assert_eq!(batch_of(&waiting, 2), vec!["a"]);
        assert_eq!(batch_of(&waiting[1..], 1), vec!["b", "c"]);
        assert!(batch_of(&[], 3).is_empty());
    }
}
