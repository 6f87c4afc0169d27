//! The receive side of one RTP stream: reordering, loss, late packets, interarrival jitter.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{RtpPacket, SequenceCheck, SequenceTracker};

/// Packets a [`JitterBuffer`] holds at most by default: 5 s of 20 ms packets.
pub const DEFAULT_JITTER_CAPACITY: usize = 256;

/// A gap longer than this many packets is reported as one [`Playout::Lost`], not one per
/// packet: a caller that plays silence for each would otherwise stall on a long outage.
const MAX_LOST_RUN: i64 = 50;

/// How many sequence numbers behind the next one the buffer remembers as played, to tell a
/// duplicate from a late packet.
const PLAYED_WINDOW: i64 = 128;

/// What the [`JitterBuffer`] gives to play next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The next packet, in sequence order.
    Packet(RtpPacket),
    /// The packet with this sequence number did not arrive in time (for a gap of more than 50
    /// packets, the first missing one stands for the whole gap).
    Lost {
        /// The missing sequence number.
        sequence: u16,
    },
}

/// A packet waiting for its turn.
#[derive(Debug, Clone)]
struct Queued {
    packet: RtpPacket,
    arrival: Instant,
}

/// What the jitter computation remembers of the previous packet.
#[derive(Debug, Clone, Copy)]
struct Transit {
    payload_type: u8,
    timestamp: u32,
    /// Arrival time minus RTP timestamp, in timestamp units (wrapping).
    transit: u32,
}

/// Puts the packets of one RTP source back in sequence order and decides when a missing one
/// is lost.
///
/// A packet is given out by [`JitterBuffer::pop`] as soon as it is the next in sequence; when
/// one is missing, the buffer waits until the oldest packet behind the gap is `depth` old and
/// then reports the missing one as [`Playout::Lost`]. The very first packet also waits
/// `depth`, so that a reordered start is put right. A packet arriving after its turn passed is
/// counted as late and dropped; one seen before as a duplicate.
///
/// The buffer follows one SSRC: a packet from another SSRC starts everything anew (queue,
/// counters, jitter). Sequence numbers are extended per RFC 3550 A.1 ([`SequenceTracker`]):
/// a jump of more than 3000 is dropped unless the next packet confirms it as a restart.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    depth: Duration,
    clock_rate: u32,
    capacity: usize,
    ssrc: Option<u32>,
    tracker: SequenceTracker,
    /// Waiting packets by extended sequence number, in order. A deque rather than a tree:
    /// packets come nearly in order (each goes to the back, the next to play is at the front)
    /// and its buffer stays allocated, where a tree allocates a node for a packet that
    /// arrives to an empty buffer, which is every packet of a stream played as it comes.
    queue: VecDeque<(i64, Queued)>,
    /// Extended sequence number to play next; `None` until the first packet is given out.
    next: Option<i64>,
    /// Bit i set: sequence `next - 1 - i` was played (not lost).
    played: u128,
    received: u64,
    lost: u64,
    duplicates: u64,
    late: u64,
    overflows: u64,
    discarded: u64,
    /// Arrival clock origin for the jitter computation.
    epoch: Option<Instant>,
    /// The previous packet's relative transit time (A.8).
    last_transit: Option<Transit>,
    /// Interarrival jitter times 16 (A.8 keeps it scaled to compute it in integers).
    jitter16: u64,
}

impl JitterBuffer {
    /// A buffer that waits up to `depth` (e.g. 60 ms) for a missing packet, for a stream whose
    /// timestamps count `clock_rate` per second.
    pub fn new(depth: Duration, clock_rate: u32) -> Self {
        Self {
            depth,
            clock_rate,
            capacity: DEFAULT_JITTER_CAPACITY,
            ssrc: None,
            tracker: SequenceTracker::new(),
            queue: VecDeque::new(),
            next: None,
            played: 0,
            received: 0,
            lost: 0,
            duplicates: 0,
            late: 0,
            overflows: 0,
            discarded: 0,
            epoch: None,
            last_transit: None,
            jitter16: 0,
        }
    }

    /// The same buffer holding at most `capacity` packets (at least 1): more are dropped and
    /// counted by [`JitterBuffer::overflows`].
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Takes an arrived packet.
    pub fn push(&mut self, packet: RtpPacket, now: Instant) {
        if self.ssrc != Some(packet.ssrc) {
            if self.ssrc.is_some() {
                *self = Self::new(self.depth, self.clock_rate).with_capacity(self.capacity);
            }
            self.ssrc = Some(packet.ssrc);
        }
        let key = match self.tracker.update(packet.sequence) {
            SequenceCheck::Accepted { extended } => extended,
            SequenceCheck::Restarted { extended } => {
                self.queue.clear();
                self.next = None;
                self.played = 0;
                self.last_transit = None;
                extended
            }
            SequenceCheck::Rejected => {
                self.discarded += 1;
                return;
            }
        };
        self.received += 1;
        let Some(at) = self.slot(key).filter(|_| !self.was_played(key)) else {
            self.duplicates += 1;
            return;
        };
        self.update_jitter(&packet, now);
        if self.next.is_some_and(|next| key < next) {
            self.late += 1;
            return;
        }
        if self.queue.len() >= self.capacity {
            self.overflows += 1;
            return;
        }
        let queued = Queued {
            packet,
            arrival: now,
        };
        self.queue.insert(at, (key, queued));
    }

    /// Where `key` goes in the queue; `None` if it is queued already.
    fn slot(&self, key: i64) -> Option<usize> {
        // The common case, the next packet in order, without a search.
        match self.queue.back() {
            None => Some(0),
            Some(&(last, _)) if last < key => Some(self.queue.len()),
            Some(_) => self.queue.binary_search_by_key(&key, |&(k, _)| k).err(),
        }
    }

    fn was_played(&self, key: i64) -> bool {
        let Some(next) = self.next else {
            return false;
        };
        let back = next - 1 - key;
        (0..PLAYED_WINDOW).contains(&back) && (self.played >> back) & 1 == 1
    }

    /// RFC 3550 A.8: J += (|D| - J) / 16, D the change of relative transit time.
    fn update_jitter(&mut self, packet: &RtpPacket, now: Instant) {
        let epoch = *self.epoch.get_or_insert(now);
        let elapsed = now.saturating_duration_since(epoch).as_nanos();
        // Arrival in timestamp units; only differences matter, so it may wrap like them.
        let arrival = (elapsed * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = arrival.wrapping_sub(packet.timestamp);
        // Only packets that sample a new instant of the same payload type are compared:
        // telephone-events repeat one timestamp for 20 ms packets (RFC 4733 §2.5.1.2), and
        // their timestamps are unrelated to a transit of the audio.
        if let Some(last) = self.last_transit {
            if last.payload_type == packet.payload_type {
                if last.timestamp == packet.timestamp {
                    return;
                }
                let d = u64::from((transit.wrapping_sub(last.transit) as i32).unsigned_abs());
                // jitter16 = 16 J; 16 J' = 16 J + |D| - J.
                self.jitter16 = self.jitter16 + d - ((self.jitter16 + 8) >> 4);
            }
        }
        self.last_transit = Some(Transit {
            payload_type: packet.payload_type,
            timestamp: packet.timestamp,
            transit,
        });
    }

    /// The next packet to play, a loss, or `None` when the next one is not there yet and the
    /// packets behind it are younger than `depth`.
    pub fn pop(&mut self, now: Instant) -> Option<Playout> {
        let (key, head) = self.queue.front()?;
        let key = *key;
        let due = now.saturating_duration_since(head.arrival) >= self.depth;
        let next = match self.next {
            Some(next) => next,
            None if due => key,
            None => return None,
        };
        if key <= next {
            // key < next cannot be queued (push drops late packets); take it as the next one.
            let (_, queued) = self.queue.pop_front()?;
            self.next = Some(key + 1);
            self.played = (self.played << 1) | 1;
            return Some(Playout::Packet(queued.packet));
        }
        if !due {
            return None;
        }
        let gap = key - next;
        let lost = if gap > MAX_LOST_RUN {
            self.next = Some(key);
            gap
        } else {
            self.next = Some(next + 1);
            1
        };
        self.lost += lost as u64;
        self.played = if lost >= 128 { 0 } else { self.played << lost };
        // The low 16 bits of the extended number are the sequence number.
        Some(Playout::Lost {
            sequence: next as u16,
        })
    }

    /// When [`JitterBuffer::pop`] will give something without another packet arriving:
    /// now if the next packet is queued, else when the oldest queued one is `depth` old.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let (key, head) = self.queue.front()?;
        let key = *key;
        if self.next == Some(key) {
            Some(head.arrival)
        } else {
            Some(head.arrival + self.depth)
        }
    }

    /// The SSRC followed, once a packet arrived.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// The waiting time for a missing packet.
    pub fn depth(&self) -> Duration {
        self.depth
    }

    /// The clock rate of the timestamps, in Hz.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// Packets queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no packet is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Packets taken from this source, duplicates and late ones included (not those dropped
    /// as a sequence jump).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Sequence numbers reported as [`Playout::Lost`].
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Packets that arrived a second time.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Packets that arrived after their turn had passed.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Packets dropped because the buffer was full.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// Packets dropped as a sequence jump too large to be loss or reordering.
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1, A.8).
    pub fn jitter(&self) -> u32 {
        u32::try_from(self.jitter16 >> 4).unwrap_or(u32::MAX)
    }

    /// Interarrival jitter as a duration.
    pub fn jitter_duration(&self) -> Duration {
        if self.clock_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(
            (self.jitter16 >> 4).saturating_mul(1_000_000_000) / u64::from(self.clock_rate),
        )
    }

    /// The highest extended sequence number received (RFC 3550 A.1: cycles in the top 16
    /// bits), once a packet arrived.
    pub fn extended_highest_sequence(&self) -> Option<u32> {
        self.tracker.extended_highest()
    }

    /// The RFC 3550 A.1 sequence state, for RTCP reception reports.
    pub fn sequence(&self) -> &SequenceTracker {
        &self.tracker
    }
}

#[cfg(test)]
mod tests;
