//! Extended sequence numbers of a received stream (RFC 3550 Appendix A.1).

/// A jump forward larger than this is not a loss but a restart candidate (A.1 `MAX_DROPOUT`).
const MAX_DROPOUT: u16 = 3000;
/// A step back larger than this is not reordering but a restart candidate (A.1 `MAX_MISORDER`).
const MAX_MISORDER: u16 = 100;

/// Tracks the sequence numbers of one source: wrap-arounds ("cycles"), the highest number
/// seen, the first one, and how many packets arrived, as RFC 3550 Appendix A.1 does.
///
/// Unlike A.1 the first packet is accepted at once (no probation): the source was announced
/// in SDP. A jump of more than 3000 ahead or 100 behind is rejected, unless the next packet
/// continues from it: then the sender restarted and tracking starts anew from there.
#[derive(Debug, Clone, Default)]
pub struct SequenceTracker {
    started: bool,
    max_seq: u16,
    /// Wrap-arounds of the sequence number since the first packet.
    cycles: u32,
    base_seq: u16,
    /// The sequence number that would confirm a restart (`max + 1` of the rejected one).
    bad_seq: Option<u16>,
    received: u64,
}

/// What [`SequenceTracker::update`] made of a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// In order, a loss gap, a duplicate or reordered: its extended sequence number (wrap-arounds
    /// times 2^16 plus the number; it may be negative for a packet from before the first one).
    Accepted {
        /// The extended sequence number.
        extended: i64,
    },
    /// The packet confirmed a restart of the source: counting started again from it.
    Restarted {
        /// The extended sequence number (the packet's own number; cycles start at 0).
        extended: i64,
    },
    /// A jump too large to be loss or reordering; the packet should be dropped.
    Rejected,
}

impl SequenceTracker {
    /// A tracker that has seen no packet.
    pub fn new() -> Self {
        Self::default()
    }

    fn restart(&mut self, seq: u16) {
        self.started = true;
        self.base_seq = seq;
        self.max_seq = seq;
        self.cycles = 0;
        self.bad_seq = None;
        self.received = 0;
    }

    /// Accounts for one arrived packet with sequence number `seq`.
    pub fn update(&mut self, seq: u16) -> SequenceCheck {
        if !self.started {
            self.restart(seq);
            self.received = 1;
            return SequenceCheck::Accepted {
                extended: i64::from(seq),
            };
        }
        let delta = seq.wrapping_sub(self.max_seq);
        let extended = if delta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1);
            }
            self.max_seq = seq;
            self.extended(seq, 0)
        } else if u32::from(delta) <= (1 << 16) - u32::from(MAX_MISORDER) {
            // A very large jump: a restart if the next packet follows this one.
            if self.bad_seq == Some(seq) {
                self.restart(seq);
                self.received = 1;
                return SequenceCheck::Restarted {
                    extended: i64::from(seq),
                };
            }
            self.bad_seq = Some(seq.wrapping_add(1));
            return SequenceCheck::Rejected;
        } else {
            // A duplicate or a reordered packet; it may come from the previous cycle.
            self.extended(seq, i64::from(seq > self.max_seq))
        };
        self.received += 1;
        SequenceCheck::Accepted { extended }
    }

    fn extended(&self, seq: u16, cycles_back: i64) -> i64 {
        ((i64::from(self.cycles) - cycles_back) << 16) + i64::from(seq)
    }

    /// Whether a packet has been seen.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// The highest extended sequence number, as RTCP's report block carries it: cycles in the
    /// top 16 bits. `None` before the first packet.
    pub fn extended_highest(&self) -> Option<u32> {
        self.started
            .then(|| (self.cycles << 16) | u32::from(self.max_seq))
    }

    /// The first sequence number (since the last restart).
    pub fn base_sequence(&self) -> u16 {
        self.base_seq
    }

    /// Packets expected: highest extended number − first + 1 (RFC 3550 A.3).
    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        ((u64::from(self.cycles) << 16) + u64::from(self.max_seq) + 1)
            .saturating_sub(u64::from(self.base_seq))
    }

    /// Packets accepted, duplicates and reordered ones included (RFC 3550 A.3 `received`).
    pub fn received(&self) -> u64 {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(t: &mut SequenceTracker, seq: u16) -> i64 {
        match t.update(seq) {
            SequenceCheck::Accepted { extended } => extended,
            other => panic!("{seq}: {other:?}"),
        }
    }

    #[test]
    fn wraps_into_cycles() {
        let mut t = SequenceTracker::new();
        assert_eq!(t.extended_highest(), None);
        assert_eq!(accepted(&mut t, 65534), 65534);
        assert_eq!(accepted(&mut t, 65535), 65535);
        assert_eq!(accepted(&mut t, 0), 65536);
        assert_eq!(accepted(&mut t, 2), 65538);
        assert_eq!(t.extended_highest(), Some(0x0001_0002));
        assert_eq!(t.expected(), 5);
        assert_eq!(t.received(), 4);
        // The late packet 1 is reordered, in the current cycle.
        assert_eq!(accepted(&mut t, 1), 65537);
        // 65535 again: a duplicate from the previous cycle.
        assert_eq!(accepted(&mut t, 65535), 65535);
        assert_eq!(t.received(), 6);
        assert_eq!(t.extended_highest(), Some(0x0001_0002));
    }

    #[test]
    fn reordered_before_the_first_packet_is_negative() {
        let mut t = SequenceTracker::new();
        accepted(&mut t, 3);
        assert_eq!(accepted(&mut t, 65535), -1);
        assert_eq!(t.expected(), 1);
        assert_eq!(t.received(), 2);
    }

    #[test]
    fn large_jump_rejected_then_restart_on_sequential_packet() {
        let mut t = SequenceTracker::new();
        accepted(&mut t, 100);
        accepted(&mut t, 101);
        assert_eq!(t.update(20_000), SequenceCheck::Rejected);
        // Not sequential with the rejected one: rejected again, nothing counted.
        assert_eq!(t.update(30_000), SequenceCheck::Rejected);
        assert_eq!(t.received(), 2);
        assert_eq!(
            t.update(30_001),
            SequenceCheck::Restarted { extended: 30_001 }
        );
        assert_eq!(t.base_sequence(), 30_001);
        assert_eq!(t.expected(), 1);
        assert_eq!(accepted(&mut t, 30_002), 30_002);
        // A jump below MAX_DROPOUT is a gap, not a restart.
        assert_eq!(accepted(&mut t, 32_000), 32_000);
        assert_eq!(t.expected(), 2000);
        assert_eq!(t.received(), 3);
    }

    #[test]
    fn step_back_beyond_misorder_is_rejected() {
        let mut t = SequenceTracker::new();
        accepted(&mut t, 1000);
        assert_eq!(accepted(&mut t, 901), 901);
        // 100 behind is RFC 3550's limit: a restart candidate.
        assert_eq!(t.update(900), SequenceCheck::Rejected);
    }
}
