//! A codec we can use, as given to [`MediaDescription::with_codec`](crate::MediaDescription::with_codec)
//! and to offer/answer.

use crate::rtpmap::RtpMap;

/// An RTP codec: encoding name, clock rate, channels, parameters, and the payload type number we
/// prefer for it.
///
/// ```
/// use sip_sdp::Codec;
/// let dtmf = Codec::telephone_event();
/// assert_eq!(dtmf.rtpmap(101).to_string(), "101 telephone-event/8000");
/// assert_eq!(dtmf.fmtp.as_deref(), Some("0-15"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Codec {
    /// The encoding name (`PCMU`, `opus`, `telephone-event`), compared without regard to case.
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count, when not 1.
    pub channels: Option<u16>,
    /// Format parameters for `a=fmtp`, when the codec has any.
    pub fmtp: Option<String>,
    /// The payload type number to use when we write the first description: the static number
    /// for static codecs, a dynamic one (96-127) otherwise, `None` to take the first free one.
    pub payload_type: Option<u8>,
}

impl Codec {
    /// A codec without parameters; its payload type is the static one of RFC 3551 if the name
    /// and clock rate match one.
    pub fn new(encoding: impl Into<String>, clock_rate: u32) -> Self {
        let mut codec = Self {
            encoding: encoding.into(),
            clock_rate,
            channels: None,
            fmtp: None,
            payload_type: None,
        };
        codec.payload_type = codec.static_payload_type();
        codec
    }

    /// The static payload type of RFC 3551 with this name, clock rate and channel count.
    fn static_payload_type(&self) -> Option<u8> {
        (0..96).find(|&pt| RtpMap::for_static_payload_type(pt).is_some_and(|m| self.matches(&m)))
    }

    /// G.711 µ-law, `PCMU/8000`, payload type 0.
    pub fn pcmu() -> Self {
        Self::new("PCMU", 8000)
    }

    /// G.711 A-law, `PCMA/8000`, payload type 8.
    pub fn pcma() -> Self {
        Self::new("PCMA", 8000)
    }

    /// G.722, `G722/8000` (the RTP clock rate is 8000 for historical reasons), payload type 9.
    pub fn g722() -> Self {
        Self::new("G722", 8000)
    }

    /// DTMF events of RFC 4733, `telephone-event/8000` with events `0-15`, payload type 101
    /// (the number most peers use).
    pub fn telephone_event() -> Self {
        Self::new("telephone-event", 8000)
            .with_fmtp("0-15")
            .with_payload_type(101)
    }

    /// The same codec with a channel count.
    #[must_use]
    pub fn with_channels(mut self, channels: u16) -> Self {
        self.channels = Some(channels);
        // A static number stands for one channel count: look it up again.
        if self.payload_type.map_or(true, |pt| pt < 96) {
            self.payload_type = self.static_payload_type();
        }
        self
    }

    /// The same codec with `a=fmtp` parameters.
    #[must_use]
    pub fn with_fmtp(mut self, params: impl Into<String>) -> Self {
        self.fmtp = Some(params.into());
        self
    }

    /// The same codec with a preferred payload type number.
    #[must_use]
    pub fn with_payload_type(mut self, payload_type: u8) -> Self {
        self.payload_type = Some(payload_type);
        self
    }

    /// The `a=rtpmap` value for this codec under payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> RtpMap {
        RtpMap {
            payload_type: pt,
            encoding: self.encoding.clone(),
            clock_rate: self.clock_rate,
            channels: self.channels,
        }
    }

    /// Whether `map` names this codec (see [`RtpMap::same_codec`]).
    pub fn matches(&self, map: &RtpMap) -> bool {
        self.rtpmap(map.payload_type).same_codec(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_payload_types_are_found() {
        assert_eq!(Codec::pcmu().payload_type, Some(0));
        assert_eq!(Codec::pcma().payload_type, Some(8));
        assert_eq!(Codec::g722().payload_type, Some(9));
        assert_eq!(Codec::new("pcmu", 8000).payload_type, Some(0));
        assert_eq!(Codec::new("opus", 48000).payload_type, None);
        assert_eq!(Codec::new("L16", 44100).payload_type, Some(11));
        assert_eq!(
            Codec::new("L16", 44100).with_channels(2).payload_type,
            Some(10)
        );
    }

    #[test]
    fn matching() {
        assert!(Codec::pcmu().matches(&RtpMap::new(0, "PCMU", 8000)));
        assert!(Codec::pcmu().matches(&RtpMap::new(0, "pcmu", 8000).with_channels(1)));
        assert!(!Codec::pcmu().matches(&RtpMap::new(0, "PCMU", 16000)));
        assert!(Codec::telephone_event().matches(&RtpMap::new(98, "telephone-event", 8000)));
    }
}
