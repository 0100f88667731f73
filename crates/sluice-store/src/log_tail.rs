//! Following a run's log as it is written, from any process: the lines
//! of finished steps come from the database, those of running steps from
//! their spool files, each line once, in the order the run emitted them.

use std::collections::{BTreeMap, HashMap};
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
///
/// A step's lines are read from its spool file while it runs and again
/// from its stored chunk once it ends; within one file (and its chunk)
/// lines come in emission order, so the highest line number read from
/// each file is all it takes to hand each line out once. The cursor's
/// size grows with the number of steps, not of lines.
#[derive(Debug, Clone, Default)]
pub struct TailCursor {
    /// The last stored chunk read.
    last_chunk: i64,
    /// By spool file: how far it was read, and its last line's number.
    files: HashMap<String, FileProgress>,
}

#[derive(Debug, Clone, Copy, Default)]
struct FileProgress {
    offset: u64,
    last_seq: Option<u64>,
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
        let progress = cursor
            .files
            .get(&spooled.name)
            .copied()
            .unwrap_or(FileProgress {
                offset: spooled.body_offset,
                last_seq: None,
            });
        let start = progress.offset.max(spooled.body_offset);
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
        cursor.files.insert(
            spooled.name.clone(),
            FileProgress {
                offset: start + summary.valid_len,
                last_seq: records.last().map(|r| r.seq).or(progress.last_seq),
            },
        );
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
    let mut found = Vec::new();
    for chunk in chunks {
        // Lines already read from the chunk's spool file are not read again.
        let read_up_to = cursor.files.get(&chunk.spool_name).and_then(|f| f.last_seq);
        let (job, step) = (chunk.job, chunk.step);
        found.extend(
            chunk
                .records
                .into_iter()
                .filter(|record| read_up_to.is_none_or(|last| record.seq > last))
                .map(|record| (job.clone(), step, record)),
        );
    }
    Ok(found)
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
