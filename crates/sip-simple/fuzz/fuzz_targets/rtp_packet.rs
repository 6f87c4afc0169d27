//! Parse a datagram as RTP; when it parses, print it, parse the print and require the same
//! packet, from both the copying and the zero-copy parser. A telephone-event payload must
//! parse or fail without panicking and print back to itself.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_simple::media::{DtmfEvent, RtpPacket};

fuzz_target!(|data: &[u8]| {
    let copied = RtpPacket::parse(data);
    let shared = RtpPacket::parse_bytes(&Bytes::copy_from_slice(data));
    assert_eq!(copied, shared, "parse and parse_bytes disagree");
    let Ok(packet) = copied else {
        return;
    };
    let printed = packet.to_bytes();
    match RtpPacket::parse(&printed) {
        Ok(again) => assert_eq!(
            again, packet,
            "print of {packet:?} parses to another packet"
        ),
        Err(e) => panic!("print of {packet:?} does not parse: {e}"),
    }
    // Printing drops padding and extensions only: it is never longer than the input.
    assert!(printed.len() <= data.len());
    if let Ok(event) = DtmfEvent::parse(&packet.payload) {
        assert_eq!(DtmfEvent::parse(&event.to_bytes()), Ok(event));
    }
});
