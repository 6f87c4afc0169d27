//! RTCP packets (RFC 3550 §6): sender and receiver reports, SDES, BYE, and their errors.
//! Reading and writing them is in `rtcp_wire`.

use std::time::SystemTime;

use bytes::Bytes;
use thiserror::Error;

use super::{ntp_timestamp, RtpSender};

/// The five-bit count field's maximum (report blocks, SDES chunks, BYE sources).
pub(super) const MAX_COUNT: usize = 31;

/// SDES item type of the canonical name, the one item every compound packet carries.
pub const SDES_CNAME: u8 = 1;

/// A reception report about one source (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since the start, a 24-bit signed value (duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Highest sequence number received, with wrap-around cycles in the top 16 bits.
    pub extended_highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from the source (0: none).
    pub last_sr: u32,
    /// Delay since that SR arrived, in 1/65536 s (0: none).
    pub delay_since_last_sr: u32,
}

/// The sender info of an SR: what a sender says about its own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// Wallclock time of the report as a 64-bit NTP timestamp.
    pub ntp_timestamp: u64,
    /// The same instant in the stream's RTP timestamp units.
    pub rtp_timestamp: u32,
    /// Packets sent since the start (wrapping).
    pub packet_count: u32,
    /// Payload octets sent since the start (wrapping).
    pub octet_count: u32,
}

impl SenderInfo {
    /// Sender info at `wallclock`, the same instant being `rtp_timestamp` in the stream.
    pub fn new(
        wallclock: SystemTime,
        rtp_timestamp: u32,
        packet_count: u32,
        octet_count: u32,
    ) -> Self {
        Self {
            ntp_timestamp: ntp_timestamp(wallclock),
            rtp_timestamp,
            packet_count,
            octet_count,
        }
    }

    /// Sender info for `sender` at `wallclock`, taking the sender's next timestamp as the
    /// current instant (right for a stream sent in real time, packet by packet).
    pub fn from_sender(sender: &RtpSender, wallclock: SystemTime) -> Self {
        Self::new(
            wallclock,
            sender.next_timestamp(),
            sender.packets_sent(),
            sender.octets_sent(),
        )
    }
}

/// A sender report (SR, §6.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// The sender.
    pub ssrc: u32,
    /// What it sent.
    pub sender_info: SenderInfo,
    /// What it received (at most 31 are written in one packet).
    pub reports: Vec<ReportBlock>,
}

/// A receiver report (RR, §6.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// The receiver.
    pub ssrc: u32,
    /// What it received (at most 31 are written in one packet).
    pub reports: Vec<ReportBlock>,
}

/// One SDES item (§6.5): a type and up to 255 octets of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    /// Item type: 1 CNAME, 2 NAME, 3 EMAIL, … 8 PRIV.
    pub kind: u8,
    /// The value (UTF-8 by the RFC; kept as octets). At most 255 octets are written.
    pub value: Bytes,
}

/// The SDES items of one source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source described.
    pub ssrc: u32,
    /// Its items.
    pub items: Vec<SdesItem>,
}

impl SdesChunk {
    /// A chunk with just a CNAME.
    pub fn cname(ssrc: u32, cname: &str) -> Self {
        Self {
            ssrc,
            items: vec![SdesItem {
                kind: SDES_CNAME,
                value: Bytes::copy_from_slice(cname.as_bytes()),
            }],
        }
    }

    /// The CNAME item's text, if there is one (invalid UTF-8 replaced).
    pub fn cname_text(&self) -> Option<String> {
        self.items
            .iter()
            .find(|i| i.kind == SDES_CNAME)
            .map(|i| String::from_utf8_lossy(&i.value).into_owned())
    }
}

/// A source description packet (SDES, §6.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceDescription {
    /// One chunk per source (at most 31 are written in one packet).
    pub chunks: Vec<SdesChunk>,
}

/// A goodbye packet (BYE, §6.6): these sources leave.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Goodbye {
    /// The sources leaving (at most 31 are written).
    pub sources: Vec<u32>,
    /// Why, as text (UTF-8 by the RFC; at most 255 octets are written).
    pub reason: Option<Bytes>,
}

/// One packet of an RTCP compound packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket {
    /// SR (200).
    SenderReport(SenderReport),
    /// RR (201).
    ReceiverReport(ReceiverReport),
    /// SDES (202).
    SourceDescription(SourceDescription),
    /// BYE (203).
    Goodbye(Goodbye),
    /// Any other type (APP, feedback, XR…), kept as it came.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The five-bit count / subtype field.
        count: u8,
        /// The body after the 4-octet header, padding removed.
        payload: Bytes,
    },
}

/// Why a datagram is not a valid RTCP compound packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// The datagram is empty.
    #[error("empty RTCP datagram")]
    Empty,
    /// Fewer than 4 octets are left for a packet header.
    #[error("RTCP packet header at offset {offset} cut short: {available} octets left")]
    Truncated {
        /// Offset of the packet in the datagram.
        offset: usize,
        /// Octets left.
        available: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {version} at offset {offset} (only version 2 exists)")]
    BadVersion {
        /// Offset of the packet.
        offset: usize,
        /// The version found.
        version: u8,
    },
    /// The length field runs past the end of the datagram.
    #[error("RTCP packet at offset {offset} declares {length} octets, only {available} remain")]
    LengthPastEnd {
        /// Offset of the packet.
        offset: usize,
        /// Octets the length field declares (header included).
        length: usize,
        /// Octets left in the datagram.
        available: usize,
    },
    /// The padding count is 0 or larger than the packet body.
    #[error(
        "RTCP packet at offset {offset}: padding count {count} in a body of {available} octets"
    )]
    BadPadding {
        /// Offset of the packet.
        offset: usize,
        /// The padding count (the packet's last octet).
        count: usize,
        /// Octets in the packet body.
        available: usize,
    },
    /// The body is too short for what the header announces.
    #[error("RTCP {kind} at offset {offset}: {needed} octets needed, the body has {length}")]
    BodyTooShort {
        /// Offset of the packet.
        offset: usize,
        /// What was being read ("SR", "RR", "SDES item", "BYE reason", …).
        kind: &'static str,
        /// Octets needed.
        needed: usize,
        /// Octets in the body.
        length: usize,
    },
}

/// Whether a datagram on a shared RTP/RTCP port is RTCP (RFC 5761 §4: the second octet is
/// 192..=223, which RTP payload types 64..=95 with the marker bit would collide with).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 4 && datagram[0] >> 6 == 2 && (192..=223).contains(&datagram[1])
}

#[cfg(test)]
mod tests;
