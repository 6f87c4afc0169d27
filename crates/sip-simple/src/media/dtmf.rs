//! RFC 4733 telephone-event payloads and the DTMF digit ↔ event code mapping.

use bytes::Bytes;
use thiserror::Error;

/// The DTMF digits in event-code order: "0".."9" are 0..9, "*" 10, "#" 11, "A".."D" 12..15
/// (RFC 4733 §3.2).
pub const DTMF_DIGITS: &str = "0123456789*#ABCD";

/// The RFC 4733 event code of a DTMF digit ("a".."d" count as "A".."D").
pub fn digit_to_event(digit: char) -> Option<u8> {
    let digit = digit.to_ascii_uppercase();
    DTMF_DIGITS
        .chars()
        .position(|d| d == digit)
        .and_then(|p| u8::try_from(p).ok())
}

/// The DTMF digit of an RFC 4733 event code (0..=15); other events (flash, tones) have none.
pub fn event_to_digit(event: u8) -> Option<char> {
    DTMF_DIGITS.chars().nth(usize::from(event))
}

/// Why DTMF cannot be sent or a telephone-event payload not read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// The payload is shorter than the 4 octets of an event.
    #[error("telephone-event payload of {len} octets (4 needed)")]
    Truncated {
        /// Length of the payload.
        len: usize,
    },
    /// The character is not one of 0-9, *, #, A-D.
    #[error("{digit:?} is not a DTMF digit (0-9, *, #, A-D)")]
    UnknownDigit {
        /// The character.
        digit: char,
    },
}

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DtmfEvent {
    /// Event code: 0..=15 for DTMF digits.
    pub event: u8,
    /// The E bit: the last packet(s) of the event.
    pub end: bool,
    /// Power level in −dBm0 (0..=63; 6 bits are written).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl DtmfEvent {
    /// Reads the first 4 octets of a telephone-event payload; the reserved bit is ignored.
    ///
    /// Returns [`DtmfError::Truncated`] for a payload shorter than 4 octets.
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let [event, flags, d0, d1, ..] = *payload else {
            return Err(DtmfError::Truncated { len: payload.len() });
        };
        Ok(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// The 4-octet payload.
    pub fn to_bytes(&self) -> Bytes {
        let flags = (u8::from(self.end) << 7) | (self.volume & 0x3f);
        let [d0, d1] = self.duration.to_be_bytes();
        Bytes::copy_from_slice(&[self.event, flags, d0, d1])
    }

    /// The DTMF digit of the event, if it is one.
    pub fn digit(&self) -> Option<char> {
        event_to_digit(self.event)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
            match DtmfEvent::parse(&bytes) {
                Ok(e) => {
                    prop_assert!(bytes.len() >= 4);
                    prop_assert_eq!(DtmfEvent::parse(&e.to_bytes()), Ok(e));
                    // The reserved bit is the only one not kept.
                    prop_assert_eq!(&e.to_bytes()[..], &[bytes[0], bytes[1] & 0xbf, bytes[2], bytes[3]]);
                }
                Err(e) => prop_assert_eq!(e, DtmfError::Truncated { len: bytes.len() }),
            }
        }
    }

    #[test]
    fn digits_map_to_codes_and_back() {
        for (code, digit) in DTMF_DIGITS.chars().enumerate() {
            assert_eq!(digit_to_event(digit), Some(code as u8));
            assert_eq!(event_to_digit(code as u8), Some(digit));
        }
        assert_eq!(digit_to_event('a'), Some(12));
        assert_eq!(digit_to_event('d'), Some(15));
        assert_eq!(digit_to_event('E'), None);
        assert_eq!(digit_to_event(' '), None);
        assert_eq!(event_to_digit(16), None); // flash
        assert_eq!(event_to_digit(255), None);
    }

    #[test]
    fn payload_layout_matches_rfc_4733() {
        // Event 5, end, volume 10, duration 800: 05 8a 03 20.
        let e = DtmfEvent {
            event: 5,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(&e.to_bytes()[..], &[0x05, 0x8a, 0x03, 0x20]);
        assert_eq!(DtmfEvent::parse(&e.to_bytes()), Ok(e));
        assert_eq!(e.digit(), Some('5'));
        // The reserved bit is ignored; extra octets too.
        let e2 = DtmfEvent::parse(&[11, 0x4f, 0, 160, 9, 9]).unwrap();
        assert_eq!(
            e2,
            DtmfEvent {
                event: 11,
                end: false,
                volume: 15,
                duration: 160
            }
        );
        assert_eq!(e2.digit(), Some('#'));
        // Volume is 6 bits on the wire.
        let loud = DtmfEvent { volume: 0xff, ..e };
        assert_eq!(DtmfEvent::parse(&loud.to_bytes()).unwrap().volume, 0x3f);
    }

    #[test]
    fn truncated_payload_is_an_error() {
        for len in 0..4 {
            assert_eq!(
                DtmfEvent::parse(&[1, 2, 3][..len.min(3)]),
                Err(DtmfError::Truncated { len: len.min(3) })
            );
        }
        assert!(DtmfError::Truncated { len: 2 }
            .to_string()
            .contains("2 octets"));
    }
}
