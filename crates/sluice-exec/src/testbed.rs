//! The machine this process runs on, as benchmark results record it.

use sha2::{Digest, Sha256};
use sluice_events::Testbed;

/// A digest of `/etc/machine-id` (else of the host name), the CPU's
/// model name from `/proc/cpuinfo`, and the cores this process may use.
/// The machine id itself is confidential (systemd says so): only a
/// digest of it, under Sluice's own label, is kept and shown.
pub fn this_machine() -> Testbed {
    let raw_id = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let digest = Sha256::new()
        .chain_update(b"sluice testbed\0")
        .chain_update(raw_id.as_bytes())
        .finalize();
    let machine_id: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    Testbed {
        machine_id,
        cpu_model,
        cores,
    }
}
