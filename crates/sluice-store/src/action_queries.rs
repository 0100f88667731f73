//! Reading back which commit each remote action of a run ran at (part of
//! a run's detail, for `sluice show`).

use crate::database::Database;
use crate::error::StoreError;

/// A remote action or reusable workflow a run used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionRecord {
    /// As written (`owner/repo[/path]@ref`).
    pub uses: String,
    pub commit: String,
    /// `fetched`, `cached` or `offline`.
    pub origin: String,
    /// The jobs that used it.
    pub jobs: Vec<String>,
}

/// The remote actions of the run with id `run_id`, each (reference and
/// commit) once, in the order first used.
pub(crate) fn read_actions(db: &Database, run_id: i64) -> Result<Vec<ActionRecord>, StoreError> {
    let fail = |e| db.error("read the run's actions", e);
    let mut statement = db
        .conn()
        .prepare_cached(
            "SELECT uses, commit_sha, origin, job_key FROM run_actions
             WHERE run_id = ?1 ORDER BY id",
        )
        .map_err(fail)?;
    let rows = statement
        .query_map([run_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .map_err(fail)?;
    let mut actions: Vec<ActionRecord> = Vec::new();
    for row in rows {
        let (uses, commit, origin, job) = row.map_err(fail)?;
        match actions
            .iter_mut()
            .find(|a| a.uses == uses && a.commit == commit)
        {
            Some(known) if known.jobs.contains(&job) => {}
            Some(known) => known.jobs.push(job),
            None => actions.push(ActionRecord {
                uses,
                commit,
                origin,
                jobs: vec![job],
            }),
        }
    }
    Ok(actions)
}
