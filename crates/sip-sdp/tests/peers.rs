//! Bodies that real peers sent (SIPp and the Perl Net::SIP, captured over loopback, see
//! `fixtures/README.md`) and the SDP bodies of RFC 5118's IPv6 torture messages.

use std::net::{IpAddr, SocketAddr};

use sip_sdp::{
    AddressType, Capabilities, Codec, Direction, MediaCapability, MediaKind, Origin,
    SessionDescription,
};

const SIPP_UAC: &[u8] = include_bytes!("fixtures/sipp-uac-invite.sdp");
const SIPP_UAS: &[u8] = include_bytes!("fixtures/sipp-uas-200ok.sdp");
const SIPP_UAC_V6: &[u8] = include_bytes!("fixtures/sipp-uac-invite-ipv6.sdp");
const SIPP_UAS_V6: &[u8] = include_bytes!("fixtures/sipp-uas-200ok-ipv6.sdp");
const NETSIP: &[u8] = include_bytes!("fixtures/netsip-invite.sdp");
const NETSIP_V6: &[u8] = include_bytes!("fixtures/netsip-invite-ipv6.sdp");
const RFC5118_IPV6: &[u8] = include_bytes!("fixtures/rfc5118-ipv6-in-sdp.sdp");
const RFC5118_MULT: &[u8] = include_bytes!("fixtures/rfc5118-mult-ip-in-sdp.sdp");

const ALL: [(&str, &[u8]); 8] = [
    ("sipp uac", SIPP_UAC),
    ("sipp uas", SIPP_UAS),
    ("sipp uac ipv6", SIPP_UAC_V6),
    ("sipp uas ipv6", SIPP_UAS_V6),
    ("net::sip", NETSIP),
    ("net::sip ipv6", NETSIP_V6),
    ("rfc5118 ipv6-in-sdp", RFC5118_IPV6),
    ("rfc5118 mult-ip-in-sdp", RFC5118_MULT),
];

fn parse(bytes: &[u8]) -> SessionDescription {
    SessionDescription::parse(bytes)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(bytes)))
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn every_body_prints_back_byte_for_byte() {
    for (name, bytes) in ALL {
        let sdp = parse(bytes);
        assert_eq!(sdp.to_bytes(), bytes, "{name}");
    }
}

#[test]
fn sipp_offer() {
    let sdp = parse(SIPP_UAC);
    assert_eq!(sdp.origin.username, "user1");
    assert_eq!(sdp.origin.ip(), Some(IpAddr::from([127, 0, 0, 1])));
    let media = sdp.media_info();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].kind, MediaKind::Audio);
    assert_eq!(media[0].socket_addr(), Some(addr("127.0.0.1:6004")));
    assert_eq!(media[0].proto, "RTP/AVP");
    assert_eq!(media[0].formats, ["0"]);
    assert_eq!(media[0].port_range, 2);
    assert_eq!(media[0].direction, Direction::SendRecv);
    assert_eq!(sdp.media[0].rtpmap(0).unwrap().encoding, "PCMU");
}

#[test]
fn sipp_over_ipv6_brackets_its_origin_address() {
    let sdp = parse(SIPP_UAC_V6);
    // SIPp writes "o=... IN IP6 [::1]": not RFC 8866, but kept and still understood.
    assert_eq!(sdp.origin.address, "[::1]");
    assert_eq!(sdp.origin.addr_type, AddressType::Ip6);
    assert_eq!(sdp.origin.ip(), Some("::1".parse().unwrap()));
    assert_eq!(sdp.media_info()[0].socket_addr(), Some(addr("[::1]:6004")));
    let answer = parse(SIPP_UAS_V6);
    assert_eq!(
        answer.media_info()[0].socket_addr(),
        Some(addr("[::1]:6000"))
    );
}

#[test]
fn net_sip_offer_with_telephone_events() {
    let sdp = parse(NETSIP);
    assert_eq!(sdp.origin.username, "anonymous");
    assert_eq!(sdp.session_name, "session");
    let audio = &sdp.media[0];
    assert_eq!(audio.formats, ["0", "101"]);
    // PCMU has no a=rtpmap: the static payload type table fills in.
    let codecs: Vec<String> = audio.codecs().iter().map(ToString::to_string).collect();
    assert_eq!(codecs, ["0 PCMU/8000", "101 telephone-event/8000"]);
    assert_eq!(audio.fmtp("101").unwrap().params, "0-16");
    let v6 = parse(NETSIP_V6);
    assert_eq!(v6.connection.as_ref().unwrap().addr_type, AddressType::Ip6);
    assert!(v6.media_info()[0].address.unwrap().is_loopback());
}

#[test]
fn answering_what_peers_offer() {
    let caps = Capabilities::new().with(
        MediaCapability::audio([Codec::pcma(), Codec::pcmu(), Codec::telephone_event()])
            .with_ptime(20),
    );
    let ip: IpAddr = "::1".parse().unwrap();
    for (name, bytes) in [
        ("sipp", SIPP_UAC),
        ("net::sip", NETSIP),
        ("net::sip v6", NETSIP_V6),
    ] {
        let offer = parse(bytes);
        let answer = caps.answer(&offer, Origin::new("-", 9, 9, ip), ip, |_| Some(7078));
        assert_eq!(answer.media.len(), 1, "{name}");
        let audio = &answer.media[0];
        assert_eq!(audio.port, 7078, "{name}");
        assert_eq!(
            audio.formats, offer.media[0].formats,
            "{name}: offerer's order and numbers"
        );
        assert_eq!(audio.ptime(), Some(20));
        assert_eq!(parse(&answer.to_bytes()), answer);
    }
}

#[test]
fn rfc5118_ipv6_in_sdp() {
    let sdp = parse(RFC5118_IPV6);
    assert_eq!(sdp.origin.addr_type, AddressType::Ip6);
    assert_eq!(sdp.session_name, "Live video feed for today's meeting");
    assert_eq!(sdp.timings[0].start, 3_338_481_189);
    let media = sdp.media_info();
    assert_eq!(media[0].socket_addr(), Some(addr("[2001:db8::20]:6000")));
    assert_eq!(media[1].socket_addr(), Some(addr("[2001:db8::20]:6024")));
    assert_eq!(sdp.media[0].rtpmap(2).unwrap().encoding, "G726-32");
    assert_eq!(
        sdp.media[1].rtpmap(107).unwrap().to_string(),
        "107 H263-1998/90000"
    );
}

#[test]
fn rfc5118_one_media_per_address_family() {
    let sdp = parse(RFC5118_MULT);
    assert_eq!(sdp.session_name, "", "an empty s= is kept");
    assert!(sdp.connection.is_none());
    let media = sdp.media_info();
    assert_eq!(media[0].socket_addr(), Some(addr("192.0.2.1:22334")));
    assert_eq!(media[1].socket_addr(), Some(addr("[2001:db8::1]:6024")));
    assert_eq!(
        media[1].connection.as_ref().unwrap().addr_type,
        AddressType::Ip6
    );
}

#[test]
fn a_nat_helper_rewrites_a_peer_offer() {
    // What Net::SIP's NAT helper does: every media to a relay address, ports it allocated.
    let mut sdp = parse(NETSIP);
    let before = sdp.media_info();
    sdp.replace_media_listen(&[addr("198.51.100.1:40000")])
        .unwrap();
    let after = sdp.media_info();
    assert_eq!(after[0].socket_addr(), Some(addr("198.51.100.1:40000")));
    assert_eq!(after[0].formats, before[0].formats);
    assert_eq!(sdp.connection.as_ref().unwrap().host(), "198.51.100.1");
    assert!(
        sdp.media[0].connections.is_empty(),
        "the shared c= was rewritten, not copied"
    );

    // Into another address family, media by media.
    let mut sdp = parse(RFC5118_MULT);
    sdp.replace_media_listen(&[addr("[2001:db8::99]:5000"), addr("192.0.2.99:5002")])
        .unwrap();
    let text = sdp.to_string();
    assert!(
        text.contains("m=audio 5000 RTP/AVP 0\r\nc=IN IP6 2001:db8::99\r\n"),
        "{text}"
    );
    assert!(
        text.contains("m=video 5002 RTP/AVP 107\r\nc=IN IP4 192.0.2.99\r\n"),
        "{text}"
    );
}
