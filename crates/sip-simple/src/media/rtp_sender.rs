//! The sending side of one RTP stream: sequence numbers, timestamps, SR counters.

use bytes::Bytes;

use super::RtpPacket;

/// Numbers the packets of one outgoing RTP stream (RFC 3550 §5.1) and counts what was sent
/// for the sender report (§6.4.1).
///
/// The first sequence number and timestamp should be random (§5.1); they are passed in so that
/// a test or a seeded run is reproducible.
#[derive(Debug, Clone)]
pub struct RtpSender {
    payload_type: u8,
    clock_rate: u32,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    packets_sent: u32,
    octets_sent: u32,
}

impl RtpSender {
    /// A stream of `payload_type` at `clock_rate` Hz from `ssrc` whose first packet has
    /// `first_sequence` and `first_timestamp`.
    pub fn new(
        payload_type: u8,
        clock_rate: u32,
        ssrc: u32,
        first_sequence: u16,
        first_timestamp: u32,
    ) -> Self {
        Self {
            payload_type: payload_type & 0x7f,
            clock_rate,
            ssrc,
            sequence: first_sequence,
            timestamp: first_timestamp,
            packets_sent: 0,
            octets_sent: 0,
        }
    }

    /// The next packet of the stream carrying `payload`, which holds `samples` samples: the
    /// sequence number then advances by 1 (wrapping) and the timestamp by `samples`.
    pub fn packet(&mut self, payload: Bytes, samples: u32, marker: bool) -> RtpPacket {
        let timestamp = self.timestamp;
        let payload_type = self.payload_type;
        let packet = self.packet_at(payload_type, timestamp, payload, marker);
        self.timestamp = self.timestamp.wrapping_add(samples);
        packet
    }

    /// A packet of this stream with another payload type and an explicit timestamp, as RFC 4733
    /// telephone-events need (all packets of an event carry the event's start timestamp): the
    /// sequence number advances by 1, the stream's timestamp does not move.
    pub fn packet_at(
        &mut self,
        payload_type: u8,
        timestamp: u32,
        payload: Bytes,
        marker: bool,
    ) -> RtpPacket {
        let packet = RtpPacket {
            payload_type: payload_type & 0x7f,
            marker,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
            csrc: Vec::new(),
            payload,
        };
        self.sequence = self.sequence.wrapping_add(1);
        self.packets_sent = self.packets_sent.wrapping_add(1);
        // The SR octet count wraps like the packet count (RFC 3550 §6.4.1).
        self.octets_sent = self
            .octets_sent
            .wrapping_add(u32::try_from(packet.payload.len()).unwrap_or(u32::MAX));
        packet
    }

    /// Silence that is not sent: the timestamp advances by `samples`, the sequence number
    /// does not (RFC 3550 §5.1: the timestamp counts sampling instants, sent or not).
    pub fn skip(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
    }

    /// The synchronization source of the stream.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The payload type of [`RtpSender::packet`]s.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// The clock rate of the timestamps, in Hz.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// The sequence number of the next packet.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// The timestamp of the next [`RtpSender::packet`].
    pub fn next_timestamp(&self) -> u32 {
        self.timestamp
    }

    /// Packets sent so far, wrapping at 2^32 (the SR sender's packet count).
    pub fn packets_sent(&self) -> u32 {
        self.packets_sent
    }

    /// Payload octets sent so far, wrapping at 2^32 (the SR sender's octet count).
    pub fn octets_sent(&self) -> u32 {
        self.octets_sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_advances_sequence_and_timestamp_with_wrap() {
        let mut tx = RtpSender::new(0, 8000, 0x1234_5678, 0xfffe, u32::MAX - 100);
        let p1 = tx.packet(Bytes::from_static(&[0xff; 160]), 160, true);
        let p2 = tx.packet(Bytes::from_static(&[0xff; 160]), 160, false);
        let p3 = tx.packet(Bytes::from_static(&[0xff; 80]), 80, false);
        assert_eq!((p1.sequence, p2.sequence, p3.sequence), (0xfffe, 0xffff, 0));
        assert_eq!(p1.timestamp, u32::MAX - 100);
        assert_eq!(p2.timestamp, 59); // wrapped: MAX - 100 + 160
        assert_eq!(p3.timestamp, 219);
        assert!(p1.marker && !p2.marker);
        assert_eq!((p1.ssrc, p1.payload_type), (0x1234_5678, 0));
        assert_eq!(tx.packets_sent(), 3);
        assert_eq!(tx.octets_sent(), 400);
        assert_eq!(tx.next_sequence(), 1);
        assert_eq!(tx.next_timestamp(), 299);
    }

    #[test]
    fn skip_moves_timestamp_not_sequence() {
        let mut tx = RtpSender::new(8, 8000, 7, 100, 1000);
        tx.packet(Bytes::from_static(b"x"), 160, false);
        tx.skip(320);
        let p = tx.packet(Bytes::from_static(b"y"), 160, true);
        assert_eq!(p.sequence, 101);
        assert_eq!(p.timestamp, 1000 + 160 + 320);
        assert_eq!(tx.packets_sent(), 2);
        assert_eq!(tx.octets_sent(), 2);
    }

    #[test]
    fn packet_at_keeps_stream_timestamp() {
        let mut tx = RtpSender::new(0, 8000, 7, 10, 5000);
        let e = tx.packet_at(101, 5000, Bytes::from_static(&[1, 0x8a, 0, 160]), true);
        assert_eq!((e.payload_type, e.sequence, e.timestamp), (101, 10, 5000));
        let a = tx.packet(Bytes::new(), 160, false);
        assert_eq!((a.payload_type, a.sequence, a.timestamp), (0, 11, 5000));
        // The payload type's top bit is the marker's place on the wire: it is masked.
        let mut tx = RtpSender::new(0xff, 8000, 1, 0, 0);
        assert_eq!(tx.payload_type(), 0x7f);
        assert_eq!(tx.packet(Bytes::new(), 0, false).payload_type, 0x7f);
    }
}
