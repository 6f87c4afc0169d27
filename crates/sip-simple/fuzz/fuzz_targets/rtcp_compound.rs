//! Parse a datagram as an RTCP compound packet; when it parses, print every packet, parse the
//! print and require the same packets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip_simple::media::{compound, is_rtcp, RtcpPacket};

fuzz_target!(|data: &[u8]| {
    let _ = is_rtcp(data);
    let Ok(packets) = RtcpPacket::parse_compound(data) else {
        return;
    };
    let printed = compound(&packets);
    match RtcpPacket::parse_compound(&printed) {
        Ok(again) => assert_eq!(again, packets, "print parses to other packets: {printed:?}"),
        Err(e) => panic!("print of {packets:?} does not parse: {e}\nprinted: {printed:?}"),
    }
    // A second print is byte for byte the first.
    assert_eq!(compound(&packets), printed);
});
