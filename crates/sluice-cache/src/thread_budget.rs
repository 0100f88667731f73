//! One budget of helper threads for the whole process. Captures, restores
//! and workspace syncs of every job share it: with `--jobs 8` and eight
//! restores at once there are at most this many helpers in all, not eight
//! pools of a thread per core. A caller that gets no helper still does
//! its work on its own thread, so nothing waits for the budget.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `SLUICE_WORKER_THREADS`: the helpers the process may run at once.
pub const BUDGET_VAR: &str = "SLUICE_WORKER_THREADS";

fn available() -> &'static AtomicUsize {
    static AVAILABLE: OnceLock<AtomicUsize> = OnceLock::new();
    AVAILABLE.get_or_init(|| AtomicUsize::new(budget()))
}

/// The budget: `SLUICE_WORKER_THREADS` (at least 1), else twice the cores
/// and at least 8 (the work waits on the disk as much as on the CPU).
pub fn budget() -> usize {
    std::env::var(BUDGET_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).max(8))
        .max(1)
}

/// Helper threads taken from the budget; given back when dropped.
#[derive(Debug)]
pub struct Helpers {
    count: usize,
}

impl Helpers {
    /// Up to `wanted` helpers, as many as the budget has now (maybe none).
    pub fn take(wanted: usize) -> Helpers {
        let pool = available();
        let mut current = pool.load(Ordering::Relaxed);
        loop {
            let count = wanted.min(current);
            if count == 0 {
                return Helpers { count: 0 };
            }
            match pool.compare_exchange_weak(
                current,
                current - count,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Helpers { count },
                Err(now) => current = now,
            }
        }
    }

    pub fn count(&self) -> usize {
        self.count
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        if self.count > 0 {
            available().fetch_add(self.count, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Helpers;

    #[test]
    fn helpers_never_exceed_the_budget() {
        // Other tests of this process share the budget: only bounds hold.
        let all = Helpers::take(usize::MAX);
        assert!(all.count() <= super::budget());
        assert_eq!(Helpers::take(0).count(), 0);
        let second = Helpers::take(usize::MAX);
        assert!(all.count() + second.count() <= super::budget());
    }
}
