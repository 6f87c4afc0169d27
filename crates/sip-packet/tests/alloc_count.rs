//! Allocator calls made by parsing: a small constant, whatever the number of headers.
//!
//! The parser keeps every header as a span of the datagram's buffer, so a message with a
//! hundred headers must cost the allocator no more calls than one with ten. The counting
//! allocator is `stats_alloc`'s: the workspace forbids `unsafe_code`, which an
//! `impl GlobalAlloc` of our own would need.
//!
//! There is one test in this file on purpose: tests run on parallel threads and the counters
//! are global.

use std::alloc::System;

use bytes::Bytes;
use sip_packet::Message;
use stats_alloc::{Region, Stats, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The INVITE of RFC 3665 §3.1 with `extra` more header lines, of known and unknown names,
/// before its Content-Type.
fn invite_with_extra_headers(extra: usize) -> Vec<u8> {
    let mut head = String::from(concat!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
        "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds\r\n",
        "Max-Forwards: 70\r\n",
        "To: Bob <sip:bob@biloxi.example.com>\r\n",
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n",
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n",
        "CSeq: 314159 INVITE\r\n",
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\n",
    ));
    for i in 0..extra {
        let line = match i % 4 {
            0 => format!("X-Extra-{i}: value number {i}\r\n"),
            1 => format!("Subject: subject {i}\r\n"),
            2 => format!("Record-Route: <sip:proxy{i}.example.com;lr>\r\n"),
            _ => format!("P-Custom-{i}: {i}\r\n"),
        };
        head.push_str(&line);
    }
    let body = concat!(
        "v=0\r\n",
        "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n",
        "s=-\r\n",
        "c=IN IP4 192.0.2.101\r\n",
        "t=0 0\r\n",
        "m=audio 49172 RTP/AVP 0\r\n",
        "a=rtpmap:0 PCMU/8000\r\n",
    );
    head.push_str("Content-Type: application/sdp\r\n");
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    head.into_bytes()
}

/// Allocator calls: allocations and reallocations.
fn calls(stats: &Stats) -> usize {
    stats.allocations + stats.reallocations
}

#[test]
fn parsing_costs_a_constant_number_of_allocations() {
    let mut counts = Vec::new();
    for extra in [0, 10, 100] {
        let wire = invite_with_extra_headers(extra);
        // A datagram in a buffer of its own, not yet shared: the parser's first slice of it
        // allocates the shared handle, and that call is counted.
        let buf = Bytes::from(wire.into_boxed_slice());

        let region = Region::new(GLOBAL);
        let msg = Message::parse(buf).expect("the INVITE parses");
        let parse = region.change();
        let headers = msg.headers().len();

        let region = Region::new(GLOBAL);
        let h = msg.headers();
        let via = h.top_via().expect("Via");
        let cseq = h.cseq().expect("CSeq");
        let from = h.from().expect("From");
        let to = h.to().expect("To");
        assert_eq!(via.branch(), Some("z9hG4bK776asdhds"));
        assert_eq!((cseq.seq(), cseq.method().as_str()), (314159, "INVITE"));
        assert_eq!(
            h.call_id().expect("Call-ID"),
            "a84b4c76e66710@pc33.atlanta.example.com"
        );
        assert_eq!((from.tag(), to.tag()), (Some("1928301774"), None));
        drop((via, cseq, from, to));
        let access = region.change();

        let region = Region::new(GLOBAL);
        let printed = msg.to_bytes();
        let print = region.change();
        assert_eq!(printed.len(), msg.to_bytes().len());

        println!(
            "{headers:>3} headers: parse {} allocator calls ({} allocations, {} reallocations, \
             {} bytes), typed access {}, print {}",
            calls(&parse),
            parse.allocations,
            parse.reallocations,
            parse.bytes_allocated,
            calls(&access),
            calls(&print),
        );
        counts.push((calls(&parse), calls(&access), calls(&print)));
    }

    let (parse, access, print) = counts[0];
    assert!(
        parse <= 3,
        "parsing the INVITE took {parse} allocator calls"
    );
    assert_eq!(
        access, 0,
        "reading Via, CSeq, Call-ID, From and To allocated"
    );
    // The output buffer, and the shared handle `Bytes` makes of it.
    assert!(print <= 2, "printing took {print} allocator calls");
    assert_eq!(
        counts[1], counts[2],
        "10 and 100 extra headers cost different allocator calls"
    );
}
