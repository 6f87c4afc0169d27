//! The embedded default store: a concurrent hash map and a time-ordered index.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::aor::Aor;
use crate::binding::AorRecord;
use crate::store::BindingStore;

/// Bindings in memory, lost on restart (as in Net::SIP).
///
/// Records sit in a [`DashMap`] keyed by address-of-record, so a REGISTER costs one hash
/// lookup however many addresses there are, and readers (a proxy asking where to send a
/// call) do not wait for writers of other addresses. Beside it, an index ordered by
/// deadline holds each record once, under its [`next_deadline`](AorRecord::next_deadline):
/// [`BindingStore::expire`] takes from its front only what is due, so a sweep never walks the
/// table. Keeping the index right costs O(log n) comparisons per write, and nothing when a
/// refresh leaves the first deadline where it was.
///
/// Lock order: a map shard, then the index, never the other way; every change to a record's
/// deadline happens with the record's shard locked, so the index and the map agree.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: DashMap<Aor, Slot>,
    index: Mutex<BTreeSet<(Instant, Aor)>>,
    records_touched: AtomicU64,
    index_ops: AtomicU64,
}

#[derive(Debug)]
struct Slot {
    record: AorRecord,
    /// The deadline under which the record is in the index.
    indexed: Instant,
}

/// How much work a [`MemoryStore`] has done: what a test (or a metrics exporter) reads to show
/// that the cost of an operation does not depend on the size of the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Records read, written, removed or visited by a sweep.
    pub records_touched: u64,
    /// Insertions into and removals from the deadline index.
    pub index_ops: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The work done so far.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            records_touched: self.records_touched.load(Ordering::Relaxed),
            index_ops: self.index_ops.load(Ordering::Relaxed),
        }
    }

    fn touch(&self) {
        self.records_touched.fetch_add(1, Ordering::Relaxed);
    }

    fn index(&self) -> MutexGuard<'_, BTreeSet<(Instant, Aor)>> {
        // A panic elsewhere while holding the lock leaves a set that is still a valid set.
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves `aor` in the index from `old` (if it is there) to `new`.
    fn reindex(&self, aor: &Aor, old: Option<Instant>, new: Option<Instant>) {
        if old == new {
            return;
        }
        let mut index = self.index();
        if let Some(old) = old {
            index.remove(&(old, aor.clone()));
            self.index_ops.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(new) = new {
            index.insert((new, aor.clone()));
            self.index_ops.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl BindingStore for MemoryStore {
    fn get(&self, aor: &Aor) -> Option<AorRecord> {
        self.touch();
        self.map.get(aor).map(|s| s.record.clone())
    }

    fn put(&self, aor: &Aor, record: AorRecord) {
        self.touch();
        let deadline = record.next_deadline();
        match self.map.entry(aor.clone()) {
            Entry::Occupied(mut o) => {
                let slot = o.get_mut();
                self.reindex(aor, Some(slot.indexed), Some(deadline));
                *slot = Slot {
                    record,
                    indexed: deadline,
                };
            }
            Entry::Vacant(v) => {
                self.reindex(aor, None, Some(deadline));
                v.insert(Slot {
                    record,
                    indexed: deadline,
                });
            }
        }
    }

    fn remove(&self, aor: &Aor) -> Option<AorRecord> {
        self.touch();
        match self.map.entry(aor.clone()) {
            Entry::Occupied(o) => {
                self.reindex(aor, Some(o.get().indexed), None);
                Some(o.remove().record)
            }
            Entry::Vacant(_) => None,
        }
    }

    fn expire(&self, now: Instant) -> usize {
        let due: Vec<(Instant, Aor)> = {
            let mut index = self.index();
            let mut due = Vec::new();
            while index.first().is_some_and(|(t, _)| *t <= now) {
                due.extend(index.pop_first());
            }
            self.index_ops
                .fetch_add(due.len() as u64, Ordering::Relaxed);
            due
        };
        let mut dropped = 0;
        for (popped, aor) in due {
            let Entry::Occupied(mut o) = self.map.entry(aor.clone()) else {
                continue;
            };
            self.touch();
            let slot = o.get_mut();
            dropped += slot.record.drop_expired(now);
            // A put between the pop and the entry lock may have indexed the record anew.
            let still_indexed = (slot.indexed != popped).then_some(slot.indexed);
            if slot.record.is_forgotten(now) {
                self.reindex(&aor, still_indexed, None);
                o.remove();
            } else {
                let next = slot.record.next_deadline();
                self.reindex(&aor, still_indexed, Some(next));
                slot.indexed = next;
            }
        }
        dropped
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.index().first().map(|(t, _)| *t)
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sip_packet::NameAddr;

    use super::*;
    use crate::binding::Binding;

    fn record(now: Instant, expiries: &[u64], keep: u64) -> AorRecord {
        let bindings = expiries
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Binding::new(
                    NameAddr::parse(&format!("<sip:c{i}@10.0.0.1>")).unwrap(),
                    "call".into(),
                    1,
                    now + Duration::from_secs(*s),
                )
            })
            .collect();
        AorRecord::new(bindings, now + Duration::from_secs(keep))
    }

    fn aor(i: usize) -> Aor {
        format!("sip:u{i}@example.com").parse().unwrap()
    }

    #[test]
    fn expire_takes_only_what_is_due_and_forgets_after_keep_until() {
        let now = Instant::now();
        let store = MemoryStore::new();
        store.put(&aor(1), record(now, &[10, 60], 120));
        store.put(&aor(2), record(now, &[30], 100));
        assert_eq!(store.next_deadline(), Some(now + Duration::from_secs(10)));

        let before = store.stats();
        assert_eq!(store.expire(now + Duration::from_secs(5)), 0);
        assert_eq!(store.stats().records_touched, before.records_touched);

        assert_eq!(store.expire(now + Duration::from_secs(10)), 1);
        assert_eq!(store.get(&aor(1)).unwrap().bindings().len(), 1);
        assert_eq!(store.next_deadline(), Some(now + Duration::from_secs(30)));

        assert_eq!(store.expire(now + Duration::from_secs(60)), 2);
        // Both are remembered without bindings until their keep_until.
        assert_eq!(store.len(), 2);
        assert!(store.get(&aor(2)).unwrap().bindings().is_empty());
        store.expire(now + Duration::from_secs(100));
        assert!(store.get(&aor(2)).is_none());
        assert_eq!(store.len(), 1);
        store.expire(now + Duration::from_secs(120));
        assert!(store.is_empty());
        assert_eq!(store.next_deadline(), None);
    }

    #[test]
    fn put_moves_the_record_in_the_index_and_remove_takes_it_out() {
        let now = Instant::now();
        let store = MemoryStore::new();
        store.put(&aor(1), record(now, &[10], 100));
        store.put(&aor(1), record(now, &[50], 100));
        assert_eq!(store.next_deadline(), Some(now + Duration::from_secs(50)));
        assert_eq!(store.index().len(), 1);
        assert!(store.remove(&aor(1)).is_some());
        assert!(store.remove(&aor(1)).is_none());
        assert_eq!(store.next_deadline(), None);
        assert_eq!(store.index().len(), 0);
    }

    #[test]
    fn sweep_cost_does_not_grow_with_the_table() {
        let now = Instant::now();
        let store = MemoryStore::new();
        for i in 0..10_000 {
            store.put(&aor(i), record(now, &[3600], 7200));
        }
        store.put(&aor(99_999), record(now, &[10], 20));
        let before = store.stats();
        assert_eq!(store.expire(now + Duration::from_secs(10)), 1);
        let after = store.stats();
        assert_eq!(after.records_touched - before.records_touched, 1);
        // One pop, one insertion under the record's keep_until.
        assert_eq!(after.index_ops - before.index_ops, 2);
    }
}
