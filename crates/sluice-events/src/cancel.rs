//! Cancellation shared by everything a run does.
//!
//! The first Ctrl-C asks for a graceful stop (running steps get SIGTERM and
//! a grace period, `if: always()` steps still run); a second one, or a
//! timeout, asks for an immediate one (SIGKILL).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CancelLevel {
    None = 0,
    Graceful = 1,
    Immediate = 2,
}

/// A cheap, cloneable flag that only ever escalates. A child token
/// (see [`CancelToken::child`]) is also cancelled by its parent's level:
/// one run of several is stopped alone, a Ctrl-C stops them all.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    level: Arc<AtomicU8>,
    parent: Option<Arc<AtomicU8>>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// A token of its own that also reads this one's level.
    pub fn child(&self) -> CancelToken {
        CancelToken {
            level: Arc::new(AtomicU8::new(0)),
            parent: Some(Arc::clone(&self.level)),
        }
    }

    pub fn level(&self) -> CancelLevel {
        let own = self.level.load(Ordering::SeqCst);
        let inherited = self
            .parent
            .as_ref()
            .map_or(0, |parent| parent.load(Ordering::SeqCst));
        match own.max(inherited) {
            0 => CancelLevel::None,
            1 => CancelLevel::Graceful,
            _ => CancelLevel::Immediate,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.level() != CancelLevel::None
    }

    /// Raises the level to at least `level`.
    pub fn escalate(&self, level: CancelLevel) {
        self.level.fetch_max(level as u8, Ordering::SeqCst);
    }

    /// What a Ctrl-C does: graceful the first time, immediate after.
    pub fn interrupt(&self) -> CancelLevel {
        let next = match self.level() {
            CancelLevel::None => CancelLevel::Graceful,
            _ => CancelLevel::Immediate,
        };
        self.escalate(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_escalates() {
        let token = CancelToken::new();
        assert_eq!(token.interrupt(), CancelLevel::Graceful);
        token.escalate(CancelLevel::None);
        assert_eq!(token.level(), CancelLevel::Graceful);
        assert_eq!(token.clone().interrupt(), CancelLevel::Immediate);
        assert_eq!(token.level(), CancelLevel::Immediate);
    }

    #[test]
    fn a_child_follows_its_parent_but_not_the_other_way() {
        let parent = CancelToken::new();
        let child = parent.child();
        child.escalate(CancelLevel::Graceful);
        assert_eq!(parent.level(), CancelLevel::None);
        parent.escalate(CancelLevel::Immediate);
        assert_eq!(child.level(), CancelLevel::Immediate);
        let sibling = parent.child();
        assert_eq!(sibling.level(), CancelLevel::Immediate);
    }
}
