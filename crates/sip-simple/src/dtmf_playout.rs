//! DTMF strings a stream is sending, without IO: each digit as RFC 4733 telephone-events or
//! as in-band tones, one 20 ms tick at a time, with gaps between digits and pauses for `-`.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use crate::error::CallError;
use crate::media::{
    digit_to_event, AudioCodec, DtmfSender, RtpPacket, RtpSender, ToneGenerator, SAMPLES_PER_PACKET,
};
use crate::rtp_source::silence;

/// How long each DTMF digit lasts (Net::SIP's default).
const DIGIT_DURATION: Duration = Duration::from_millis(100);
/// Silent packets after each digit: 60 ms, so that repeated digits stay apart for any
/// receiver (in-band detectors need a gap, RFC 4733 receivers a new timestamp).
const DIGIT_GAP_TICKS: usize = 3;
/// Silent packets a `-` in a DTMF string stands for: 100 ms.
const PAUSE_TICKS: usize = 5;
/// The most digits queued at once: bounds the memory a caller can make us hold.
pub(crate) const MAX_DTMF_DIGITS: usize = 256;

/// What one DTMF tick sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DtmfTick {
    /// A telephone-event packet, numbered already.
    Event(RtpPacket),
    /// An audio payload (a tone, or silence between digits).
    Audio(Bytes),
}

/// A DTMF string being sent.
#[derive(Debug)]
struct DtmfJob {
    id: u64,
    digits: VecDeque<char>,
    /// `Some(pt)`: RFC 4733 events under pt; `None`: in-band tones.
    event_pt: Option<u8>,
}

/// The DTMF strings queued on a stream and the ticks of the digit being sent.
#[derive(Debug, Default)]
pub(crate) struct DtmfPlayout {
    jobs: VecDeque<DtmfJob>,
    ticks: VecDeque<DtmfTick>,
}

impl DtmfPlayout {
    /// Whether a digit is going out now (audio answers then wait).
    pub(crate) fn is_playing(&self) -> bool {
        !self.ticks.is_empty()
    }

    /// Whether nothing is queued nor going out.
    pub(crate) fn is_idle(&self) -> bool {
        self.jobs.is_empty() && self.ticks.is_empty()
    }

    /// Queues `digits` (0-9, A-D, *, #; `-` for a pause) as events under `event_pt`, or as
    /// tones when `None`.
    pub(crate) fn queue(
        &mut self,
        id: u64,
        digits: &str,
        event_pt: Option<u8>,
    ) -> Result<(), CallError> {
        if let Some(bad) = digits
            .chars()
            .find(|&c| c != '-' && digit_to_event(c).is_none())
        {
            return Err(CallError::BadDtmfDigit(bad));
        }
        let queued: usize = self.jobs.iter().map(|j| j.digits.len()).sum();
        if queued + digits.chars().count() > MAX_DTMF_DIGITS {
            return Err(CallError::WrongState {
                operation: "sending more DTMF",
                state: format!("{queued} digits still queued"),
            });
        }
        self.jobs.push_back(DtmfJob {
            id,
            digits: digits.chars().collect(),
            event_pt,
        });
        Ok(())
    }

    /// The next tick to send in `codec` on `rtp`'s stream, with the ids of the strings now
    /// completely sent; `None` when no DTMF is going out.
    pub(crate) fn next_tick(
        &mut self,
        codec: AudioCodec,
        rtp: &mut RtpSender,
        done: &mut Vec<u64>,
    ) -> Option<DtmfTick> {
        if self.ticks.is_empty() {
            self.next_digit(codec, rtp, done);
        }
        let tick = self.ticks.pop_front()?;
        if self.ticks.is_empty() && self.jobs.front().is_some_and(|j| j.digits.is_empty()) {
            if let Some(job) = self.jobs.pop_front() {
                done.push(job.id);
            }
        }
        Some(tick)
    }

    /// Turns the next digit of the current string into ticks.
    fn next_digit(&mut self, codec: AudioCodec, rtp: &mut RtpSender, done: &mut Vec<u64>) {
        loop {
            let Some(job) = self.jobs.front_mut() else {
                return;
            };
            let Some(digit) = job.digits.pop_front() else {
                // An empty string: done at once.
                if let Some(job) = self.jobs.pop_front() {
                    done.push(job.id);
                }
                continue;
            };
            let gap = if digit == '-' {
                PAUSE_TICKS
            } else {
                DIGIT_GAP_TICKS
            };
            match (digit, job.event_pt) {
                ('-', _) => {}
                (_, Some(pt)) => {
                    let sender = DtmfSender::new(pt).with_duration(DIGIT_DURATION);
                    // The digit was checked when queued.
                    if let Ok(packets) = sender.packets(digit, rtp) {
                        self.ticks.extend(packets.into_iter().map(DtmfTick::Event));
                    }
                }
                (_, None) => {
                    if let Ok(samples) = ToneGenerator::new().samples(digit, DIGIT_DURATION) {
                        for chunk in samples.chunks(SAMPLES_PER_PACKET) {
                            let mut frame = codec.encode(chunk);
                            frame.resize(SAMPLES_PER_PACKET, codec.silence_byte());
                            self.ticks.push_back(DtmfTick::Audio(Bytes::from(frame)));
                        }
                    }
                }
            }
            for _ in 0..gap {
                self.ticks.push_back(DtmfTick::Audio(silence(codec)));
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(p: &mut DtmfPlayout, rtp: &mut RtpSender) -> (Vec<DtmfTick>, Vec<u64>) {
        let mut done = Vec::new();
        let ticks = std::iter::from_fn(|| p.next_tick(AudioCodec::Pcmu, rtp, &mut done)).collect();
        (ticks, done)
    }

    #[test]
    fn digits_pauses_and_gaps_take_their_ticks() {
        let mut rtp = RtpSender::new(0, 8000, 1, 0, 0);
        let mut p = DtmfPlayout::default();
        p.queue(1, "1-", Some(101)).unwrap();
        p.queue(2, "", None).unwrap();
        p.queue(3, "2", None).unwrap();
        let (ticks, done) = drain(&mut p, &mut rtp);
        // "1": 7 event packets and a 3-tick gap; "-": 5 ticks; "": nothing; "2": 5 tone
        // ticks and the gap.
        assert_eq!(ticks.len(), 7 + 3 + 5 + 5 + 3);
        assert!(matches!(ticks[0], DtmfTick::Event(_)));
        assert!(matches!(ticks[7], DtmfTick::Audio(ref a) if a[..] == [0xff; 160]));
        assert!(matches!(ticks[15], DtmfTick::Audio(ref a) if a[..] != [0xff; 160]));
        assert_eq!(done, [1, 2, 3]);
        assert!(!p.is_playing());
    }

    #[test]
    fn bad_digits_and_too_many_are_refused() {
        let mut p = DtmfPlayout::default();
        assert_eq!(p.queue(1, "12e", None), Err(CallError::BadDtmfDigit('e')));
        p.queue(1, &"1".repeat(MAX_DTMF_DIGITS), None).unwrap();
        assert!(matches!(
            p.queue(2, "1", None),
            Err(CallError::WrongState { .. })
        ));
    }
}
