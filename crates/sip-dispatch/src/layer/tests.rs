//! Two transaction layers talking over a simulated network: a virtual clock, a queue per
//! direction, and loss by dropping what is queued.

use std::time::{Duration, Instant};

use sip_packet::{Message, Request, Response};

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Alice,
    Bob,
}

/// Alice's and Bob's layers, the network between them, and the clock.
struct Pair {
    now: Instant,
    alice: TransactionLayer<Side>,
    bob: TransactionLayer<Side>,
    /// Messages on the wire, with their destination.
    wire: Vec<(Side, Bytes)>,
    /// How many of the next datagrams are lost.
    lose: usize,
    /// What each user got.
    alice_events: Vec<LayerEvent<Side>>,
    bob_events: Vec<LayerEvent<Side>>,
}

impl Pair {
    fn new() -> Self {
        Self {
            now: Instant::now(),
            alice: TransactionLayer::new(TimerConfig::default()),
            bob: TransactionLayer::new(TimerConfig::default()),
            wire: Vec::new(),
            lose: 0,
            alice_events: Vec::new(),
            bob_events: Vec::new(),
        }
    }

    /// Moves everything queued onto the wire, then delivers it (after loss).
    fn flush(&mut self) {
        loop {
            while let Some(t) = self.alice.poll_transmit() {
                self.wire.push((t.route, t.bytes));
            }
            while let Some(t) = self.bob.poll_transmit() {
                self.wire.push((t.route, t.bytes));
            }
            self.alice_events
                .extend(std::iter::from_fn(|| self.alice.poll_event()));
            self.bob_events
                .extend(std::iter::from_fn(|| self.bob.poll_event()));
            if self.wire.is_empty() {
                return;
            }
            for (to, bytes) in std::mem::take(&mut self.wire) {
                if self.lose > 0 {
                    self.lose -= 1;
                    continue;
                }
                let (layer, from) = match to {
                    Side::Alice => (&mut self.alice, Side::Bob),
                    Side::Bob => (&mut self.bob, Side::Alice),
                };
                match Message::parse(bytes).unwrap() {
                    Message::Request(r) => layer.handle_request(self.now, r, from, false).unwrap(),
                    Message::Response(r) => layer.handle_response(self.now, r, from),
                }
            }
        }
    }

    /// Advances the clock to the next deadline of either side and fires it.
    fn step(&mut self) -> bool {
        let next = [self.alice.poll_timeout(), self.bob.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else { return false };
        self.now = self.now.max(next);
        self.alice.handle_timeout(self.now);
        self.bob.handle_timeout(self.now);
        self.flush();
        true
    }

    fn drive(&mut self) {
        while self.step() {}
    }

    fn bob_request(&self) -> (Request, ServerKey) {
        self.bob_events
            .iter()
            .find_map(|e| match e {
                LayerEvent::Request {
                    request,
                    server: Some(k),
                    ..
                } => Some((request.clone(), k.clone())),
                _ => None,
            })
            .expect("Bob got a request")
    }
}

const INVITE: &str =
    "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinv1\r\n\
    From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: call-1\r\n\
    CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

fn request(raw: &str) -> Request {
    match Message::parse(Bytes::copy_from_slice(raw.as_bytes())).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn invite() -> Request {
    request(INVITE)
}

fn answer(req: &Request, status: u16) -> Response {
    let mut r = Response::from_request(req, status, None);
    if status > 100 {
        r.set_to_tag("b1").unwrap();
    }
    r
}

#[test]
fn lost_invite_is_retransmitted_and_a_rejection_is_acked() {
    let mut p = Pair::new();
    let t0 = p.now;
    p.lose = 2;
    let id = p
        .alice
        .send_request(p.now, invite(), Side::Bob, false)
        .unwrap();
    p.flush();
    assert!(p.bob_events.is_empty());
    p.step(); // 0.5 s: lost
    p.step(); // 1.5 s: arrives
    assert_eq!(p.now - t0, Duration::from_millis(1500));
    let (req, _) = p.bob_request();
    p.bob.send_response(p.now, answer(&req, 180)).unwrap();
    p.bob.send_response(p.now, answer(&req, 486)).unwrap();
    p.flush();
    let statuses: Vec<u16> = p
        .alice_events
        .iter()
        .filter_map(|e| match e {
            LayerEvent::Response { id: i, response } if *i == id => Some(response.status()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [180, 486]);
    // Alice's transaction ACKed the 486; Bob's is Confirmed and ends after T4.
    assert_eq!(p.bob.server_count(), 1);
    p.drive();
    assert_eq!(p.alice.client_count(), 0);
    assert_eq!(p.bob.server_count(), 0);
    assert!(p
        .alice_events
        .contains(&LayerEvent::ClientTerminated { id }));
    assert!(
        !p.bob_events
            .iter()
            .any(|e| matches!(e, LayerEvent::ServerFailed { .. })),
        "the ACK arrived"
    );
}

#[test]
fn retransmitted_request_is_absorbed_and_answered_from_the_transaction() {
    let mut p = Pair::new();
    let options = request(&INVITE.replace("INVITE", "OPTIONS"));
    p.alice
        .send_request(p.now, options, Side::Bob, false)
        .unwrap();
    p.flush();
    p.step(); // Alice retransmits at 0.5 s before Bob answers: Bob's user sees one request.
    assert_eq!(
        p.bob_events
            .iter()
            .filter(|e| matches!(e, LayerEvent::Request { .. }))
            .count(),
        1
    );
    let (req, _) = p.bob_request();
    p.lose = 1; // the 200 is lost
    p.bob.send_response(p.now, answer(&req, 200)).unwrap();
    p.flush();
    p.step(); // Alice retransmits, Bob's transaction resends the 200
    assert!(p
        .alice_events
        .iter()
        .any(|e| matches!(e, LayerEvent::Response { response, .. } if response.status() == 200)));
    p.drive();
    assert_eq!(p.alice.client_count() + p.bob.server_count(), 0);
}

#[test]
fn unanswered_request_fails_with_timeout() {
    let mut p = Pair::new();
    p.lose = usize::MAX;
    let id = p
        .alice
        .send_request(p.now, invite(), Side::Bob, false)
        .unwrap();
    p.flush();
    p.drive();
    assert!(p.alice_events.contains(&LayerEvent::ClientFailed {
        id,
        reason: FailReason::Timeout
    }));
    assert_eq!(p.alice.client_count(), 0);
}

#[test]
fn cancel_finds_the_pending_invite_and_ack_for_2xx_reaches_the_user() {
    let mut p = Pair::new();
    let inv = invite();
    p.alice
        .send_request(p.now, inv.clone(), Side::Bob, false)
        .unwrap();
    p.flush();
    let cancel = inv.create_cancel().unwrap();
    p.alice
        .send_request(p.now, cancel, Side::Bob, false)
        .unwrap();
    p.flush();
    let cancel_key = p
        .bob_events
        .iter()
        .find_map(|e| match e {
            LayerEvent::Request {
                request,
                server: Some(k),
                ..
            } if request.method().as_str() == "CANCEL" => Some(k.clone()),
            _ => None,
        })
        .unwrap();
    assert!(p.bob.is_invite_pending(&cancel_key));
    assert_eq!(
        p.bob.pending_invite(&cancel_key).unwrap().method().as_str(),
        "INVITE"
    );
    // Bob answers the INVITE with 200 instead (the race): no longer pending.
    let (req, _) = p.bob_request();
    p.bob.send_response(p.now, answer(&req, 200)).unwrap();
    assert!(!p.bob.is_invite_pending(&cancel_key));
    p.flush();
    // Alice's user ACKs the 2xx; it is stateless and reaches Bob's user through the
    // Accepted transaction.
    let ack = request(
        &INVITE
            .replace("INVITE", "ACK")
            .replace("z9hG4bKinv1", "z9hG4bKack1")
            .replace(
                "<sip:bob@example.com>\r\n",
                "<sip:bob@example.com>;tag=b1\r\n",
            ),
    );
    assert_eq!(
        p.alice.send_request(p.now, ack.clone(), Side::Bob, false),
        Err(LayerError::AckHasNoTransaction)
    );
    p.alice.send_stateless(Side::Bob, ack.to_bytes());
    p.flush();
    assert!(p.bob_events.iter().any(|e| matches!(e, LayerEvent::Request { request, server: None, .. } if request.method().as_str() == "ACK")));
}

#[test]
fn responses_without_a_transaction_are_stray() {
    let mut p = Pair::new();
    let r = answer(&invite(), 200);
    p.alice.handle_response(p.now, r, Side::Bob);
    assert!(matches!(
        p.alice.poll_event(),
        Some(LayerEvent::StrayResponse { .. })
    ));
    assert_eq!(
        p.bob.send_response(p.now, answer(&invite(), 200)),
        Err(LayerError::NoTransaction)
    );
}

#[test]
fn duplicate_branch_is_refused_and_cancelled_delivery_goes_quiet() {
    let mut p = Pair::new();
    let id = p
        .alice
        .send_request(p.now, invite(), Side::Bob, false)
        .unwrap();
    assert!(matches!(
        p.alice.send_request(p.now, invite(), Side::Bob, false),
        Err(LayerError::DuplicateBranch(_))
    ));
    assert!(p.alice.cancel_client(id));
    p.lose = usize::MAX;
    p.flush();
    p.drive();
    assert!(!p
        .alice_events
        .iter()
        .any(|e| matches!(e, LayerEvent::ClientFailed { .. })));
    assert_eq!(p.alice.client_count(), 0);
}

#[test]
fn many_transactions_keep_their_own_schedules() {
    let mut layer: TransactionLayer<u32> = TransactionLayer::new(TimerConfig::default());
    let t0 = Instant::now();
    for i in 0..100u32 {
        let mut r = invite();
        r.headers_mut().set(
            "Via",
            format!("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{i}"),
        );
        layer
            .send_request(t0 + Duration::from_millis(u64::from(i)), r, i, false)
            .unwrap();
    }
    let mut sends = 0;
    while let Some(next) = layer.poll_timeout() {
        layer.handle_timeout(next);
        while layer.poll_transmit().is_some() {
            sends += 1;
        }
        std::iter::from_fn(|| layer.poll_event()).for_each(drop);
    }
    // 7 sends each (0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s), all timed out.
    assert_eq!(sends, 700);
    assert_eq!(layer.client_count(), 0);
}

#[test]
fn a_flood_of_new_requests_is_refused_past_the_cap() {
    let mut layer: TransactionLayer<u8> =
        TransactionLayer::new(TimerConfig::default()).with_max_server_transactions(3);
    let now = Instant::now();
    for i in 0..3 {
        let r = request(&INVITE.replace("z9hG4bKinv1", &format!("z9hG4bKflood{i}")));
        layer.handle_request(now, r, 0, false).unwrap();
    }
    let r = request(&INVITE.replace("z9hG4bKinv1", "z9hG4bKflood9"));
    assert_eq!(
        layer.handle_request(now, r, 0, false),
        Err(LayerError::Overloaded(3))
    );
    // Retransmissions of running transactions are still absorbed.
    let again = request(&INVITE.replace("z9hG4bKinv1", "z9hG4bKflood0"));
    assert_eq!(layer.handle_request(now, again, 0, false), Ok(()));
    // What the driver reads to build its 503 only when it is needed.
    assert_eq!(layer.server_count(), layer.max_server_transactions());
}

#[test]
fn a_response_without_a_transaction_comes_back_whole_and_one_with_is_sent() {
    let mut p = Pair::new();
    let stray = answer(&invite(), 200);
    match p.bob.send_response_or_return(p.now, stray.clone()) {
        ResponseOutcome::NoTransaction(back) => assert_eq!(back.to_bytes(), stray.to_bytes()),
        other => panic!("{other:?}"),
    }
    assert!(p.bob.poll_transmit().is_none());

    p.bob
        .handle_request(p.now, invite(), Side::Alice, false)
        .unwrap();
    std::iter::from_fn(|| p.bob.poll_event()).for_each(drop);
    let ok = answer(&invite(), 486);
    assert!(matches!(
        p.bob.send_response_or_return(p.now, ok.clone()),
        ResponseOutcome::Taken(Ok(()))
    ));
    assert_eq!(p.bob.poll_transmit().unwrap().bytes, ok.to_bytes());
    // A second final response is the transaction's to refuse, not sent statelessly.
    assert!(matches!(
        p.bob.send_response_or_return(p.now, answer(&invite(), 200)),
        ResponseOutcome::Taken(Err(LayerError::Transaction(_)))
    ));
}
