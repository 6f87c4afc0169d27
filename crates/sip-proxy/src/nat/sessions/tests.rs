//! The session table's rules with a simulated clock: allocation, limits, activation,
//! replacement, close and every expiry, to the instant.

use std::time::Duration;

use super::*;
use crate::nat::allocate::StreamRequest;

const IP: &str = "127.0.0.1";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn party(s: &str) -> PartyId {
    PartyId::new(s)
}

fn key(cseq: u32, from: &str, to: &str) -> SessionKey {
    SessionKey::new("call-1", cseq, party(from), party(to))
}

/// An RTP stream (RTP and RTCP) to `target`.
fn rtp(target: &str) -> StreamRequest {
    StreamRequest::relay(Some(addr(target)), 2)
}

fn request(key: &SessionKey, side: Side, media: Vec<StreamRequest>) -> AllocateRequest {
    AllocateRequest::new(key.clone(), side, IP.parse().unwrap(), media)
}

/// A binder that hands out ports from 30000 up and counts its calls.
struct FakeBinder {
    next: u16,
    calls: usize,
}

impl FakeBinder {
    fn new() -> Self {
        Self {
            next: 30000,
            calls: 0,
        }
    }

    fn bind(&mut self, r: &BindRequest) -> Result<Vec<Option<u16>>, NatError> {
        self.calls += 1;
        Ok(r.sockets
            .iter()
            .map(|&n| {
                (n > 0).then(|| {
                    let base = self.next;
                    self.next += n.max(2);
                    base
                })
            })
            .collect())
    }
}

/// A table with one offer (alice's audio) and bob's answer allocated at `t0`.
fn offered_and_answered(config: NatConfig, t0: Instant) -> (NatSessions, FakeBinder, SessionKey) {
    let mut table = NatSessions::new(config);
    let mut b = FakeBinder::new();
    let k = key(1, "alice", "bob");
    table
        .allocate(
            t0,
            &request(&k, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap();
    table
        .allocate(
            t0,
            &request(&k, Side::To, vec![rtp("10.0.0.2:5000")]),
            |r| b.bind(r),
        )
        .unwrap();
    (table, b, k)
}

fn events(table: &mut NatSessions) -> Vec<NatEvent> {
    std::iter::from_fn(|| table.poll_event()).collect()
}

#[test]
fn a_retransmitted_offer_gets_the_same_sockets() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let mut b = FakeBinder::new();
    let k = key(1, "alice", "bob");
    let offer = request(
        &k,
        Side::From,
        vec![
            rtp("10.0.0.1:4000"),
            StreamRequest::untouched(),
            rtp("10.0.0.1:4002"),
        ],
    );
    let first = table.allocate(t0, &offer, |r| b.bind(r)).unwrap();
    assert!(first.fresh);
    assert_eq!(
        first.media,
        [
            Some(addr("127.0.0.1:30000")),
            None,
            Some(addr("127.0.0.1:30002"))
        ]
    );
    let again = table.allocate(t0 + secs(1), &offer, |r| b.bind(r)).unwrap();
    assert!(!again.fresh);
    assert_eq!(again.media, first.media);
    assert_eq!(again.group, first.group);
    assert_eq!(b.calls, 1, "bound once");
    assert_eq!(table.stats().sockets, 4);
    assert_eq!(table.stats().groups, 1);
    assert_eq!(table.stats().calls, 1);
}

#[test]
fn nothing_to_relay_binds_nothing() {
    let mut table = NatSessions::new(NatConfig::new());
    let k = key(1, "alice", "bob");
    let all_off = request(&k, Side::From, vec![StreamRequest::untouched(); 2]);
    let a = table
        .allocate(Instant::now(), &all_off, |_| panic!("nothing to bind"))
        .unwrap();
    assert_eq!(a.group, None);
    assert_eq!(a.media, [None, None]);
    assert_eq!(table.stats(), NatStats::default());
}

#[test]
fn limits_per_call_and_in_total() {
    let t0 = Instant::now();
    let config = NatConfig::new().max_sockets(5).max_sockets_per_call(4);
    let mut table = NatSessions::new(config);
    let mut b = FakeBinder::new();
    let k = key(1, "alice", "bob");
    table
        .allocate(
            t0,
            &request(&k, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap();
    // Two more sockets fit the call (4), three do not.
    let three = request(
        &k,
        Side::To,
        vec![StreamRequest::relay(Some(addr("10.0.0.2:5000")), 3)],
    );
    let e = table.allocate(t0, &three, |r| b.bind(r)).unwrap_err();
    assert_eq!(
        e,
        NatError::CallLimit {
            call_id: "call-1".into(),
            needed: 3,
            in_use: 2,
            max: 4
        }
    );
    // Another call: 2 + 4 > 5 in total.
    let other = SessionKey::new("call-2", 1, party("carol"), party("dave"));
    let big = request(
        &other,
        Side::From,
        vec![rtp("10.0.0.3:4000"), rtp("10.0.0.3:4002")],
    );
    let e = NatSessions::allocate(&mut table, t0, &big, |r| b.bind(r)).unwrap_err();
    assert!(
        matches!(
            e,
            NatError::TotalLimit {
                needed: 4,
                in_use: 2,
                max: 5
            }
        ),
        "{e}"
    );
    assert_eq!(b.calls, 1, "refused requests bind nothing");
    assert_eq!(table.stats().sockets, 2);
    assert_eq!(table.stats().calls, 1);
    assert!(e.to_string().contains("limit of 5 in total"), "{e}");
}

#[test]
fn a_failed_or_wrong_bind_records_nothing() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let k = key(1, "alice", "bob");
    let offer = request(&k, Side::From, vec![rtp("10.0.0.1:4000")]);
    let refused = NatError::Bind {
        address: IP.parse().unwrap(),
        count: 2,
        ports: crate::nat::PortRange::DEFAULT,
        reason: "all taken".into(),
    };
    let e = table
        .allocate(t0, &offer, |_| Err(refused.clone()))
        .unwrap_err();
    assert_eq!(e, refused);
    // A binder that forgets the stream.
    let e = table.allocate(t0, &offer, |_| Ok(vec![None])).unwrap_err();
    assert!(matches!(e, NatError::Bind { .. }), "{e}");
    assert_eq!(table.stats(), NatStats::default());
    assert_eq!(table.poll_timeout(), None);
}

#[test]
fn a_late_retransmission_of_an_older_transaction_is_refused() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let mut b = FakeBinder::new();
    let reinvite = key(2, "alice", "bob");
    table
        .allocate(
            t0,
            &request(&reinvite, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap();
    let old = key(1, "alice", "bob");
    let e = table
        .allocate(
            t0,
            &request(&old, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            NatError::StaleCSeq {
                cseq: 1,
                newer: 2,
                ..
            }
        ),
        "{e}"
    );
    // The other party's transactions have their own numbers.
    let bobs = key(1, "bob", "alice");
    table
        .allocate(
            t0,
            &request(&bobs, Side::From, vec![rtp("10.0.0.2:5000")]),
            |r| b.bind(r),
        )
        .unwrap();
}

#[test]
fn activation_pairs_the_sides_stream_by_stream() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let mut b = FakeBinder::new();
    let k = key(1, "alice", "bob");
    // Activation before the answer: incomplete.
    let e = table.activate(t0, &k).unwrap_err();
    assert!(matches!(e, NatError::Incomplete { cseq: 1, .. }), "{e}");
    let offer = request(
        &k,
        Side::From,
        vec![rtp("10.0.0.1:4000"), rtp("10.0.0.1:4002")],
    );
    let f = table.allocate(t0, &offer, |r| b.bind(r)).unwrap();
    assert!(table.activate(t0, &k).is_err());
    // Bob declines the video (port 0: no sockets).
    let answer = request(
        &k,
        Side::To,
        vec![rtp("10.0.0.2:5000"), StreamRequest::untouched()],
    );
    let t = table.allocate(t0, &answer, |r| b.bind(r)).unwrap();
    let a = table.activate(t0, &k).unwrap();
    assert!(!a.existing);
    assert_eq!(a.session.call_id, "call-1");
    assert_eq!(a.session.reason, None);
    let (fg, tg) = (f.group.unwrap(), t.group.unwrap());
    let evs = events(&mut table);
    let [NatEvent::Start { session, pairs }] = evs.as_slice() else {
        panic!("{evs:?}")
    };
    assert_eq!(session.get(), a.session.id);
    assert_eq!(
        pairs.as_slice(),
        [
            RelayPair {
                facing_from: SocketRef {
                    group: tg,
                    stream: 0,
                    index: 0
                },
                facing_to: SocketRef {
                    group: fg,
                    stream: 0,
                    index: 0
                },
                from_media: Some(addr("10.0.0.1:4000")),
                to_media: Some(addr("10.0.0.2:5000")),
            },
            // RTCP: the next port on each side.
            RelayPair {
                facing_from: SocketRef {
                    group: tg,
                    stream: 0,
                    index: 1
                },
                facing_to: SocketRef {
                    group: fg,
                    stream: 0,
                    index: 1
                },
                from_media: Some(addr("10.0.0.1:4001")),
                to_media: Some(addr("10.0.0.2:5001")),
            },
        ]
    );
    // The ACK activates again: the same session, nothing new for the relay.
    let again = table.activate(t0 + secs(1), &k).unwrap();
    assert!(again.existing);
    assert_eq!(again.session.id, a.session.id);
    assert!(table.poll_event().is_none());
    assert_eq!(table.stats().sessions, 1);
}

#[test]
fn unused_sockets_go_after_180_s_to_the_instant() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let mut b = FakeBinder::new();
    let k = key(1, "alice", "bob");
    let g = table
        .allocate(
            t0,
            &request(&k, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap()
        .group
        .unwrap();
    assert_eq!(table.poll_timeout(), Some(t0 + secs(180)));
    table.handle_timeout(t0 + secs(180) - Duration::from_millis(1));
    assert_eq!(table.stats().sockets, 2, "still there 1 ms before");
    assert!(table.poll_event().is_none());
    table.handle_timeout(t0 + secs(180));
    assert_eq!(events(&mut table), [NatEvent::Release(g)]);
    assert_eq!(table.stats(), NatStats::default());
    assert_eq!(table.poll_timeout(), None);
}

#[test]
fn an_active_session_lives_30_s_past_its_last_packet() {
    let t0 = Instant::now();
    let (mut table, _, k) = offered_and_answered(NatConfig::new(), t0);
    table.activate(t0 + secs(2), &k).unwrap();
    let groups = table.groups();
    let _ = events(&mut table);
    assert_eq!(table.poll_timeout(), Some(t0 + secs(32)));
    // Packets until t0 + 20 s on one side push the end to t0 + 50 s.
    table.handle_traffic(groups[0], 1600, Some(t0 + secs(20)));
    assert_eq!(table.poll_timeout(), Some(t0 + secs(50)));
    assert!(table.handle_timeout(t0 + secs(49)).is_empty());
    assert_eq!(table.stats().sessions, 1);
    let expired = table.handle_timeout(t0 + secs(50));
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].reason, Some(CloseReason::Expired));
    assert_eq!(expired[0].age, secs(48));
    assert_eq!(expired[0].bytes_from + expired[0].bytes_to, 1600);
    // Stopped, and both groups released with it.
    let evs = events(&mut table);
    assert!(matches!(evs[0], NatEvent::Stop(_)), "{evs:?}");
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, NatEvent::Release(_)))
            .count(),
        2
    );
    assert_eq!(table.stats(), NatStats::default());
}

#[test]
fn a_closed_session_relays_one_more_second() {
    let t0 = Instant::now();
    let (mut table, _, k) = offered_and_answered(NatConfig::new(), t0);
    table.activate(t0, &k).unwrap();
    let _ = events(&mut table);
    // BYE from bob: the parties the other way round, no CSeq.
    let bye = CloseRequest::new("call-1", None, party("bob"), party("alice"));
    let closed = table.close(t0 + secs(10), &bye);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].reason, Some(CloseReason::Closed));
    assert_eq!(closed[0].age, secs(10));
    assert_eq!(table.stats().closing, 1);
    assert_eq!(table.stats().sessions, 0);
    // A retransmitted BYE closes nothing more.
    assert!(table.close(t0 + secs(10), &bye).is_empty());
    assert_eq!(table.poll_timeout(), Some(t0 + secs(11)));
    table.handle_timeout(t0 + secs(11) - Duration::from_millis(1));
    assert!(
        table.poll_event().is_none(),
        "relaying until the second is up"
    );
    assert!(table.handle_timeout(t0 + secs(11)).is_empty());
    let evs = events(&mut table);
    assert!(
        matches!(
            evs.as_slice(),
            [
                NatEvent::Stop(_),
                NatEvent::Release(_),
                NatEvent::Release(_)
            ]
        ),
        "{evs:?}"
    );
    assert_eq!(table.stats(), NatStats::default());
}

#[test]
fn cancel_releases_an_unanswered_offer_after_the_closed_timeout() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let mut b = FakeBinder::new();
    let k = key(1, "alice", "bob-untagged");
    table
        .allocate(
            t0,
            &request(&k, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap();
    let cancel = CloseRequest::new("call-1", Some(1), party("alice"), party("bob-untagged"));
    assert!(table.close(t0 + secs(3), &cancel).is_empty());
    assert_eq!(table.poll_timeout(), Some(t0 + secs(4)));
    table.handle_timeout(t0 + secs(4));
    assert_eq!(table.stats(), NatStats::default());
}

#[test]
fn a_reinvite_replaces_the_session_between_the_same_parties() {
    let t0 = Instant::now();
    let (mut table, mut b, first) = offered_and_answered(NatConfig::new(), t0);
    let s1 = table.activate(t0, &first).unwrap().session;
    // Bob re-INVITEs alice (his own CSeq 1, the other direction).
    let second = key(1, "bob", "alice");
    table
        .allocate(
            t0 + secs(5),
            &request(&second, Side::From, vec![rtp("10.0.0.2:5000")]),
            |r| b.bind(r),
        )
        .unwrap();
    table
        .allocate(
            t0 + secs(5),
            &request(&second, Side::To, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap();
    let a = table.activate(t0 + secs(5), &second).unwrap();
    assert_eq!(a.replaced.len(), 1);
    assert_eq!(a.replaced[0].id, s1.id);
    assert_eq!(a.replaced[0].reason, Some(CloseReason::Replaced));
    assert_eq!(table.stats().sessions, 1);
    assert_eq!(table.stats().closing, 1);
    assert_eq!(table.stats().sockets, 8);
    // The old one's sockets go a second later; the new session stays.
    table.handle_timeout(t0 + secs(6));
    assert_eq!(table.stats().sockets, 4);
    assert_eq!(table.stats().sessions, 1);
}

#[test]
fn forks_share_the_offer_and_get_a_session_each() {
    let t0 = Instant::now();
    let mut table = NatSessions::new(NatConfig::new());
    let mut b = FakeBinder::new();
    let to_b1 = key(1, "alice", "bob-1");
    let to_b2 = key(1, "alice", "bob-2");
    table
        .allocate(
            t0,
            &request(&to_b1, Side::From, vec![rtp("10.0.0.1:4000")]),
            |r| b.bind(r),
        )
        .unwrap();
    // The offer is the transaction's: the second fork finds it allocated.
    assert!(
        !table
            .allocate(
                t0,
                &request(&to_b2, Side::From, vec![rtp("10.0.0.1:4000")]),
                |r| b.bind(r)
            )
            .unwrap()
            .fresh
    );
    for k in [&to_b1, &to_b2] {
        table
            .allocate(t0, &request(k, Side::To, vec![rtp("10.0.0.9:5000")]), |r| {
                b.bind(r)
            })
            .unwrap();
        table.activate(t0, k).unwrap();
    }
    assert_eq!(table.stats().sessions, 2);
    // The 486 of one fork closes its session only.
    let busy = CloseRequest::new("call-1", Some(1), party("alice"), party("bob-2"));
    assert_eq!(table.close(t0, &busy).len(), 1);
    table.handle_timeout(t0 + secs(1));
    assert_eq!(table.stats().sessions, 1);
    assert_eq!(
        table.stats().sockets,
        4,
        "the offer's group stays for bob-1"
    );
}

#[test]
fn timeouts_are_configurable() {
    let t0 = Instant::now();
    let config = NatConfig::new()
        .unused_timeout(secs(5))
        .active_timeout(secs(7))
        .closed_timeout(secs(2));
    let (mut table, _, k) = offered_and_answered(config, t0);
    assert_eq!(table.poll_timeout(), Some(t0 + secs(5)));
    table.activate(t0 + secs(1), &k).unwrap();
    assert_eq!(table.poll_timeout(), Some(t0 + secs(8)));
    let bye = CloseRequest::new("call-1", None, party("alice"), party("bob"));
    table.close(t0 + secs(3), &bye);
    assert_eq!(table.poll_timeout(), Some(t0 + secs(5)));
    table.handle_timeout(t0 + secs(5));
    assert_eq!(table.stats(), NatStats::default());
}

#[test]
fn an_activation_after_a_close_reopens_the_same_session() {
    let t0 = Instant::now();
    let (mut table, _, k) = offered_and_answered(NatConfig::new(), t0);
    let s = table.activate(t0, &k).unwrap().session;
    let _ = events(&mut table);
    let cancel = CloseRequest::new("call-1", Some(1), party("alice"), party("bob"));
    assert_eq!(table.close(t0, &cancel).len(), 1);
    let again = table.activate(t0, &k).unwrap();
    assert_eq!(again.session.id, s.id);
    assert!(table.poll_event().is_none(), "its relay never stopped");
    assert_eq!(table.stats().sessions, 1);
    assert_eq!(table.stats().closing, 0);
}
