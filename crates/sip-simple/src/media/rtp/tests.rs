//! Tests of RTP packet parsing and printing.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn sample() -> RtpPacket {
    RtpPacket {
        payload_type: 8,
        marker: true,
        sequence: 0xbeef,
        timestamp: 0x0102_0304,
        ssrc: 0xdead_beef,
        csrc: vec![1, 2],
        payload: Bytes::from_static(b"hello"),
    }
}

#[test]
fn prints_rfc_3550_header_layout() {
    let wire = sample().to_bytes();
    assert_eq!(
        &wire[..],
        &[
            0x82, 0x88, 0xbe, 0xef, 1, 2, 3, 4, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 2,
            b'h', b'e', b'l', b'l', b'o'
        ]
    );
    assert_eq!(RtpPacket::parse(&wire), Ok(sample()));
    assert_eq!(RtpPacket::parse_bytes(&wire), Ok(sample()));
}

#[test]
fn skips_padding_and_extension() {
    let mut wire = vec![0xb0, 0x00, 0, 7, 0, 0, 0, 160, 0, 0, 0, 9];
    // Extension: profile 0xbede, one 32-bit word.
    wire.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
    wire.extend_from_slice(b"abc");
    // Three octets of padding, the last one the count.
    wire.extend_from_slice(&[0, 0, 3]);
    let p = RtpPacket::parse(&wire).unwrap();
    assert_eq!(p.payload, Bytes::from_static(b"abc"));
    assert_eq!(
        (p.payload_type, p.marker, p.sequence, p.timestamp, p.ssrc),
        (0, false, 7, 160, 9)
    );
    assert!(p.csrc.is_empty());
    // Printing drops both.
    assert_eq!(
        &p.to_bytes()[..],
        &[0x80, 0, 0, 7, 0, 0, 0, 160, 0, 0, 0, 9, b'a', b'b', b'c']
    );
}

#[test]
fn padding_may_take_the_whole_payload() {
    let wire = [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4];
    assert_eq!(RtpPacket::parse(&wire).unwrap().payload.len(), 0);
}

#[test]
fn malformed_datagrams_are_errors() {
    let good = sample().to_bytes();
    for len in 0..12 {
        assert_eq!(
            RtpPacket::parse(&good[..len]),
            Err(RtpError::Truncated { len })
        );
    }
    let mut v1 = good.to_vec();
    v1[0] = 0x42;
    assert_eq!(
        RtpPacket::parse(&v1),
        Err(RtpError::BadVersion { version: 1 })
    );
    // CC = 15 but the datagram ends early.
    let mut cc = good.to_vec();
    cc[0] = 0x8f;
    assert_eq!(
        RtpPacket::parse(&cc),
        Err(RtpError::CsrcPastEnd {
            count: 15,
            needed: 72,
            len: good.len()
        })
    );
    // X set, no room for the extension header.
    let x = [0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe];
    assert!(matches!(
        RtpPacket::parse(&x),
        Err(RtpError::ExtensionPastEnd {
            offset: 12,
            needed: 16,
            len: 13
        })
    ));
    // Extension length past the end.
    let x = [
        0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 2, 1, 2, 3, 4,
    ];
    assert!(matches!(
        RtpPacket::parse(&x),
        Err(RtpError::ExtensionPastEnd { needed: 24, .. })
    ));
    // Padding count 0, and larger than what follows the header.
    let p0 = [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    assert_eq!(
        RtpPacket::parse(&p0),
        Err(RtpError::BadPadding {
            count: 0,
            available: 2
        })
    );
    let p9 = [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9];
    assert_eq!(
        RtpPacket::parse(&p9),
        Err(RtpError::BadPadding {
            count: 9,
            available: 2
        })
    );
    // Padding bit on a bare header: nothing follows for the count.
    let bare = [0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
    assert_eq!(
        RtpPacket::parse(&bare),
        Err(RtpError::BadPadding {
            count: 9,
            available: 0
        })
    );
}

#[test]
fn errors_say_what_and_where() {
    let e = RtpPacket::parse(&[0x80; 5]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RTP packet of 5 octets is shorter than the 12-octet fixed header"
    );
    let e = RtpPacket::parse(&[0x00; 12]).unwrap_err();
    assert!(e.to_string().contains("version 0"));
}

#[test]
fn printing_caps_csrc_and_payload_type() {
    let p = RtpPacket {
        payload_type: 0xff,
        csrc: (0..20).collect(),
        ..sample()
    };
    let back = RtpPacket::parse(&p.to_bytes()).unwrap();
    assert_eq!(back.csrc, (0..15).collect::<Vec<u32>>());
    assert_eq!(back.payload_type, 0x7f);
    assert!(back.marker);
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = RtpPacket::parse(&bytes);
    }

    #[test]
    fn parse_of_version_2_headers_never_panics_and_round_trips(
        mut bytes in proptest::collection::vec(any::<u8>(), 12..120),
    ) {
        bytes[0] = 0x80 | (bytes[0] & 0x3f);
        if let Ok(p) = RtpPacket::parse(&bytes) {
            prop_assert_eq!(RtpPacket::parse(&p.to_bytes()), Ok(p.clone()));
            prop_assert_eq!(RtpPacket::parse_bytes(&Bytes::from(bytes.clone())), Ok(p));
        }
    }

    #[test]
    fn print_parse_round_trip(
        payload_type in 0u8..128,
        marker: bool,
        sequence: u16,
        timestamp: u32,
        ssrc: u32,
        csrc in proptest::collection::vec(any::<u32>(), 0..16),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let p = RtpPacket { payload_type, marker, sequence, timestamp, ssrc, csrc, payload: payload.into() };
        prop_assert_eq!(RtpPacket::parse(&p.to_bytes()), Ok(p));
    }
}
