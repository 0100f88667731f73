//! Running one function over many items on scoped worker threads.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use crate::error::CacheError;
use crate::thread_budget::Helpers;

/// Applies `work` to every item on up to `workers` threads (this one and
/// helpers from the process's budget) and returns the
/// results in item order. Each worker builds its own scratch state with
/// `new_state` (an I/O buffer, say) and takes the next unclaimed item until
/// none are left, so a few big items do not leave other workers idle.
///
/// The first error stops every worker at its next item and is returned;
/// work already done stays done.
pub(crate) fn map_parallel<T, R, S>(
    items: &[T],
    workers: usize,
    new_state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) -> Result<R, CacheError> + Sync,
) -> Result<Vec<R>, CacheError>
where
    T: Sync,
    R: Send,
{
    // Helpers come from the process's budget; this thread works too, so
    // an empty budget only means working alone.
    let helpers = Helpers::take(workers.saturating_sub(1).min(items.len().saturating_sub(1)));
    let workers = helpers.count() + 1;
    if workers <= 1 || items.len() <= 1 {
        let mut state = new_state();
        return items.iter().map(|item| work(&mut state, item)).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<CacheError>> = Mutex::new(None);
    let mut indexed: Vec<(usize, R)> = Vec::with_capacity(items.len());
    let run = || {
        let mut state = new_state();
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            match work(&mut state, item) {
                Ok(result) => done.push((index, result)),
                Err(error) => {
                    failed.store(true, Ordering::Relaxed);
                    let mut slot = first_error
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner());
                    slot.get_or_insert(error);
                    break;
                }
            }
        }
        done
    };
    thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(run)).collect();
        indexed.extend(run());
        for handle in handles {
            match handle.join() {
                Ok(done) => indexed.extend(done),
                // A worker panicked: a bug, not an input problem. Re-raise
                // it on the caller's thread rather than hiding it.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    if let Some(error) = first_error
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner())
    {
        return Err(error);
    }
    indexed.sort_unstable_by_key(|(index, _)| *index);
    Ok(indexed.into_iter().map(|(_, result)| result).collect())
}

#[cfg(test)]
mod tests {
    use super::map_parallel;
    use crate::error::CacheError;

    #[test]
    fn results_keep_item_order_and_the_first_error_wins() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = map_parallel(&items, 4, || (), |_, n| Ok(n * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        let failed = map_parallel(
            &items,
            4,
            || (),
            |_, n| {
                if *n == 500 {
                    Err(CacheError::InvalidDigest {
                        text: n.to_string(),
                    })
                } else {
                    Ok(*n)
                }
            },
        );
        assert!(matches!(failed, Err(CacheError::InvalidDigest { text }) if text == "500"));
    }
}
