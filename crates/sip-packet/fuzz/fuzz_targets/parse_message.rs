//! Parse a datagram; when it is a message, print it (wire form and canonical form), parse each
//! print again and require the same message. Every typed view of the message must parse or
//! fail without panicking, and each one that parses must print back to an equal value.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_packet::digest::{DigestChallenge, DigestCredentials};
use sip_packet::{
    AuthValue, CSeq, Contact, HeaderName, Message, NameAddr, ParseError, ParseLimits, Uri, Via,
};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    let _ = msg.validate();
    typed_views(&msg);
    kept_top_via_follows_changes(&msg);

    // Printing spells compact names out, writes one list value per line, CRLF where the
    // input had bare LF, and adds a Content-Length: the head may grow past the default limits
    // that the first parse enforced. What is checked here is the round trip, not the limits.
    let mut limits = ParseLimits::default();
    limits.max_head = 1 << 24;
    limits.max_headers = 1 << 20;

    let expected = without_content_length(&msg);
    for (form, printed) in [
        ("to_bytes", msg.to_bytes()),
        ("to_canonical", msg.to_canonical()),
    ] {
        let again = match Message::parse_with(printed.clone(), &limits) {
            Ok(m) => m,
            Err(e) => panic!(
                "{form} output does not parse: {e}\ninput: {:?}\nprinted: {:?}",
                Bytes::copy_from_slice(data),
                printed
            ),
        };
        assert_eq!(
            without_content_length(&again),
            expected,
            "{form} output parses to another message\nprinted: {printed:?}"
        );
        assert_eq!(
            again.validate().is_ok(),
            msg.validate().is_ok(),
            "{form}: validate differs"
        );
        // A second print of the reparsed message is byte-for-byte the first.
        let printed_again = match form {
            "to_bytes" => again.to_bytes(),
            _ => again.to_canonical(),
        };
        assert_eq!(printed_again, printed, "{form} is not stable");
    }
});

/// The top Via a message keeps parsed (after `validate`) is, after changes of other headers
/// and of the Vias themselves, always what the Via text says.
fn kept_top_via_follows_changes(msg: &Message) {
    // `vias` parses every value anew; `top_via` answers from what is kept.
    let fresh = |m: &Message| m.headers().vias().next();
    let mut m = msg.clone();
    let _ = m.headers().keep_top_via();
    m.headers_mut().add("Subject", "fuzz");
    m.headers_mut().remove(HeaderName::To);
    let kept = m.headers().top_via();
    if let Some(Ok(v)) = fresh(&m) {
        assert_eq!(
            kept.as_ref().ok(),
            Some(&v),
            "kept top Via after other changes"
        );
    }
    m.headers_mut().insert_at_top(
        HeaderName::Via,
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz",
    );
    let top = m.headers().top_via().expect("the Via just put on top");
    assert_eq!(top.port(), Some(5060), "the new top Via, not a kept one");
}

/// The message without its Content-Length headers: printing writes one where there was none.
fn without_content_length(msg: &Message) -> Message {
    let mut m = msg.clone();
    m.headers_mut().remove(HeaderName::ContentLength);
    m
}

/// Calls every typed accessor; round-trips every value that parses.
fn typed_views(msg: &Message) {
    let h = msg.headers();
    let _ = h.call_id();
    let _ = h.max_forwards();
    let _ = h.expires();
    let _ = h.min_expires();
    let _ = h.content_length();
    let _ = h.content_type();
    if let Ok(c) = h.cseq() {
        round_trip_cseq(&c);
    }
    for a in [h.from(), h.to()].into_iter().flatten() {
        round_trip_name_addr(&a);
    }
    if let Ok(v) = h.top_via() {
        round_trip_via(&v);
    }
    for v in h.vias().flatten() {
        round_trip_via(&v);
    }
    for c in h.contacts().flatten() {
        let printed = c.to_string();
        let again = Contact::parse(&printed).unwrap_or_else(|e| panic!("Contact {printed:?}: {e}"));
        assert_eq!(again, c, "Contact {printed:?}");
        if let Some(a) = c.address() {
            round_trip_name_addr(a);
        }
    }
    for a in h.routes().chain(h.record_routes()).flatten() {
        round_trip_name_addr(&a);
    }
    for a in h.www_authenticate().chain(h.proxy_authenticate()).flatten() {
        round_trip_auth(&a);
        let _ = DigestChallenge::from_auth_value(&a).map(|c| c.to_auth_value());
    }
    for a in h.authorization().chain(h.proxy_authorization()).flatten() {
        round_trip_auth(&a);
        let _ = DigestCredentials::from_auth_value(&a);
    }
    if let Some(r) = msg.as_request() {
        round_trip_uri(r.uri());
    }
    if let Some(r) = msg.as_response() {
        let _ = (r.status(), r.reason(), r.is_provisional(), r.is_success());
    }
    for header in h {
        let _ = (header.line(), header.wire_name(), header.is_compact());
    }
}

fn reparse<T>(what: &str, printed: &str, parse: impl Fn(&str) -> Result<T, ParseError>) -> T {
    parse(printed).unwrap_or_else(|e| panic!("{what} {printed:?} does not parse again: {e}"))
}

fn round_trip_cseq(c: &CSeq) {
    let printed = c.to_string();
    let again = reparse("CSeq", &printed, CSeq::parse);
    assert_eq!(&again, c, "CSeq {printed:?}");
}

fn round_trip_via(v: &Via) {
    let _ = (
        v.protocol(),
        v.transport().is_reliable(),
        v.port_or_default(),
    );
    let _ = (
        v.branch(),
        v.has_rfc3261_branch(),
        v.received(),
        v.rport(),
        v.maddr(),
        v.ttl(),
    );
    let printed = v.to_string();
    let again = reparse("Via", &printed, Via::parse);
    assert_eq!(&again, v, "Via {printed:?}");
    assert_eq!(again.to_string(), printed, "Via print is not stable");
}

fn round_trip_name_addr(a: &NameAddr) {
    let _ = (a.display_name(), a.tag(), a.expires(), a.q());
    for (name, _) in a.params().iter() {
        let _ = a.params().get_unquoted(name);
    }
    round_trip_uri(a.uri());
    let printed = a.to_string();
    let again = reparse("name-addr", &printed, NameAddr::parse);
    assert_eq!(&again, a, "name-addr {printed:?}");
    assert_eq!(again.to_string(), printed, "name-addr print is not stable");
}

fn round_trip_uri(u: &Uri) {
    let _ = (u.scheme(), u.user(), u.host());
    if let Some(s) = u.as_sip() {
        let _ = (s.user_decoded(), s.transport(), s.params().iter().count());
    }
    let printed = u.to_string();
    let again = reparse("URI", &printed, Uri::parse);
    assert!(
        again.equivalent(u) && u.equivalent(&again),
        "URI {printed:?} is not equivalent to its reparse"
    );
    assert_eq!(again.to_string(), printed, "URI print is not stable");
}

fn round_trip_auth(a: &AuthValue) {
    let _ = (a.scheme(), a.is_digest());
    for (name, _) in a.params() {
        let _ = a.get(name);
    }
    let printed = a.to_string();
    let again = reparse("auth value", &printed, AuthValue::parse);
    assert_eq!(&again, a, "auth value {printed:?}");
}
