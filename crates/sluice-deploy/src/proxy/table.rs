//! The routing table: which colour gets new requests, swapped atomically,
//! and which old routes are still in use.
//!
//! Every request (and its response body, and an upgraded connection) holds
//! a clone of the `Arc<Target>` it was routed with. A route is drained
//! when nothing but the table's own weak reference is left of it, which
//! cannot race a request that read the table just before a switch: that
//! request already holds its clone.

use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use crate::colour::Colour;
use crate::stats::Traffic;

#[derive(Debug)]
pub(crate) struct Target {
    pub colour: Colour,
    pub port: u16,
}

#[derive(Default)]
pub(crate) struct Table {
    current: RwLock<Option<Arc<Target>>>,
    /// Every route handed out, for drain checks; pruned as they die.
    issued: Mutex<Vec<Weak<Target>>>,
    traffic: Mutex<[Traffic; 2]>,
}

fn slot(colour: Colour) -> usize {
    match colour {
        Colour::Blue => 0,
        Colour::Green => 1,
    }
}

impl Table {
    pub fn current(&self) -> Option<Arc<Target>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn switch(&self, colour: Colour, port: u16) {
        let target = Arc::new(Target { colour, port });
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued.retain(|weak| weak.strong_count() > 0);
        issued.push(Arc::downgrade(&target));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(target);
    }

    /// How many requests and connections still use `port`, the current
    /// route's own reference not counted.
    pub fn in_flight(&self, port: u16) -> u64 {
        // Under the lock `switch` takes too, so `current` cannot change
        // between reading it and counting.
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.current();
        issued
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|target| target.port == port)
            .map(|target| {
                // Minus the upgrade just taken, and the table's own.
                let held = Arc::strong_count(&target) as u64 - 1;
                let by_table = current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &target));
                held.saturating_sub(2 * u64::from(by_table))
            })
            .sum()
    }

    /// Drained: nothing uses `port` and new requests go elsewhere.
    pub fn drained(&self, port: u16) -> bool {
        let routed_here = self.current().is_some_and(|c| c.port == port);
        !routed_here && self.in_flight(port) == 0
    }

    pub fn begin(&self, colour: Colour) {
        let mut traffic = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        traffic[slot(colour)].started += 1;
    }

    pub fn record(&self, colour: Colour, status: Option<u16>, latency: Duration) {
        let mut traffic = self.traffic.lock().unwrap_or_else(|e| e.into_inner());
        traffic[slot(colour)].record(status, latency);
    }

    pub fn traffic(&self) -> [Traffic; 2] {
        self.traffic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_drained_once_the_last_request_using_it_lets_go() {
        let table = Table::default();
        table.switch(Colour::Blue, 1000);
        let request = table.current().unwrap();
        assert_eq!(table.in_flight(1000), 1);
        table.switch(Colour::Green, 2000);
        assert!(!table.drained(1000), "a request still holds blue");
        assert_eq!(table.in_flight(1000), 1);
        drop(request);
        assert!(table.drained(1000));
        assert!(!table.drained(2000), "green is routed to");
        assert_eq!(table.in_flight(2000), 0);
    }
}
