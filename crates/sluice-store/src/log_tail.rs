//! Following a run's log as it is written, from any process: the lines
//! of finished steps come from the database, those of running steps from
//! their spool files, each line once, in the order the run emitted them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rusqlite::params;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::log_record::{self, Record};
use crate::log_store;
use crate::records::LogLine;
use crate::run_queries::find_run_id;
use crate::spool;
use crate::status::Status;

/// Where a reader of a run's log has got to. Start with the default.
#[derive(Debug, Clone, Default)]
pub struct TailCursor {
    /// The last stored chunk read.
    last_chunk: i64,
    /// Lines already handed out (by their sequence number): a step's lines
    /// are read from its spool file and again from its stored chunk.
    seen: HashSet<u64>,
    /// How far each spool file was read.
    spool_offsets: HashMap<String, u64>,
}

/// What is new in a run's log.
#[derive(Debug, Clone)]
pub struct Tail {
    pub lines: Vec<LogLine>,
    /// The run has finished (or will never start): nothing more will come.
    pub over: bool,
}

impl History {
    /// The lines of run `number` that `cursor` has not seen, advancing it.
    pub fn log_tail(
        &self,
        repository: &str,
        number: u64,
        cursor: &mut TailCursor,
    ) -> Result<Tail, StoreError> {
        let (run_id, status) = self.db.read("follow a run's log", |db| {
            let run_id = find_run_id(db, repository, number)?;
            Ok((run_id, run_status(db, run_id)?))
        })?;
        // Spool files first: one imported meanwhile is then in the database.
        let mut records = read_spooled(&self.spool_root(), run_id, cursor)?;
        let names = self.db.read("follow a run's log", |db| {
            records.extend(read_new_chunks(db, run_id, cursor)?);
            job_and_step_names(db, run_id)
        })?;
        records.retain(|(_, _, record)| cursor.seen.insert(record.seq));
        records.sort_by_key(|(_, _, record)| record.seq);
        let lines = records
            .into_iter()
            .map(|(job, step, record)| {
                let (job_name, step_name) = names
                    .get(&(job.clone(), step))
                    .cloned()
                    .unwrap_or_else(|| (job.clone(), None));
                LogLine {
                    job: sluice_events::JobKey::parse(&job)
                        .unwrap_or_else(|_| sluice_events::JobKey::new("unknown", None)),
                    job_name,
                    step,
                    step_name,
                    stream: record.stream,
                    at: record.at,
                    seq: record.seq,
                    text: record.text,
                }
            })
            .collect();
        Ok(Tail {
            lines,
            over: status.is_finished(),
        })
    }
}

type Located = (String, Option<usize>, Record);

/// Job and step names by (job key, step index).
type Names = BTreeMap<(String, Option<usize>), (String, Option<String>)>;

fn run_status(db: &Database, run_id: i64) -> Result<Status, StoreError> {
    db.conn()
        .query_row("SELECT status FROM runs WHERE id = ?1", [run_id], |row| {
            row.get(0)
        })
        .map_err(|e| db.error("read a run's status", e))
}

/// Complete records appended to the run's spool files since last read.
fn read_spooled(
    spool_root: &Path,
    run_id: i64,
    cursor: &mut TailCursor,
) -> Result<Vec<Located>, StoreError> {
    let mut found = Vec::new();
    for path in spool::list_spool_files(&spool::run_spool_dir(spool_root, run_id))? {
        // A file may be imported and removed at any moment: then its lines
        // are read from the database instead.
        let Ok(Some(spooled)) = spool::open_spool(&path) else {
            continue;
        };
        let start = *cursor
            .spool_offsets
            .get(&spooled.name)
            .unwrap_or(&spooled.body_offset);
        let Ok(bytes) = read_from(&path, start) else {
            continue;
        };
        let summary = log_record::scan(&mut &bytes[..]).map_err(|source| StoreError::Spool {
            path: path.clone(),
            action: "read the log lines".into(),
            source,
        })?;
        let valid = &bytes[..summary.valid_len as usize];
        let Ok(records) = log_record::decode_all(valid) else {
            continue;
        };
        cursor
            .spool_offsets
            .insert(spooled.name.clone(), start + summary.valid_len);
        let target = spooled.target;
        found.extend(
            records
                .into_iter()
                .map(|record| (target.job.clone(), target.step, record)),
        );
    }
    Ok(found)
}

fn read_from(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The records of chunks stored since the cursor's last one.
fn read_new_chunks(
    db: &Database,
    run_id: i64,
    cursor: &mut TailCursor,
) -> Result<Vec<Located>, StoreError> {
    let newest: i64 = db
        .conn()
        .query_row(
            "SELECT COALESCE(MAX(id), 0) FROM logs WHERE run_id = ?1",
            [run_id],
            |row| row.get(0),
        )
        .map_err(|e| db.error("read logs", e))?;
    if newest <= cursor.last_chunk {
        return Ok(Vec::new());
    }
    let chunks = log_store::read_chunks_after(db, run_id, cursor.last_chunk)?;
    cursor.last_chunk = newest;
    Ok(chunks
        .into_iter()
        .flat_map(|chunk| {
            let (job, step) = (chunk.job, chunk.step);
            chunk
                .records
                .into_iter()
                .map(move |record| (job.clone(), step, record))
        })
        .collect())
}

/// Display names of the run's jobs and steps.
fn job_and_step_names(db: &Database, run_id: i64) -> Result<Names, StoreError> {
    let mut names = BTreeMap::new();
    let mut jobs = db
        .conn()
        .prepare_cached("SELECT job_key, name FROM jobs WHERE run_id = ?1")
        .map_err(|e| db.error("read job names", e))?;
    let job_rows: Vec<(String, String)> = jobs
        .query_map(params![run_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| db.error("read job names", e))?;
    let job_names: HashMap<String, String> = job_rows.into_iter().collect();
    for (key, name) in &job_names {
        names.insert((key.clone(), None), (name.clone(), None));
    }
    let mut steps = db
        .conn()
        .prepare_cached("SELECT job_key, step_index, name FROM steps WHERE run_id = ?1")
        .map_err(|e| db.error("read step names", e))?;
    let step_rows: Vec<(String, i64, String)> = steps
        .query_map(params![run_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| db.error("read step names", e))?;
    for (key, index, name) in step_rows {
        let job_name = job_names.get(&key).cloned().unwrap_or_else(|| key.clone());
        names.insert((key, Some(index as usize)), (job_name, Some(name)));
    }
    Ok(names)
}
