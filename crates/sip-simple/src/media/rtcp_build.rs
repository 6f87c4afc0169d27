//! Building the compound RTCP packets a call sends, and when to send them.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::rtcp::MAX_COUNT;
use super::{
    Goodbye, ReceiverReport, ReportBlock, RtcpPacket, SdesChunk, SenderInfo, SenderReport,
    SourceDescription,
};

/// The RTCP report interval used here: RFC 3550's minimum of 5 s (§6.2), which is right for
/// a two-party call whose RTCP bandwidth share is never the limit.
pub const RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// Packets in sequence as one compound packet.
pub fn compound(packets: &[RtcpPacket]) -> Bytes {
    let mut out = BytesMut::new();
    for p in packets {
        p.write(&mut out);
    }
    out.freeze()
}

/// Report blocks past the first 31 go into further RRs from the same source (§6.4).
fn overflow_reports(ssrc: u32, reports: &[ReportBlock]) -> impl Iterator<Item = RtcpPacket> + '_ {
    reports.chunks(MAX_COUNT).skip(1).map(move |chunk| {
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc,
            reports: chunk.to_vec(),
        })
    })
}

fn sdes(ssrc: u32, cname: &str) -> RtcpPacket {
    RtcpPacket::SourceDescription(SourceDescription {
        chunks: vec![SdesChunk::cname(ssrc, cname)],
    })
}

/// The compound packet of a source that sends: SR (with the first 31 `reports`), more RRs
/// if there are more reports, then SDES with the CNAME (§6.1).
pub fn sender_report(ssrc: u32, info: SenderInfo, reports: &[ReportBlock], cname: &str) -> Bytes {
    let mut packets = vec![RtcpPacket::SenderReport(SenderReport {
        ssrc,
        sender_info: info,
        reports: reports.iter().take(MAX_COUNT).copied().collect(),
    })];
    packets.extend(overflow_reports(ssrc, reports));
    packets.push(sdes(ssrc, cname));
    compound(&packets)
}

/// The compound packet of a source that only receives: RR (more if more than 31 `reports`),
/// then SDES with the CNAME (§6.1).
pub fn receiver_report(ssrc: u32, reports: &[ReportBlock], cname: &str) -> Bytes {
    let mut packets = vec![RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc,
        reports: reports.iter().take(MAX_COUNT).copied().collect(),
    })];
    packets.extend(overflow_reports(ssrc, reports));
    packets.push(sdes(ssrc, cname));
    compound(&packets)
}

/// The compound packet a source sends when it leaves: an empty RR, SDES with the CNAME, and
/// BYE with the optional `reason` (§6.6: a BYE is the last packet of a compound packet).
pub fn goodbye(ssrc: u32, cname: &str, reason: Option<&str>) -> Bytes {
    compound(&[
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc,
            reports: Vec::new(),
        }),
        sdes(ssrc, cname),
        RtcpPacket::Goodbye(Goodbye {
            sources: vec![ssrc],
            reason: reason.map(|r| Bytes::copy_from_slice(r.as_bytes())),
        }),
    ])
}

/// The time until the next report: [`RTCP_INTERVAL`] scaled by a factor in [0.5, 1.5) drawn
/// from `random` in [0, 1) (§6.3.1), so that the reports of many parties do not synchronize.
/// A `random` outside [0, 1) is clamped into it (NaN counts as 0.5).
pub fn rtcp_interval(random: f64) -> Duration {
    let random = if random.is_nan() {
        0.5
    } else {
        random.clamp(0.0, 1.0)
    };
    RTCP_INTERVAL.mul_f64(0.5 + random)
}

#[cfg(test)]
mod tests;
