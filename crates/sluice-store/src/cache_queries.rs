//! Reading cache events back: totals for `sluice cache stats`, recent
//! lookups for `sluice cache why`.

use rusqlite::params;

use crate::error::StoreError;
use crate::history::History;
use crate::records::{CacheKindStats, CacheLookupRecord, CacheStats};
use crate::sql_values::{get_job_key, get_u64};

impl History {
    /// Totals over the runs of `repository` (all repositories when `None`)
    /// that started at or after `since` (ms since the epoch).
    pub fn cache_stats(
        &self,
        repository: Option<&str>,
        since: u64,
    ) -> Result<CacheStats, StoreError> {
        self.db.read("read cache statistics", |db| {
            let mut statement = db
                .conn()
                .prepare_cached(
                    "SELECT e.action, e.kind, e.result, e.bytes, COALESCE(e.new_bytes, 0),
                            e.duration_ms, COALESCE(e.saved_ms, 0)
                     FROM cache_events e JOIN runs r ON r.id = e.run_id
                     WHERE (?1 IS NULL OR r.repository = ?1) AND r.started_at >= ?2",
                )
                .map_err(|e| db.error("read cache statistics", e))?;
            let mut stats = CacheStats::default();
            let rows = statement
                .query_map(params![repository, since as i64], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        get_u64(row, 3)?,
                        get_u64(row, 4)?,
                        get_u64(row, 5)?,
                        get_u64(row, 6)?,
                    ))
                })
                .map_err(|e| db.error("read cache statistics", e))?;
            for row in rows {
                let (action, kind, result, bytes, new_bytes, duration, saved) =
                    row.map_err(|e| db.error("read cache statistics", e))?;
                if action == "save" {
                    stats.saves += 1;
                    stats.bytes_saved += new_bytes;
                    continue;
                }
                let position = match stats.by_kind.iter().position(|k| k.kind == kind) {
                    Some(p) => p,
                    None => {
                        stats.by_kind.push(CacheKindStats {
                            kind: kind.clone(),
                            ..CacheKindStats::default()
                        });
                        stats.by_kind.len() - 1
                    }
                };
                let per_kind = &mut stats.by_kind[position];
                stats.lookups += 1;
                per_kind.lookups += 1;
                stats.restore_ms += duration;
                stats.bytes_restored += bytes;
                match result.as_deref() {
                    Some("hit") => {
                        stats.hits += 1;
                        per_kind.hits += 1;
                        stats.time_saved_ms += saved.saturating_sub(duration);
                    }
                    Some("partial") => {
                        stats.partial_hits += 1;
                        per_kind.partial_hits += 1;
                    }
                    _ => stats.misses += 1,
                }
            }
            Ok(stats)
        })
    }

    /// The newest cache lookups of `repository`, at most `limit`.
    pub fn cache_lookups(
        &self,
        repository: &str,
        limit: usize,
    ) -> Result<Vec<CacheLookupRecord>, StoreError> {
        self.db.read("read cache lookups", |db| {
            let mut statement = db
                .conn()
                .prepare_cached(
                    "SELECT r.number, e.job_key, e.step_index, e.kind, e.cache_key, e.result, e.at
                     FROM cache_events e JOIN runs r ON r.id = e.run_id
                     WHERE r.repository = ?1 AND e.action = 'lookup'
                     ORDER BY e.id DESC LIMIT ?2",
                )
                .map_err(|e| db.error("read cache lookups", e))?;
            let rows = statement
                .query_map(params![repository, limit as i64], |row| {
                    Ok(CacheLookupRecord {
                        run: get_u64(row, 0)?,
                        job: get_job_key(row, 1)?,
                        step: get_u64(row, 2)? as usize,
                        kind: row.get(3)?,
                        key: row.get(4)?,
                        result: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
                        at: get_u64(row, 6)?,
                    })
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| db.error("read cache lookups", e))?;
            Ok(rows)
        })
    }
}
