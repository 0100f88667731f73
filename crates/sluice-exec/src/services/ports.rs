//! Host ports for services: the one a workflow asks for when it is free,
//! otherwise a free one the kernel picks.
//!
//! Ports handed out by this process stay reserved until their service
//! stops, so two parallel jobs asking for 5432 never both get it; the
//! kernel's answer covers everything else on the machine.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Mutex;

use super::declaration::PortRequest;

static RESERVED: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A service's ports: container port → host port.
#[derive(Debug, Default)]
pub(crate) struct Assigned {
    pub pairs: Vec<(u16, u16)>,
    /// Requested host ports that were taken, with the port used instead.
    pub moved: Vec<(u16, u16)>,
}

impl Assigned {
    /// The host port for a container port.
    pub fn host_port(&self, container: u16) -> Option<u16> {
        self.pairs
            .iter()
            .find(|(c, _)| *c == container)
            .map(|(_, h)| *h)
    }

    pub fn release(&self) {
        if let Ok(mut reserved) = RESERVED.lock()
            && let Some(set) = reserved.as_mut()
        {
            for (_, host) in &self.pairs {
                set.remove(host);
            }
        }
    }
}

/// Assigns a host port to every request.
pub(crate) fn assign(requests: &[PortRequest]) -> Result<Assigned, String> {
    let mut reserved = RESERVED
        .lock()
        .map_err(|_| "the port table is unusable after a crash".to_string())?;
    let reserved = reserved.get_or_insert_with(HashSet::new);
    let mut assigned = Assigned::default();
    for request in requests {
        let wanted = request
            .host
            .filter(|port| !reserved.contains(port) && is_free(*port));
        let host = match wanted {
            Some(port) => port,
            None => {
                let port = free_port(reserved)?;
                if let Some(asked) = request.host {
                    assigned.moved.push((asked, port));
                }
                port
            }
        };
        reserved.insert(host);
        assigned.pairs.push((request.container, host));
    }
    Ok(assigned)
}

fn is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn free_port(reserved: &HashSet<u16>) -> Result<u16, String> {
    for _ in 0..64 {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| format!("cannot find a free port: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot find a free port: {e}"))?
            .port();
        if !reserved.contains(&port) {
            return Ok(port);
        }
    }
    Err("cannot find a free port that is not already in use by a service".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_moves_and_reservations_do_not_repeat() {
        let holder = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let taken = holder.local_addr().unwrap().port();
        let requests = [
            PortRequest {
                host: Some(taken),
                container: 5432,
            },
            PortRequest {
                host: None,
                container: 6379,
            },
        ];
        let first = assign(&requests).unwrap();
        let moved_to = first.host_port(5432).unwrap();
        assert_ne!(moved_to, taken, "a port in use is not handed out");
        assert_eq!(first.moved, [(taken, moved_to)]);
        // Asking for the port the first assignment got: it is reserved.
        let second = assign(&[PortRequest {
            host: Some(moved_to),
            container: 1,
        }])
        .unwrap();
        assert_ne!(second.host_port(1), Some(moved_to));
        first.release();
        second.release();
    }
}
