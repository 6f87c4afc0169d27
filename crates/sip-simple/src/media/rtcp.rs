//! RTCP packets (RFC 3550 §6): sender and receiver reports, SDES, BYE; compound parsing.

use std::time::SystemTime;

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::{ntp_timestamp, RtpSender};

/// Packet type of a sender report.
const PT_SR: u8 = 200;
/// Packet type of a receiver report.
const PT_RR: u8 = 201;
/// Packet type of source description.
const PT_SDES: u8 = 202;
/// Packet type of goodbye.
const PT_BYE: u8 = 203;
/// The five-bit count field's maximum (report blocks, SDES chunks, BYE sources).
pub(super) const MAX_COUNT: usize = 31;
/// Octets of one report block.
const REPORT_BLOCK_LEN: usize = 24;
/// Octets of the sender info of an SR.
const SENDER_INFO_LEN: usize = 20;

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

/// A big-endian u32 at `at` (the caller checked the length).
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl RtcpPacket {
    /// Parses a compound packet: every packet's version must be 2 and its length must fit;
    /// padding is removed; unknown types come back as [`RtcpPacket::Other`]. A profile-specific
    /// extension after the report blocks of an SR or RR is skipped.
    ///
    /// Returns an [`RtcpError`] that names the offset of the offending packet.
    pub fn parse_compound(datagram: &[u8]) -> Result<Vec<Self>, RtcpError> {
        if datagram.is_empty() {
            return Err(RtcpError::Empty);
        }
        let mut packets = Vec::new();
        let mut offset = 0;
        while offset < datagram.len() {
            let rest = &datagram[offset..];
            if rest.len() < 4 {
                return Err(RtcpError::Truncated {
                    offset,
                    available: rest.len(),
                });
            }
            let version = rest[0] >> 6;
            if version != 2 {
                return Err(RtcpError::BadVersion { offset, version });
            }
            let length = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
            if length > rest.len() {
                return Err(RtcpError::LengthPastEnd {
                    offset,
                    length,
                    available: rest.len(),
                });
            }
            let mut body = &rest[4..length];
            if rest[0] & 0x20 != 0 {
                let count = usize::from(rest[length - 1]);
                if count == 0 || count > body.len() {
                    return Err(RtcpError::BadPadding {
                        offset,
                        count,
                        available: body.len(),
                    });
                }
                body = &body[..body.len() - count];
            }
            packets.push(Self::parse_one(offset, rest[0] & 0x1f, rest[1], body)?);
            offset += length;
        }
        Ok(packets)
    }

    /// One packet's body, without header and padding.
    fn parse_one(
        offset: usize,
        count: u8,
        packet_type: u8,
        body: &[u8],
    ) -> Result<Self, RtcpError> {
        let short = |kind, needed| RtcpError::BodyTooShort {
            offset,
            kind,
            needed,
            length: body.len(),
        };
        let count_usize = usize::from(count);
        Ok(match packet_type {
            PT_SR => {
                let needed = 4 + SENDER_INFO_LEN + count_usize * REPORT_BLOCK_LEN;
                if body.len() < needed {
                    return Err(short("SR", needed));
                }
                Self::SenderReport(SenderReport {
                    ssrc: be32(body, 0),
                    sender_info: SenderInfo {
                        ntp_timestamp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                        rtp_timestamp: be32(body, 12),
                        packet_count: be32(body, 16),
                        octet_count: be32(body, 20),
                    },
                    reports: parse_blocks(&body[4 + SENDER_INFO_LEN..needed]),
                })
            }
            PT_RR => {
                let needed = 4 + count_usize * REPORT_BLOCK_LEN;
                if body.len() < needed {
                    return Err(short("RR", needed));
                }
                Self::ReceiverReport(ReceiverReport {
                    ssrc: be32(body, 0),
                    reports: parse_blocks(&body[4..needed]),
                })
            }
            PT_SDES => Self::SourceDescription(parse_sdes(offset, count_usize, body)?),
            PT_BYE => {
                let needed = 4 * count_usize;
                if body.len() < needed {
                    return Err(short("BYE", needed));
                }
                let sources = (0..count_usize).map(|i| be32(body, 4 * i)).collect();
                let reason = match body.get(needed) {
                    None => None,
                    Some(&len) => {
                        let end = needed + 1 + usize::from(len);
                        if body.len() < end {
                            return Err(short("BYE reason", end));
                        }
                        Some(Bytes::copy_from_slice(&body[needed + 1..end]))
                    }
                };
                Self::Goodbye(Goodbye { sources, reason })
            }
            _ => Self::Other {
                packet_type,
                count,
                payload: Bytes::copy_from_slice(body),
            },
        })
    }

    /// Appends this packet to `out` (no padding unless an [`RtcpPacket::Other`] payload is not
    /// a multiple of 4 octets). Lists longer than the 5-bit count allows are cut to 31.
    pub fn write(&self, out: &mut BytesMut) {
        let start = out.len();
        // Header placeholder: the length is known at the end.
        out.put_u32(0);
        let (count, packet_type) = match self {
            Self::SenderReport(sr) => {
                let reports = &sr.reports[..sr.reports.len().min(MAX_COUNT)];
                out.put_u32(sr.ssrc);
                let info = &sr.sender_info;
                out.put_u64(info.ntp_timestamp);
                out.put_u32(info.rtp_timestamp);
                out.put_u32(info.packet_count);
                out.put_u32(info.octet_count);
                write_blocks(out, reports);
                (reports.len(), PT_SR)
            }
            Self::ReceiverReport(rr) => {
                let reports = &rr.reports[..rr.reports.len().min(MAX_COUNT)];
                out.put_u32(rr.ssrc);
                write_blocks(out, reports);
                (reports.len(), PT_RR)
            }
            Self::SourceDescription(sdes) => {
                let chunks = &sdes.chunks[..sdes.chunks.len().min(MAX_COUNT)];
                for chunk in chunks {
                    let chunk_start = out.len();
                    out.put_u32(chunk.ssrc);
                    for item in &chunk.items {
                        // Type 0 is the end marker: an item of that type cannot be written.
                        if item.kind == 0 {
                            continue;
                        }
                        let value = &item.value[..item.value.len().min(255)];
                        out.put_u8(item.kind);
                        out.put_u8(value.len() as u8);
                        out.put_slice(value);
                    }
                    // One to four null octets: the end marker, then up to the next 32 bits.
                    let used = out.len() - chunk_start;
                    out.put_bytes(0, 4 - used % 4);
                }
                (chunks.len(), PT_SDES)
            }
            Self::Goodbye(bye) => {
                let sources = &bye.sources[..bye.sources.len().min(MAX_COUNT)];
                for s in sources {
                    out.put_u32(*s);
                }
                if let Some(reason) = &bye.reason {
                    let reason = &reason[..reason.len().min(255)];
                    out.put_u8(reason.len() as u8);
                    out.put_slice(reason);
                    let used = out.len() - start;
                    out.put_bytes(0, (4 - used % 4) % 4);
                }
                (sources.len(), PT_BYE)
            }
            Self::Other {
                packet_type,
                count,
                payload,
            } => {
                out.put_slice(payload);
                (usize::from(*count & 0x1f), *packet_type)
            }
        };
        let mut padding = false;
        let unaligned = (out.len() - start) % 4;
        if unaligned != 0 {
            // Only an Other payload can be unaligned: pad it the RFC way, so that the
            // payload parses back the same.
            let pad = 4 - unaligned;
            out.put_bytes(0, pad - 1);
            out.put_u8(pad as u8);
            padding = true;
        }
        // A packet longer than the 16-bit length field can express is cut by the field; only
        // an Other payload of more than 256 KiB could be, and such a packet was never parsed.
        let words = ((out.len() - start) / 4 - 1).min(usize::from(u16::MAX)) as u16;
        let first = 0x80 | (u8::from(padding) << 5) | (count as u8 & 0x1f);
        out[start] = first;
        out[start + 1] = packet_type;
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    }

    /// This packet alone on the wire.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }
}

fn parse_blocks(bytes: &[u8]) -> Vec<ReportBlock> {
    bytes
        .chunks_exact(REPORT_BLOCK_LEN)
        .map(|b| {
            let lost = be32(b, 4);
            // 24-bit two's complement: shift up, then arithmetic shift down.
            let cumulative_lost = ((lost << 8) as i32) >> 8;
            ReportBlock {
                ssrc: be32(b, 0),
                fraction_lost: (lost >> 24) as u8,
                cumulative_lost,
                extended_highest_sequence: be32(b, 8),
                jitter: be32(b, 12),
                last_sr: be32(b, 16),
                delay_since_last_sr: be32(b, 20),
            }
        })
        .collect()
}

fn write_blocks(out: &mut BytesMut, blocks: &[ReportBlock]) {
    for b in blocks {
        let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32 & 0x00ff_ffff;
        out.put_u32(b.ssrc);
        out.put_u32((u32::from(b.fraction_lost) << 24) | lost);
        out.put_u32(b.extended_highest_sequence);
        out.put_u32(b.jitter);
        out.put_u32(b.last_sr);
        out.put_u32(b.delay_since_last_sr);
    }
}

fn parse_sdes(offset: usize, count: usize, body: &[u8]) -> Result<SourceDescription, RtcpError> {
    let short = |kind, needed| RtcpError::BodyTooShort {
        offset,
        kind,
        needed,
        length: body.len(),
    };
    let mut chunks = Vec::with_capacity(count);
    let mut at = 0;
    for _ in 0..count {
        if body.len() < at + 4 {
            return Err(short("SDES chunk", at + 4));
        }
        let ssrc = be32(body, at);
        at += 4;
        let mut items = Vec::new();
        loop {
            let Some(&kind) = body.get(at) else {
                return Err(short("SDES end marker", at + 1));
            };
            if kind == 0 {
                // The end marker, then null octets up to the next 32-bit boundary.
                at = (at + 4) & !3;
                break;
            }
            let Some(&len) = body.get(at + 1) else {
                return Err(short("SDES item length", at + 2));
            };
            let end = at + 2 + usize::from(len);
            if body.len() < end {
                return Err(short("SDES item", end));
            }
            items.push(SdesItem {
                kind,
                value: Bytes::copy_from_slice(&body[at + 2..end]),
            });
            at = end;
        }
        chunks.push(SdesChunk { ssrc, items });
    }
    Ok(SourceDescription { chunks })
}

#[cfg(test)]
mod tests;
