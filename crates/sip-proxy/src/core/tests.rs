//! The proxy's rules, one by one, without sockets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use sip_packet::{Host, Message, Request, Response, Uri};
use sip_transport::Protocol;

use super::*;
use crate::branch::BRANCH_PREFIX;
use crate::legs::LegInfo;

const UDP: &str = "127.0.0.1:5060";
const TCP: &str = "127.0.0.1:5062";

fn legs() -> Legs {
    let ip = || Host::parse("127.0.0.1").unwrap();
    Legs::new(vec![
        LegInfo::new(Protocol::Udp, UDP.parse().unwrap(), (ip(), 5060)),
        LegInfo::new(Protocol::Tcp, TCP.parse().unwrap(), (ip(), 5062)),
    ])
}

fn core(config: ProxyConfig) -> ProxyCore {
    ProxyCore::new(legs(), config, [3; 32])
}

fn caller() -> SocketAddr {
    "127.0.0.1:5080".parse().unwrap()
}

fn parse_req(s: &str) -> Request {
    match Message::parse(s.replace("\r\n", "\n").replace('\n', "\r\n").into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

fn parse_resp(s: &str) -> Response {
    match Message::parse(s.replace("\r\n", "\n").replace('\n', "\r\n").into()).unwrap() {
        Message::Response(r) => r,
        Message::Request(_) => panic!("not a response"),
    }
}

/// A request from the caller at 127.0.0.1:5080, stamped as the dispatcher would.
fn request(method: &str, uri: &str, extra: &str) -> Request {
    parse_req(&format!(
        "{method} {uri} SIP/2.0\n\
         Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKc1;rport=5080;received=127.0.0.1\n\
         From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>\n\
         Call-ID: call-1\nCSeq: 1 {method}\n{extra}Content-Length: 0\n\n"
    ))
}

fn forward(d: Decision) -> (Message, usize, Target) {
    match d {
        Decision::Forward {
            message,
            leg,
            target,
        } => (message, leg, target),
        other => panic!("expected a forward, got {other:?}"),
    }
}

fn respond(d: Decision) -> (Response, usize, Target) {
    match d {
        Decision::Respond {
            response,
            leg,
            target,
        } => (response, leg, target),
        other => panic!("expected a response, got {other:?}"),
    }
}

fn handle(c: &ProxyCore, r: Request) -> Decision {
    c.handle_request(Instant::now(), r, 0, caller())
}

fn vias(m: &Message) -> Vec<Via> {
    m.headers().vias().map(Result::unwrap).collect()
}

#[test]
fn forwards_by_request_uri_with_our_via_on_top() {
    let c = core(ProxyConfig::new());
    let (m, leg, target) = forward(handle(
        &c,
        request("INVITE", "sip:bob@127.0.0.1:5090", "Max-Forwards: 70\n"),
    ));
    assert_eq!(leg, 0);
    assert_eq!(
        target,
        Target::new(Protocol::Udp, "127.0.0.1:5090".parse().unwrap(), None)
    );
    let v = vias(&m);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].port(), Some(5060));
    assert!(v[0].branch().unwrap().starts_with(BRANCH_PREFIX));
    assert_eq!(v[1].branch(), Some("z9hG4bKc1"));
    assert_eq!(m.headers().get("Max-Forwards").unwrap(), "69");
    assert_eq!(m.headers().get("Record-Route"), None);
}

#[test]
fn retransmissions_and_cancel_get_the_same_branch() {
    let c = core(ProxyConfig::new());
    let branch = |method: &str| {
        let (m, _, _) = forward(handle(&c, request(method, "sip:bob@127.0.0.1:5090", "")));
        vias(&m)[0].branch().unwrap().to_owned()
    };
    let invite = branch("INVITE");
    assert_eq!(invite, branch("INVITE"));
    assert_eq!(invite, branch("CANCEL"));
}

#[test]
fn max_forwards_missing_zero_and_options() {
    let c = core(ProxyConfig::new());
    let (m, _, _) = forward(handle(&c, request("INVITE", "sip:bob@127.0.0.1:5090", "")));
    assert_eq!(m.headers().get("Max-Forwards").unwrap(), "69");
    let (r, leg, target) = respond(handle(
        &c,
        request("INVITE", "sip:bob@127.0.0.1:5090", "Max-Forwards: 0\n"),
    ));
    assert_eq!((r.status(), leg), (483, 0));
    assert_eq!(target.addr, caller());
    assert!(r.headers().to().unwrap().tag().is_some());
    let (r, _, _) = respond(handle(
        &c,
        request("OPTIONS", "sip:bob@127.0.0.1:5090", "Max-Forwards: 0\n"),
    ));
    assert_eq!(r.status(), 200);
    assert!(matches!(
        handle(
            &c,
            request("ACK", "sip:bob@127.0.0.1:5090", "Max-Forwards: 0\n")
        ),
        Decision::Drop(_)
    ));
    let (m, _, _) = forward(handle(
        &c,
        request("INVITE", "sip:bob@127.0.0.1:5090", "Max-Forwards: 1\n"),
    ));
    assert_eq!(m.headers().get("Max-Forwards").unwrap(), "0");
}

#[test]
fn a_request_that_comes_back_unchanged_is_a_loop() {
    let c = core(ProxyConfig::new());
    let first = request("INVITE", "sip:bob@127.0.0.1:5090", "");
    let (m, _, _) = forward(handle(&c, first));
    // The next hop sends it back to us as it is, with its own Via on top.
    let Message::Request(mut back) = m else {
        unreachable!()
    };
    back.headers_mut().insert_at_top(
        "Via",
        "SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKnext;received=127.0.0.1",
    );
    let (r, _, _) = respond(c.handle_request(
        Instant::now(),
        back.clone(),
        0,
        "127.0.0.1:5090".parse().unwrap(),
    ));
    assert_eq!(r.status(), 482);
    // A spiral: the next hop changed the Request-URI; not a loop.
    back.set_uri("sip:bob@127.0.0.1:5091".parse().unwrap());
    let (m, _, target) =
        forward(c.handle_request(Instant::now(), back, 0, "127.0.0.1:5090".parse().unwrap()));
    assert_eq!(target.addr.port(), 5091);
    assert_eq!(vias(&m).len(), 4);
}

#[test]
fn a_loop_is_found_with_our_via_deep_in_a_compact_via_list() {
    let c = core(ProxyConfig::new());
    let (m, _, _) = forward(handle(&c, request("INVITE", "sip:bob@127.0.0.1:5090", "")));
    // The next hop sends it back with every Via on one compact `v:` line, its own first.
    let text = String::from_utf8(m.to_bytes().to_vec()).unwrap();
    let mut lines: Vec<&str> = text.split("\r\n").collect();
    let vias: Vec<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("Via: ").map(str::to_owned))
        .collect();
    assert_eq!(vias.len(), 2);
    lines.retain(|l| !l.starts_with("Via: "));
    let list = format!(
        "v: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKnext;received=127.0.0.1, {}",
        vias.join(", ")
    );
    lines.insert(1, &list);
    let back = parse_req(&lines.join("\r\n"));
    assert_eq!(back.headers().vias().count(), 3);
    let (r, _, _) =
        respond(c.handle_request(Instant::now(), back, 0, "127.0.0.1:5090".parse().unwrap()));
    assert_eq!(r.status(), 482);
}

#[test]
fn our_routes_are_removed_and_the_next_route_is_the_next_hop() {
    let c = core(ProxyConfig::new());
    let (m, _, target) = forward(handle(
        &c,
        request(
            "BYE",
            "sip:bob@192.0.2.9",
            "Route: <sip:127.0.0.1:5062;transport=tcp;lr>, <sip:127.0.0.1;lr>\nRoute: <sip:127.0.0.1:5099;lr>\n",
        ),
    ));
    assert_eq!(target.addr, "127.0.0.1:5099".parse().unwrap());
    let routes: Vec<String> = m
        .headers()
        .routes()
        .map(|r| r.unwrap().to_string())
        .collect();
    assert_eq!(routes, ["<sip:127.0.0.1:5099;lr>"]);
    let Message::Request(r) = m else {
        unreachable!()
    };
    assert_eq!(r.uri().to_string(), "sip:bob@192.0.2.9");
}

#[test]
fn strict_router_compatibility() {
    let c = core(ProxyConfig::new());
    // §16.4: a strict router put our Record-Route in the Request-URI.
    let (m, _, target) = forward(handle(
        &c,
        request(
            "BYE",
            "sip:127.0.0.1:5060;lr",
            "Route: <sip:127.0.0.1:5098;lr>, <sip:bob@127.0.0.1:5090>\n",
        ),
    ));
    let Message::Request(r) = m else {
        unreachable!()
    };
    assert_eq!(r.uri().to_string(), "sip:bob@127.0.0.1:5090");
    assert_eq!(target.addr.port(), 5098);
    assert_eq!(r.headers().count("Route"), 1);
    // §16.6 item 6: the next hop is a strict router (no lr).
    let (m, _, target) = forward(handle(
        &c,
        request("BYE", "sip:bob@192.0.2.9", "Route: <sip:127.0.0.1:5097>\n"),
    ));
    let Message::Request(r) = m else {
        unreachable!()
    };
    assert_eq!(r.uri().to_string(), "sip:127.0.0.1:5097");
    assert_eq!(target.addr.port(), 5097);
    let routes: Vec<String> = r
        .headers()
        .routes()
        .map(|r| r.unwrap().to_string())
        .collect();
    assert_eq!(routes, ["<sip:bob@192.0.2.9>"]);
}

#[test]
fn record_route_single_and_double() {
    let c = core(ProxyConfig::new().record_route(true));
    let (m, _, _) = forward(handle(&c, request("INVITE", "sip:bob@127.0.0.1:5090", "")));
    let rr: Vec<String> = m
        .headers()
        .record_routes()
        .map(|r| r.unwrap().to_string())
        .collect();
    assert_eq!(rr, ["<sip:127.0.0.1:5060;lr>"]);
    let (m, leg, target) = forward(handle(
        &c,
        request("INVITE", "sip:bob@127.0.0.1:5090;transport=tcp", ""),
    ));
    assert_eq!((leg, target.protocol), (1, Protocol::Tcp));
    let rr: Vec<String> = m
        .headers()
        .record_routes()
        .map(|r| r.unwrap().to_string())
        .collect();
    assert_eq!(
        rr,
        [
            "<sip:127.0.0.1:5062;transport=tcp;lr>",
            "<sip:127.0.0.1:5060;lr>"
        ]
    );
    assert_eq!(vias(&m)[0].transport().as_str(), "TCP");
    let (m, _, _) = forward(handle(&c, request("REGISTER", "sip:127.0.0.1:5090", "")));
    assert_eq!(m.headers().get("Record-Route"), None);
}

#[test]
fn locator_retargets_or_answers() {
    let locator = |_: Instant, uri: &Uri| -> Option<Vec<Uri>> {
        match uri.user() {
            Some("bob") => Some(vec![
                "sip:bob@127.0.0.1:5091".parse().unwrap(),
                "sip:bob@127.0.0.1:5092".parse().unwrap(),
            ]),
            Some("carol") => Some(vec![]),
            _ => None,
        }
    };
    let c = core(
        ProxyConfig::new()
            .domain("example.com")
            .locator(Arc::new(locator)),
    );
    let (m, _, target) = forward(handle(&c, request("INVITE", "sip:bob@example.com", "")));
    assert_eq!(target.addr.port(), 5091);
    let Message::Request(r) = m else {
        unreachable!()
    };
    assert_eq!(r.uri().to_string(), "sip:bob@127.0.0.1:5091");
    assert_eq!(
        respond(handle(&c, request("INVITE", "sip:carol@example.com", "")))
            .0
            .status(),
        480
    );
    assert_eq!(
        respond(handle(&c, request("INVITE", "sip:dave@EXAMPLE.com", "")))
            .0
            .status(),
        404
    );
    assert_eq!(
        respond(handle(&c, request("INVITE", "sip:dave@127.0.0.1", "")))
            .0
            .status(),
        404
    );
    // An OPTIONS ping for the proxy itself is answered; for a user, 404 as any request.
    let status = |r| respond(handle(&c, r)).0.status();
    assert_eq!(status(request("OPTIONS", "sip:127.0.0.1", "")), 200);
    assert_eq!(status(request("OPTIONS", "sip:dave@example.com", "")), 404);
    // Another domain goes by RFC 3263.
    match handle(&c, request("INVITE", "sip:dave@example.org", "")) {
        Decision::Resolve(p) => assert_eq!(p.uri().to_string(), "sip:dave@example.org"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn domain2proxy_and_resolution() {
    let c =
        core(ProxyConfig::new().domain2proxy("example.org", "sip:127.0.0.1:5095".parse().unwrap()));
    let (m, _, target) = forward(handle(&c, request("INVITE", "sip:dave@example.org", "")));
    assert_eq!(target.addr.port(), 5095);
    let Message::Request(r) = m else {
        unreachable!()
    };
    assert_eq!(r.uri().to_string(), "sip:dave@example.org");
    let Decision::Resolve(p) = handle(&c, request("INVITE", "sip:dave@example.net", "")) else {
        panic!()
    };
    let tcp = Target::new(
        Protocol::Tcp,
        "127.0.0.1:5096".parse().unwrap(),
        Some("example.net".into()),
    );
    let (m, leg, target) = forward(c.handle_resolved(p.clone(), Ok(vec![tcp.clone()])));
    assert_eq!((leg, target), (1, tcp));
    assert_eq!(vias(&m)[0].transport().as_str(), "TCP");
    let (r, _, _) = respond(c.handle_resolved(p, Err("NXDOMAIN".into())));
    assert_eq!(r.status(), 503);
}

#[test]
fn responses_lose_our_via_and_follow_the_next() {
    let c = core(ProxyConfig::new());
    let (m, _, _) = forward(handle(&c, request("INVITE", "sip:bob@127.0.0.1:5090", "")));
    let Message::Request(fwd) = m else {
        unreachable!()
    };
    let mut resp = Response::from_request(&fwd, 180, None);
    resp.set_to_tag("b1").unwrap();
    let (m, leg, target) =
        forward(c.handle_response(resp.clone(), 0, "127.0.0.1:5090".parse().unwrap()));
    assert_eq!(leg, 0);
    assert_eq!(target.addr, caller());
    let v = vias(&m);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].branch(), Some("z9hG4bKc1"));
    // A response whose top Via is not ours is dropped.
    let mut theirs = resp.clone();
    theirs.headers_mut().remove_first("Via");
    assert!(matches!(
        c.handle_response(theirs, 0, caller()),
        Decision::Drop(_)
    ));
    // Several Vias in one line.
    let r = parse_resp(&format!(
        "SIP/2.0 200 OK\nVia: {}, SIP/2.0/TCP 127.0.0.1:5081;branch=z9hG4bKc2;received=127.0.0.1;rport=40000\n\
         From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
        vias(&Message::Request(fwd))[0]
    ));
    let (m, leg, target) = forward(c.handle_response(r, 0, "127.0.0.1:5090".parse().unwrap()));
    assert_eq!(vias(&m).len(), 1);
    // TCP: back to the connection the request came over (received:rport).
    assert_eq!((leg, target.protocol), (1, Protocol::Tcp));
    assert_eq!(target.addr, "127.0.0.1:40000".parse().unwrap());
}

#[test]
fn contacts_rewritten_between_legs_and_decoded_on_the_way_back() {
    let c = core(ProxyConfig::new());
    let (m, leg, _) = forward(handle(
        &c,
        request(
            "INVITE",
            "sip:bob@127.0.0.1:5090;transport=tcp",
            "Contact: <sip:alice@10.0.0.5:5080>\n",
        ),
    ));
    assert_eq!(leg, 1);
    let contact = m.headers().contacts().next().unwrap().unwrap();
    let uri = contact.address().unwrap().uri().clone();
    assert!(
        uri.to_string().ends_with("@127.0.0.1:5062;transport=tcp"),
        "{uri}"
    );
    // The callee sends a BYE to that contact, over TCP: it goes to where alice is.
    let bye = parse_req(&format!(
        "BYE {uri} SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5090;branch=z9hG4bKb1;received=127.0.0.1;rport=41000\n\
         From: <sip:bob@example.com>;tag=b1\nTo: <sip:alice@example.com>;tag=a1\nCall-ID: call-1\n\
         CSeq: 1 BYE\nContent-Length: 0\n\n"
    ));
    let (m, leg, target) = forward(c.handle_request(
        Instant::now(),
        bye.clone(),
        1,
        "127.0.0.1:41000".parse().unwrap(),
    ));
    assert_eq!(leg, 0);
    assert_eq!(target, Target::new(Protocol::Udp, caller(), None));
    let Message::Request(r) = m else {
        unreachable!()
    };
    assert_eq!(r.uri().to_string(), "sip:alice@10.0.0.5:5080");
    // Arriving on the wrong leg, the token is not honoured: it names us, so 404.
    let (r, _, _) = respond(c.handle_request(Instant::now(), bye, 0, caller()));
    assert_eq!(r.status(), 404);
    // Same leg in and out: left alone unless forced.
    let (m, _, _) = forward(handle(
        &c,
        request(
            "INVITE",
            "sip:bob@127.0.0.1:5090",
            "Contact: <sip:alice@10.0.0.5:5080>\n",
        ),
    ));
    assert_eq!(
        m.headers().get("Contact").unwrap(),
        "<sip:alice@10.0.0.5:5080>"
    );
    let forced = core(ProxyConfig::new().rewrite_contact(RewriteContact::Always));
    let (m, _, _) = forward(handle(
        &forced,
        request(
            "INVITE",
            "sip:bob@127.0.0.1:5090",
            "Contact: <sip:alice@10.0.0.5:5080>\n",
        ),
    ));
    assert!(m.headers().get("Contact").unwrap().starts_with("<sip:b"));
}

#[test]
fn literal_targets() {
    let t = |s: &str| literal_target(&s.parse().unwrap()).map(|t| t.to_string());
    assert_eq!(t("sip:a@127.0.0.1").as_deref(), Some("udp:127.0.0.1:5060"));
    assert_eq!(t("sips:a@127.0.0.1").as_deref(), Some("tls:127.0.0.1:5061"));
    assert_eq!(
        t("sip:a@[::1]:7;transport=TCP").as_deref(),
        Some("tcp:[::1]:7")
    );
    assert_eq!(
        t("sip:a@example.com;maddr=127.0.0.2").as_deref(),
        Some("udp:127.0.0.2:5060")
    );
    assert_eq!(t("sip:a@example.com"), None);
    assert_eq!(t("sip:a@127.0.0.1;transport=sctp"), None);
}
