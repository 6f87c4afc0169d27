//! The timers of RFC 3261 §17 (and RFC 6026's L and M), their base values, and the table each
//! transaction keeps of them.

use std::time::{Duration, Instant};

/// T1, T2 and T4 of RFC 3261 §17.1.1.1 (defaults 500 ms, 4 s, 5 s). Every other timer is
/// derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip time estimate; the first retransmission interval.
    pub t1: Duration,
    /// The longest retransmission interval for non-INVITE requests and INVITE responses.
    pub t2: Duration,
    /// How long a message may stay in the network.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: the lifetime of a transaction (Timers B, F, H, J, L, M).
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }
}

/// A timer of RFC 3261 §17 or RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// INVITE request retransmission (client).
    A,
    /// INVITE transaction timeout (client).
    B,
    /// Wait for response retransmissions after a non-2xx final (client INVITE).
    D,
    /// Non-INVITE request retransmission (client).
    E,
    /// Non-INVITE transaction timeout (client).
    F,
    /// INVITE final response retransmission (server).
    G,
    /// Wait for ACK (server INVITE).
    H,
    /// Wait for ACK retransmissions (server INVITE).
    I,
    /// Wait for request retransmissions (server non-INVITE).
    J,
    /// Wait for response retransmissions (client non-INVITE).
    K,
    /// Wait in Accepted for 2xx retransmissions and ACKs (server INVITE, RFC 6026).
    L,
    /// Wait in Accepted for 2xx retransmissions (client INVITE, RFC 6026).
    M,
}

const ALL: [Timer; 12] = [
    Timer::A,
    Timer::B,
    Timer::D,
    Timer::E,
    Timer::F,
    Timer::G,
    Timer::H,
    Timer::I,
    Timer::J,
    Timer::K,
    Timer::L,
    Timer::M,
];

fn slot(t: Timer) -> usize {
    ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// The armed timers of one transaction: a deadline per timer.
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 12],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[slot(timer)] = Some(at);
    }

    pub(crate) fn clear(&mut self, timer: Timer) {
        self.deadlines[slot(timer)] = None;
    }

    pub(crate) fn clear_all(&mut self) {
        self.deadlines = [None; 12];
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The earliest timer due at `now`, removed from the table.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        let (i, _) = self
            .deadlines
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .filter(|(_, d)| *d <= now)
            .min_by_key(|(_, d)| *d)?;
        self.deadlines[i] = None;
        Some(ALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_timers_come_out_earliest_first() {
        let t0 = Instant::now();
        let mut t = TimerTable::default();
        t.set(Timer::B, t0 + Duration::from_secs(32));
        t.set(Timer::A, t0 + Duration::from_millis(500));
        assert_eq!(t.next(), Some(t0 + Duration::from_millis(500)));
        assert_eq!(t.pop_due(t0), None);
        assert_eq!(t.pop_due(t0 + Duration::from_secs(40)), Some(Timer::A));
        assert_eq!(t.pop_due(t0 + Duration::from_secs(40)), Some(Timer::B));
        assert_eq!(t.next(), None);
    }
}
