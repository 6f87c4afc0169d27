use super::*;
use sip_packet::Message;

fn request(vias: &[&str]) -> Request {
    let mut raw = String::from("INVITE sip:bob@biloxi.example.com SIP/2.0\r\n");
    for v in vias {
        raw.push_str(&format!("Via: {v}\r\n"));
    }
    raw.push_str(
        "Max-Forwards: 70\r\nTo: <sip:bob@biloxi.example.com>\r\n\
         From: <sip:alice@atlanta.example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n",
    );
    match Message::parse(raw.into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn top(r: &Request) -> String {
    r.headers().get("Via").unwrap().to_string()
}

fn all_vias(r: &Request) -> Vec<String> {
    r.headers().get_all("Via").map(|v| v.to_string()).collect()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn via(s: &str) -> Via {
    Via::parse(s).unwrap()
}

#[test]
fn add_via_goes_on_top_with_branch_and_bare_rport() {
    let mut r = request(&["SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst"]);
    add_via(
        &mut r,
        (Protocol::Tcp, Host::parse("[::1]").unwrap(), 5070),
        "z9hG4bKours",
    );
    assert_eq!(
        all_vias(&r),
        [
            "SIP/2.0/TCP [::1]:5070;branch=z9hG4bKours;rport",
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst"
        ]
    );
    let v = r.headers().top_via().unwrap();
    assert_eq!(v.branch(), Some("z9hG4bKours"));
    assert_eq!(v.rport(), Some(None));
}

#[test]
fn add_via_writes_a_via_that_parses_back_for_every_protocol_and_host_kind() {
    for (protocol, transport) in [
        (Protocol::Udp, "UDP"),
        (Protocol::Tcp, "TCP"),
        (Protocol::Tls, "TLS"),
    ] {
        for host in ["192.0.2.7", "[2001:db8::7]", "proxy.example.com"] {
            let mut r = request(&["SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfirst"]);
            add_via(
                &mut r,
                (protocol, Host::parse(host).unwrap(), 5061),
                "z9hG4bK-sp-1",
            );
            assert_eq!(
                top(&r),
                format!("SIP/2.0/{transport} {host}:5061;branch=z9hG4bK-sp-1;rport")
            );
            let v = r.headers().top_via().unwrap();
            assert_eq!(v.transport(), &protocol.to_via_transport());
            assert_eq!(v.host(), &Host::parse(host).unwrap());
            assert_eq!(v.port(), Some(5061));
            assert_eq!(v.branch(), Some("z9hG4bK-sp-1"));
            assert_eq!(v.rport(), Some(None));
            assert_eq!(r.headers().vias().count(), 2);
        }
    }
}

#[test]
fn same_address_without_rport_is_left_alone() {
    let mut r = request(&["SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa"]);
    stamp_received(&mut r, addr("192.0.2.1:5060"));
    assert_eq!(top(&r), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa");
    // The source port does not matter without rport (§18.2.1 compares hosts only).
    stamp_received(&mut r, addr("192.0.2.1:40000"));
    assert_eq!(top(&r), "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa");
}

#[test]
fn other_address_or_a_name_gets_received() {
    // RFC 3261 §18.2.1's example.
    let mut r = request(&["SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKb"]);
    stamp_received(&mut r, addr("192.0.2.4:5060"));
    assert_eq!(
        top(&r),
        "SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKb;received=192.0.2.4"
    );

    let mut r = request(&[
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKc",
        "SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKd",
    ]);
    stamp_received(&mut r, addr("192.0.2.4:5060"));
    assert_eq!(
        all_vias(&r),
        [
            "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKc;received=192.0.2.4",
            "SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKd"
        ],
        "only the top Via is stamped, and it stays on top"
    );
}

#[test]
fn bare_rport_is_filled_and_received_added_even_when_equal() {
    // RFC 3581 §4: received MUST be added even when it equals sent-by.
    let mut r = request(&["SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKe;rport"]);
    stamp_received(&mut r, addr("192.0.2.1:5060"));
    assert_eq!(
        top(&r),
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKe;rport=5060;received=192.0.2.1"
    );

    // RFC 3581 §4's example of a client behind a NAT.
    let mut r = request(&["SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKf"]);
    stamp_received(&mut r, addr("192.0.2.1:9988"));
    let v = r.headers().top_via().unwrap();
    assert_eq!(v.rport(), Some(Some(9988)));
    assert_eq!(v.received(), Some(Host::parse("192.0.2.1").unwrap()));
}

#[test]
fn rport_with_a_value_is_not_refilled() {
    let mut v = via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKg;rport=1234");
    assert!(!stamp_via(&mut v, addr("192.0.2.1:9999")));
    assert_eq!(v.rport(), Some(Some(1234)));
}

#[test]
fn ipv6_received_is_written_bare_and_reads_back() {
    let mut v = via("SIP/2.0/TCP [2001:db8::9:1]:6050;branch=z9hG4bKh");
    assert!(stamp_via(&mut v, addr("[2001:db8::9:255]:6050")));
    assert_eq!(
        v.to_string(),
        "SIP/2.0/TCP [2001:db8::9:1]:6050;branch=z9hG4bKh;received=2001:db8::9:255"
    );
    assert_eq!(
        v.received(),
        Some(Host::parse("[2001:db8::9:255]").unwrap())
    );
    // Same address: nothing to add.
    let mut v = via("SIP/2.0/TCP [2001:db8::9:1]:6050;branch=z9hG4bKh");
    assert!(!stamp_via(&mut v, addr("[2001:db8::9:1]:1")));
}

#[test]
fn ipv4_mapped_sources_compare_as_ipv4() {
    let mut v = via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKi");
    assert!(!stamp_via(&mut v, addr("[::ffff:192.0.2.1]:5060")));
    assert!(stamp_via(&mut v, addr("[::ffff:192.0.2.2]:5060")));
    assert_eq!(v.received(), Some(Host::parse("192.0.2.2").unwrap()));
}

#[test]
fn unparseable_or_missing_top_via_is_left_alone() {
    let mut r = request(&["SIP/2.0/UDP host:port;branch=z9hG4bKj"]);
    stamp_received(&mut r, addr("192.0.2.4:5060"));
    assert_eq!(top(&r), "SIP/2.0/UDP host:port;branch=z9hG4bKj");
    let mut r = request(&["SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKk"]);
    r.headers_mut().remove("Via");
    stamp_received(&mut r, addr("192.0.2.4:5060"));
    assert!(r.headers().get("Via").is_none());
}

const SRC: &str = "192.0.2.4:40000";

fn target(v: &str, protocol: Protocol, connection: Option<ConnectionId>) -> ResponseTarget {
    response_target(&via(v), addr(SRC), protocol, connection)
}

#[test]
fn reliable_with_a_connection_uses_it_and_falls_back_to_received() {
    let id = ConnectionId::from_raw(7);
    let t = target(
        "SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bKx;received=192.0.2.4;rport=40000",
        Protocol::Tcp,
        Some(id),
    );
    // §18.2.2: the fallback is received with the sent-by port: rport is for UDP (RFC 3581 §4).
    assert_eq!(
        t,
        ResponseTarget::Connection {
            connection: id,
            fallback: Box::new(ResponseTarget::Addr(addr("192.0.2.4:5070")))
        }
    );
    // TLS without a port: the default is 5061.
    let t = target(
        "SIP/2.0/TLS 10.0.0.1;branch=z9hG4bKx;received=192.0.2.4",
        Protocol::Tls,
        Some(id),
    );
    assert!(
        matches!(t, ResponseTarget::Connection { fallback, .. } if *fallback == ResponseTarget::Addr(addr("192.0.2.4:5061")))
    );
    // A connection id on UDP means nothing.
    let t = target(
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx",
        Protocol::Udp,
        Some(id),
    );
    assert_eq!(t, ResponseTarget::Addr(addr("10.0.0.1:5060")));
    // Reliable without a connection: the fallback itself.
    let t = target(
        "SIP/2.0/TCP example.com;branch=z9hG4bKx",
        Protocol::Tcp,
        None,
    );
    assert_eq!(
        t,
        ResponseTarget::Resolve {
            host: Host::parse("example.com").unwrap(),
            port: None
        }
    );
}

#[test]
fn maddr_wins_over_received_and_rport() {
    let t = target(
        "SIP/2.0/UDP 10.0.0.1:5080;branch=z9hG4bKx;maddr=239.255.255.1;ttl=15;received=192.0.2.4;rport=40000",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("239.255.255.1:5080")));
    let t = target(
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx;maddr=proxy.example.com",
        Protocol::Udp,
        None,
    );
    assert_eq!(
        t,
        ResponseTarget::Resolve {
            host: Host::parse("proxy.example.com").unwrap(),
            port: Some(5060)
        }
    );
}

#[test]
fn received_and_rport_value() {
    let t = target(
        "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKx;received=192.0.2.1;rport=9988",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("192.0.2.1:9988")));
    let t = target(
        "SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKx;received=2001:db8::2;rport=9988",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("[2001:db8::2]:9988")));
    // An rport value without received: the sent-by host with that port.
    let t = target(
        "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKx;rport=9988",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("10.1.1.1:9988")));
}

#[test]
fn bare_rport_never_stamped_goes_to_the_source() {
    let t = target(
        "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKx;rport",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr(SRC)));
}

#[test]
fn received_alone_uses_sent_by_port_or_default() {
    let t = target(
        "SIP/2.0/UDP host.example.com:5090;branch=z9hG4bKx;received=192.0.2.4",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("192.0.2.4:5090")));
    let t = target(
        "SIP/2.0/UDP host.example.com;branch=z9hG4bKx;received=192.0.2.4",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("192.0.2.4:5060")));
}

#[test]
fn sent_by_address_or_name() {
    let t = target(
        "SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bKx",
        Protocol::Udp,
        None,
    );
    assert_eq!(t, ResponseTarget::Addr(addr("192.0.2.9:5062")));
    let t = target("SIP/2.0/UDP [::1];branch=z9hG4bKx", Protocol::Udp, None);
    assert_eq!(t, ResponseTarget::Addr(addr("[::1]:5060")));
    let t = target(
        "SIP/2.0/UDP pc33.atlanta.example.com:5066;branch=z9hG4bKx",
        Protocol::Udp,
        None,
    );
    assert_eq!(
        t,
        ResponseTarget::Resolve {
            host: Host::parse("pc33.atlanta.example.com").unwrap(),
            port: Some(5066)
        }
    );
}

#[test]
fn stamped_then_targeted_reaches_the_nat_binding() {
    // What a UAS does: stamp on receipt, answer where the stamp says.
    let mut r = request(&["SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKf"]);
    let src = addr("192.0.2.1:9988");
    stamp_received(&mut r, src);
    let v = r.headers().top_via().unwrap();
    assert_eq!(
        response_target(&v, addr("203.0.113.7:1"), Protocol::Udp, None),
        ResponseTarget::Addr(src)
    );
}
