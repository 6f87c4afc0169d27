//! Parse of print is the identity on the typed view: Via, name-addr and URI values, and whole
//! requests and responses, are built through the API from generated parts, printed (wire and
//! canonical form), parsed again, and must read back as the parts they were built from.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use proptest::prelude::*;
use sip_packet::{
    CSeq, Contact, HeaderName, Host, Message, Method, NameAddr, Request, Response, SipUri,
    Transport, Uri, Via,
};

/// Cases per property: enough to reach every branch of the generators, few enough that the
/// whole file runs in a few seconds in a debug build.
const CASES: u32 = 200;

// ---- generators ----

fn ipv4() -> impl Strategy<Value = Host> {
    any::<u32>().prop_map(|n| Host::from(IpAddr::V4(Ipv4Addr::from(n))))
}

fn ipv6() -> impl Strategy<Value = Host> {
    prop_oneof![
        any::<u128>().prop_map(Ipv6Addr::from),
        // Short forms with `::`, and IPv4-mapped addresses (RFC 5118 §4.3).
        (any::<u16>(), any::<u16>())
            .prop_map(|(a, b)| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, a, b)),
        any::<u32>().prop_map(|n| Ipv4Addr::from(n).to_ipv6_mapped()),
    ]
    .prop_map(|a| Host::from(IpAddr::V6(a)))
}

/// Domain names; the first label starts with a letter, so that none reads as an IPv4 address.
fn domain() -> impl Strategy<Value = Host> {
    "[a-zA-Z][a-zA-Z0-9-]{0,8}(\\.[a-z0-9][a-z0-9_-]{0,8}){0,3}"
        .prop_map(|d| Host::parse(&d).expect("generated domain parses"))
}

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![ipv4(), ipv6(), domain()]
}

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.!%*_+`'~-]{1,12}"
}

fn transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        Just(Transport::Udp),
        Just(Transport::Tcp),
        Just(Transport::Tls),
        Just(Transport::Sctp),
        Just(Transport::TlsSctp),
        Just(Transport::Ws),
        Just(Transport::Wss),
        "[A-Z][A-Z0-9]{0,6}".prop_map(|t| Transport::parse(&t)),
    ]
}

/// The parts of a Via value.
#[derive(Debug, Clone)]
struct ViaParts {
    transport: Transport,
    host: Host,
    port: Option<u16>,
    branch: String,
    /// `None`: absent; `Some(None)`: the bare flag; `Some(Some(p))`: filled in.
    rport: Option<Option<u16>>,
    received: Option<Host>,
}

fn via_parts() -> impl Strategy<Value = ViaParts> {
    (
        transport(),
        host(),
        any::<Option<u16>>(),
        "z9hG4bK[a-zA-Z0-9.!%*_+`'~-]{1,16}",
        prop::option::of(any::<Option<u16>>()),
        prop::option::of(prop_oneof![ipv4(), ipv6()]),
    )
        .prop_map(
            |(transport, host, port, branch, rport, received)| ViaParts {
                transport,
                host,
                port,
                branch,
                rport,
                received,
            },
        )
}

fn build_via(p: &ViaParts) -> Via {
    let mut v = Via::new(p.transport.clone(), p.host.clone(), p.port).with_branch(&p.branch);
    if let Some(r) = p.rport {
        v.set_rport(r);
    }
    if let Some(h) = &p.received {
        v.set_received(h);
    }
    v
}

fn check_via(v: &Via, p: &ViaParts) {
    assert_eq!(v.protocol(), ("SIP", "2.0"));
    assert_eq!(v.transport(), &p.transport);
    assert_eq!(v.host(), &p.host);
    assert_eq!(v.port(), p.port);
    assert_eq!(v.branch(), Some(p.branch.as_str()));
    assert!(v.has_rfc3261_branch());
    assert_eq!(v.rport(), p.rport);
    assert_eq!(v.received(), p.received);
}

/// Characters of a URI user part or password that need no escape, and a few escapes.
fn userinfo() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => "[a-zA-Z0-9_.!~*'()&=+$,;?/-]",
            1 => Just("%40".to_owned()),
            1 => Just("%20".to_owned()),
        ],
        1..10,
    )
    .prop_map(|parts| parts.concat())
}

/// The parts of a `sip:` or `sips:` URI.
#[derive(Debug, Clone)]
struct UriParts {
    secure: bool,
    user: Option<String>,
    password: Option<String>,
    host: Host,
    port: Option<u16>,
    /// Written in this order; names are distinct.
    params: Vec<(String, Option<String>)>,
    headers: Option<String>,
}

fn uri_params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    (
        prop::option::of(prop_oneof![
            Just("udp"),
            Just("tcp"),
            Just("tls"),
            Just("ws")
        ]),
        any::<bool>(),
        prop::option::of(ipv4()),
        prop::option::of(any::<u8>()),
        prop::collection::btree_map("x-[a-z0-9]{1,5}", prop::option::of(token()), 0..3),
    )
        .prop_map(|(transport, lr, maddr, ttl, other)| {
            let mut v = Vec::new();
            if let Some(t) = transport {
                v.push(("transport".to_owned(), Some(t.to_owned())));
            }
            if lr {
                v.push(("lr".to_owned(), None));
            }
            if let Some(m) = maddr {
                v.push(("maddr".to_owned(), Some(m.to_string())));
            }
            if let Some(t) = ttl {
                v.push(("ttl".to_owned(), Some(t.to_string())));
            }
            v.extend(other);
            v
        })
}

fn uri_parts(with_headers: bool) -> impl Strategy<Value = UriParts> {
    let headers = if with_headers {
        prop::option::of("[a-z]{1,6}=[a-zA-Z0-9%]{1,8}(&[a-z]{1,6}=[a-zA-Z0-9%]{1,8}){0,2}").boxed()
    } else {
        Just(None).boxed()
    };
    (
        any::<bool>(),
        prop::option::of((userinfo(), prop::option::of(userinfo()))),
        host(),
        any::<Option<u16>>(),
        uri_params(),
        headers,
    )
        .prop_map(|(secure, userpass, host, port, params, headers)| {
            let (user, password) = match userpass {
                Some((u, p)) => (Some(u), p),
                None => (None, None),
            };
            UriParts {
                secure,
                user,
                password,
                host,
                port,
                params,
                headers,
            }
        })
}

fn build_sip_uri(p: &UriParts) -> SipUri {
    let mut u = SipUri::new(p.user.as_deref(), p.host.clone());
    u.set_secure(p.secure);
    u.set_password(p.password.as_deref());
    u.set_port(p.port);
    for (name, value) in &p.params {
        u.params_mut().set(name, value.as_deref());
    }
    u.set_headers(p.headers.as_deref());
    u
}

fn check_sip_uri(u: &SipUri, p: &UriParts) {
    assert_eq!(u.is_secure(), p.secure);
    assert_eq!(u.user(), p.user.as_deref());
    assert_eq!(u.password(), p.password.as_deref());
    assert_eq!(u.host(), &p.host);
    assert_eq!(u.port(), p.port);
    let params: Vec<(String, Option<String>)> = u
        .params()
        .iter()
        .map(|(n, v)| (n.to_owned(), v.map(str::to_owned)))
        .collect();
    assert_eq!(params, p.params);
    assert_eq!(u.headers(), p.headers.as_deref());
}

fn tel_uri() -> impl Strategy<Value = String> {
    ("\\+?[0-9][0-9().-]{0,14}", prop::option::of(domain())).prop_map(|(number, ctx)| match ctx {
        Some(c) => format!("tel:{number};phone-context={c}"),
        None => format!("tel:{number}"),
    })
}

/// The parts of a name-addr value with the parameters From, To and Contact use.
#[derive(Debug, Clone)]
struct NameAddrParts {
    display: Option<String>,
    uri: UriParts,
    tag: Option<String>,
    expires: Option<u32>,
    /// Thousandths: 0 to 1000.
    q: Option<u16>,
}

/// Display names with spaces, quotes, backslashes and UTF-8; no control characters.
fn display_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"\\\\,;<>:@.éüñ€漢字😀-]{0,16}"
}

fn name_addr_parts() -> impl Strategy<Value = NameAddrParts> {
    (
        prop::option::of(display_name()),
        uri_parts(true),
        prop::option::of(token()),
        any::<Option<u32>>(),
        prop::option::of(0u16..=1000),
    )
        .prop_map(|(display, uri, tag, expires, q)| NameAddrParts {
            display,
            uri,
            tag,
            expires,
            q,
        })
}

fn q_text(q: u16) -> String {
    format!("{}.{:03}", q / 1000, q % 1000)
}

fn build_name_addr(p: &NameAddrParts) -> NameAddr {
    let mut a = NameAddr::new(build_sip_uri(&p.uri));
    a.set_display_name(p.display.as_deref());
    if let Some(t) = &p.tag {
        a.set_tag(t);
    }
    if let Some(e) = p.expires {
        a.params_mut().set("expires", Some(&e.to_string()));
    }
    if let Some(q) = p.q {
        a.params_mut().set("q", Some(&q_text(q)));
    }
    a
}

fn check_name_addr(a: &NameAddr, p: &NameAddrParts) {
    assert_eq!(a.display_name().as_deref(), p.display.as_deref());
    let uri = a.uri().as_sip().expect("a sip: URI");
    check_sip_uri(uri, &p.uri);
    assert_eq!(a.tag(), p.tag.as_deref());
    assert_eq!(a.expires(), p.expires);
    // In thousandths, as written: q has at most three decimals (RFC 3261 §25.1).
    assert_eq!(a.q().map(|q| (q * 1000.0).round() as u16), p.q);
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Bye),
        Just(Method::Cancel),
        Just(Method::Register),
        Just(Method::Options),
        Just(Method::Message),
        Just(Method::Subscribe),
        Just(Method::Notify),
        "[A-Z][A-Z-]{0,9}".prop_map(|m| Method::parse(&m).expect("generated method is a token")),
    ]
}

/// Free text for Subject and similar headers: no line breaks, no whitespace at either end
/// (a parser trims it).
fn free_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,;:=\"<>@éü€-]{0,24}".prop_map(|s| s.trim().to_owned())
}

/// The parts of a whole request (or, with a status, a response).
#[derive(Debug, Clone)]
struct MessageParts {
    method: Method,
    request_uri: UriParts,
    vias: Vec<ViaParts>,
    from: NameAddrParts,
    to: NameAddrParts,
    call_id: String,
    seq: u32,
    contacts: Vec<NameAddrParts>,
    max_forwards: u8,
    subject: Option<String>,
    extension: Option<(String, String)>,
    body: Option<Vec<u8>>,
}

fn message_parts() -> impl Strategy<Value = MessageParts> {
    (
        (
            method(),
            uri_parts(false),
            prop::collection::vec(via_parts(), 1..4),
        ),
        (name_addr_parts(), name_addr_parts()),
        (
            "[a-zA-Z0-9.!%*_+`'~-]{1,16}(@[a-z0-9.]{1,10})?",
            0u32..=0x7fff_ffff,
        ),
        (prop::collection::vec(name_addr_parts(), 0..3), any::<u8>()),
        (
            prop::option::of(free_text()),
            prop::option::of(("X-[A-Za-z0-9-]{1,10}", free_text())),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
        ),
    )
        .prop_map(
            |(
                (method, request_uri, vias),
                (from, to),
                (call_id, seq),
                (contacts, max_forwards),
                (subject, extension, body),
            )| MessageParts {
                method,
                request_uri,
                vias,
                from,
                to,
                call_id,
                seq,
                contacts,
                max_forwards,
                subject,
                extension,
                body,
            },
        )
}

/// Adds the headers of `p` to a new request or response; returns the message.
fn build_message(p: &MessageParts, status: Option<(u16, &str)>) -> Message {
    let uri = Uri::from(build_sip_uri(&p.request_uri));
    let mut m: Message = match status {
        None => Request::new(p.method.clone(), uri).into(),
        Some((code, reason)) => Response::new(code, Some(reason)).into(),
    };
    let h = m.headers_mut();
    for v in &p.vias {
        h.add(HeaderName::Via, build_via(v).to_string());
    }
    h.add("Max-Forwards", p.max_forwards.to_string());
    h.add("From", build_name_addr(&p.from).to_string());
    h.add("To", build_name_addr(&p.to).to_string());
    h.add("Call-ID", p.call_id.as_str());
    h.add("CSeq", CSeq::new(p.seq, p.method.clone()).to_string());
    if !p.contacts.is_empty() {
        // One header line holding the whole list: the parser splits it into values.
        let list: Vec<String> = p
            .contacts
            .iter()
            .map(|c| build_name_addr(c).to_string())
            .collect();
        h.add("Contact", list.join(", "));
    }
    if let Some(s) = &p.subject {
        h.add("Subject", s.as_str());
    }
    if let Some((name, value)) = &p.extension {
        h.add(name.as_str(), value.as_str());
    }
    if let Some(body) = &p.body {
        let body = Bytes::from(body.clone());
        match &mut m {
            Message::Request(r) => r.set_body(Some("application/sdp"), body),
            Message::Response(r) => r.set_body(Some("application/sdp"), body),
        }
    }
    m
}

fn check_message(m: &Message, p: &MessageParts) {
    let h = m.headers();
    let vias: Vec<Via> = h
        .vias()
        .collect::<Result<_, _>>()
        .expect("every Via parses");
    assert_eq!(vias.len(), p.vias.len());
    for (v, want) in vias.iter().zip(&p.vias) {
        check_via(v, want);
    }
    assert_eq!(h.top_via().expect("top Via"), vias[0]);
    check_name_addr(&h.from().expect("From"), &p.from);
    check_name_addr(&h.to().expect("To"), &p.to);
    assert_eq!(h.call_id().expect("Call-ID"), p.call_id.as_str());
    let cseq = h.cseq().expect("CSeq");
    assert_eq!((cseq.seq(), cseq.method()), (p.seq, &p.method));
    let contacts: Vec<Contact> = h
        .contacts()
        .collect::<Result<_, _>>()
        .expect("every Contact parses");
    assert_eq!(contacts.len(), p.contacts.len());
    for (c, want) in contacts.iter().zip(&p.contacts) {
        check_name_addr(c.address().expect("not *"), want);
    }
    assert_eq!(
        h.max_forwards().expect("Max-Forwards"),
        Some(p.max_forwards)
    );
    assert_eq!(h.get("Subject").map(|s| s.to_string()), p.subject);
    if let Some((name, value)) = &p.extension {
        assert_eq!(
            h.get(name.as_str()).map(|s| s.to_string()).as_ref(),
            Some(value)
        );
    }
    let body = p.body.clone().unwrap_or_default();
    assert_eq!(&m.body()[..], &body[..]);
    let content_type = p.body.as_ref().map(|_| "application/sdp".to_owned());
    assert_eq!(h.content_type().expect("Content-Type"), content_type);
    m.validate().expect("a built message validates");
    if let Message::Request(r) = m {
        assert_eq!(r.method(), &p.method);
        check_sip_uri(
            r.uri().as_sip().expect("a sip: Request-URI"),
            &p.request_uri,
        );
    }
}

/// The message without Content-Length: printing adds one that the built message lacks.
fn without_content_length(m: &Message) -> Message {
    let mut m = m.clone();
    m.headers_mut().remove(HeaderName::ContentLength);
    m
}

/// Prints `m` both ways, parses each print, and checks it against the message and its parts.
fn round_trip_message(m: &Message, p: &MessageParts) {
    for printed in [m.to_bytes(), m.to_canonical()] {
        let again = Message::parse_strict(printed.clone())
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&printed)));
        assert_eq!(without_content_length(&again), without_content_length(m));
        check_message(&again, p);
        let length = again.headers().content_length().expect("Content-Length");
        assert_eq!(
            length,
            Some(m.body().len()),
            "printing writes the body's length"
        );
        assert_eq!(again.to_bytes(), printed, "a second print differs");
    }
}

// ---- properties ----

proptest! {
    // No failure file: a failing case is printed shrunk, and goes into a unit test by hand.
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn via(p in via_parts()) {
        let v = build_via(&p);
        check_via(&v, &p);
        let again = Via::parse(&v.to_string()).expect("a printed Via parses");
        prop_assert_eq!(&again, &v);
        check_via(&again, &p);
        prop_assert_eq!(again.to_string(), v.to_string());
        let mut h = sip_packet::Headers::new();
        h.add("v", v.to_string());
        prop_assert_eq!(h.top_via_branch().expect("branch"), v.branch());
    }

    #[test]
    fn sip_uri(p in uri_parts(true)) {
        let u = build_sip_uri(&p);
        let printed = u.to_string();
        let again = SipUri::parse(&printed).expect("a printed SIP URI parses");
        check_sip_uri(&again, &p);
        prop_assert!(again.equivalent(&u) && u.equivalent(&again));
        prop_assert_eq!(again.to_string(), printed.clone());
        let any = Uri::parse(&printed).expect("parses as a URI too");
        prop_assert!(any.equivalent(&Uri::from(u)));
    }

    #[test]
    fn tel_uri_round_trip(s in tel_uri()) {
        let u = Uri::parse(&s).expect("a generated tel: URI parses");
        prop_assert_eq!(u.to_string(), s.clone());
        let again = Uri::parse(&u.to_string()).expect("reparses");
        prop_assert!(again.equivalent(&u));
        prop_assert_eq!(again.user(), u.user());
    }

    #[test]
    fn name_addr(p in name_addr_parts()) {
        let a = build_name_addr(&p);
        check_name_addr(&a, &p);
        let printed = a.to_string();
        let again = NameAddr::parse(&printed).expect("a printed name-addr parses");
        check_name_addr(&again, &p);
        prop_assert_eq!(&again, &a);
        prop_assert_eq!(again.to_string(), printed.clone());
        let contact = Contact::parse(&printed).expect("parses as a Contact too");
        prop_assert_eq!(contact, Contact::Address(a.clone()));
        // The light tag accessor reads what the full address gives.
        let mut h = sip_packet::Headers::new();
        h.add("From", printed.clone());
        h.add("t", printed.clone());
        prop_assert_eq!(h.from_tag().expect("From tag"), a.tag());
        prop_assert_eq!(h.to_tag().expect("To tag"), a.tag());
    }

    #[test]
    fn request(p in message_parts()) {
        let m = build_message(&p, None);
        check_message(&m, &p);
        round_trip_message(&m, &p);
    }

    #[test]
    fn response(p in message_parts(), code in 100u16..=699, reason in free_text()) {
        let m = build_message(&p, Some((code, &reason)));
        let r = m.as_response().expect("a response");
        prop_assert_eq!((r.status(), r.reason()), (code, reason.as_str()));
        round_trip_message(&m, &p);
        let again = Message::parse(m.to_bytes()).expect("parses");
        let r = again.as_response().expect("a response");
        prop_assert_eq!((r.status(), r.reason()), (code, reason.as_str()));
    }
}
