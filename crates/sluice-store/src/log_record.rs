//! The byte format of log lines, shared by spool files and stored chunks
//! (which are this format compressed with zstd).
//!
//! Each record is `seq: u64 LE | at: u64 LE | stream: u8 | len: u32 LE |
//! len bytes of UTF-8`. Length-prefixing, rather than newline-separating,
//! keeps any line text (embedded newlines, NULs, CRs) exactly as emitted;
//! `seq` numbers lines in the order the run emitted them, across all jobs
//! and steps, so chunks merge back into one exact order.

use std::io::{self, Read, Write};

use sluice_events::{Stream, Timestamp};

pub(crate) const HEADER_LEN: usize = 8 + 8 + 1 + 4;

/// A decoded log line, before the store attaches job and step labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) seq: u64,
    pub(crate) at: Timestamp,
    pub(crate) stream: Stream,
    pub(crate) text: String,
}

pub(crate) fn write_record(
    out: &mut impl Write,
    seq: u64,
    at: Timestamp,
    stream: Stream,
    text: &str,
) -> io::Result<()> {
    // A single line over 4 GiB is not a log line; keep the prefix so the
    // record stays well formed.
    let text = truncate_to_char_boundary(text, u32::MAX as usize);
    let mut header = [0u8; HEADER_LEN];
    header[0..8].copy_from_slice(&seq.to_le_bytes());
    header[8..16].copy_from_slice(&at.to_le_bytes());
    header[16] = stream_code(stream);
    header[17..21].copy_from_slice(&(text.len() as u32).to_le_bytes());
    out.write_all(&header)?;
    out.write_all(text.as_bytes())
}

fn truncate_to_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn stream_code(stream: Stream) -> u8 {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
        Stream::System => 2,
        Stream::Service => 3,
    }
}

fn stream_from_code(code: u8) -> Option<Stream> {
    Some(match code {
        0 => Stream::Stdout,
        1 => Stream::Stderr,
        2 => Stream::System,
        3 => Stream::Service,
        _ => return None,
    })
}

/// Decodes a complete chunk. Any defect is an error: stored chunks were
/// validated when imported, so a defect means damage.
pub(crate) fn decode_all(mut bytes: &[u8]) -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < HEADER_LEN {
            return Err(format!("{} stray bytes after the last line", bytes.len()));
        }
        let (header, rest) = bytes.split_at(HEADER_LEN);
        let fields = parse_header(header);
        let stream = stream_from_code(fields.stream_code)
            .ok_or_else(|| format!("unknown stream code {}", fields.stream_code))?;
        if rest.len() < fields.len {
            return Err(format!("line {} is cut short", fields.seq));
        }
        let (text, rest) = rest.split_at(fields.len);
        let text = String::from_utf8(text.to_vec())
            .map_err(|_| format!("line {} is not valid UTF-8", fields.seq))?;
        records.push(Record {
            seq: fields.seq,
            at: fields.at,
            stream,
            text,
        });
        bytes = rest;
    }
    Ok(records)
}

/// What a scan of a possibly torn stream of records found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScanSummary {
    /// Bytes up to the end of the last complete record.
    pub(crate) valid_len: u64,
    pub(crate) lines: u64,
    pub(crate) first_at: Option<Timestamp>,
    pub(crate) last_at: Option<Timestamp>,
}

/// Walks records without keeping them, stopping at the first incomplete or
/// malformed one: a process killed mid-write leaves at most one torn record
/// at the end of a spool file, and everything before it is good.
pub(crate) fn scan(reader: &mut impl Read) -> io::Result<ScanSummary> {
    let mut summary = ScanSummary::default();
    let mut header = [0u8; HEADER_LEN];
    loop {
        if !read_full(reader, &mut header)? {
            return Ok(summary);
        }
        let fields = parse_header(&header);
        if stream_from_code(fields.stream_code).is_none() {
            return Ok(summary);
        }
        let skipped = io::copy(
            &mut reader.by_ref().take(fields.len as u64),
            &mut io::sink(),
        )?;
        if skipped < fields.len as u64 {
            return Ok(summary);
        }
        summary.valid_len += (HEADER_LEN + fields.len) as u64;
        summary.lines += 1;
        summary.first_at.get_or_insert(fields.at);
        summary.last_at = Some(
            summary
                .last_at
                .map_or(fields.at, |last| last.max(fields.at)),
        );
    }
}

/// Fills `buffer`; `false` if the input ended first (a torn or absent record).
fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(true)
}

struct HeaderFields {
    seq: u64,
    at: Timestamp,
    stream_code: u8,
    len: usize,
}

fn parse_header(header: &[u8]) -> HeaderFields {
    let u64_at = |start: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&header[start..start + 8]);
        u64::from_le_bytes(bytes)
    };
    let mut len = [0u8; 4];
    len.copy_from_slice(&header[17..21]);
    HeaderFields {
        seq: u64_at(0),
        at: u64_at(8),
        stream_code: header[16],
        len: u32::from_le_bytes(len) as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(lines: &[(u64, Stream, &str)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (seq, stream, text) in lines {
            write_record(&mut bytes, *seq, 1000 + seq, *stream, text).unwrap();
        }
        bytes
    }

    #[test]
    fn round_trips_any_text() {
        let lines = [
            (0, Stream::Stdout, "plain"),
            (1, Stream::Stderr, ""),
            (2, Stream::System, "two\nlines\r\nand a NUL \0 here"),
            (3, Stream::Stdout, "ünïcødé ✓ 🚀 日本語"),
        ];
        let decoded = decode_all(&encode(&lines)).unwrap();
        let texts: Vec<_> = decoded
            .iter()
            .map(|r| (r.seq, r.stream, r.text.as_str()))
            .collect();
        assert_eq!(texts, lines);
        assert_eq!(decoded[3].at, 1003);
    }

    #[test]
    fn scan_stops_before_a_torn_record() {
        let whole = encode(&[(0, Stream::Stdout, "first"), (1, Stream::Stdout, "second")]);
        let first_len = (HEADER_LEN + "first".len()) as u64;
        for cut in 0..whole.len() {
            let summary = scan(&mut &whole[..cut]).unwrap();
            let expected = if (cut as u64) < first_len { 0 } else { 1 };
            assert_eq!(summary.lines, expected, "cut at {cut}");
            assert_eq!(summary.valid_len, expected * first_len, "cut at {cut}");
        }
        let summary = scan(&mut &whole[..]).unwrap();
        assert_eq!(summary.lines, 2);
        assert_eq!(summary.valid_len, whole.len() as u64);
        assert_eq!(
            (summary.first_at, summary.last_at),
            (Some(1000), Some(1001))
        );
    }

    #[test]
    fn decoding_damage_is_an_error() {
        let whole = encode(&[(0, Stream::Stdout, "first")]);
        assert!(decode_all(&whole[..whole.len() - 1]).is_err());
        let mut bad_stream = whole.clone();
        bad_stream[16] = 9;
        assert!(decode_all(&bad_stream).is_err());
        let mut bad_utf8 = whole;
        bad_utf8[HEADER_LEN] = 0xff;
        assert!(decode_all(&bad_utf8).is_err());
    }
}
