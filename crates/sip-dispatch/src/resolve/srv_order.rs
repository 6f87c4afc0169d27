//! The order to try SRV records in (RFC 2782, "Usage rules").

use rand::{Rng, RngCore};

use super::Srv;

/// Orders `records` by priority, lowest first, and within one priority by RFC 2782's weighted
/// random selection: records of weight 0 go first in the running sum, a number is drawn
/// uniformly from `0..=sum`, and the first record whose running sum reaches it is taken next;
/// repeat with the rest. So a record's chance to come first is its share of the weights, and a
/// weight-0 record has a small chance (1 in sum + 1) unless all are 0.
///
/// Records whose target is `.` are dropped (RFC 2782: decidedly not available).
pub(crate) fn order_srv(mut records: Vec<Srv>, rng: &mut impl RngCore) -> Vec<Srv> {
    records.retain(|r| !r.is_unavailable());
    // Stable sorts: records equal in priority and weight keep the order the DNS gave.
    records.sort_by_key(|r| r.priority);
    let mut ordered = Vec::with_capacity(records.len());
    for group in records.chunk_by(|a, b| a.priority == b.priority) {
        let mut group = group.to_vec();
        group.sort_by_key(|r| r.weight != 0);
        while !group.is_empty() {
            let sum: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = rng.gen_range(0..=sum);
            let mut running = 0;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            ordered.push(group.remove(index));
        }
    }
    ordered
}
