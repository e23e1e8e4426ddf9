//! A shared bound on the bytes that scanning threads hold at once, so that
//! several large members inflated in parallel cannot add up past it. One
//! request larger than the whole budget still goes, but only alone.

use std::sync::{Condvar, Mutex};

pub struct MemoryBudget {
    capacity: u64,
    in_use: Mutex<u64>,
    freed: Condvar,
}

/// Bytes taken from a [`MemoryBudget`], given back on drop.
pub struct Permit<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

impl MemoryBudget {
    pub const fn new(capacity: u64) -> Self {
        MemoryBudget { capacity, in_use: Mutex::new(0), freed: Condvar::new() }
    }

    /// Waits until `bytes` fit (or nothing else is held), then takes them.
    pub fn acquire(&self, bytes: u64) -> Permit<'_> {
        let mut in_use = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        while *in_use > 0 && in_use.saturating_add(bytes) > self.capacity {
            in_use = self.freed.wait(in_use).unwrap_or_else(|e| e.into_inner());
        }
        *in_use += bytes;
        Permit { budget: self, bytes }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut in_use = self.budget.in_use.lock().unwrap_or_else(|e| e.into_inner());
        *in_use -= self.bytes;
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn never_holds_more_than_the_capacity_unless_alone() {
        let budget = MemoryBudget::new(100);
        let (held, peak) = (AtomicU64::new(0), AtomicU64::new(0));
        std::thread::scope(|scope| {
            for bytes in [60, 60, 60, 150, 30, 30] {
                let (budget, held, peak) = (&budget, &held, &peak);
                scope.spawn(move || {
                    let _permit = budget.acquire(bytes);
                    let now = held.fetch_add(bytes, Ordering::SeqCst) + bytes;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    held.fetch_sub(bytes, Ordering::SeqCst);
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 150, "peak {}", peak.load(Ordering::SeqCst));
        assert_eq!(*budget.in_use.lock().unwrap(), 0);
    }
}
