//! How event values are spelled in SQL columns, and the checked
//! conversions back (SQLite integers are signed; Sluice's are not).

use rusqlite::Row;
use rusqlite::types::Type;
use sluice_events::{AnnotationLevel, JobKey, Outcome};

pub(crate) fn outcome_text(outcome: Outcome) -> &'static str {
    outcome.as_str()
}

pub(crate) fn annotation_level_text(level: AnnotationLevel) -> &'static str {
    match level {
        AnnotationLevel::Error => "error",
        AnnotationLevel::Warning => "warning",
        AnnotationLevel::Notice => "notice",
    }
}

fn parse_annotation_level(text: &str) -> Option<AnnotationLevel> {
    Some(match text {
        "error" => AnnotationLevel::Error,
        "warning" => AnnotationLevel::Warning,
        "notice" => AnnotationLevel::Notice,
        _ => return None,
    })
}

/// A job key column; text Sluice never writes reads as an error naming it.
pub(crate) fn get_job_key(row: &Row<'_>, index: usize) -> rusqlite::Result<JobKey> {
    let text: String = row.get(index)?;
    JobKey::parse(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

/// A JSON array of job keys.
pub(crate) fn get_job_keys(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<JobKey>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

/// Timestamps, durations and counts are stored as SQLite integers (i64).
pub(crate) fn to_sql_u64(value: u64) -> i64 {
    // Beyond i64::MAX is about 292 million years of milliseconds.
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn get_u64(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(index)?;
    u64::try_from(value).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(index, value))
}

pub(crate) fn get_opt_u64(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<u64>> {
    match row.get::<_, Option<i64>>(index)? {
        None => Ok(None),
        Some(value) => u64::try_from(value)
            .map(Some)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(index, value)),
    }
}

pub(crate) fn get_opt_usize(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<usize>> {
    Ok(get_opt_u64(row, index)?.map(|value| value as usize))
}

pub(crate) fn get_opt_outcome(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Outcome>> {
    match row.get::<_, Option<String>>(index)? {
        None => Ok(None),
        Some(text) => Outcome::parse(&text)
            .map(Some)
            .ok_or_else(|| unknown(index, "outcome", &text)),
    }
}

pub(crate) fn get_annotation_level(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<AnnotationLevel> {
    let text: String = row.get(index)?;
    parse_annotation_level(&text).ok_or_else(|| unknown(index, "annotation level", &text))
}

/// A JSON column decoded into `T`.
pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
    row: &Row<'_>,
    index: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(error))
    })
}

pub(crate) fn to_json(value: &impl serde::Serialize) -> String {
    // Only string lists and string maps are stored, which always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

fn unknown(index: usize, what: &str, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        Type::Text,
        format!("unknown {what} `{text}`").into(),
    )
}
