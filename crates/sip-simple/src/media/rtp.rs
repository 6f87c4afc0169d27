//! RTP data packets (RFC 3550 §5.1): parse a datagram, print a packet.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

/// The fixed header: V, P, X, CC, M, PT, sequence, timestamp, SSRC.
const FIXED_HEADER: usize = 12;
/// The CSRC count has four bits (RFC 3550 §5.1).
const MAX_CSRC: usize = 15;

/// One RTP packet: the header fields a media stream uses and the payload.
///
/// Padding and a header extension are accepted on parse and skipped: [`RtpPacket::to_bytes`]
/// writes neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    /// Payload type (7 bits): 0 PCMU, 8 PCMA, a dynamic one (96..127) for telephone-event.
    pub payload_type: u8,
    /// The marker bit: the first packet of a talkspurt or of a DTMF event.
    pub marker: bool,
    /// Sequence number, +1 per packet, wrapping at 2^16.
    pub sequence: u16,
    /// Sampling instant of the first octet of the payload, in clock-rate units.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Contributing sources (at most 15 are written).
    pub csrc: Vec<u32>,
    /// The payload, without padding.
    pub payload: Bytes,
}

/// Why a datagram is not an RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the 12-octet fixed header.
    #[error("RTP packet of {len} octets is shorter than the 12-octet fixed header")]
    Truncated {
        /// Length of the datagram.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {version} in the first octet (only version 2 exists)")]
    BadVersion {
        /// The version found.
        version: u8,
    },
    /// The CSRC list runs past the end of the datagram.
    #[error("RTP CSRC count {count} needs {needed} octets, the datagram has {len}")]
    CsrcPastEnd {
        /// CSRC count from the first octet.
        count: usize,
        /// Octets the header with its CSRC list needs.
        needed: usize,
        /// Length of the datagram.
        len: usize,
    },
    /// The header extension runs past the end of the datagram.
    #[error(
        "RTP header extension at offset {offset} needs {needed} octets, the datagram has {len}"
    )]
    ExtensionPastEnd {
        /// Offset of the extension header.
        offset: usize,
        /// Octets up to the end of the extension.
        needed: usize,
        /// Length of the datagram.
        len: usize,
    },
    /// The padding count is 0 or larger than what follows the header.
    #[error("RTP padding count {count} in the last octet, but only {available} octets follow the header")]
    BadPadding {
        /// The padding count (last octet).
        count: usize,
        /// Octets after the header, padding included.
        available: usize,
    },
}

impl RtpPacket {
    /// Parses one datagram (RFC 3550 §5.1), copying the payload.
    ///
    /// Returns an [`RtpError`] for a datagram that is truncated, is not version 2, or whose
    /// CSRC list, header extension or padding runs past its end.
    pub fn parse(datagram: &[u8]) -> Result<Self, RtpError> {
        let (header, payload) = Self::parse_header(datagram)?;
        Ok(Self {
            payload: Bytes::copy_from_slice(&datagram[payload.0..payload.1]),
            ..header
        })
    }

    /// Parses one datagram like [`RtpPacket::parse`], sharing `datagram`'s buffer for the
    /// payload instead of copying it.
    pub fn parse_bytes(datagram: &Bytes) -> Result<Self, RtpError> {
        let (header, payload) = Self::parse_header(datagram)?;
        Ok(Self {
            payload: datagram.slice(payload.0..payload.1),
            ..header
        })
    }

    /// The header fields (with an empty payload) and the payload's span in `datagram`.
    fn parse_header(datagram: &[u8]) -> Result<(Self, (usize, usize)), RtpError> {
        let len = datagram.len();
        if len < FIXED_HEADER {
            return Err(RtpError::Truncated { len });
        }
        let first = datagram[0];
        let version = first >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion { version });
        }
        let has_padding = first & 0x20 != 0;
        let has_extension = first & 0x10 != 0;
        let count = usize::from(first & 0x0f);
        let mut offset = FIXED_HEADER + 4 * count;
        if offset > len {
            return Err(RtpError::CsrcPastEnd {
                count,
                needed: offset,
                len,
            });
        }
        let csrc = datagram[FIXED_HEADER..offset]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if has_extension {
            // 16 bits defined by profile, 16 bits length in 32-bit words (§5.3.1).
            let ext_start = offset;
            if ext_start + 4 > len {
                return Err(RtpError::ExtensionPastEnd {
                    offset: ext_start,
                    needed: ext_start + 4,
                    len,
                });
            }
            let words = usize::from(u16::from_be_bytes([
                datagram[ext_start + 2],
                datagram[ext_start + 3],
            ]));
            offset = ext_start + 4 + 4 * words;
            if offset > len {
                return Err(RtpError::ExtensionPastEnd {
                    offset: ext_start,
                    needed: offset,
                    len,
                });
            }
        }
        let mut end = len;
        if has_padding {
            // The last octet counts the padding octets, itself included (§5.1).
            let count = usize::from(datagram[len - 1]);
            let available = len - offset;
            if count == 0 || count > available {
                return Err(RtpError::BadPadding { count, available });
            }
            end = len - count;
        }
        let header = Self {
            payload_type: datagram[1] & 0x7f,
            marker: datagram[1] & 0x80 != 0,
            sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
            timestamp: u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]),
            ssrc: u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]),
            csrc,
            payload: Bytes::new(),
        };
        Ok((header, (offset, end)))
    }

    /// The packet on the wire: version 2, no padding, no extension, the payload type's top bit
    /// cleared, at most the first 15 CSRCs.
    pub fn to_bytes(&self) -> Bytes {
        let csrc = &self.csrc[..self.csrc.len().min(MAX_CSRC)];
        let mut out = BytesMut::with_capacity(FIXED_HEADER + 4 * csrc.len() + self.payload.len());
        // csrc.len() <= 15 fits the four CC bits.
        out.put_u8(0x80 | csrc.len() as u8);
        out.put_u8(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.put_u16(self.sequence);
        out.put_u32(self.timestamp);
        out.put_u32(self.ssrc);
        for c in csrc {
            out.put_u32(*c);
        }
        out.put_slice(&self.payload);
        out.freeze()
    }
}

#[cfg(test)]
mod tests;
