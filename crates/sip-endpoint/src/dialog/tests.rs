use sip_packet::{Message, Method, Request, Response};

use super::*;

fn parse_request(raw: &str) -> Request {
    match Message::parse(raw.replace('\n', "\r\n").into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

fn invite() -> Request {
    parse_request(
        "INVITE sips:bob@biloxi.example.com SIP/2.0\n\
         Via: SIP/2.0/TLS 192.0.2.1;branch=z9hG4bK1\n\
         Via: SIP/2.0/TLS p1.example.com;branch=z9hG4bKp1\n\
         Record-Route: <sip:p2.example.com;lr>\n\
         Record-Route: <sip:p1.example.com;lr>\n\
         From: Alice <sips:alice@atlanta.example.com>;tag=a1\n\
         To: Bob <sips:bob@biloxi.example.com>\n\
         Call-ID: call-1\n\
         CSeq: 10 INVITE\n\
         Contact: <sips:alice@192.0.2.1>\n\
         \n",
    )
}

fn answer(request: &Request, status: u16, tag: &str, contact: Option<&str>) -> Response {
    let mut r = Response::from_request(request, status, None);
    r.set_to_tag(tag).unwrap();
    if let Some(c) = contact {
        r.headers_mut().add("Contact", c);
    }
    r
}

#[test]
fn uac_dialog_takes_the_reversed_record_route_and_the_contact() {
    let inv = invite();
    let ok = answer(&inv, 200, "b1", Some("<sips:bob@192.0.2.4>"));
    let d = Dialog::uac(&inv, &ok).unwrap();
    assert_eq!(d.call_id(), "call-1");
    assert_eq!((d.local_tag(), d.remote_tag()), ("a1", "b1"));
    assert_eq!(d.local_cseq(), Some(10));
    assert_eq!(d.remote_cseq(), None);
    let routes: Vec<String> = d.route_set().iter().map(|r| r.uri().to_string()).collect();
    assert_eq!(routes, ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]);
    assert_eq!(d.remote_target().to_string(), "sips:bob@192.0.2.4");
    assert!(d.is_secure());
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.role(), Role::Uac);
    assert!(d.is_match("call-1", "a1", "b1"));
    assert!(!d.is_match("call-1", "a1", "b2"));
}

#[test]
fn provisional_response_with_a_tag_makes_an_early_dialog_that_a_2xx_confirms() {
    let inv = invite();
    let ringing = answer(&inv, 180, "b1", None);
    let mut d = Dialog::uac(&inv, &ringing).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    // No Contact in the 180: the Request-URI stands in.
    assert_eq!(d.remote_target(), inv.uri());
    d.confirm();
    assert_eq!(d.state(), DialogState::Confirmed);
    d.terminate();
    assert_eq!(d.state(), DialogState::Terminated);
}

#[test]
fn response_without_to_tag_makes_no_dialog() {
    let inv = invite();
    let ok = Response::from_request(&inv, 200, None);
    assert_eq!(
        Dialog::uac(&inv, &ok).unwrap_err(),
        DialogError::MissingTag("To")
    );
}

#[test]
fn uas_dialog_keeps_record_route_in_order_and_checks_cseq() {
    let inv = invite();
    let mut d = Dialog::uas(&inv, "b1", DialogState::Confirmed).unwrap();
    assert_eq!((d.local_tag(), d.remote_tag()), ("b1", "a1"));
    let routes: Vec<String> = d.route_set().iter().map(|r| r.uri().to_string()).collect();
    assert_eq!(routes, ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]);
    assert_eq!(d.remote_target().to_string(), "sips:alice@192.0.2.1");
    assert_eq!(d.remote_cseq(), Some(10));
    assert_eq!(
        d.handle_remote_cseq(10),
        Err(DialogError::CSeqOutOfOrder { got: 10, last: 10 })
    );
    assert_eq!(d.handle_remote_cseq(11), Ok(()));
    // Our first request in a dialog the peer made starts our numbering.
    let bye = d.create_request(Method::Bye);
    assert_eq!(bye.headers().cseq().unwrap().seq(), 1);
    assert_eq!(bye.headers().from().unwrap().tag(), Some("b1"));
    assert_eq!(bye.headers().to().unwrap().tag(), Some("a1"));
    assert_eq!(bye.uri().to_string(), "sips:alice@192.0.2.1");
    let routes: Vec<_> = bye
        .headers()
        .get_all("Route")
        .map(|r| r.to_string())
        .collect();
    assert_eq!(
        routes,
        ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    );
}

#[test]
fn requests_count_up_and_the_ack_keeps_the_invite_cseq() {
    let inv = invite();
    let ok = answer(&inv, 200, "b1", Some("<sips:bob@192.0.2.4>"));
    let mut d = Dialog::uac(&inv, &ok).unwrap();
    let ack = d.create_ack(10);
    assert_eq!(ack.method(), &Method::Ack);
    assert_eq!(ack.headers().cseq().unwrap().to_string(), "10 ACK");
    let reinvite = d.create_request(Method::Invite);
    let bye = d.create_request(Method::Bye);
    assert_eq!(reinvite.headers().cseq().unwrap().seq(), 11);
    assert_eq!(bye.headers().cseq().unwrap().to_string(), "12 BYE");
    assert_eq!(bye.headers().call_id().unwrap(), "call-1");
    assert_eq!(bye.headers().max_forwards().unwrap(), Some(70));
}

#[test]
fn target_refresh_moves_the_remote_target() {
    let inv = invite();
    let ok = answer(&inv, 200, "b1", Some("<sips:bob@192.0.2.4>"));
    let mut d = Dialog::uac(&inv, &ok).unwrap();
    let reinvite_ok = answer(&inv, 200, "b1", Some("<sips:bob@192.0.2.99:5071>"));
    d.handle_target_refresh(reinvite_ok.headers());
    assert_eq!(d.remote_target().to_string(), "sips:bob@192.0.2.99:5071");
    let no_contact = answer(&inv, 200, "b1", None);
    d.handle_target_refresh(no_contact.headers());
    assert_eq!(d.remote_target().to_string(), "sips:bob@192.0.2.99:5071");
}

#[test]
fn strict_first_route_puts_the_target_in_the_last_route() {
    let inv = parse_request(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\n\
         Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n\
         From: <sip:alice@atlanta.example.com>;tag=a1\n\
         To: <sip:bob@biloxi.example.com>\n\
         Call-ID: call-2\n\
         CSeq: 1 INVITE\n\
         \n",
    );
    let mut ok = answer(&inv, 200, "b1", Some("<sip:bob@192.0.2.4>"));
    ok.headers_mut()
        .add("Record-Route", "<sip:strict.example.com>");
    let mut d = Dialog::uac(&inv, &ok).unwrap();
    let bye = d.create_request(Method::Bye);
    assert_eq!(bye.uri().to_string(), "sip:strict.example.com");
    let routes: Vec<_> = bye
        .headers()
        .get_all("Route")
        .map(|r| r.to_string())
        .collect();
    assert_eq!(routes, ["<sip:bob@192.0.2.4>"]);
}
