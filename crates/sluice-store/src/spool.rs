//! Spool files: where log lines go while their step runs.
//!
//! A line costs one buffered append and no SQL. Each (job, step) of a run,
//! and each job's own lines, get a file `state_dir/spool/<run id>/<n>.spool`
//! that starts with a header naming the job and step, followed by log
//! records (log_record.rs). When the step ends the file is compressed into
//! the database and deleted; if the process dies first, the files are what
//! recovery imports.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sluice_events::{Stream, Timestamp};

use crate::error::StoreError;
use crate::log_record;

const MAGIC: &[u8; 8] = b"SLSPOOL1";
/// The step field's value for job-level lines.
const NO_STEP: u64 = u64::MAX;
const EXTENSION: &str = "spool";

/// The directory holding one run's spool files.
pub(crate) fn run_spool_dir(spool_root: &Path, run_id: i64) -> PathBuf {
    spool_root.join(run_id.to_string())
}

/// Which lines a spool file holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SpoolTarget {
    pub(crate) job: String,
    pub(crate) step: Option<usize>,
}

/// Writes the spool files of one run.
pub(crate) struct SpoolWriter {
    dir: PathBuf,
    next_file: u64,
    /// Open files by job, then step. Two levels so that appending looks up
    /// a borrowed job key without allocating.
    open: HashMap<String, HashMap<Option<usize>, OpenSpool>>,
}

struct OpenSpool {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl SpoolWriter {
    pub(crate) fn new(dir: PathBuf) -> Self {
        SpoolWriter {
            dir,
            next_file: 0,
            open: HashMap::new(),
        }
    }

    pub(crate) fn append(
        &mut self,
        job: &str,
        step: Option<usize>,
        seq: u64,
        at: Timestamp,
        stream: Stream,
        text: &str,
    ) -> Result<(), StoreError> {
        let is_open = self
            .open
            .get(job)
            .is_some_and(|steps| steps.contains_key(&step));
        if !is_open {
            let target = SpoolTarget {
                job: job.to_owned(),
                step,
            };
            let spool = self.create(&target)?;
            self.open.entry(target.job).or_default().insert(step, spool);
        }
        let Some(spool) = self
            .open
            .get_mut(job)
            .and_then(|steps| steps.get_mut(&step))
        else {
            return Ok(());
        };
        // Flushing per line hands each line to the kernel: it then survives
        // a kill -9 of this process (not a power cut, which no one expects a
        // log to survive). The buffer still makes each line one write call.
        log_record::write_record(&mut spool.writer, seq, at, stream, text)
            .and_then(|()| spool.writer.flush())
            .map_err(|source| StoreError::Spool {
                path: spool.path.clone(),
                action: "append a log line".to_owned(),
                source,
            })
    }

    fn create(&mut self, target: &SpoolTarget) -> Result<OpenSpool, StoreError> {
        let spool_error = |path: &Path, action: &str| {
            let path = path.to_owned();
            let action = action.to_owned();
            move |source| StoreError::Spool {
                path,
                action,
                source,
            }
        };
        fs::create_dir_all(&self.dir).map_err(spool_error(&self.dir, "create the directory"))?;
        // Numbered, not named after the job, so that any job key makes a
        // valid file name, and a second file for the same step (lines that
        // arrive after it was stored) never collides with the first.
        let (path, file) = loop {
            let path = self.dir.join(format!("{}.{EXTENSION}", self.next_file));
            self.next_file += 1;
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                // Only a leftover from something else; never append to it.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(error) => return Err(spool_error(&path, "create the file")(error)),
            }
        };
        let mut writer = BufWriter::with_capacity(64 * 1024, file);
        write_header(&mut writer, target).map_err(spool_error(&path, "write the header"))?;
        Ok(OpenSpool { path, writer })
    }

    /// Flushes and closes the file of (`job`, `step`), returning its path
    /// for import.
    pub(crate) fn close(
        &mut self,
        job: &str,
        step: Option<usize>,
    ) -> Result<Option<PathBuf>, StoreError> {
        let Some(steps) = self.open.get_mut(job) else {
            return Ok(None);
        };
        let spool = steps.remove(&step);
        if steps.is_empty() {
            self.open.remove(job);
        }
        spool.map(finish).transpose()
    }

    /// Closes every file of `job` (its steps' and its own).
    pub(crate) fn close_job(&mut self, job: &str) -> Result<Vec<PathBuf>, StoreError> {
        let spools = self.open.remove(job).unwrap_or_default();
        finish_all(spools.into_values())
    }

    pub(crate) fn close_all(&mut self) -> Result<Vec<PathBuf>, StoreError> {
        let spools = std::mem::take(&mut self.open);
        finish_all(spools.into_values().flat_map(HashMap::into_values))
    }
}

/// Closes every file, even after one fails, reporting the first failure.
fn finish_all(spools: impl Iterator<Item = OpenSpool>) -> Result<Vec<PathBuf>, StoreError> {
    let mut paths = Vec::new();
    let mut first_error = None;
    for spool in spools {
        match finish(spool) {
            Ok(path) => paths.push(path),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        None => Ok(paths),
        Some(error) => Err(error),
    }
}

fn finish(spool: OpenSpool) -> Result<PathBuf, StoreError> {
    let OpenSpool { path, writer } = spool;
    writer.into_inner().map_err(|error| StoreError::Spool {
        path: path.clone(),
        action: "flush the file".to_owned(),
        source: error.into_error(),
    })?;
    Ok(path)
}

fn write_header(out: &mut impl Write, target: &SpoolTarget) -> io::Result<()> {
    out.write_all(MAGIC)?;
    out.write_all(&(target.job.len() as u32).to_le_bytes())?;
    out.write_all(target.job.as_bytes())?;
    let step = target.step.map_or(NO_STEP, |step| step as u64);
    out.write_all(&step.to_le_bytes())
}

/// An existing spool file, opened for import and positioned at its first
/// record.
pub(crate) struct SpoolReader {
    pub(crate) target: SpoolTarget,
    /// Unique within the run: the key that makes imports idempotent.
    pub(crate) name: String,
    /// Where the first record starts in the file.
    pub(crate) body_offset: u64,
    pub(crate) records: BufReader<File>,
}

/// Opens a spool file; `Ok(None)` if its header is incomplete or not a
/// spool header (the process died while creating it, before any line was
/// written, or the file is not ours): there is nothing in it to import.
pub(crate) fn open_spool(path: &Path) -> Result<Option<SpoolReader>, StoreError> {
    let spool_error = |source| StoreError::Spool {
        path: path.to_owned(),
        action: "read the file".to_owned(),
        source,
    };
    let file = File::open(path).map_err(spool_error)?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let Some(target) = read_header(&mut reader).map_err(spool_error)? else {
        return Ok(None);
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body_offset = (MAGIC.len() + 4 + target.job.len() + 8) as u64;
    Ok(Some(SpoolReader {
        target,
        name,
        body_offset,
        records: reader,
    }))
}

fn read_header(reader: &mut impl Read) -> io::Result<Option<SpoolTarget>> {
    let mut magic = [0u8; 8];
    let mut job_len = [0u8; 4];
    if !read_exact_or_eof(reader, &mut magic)? || &magic != MAGIC {
        return Ok(None);
    }
    if !read_exact_or_eof(reader, &mut job_len)? {
        return Ok(None);
    }
    let mut job = vec![0u8; u32::from_le_bytes(job_len).min(1 << 20) as usize];
    let mut step = [0u8; 8];
    if !read_exact_or_eof(reader, &mut job)? || !read_exact_or_eof(reader, &mut step)? {
        return Ok(None);
    }
    let Ok(job) = String::from_utf8(job) else {
        return Ok(None);
    };
    let step = match u64::from_le_bytes(step) {
        NO_STEP => None,
        step => Some(step as usize),
    };
    Ok(Some(SpoolTarget { job, step }))
}

fn read_exact_or_eof(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<bool> {
    match reader.read_exact(buffer) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(error) => Err(error),
    }
}

/// The spool files in a run's directory, oldest first (so chunks import in
/// the order they were written). Missing directory: none.
pub(crate) fn list_spool_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StoreError::Spool {
                path: dir.to_owned(),
                action: "list the directory".to_owned(),
                source,
            });
        }
    };
    let mut files: Vec<(u64, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == EXTENSION) {
            let number = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .and_then(|stem| stem.parse().ok())
                .unwrap_or(u64::MAX);
            files.push((number, path));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, path)| path).collect())
}

/// The run ids that have a spool directory.
pub(crate) fn list_spooled_runs(spool_root: &Path) -> Result<Vec<i64>, StoreError> {
    let entries = match fs::read_dir(spool_root) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StoreError::Spool {
                path: spool_root.to_owned(),
                action: "list the directory".to_owned(),
                source,
            });
        }
    };
    Ok(entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect())
}

/// Deletes files that were imported. Failure is tolerable: imports are
/// idempotent, so a leftover file is imported as a no-op and removed by the
/// next recovery.
pub(crate) fn remove_imported(paths: &[PathBuf]) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

/// Removes a run's spool directory once nothing in it is needed.
pub(crate) fn remove_run_dir(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_with_its_target() {
        let temp = tempfile::tempdir().unwrap();
        let mut writer = SpoolWriter::new(temp.path().join("7"));
        let step = SpoolTarget {
            job: "test[1]".to_owned(),
            step: Some(2),
        };
        let job = SpoolTarget {
            job: "test[1]".to_owned(),
            step: None,
        };
        writer
            .append("test[1]", Some(2), 0, 10, Stream::Stdout, "a")
            .unwrap();
        writer
            .append("test[1]", None, 1, 11, Stream::System, "b")
            .unwrap();
        writer
            .append("test[1]", Some(2), 2, 12, Stream::Stderr, "c")
            .unwrap();
        let step_path = writer.close("test[1]", Some(2)).unwrap().unwrap();
        let rest = writer.close_all().unwrap();
        assert_eq!(rest.len(), 1);

        let listed = list_spool_files(&temp.path().join("7")).unwrap();
        assert_eq!(listed, vec![step_path.clone(), rest[0].clone()]);
        let mut spool = open_spool(&step_path).unwrap().unwrap();
        assert_eq!(spool.target, step);
        assert_eq!(spool.name, "0.spool");
        let mut body = Vec::new();
        spool.records.read_to_end(&mut body).unwrap();
        let texts: Vec<String> = log_record::decode_all(&body)
            .unwrap()
            .into_iter()
            .map(|record| record.text)
            .collect();
        assert_eq!(texts, ["a", "c"]);
        assert_eq!(open_spool(&rest[0]).unwrap().unwrap().target, job);
        assert_eq!(list_spooled_runs(temp.path()).unwrap(), vec![7]);
    }

    #[test]
    fn a_file_with_a_torn_header_has_nothing_to_import() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("0.spool");
        fs::write(&path, b"SLSPOOL1\x05\x00").unwrap();
        assert!(open_spool(&path).unwrap().is_none());
        fs::write(&path, b"not a spool file at all").unwrap();
        assert!(open_spool(&path).unwrap().is_none());
    }
}
