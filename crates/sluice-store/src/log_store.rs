//! Logs in the database: importing spool files as compressed chunks, and
//! reading chunks back as records.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rusqlite::{OptionalExtension, params};
use sluice_events::Timestamp;

use crate::database::Database;
use crate::error::StoreError;
use crate::log_record::{self, Record, ScanSummary};
use crate::spool::{self, SpoolTarget};
use crate::sql_values::to_sql_u64;

/// `logs.format`: zstd over log_record.rs records.
const FORMAT_ZSTD_RECORDS: i64 = 1;
/// zstd's default level: logs compress about tenfold at a speed far above
/// any step's output rate.
const ZSTD_LEVEL: i32 = 3;

/// What importing one spool file added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImportedChunk {
    pub(crate) lines: u64,
    pub(crate) last_at: Option<Timestamp>,
}

/// A spool file read and compressed, ready to store.
pub(crate) struct PreparedChunk {
    target: SpoolTarget,
    spool_name: String,
    summary: ScanSummary,
    compressed: Vec<u8>,
}

/// Stores a spool file as one chunk of `run_id`'s logs. Call inside a write
/// transaction, and delete the file only after it commits. `None` when
/// there was nothing new (see [`prepare_spool_file`] and [`store_chunk`]).
pub(crate) fn import_spool_file(
    db: &Database,
    run_id: i64,
    path: &Path,
) -> Result<Option<ImportedChunk>, StoreError> {
    match prepare_spool_file(path)? {
        Some(chunk) => store_chunk(db, run_id, &chunk),
        None => Ok(None),
    }
}

/// Reads the complete records of a spool file and compresses them. Touches
/// no database, so callers can do it before taking the write lock and keep
/// other writers' waits short. `None` for a file with nothing to import
/// (no complete header or no complete line).
pub(crate) fn prepare_spool_file(path: &Path) -> Result<Option<PreparedChunk>, StoreError> {
    let Some(mut spool) = spool::open_spool(path)? else {
        return Ok(None);
    };
    let spool_error = |action: &str| {
        let action = action.to_owned();
        move |source| StoreError::Spool {
            path: path.to_owned(),
            action,
            source,
        }
    };
    let summary =
        log_record::scan(&mut spool.records).map_err(spool_error("read the log lines"))?;
    if summary.lines == 0 {
        return Ok(None);
    }
    // Compress straight from the file, so a huge log is never held
    // uncompressed in memory.
    let mut file = File::open(path).map_err(spool_error("reopen the file"))?;
    file.seek(SeekFrom::Start(spool.body_offset))
        .map_err(spool_error("seek to the first line"))?;
    // The size is known: told it, zstd sizes its tables to the input
    // instead of allocating (and clearing) a megabyte for every step.
    let mut compress = || -> std::io::Result<Vec<u8>> {
        let mut encoder = zstd::stream::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
        encoder.set_pledged_src_size(Some(summary.valid_len))?;
        std::io::copy(&mut (&mut file).take(summary.valid_len), &mut encoder)?;
        encoder.finish()
    };
    let compressed = compress().map_err(spool_error("compress the log lines"))?;
    Ok(Some(PreparedChunk {
        target: spool.target,
        spool_name: spool.name,
        summary,
        compressed,
    }))
}

/// Inserts a prepared chunk, unless a chunk from the same spool file is
/// already stored (the process died between committing and deleting the
/// file), in which case it returns `None`. Call inside a write transaction.
pub(crate) fn store_chunk(
    db: &Database,
    run_id: i64,
    chunk: &PreparedChunk,
) -> Result<Option<ImportedChunk>, StoreError> {
    let already_stored = db
        .conn()
        .prepare_cached("SELECT 1 FROM logs WHERE run_id = ?1 AND spool_name = ?2")
        .and_then(|mut statement| {
            statement
                .query_row(params![run_id, chunk.spool_name], |_| Ok(()))
                .optional()
        })
        .map_err(|e| db.error("look up stored log files", e))?
        .is_some();
    if already_stored {
        return Ok(None);
    }
    let summary = &chunk.summary;
    db.conn()
        .prepare_cached(
            "INSERT INTO logs (run_id, job_key, step_index, spool_name, format, line_count,
                               byte_count, first_at, last_at, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                run_id,
                chunk.target.job,
                chunk.target.step.map(|step| step as i64),
                chunk.spool_name,
                FORMAT_ZSTD_RECORDS,
                to_sql_u64(summary.lines),
                to_sql_u64(summary.valid_len),
                summary.first_at.map(to_sql_u64),
                summary.last_at.map(to_sql_u64),
                chunk.compressed,
            ])
        })
        .map_err(|e| db.error(format!("store the logs of job {}", chunk.target.job), e))?;
    Ok(Some(ImportedChunk {
        lines: summary.lines,
        last_at: summary.last_at,
    }))
}

/// The decoded lines of one chunk.
pub(crate) struct Chunk {
    /// The spool file it was imported from (unique within the run).
    pub(crate) spool_name: String,
    pub(crate) job: String,
    pub(crate) step: Option<usize>,
    pub(crate) records: Vec<Record>,
}

/// Reads the chunks of `run_id` for which `wanted(job, step)` holds, in the
/// order they were stored. Only wanted chunks are decompressed.
pub(crate) fn read_chunks(
    db: &Database,
    run_id: i64,
    wanted: impl Fn(&str, Option<usize>) -> bool,
) -> Result<Vec<Chunk>, StoreError> {
    read_chunks_where(db, run_id, 0, wanted)
}

/// Every chunk of `run_id` stored after chunk id `after`.
pub(crate) fn read_chunks_after(
    db: &Database,
    run_id: i64,
    after: i64,
) -> Result<Vec<Chunk>, StoreError> {
    read_chunks_where(db, run_id, after, |_, _| true)
}

fn read_chunks_where(
    db: &Database,
    run_id: i64,
    after: i64,
    wanted: impl Fn(&str, Option<usize>) -> bool,
) -> Result<Vec<Chunk>, StoreError> {
    let corrupt = |job: &str, reason: String| StoreError::CorruptLog {
        path: db.path().to_owned(),
        run_id,
        job: job.to_owned(),
        reason,
    };
    let mut statement = db
        .conn()
        .prepare_cached(
            "SELECT job_key, step_index, format, data, spool_name FROM logs
             WHERE run_id = ?1 AND id > ?2 ORDER BY id",
        )
        .map_err(|e| db.error("read logs", e))?;
    let mut rows = statement
        .query(rusqlite::params![run_id, after])
        .map_err(|e| db.error("read logs", e))?;
    let mut chunks = Vec::new();
    while let Some(row) = rows.next().map_err(|e| db.error("read logs", e))? {
        let read = || -> rusqlite::Result<(String, Option<i64>, i64)> {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        };
        let (job, step, format) = read().map_err(|e| db.error("read logs", e))?;
        let step = step.map(|step| step as usize);
        if !wanted(&job, step) {
            continue;
        }
        if format != FORMAT_ZSTD_RECORDS {
            return Err(corrupt(&job, format!("unknown log format {format}")));
        }
        let data: Vec<u8> = row.get(3).map_err(|e| db.error("read logs", e))?;
        let bytes = zstd::stream::decode_all(&data[..])
            .map_err(|error| corrupt(&job, format!("cannot decompress: {error}")))?;
        let records = log_record::decode_all(&bytes).map_err(|reason| corrupt(&job, reason))?;
        let spool_name: String = row.get(4).map_err(|e| db.error("read logs", e))?;
        chunks.push(Chunk {
            spool_name,
            job,
            step,
            records,
        });
    }
    Ok(chunks)
}

/// Every (job, step) of `run_id` that has stored lines.
pub(crate) fn logged_targets(
    db: &Database,
    run_id: i64,
) -> Result<Vec<(String, Option<usize>)>, StoreError> {
    let mut statement = db
        .conn()
        .prepare_cached("SELECT DISTINCT job_key, step_index FROM logs WHERE run_id = ?1")
        .map_err(|e| db.error("list logged steps", e))?;
    let rows = statement
        .query_map([run_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?.map(|step| step as usize),
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| db.error("list logged steps", e))?;
    Ok(rows)
}
