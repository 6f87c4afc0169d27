//! Probe payloads (as Net::SIP's bench/call.pl hides them in RTP): each 20 ms payload carries
//! a sequence number and the time it was sent, so that its echo tells loss and round-trip
//! delay. [`ProbeStats`] is what the echoes showed.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

/// The first octets of a probe payload.
const MAGIC: &[u8; 4] = b"nsPB";
/// Magic, sequence number (4 octets), send time in µs since the stream began (8 octets).
const HEADER: usize = 16;
/// A jump of more sequence numbers than this is not a loss but garbage.
const MAX_JUMP: u32 = 10_000;

/// A probe payload of `len` octets (at least the 16 of its header), padded with `fill`.
pub(crate) fn probe_payload(sequence: u32, sent: Duration, len: usize, fill: u8) -> Bytes {
    let mut b = BytesMut::with_capacity(len.max(HEADER));
    b.put_slice(MAGIC);
    b.put_u32(sequence);
    b.put_u64(u64::try_from(sent.as_micros()).unwrap_or(u64::MAX));
    b.resize(len.max(HEADER), fill);
    b.freeze()
}

/// The sequence number and send time of a probe payload; `None` for any other payload.
pub(crate) fn parse_probe(payload: &[u8]) -> Option<(u32, Duration)> {
    if payload.len() < HEADER || &payload[..4] != MAGIC {
        return None;
    }
    let seq = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
    let mut t = [0u8; 8];
    t.copy_from_slice(&payload[8..16]);
    Some((seq, Duration::from_micros(u64::from_be_bytes(t))))
}

/// What the echoed probes showed: how many came back, how many are missing, and the round
/// trip of those that came.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProbeStats {
    /// Probes sent.
    pub sent: u64,
    /// Probes that came back in order.
    pub received: u64,
    /// Probes skipped over by a later one (lost, or reordered).
    pub lost: u64,
    /// Probes that came back out of order, twice, or garbled.
    pub ignored: u64,
    /// Shortest round trip.
    pub delay_min: Option<Duration>,
    /// Longest round trip.
    pub delay_max: Option<Duration>,
    /// Sum of the round trips, for the average.
    delay_sum: Duration,
}

impl ProbeStats {
    /// The mean round trip.
    pub fn delay_avg(&self) -> Option<Duration> {
        let n = u32::try_from(self.received).ok().filter(|&n| n > 0)?;
        Some(self.delay_sum / n)
    }

    /// Adds another stream's probes.
    pub(crate) fn merge(&mut self, other: &Self) {
        self.sent += other.sent;
        self.received += other.received;
        self.lost += other.lost;
        self.ignored += other.ignored;
        self.delay_sum += other.delay_sum;
        self.delay_min = match (self.delay_min, other.delay_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.delay_max = match (self.delay_max, other.delay_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Numbers outgoing probes and reads their echoes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prober {
    next: u32,
    highest: u32,
    stats: ProbeStats,
}

impl Prober {
    /// The next probe, sent `now_since_start` after the stream began.
    pub(crate) fn next_payload(&mut self, now_since_start: Duration, fill: u8) -> Bytes {
        // Sequence 0 is never sent: 0 is "nothing received yet" in `highest`.
        self.next = self.next.wrapping_add(1).max(1);
        self.stats.sent += 1;
        probe_payload(
            self.next,
            now_since_start,
            crate::media::SAMPLES_PER_PACKET,
            fill,
        )
    }

    /// Reads an arrived payload at `now_since_start`; returns whether it was a probe.
    pub(crate) fn handle_echo(&mut self, payload: &[u8], now_since_start: Duration) -> bool {
        let Some((seq, sent)) = parse_probe(payload) else {
            return false;
        };
        let diff = seq.wrapping_sub(self.highest);
        if diff == 0 || diff > MAX_JUMP || seq > self.next || sent > now_since_start {
            self.stats.ignored += 1;
            return true;
        }
        self.stats.lost += u64::from(diff - 1);
        self.highest = seq;
        self.stats.received += 1;
        let delay = now_since_start - sent;
        self.stats.delay_sum += delay;
        self.stats.delay_min = Some(self.stats.delay_min.map_or(delay, |d| d.min(delay)));
        self.stats.delay_max = Some(self.stats.delay_max.map_or(delay, |d| d.max(delay)));
        true
    }

    pub(crate) fn stats(&self) -> ProbeStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn payload_round_trip() {
        let p = probe_payload(7, ms(1234), 160, 0xff);
        assert_eq!(p.len(), 160);
        assert_eq!(parse_probe(&p), Some((7, ms(1234))));
        assert_eq!(p[159], 0xff);
        assert_eq!(parse_probe(&[0xff; 160]), None);
        assert_eq!(parse_probe(b"nsPB"), None);
    }

    #[test]
    fn echoes_give_loss_and_delay() {
        let mut p = Prober::default();
        let sent: Vec<Bytes> = (0..5).map(|i| p.next_payload(ms(20 * i), 0xff)).collect();
        assert!(p.handle_echo(&sent[0], ms(5)));
        assert!(p.handle_echo(&sent[1], ms(29)));
        // 2 is lost; 3 arrives; 2 arriving late is ignored, and so is 3 twice.
        assert!(p.handle_echo(&sent[3], ms(61)));
        assert!(p.handle_echo(&sent[2], ms(62)));
        assert!(p.handle_echo(&sent[3], ms(63)));
        assert!(!p.handle_echo(&[0xff; 160], ms(64)));
        let s = p.stats();
        assert_eq!((s.sent, s.received, s.lost, s.ignored), (5, 3, 1, 2));
        assert_eq!(s.delay_min, Some(ms(1)));
        assert_eq!(s.delay_max, Some(ms(9)));
        assert_eq!(s.delay_avg(), Some(ms(5)));
        // A probe we never sent, or from the future, is garbage.
        assert!(p.handle_echo(&probe_payload(4000, ms(1), 160, 0), ms(70)));
        assert!(p.handle_echo(&probe_payload(5, ms(500), 160, 0), ms(70)));
        assert_eq!(p.stats().ignored, 4);
        let mut total = ProbeStats::default();
        total.merge(&s);
        total.merge(&s);
        assert_eq!(total.received, 6);
        assert_eq!(total.delay_avg(), Some(ms(5)));
    }
}
