//! Parses arbitrary bytes; whatever parses must print, parse again to the same value, and go
//! through every typed view and operation without a panic.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use sip_sdp::{Capabilities, Codec, MediaCapability, MediaKind, Origin, SessionDescription};

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = SessionDescription::parse(data) else {
        return;
    };
    let printed = sdp.to_string();
    let again = match SessionDescription::parse(printed.as_bytes()) {
        Ok(again) => again,
        Err(e) => panic!("printed description does not parse: {e}\n{printed:?}"),
    };
    assert_eq!(again, sdp, "{printed:?}");
    assert_eq!(again.to_string(), printed);

    // Typed views.
    let _ = sdp.is_on_hold();
    let _ = sdp.direction();
    for (index, media) in sdp.media.iter().enumerate() {
        let _ = sdp
            .media_connection(index)
            .map(|c| (c.ip(), c.ttl(), c.address_count()));
        let _ = sdp.is_media_on_hold(index);
        let _ = media.codecs();
        let _ = media.ptime();
        let _ = media.rtcp();
        let _ = media.port_range();
        for format in &media.formats {
            let _ = media.fmtp(format).map(|f| f.parameters().count());
        }
    }
    let info = sdp.media_info();
    assert_eq!(info.len(), sdp.media.len());

    // Offer/answer: one m= line per offered one, and the answer prints and parses back.
    let caps = Capabilities::new()
        .with(MediaCapability::audio([
            Codec::pcmu(),
            Codec::pcma(),
            Codec::telephone_event(),
        ]))
        .with(MediaCapability::new(
            MediaKind::Image,
            "udptl",
            [Codec::new("t38", 0)],
        ));
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut answer = caps.answer(&sdp, Origin::new("-", 1, 1, ip), ip, |s| {
        Some(10_000 + s.index as u16)
    });
    assert_eq!(answer.media.len(), sdp.media.len());
    let answer_again = SessionDescription::parse(&answer.to_bytes()).expect("answer parses");
    assert_eq!(answer_again, answer);
    let _ = answer.revise_from(&answer_again);

    // NAT rewrite: every media to a new address, alternating families.
    let listen: Vec<SocketAddr> = (0..sdp.media.len())
        .map(|i| {
            let ip = if i % 2 == 0 {
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))
            } else {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            };
            SocketAddr::new(ip, (i as u16).wrapping_mul(2))
        })
        .collect();
    let mut rewritten = sdp.clone();
    rewritten
        .replace_media_listen(&listen)
        .expect("one address per media");
    let rewritten_again =
        SessionDescription::parse(&rewritten.to_bytes()).expect("rewritten parses");
    assert_eq!(rewritten_again, rewritten);
    for (i, media) in rewritten.media_info().iter().enumerate() {
        assert_eq!(media.port, listen[i].port());
        assert_eq!(media.address, Some(listen[i].ip()));
    }
});
