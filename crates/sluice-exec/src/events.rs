//! The run's event vocabulary lives in `sluice-events`, which every
//! observer depends on; the executor re-exports it and adds the clock.

pub use sluice_events::*;

/// Now, in milliseconds since the Unix epoch.
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
