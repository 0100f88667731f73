//! Conversions between `SystemTime`, file metadata and the integer times
//! stored in manifests (nanoseconds) and entries (milliseconds).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 for earlier times).
pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

pub(crate) fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

pub(crate) fn from_unix_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A file's modification time in nanoseconds since the epoch, saturating
/// outside the years 1678..2262 that an `i64` covers.
pub(crate) fn mtime_ns(metadata: &Metadata) -> i64 {
    let nanos = i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec());
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// The `SystemTime` of a manifest's nanosecond timestamp.
pub(crate) fn from_unix_ns(nanos: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// How long ago `time` was (zero if it is in the future, as clocks between
/// processes or machines can disagree).
pub(crate) fn age(now: SystemTime, time: SystemTime) -> Duration {
    now.duration_since(time).unwrap_or(Duration::ZERO)
}
