//! RTCP tests: wire layout, round trips, malformed compounds.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::media::compound;

fn block(ssrc: u32, cumulative_lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc,
        fraction_lost: 25,
        cumulative_lost,
        extended_highest_sequence: 0x0001_0010,
        jitter: 42,
        last_sr: 0xb705_2000,
        delay_since_last_sr: 0x0005_4000,
    }
}

fn sr() -> RtcpPacket {
    RtcpPacket::SenderReport(SenderReport {
        ssrc: 0x1111,
        sender_info: SenderInfo {
            ntp_timestamp: 0xe000_0000_8000_0000,
            rtp_timestamp: 160_000,
            packet_count: 1000,
            octet_count: 160_000,
        },
        reports: vec![block(0x2222, 10)],
    })
}

fn parse_one(bytes: &[u8]) -> RtcpPacket {
    let mut packets = RtcpPacket::parse_compound(bytes).unwrap();
    assert_eq!(packets.len(), 1);
    packets.remove(0)
}

#[test]
fn sender_report_wire_layout() {
    let wire = sr().to_bytes();
    assert_eq!(wire.len(), 4 + 4 + 20 + 24);
    // V=2, RC=1, PT=200, length 12 words - 1... (52 / 4) - 1 = 12.
    assert_eq!(&wire[..4], &[0x81, 200, 0, 12]);
    assert_eq!(&wire[4..8], &0x1111u32.to_be_bytes());
    assert_eq!(&wire[8..16], &0xe000_0000_8000_0000u64.to_be_bytes());
    // Report block: fraction 25, cumulative lost 10 in 24 bits.
    assert_eq!(&wire[28..32], &0x2222u32.to_be_bytes());
    assert_eq!(&wire[32..36], &[25, 0, 0, 10]);
    assert_eq!(parse_one(&wire), sr());
}

#[test]
fn negative_and_huge_cumulative_loss_use_24_signed_bits() {
    let rr = |lost| {
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![block(2, lost)],
        })
    };
    let wire = rr(-5).to_bytes();
    assert_eq!(&wire[12..16], &[25, 0xff, 0xff, 0xfb]);
    assert_eq!(parse_one(&wire), rr(-5));
    let RtcpPacket::ReceiverReport(big) = parse_one(&rr(100_000_000).to_bytes()) else {
        panic!("not an RR");
    };
    assert_eq!(big.reports[0].cumulative_lost, 0x7f_ffff);
    let RtcpPacket::ReceiverReport(small) = parse_one(&rr(-100_000_000).to_bytes()) else {
        panic!("not an RR");
    };
    assert_eq!(small.reports[0].cumulative_lost, -0x80_0000);
}

#[test]
fn sdes_chunks_are_null_terminated_and_aligned() {
    let sdes = RtcpPacket::SourceDescription(SourceDescription {
        chunks: vec![
            SdesChunk::cname(0xaaaa, "a@b"),
            SdesChunk {
                ssrc: 0xbbbb,
                items: vec![
                    SdesItem {
                        kind: SDES_CNAME,
                        value: Bytes::from_static(b"bob@host"),
                    },
                    SdesItem {
                        kind: 6, // TOOL
                        value: Bytes::from_static(b"netsip"),
                    },
                ],
            },
        ],
    });
    let wire = sdes.to_bytes();
    // Chunk 1: 4 + 2 + 3 = 9, padded to 12. Chunk 2: 4 + 10 + 8 = 22, padded to 24.
    assert_eq!(wire.len(), 4 + 12 + 24);
    assert_eq!(&wire[..4], &[0x82, 202, 0, 9]);
    assert_eq!(&wire[8..16], &[1, 3, b'a', b'@', b'b', 0, 0, 0]);
    let parsed = parse_one(&wire);
    assert_eq!(parsed, sdes);
    let RtcpPacket::SourceDescription(s) = parsed else {
        panic!("not SDES")
    };
    assert_eq!(s.chunks[1].cname_text().as_deref(), Some("bob@host"));
    // A value of exactly 4n - 2 octets still gets a whole null word.
    let aligned = RtcpPacket::SourceDescription(SourceDescription {
        chunks: vec![SdesChunk::cname(1, "ab")],
    });
    let wire = aligned.to_bytes();
    assert_eq!(wire.len(), 4 + 12);
    assert_eq!(parse_one(&wire), aligned);
}

#[test]
fn bye_with_and_without_reason() {
    let bye = RtcpPacket::Goodbye(Goodbye {
        sources: vec![7, 8],
        reason: Some(Bytes::from_static(b"done")),
    });
    let wire = bye.to_bytes();
    // 4 header + 8 sources + 1 length + 4 text, padded to 20.
    assert_eq!(wire.len(), 20);
    assert_eq!(&wire[..4], &[0x82, 203, 0, 4]);
    assert_eq!(parse_one(&wire), bye);
    let bare = RtcpPacket::Goodbye(Goodbye {
        sources: vec![7],
        reason: None,
    });
    assert_eq!(bare.to_bytes().len(), 8);
    assert_eq!(parse_one(&bare.to_bytes()), bare);
}

#[test]
fn unknown_types_are_kept_and_unaligned_payloads_padded() {
    let app = RtcpPacket::Other {
        packet_type: 204,
        count: 3,
        payload: Bytes::from_static(b"\0\0\0\x01nameXY"),
    };
    let wire = app.to_bytes();
    // 4 + 10 octets, padded with 2 (the last one the count) and the P bit set.
    assert_eq!(wire.len(), 16);
    assert_eq!(wire[0], 0xa3);
    assert_eq!(&wire[14..], &[0, 2]);
    assert_eq!(parse_one(&wire), app);
}

#[test]
fn compound_with_padding_on_the_last_packet() {
    let mut out = BytesMut::new();
    sr().write(&mut out);
    // An RR with 4 octets of padding (P bit, length 2 words).
    out.extend_from_slice(&[0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4]);
    let packets = RtcpPacket::parse_compound(&out).unwrap();
    assert_eq!(
        packets,
        [
            sr(),
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: 9,
                reports: Vec::new()
            })
        ]
    );
}

#[test]
fn extension_after_report_blocks_is_skipped() {
    let mut wire = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: Vec::new(),
    })
    .to_bytes()
    .to_vec();
    wire[3] = 2;
    wire.extend_from_slice(&[1, 2, 3, 4]);
    assert_eq!(
        parse_one(&wire),
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: Vec::new()
        })
    );
}

#[test]
fn malformed_compounds_are_errors() {
    assert_eq!(RtcpPacket::parse_compound(&[]), Err(RtcpError::Empty));
    let good = sr().to_bytes();
    for len in 1..4 {
        assert_eq!(
            RtcpPacket::parse_compound(&good[..len]),
            Err(RtcpError::Truncated {
                offset: 0,
                available: len
            })
        );
    }
    for len in 4..good.len() {
        assert!(
            matches!(
                RtcpPacket::parse_compound(&good[..len]),
                Err(RtcpError::LengthPastEnd {
                    offset: 0,
                    length: 52,
                    ..
                })
            ),
            "{len}"
        );
    }
    // A second packet with version 1, then one cut short.
    let mut two = good.to_vec();
    two.extend_from_slice(&[0x40, 201, 0, 1, 0, 0, 0, 0]);
    assert_eq!(
        RtcpPacket::parse_compound(&two),
        Err(RtcpError::BadVersion {
            offset: 52,
            version: 1
        })
    );
    let mut cut = good.to_vec();
    cut.extend_from_slice(&[0x80, 201]);
    assert_eq!(
        RtcpPacket::parse_compound(&cut),
        Err(RtcpError::Truncated {
            offset: 52,
            available: 2
        })
    );
    // Padding counts of 0 and past the body.
    assert_eq!(
        RtcpPacket::parse_compound(&[0xa0, 201, 0, 1, 0, 0, 0, 0]),
        Err(RtcpError::BadPadding {
            offset: 0,
            count: 0,
            available: 4
        })
    );
    assert_eq!(
        RtcpPacket::parse_compound(&[0xa0, 201, 0, 1, 0, 0, 0, 5]),
        Err(RtcpError::BadPadding {
            offset: 0,
            count: 5,
            available: 4
        })
    );
    // RC says 2 report blocks, the body holds 1.
    let mut rc = good.to_vec();
    rc[0] = 0x82;
    assert_eq!(
        RtcpPacket::parse_compound(&rc),
        Err(RtcpError::BodyTooShort {
            offset: 0,
            kind: "SR",
            needed: 72,
            length: 48
        })
    );
    let rr = [0x81, 201, 0, 1, 0, 0, 0, 1];
    assert!(matches!(
        RtcpPacket::parse_compound(&rr),
        Err(RtcpError::BodyTooShort { kind: "RR", .. })
    ));
    let sr_short = [0x80, 200, 0, 1, 0, 0, 0, 1];
    assert!(matches!(
        RtcpPacket::parse_compound(&sr_short),
        Err(RtcpError::BodyTooShort {
            kind: "SR",
            needed: 24,
            ..
        })
    ));
    // SDES: item length past the body, no end marker, chunk count past the body.
    let item_past = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, b'a', b'b'];
    assert!(matches!(
        RtcpPacket::parse_compound(&item_past),
        Err(RtcpError::BodyTooShort {
            kind: "SDES item",
            needed: 15,
            length: 8,
            ..
        })
    ));
    let no_end = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, b'a', b'b'];
    assert!(matches!(
        RtcpPacket::parse_compound(&no_end),
        Err(RtcpError::BodyTooShort {
            kind: "SDES end marker",
            ..
        })
    ));
    let no_len = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 1, b'a', 7];
    assert!(matches!(
        RtcpPacket::parse_compound(&no_len),
        Err(RtcpError::BodyTooShort {
            kind: "SDES item length",
            ..
        })
    ));
    let chunks_past = [0x82, 202, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0];
    assert!(matches!(
        RtcpPacket::parse_compound(&chunks_past),
        Err(RtcpError::BodyTooShort {
            kind: "SDES chunk",
            ..
        })
    ));
    // BYE: sources past the body, reason past the body.
    assert!(matches!(
        RtcpPacket::parse_compound(&[0x83, 203, 0, 1, 0, 0, 0, 1]),
        Err(RtcpError::BodyTooShort {
            kind: "BYE",
            needed: 12,
            ..
        })
    ));
    assert!(matches!(
        RtcpPacket::parse_compound(&[0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'x', 0, 0]),
        Err(RtcpError::BodyTooShort {
            kind: "BYE reason",
            needed: 14,
            ..
        })
    ));
}

#[test]
fn errors_say_what_and_where() {
    let e = RtcpPacket::parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RTCP RR at offset 0: 28 octets needed, the body has 4"
    );
    let e = RtcpPacket::parse_compound(&[0x81, 201, 0, 9]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RTCP packet at offset 0 declares 40 octets, only 4 remain"
    );
}

#[test]
fn lists_are_cut_to_the_five_bit_count() {
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: (0..40).map(|i| block(i, 0)).collect(),
    });
    let RtcpPacket::ReceiverReport(back) = parse_one(&rr.to_bytes()) else {
        panic!("not an RR")
    };
    assert_eq!(back.reports.len(), 31);
    let long = RtcpPacket::Goodbye(Goodbye {
        sources: (0..40).collect(),
        reason: Some(Bytes::from(vec![b'x'; 300])),
    });
    let RtcpPacket::Goodbye(back) = parse_one(&long.to_bytes()) else {
        panic!("not a BYE")
    };
    assert_eq!(back.sources.len(), 31);
    assert_eq!(back.reason.map(|r| r.len()), Some(255));
}

#[test]
fn rtcp_is_told_from_rtp_on_a_shared_port() {
    assert!(is_rtcp(&sr().to_bytes()));
    assert!(is_rtcp(&[0x80, 201, 0, 1]));
    // PCMU with and without marker, telephone-event 101 with marker (229).
    assert!(!is_rtcp(&[0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_rtcp(&[0x80, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    assert!(!is_rtcp(&[0x80, 229, 0, 1]));
    assert!(!is_rtcp(&[0x80, 200]));
    assert!(!is_rtcp(&[0x40, 200, 0, 1]));
}

/// An arbitrary RTCP packet.
fn arb_packet() -> impl Strategy<Value = RtcpPacket> {
    let arb_block = (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..0x80_0000,
        any::<[u32; 4]>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, [h, j, l, d])| ReportBlock {
                ssrc,
                fraction_lost,
                cumulative_lost,
                extended_highest_sequence: h,
                jitter: j,
                last_sr: l,
                delay_since_last_sr: d,
            },
        );
    let blocks = proptest::collection::vec(arb_block, 0..32);
    let bytes = |max| proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from);
    prop_oneof![
        (
            any::<u32>(),
            any::<[u32; 4]>(),
            any::<u64>(),
            blocks.clone()
        )
            .prop_map(
                |(ssrc, [rtp_timestamp, packet_count, octet_count, _], ntp_timestamp, reports)| {
                    RtcpPacket::SenderReport(SenderReport {
                        ssrc,
                        sender_info: SenderInfo {
                            ntp_timestamp,
                            rtp_timestamp,
                            packet_count,
                            octet_count,
                        },
                        reports,
                    })
                }
            ),
        (any::<u32>(), blocks).prop_map(|(ssrc, reports)| RtcpPacket::ReceiverReport(
            ReceiverReport { ssrc, reports }
        )),
        proptest::collection::vec(
            (
                any::<u32>(),
                proptest::collection::vec((1u8..=255, bytes(256)), 0..4)
            ),
            0..32
        )
        .prop_map(|chunks| RtcpPacket::SourceDescription(SourceDescription {
            chunks: chunks
                .into_iter()
                .map(|(ssrc, items)| SdesChunk {
                    ssrc,
                    items: items
                        .into_iter()
                        .map(|(kind, value)| SdesItem {
                            kind,
                            value: value.slice(..value.len().min(255)),
                        })
                        .collect(),
                })
                .collect(),
        })),
        (
            proptest::collection::vec(any::<u32>(), 0..32),
            proptest::option::of(bytes(255))
        )
            .prop_map(|(sources, reason)| RtcpPacket::Goodbye(Goodbye { sources, reason })),
        (205u8..=255, 0u8..32, bytes(64)).prop_map(|(packet_type, count, payload)| {
            RtcpPacket::Other {
                packet_type,
                count,
                payload,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = RtcpPacket::parse_compound(&bytes);
    }

    #[test]
    fn parse_of_plausible_headers_never_panics_and_round_trips(
        mut bytes in proptest::collection::vec(any::<u8>(), 4..300),
        kind in 200u8..=206,
    ) {
        // Version 2, a known type, a length that fits: the bodies get exercised.
        bytes[0] = 0x80 | (bytes[0] & 0x3f);
        bytes[1] = kind;
        let words = (bytes.len() / 4 - 1) as u16;
        bytes[2..4].copy_from_slice(&words.to_be_bytes());
        bytes.truncate((usize::from(words) + 1) * 4);
        if let Ok(packets) = RtcpPacket::parse_compound(&bytes) {
            let again = RtcpPacket::parse_compound(&compound(&packets));
            prop_assert_eq!(again, Ok(packets));
        }
    }

    #[test]
    fn built_packets_round_trip(packets in proptest::collection::vec(arb_packet(), 1..4)) {
        let expected: Vec<RtcpPacket> = packets
            .iter()
            .map(|p| match p {
                // Writing cuts lists at 31.
                RtcpPacket::SenderReport(sr) => RtcpPacket::SenderReport(SenderReport {
                    reports: sr.reports.iter().take(31).copied().collect(),
                    ..sr.clone()
                }),
                RtcpPacket::ReceiverReport(rr) => RtcpPacket::ReceiverReport(ReceiverReport {
                    reports: rr.reports.iter().take(31).copied().collect(),
                    ..rr.clone()
                }),
                RtcpPacket::Goodbye(bye) => RtcpPacket::Goodbye(Goodbye {
                    sources: bye.sources.iter().take(31).copied().collect(),
                    reason: bye.reason.clone(),
                }),
                other => other.clone(),
            })
            .collect();
        prop_assert_eq!(RtcpPacket::parse_compound(&compound(&packets)), Ok(expected));
    }
}
