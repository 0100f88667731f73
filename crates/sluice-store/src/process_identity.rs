//! Which process owns a running run, and whether it is still alive.
//!
//! A pid alone is not an identity: pids are reused, quickly on a busy
//! machine. Linux gives each process a start time (clock ticks after boot,
//! field 22 of `/proc/<pid>/stat`) that a reused pid will not share, and a
//! boot id that tells whether the machine restarted since (after which every
//! earlier process is gone, whatever pids say). Pids only mean something
//! within one pid namespace: a run owned from another container sharing
//! the state directory cannot be checked, and is presumed alive.

use std::fs;
use std::io;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessIdentity {
    pub(crate) pid: u32,
    /// `None` where `/proc` is unavailable (not Linux).
    pub(crate) start_ticks: Option<u64>,
    pub(crate) boot_id: Option<String>,
    /// The target of `/proc/self/ns/pid`, e.g. `pid:[4026531836]`.
    pub(crate) pid_namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    Alive,
    Gone,
    /// The system does not let us tell. Callers treat this as alive: taking
    /// over a live process's run would corrupt its history.
    Unknown,
}

impl ProcessIdentity {
    pub(crate) fn current() -> Self {
        let pid = std::process::id();
        ProcessIdentity {
            pid,
            start_ticks: read_stat(pid).ok().and_then(|stat| stat.start_ticks),
            boot_id: current_boot_id(),
            pid_namespace: current_pid_namespace(),
        }
    }

    pub(crate) fn liveness(&self) -> Liveness {
        if let (Some(owner_boot), Some(this_boot)) = (&self.boot_id, current_boot_id())
            && *owner_boot != this_boot
        {
            return Liveness::Gone;
        }
        if let (Some(owner_namespace), Some(this_namespace)) =
            (&self.pid_namespace, current_pid_namespace())
            && *owner_namespace != this_namespace
        {
            return Liveness::Unknown;
        }
        match read_stat(self.pid) {
            Ok(stat) => {
                // A zombie has exited; only its parent has not collected it yet.
                if matches!(stat.state, Some('Z' | 'X')) {
                    return Liveness::Gone;
                }
                match (self.start_ticks, stat.start_ticks) {
                    (Some(owner), Some(now)) if owner != now => Liveness::Gone,
                    _ => Liveness::Alive,
                }
            }
            Err(error)
                if error.kind() == io::ErrorKind::NotFound
                    && Path::new("/proc/self/stat").exists() =>
            {
                Liveness::Gone
            }
            Err(_) => Liveness::Unknown,
        }
    }
}

struct Stat {
    state: Option<char>,
    start_ticks: Option<u64>,
}

fn read_stat(pid: u32) -> io::Result<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    Ok(parse_stat(&text))
}

/// Parses the fields we need from `/proc/<pid>/stat`. Field 2 is the
/// command name in parentheses and may itself contain spaces and
/// parentheses, so the fixed fields are counted from the last `)`.
fn parse_stat(text: &str) -> Stat {
    let after_name = text.rfind(')').map_or("", |end| &text[end + 1..]);
    let mut fields = after_name.split_whitespace();
    // Field 3 is the state; field 22 the start time, 19 fields later.
    let state = fields.next().and_then(|field| field.chars().next());
    let start_ticks = fields.nth(18).and_then(|field| field.parse().ok());
    Stat { state, start_ticks }
}

fn current_boot_id() -> Option<String> {
    let text = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

fn current_pid_namespace() -> Option<String> {
    let target = fs::read_link("/proc/self/ns/pid").ok()?;
    Some(target.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_command_name_with_spaces_and_parentheses() {
        let stat = parse_stat(
            "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50",
        );
        assert_eq!(stat.state, Some('S'));
        assert_eq!(stat.start_ticks, Some(987_654));
    }

    #[test]
    fn this_process_is_alive() {
        assert_eq!(ProcessIdentity::current().liveness(), Liveness::Alive);
    }

    #[test]
    fn a_reused_pid_is_not_the_owner() {
        let mut impostor = ProcessIdentity::current();
        if impostor.start_ticks.is_none() {
            eprintln!("skipped: no /proc on this system");
            return;
        }
        impostor.start_ticks = impostor.start_ticks.map(|ticks| ticks + 1);
        assert_eq!(impostor.liveness(), Liveness::Gone);
    }

    #[test]
    fn a_process_from_an_earlier_boot_is_gone() {
        let mut earlier = ProcessIdentity::current();
        if earlier.boot_id.is_none() {
            eprintln!("skipped: no boot id on this system");
            return;
        }
        earlier.boot_id = Some("00000000-0000-0000-0000-000000000000".to_owned());
        assert_eq!(earlier.liveness(), Liveness::Gone);
    }

    #[test]
    fn a_process_in_another_pid_namespace_cannot_be_judged() {
        let mut elsewhere = ProcessIdentity::current();
        if elsewhere.pid_namespace.is_none() {
            eprintln!("skipped: no pid namespace on this system");
            return;
        }
        elsewhere.pid_namespace = Some("pid:[1]".to_owned());
        // Even a pid that does not exist here may live there.
        elsewhere.pid = u32::MAX - 1;
        assert_eq!(elsewhere.liveness(), Liveness::Unknown);
    }
}
