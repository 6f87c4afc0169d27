//! Tests of the compound packets a call sends and of the report interval.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::media::{ntp_timestamp, RtpSender};

fn block(ssrc: u32) -> ReportBlock {
    ReportBlock {
        ssrc,
        ..ReportBlock::default()
    }
}

#[test]
fn sender_report_is_sr_then_sdes_cname() {
    let mut tx = RtpSender::new(0, 8000, 0x1234, 1, 1000);
    tx.packet(Bytes::from_static(&[0xff; 160]), 160, false);
    let wallclock = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let info = SenderInfo::from_sender(&tx, wallclock);
    assert_eq!(
        info,
        SenderInfo {
            ntp_timestamp: ntp_timestamp(wallclock),
            rtp_timestamp: 1160,
            packet_count: 1,
            octet_count: 160
        }
    );
    let wire = sender_report(0x1234, info, &[block(9)], "alice@127.0.0.1");
    let packets = RtcpPacket::parse_compound(&wire).unwrap();
    assert_eq!(packets.len(), 2);
    assert_eq!(
        packets[0],
        RtcpPacket::SenderReport(SenderReport {
            ssrc: 0x1234,
            sender_info: info,
            reports: vec![block(9)]
        })
    );
    let RtcpPacket::SourceDescription(sdes) = &packets[1] else {
        panic!("no SDES: {packets:?}")
    };
    assert_eq!(sdes.chunks[0].ssrc, 0x1234);
    assert_eq!(
        sdes.chunks[0].cname_text().as_deref(),
        Some("alice@127.0.0.1")
    );
}

#[test]
fn more_than_31_reports_go_into_further_rrs() {
    let reports: Vec<ReportBlock> = (0..40).map(block).collect();
    let wire = sender_report(1, SenderInfo::default(), &reports, "x");
    let packets = RtcpPacket::parse_compound(&wire).unwrap();
    let RtcpPacket::SenderReport(sr) = &packets[0] else {
        panic!("no SR")
    };
    assert_eq!(sr.reports.len(), 31);
    let RtcpPacket::ReceiverReport(rr) = &packets[1] else {
        panic!("no RR")
    };
    assert_eq!((rr.ssrc, rr.reports.len()), (1, 9));
    assert_eq!(rr.reports[0].ssrc, 31);
    assert!(matches!(packets[2], RtcpPacket::SourceDescription(_)));

    let wire = receiver_report(2, &reports, "y");
    let packets = RtcpPacket::parse_compound(&wire).unwrap();
    assert_eq!(packets.len(), 3);
    let wire = receiver_report(2, &[], "y");
    let packets = RtcpPacket::parse_compound(&wire).unwrap();
    assert_eq!(
        packets[0],
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 2,
            reports: Vec::new()
        })
    );
}

#[test]
fn goodbye_ends_the_compound() {
    let packets = RtcpPacket::parse_compound(&goodbye(5, "bob", Some("hangup"))).unwrap();
    assert_eq!(packets.len(), 3);
    assert!(matches!(packets[0], RtcpPacket::ReceiverReport(_)));
    assert!(matches!(packets[1], RtcpPacket::SourceDescription(_)));
    assert_eq!(
        packets[2],
        RtcpPacket::Goodbye(Goodbye {
            sources: vec![5],
            reason: Some(Bytes::from_static(b"hangup"))
        })
    );
    let packets = RtcpPacket::parse_compound(&goodbye(5, "bob", None)).unwrap();
    assert_eq!(
        packets[2],
        RtcpPacket::Goodbye(Goodbye {
            sources: vec![5],
            reason: None
        })
    );
    // The reason is cut at 255 octets.
    let long = "x".repeat(400);
    let packets = RtcpPacket::parse_compound(&goodbye(5, &long, Some(&long))).unwrap();
    let RtcpPacket::Goodbye(bye) = &packets[2] else {
        panic!("no BYE")
    };
    assert_eq!(bye.reason.as_ref().map(Bytes::len), Some(255));
}

#[test]
fn interval_is_randomized_between_half_and_one_and_a_half() {
    assert_eq!(rtcp_interval(0.0), Duration::from_millis(2500));
    assert_eq!(rtcp_interval(0.5), Duration::from_secs(5));
    assert_eq!(rtcp_interval(0.75), Duration::from_millis(6250));
    assert!(rtcp_interval(0.999_999) < Duration::from_millis(7500));
    // Out of range: clamped, never a panic.
    assert_eq!(rtcp_interval(-3.0), Duration::from_millis(2500));
    assert_eq!(rtcp_interval(7.0), Duration::from_millis(7500));
    assert_eq!(rtcp_interval(f64::NAN), Duration::from_secs(5));
    assert_eq!(rtcp_interval(f64::INFINITY), Duration::from_millis(7500));
    let _ = SystemTime::now();
}
