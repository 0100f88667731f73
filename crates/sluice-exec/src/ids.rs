//! Random identifiers for runs, jobs and tracking ids.

use std::io::Read;

/// `len` random hexadecimal characters, from the kernel's random source.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len.div_ceil(2)];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if filled.is_err() {
        // No /dev/urandom (a very bare sandbox): time and pid are unique
        // enough for naming temporary things.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    let mut hex = crate::hash_files::hex(&bytes);
    hex.truncate(len);
    hex
}

/// A numeric id like GitHub's run ids (scripts do arithmetic on
/// `GITHUB_RUN_ID`): milliseconds since the epoch and three random digits.
pub fn numeric_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let random = u64::from_str_radix(&random_hex(4), 16).unwrap_or(0) % 1000;
    format!("{millis}{random:03}")
}
