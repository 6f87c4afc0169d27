//! What a call reports about its media: packets, loss, jitter, round-trip time.

use std::time::{Duration, SystemTime};

use super::{ntp_middle32, ntp_timestamp, JitterBuffer, ReportBlock, RtpSender};

/// The round-trip time a report block about our stream shows (RFC 3550 §6.4.1): arrival −
/// LSR − DLSR, in 1/65536 s. `None` if the peer has not received an SR from us yet (LSR 0)
/// or the result would be negative (clocks or a forged block).
pub fn round_trip_time(block: &ReportBlock, arrival: SystemTime) -> Option<Duration> {
    if block.last_sr == 0 {
        return None;
    }
    let now = ntp_middle32(ntp_timestamp(arrival));
    let rtt = now
        .wrapping_sub(block.last_sr)
        .wrapping_sub(block.delay_since_last_sr);
    if (rtt as i32) < 0 {
        return None;
    }
    Some(Duration::from_nanos(u64::from(rtt) * 1_000_000_000 / 65536))
}

/// Counters of one call's media, for logs, `netsip bench` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct MediaStats {
    /// RTP packets sent.
    pub packets_sent: u64,
    /// Payload octets sent.
    pub octets_sent: u64,
    /// RTP packets received (duplicates and late ones included).
    pub packets_received: u64,
    /// Packets that never arrived in time to be played.
    pub packets_lost: u64,
    /// Packets that arrived after their turn.
    pub packets_late: u64,
    /// Packets that arrived twice.
    pub duplicates: u64,
    /// Interarrival jitter of the received stream.
    pub jitter: Duration,
    /// Round-trip time from the peer's last report block about our stream.
    pub round_trip: Option<Duration>,
    /// Fraction of our packets the peer lost, from its last report block (0.0..1.0).
    pub remote_fraction_lost: Option<f64>,
}

impl MediaStats {
    /// No media yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the counters of the sending side.
    pub fn record_sender(&mut self, sender: &RtpSender) {
        self.packets_sent = u64::from(sender.packets_sent());
        self.octets_sent = u64::from(sender.octets_sent());
    }

    /// Takes the counters of the receiving side.
    pub fn record_receiver(&mut self, buffer: &JitterBuffer) {
        self.packets_received = buffer.received();
        self.packets_lost = buffer.lost();
        self.packets_late = buffer.late();
        self.duplicates = buffer.duplicates();
        self.jitter = buffer.jitter_duration();
    }

    /// Takes a report block the peer sent about our stream, which arrived at `arrival`.
    pub fn record_report(&mut self, block: &ReportBlock, arrival: SystemTime) {
        if let Some(rtt) = round_trip_time(block, arrival) {
            self.round_trip = Some(rtt);
        }
        self.remote_fraction_lost = Some(f64::from(block.fraction_lost) / 256.0);
    }

    /// Share of the packets due to play that were lost (0.0 with none due).
    pub fn loss_ratio(&self) -> f64 {
        let played = self
            .packets_received
            .saturating_sub(self.duplicates + self.packets_late);
        let due = played + self.packets_lost;
        if due == 0 {
            0.0
        } else {
            self.packets_lost as f64 / due as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, UNIX_EPOCH};

    use bytes::Bytes;

    use super::*;
    use crate::media::RtpPacket;

    #[test]
    fn round_trip_from_lsr_and_dlsr() {
        // RFC 3550 §6.4.1's example in 1/65536 s: A = 0xb710_8000 (46864.500 s), LSR =
        // 0xb705_2000 (46853.125 s), DLSR = 0x0005_4000 (5.250 s): RTT 6.125 s.
        let arrival = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = ntp_middle32(ntp_timestamp(arrival));
        let block = ReportBlock {
            last_sr: a.wrapping_sub(0xb710_8000 - 0xb705_2000),
            delay_since_last_sr: 0x0005_4000,
            ..ReportBlock::default()
        };
        assert_eq!(
            round_trip_time(&block, arrival),
            Some(Duration::from_millis(6125))
        );
        // No SR seen yet, or a DLSR larger than the time since: nothing.
        assert_eq!(round_trip_time(&ReportBlock::default(), arrival), None);
        let forged = ReportBlock {
            last_sr: a,
            delay_since_last_sr: 0x10_0000,
            ..ReportBlock::default()
        };
        assert_eq!(round_trip_time(&forged, arrival), None);
    }

    #[test]
    fn collects_sender_receiver_and_report() {
        let mut tx = RtpSender::new(0, 8000, 1, 0, 0);
        for _ in 0..3 {
            tx.packet(Bytes::from_static(&[0xff; 160]), 160, false);
        }
        let start = Instant::now();
        let mut jb = JitterBuffer::new(Duration::from_millis(60), 8000);
        for seq in [0u16, 1, 3, 1] {
            jb.push(
                RtpPacket {
                    payload_type: 0,
                    marker: false,
                    sequence: seq,
                    timestamp: u32::from(seq) * 160,
                    ssrc: 2,
                    csrc: Vec::new(),
                    payload: Bytes::new(),
                },
                start,
            );
        }
        let later = start + Duration::from_millis(100);
        while jb.pop(later).is_some() {}
        let mut stats = MediaStats::new();
        stats.record_sender(&tx);
        stats.record_receiver(&jb);
        stats.record_report(
            &ReportBlock {
                fraction_lost: 64,
                ..ReportBlock::default()
            },
            SystemTime::now(),
        );
        assert_eq!((stats.packets_sent, stats.octets_sent), (3, 480));
        assert_eq!(stats.packets_received, 4);
        assert_eq!(stats.duplicates, 1);
        assert_eq!(stats.packets_lost, 1);
        assert_eq!(stats.remote_fraction_lost, Some(0.25));
        assert_eq!(stats.round_trip, None);
        assert!((stats.loss_ratio() - 0.25).abs() < 1e-9);
        assert_eq!(MediaStats::new().loss_ratio(), 0.0);
    }
}
