//! Where bindings live: the [`BindingStore`] trait.

use std::time::Instant;

use crate::aor::Aor;
use crate::binding::AorRecord;

/// Keeps the [`AorRecord`] of each address-of-record for a [`Registrar`](crate::Registrar).
///
/// The registrar reads one record, decides, and writes that record back (or removes it): it
/// never lists or scans the table, so a store may be a hash map, a database table keyed by
/// address, or a shared cache. [`BindingStore::expire`] is the only sweep, and it is asked to
/// touch only what is due.
///
/// # Why synchronous
///
/// The registrar answers inside [`Receiver::receive`](sip_dispatch::Receiver::receive), which
/// is synchronous and runs on the dispatcher's task; and the read-modify-write of §10.3 step 7
/// (Call-ID/CSeq checks, then the update) must not interleave with another REGISTER for the
/// same address. A synchronous store keeps both: the response is computed in one call, in
/// order. An `async` store would push every REGISTER into a task of its own, where two
/// requests for one address race between `get` and `put`. A persistent or shared store fits
/// this trait as a write-through cache: it answers from memory (e.g. by wrapping
/// [`MemoryStore`](crate::MemoryStore)) and queues its writes to the backend on a task of its
/// own, loading the backend once when it starts. [`Instant`]s are local to the process: such a
/// store converts them to wall-clock time when it writes them.
///
/// Implementations must be cheap per call (no network round trip) and must not block.
pub trait BindingStore: Send + Sync {
    /// The record of `aor`, if the store has one (it may still hold expired bindings: the
    /// registrar looks at each binding's expiry itself).
    fn get(&self, aor: &Aor) -> Option<AorRecord>;

    /// Sets the record of `aor`, replacing any.
    fn put(&self, aor: &Aor, record: AorRecord);

    /// Forgets `aor`; returns its record.
    fn remove(&self, aor: &Aor) -> Option<AorRecord>;

    /// Drops what is due at `now`: the expired bindings of every record whose
    /// [`next_deadline`](AorRecord::next_deadline) has passed, and the records that are
    /// [forgotten](AorRecord::is_forgotten). The work done is proportional to what is due,
    /// not to the size of the store. Returns how many bindings were dropped.
    fn expire(&self, now: Instant) -> usize;

    /// When [`BindingStore::expire`] next has something to do, if ever.
    fn next_deadline(&self) -> Option<Instant>;

    /// How many addresses the store holds (expired ones not yet swept included).
    fn len(&self) -> usize;

    /// Whether the store holds no address.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
