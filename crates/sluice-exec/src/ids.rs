//! Random identifiers for runs, jobs and tracking ids.

use std::io::Read;

/// `len` random hexadecimal characters from the kernel's random source,
/// for names that must not be guessable (an error when there is none).
pub fn strong_random_hex(len: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; len.div_ceil(2)];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))?;
    let mut hex = crate::hash_files::hex(&bytes);
    hex.truncate(len);
    Ok(hex)
}

/// `len` random hexadecimal characters, for names that must be unique but
/// need not be secret.
pub fn random_hex(len: usize) -> String {
    if let Ok(hex) = strong_random_hex(len) {
        return hex;
    }
    // No /dev/urandom (a very bare sandbox): time and pid are unique
    // enough for naming things nobody attacks.
    let mut bytes = vec![0u8; len.div_ceil(2)];
    {
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
