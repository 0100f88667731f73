//! The process's file-creation mask, read once (from `/proc`, never by
//! setting it: `umask(2)` changes it for every thread at once).

use std::sync::OnceLock;

/// The mask, or `None` where `/proc/self/status` does not say it.
pub(crate) fn process_umask() -> Option<u32> {
    static UMASK: OnceLock<Option<u32>> = OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        parse_umask(&status)
    })
}

fn parse_umask(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
}

/// True when a file created with `mode` already has exactly `mode`: the
/// mask takes none of its bits.
pub(crate) fn creates_exactly(mode: u32) -> bool {
    process_umask().is_some_and(|mask| mode & mask == 0)
}

#[cfg(test)]
mod tests {
    use super::parse_umask;

    #[test]
    fn the_mask_is_read_as_octal() {
        assert_eq!(
            parse_umask("Name:\tx\nUmask:\t0022\nState:\tR\n"),
            Some(0o022)
        );
        assert_eq!(parse_umask("Umask:\t0077\n"), Some(0o077));
        assert_eq!(parse_umask("Name:\tx\n"), None);
        assert_eq!(parse_umask("Umask:\tzz\n"), None);
    }
}
