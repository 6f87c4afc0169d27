//! What the proxy asks the NAT helper for each kind of message, and the SDP rewrite of
//! offers and answers (several streams, port 0 left alone, c= at session and media level,
//! IPv6), without sockets.

use std::sync::Arc;
use std::time::Instant;

use sip_packet::Host;
use sip_transport::Protocol;

use super::*;
use crate::config::ProxyConfig;
use crate::legs::Legs;
use crate::nat::allocate::StreamRequest;
use crate::nat::helper::NatFuture;
use crate::nat::info::{Activation, NatStats, SessionInfo};

/// A helper the core never calls (the core only decides; the driver calls).
#[derive(Debug)]
struct NotCalled;

impl NatHelper for NotCalled {
    fn allocate(&self, _: AllocateRequest) -> NatFuture<'_, Vec<Option<SocketAddr>>> {
        unreachable!("the core does no IO")
    }
    fn activate(&self, _: SessionKey) -> NatFuture<'_, Activation> {
        unreachable!("the core does no IO")
    }
    fn close(&self, _: CloseRequest) -> NatFuture<'_, Vec<SessionInfo>> {
        unreachable!("the core does no IO")
    }
    fn expire(&self) -> NatFuture<'_, Vec<SessionInfo>> {
        unreachable!("the core does no IO")
    }
    fn stats(&self) -> NatFuture<'_, NatStats> {
        unreachable!("the core does no IO")
    }
}

const PROXY: &str = "127.0.0.1:5060";
const CALLER: &str = "127.0.0.1:5080";
const CALLEE: &str = "127.0.0.1:5090";

fn leg(addr: &str) -> LegInfo {
    let a: SocketAddr = addr.parse().unwrap();
    LegInfo::new(
        Protocol::Udp,
        a,
        (Host::parse(&a.ip().to_string()).unwrap(), a.port()),
    )
}

fn core_on(legs: Vec<LegInfo>, config: ProxyConfig) -> ProxyCore {
    ProxyCore::new(Legs::new(legs), config, [7; 32])
}

fn nat_core() -> ProxyCore {
    core_on(
        vec![leg(PROXY)],
        ProxyConfig::new().nat(Arc::new(NotCalled)),
    )
}

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A request from the caller to the callee, stamped as the dispatcher would, with `body`
/// as SDP when not empty.
fn request(method: &str, cseq: u32, to_tag: Option<&str>, extra: &str, body: &str) -> Request {
    let to_tag = to_tag.map_or(String::new(), |t| format!(";tag={t}"));
    let body = crlf(body);
    let content = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\n".to_owned()
    };
    let text = crlf(&format!(
        "{method} sip:bob@{CALLEE} SIP/2.0\n\
         Via: SIP/2.0/UDP {CALLER};branch=z9hG4bKnat{cseq}{method};rport=5080;received=127.0.0.1\n\
         From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>{to_tag}\n\
         Call-ID: nat-1\nCSeq: {cseq} {method}\nMax-Forwards: 70\n{extra}{content}\
         Content-Length: {}\n\n",
        body.len()
    )) + &body;
    match Message::parse(text.into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn pending(d: Decision) -> Box<NatPending> {
    match d {
        Decision::Nat(p) => p,
        other => panic!("expected NAT work, got {other:?}"),
    }
}

fn forwarded(d: Decision) -> Message {
    match d {
        Decision::Forward { message, .. } => message,
        other => panic!("expected a forward, got {other:?}"),
    }
}

fn sdp_text(m: &Message) -> String {
    String::from_utf8(m.body().to_vec()).unwrap()
}

const OFFER: &str = "v=0\n\
    o=alice 1 1 IN IP4 10.0.0.1\n\
    s=-\n\
    c=IN IP4 10.0.0.1\n\
    t=0 0\n\
    m=audio 4000 RTP/AVP 0 8\n\
    a=rtcp:4001\n\
    m=video 5000 RTP/AVP 31\n\
    c=IN IP4 10.0.0.7\n\
    m=audio 0 RTP/AVP 0\n\
    m=audio 6000 RTP/AVP 0\n\
    c=IN IP4 0.0.0.0\n";

fn alice() -> PartyId {
    PartyId::new("tag=a1;leg=127.0.0.1:5060")
}

#[test]
fn an_offer_gets_relay_addresses_stream_by_stream() {
    let c = nat_core();
    let invite = request("INVITE", 1, None, "", OFFER);
    let p = pending(c.handle_request(Instant::now(), invite, 0, CALLER.parse().unwrap()));
    let a = p.allocation().unwrap().clone();
    assert_eq!(a.side, Side::From);
    assert_eq!(a.address.to_string(), "127.0.0.1");
    assert_eq!(a.key.call_id, "nat-1");
    assert_eq!(a.key.cseq, 1);
    assert_eq!(a.key.from, alice());
    assert_eq!(
        a.key.to,
        PartyId::new("uri=sip:bob@example.com;leg=127.0.0.1:5060")
    );
    assert_eq!(
        a.media,
        [
            StreamRequest::relay(Some("10.0.0.1:4000".parse().unwrap()), 2),
            StreamRequest::relay(Some("10.0.0.7:5000".parse().unwrap()), 2),
            // Port 0: disabled; 0.0.0.0: on hold. Neither is relayed.
            StreamRequest::untouched(),
            StreamRequest::untouched(),
        ]
    );
    assert_eq!(p.follow_up(), Some(&NatFollowUp::Activate(a.key.clone())));

    let relay = vec![
        Some("127.0.0.1:30000".parse().unwrap()),
        Some("127.0.0.1:30002".parse().unwrap()),
        None,
        None,
    ];
    let (follow_up, d) = c.handle_nat(p, Some(Ok(relay)));
    assert_eq!(follow_up, Some(NatFollowUp::Activate(a.key)));
    let m = forwarded(d);
    // The session-level c= now names the relay for the first stream; the video's own c=
    // too; the disabled and the held streams keep theirs; a=rtcp follows the RTP port.
    assert_eq!(
        sdp_text(&m),
        crlf(
            "v=0\n\
             o=alice 1 1 IN IP4 10.0.0.1\n\
             s=-\n\
             t=0 0\n\
             m=audio 30000 RTP/AVP 0 8\n\
             c=IN IP4 127.0.0.1\n\
             a=rtcp:30001\n\
             m=video 30002 RTP/AVP 31\n\
             c=IN IP4 127.0.0.1\n\
             m=audio 0 RTP/AVP 0\n\
             c=IN IP4 10.0.0.1\n\
             m=audio 6000 RTP/AVP 0\n\
             c=IN IP4 0.0.0.0\n"
        )
    );
    // The forwarded message is whole: Content-Length fits, our Via on top.
    let again = Message::parse(m.to_bytes()).unwrap();
    assert_eq!(again.body(), m.body());
    assert_eq!(again.headers().vias().count(), 2);
    assert_eq!(
        again.headers().get("Content-Type").unwrap(),
        "application/sdp"
    );
}

#[test]
fn a_shared_session_address_stays_shared() {
    let c = nat_core();
    let sdp = "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n\
               m=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 31\n";
    let p = pending(c.handle_request(
        Instant::now(),
        request("INVITE", 1, None, "", sdp),
        0,
        CALLER.parse().unwrap(),
    ));
    let relay = vec![
        Some("127.0.0.1:30000".parse().unwrap()),
        Some("127.0.0.1:30002".parse().unwrap()),
    ];
    let (_, d) = c.handle_nat(p, Some(Ok(relay)));
    assert_eq!(
        sdp_text(&forwarded(d)),
        crlf(
            "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n\
             m=audio 30000 RTP/AVP 0\nm=video 30002 RTP/AVP 31\n"
        )
    );
}

/// The INVITE through the core, then the callee's 200 with `answer` back through it.
fn answer_through(c: &ProxyCore, status: u16, answer: &str) -> Decision {
    let invite = request("INVITE", 1, None, "", "");
    let Decision::Forward {
        message: Message::Request(fwd),
        ..
    } = c.handle_request(Instant::now(), invite, 0, CALLER.parse().unwrap())
    else {
        panic!("an INVITE without SDP goes on at once")
    };
    let mut resp = Response::from_request(&fwd, status, None);
    resp.set_to_tag("b1").unwrap();
    if !answer.is_empty() {
        resp.set_body(Some("application/sdp"), crlf(answer));
    }
    c.handle_response(resp, 0, CALLEE.parse().unwrap())
}

#[test]
fn an_answer_gets_relay_addresses_on_the_to_side() {
    let c = nat_core();
    let answer = "v=0\no=bob 2 2 IN IP4 10.0.0.2\ns=-\nc=IN IP4 10.0.0.2\nt=0 0\n\
                  m=audio 7000 RTP/AVP 0\nm=video 0 RTP/AVP 31\n";
    let p = pending(answer_through(&c, 200, answer));
    let a = p.allocation().unwrap().clone();
    assert_eq!(a.side, Side::To);
    assert_eq!(a.key.from, alice());
    assert_eq!(a.key.to, PartyId::new("tag=b1;leg=127.0.0.1:5060"));
    assert_eq!(
        a.media,
        [
            StreamRequest::relay(Some("10.0.0.2:7000".parse().unwrap()), 2),
            StreamRequest::untouched()
        ]
    );
    let (follow_up, d) = c.handle_nat(
        p,
        Some(Ok(vec![Some("127.0.0.1:30010".parse().unwrap()), None])),
    );
    assert_eq!(follow_up, Some(NatFollowUp::Activate(a.key)));
    let m = forwarded(d);
    assert!(!m.is_request());
    // The declined video keeps its port 0 and its address: the shared c= splits in two.
    assert_eq!(
        sdp_text(&m),
        crlf(
            "v=0\no=bob 2 2 IN IP4 10.0.0.2\ns=-\nt=0 0\n\
             m=audio 30010 RTP/AVP 0\nc=IN IP4 127.0.0.1\n\
             m=video 0 RTP/AVP 31\nc=IN IP4 10.0.0.2\n"
        )
    );
}

#[test]
fn ipv6_media_on_an_ipv6_leg() {
    let c = core_on(
        vec![leg("[::1]:5060")],
        ProxyConfig::new().nat(Arc::new(NotCalled)),
    );
    let sdp = "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\n\
               m=audio 4000 RTP/AVP 0\n";
    let text = crlf(&format!(
        "INVITE sip:bob@[::1]:5090 SIP/2.0\n\
         Via: SIP/2.0/UDP [::1]:5080;branch=z9hG4bK6;rport=5080;received=::1\n\
         From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>\n\
         Call-ID: nat-6\nCSeq: 1 INVITE\nContent-Type: application/sdp\n\
         Content-Length: {}\n\n{}",
        crlf(sdp).len(),
        crlf(sdp)
    ));
    let Message::Request(invite) = Message::parse(text.into()).unwrap() else {
        unreachable!()
    };
    let p = pending(c.handle_request(Instant::now(), invite, 0, "[::1]:5080".parse().unwrap()));
    let a = p.allocation().unwrap();
    assert_eq!(a.address.to_string(), "::1");
    assert_eq!(
        a.media[0].target,
        Some("[2001:db8::1]:4000".parse().unwrap())
    );
    let (_, d) = c.handle_nat(p, Some(Ok(vec![Some("[::1]:30000".parse().unwrap())])));
    assert_eq!(
        sdp_text(&forwarded(d)),
        crlf(
            "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 ::1\nt=0 0\nm=audio 30000 RTP/AVP 0\n"
        )
    );
}

#[test]
fn which_messages_ask_for_what() {
    let c = nat_core();
    let now = Instant::now();
    let from = CALLER.parse().unwrap();
    let bob = PartyId::new("tag=b1;leg=127.0.0.1:5060");
    let follow_up = |d: Decision| {
        let p = pending(d);
        assert!(p.allocation().is_none());
        p.follow_up().cloned()
    };
    // BYE: every session between the two; CANCEL: its transaction.
    assert_eq!(
        follow_up(c.handle_request(now, request("BYE", 2, Some("b1"), "", ""), 0, from)),
        Some(NatFollowUp::Close(CloseRequest::new(
            "nat-1",
            None,
            alice(),
            bob.clone()
        )))
    );
    let cancel = follow_up(c.handle_request(now, request("CANCEL", 1, None, "", ""), 0, from));
    assert!(matches!(
        cancel,
        Some(NatFollowUp::Close(CloseRequest { cseq: Some(1), .. }))
    ));
    // ACK without SDP: activate (the 200 had the answer).
    assert_eq!(
        follow_up(c.handle_request(now, request("ACK", 1, Some("b1"), "", ""), 0, from)),
        Some(NatFollowUp::Activate(SessionKey::new(
            "nat-1",
            1,
            alice(),
            bob.clone()
        )))
    );
    // PRACK with SDP answers the offer of a reliable 183: the INVITE's transaction.
    let prack = request("PRACK", 2, Some("b1"), "RAck: 1 1 INVITE\n", OFFER);
    let p = pending(c.handle_request(now, prack, 0, from));
    assert_eq!(p.allocation().unwrap().key.cseq, 1);
    // Requests the helper has no business with go on at once.
    for method in ["OPTIONS", "MESSAGE", "INFO"] {
        forwarded(c.handle_request(now, request(method, 3, None, "", ""), 0, from));
    }
    forwarded(c.handle_request(now, request("INVITE", 4, None, "", ""), 0, from));
    // An error response closes; a 180 without SDP goes on; a 200 without SDP activates.
    let busy = follow_up(answer_through(&c, 486, ""));
    assert_eq!(
        busy,
        Some(NatFollowUp::Close(CloseRequest::new(
            "nat-1",
            Some(1),
            alice(),
            bob.clone()
        )))
    );
    forwarded(answer_through(&c, 180, ""));
    assert_eq!(
        follow_up(answer_through(&c, 200, "")),
        Some(NatFollowUp::Activate(SessionKey::new(
            "nat-1",
            1,
            alice(),
            bob
        )))
    );
}

#[test]
fn without_a_helper_or_between_legs_only_nothing_changes() {
    let now = Instant::now();
    let from = CALLER.parse().unwrap();
    let plain = core_on(vec![leg(PROXY)], ProxyConfig::new());
    let m = forwarded(plain.handle_request(now, request("INVITE", 1, None, "", OFFER), 0, from));
    assert_eq!(sdp_text(&m), crlf(OFFER));
    let scoped = core_on(
        vec![leg(PROXY)],
        ProxyConfig::new()
            .nat(Arc::new(NotCalled))
            .nat_scope(NatScope::BetweenLegs),
    );
    forwarded(scoped.handle_request(now, request("INVITE", 1, None, "", OFFER), 0, from));
}

#[test]
fn a_body_that_is_not_sdp_is_left_alone() {
    let c = nat_core();
    let mut invite = request("INVITE", 1, None, "", "");
    invite.set_body(Some("text/plain"), "v=0 but not SDP");
    forwarded(c.handle_request(Instant::now(), invite, 0, CALLER.parse().unwrap()));
}

#[test]
fn malformed_sdp_is_refused_or_dropped() {
    let c = nat_core();
    let now = Instant::now();
    let from = CALLER.parse().unwrap();
    let bad = "v=0\nthis is not sdp\n";
    match c.handle_request(now, request("INVITE", 1, None, "", bad), 0, from) {
        Decision::Respond { response, .. } => {
            assert_eq!(response.status(), 400);
            assert_eq!(response.reason(), "Malformed SDP Body");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.handle_request(now, request("ACK", 1, Some("b1"), "", bad), 0, from),
        Decision::Drop(_)
    ));
    assert!(matches!(answer_through(&c, 200, bad), Decision::Drop(_)));
}

#[test]
fn no_relay_means_503_for_a_request_and_a_drop_for_a_response() {
    let c = nat_core();
    let p = pending(c.handle_request(
        Instant::now(),
        request("INVITE", 1, None, "", OFFER),
        0,
        CALLER.parse().unwrap(),
    ));
    let limit = NatError::TotalLimit {
        needed: 4,
        in_use: 1000,
        max: 1000,
    };
    let (follow_up, d) = c.handle_nat(p.clone(), Some(Err(limit)));
    assert_eq!(follow_up, None, "nothing to activate");
    match d {
        Decision::Respond {
            response, target, ..
        } => {
            assert_eq!(response.status(), 503);
            // The answer to the request as it came: the caller's Via only.
            assert_eq!(response.headers().vias().count(), 1);
            assert!(response.headers().to().unwrap().tag().is_some());
            assert_eq!(target.addr, CALLER.parse().unwrap());
        }
        other => panic!("{other:?}"),
    }
    // A wrong number of addresses is a failure too, not a half-rewritten SDP.
    let (_, d) = c.handle_nat(p, Some(Ok(vec![None])));
    assert!(matches!(d, Decision::Respond { .. }));

    let answer =
        "v=0\no=- 2 2 IN IP4 10.0.0.2\ns=-\nc=IN IP4 10.0.0.2\nt=0 0\nm=audio 7000 RTP/AVP 0\n";
    let p = pending(answer_through(&c, 200, answer));
    let (_, d) = c.handle_nat(
        p,
        Some(Err(NatError::Control {
            addr: "127.0.0.1:7070".parse().unwrap(),
            reason: "cannot connect".into(),
        })),
    );
    assert!(matches!(d, Decision::Drop(_)));
}
