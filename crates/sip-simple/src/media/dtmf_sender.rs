//! Sending a DTMF digit as RFC 4733 telephone-events.

use std::time::Duration;

use super::{digit_to_event, DtmfError, DtmfEvent, RtpPacket, RtpSender, PACKET_DURATION};

/// How long a digit is sent by default.
pub const DEFAULT_DTMF_DURATION: Duration = Duration::from_millis(100);

/// How many times the final packet of an event is sent (RFC 4733 §2.5.1.4).
const END_PACKETS: usize = 3;

/// The longest event one timestamp can describe: the 16-bit duration field, in samples.
const MAX_DURATION_UNITS: u32 = u16::MAX as u32;

/// Turns a DTMF digit into the telephone-event packets that carry it (RFC 4733 §2.5.1): one
/// packet per 20 ms, all with the event's start timestamp, the first with the marker bit,
/// each with the duration so far, and the final one (E bit set) sent three times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfSender {
    payload_type: u8,
    duration: Duration,
    volume: u8,
    clock_rate: u32,
}

impl DtmfSender {
    /// Sends events with `payload_type` (the telephone-event payload type the SDP negotiated,
    /// often 101), 100 ms per digit, volume −10 dBm0, at 8000 Hz.
    pub fn new(payload_type: u8) -> Self {
        Self {
            payload_type: payload_type & 0x7f,
            duration: DEFAULT_DTMF_DURATION,
            volume: 10,
            clock_rate: 8000,
        }
    }

    /// The same sender with another digit duration. One event lasts at most 65535 timestamp
    /// units (8.19 s at 8 kHz): longer is cut to that; shorter than one packet is one packet.
    pub fn with_duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// The same sender with another volume in −dBm0 (0..=63, higher is clipped).
    pub fn with_volume(mut self, volume: u8) -> Self {
        self.volume = volume.min(63);
        self
    }

    /// The same sender for a telephone-event clock rate other than 8000 Hz (from SDP's
    /// `a=rtpmap:101 telephone-event/RATE`).
    pub fn with_clock_rate(mut self, clock_rate: u32) -> Self {
        self.clock_rate = clock_rate.max(1);
        self
    }

    /// The telephone-event payload type.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// The digit duration.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Timestamp units per 20 ms packet.
    fn units_per_packet(&self) -> u32 {
        // 20 ms is 1/50 s.
        (self.clock_rate / 50).max(1)
    }

    /// The events of one digit, one per 20 ms packet: durations growing by a packet's worth,
    /// then the final duration three times with the E bit.
    ///
    /// Returns [`DtmfError::UnknownDigit`] for a character that is not 0-9, *, #, A-D.
    pub fn events(&self, digit: char) -> Result<Vec<DtmfEvent>, DtmfError> {
        let event = digit_to_event(digit).ok_or(DtmfError::UnknownDigit { digit })?;
        let step = self.units_per_packet();
        let total = u128::from(self.clock_rate) * self.duration.as_micros() / 1_000_000;
        let total = total.min(u128::from(MAX_DURATION_UNITS)) as u32;
        let total = total.max(step.min(MAX_DURATION_UNITS));
        let mut events: Vec<DtmfEvent> = (1..)
            .map(|i| i * step)
            .take_while(|&d| d < total)
            .map(|d| DtmfEvent {
                event,
                end: false,
                volume: self.volume,
                duration: d as u16,
            })
            .collect();
        let last = DtmfEvent {
            event,
            end: true,
            volume: self.volume,
            // total <= MAX_DURATION_UNITS fits 16 bits.
            duration: total as u16,
        };
        events.extend([last; END_PACKETS]);
        Ok(events)
    }

    /// The RTP packets of one digit on `rtp`'s stream: same SSRC, consecutive sequence
    /// numbers, all with `rtp`'s current timestamp, the first with the marker bit. Send one
    /// per 20 ms tick instead of audio; `rtp`'s timestamp is advanced by the ticks they take,
    /// so that audio resumes with the right timestamp.
    pub fn packets(&self, digit: char, rtp: &mut RtpSender) -> Result<Vec<RtpPacket>, DtmfError> {
        let events = self.events(digit)?;
        let timestamp = rtp.next_timestamp();
        let packets: Vec<RtpPacket> = events
            .iter()
            .enumerate()
            .map(|(i, e)| rtp.packet_at(self.payload_type, timestamp, e.to_bytes(), i == 0))
            .collect();
        // One tick of the audio clock per packet; the audio codecs here run at 8 kHz like
        // the events, so ticks are counted in the audio stream's clock.
        let ticks = packets.len() as u64;
        let per_tick = u64::from(rtp.clock_rate()) * PACKET_DURATION.as_millis() as u64 / 1000;
        rtp.skip(u32::try_from(ticks * per_tick).unwrap_or(u32::MAX));
        Ok(packets)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn default_digit_is_five_updates_and_three_ends() {
        let events = DtmfSender::new(101).events('7').unwrap();
        let durations: Vec<(u16, bool)> = events.iter().map(|e| (e.duration, e.end)).collect();
        assert_eq!(
            durations,
            [
                (160, false),
                (320, false),
                (480, false),
                (640, false),
                (800, true),
                (800, true),
                (800, true)
            ]
        );
        assert!(events.iter().all(|e| e.event == 7 && e.volume == 10));
    }

    #[test]
    fn packets_share_timestamp_marker_on_first_and_audio_resumes() {
        let mut rtp = RtpSender::new(0, 8000, 0xabc, 500, 10_000);
        rtp.packet(Bytes::from_static(&[0xff; 160]), 160, true);
        let tx = DtmfSender::new(96).with_duration(Duration::from_millis(60));
        let packets = tx.packets('#', &mut rtp).unwrap();
        assert_eq!(packets.len(), 2 + 3);
        for (i, p) in packets.iter().enumerate() {
            assert_eq!(p.payload_type, 96);
            assert_eq!(p.timestamp, 10_160);
            assert_eq!(p.ssrc, 0xabc);
            assert_eq!(p.sequence, 501 + i as u16);
            assert_eq!(p.marker, i == 0);
            let e = DtmfEvent::parse(&p.payload).unwrap();
            assert_eq!(e.digit(), Some('#'));
            assert_eq!(e.end, i >= 2);
        }
        let next_audio = rtp.packet(Bytes::from_static(&[0xff; 160]), 160, true);
        assert_eq!(next_audio.sequence, 506);
        assert_eq!(next_audio.timestamp, 10_160 + 5 * 160);
        assert_eq!(next_audio.payload_type, 0);
    }

    #[test]
    fn durations_are_clamped() {
        // Shorter than one packet: one packet's worth, ends only.
        let short = DtmfSender::new(101).with_duration(Duration::from_millis(5));
        let events = short.events('1').unwrap();
        assert_eq!(events.len(), 3);
        assert!(events.iter().all(|e| e.end && e.duration == 160));
        // Longer than 16 bits of duration: cut to 65535.
        let long = DtmfSender::new(101).with_duration(Duration::from_secs(3600));
        let events = long.events('1').unwrap();
        assert_eq!(events.last().unwrap().duration, u16::MAX);
        assert_eq!(events.len(), 409 + 3);
        // Wideband clock: 320 units per 20 ms.
        let wide = DtmfSender::new(101)
            .with_clock_rate(16_000)
            .with_volume(200);
        let events = wide.events('2').unwrap();
        assert_eq!(events[0].duration, 320);
        assert_eq!(events[0].volume, 63);
        assert_eq!(events.last().unwrap().duration, 1600);
    }

    #[test]
    fn unknown_digit_is_an_error() {
        let mut rtp = RtpSender::new(0, 8000, 1, 0, 0);
        assert_eq!(
            DtmfSender::new(101).packets('x', &mut rtp),
            Err(DtmfError::UnknownDigit { digit: 'x' })
        );
        // Nothing was numbered.
        assert_eq!((rtp.next_sequence(), rtp.next_timestamp()), (0, 0));
    }
}
