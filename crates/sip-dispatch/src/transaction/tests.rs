//! Every timer of every transaction, on a simulated clock: `now` is a value the test moves.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_packet::{Message, Request, Response};

use super::*;

fn request(method: &str) -> Request {
    let raw = format!(
        "{method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtest\r\n\
         From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: call-1\r\n\
         CSeq: 7 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    match Message::parse(raw.into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn response(req: &Request, status: u16) -> Response {
    let mut r = Response::from_request(req, status, None);
    if status > 100 {
        r.set_to_tag("b1").unwrap();
    }
    r
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Steps from deadline to deadline until `end`, recording when something was sent.
fn sends_until<T>(
    t0: Instant,
    end: Duration,
    tx: &mut T,
    timeout: impl Fn(&T) -> Option<Instant>,
    fire: impl Fn(&mut T, Instant),
    transmit: impl Fn(&mut T) -> Option<Bytes>,
) -> Vec<Duration> {
    let mut at = Vec::new();
    while transmit(tx).is_some() {
        at.push(Duration::ZERO);
    }
    while let Some(next) = timeout(tx) {
        if next > t0 + end {
            break;
        }
        fire(tx, next);
        while transmit(tx).is_some() {
            at.push(next - t0);
        }
    }
    at
}

fn events_client(tx: &mut ClientTransaction) -> Vec<ClientEvent> {
    std::iter::from_fn(|| tx.poll_event()).collect()
}

fn events_server(tx: &mut ServerTransaction) -> Vec<ServerEvent> {
    std::iter::from_fn(|| tx.poll_event()).collect()
}

fn secs(v: &[f64]) -> Vec<Duration> {
    v.iter().map(|s| Duration::from_secs_f64(*s)).collect()
}

#[test]
fn unanswered_udp_invite_is_sent_at_timer_a_and_fails_at_timer_b() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(t0, request("INVITE"), false, TimerConfig::default());
    let sent = sends_until(
        t0,
        Duration::from_secs(40),
        &mut tx,
        |t| t.poll_timeout(),
        |t, n| t.handle_timeout(n),
        |t| t.poll_transmit(),
    );
    assert_eq!(sent, secs(&[0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]));
    let ev = events_client(&mut tx);
    assert_eq!(ev, vec![ClientEvent::Timeout, ClientEvent::Terminated]);
    assert!(tx.is_terminated());
}

#[test]
fn timer_b_fires_exactly_at_64_t1() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(t0, request("INVITE"), false, TimerConfig::default());
    tx.handle_timeout(t0 + ms(31_999));
    assert!(!events_client(&mut tx).contains(&ClientEvent::Timeout));
    tx.handle_timeout(t0 + ms(32_000));
    assert!(events_client(&mut tx).contains(&ClientEvent::Timeout));
}

#[test]
fn unanswered_udp_non_invite_caps_at_t2_and_fails_at_timer_f() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(t0, request("OPTIONS"), false, TimerConfig::default());
    let sent = sends_until(
        t0,
        Duration::from_secs(40),
        &mut tx,
        |t| t.poll_timeout(),
        |t, n| t.handle_timeout(n),
        |t| t.poll_transmit(),
    );
    assert_eq!(
        sent,
        secs(&[0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5])
    );
    assert_eq!(
        events_client(&mut tx),
        vec![ClientEvent::Timeout, ClientEvent::Terminated]
    );
}

#[test]
fn tcp_requests_are_not_retransmitted_but_still_time_out() {
    let t0 = Instant::now();
    for method in ["INVITE", "OPTIONS"] {
        let mut tx = ClientTransaction::new(t0, request(method), true, TimerConfig::default());
        let sent = sends_until(
            t0,
            Duration::from_secs(40),
            &mut tx,
            |t| t.poll_timeout(),
            |t, n| t.handle_timeout(n),
            |t| t.poll_transmit(),
        );
        assert_eq!(sent, vec![Duration::ZERO], "{method}");
        assert!(
            events_client(&mut tx).contains(&ClientEvent::Timeout),
            "{method}"
        );
    }
}

#[test]
fn configured_t1_t2_scale_the_schedule() {
    let t0 = Instant::now();
    let config = TimerConfig {
        t1: ms(100),
        t2: ms(400),
        t4: ms(1000),
    };
    let mut tx = ClientTransaction::new(t0, request("OPTIONS"), false, config);
    let sent = sends_until(
        t0,
        Duration::from_secs(10),
        &mut tx,
        |t| t.poll_timeout(),
        |t, n| t.handle_timeout(n),
        |t| t.poll_transmit(),
    );
    assert_eq!(&sent[..6], &secs(&[0.0, 0.1, 0.3, 0.7, 1.1, 1.5])[..]);
    assert!(events_client(&mut tx).contains(&ClientEvent::Timeout));
    assert!(sent.last().unwrap() < &ms(6400));
}

#[test]
fn invite_provisional_stops_retransmission_and_timer_b() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let mut tx = ClientTransaction::new(t0, req.clone(), false, TimerConfig::default());
    let _ = tx.poll_transmit();
    tx.handle_response(t0 + ms(100), response(&req, 180));
    assert!(
        matches!(events_client(&mut tx)[..], [ClientEvent::Response(ref r)] if r.status() == 180)
    );
    assert_eq!(
        tx.poll_timeout(),
        None,
        "no Timer A, no Timer B in Proceeding"
    );
    tx.handle_timeout(t0 + Duration::from_secs(100));
    assert!(tx.poll_transmit().is_none());
    assert!(!tx.is_terminated());
}

#[test]
fn invite_non_2xx_final_is_acked_and_retransmissions_absorbed_until_timer_d() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let ClientTransaction::Invite(mut tx) =
        ClientTransaction::new(t0, req.clone(), false, TimerConfig::default())
    else {
        unreachable!()
    };
    let _ = tx.poll_transmit();
    let busy = response(&req, 486);
    tx.handle_response(t0 + ms(200), busy.clone());
    assert_eq!(tx.state(), ClientInviteState::Completed);
    let ack = Message::parse(tx.poll_transmit().unwrap()).unwrap();
    let ack = ack.as_request().unwrap();
    assert_eq!(ack.method().as_str(), "ACK");
    assert_eq!(ack.headers().to().unwrap().tag(), Some("b1"));
    assert_eq!(
        ack.headers().top_via().unwrap().branch(),
        Some("z9hG4bKtest")
    );
    let ev: Vec<_> = std::iter::from_fn(|| tx.poll_event()).collect();
    assert_eq!(ev.len(), 1, "the 486 goes to the user once");
    // A retransmitted 486: ACK again, not shown to the user.
    tx.handle_response(t0 + ms(700), busy);
    assert!(tx.poll_transmit().is_some());
    assert_eq!(tx.poll_event(), None);
    // Timer D: 32 s over UDP.
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(200) + Duration::from_secs(32))
    );
    tx.handle_timeout(t0 + ms(200) + Duration::from_secs(32));
    assert_eq!(tx.state(), ClientInviteState::Terminated);
    assert_eq!(tx.poll_event(), Some(ClientEvent::Terminated));
}

#[test]
fn invite_timer_d_is_zero_over_tcp() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let mut tx = ClientTransaction::new(t0, req.clone(), true, TimerConfig::default());
    tx.handle_response(t0 + ms(10), response(&req, 503));
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(10)));
    tx.handle_timeout(t0 + ms(10));
    assert!(tx.is_terminated());
}

#[test]
fn invite_2xx_enters_accepted_passes_retransmissions_and_ends_at_timer_m() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let ClientTransaction::Invite(mut tx) =
        ClientTransaction::new(t0, req.clone(), false, TimerConfig::default())
    else {
        unreachable!()
    };
    let _ = tx.poll_transmit();
    let ok = response(&req, 200);
    tx.handle_response(t0 + ms(300), ok.clone());
    assert_eq!(tx.state(), ClientInviteState::Accepted);
    assert!(
        tx.poll_transmit().is_none(),
        "the ACK for a 2xx is the user's"
    );
    tx.handle_response(t0 + ms(800), ok);
    let ev: Vec<_> = std::iter::from_fn(|| tx.poll_event()).collect();
    assert_eq!(ev.len(), 2, "both 2xx go to the user");
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(300) + Duration::from_secs(32))
    );
    tx.handle_timeout(t0 + ms(300) + Duration::from_secs(32));
    assert_eq!(tx.state(), ClientInviteState::Terminated);
}

#[test]
fn non_invite_final_then_timer_k() {
    let t0 = Instant::now();
    let req = request("REGISTER");
    let ClientTransaction::NonInvite(mut tx) =
        ClientTransaction::new(t0, req.clone(), false, TimerConfig::default())
    else {
        unreachable!()
    };
    let _ = tx.poll_transmit();
    tx.handle_response(t0 + ms(100), response(&req, 100));
    assert_eq!(tx.state(), ClientNonInviteState::Proceeding);
    // In Proceeding, retransmissions every T2.
    tx.handle_timeout(t0 + ms(500));
    assert!(tx.poll_transmit().is_some());
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(4500)));
    tx.handle_response(t0 + ms(600), response(&req, 200));
    assert_eq!(tx.state(), ClientNonInviteState::Completed);
    tx.handle_response(t0 + ms(700), response(&req, 200));
    let ev: Vec<_> = std::iter::from_fn(|| tx.poll_event()).collect();
    assert_eq!(
        ev.len(),
        2,
        "100 and the first 200; the retransmitted 200 is absorbed"
    );
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(600) + Duration::from_secs(5)),
        "Timer K = T4"
    );
    tx.handle_timeout(t0 + ms(5600));
    assert_eq!(tx.state(), ClientNonInviteState::Terminated);
}

#[test]
fn client_transport_error_terminates() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(t0, request("OPTIONS"), true, TimerConfig::default());
    tx.handle_transport_error(t0);
    assert_eq!(
        events_client(&mut tx),
        vec![ClientEvent::TransportError, ClientEvent::Terminated]
    );
}

#[test]
fn server_invite_non_2xx_is_retransmitted_by_timer_g_until_ack() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let ServerTransaction::Invite(mut tx) =
        ServerTransaction::new(t0, req.clone(), false, TimerConfig::default())
    else {
        unreachable!()
    };
    tx.send_response(t0, response(&req, 100)).unwrap();
    assert!(tx.poll_transmit().is_some());
    // A retransmitted INVITE gets the last provisional again.
    tx.handle_request(t0 + ms(500), req.clone());
    assert!(tx.poll_transmit().is_some());
    tx.send_response(t0 + ms(1000), response(&req, 404))
        .unwrap();
    assert_eq!(tx.state(), ServerInviteState::Completed);
    let mut sent = Vec::new();
    while tx.poll_transmit().is_some() {
        sent.push(ms(1000));
    }
    // G: T1, 2T1, 4T1, then capped at T2.
    for _ in 0..5 {
        let next = tx.poll_timeout().unwrap();
        tx.handle_timeout(next);
        while tx.poll_transmit().is_some() {
            sent.push(next - t0);
        }
    }
    assert_eq!(sent, secs(&[1.0, 1.5, 2.5, 4.5, 8.5, 12.5]));
    // A retransmitted INVITE in Completed gets the 404 again.
    tx.handle_request(t0 + ms(13_000), req.clone());
    assert!(tx.poll_transmit().is_some());
    let mut ack = req.create_ack(&response(&req, 404)).unwrap();
    ack.headers_mut()
        .set("Via", req.headers().get("Via").unwrap());
    tx.handle_request(t0 + ms(13_100), ack.clone());
    assert_eq!(tx.state(), ServerInviteState::Confirmed);
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(13_100) + Duration::from_secs(5)),
        "Timer I = T4"
    );
    tx.handle_request(t0 + ms(13_200), ack);
    assert!(
        tx.poll_transmit().is_none(),
        "ACK retransmissions are absorbed"
    );
    tx.handle_timeout(t0 + ms(18_100));
    assert_eq!(tx.state(), ServerInviteState::Terminated);
}

#[test]
fn server_invite_timer_h_fires_without_ack() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let mut tx = ServerTransaction::new(t0, req.clone(), false, TimerConfig::default());
    tx.send_response(t0, response(&req, 480)).unwrap();
    let mut now = t0;
    while let Some(next) = tx.poll_timeout() {
        now = next;
        tx.handle_timeout(next);
    }
    assert_eq!(now, t0 + Duration::from_secs(32));
    assert_eq!(
        events_server(&mut tx),
        vec![ServerEvent::Timeout, ServerEvent::Terminated]
    );
}

#[test]
fn server_invite_over_tcp_sends_once_and_timer_i_is_zero() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let ServerTransaction::Invite(mut tx) =
        ServerTransaction::new(t0, req.clone(), true, TimerConfig::default())
    else {
        unreachable!()
    };
    tx.send_response(t0, response(&req, 500)).unwrap();
    let _ = tx.poll_transmit();
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + Duration::from_secs(32)),
        "only Timer H"
    );
    tx.handle_request(t0 + ms(5), req.create_ack(&response(&req, 500)).unwrap());
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(5)));
    tx.handle_timeout(t0 + ms(5));
    assert!(tx.is_terminated());
}

#[test]
fn server_invite_2xx_accepted_hands_ack_to_user_and_ends_at_timer_l() {
    let t0 = Instant::now();
    let req = request("INVITE");
    let ServerTransaction::Invite(mut tx) =
        ServerTransaction::new(t0, req.clone(), false, TimerConfig::default())
    else {
        unreachable!()
    };
    let ok = response(&req, 200);
    tx.send_response(t0, ok.clone()).unwrap();
    assert_eq!(tx.state(), ServerInviteState::Accepted);
    assert!(tx.poll_transmit().is_some());
    // The user retransmits the 2xx (§13.3.1.4) through the transaction.
    tx.send_response(t0 + ms(500), ok).unwrap();
    assert!(tx.poll_transmit().is_some());
    // A retransmitted INVITE is absorbed: the user's 2xx retransmissions cover it.
    tx.handle_request(t0 + ms(600), req.clone());
    assert!(tx.poll_transmit().is_none());
    let mut ack = request("ACK");
    ack.headers_mut().set("CSeq", "7 ACK");
    tx.handle_request(t0 + ms(700), ack);
    assert!(matches!(tx.poll_event(), Some(ServerEvent::Ack(_))));
    assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_secs(32)));
    tx.handle_timeout(t0 + Duration::from_secs(32));
    assert_eq!(tx.state(), ServerInviteState::Terminated);
    assert!(tx
        .send_response(t0 + Duration::from_secs(33), response(&req, 200))
        .is_err());
}

#[test]
fn server_non_invite_absorbs_until_timer_j() {
    let t0 = Instant::now();
    let req = request("OPTIONS");
    let ServerTransaction::NonInvite(mut tx) =
        ServerTransaction::new(t0, req.clone(), false, TimerConfig::default())
    else {
        unreachable!()
    };
    tx.handle_request(t0 + ms(500), req.clone());
    assert!(tx.poll_transmit().is_none(), "nothing to resend in Trying");
    tx.send_response(t0 + ms(600), response(&req, 200)).unwrap();
    assert!(tx.poll_transmit().is_some());
    tx.handle_request(t0 + ms(1500), req.clone());
    assert!(tx.poll_transmit().is_some(), "the 200 again");
    assert!(
        tx.send_response(t0 + ms(1600), response(&req, 500))
            .is_err(),
        "one final response only"
    );
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(600) + Duration::from_secs(32)),
        "Timer J = 64 T1"
    );
    tx.handle_timeout(t0 + ms(32_600));
    assert_eq!(tx.state(), ServerNonInviteState::Terminated);
}

#[test]
fn server_non_invite_timer_j_is_zero_over_tcp() {
    let t0 = Instant::now();
    let req = request("BYE");
    let mut tx = ServerTransaction::new(t0, req.clone(), true, TimerConfig::default());
    tx.send_response(t0, response(&req, 200)).unwrap();
    tx.handle_timeout(t0);
    assert!(tx.is_terminated());
}

#[test]
fn keys_match_requests_responses_acks_and_cancels() {
    let invite = request("INVITE");
    let resp = response(&invite, 486);
    let k_req = ServerKey::from_headers(invite.headers()).unwrap();
    let k_resp = ServerKey::from_headers(resp.headers()).unwrap();
    assert_eq!(k_req, k_resp);
    let ack = invite.create_ack(&resp).unwrap();
    assert_eq!(ServerKey::from_headers(ack.headers()).unwrap(), k_req);
    let cancel = invite.create_cancel().unwrap();
    let k_cancel = ServerKey::from_headers(cancel.headers()).unwrap();
    assert_ne!(k_cancel, k_req);
    assert_eq!(k_cancel.invite_for_cancel(), k_req);
    let c_inv = ClientKey::from_headers(invite.headers()).unwrap();
    let c_resp = ClientKey::from_headers(resp.headers()).unwrap();
    let c_cancel = ClientKey::from_headers(cancel.headers()).unwrap();
    assert_eq!(c_inv, c_resp);
    assert_ne!(c_inv, c_cancel);
}

#[test]
fn rfc2543_peers_are_matched_without_a_cookie() {
    let mut old = request("INVITE");
    old.headers_mut().set("Via", "SIP/2.0/UDP 192.0.2.9:5060");
    let k1 = ServerKey::from_headers(old.headers()).unwrap();
    assert!(matches!(k1, ServerKey::Rfc2543 { .. }));
    let resp = response(&old, 180);
    assert_eq!(ServerKey::from_headers(resp.headers()).unwrap(), k1);
    let mut other = old.clone();
    other.headers_mut().set("CSeq", "8 INVITE");
    assert_ne!(ServerKey::from_headers(other.headers()).unwrap(), k1);
}
