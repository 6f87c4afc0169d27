//! Receiving DTMF digits from RFC 4733 telephone-events.

use std::collections::VecDeque;

use super::{DtmfError, DtmfEvent, RtpPacket};

/// Timestamps of recent events remembered to recognize their retransmissions.
const RECENT_EVENTS: usize = 16;

/// A segment of a long event ends this close to the 16-bit duration limit (RFC 4733
/// §2.5.1.3); an event whose duration got there may continue under a new timestamp.
const SEGMENT_END: u16 = u16::MAX - 2000;

/// The latest event seen.
#[derive(Debug, Clone, Copy)]
struct Current {
    timestamp: u32,
    event: u8,
    ended: bool,
    duration: u16,
}

/// Turns received telephone-event packets into DTMF digits, each digit once: an event is
/// identified by its timestamp (RFC 4733 §2.5.2), so its updates, its end packets and their
/// retransmissions report nothing more. A digit is reported with the first packet of its
/// event that arrives, so a lost start or lost ends do not lose the digit.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    payload_type: u8,
    recent: VecDeque<u32>,
    current: Option<Current>,
}

impl DtmfReceiver {
    /// Receives telephone-events of `payload_type` (from the SDP).
    pub fn new(payload_type: u8) -> Self {
        Self {
            payload_type: payload_type & 0x7f,
            recent: VecDeque::with_capacity(RECENT_EVENTS),
            current: None,
        }
    }

    /// The telephone-event payload type.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Takes one received packet: the digit if it starts a new DTMF event; `None` for a packet
    /// of another payload type, of an event already reported, older than the latest event, or
    /// of a non-DTMF event (flash, tones).
    ///
    /// Returns [`DtmfError::Truncated`] for a telephone-event payload shorter than 4 octets.
    pub fn handle_packet(&mut self, packet: &RtpPacket) -> Result<Option<char>, DtmfError> {
        if packet.payload_type != self.payload_type {
            return Ok(None);
        }
        let event = DtmfEvent::parse(&packet.payload)?;
        let timestamp = packet.timestamp;
        if self.recent.contains(&timestamp) {
            if let Some(current) = self.current.as_mut().filter(|c| c.timestamp == timestamp) {
                current.ended |= event.end;
                current.duration = current.duration.max(event.duration);
            }
            return Ok(None);
        }
        if let Some(current) = self.current {
            // Serial arithmetic: a timestamp "before" the latest event is a stale packet.
            if (timestamp.wrapping_sub(current.timestamp) as i32) < 0 {
                return Ok(None);
            }
        }
        let continues = self.current.is_some_and(|c| {
            !packet.marker && !c.ended && c.event == event.event && c.duration >= SEGMENT_END
        });
        if self.recent.len() == RECENT_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back(timestamp);
        self.current = Some(Current {
            timestamp,
            event: event.event,
            ended: event.end,
            duration: event.duration,
        });
        if continues {
            return Ok(None);
        }
        Ok(event.digit())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::media::{DtmfSender, RtpSender};

    fn event_packet(ts: u32, marker: bool, event: u8, end: bool, duration: u16) -> RtpPacket {
        RtpPacket {
            payload_type: 101,
            marker,
            sequence: 0,
            timestamp: ts,
            ssrc: 1,
            csrc: Vec::new(),
            payload: DtmfEvent {
                event,
                end,
                volume: 10,
                duration,
            }
            .to_bytes(),
        }
    }

    #[test]
    fn each_sent_digit_is_received_once() {
        let mut rtp = RtpSender::new(0, 8000, 9, 0, 0);
        let tx = DtmfSender::new(101);
        let mut rx = DtmfReceiver::new(101);
        let mut got = String::new();
        for digit in "1234567890*#ABCD11".chars() {
            for p in tx.packets(digit, &mut rtp).unwrap() {
                // Every packet twice, as a duplicating network would.
                for _ in 0..2 {
                    if let Some(d) = rx.handle_packet(&p).unwrap() {
                        got.push(d);
                    }
                }
            }
        }
        assert_eq!(got, "1234567890*#ABCD11");
    }

    #[test]
    fn lost_start_still_reports_and_stale_packets_do_not() {
        let mut rx = DtmfReceiver::new(101);
        // Only the end packets of an event arrive.
        assert_eq!(
            rx.handle_packet(&event_packet(800, false, 3, true, 800)),
            Ok(Some('3'))
        );
        assert_eq!(
            rx.handle_packet(&event_packet(800, false, 3, true, 800)),
            Ok(None)
        );
        assert_eq!(
            rx.handle_packet(&event_packet(1600, true, 4, false, 160)),
            Ok(Some('4'))
        );
        // A retransmitted end of the first event, after the recent list forgot it, is older.
        for ts in 0..20u32 {
            rx.handle_packet(&event_packet(2000 + ts * 800, true, 5, true, 800))
                .unwrap();
        }
        assert_eq!(
            rx.handle_packet(&event_packet(800, false, 3, true, 800)),
            Ok(None)
        );
    }

    #[test]
    fn other_payload_types_and_events_are_ignored() {
        let mut rx = DtmfReceiver::new(101);
        let mut audio = event_packet(0, true, 1, false, 160);
        audio.payload_type = 0;
        assert_eq!(rx.handle_packet(&audio), Ok(None));
        // Event 16 is flash: not a digit.
        assert_eq!(
            rx.handle_packet(&event_packet(160, true, 16, false, 160)),
            Ok(None)
        );
        let mut short = event_packet(320, true, 1, false, 160);
        short.payload = Bytes::from_static(&[1, 2]);
        assert_eq!(
            rx.handle_packet(&short),
            Err(DtmfError::Truncated { len: 2 })
        );
    }

    #[test]
    fn long_event_segments_are_one_digit_but_a_new_press_is_another() {
        let mut rx = DtmfReceiver::new(101);
        assert_eq!(
            rx.handle_packet(&event_packet(0, true, 9, false, 160)),
            Ok(Some('9'))
        );
        assert_eq!(
            rx.handle_packet(&event_packet(0, false, 9, false, u16::MAX)),
            Ok(None)
        );
        // The next segment: new timestamp, no marker, same event.
        assert_eq!(
            rx.handle_packet(&event_packet(65_535, false, 9, false, 160)),
            Ok(None)
        );
        assert_eq!(
            rx.handle_packet(&event_packet(65_535, false, 9, true, 800)),
            Ok(None)
        );
        // After the end, the same digit again is a new press.
        assert_eq!(
            rx.handle_packet(&event_packet(70_000, true, 9, false, 160)),
            Ok(Some('9'))
        );
        // A short event of the same digit whose end was lost, then a new one whose marker was
        // lost: still two presses, because the first was far from a segment's end.
        assert_eq!(
            rx.handle_packet(&event_packet(80_000, false, 9, false, 160)),
            Ok(Some('9'))
        );
    }
}
