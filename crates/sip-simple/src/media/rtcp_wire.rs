//! RTCP on the wire (RFC 3550 §6.4-6.6): parsing compound packets, writing packets.

use bytes::{BufMut, Bytes, BytesMut};

use super::rtcp::MAX_COUNT;
use super::{
    Goodbye, ReceiverReport, ReportBlock, RtcpError, RtcpPacket, SdesChunk, SdesItem, SenderInfo,
    SenderReport, SourceDescription,
};

/// Packet type of a sender report.
const PT_SR: u8 = 200;
/// Packet type of a receiver report.
const PT_RR: u8 = 201;
/// Packet type of source description.
const PT_SDES: u8 = 202;
/// Packet type of goodbye.
const PT_BYE: u8 = 203;
/// Octets of one report block.
const REPORT_BLOCK_LEN: usize = 24;
/// Octets of the sender info of an SR.
const SENDER_INFO_LEN: usize = 20;

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
