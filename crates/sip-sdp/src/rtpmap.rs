//! `a=rtpmap`: which codec an RTP payload type number stands for (RFC 8866 §6.6), and the
//! static payload types of RFC 3551 that need no `a=rtpmap`.

use std::fmt;
use std::str::FromStr;

use nom::bytes::complete::take_till1;
use nom::character::complete::{char, u32 as dec_u32};
use nom::combinator::{all_consuming, opt, rest};
use nom::sequence::{preceded, tuple};
use nom::IResult;

use crate::error::{excerpt, AttributeError};
use crate::grammar::{is_space, parse_u16, parse_u8, Fields};

/// The value of `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
///
/// ```
/// let map: sip_sdp::RtpMap = "101 telephone-event/8000".parse().unwrap();
/// assert_eq!(map.payload_type, 101);
/// assert_eq!(map.encoding, "telephone-event");
/// assert_eq!(map.clock_rate, 8000);
/// assert_eq!(map.to_string(), "101 telephone-event/8000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RtpMap {
    /// The RTP payload type, 0 to 127.
    pub payload_type: u8,
    /// The encoding name, such as `PCMU` or `opus` (compared without regard to case).
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The encoding parameters: for audio, the number of channels (1 when absent).
    pub channels: Option<u16>,
}

impl RtpMap {
    /// The name of the attribute, `rtpmap`.
    pub const NAME: &'static str = "rtpmap";

    /// A mapping without encoding parameters.
    pub fn new(payload_type: u8, encoding: impl Into<String>, clock_rate: u32) -> Self {
        Self {
            payload_type,
            encoding: encoding.into(),
            clock_rate,
            channels: None,
        }
    }

    /// The same mapping with a channel count.
    #[must_use]
    pub fn with_channels(mut self, channels: u16) -> Self {
        self.channels = Some(channels);
        self
    }

    /// The codec RFC 3551 assigns to a static payload type, used when a description lists the
    /// number without an `a=rtpmap` line.
    ///
    /// ```
    /// let pcma = sip_sdp::RtpMap::for_static_payload_type(8).unwrap();
    /// assert_eq!((pcma.encoding.as_str(), pcma.clock_rate), ("PCMA", 8000));
    /// assert!(sip_sdp::RtpMap::for_static_payload_type(96).is_none());
    /// ```
    pub fn for_static_payload_type(payload_type: u8) -> Option<Self> {
        // RFC 3551 tables 4 and 5; the reserved and unassigned numbers are left out.
        let (encoding, clock_rate) = match payload_type {
            0 => ("PCMU", 8000),
            3 => ("GSM", 8000),
            4 => ("G723", 8000),
            5 => ("DVI4", 8000),
            6 => ("DVI4", 16000),
            7 => ("LPC", 8000),
            8 => ("PCMA", 8000),
            9 => ("G722", 8000),
            10 => return Some(Self::new(10, "L16", 44100).with_channels(2)),
            11 => ("L16", 44100),
            12 => ("QCELP", 8000),
            13 => ("CN", 8000),
            14 => ("MPA", 90000),
            15 => ("G728", 8000),
            16 => ("DVI4", 11025),
            17 => ("DVI4", 22050),
            18 => ("G729", 8000),
            25 => ("CelB", 90000),
            26 => ("JPEG", 90000),
            28 => ("nv", 90000),
            31 => ("H261", 90000),
            32 => ("MPV", 90000),
            33 => ("MP2T", 90000),
            34 => ("H263", 90000),
            _ => return None,
        };
        Some(Self::new(payload_type, encoding, clock_rate))
    }

    /// Whether both name the same codec: encoding name (ignoring case), clock rate and channel
    /// count (absent counts as 1), whatever the payload type numbers.
    pub fn same_codec(&self, other: &Self) -> bool {
        self.encoding.eq_ignore_ascii_case(&other.encoding)
            && self.clock_rate == other.clock_rate
            && self.channels.unwrap_or(1) == other.channels.unwrap_or(1)
    }
}

fn invalid(field: &'static str, found: &str, reason: &'static str) -> AttributeError {
    AttributeError::InvalidField {
        attribute: RtpMap::NAME,
        field,
        found: excerpt(found),
        reason,
    }
}

/// `<encoding name>/<clock rate>[/<parameters>]`
fn encoding_spec(input: &str) -> IResult<&str, (&str, char, u32, Option<&str>)> {
    all_consuming(tuple((
        take_till1(|c| c == '/'),
        char('/'),
        dec_u32,
        opt(preceded(char('/'), rest)),
    )))(input)
}

impl FromStr for RtpMap {
    type Err = AttributeError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut fields = Fields::new(value);
        let pt = fields
            .next_token()
            .ok_or_else(|| invalid("payload type", value, "expected a payload type number"))?;
        let payload_type = parse_u8(pt)
            .filter(|&pt| pt <= 127)
            .ok_or_else(|| invalid("payload type", pt, "expected a number from 0 to 127"))?;
        let spec = fields.rest().trim_end_matches(is_space);
        let (_, (encoding, _, clock_rate, params)) = encoding_spec(spec).map_err(|_| {
            invalid(
                "encoding",
                spec,
                "expected <encoding name>/<clock rate>[/<channels>]",
            )
        })?;
        if encoding.contains(is_space) {
            return Err(invalid(
                "encoding",
                encoding,
                "an encoding name has no spaces",
            ));
        }
        let channels = match params {
            None => None,
            Some(p) => Some(
                parse_u16(p).ok_or_else(|| invalid("channels", p, "expected a channel count"))?,
            ),
        };
        Ok(Self {
            payload_type,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(channels) = self.channels {
            write!(f, "/{channels}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_channels() {
        let m: RtpMap = "111 opus/48000/2".parse().unwrap();
        assert_eq!(m.channels, Some(2));
        assert_eq!(m.to_string(), "111 opus/48000/2");
        let m: RtpMap = "0  PCMU/8000 ".parse().unwrap();
        assert_eq!(m, RtpMap::new(0, "PCMU", 8000));
    }

    #[test]
    fn rejects_what_is_not_an_rtpmap() {
        for bad in [
            "",
            "128 PCMU/8000",
            "x PCMU/8000",
            "0",
            "0 PCMU",
            "0 PCMU/",
            "0 /8000",
            "0 PCMU/8k",
            "0 PCMU/8000/two",
            "0 PC MU/8000",
        ] {
            assert!(bad.parse::<RtpMap>().is_err(), "{bad:?}");
        }
        let e = "0 PCMU/8k".parse::<RtpMap>().unwrap_err();
        assert!(e.to_string().contains("a=rtpmap"), "{e}");
    }

    #[test]
    fn same_codec_ignores_case_and_default_channels() {
        let a = RtpMap::new(0, "pcmu", 8000);
        let b = RtpMap::new(96, "PCMU", 8000).with_channels(1);
        assert!(a.same_codec(&b));
        assert!(!a.same_codec(&RtpMap::new(0, "PCMU", 16000)));
    }

    #[test]
    fn static_table() {
        assert_eq!(
            RtpMap::for_static_payload_type(0),
            Some(RtpMap::new(0, "PCMU", 8000))
        );
        assert_eq!(
            RtpMap::for_static_payload_type(10).unwrap().channels,
            Some(2)
        );
        assert_eq!(
            RtpMap::for_static_payload_type(34).unwrap().encoding,
            "H263"
        );
        assert!(RtpMap::for_static_payload_type(2).is_none());
        assert!(RtpMap::for_static_payload_type(101).is_none());
    }
}
