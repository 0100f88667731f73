//! Reading a run's artifacts back, for `sluice artifacts ls` and `get`.

use crate::error::StoreError;
use crate::history::History;
use crate::run_queries::find_run_id;
use crate::sql_values::get_u64;

/// One artifact of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ArtifactRecord {
    pub name: String,
    pub job: String,
    /// Where its files are in the cache.
    pub cache_kind: String,
    pub cache_id: String,
    pub files: u64,
    pub bytes: u64,
    /// Milliseconds since the epoch.
    pub created_at: u64,
    pub expires_at: u64,
}

impl History {
    /// The artifacts of run `number`, by name.
    pub fn artifacts(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<ArtifactRecord>, StoreError> {
        self.db.read("read artifacts", |db| {
            let run_id = find_run_id(db, repository, number)?;
            let fail = |e| db.error("read artifacts", e);
            let mut statement = db
                .conn()
                .prepare_cached(
                    "SELECT name, job_key, cache_kind, cache_id, files, bytes, created_at, expires_at
                     FROM artifacts WHERE run_id = ?1 ORDER BY name",
                )
                .map_err(fail)?;
            let rows = statement
                .query_map([run_id], |row| {
                    Ok(ArtifactRecord {
                        name: row.get(0)?,
                        job: row.get(1)?,
                        cache_kind: row.get(2)?,
                        cache_id: row.get(3)?,
                        files: get_u64(row, 4)?,
                        bytes: get_u64(row, 5)?,
                        created_at: get_u64(row, 6)?,
                        expires_at: get_u64(row, 7)?,
                    })
                })
                .map_err(fail)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(fail)
        })
    }
}
