use super::*;
use crate::digest::{verify, Secret};
use crate::message::Message;

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 69\r\n\
Route: <sip:edge.example.com;lr>\r\n\
Record-Route: <sip:proxy.example.com;lr>\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Length: 0\r\n\r\n";

fn invite() -> Request {
    match Message::parse(INVITE.into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

#[test]
fn response_copies_the_transaction_headers() {
    let req = invite();
    let r = Response::from_request(&req, 180, None);
    assert_eq!(r.reason(), "Ringing");
    assert_eq!(r.headers().vias().count(), 2);
    assert_eq!(
        r.headers().get_all("Via").collect::<Vec<_>>(),
        req.headers().get_all("Via").collect::<Vec<_>>()
    );
    assert_eq!(
        r.headers().call_id().unwrap(),
        req.headers().call_id().unwrap()
    );
    assert_eq!(r.headers().cseq().unwrap(), req.headers().cseq().unwrap());
    assert_eq!(r.headers().from().unwrap(), req.headers().from().unwrap());
    assert_eq!(
        r.headers().record_routes().count(),
        1,
        "dialog-creating 1xx keeps Record-Route"
    );
    assert_eq!(r.headers().contacts().count(), 0);
    assert_eq!(r.headers().routes().count(), 0);
    let r404 = Response::from_request(&req, 404, Some("Nobody Here"));
    assert_eq!(r404.reason(), "Nobody Here");
    assert_eq!(r404.headers().record_routes().count(), 0);
}

#[test]
fn to_tag_is_added_once() {
    let mut r = Response::from_request(&invite(), 200, None);
    assert!(r.set_to_tag("a6c85cf").unwrap());
    assert!(!r.set_to_tag("other").unwrap());
    let to = r.headers().to().unwrap();
    assert_eq!(to.tag(), Some("a6c85cf"));
    assert_eq!(to.display_name().unwrap(), "Bob");
    // What goes on the wire parses back.
    let again = Message::parse(r.to_bytes()).unwrap();
    assert_eq!(again.headers().to().unwrap().tag(), Some("a6c85cf"));
}

#[test]
fn ack_for_non_2xx_final_response() {
    let req = invite();
    let mut resp = Response::from_request(&req, 487, None);
    resp.set_to_tag("t487").unwrap();
    let ack = req.create_ack(&resp).unwrap();
    assert_eq!(ack.method(), &Method::Ack);
    assert_eq!(ack.uri(), req.uri());
    assert_eq!(ack.headers().vias().count(), 1);
    assert_eq!(ack.headers().top_via().unwrap().branch(), Some("z9hG4bKp1"));
    assert_eq!(ack.headers().to().unwrap().tag(), Some("t487"));
    assert_eq!(ack.headers().from().unwrap().tag(), Some("1928301774"));
    let cseq = ack.headers().cseq().unwrap();
    assert_eq!((cseq.seq(), cseq.method()), (314159, &Method::Ack));
    assert_eq!(ack.headers().routes().count(), 1);
    // It is a valid message.
    Message::parse_strict(ack.to_bytes()).unwrap();

    let ok = Response::from_request(&req, 200, None);
    assert_eq!(
        req.create_ack(&ok).unwrap_err(),
        BuildError::WrongStatus(200)
    );
    let cancel = req.create_cancel().unwrap();
    assert!(matches!(
        cancel.create_ack(&resp),
        Err(BuildError::WrongMethod { .. })
    ));
}

#[test]
fn cancel_matches_the_request_it_cancels() {
    let req = invite();
    let c = req.create_cancel().unwrap();
    assert_eq!(c.method(), &Method::Cancel);
    assert_eq!(c.uri(), req.uri());
    assert_eq!(
        c.headers().top_via().unwrap(),
        req.headers().top_via().unwrap()
    );
    assert_eq!(c.headers().vias().count(), 1);
    assert_eq!(c.headers().to().unwrap(), req.headers().to().unwrap());
    assert_eq!(
        c.headers().cseq().unwrap(),
        CSeq::new(314159, Method::Cancel)
    );
    assert_eq!(c.headers().routes().count(), 1);
    Message::parse_strict(c.to_bytes()).unwrap();
    assert!(matches!(
        c.create_cancel(),
        Err(BuildError::WrongMethod { .. })
    ));
}

#[test]
fn authorize_answers_401_and_407() {
    let mut req = invite();
    let mut r401 = Response::from_request(&req, 401, None);
    r401.headers_mut().add(
        "WWW-Authenticate",
        r#"Digest realm="atlanta.example.com", nonce="n1", qop="auth", algorithm=MD5"#,
    );
    r401.headers_mut().add(
        "WWW-Authenticate",
        r#"Digest realm="unknown.example", nonce="n2""#,
    );
    let creds = |realm: &str| {
        (realm == "atlanta.example.com").then(|| ("alice".to_owned(), "pw".to_owned()))
    };
    assert_eq!(req.authorize(&r401, creds, "cn", 1).unwrap(), 1);
    let answers: Vec<_> = req.headers().authorization().map(Result::unwrap).collect();
    assert_eq!(answers.len(), 1);
    assert!(verify(&answers[0], "INVITE", b"", &Secret::Password("pw")).is_ok());
    assert_eq!(answers[0].get("uri").unwrap(), "sip:bob@biloxi.example.com");

    // A new challenge for the same realm replaces the answer instead of adding one.
    let mut again = r401.clone();
    again.headers_mut().set(
        "WWW-Authenticate",
        r#"Digest realm="atlanta.example.com", nonce="n3", stale=true"#,
    );
    assert_eq!(req.authorize(&again, creds, "cn2", 1).unwrap(), 1);
    let answers: Vec<_> = req.headers().authorization().map(Result::unwrap).collect();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].get("nonce").unwrap(), "n3");

    let mut r407 = Response::from_request(&req, 407, None);
    r407.headers_mut().add(
        "Proxy-Authenticate",
        r#"Digest realm="atlanta.example.com", nonce="p1", algorithm=SHA-256, qop="auth""#,
    );
    assert_eq!(req.authorize(&r407, creds, "cn", 1).unwrap(), 1);
    let p = req.headers().proxy_authorization().next().unwrap().unwrap();
    assert_eq!(p.get("algorithm").unwrap(), "SHA-256");
    assert!(verify(&p, "INVITE", b"", &Secret::Password("pw")).is_ok());

    let ok = Response::from_request(&req, 200, None);
    assert_eq!(
        req.authorize(&ok, creds, "cn", 1).unwrap_err(),
        BuildError::WrongStatus(200)
    );
}

#[test]
fn salvage_answers_broken_requests_and_never_responses() {
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/rfc4475/badvers.dat"
    ))
    .unwrap();
    let r = salvage_response(&raw, 505, "Version Not Supported").unwrap();
    assert_eq!(
        r.headers().call_id().unwrap(),
        "badvers.31417@c.example.com"
    );
    assert_eq!(r.headers().from().unwrap().tag(), Some("qweoiqpe"));
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/rfc4475/insuf.dat"
    ))
    .unwrap();
    assert!(
        salvage_response(&raw, 400, "Bad Request").is_none(),
        "no From/To/Call-ID to copy"
    );
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/rfc4475/bigcode.dat"
    ))
    .unwrap();
    assert!(salvage_response(&raw, 400, "x").is_none());
    assert!(salvage_response(b"\xff\xfe", 400, "x").is_none());
}

#[test]
fn a_response_keeps_the_top_via_its_request_had_parsed() {
    let req = invite();
    // Not parsed yet: nothing to hand on.
    let r = Response::from_request(&req, 200, None);
    assert!(r.headers().kept_top_via.get().is_none());
    let top = req.headers().keep_top_via().unwrap();
    let mut r = Response::from_request(&req, 200, None);
    assert_eq!(r.headers().kept_top_via.get().map(|v| &**v), Some(&top));
    // The response's own changes (a To tag, a Contact) leave it, and it is what the Via
    // text of the response says.
    r.set_to_tag("abc").unwrap();
    r.headers_mut().add("Contact", "<sip:bob@192.0.2.4>");
    assert_eq!(r.headers().kept_top_via.get().map(|v| &**v), Some(&top));
    let printed = Message::parse(r.to_bytes()).unwrap();
    assert_eq!(printed.headers().top_via(), Ok(top));
}
