//! Dispatchers talking over real sockets on loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sip_dispatch::resolve::{StaticResolver, Target};
use sip_dispatch::{
    DeliverOptions, DeliveryError, DeliveryEvent, Dispatcher, DispatcherConfig, ReceiveChain,
    Receiver,
};
use sip_packet::{Message, Method, Request, Response};
use sip_transport::{Leg, LegConfig, Protocol};

fn config() -> DispatcherConfig {
    DispatcherConfig::default()
        .seed(1)
        .resolver(Arc::new(StaticResolver::new()))
}

async fn dispatcher(addr: &str) -> Dispatcher {
    Dispatcher::new(vec![LegConfig::new(addr.parse().unwrap())], config())
        .await
        .unwrap()
}

fn target(d: &Dispatcher) -> Target {
    let l = &d.legs()[0];
    Target::new(l.protocol(), l.local_addr(), None)
}

fn request(method: &str, to: SocketAddr) -> Request {
    let host = match to {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let raw = format!(
        "{method} sip:bob@{host} SIP/2.0\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: {method}-{}@example.com\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        to.port()
    );
    // Parsing needs a Via; the dispatcher puts its own on top, so build without one.
    let mut req = Request::new(
        Method::parse(method).unwrap(),
        format!("sip:bob@{host}").parse().unwrap(),
    );
    for line in raw.lines().skip(1).take_while(|l| !l.is_empty()) {
        let (n, v) = line.split_once(": ").unwrap();
        req.headers_mut().add(n, v.to_owned());
    }
    req
}

/// A receiver that answers every request but ACK with `status` and records what it saw.
fn answering(d: &Dispatcher, status: u16) -> Arc<Mutex<Vec<Message>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let d2 = d.clone();
    d.set_receiver(Arc::new(
        move |m: &Message, _leg: &Leg, _from: SocketAddr| {
            log.lock().unwrap().push(m.clone());
            if let Message::Request(r) = m {
                if r.method() != &Method::Ack {
                    let mut resp = Response::from_request(r, status, None);
                    resp.set_to_tag("b1").unwrap();
                    d2.deliver(resp, DeliverOptions::new());
                }
            }
            true
        },
    ));
    seen
}

async fn round_trip(a: &str, b: &str) {
    let alice = dispatcher(a).await;
    let bob = dispatcher(b).await;
    let seen = answering(&bob, 200);
    let req = request("OPTIONS", bob.legs()[0].local_addr());
    let resp = alice
        .request(req, DeliverOptions::new().dst(target(&bob)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().to().unwrap().tag(), Some("b1"));
    let got = seen.lock().unwrap();
    let via = got[0].headers().top_via().unwrap();
    assert!(via.has_rfc3261_branch());
    // rport is stamped with the source port: the leg's own port over UDP, the connection's
    // ephemeral port over TCP.
    let rport = via.rport().flatten().expect("rport stamped");
    if alice.legs()[0].protocol() == Protocol::Udp {
        assert_eq!(rport, alice.legs()[0].local_addr().port());
    }
}

#[tokio::test]
async fn udp_round_trip_v4() {
    round_trip("udp:127.0.0.1:0", "udp:127.0.0.1:0").await;
}

#[tokio::test]
async fn tcp_round_trip_v4() {
    round_trip("tcp:127.0.0.1:0", "tcp:127.0.0.1:0").await;
}

fn has_ipv6() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}

#[tokio::test]
async fn udp_and_tcp_round_trips_v6() {
    if !has_ipv6() {
        eprintln!("no IPv6 loopback on this machine: skipped");
        return;
    }
    round_trip("udp:[::1]:0", "udp:[::1]:0").await;
    round_trip("tcp:[::1]:0", "tcp:[::1]:0").await;
}

#[tokio::test]
async fn uri_is_resolved_through_the_injected_resolver() {
    let bob = dispatcher("udp:127.0.0.1:0").await;
    answering(&bob, 202);
    let port = bob.legs()[0].local_addr().port();
    let dns = StaticResolver::new().ip(
        "bob.example.test",
        ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()],
    );
    let alice = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        config().resolver(Arc::new(dns)),
    )
    .await
    .unwrap();
    let mut req = request("MESSAGE", bob.legs()[0].local_addr());
    req.set_uri(format!("sip:bob@bob.example.test:{port}").parse().unwrap());
    let resp = alice.request(req, DeliverOptions::new()).await.unwrap();
    assert_eq!(resp.status(), 202);
    let err = alice
        .request(
            {
                let mut r = request("MESSAGE", bob.legs()[0].local_addr());
                r.set_uri("sip:bob@unknown.example.test".parse().unwrap());
                r
            },
            DeliverOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::NoRoute(_)), "{err}");
}

#[tokio::test(start_paused = true)]
async fn silent_target_times_out_and_the_next_one_answers() {
    // A socket that never reads: the first target.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let bob = dispatcher("udp:127.0.0.1:0").await;
    answering(&bob, 200);
    let dns = StaticResolver::new()
        .srv(
            "_sip._udp.example.test",
            [
                sip_dispatch::resolve::Srv::new(
                    10,
                    0,
                    silent.local_addr().unwrap().port(),
                    "a.example.test",
                ),
                sip_dispatch::resolve::Srv::new(
                    20,
                    0,
                    bob.legs()[0].local_addr().port(),
                    "b.example.test",
                ),
            ],
        )
        .ip(
            "a.example.test",
            ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()],
        )
        .ip(
            "b.example.test",
            ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()],
        );
    let alice = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        config().resolver(Arc::new(dns)),
    )
    .await
    .unwrap();
    let mut req = request("OPTIONS", bob.legs()[0].local_addr());
    req.set_uri("sip:bob@example.test;transport=udp".parse().unwrap());
    let started = tokio::time::Instant::now();
    let resp = alice.request(req, DeliverOptions::new()).await.unwrap();
    assert_eq!(resp.status(), 200);
    // Timer F on the first target: 64·T1 of simulated time.
    assert!(
        started.elapsed() >= Duration::from_secs(32),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_503_moves_on_to_the_next_target() {
    let busy = dispatcher("udp:127.0.0.1:0").await;
    answering(&busy, 503);
    let bob = dispatcher("udp:127.0.0.1:0").await;
    answering(&bob, 200);
    let dns = StaticResolver::new()
        .srv(
            "_sip._udp.example.test",
            [
                sip_dispatch::resolve::Srv::new(
                    10,
                    0,
                    busy.legs()[0].local_addr().port(),
                    "a.example.test",
                ),
                sip_dispatch::resolve::Srv::new(
                    20,
                    0,
                    bob.legs()[0].local_addr().port(),
                    "a.example.test",
                ),
            ],
        )
        .ip(
            "a.example.test",
            ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()],
        );
    let alice = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        config().resolver(Arc::new(dns)),
    )
    .await
    .unwrap();
    let mut req = request("OPTIONS", bob.legs()[0].local_addr());
    req.set_uri("sip:bob@example.test;transport=udp".parse().unwrap());
    assert_eq!(
        alice
            .request(req, DeliverOptions::new())
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn raw_exchange(to: SocketAddr, raw: &str) -> String {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let raw = raw.replace("PORT", &sock.local_addr().unwrap().port().to_string());
    sock.send_to(raw.as_bytes(), to).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn malformed_requests_get_400_or_505_with_a_reason() {
    let bob = dispatcher("udp:127.0.0.1:0").await;
    let seen = answering(&bob, 200);
    let to = bob.legs()[0].local_addr();
    let bad_from = "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bK1\r\n\
        From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\r\nTo: <sip:bob@example.com>\r\n\
        Call-ID: bad1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let answer = raw_exchange(to, bad_from).await;
    assert!(answer.starts_with("SIP/2.0 400 "), "{answer}");
    assert!(
        answer.contains("From"),
        "the reason names the header: {answer}"
    );
    let bad_version = "OPTIONS sip:bob@example.com SIP/7.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bK2\r\n\
        From: <sip:a@example.com>;tag=43\r\nTo: <sip:bob@example.com>\r\nCall-ID: bad2\r\nCSeq: 1 OPTIONS\r\n\r\n";
    let answer = raw_exchange(to, bad_version).await;
    assert!(answer.starts_with("SIP/2.0 505 "), "{answer}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing malformed reaches the receiver"
    );
}

#[tokio::test]
async fn unhandled_requests_get_501() {
    let bob = dispatcher("udp:127.0.0.1:0").await;
    bob.set_receiver(Arc::new(|_: &Message, _: &Leg, _: SocketAddr| false));
    let alice = dispatcher("udp:127.0.0.1:0").await;
    let resp = alice
        .request(
            request("SUBSCRIBE", bob.legs()[0].local_addr()),
            DeliverOptions::new().dst(target(&bob)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 501);
}

#[tokio::test]
async fn receive_chain_filters_by_method() {
    let bob = dispatcher("udp:127.0.0.1:0").await;
    let d2 = bob.clone();
    let registrar: Arc<dyn Receiver> = Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        let Message::Request(r) = m else { return false };
        d2.deliver(
            Response::from_request(r, 200, Some("Registered")),
            DeliverOptions::new(),
        );
        true
    });
    let chain = ReceiveChain::new(vec![registrar]).with_methods(&[Method::Register]);
    bob.set_receiver(Arc::new(chain));
    let alice = dispatcher("udp:127.0.0.1:0").await;
    let to = bob.legs()[0].local_addr();
    let ok = alice
        .request(
            request("REGISTER", to),
            DeliverOptions::new().dst(target(&bob)),
        )
        .await
        .unwrap();
    assert_eq!((ok.status(), ok.reason()), (200, "Registered"));
    let other = alice
        .request(
            request("OPTIONS", to),
            DeliverOptions::new().dst(target(&bob)),
        )
        .await
        .unwrap();
    assert_eq!(other.status(), 501, "the chain did not take OPTIONS");
}

#[tokio::test]
async fn cancel_gets_the_invite_a_487_and_the_487_is_acked() {
    let bob = dispatcher("udp:127.0.0.1:0").await;
    let d2 = bob.clone();
    let invites: Arc<Mutex<Vec<Request>>> = Arc::default();
    let acks = Arc::new(Mutex::new(0));
    let (inv, ack_count) = (invites.clone(), acks.clone());
    bob.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        let Message::Request(r) = m else { return false };
        match r.method() {
            Method::Invite => {
                let mut ringing = Response::from_request(r, 180, None);
                ringing.set_to_tag("b1").unwrap();
                d2.deliver(ringing, DeliverOptions::new());
                inv.lock().unwrap().push(r.clone());
            }
            Method::Cancel => {
                d2.deliver(Response::from_request(r, 200, None), DeliverOptions::new());
                let invite = inv.lock().unwrap()[0].clone();
                let mut terminated = Response::from_request(&invite, 487, None);
                terminated.set_to_tag("b1").unwrap();
                d2.deliver(terminated, DeliverOptions::new());
            }
            Method::Ack => *ack_count.lock().unwrap() += 1,
            _ => return false,
        }
        true
    }));
    let alice = dispatcher("udp:127.0.0.1:0").await;
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let invite = alice.deliver(
        request("INVITE", bob.legs()[0].local_addr()),
        DeliverOptions::new().dst(target(&bob)).callback(move |e| {
            let _ = events_tx.send(e);
        }),
    );
    let trying = events.recv().await.unwrap();
    assert!(
        matches!(trying, DeliveryEvent::Response(ref r) if r.status() == 100),
        "the dispatcher sends 100 at once: {trying:?}"
    );
    let first = events.recv().await.unwrap();
    assert!(
        matches!(first, DeliveryEvent::Response(ref r) if r.status() == 180),
        "{first:?}"
    );
    let cancel = alice.request_cancel_for_test(invite).await;
    assert_eq!(cancel.status(), 200);
    let last = events.recv().await.unwrap();
    assert!(
        matches!(last, DeliveryEvent::Response(ref r) if r.status() == 487),
        "{last:?}"
    );
    // The transaction ACKs the 487; Bob's ACK goes nowhere but his transaction.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        *acks.lock().unwrap(),
        0,
        "the ACK for a non-2xx stays in the transaction layer"
    );
}

trait CancelForTest {
    async fn request_cancel_for_test(&self, invite: sip_dispatch::DeliveryId) -> Response;
}

impl CancelForTest for Dispatcher {
    async fn request_cancel_for_test(&self, invite: sip_dispatch::DeliveryId) -> Response {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut tx = Some(tx);
        self.cancel_invite(
            invite,
            DeliverOptions::new().callback(move |e| {
                if let (DeliveryEvent::Response(r), Some(tx)) = (e, tx.take()) {
                    let _ = tx.send(r);
                }
            }),
        );
        rx.await.unwrap()
    }
}

#[tokio::test]
async fn protocol_of_the_leg_decides_which_leg_sends() {
    let bob = Dispatcher::new(
        vec![
            LegConfig::new("udp:127.0.0.1:0".parse().unwrap()),
            LegConfig::new("tcp:127.0.0.1:0".parse().unwrap()),
        ],
        config(),
    )
    .await
    .unwrap();
    let seen = answering(&bob, 200);
    let alice = Dispatcher::new(
        vec![
            LegConfig::new("udp:127.0.0.1:0".parse().unwrap()),
            LegConfig::new("tcp:127.0.0.1:0".parse().unwrap()),
        ],
        config(),
    )
    .await
    .unwrap();
    let tcp = bob.legs()[1].local_addr();
    let resp = alice
        .request(
            request("OPTIONS", tcp),
            DeliverOptions::new().dst(Target::new(Protocol::Tcp, tcp, None)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let via = seen.lock().unwrap()[0].headers().top_via().unwrap();
    assert_eq!(via.transport().as_str(), "TCP");
}

#[tokio::test]
async fn stateless_mode_passes_every_retransmission_to_the_receiver() {
    let proxy = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        config().do_retransmits(false),
    )
    .await
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    proxy.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        let _ = tx.send(m.clone());
        true
    }));
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let raw = format!(
        "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKsame\r\n\
         From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: st1\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        sock.local_addr().unwrap()
    );
    for _ in 0..2 {
        sock.send_to(raw.as_bytes(), proxy.legs()[0].local_addr())
            .await
            .unwrap();
    }
    for _ in 0..2 {
        let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.headers().top_via().unwrap().branch(), Some("z9hG4bKsame"));
    }
}

/// A receiver that takes what it is given by value when `takes` says so, and counts how.
struct Taker {
    takes: bool,
    by_ref: std::sync::atomic::AtomicUsize,
    owned: Mutex<Vec<Message>>,
}

impl Receiver for Taker {
    fn receive(&self, _: &Message, _: &Leg, _: SocketAddr) -> bool {
        self.by_ref
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.takes
    }

    fn receive_owned(&self, packet: Message, _: &Leg, _: SocketAddr) -> Option<Message> {
        if !self.takes {
            return Some(packet);
        }
        self.owned.lock().unwrap().push(packet);
        None
    }
}

#[tokio::test]
async fn a_chain_hands_the_message_itself_to_the_member_that_takes_it() {
    let d = dispatcher("udp:127.0.0.1:0").await;
    let leg = d.legs()[0].clone();
    let from: SocketAddr = "127.0.0.1:5999".parse().unwrap();
    let taker = |takes| {
        Arc::new(Taker {
            takes,
            by_ref: Default::default(),
            owned: Mutex::new(Vec::new()),
        })
    };
    let (no, yes) = (taker(false), taker(true));
    let seen = Arc::new(Mutex::new(0));
    let count = seen.clone();
    let by_ref: Arc<dyn Receiver> = Arc::new(move |_: &Message, _: &Leg, _: SocketAddr| {
        *count.lock().unwrap() += 1;
        false
    });
    let chain = ReceiveChain::new(vec![no.clone(), by_ref, yes.clone()]);
    let msg = Message::Request(request("OPTIONS", from));
    assert!(chain.receive_owned(msg.clone(), &leg, from).is_none());
    // Asked in order: the closure through `receive` (the default), the taker by value.
    assert_eq!(*seen.lock().unwrap(), 1);
    assert!(no.owned.lock().unwrap().is_empty());
    assert_eq!(yes.owned.lock().unwrap().len(), 1);
    assert_eq!(yes.by_ref.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(yes.owned.lock().unwrap()[0].to_bytes(), msg.to_bytes());

    // Nobody takes it: it comes back whole.
    let none = ReceiveChain::new(vec![no.clone()]);
    let back = none.receive_owned(msg.clone(), &leg, from).unwrap();
    assert_eq!(back.to_bytes(), msg.to_bytes());
    // Filtered out: the members are not asked.
    let filtered = ReceiveChain::new(vec![yes.clone()]).with_methods(&[Method::Register]);
    assert!(filtered.receive_owned(msg.clone(), &leg, from).is_some());
    assert_eq!(yes.owned.lock().unwrap().len(), 1);
    // `receive` still works on a reference.
    assert!(chain.receive(&msg, &leg, from));
    assert_eq!(yes.by_ref.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stateless_send_goes_once_with_our_via_or_fails_without_a_leg() {
    let proxy = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        config().do_retransmits(false),
    )
    .await
    .unwrap();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = sock.local_addr().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let events = tx.clone();
    proxy.deliver(
        request("OPTIONS", to),
        DeliverOptions::new()
            .dst(Target::new(Protocol::Udp, to, None))
            .callback(move |e| {
                let _ = events.send(format!("{e:?}"));
            }),
    );
    let mut buf = vec![0u8; 4096];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, proxy.legs()[0].local_addr());
    let Message::Request(sent) = Message::parse(buf[..n].to_vec().into()).unwrap() else {
        panic!("a request was sent");
    };
    let via = sent.headers().top_via().unwrap();
    assert!(via.has_rfc3261_branch());
    assert_eq!(via.port(), Some(from.port()));
    assert_eq!(sent.headers().count("Via"), 1);

    // No leg speaks TCP: the delivery fails, and says so to its callback.
    proxy.deliver(
        request("OPTIONS", to),
        DeliverOptions::new()
            .dst(Target::new(Protocol::Tcp, to, None))
            .callback(move |e| {
                let _ = tx.send(format!("{e:?}"));
            }),
    );
    let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        event.starts_with("Failed(") && event.contains(&format!("tcp:{to}")),
        "{event}"
    );
}

#[tokio::test]
async fn stateless_mode_checks_only_the_headers_a_proxy_relies_on() {
    let proxy = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        config().do_retransmits(false),
    )
    .await
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    proxy.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        let _ = tx.send(m.clone());
        true
    }));
    let to = proxy.legs()[0].local_addr();
    let head = "Via: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKess\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n";

    // RFC 3261 §16.3 item 1: a header the proxy does not use is not its business; the
    // request goes on with it as it came.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port().to_string();
    let odd = format!(
        "INVITE sip:bob@example.com SIP/2.0\r\n{head}Call-ID: ess1\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:broken\r\nContent-Type: not a media type\r\nExpires: soon\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    .replace("PORT", &port);
    sock.send_to(odd.as_bytes(), to).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.headers().call_id().unwrap(), "ess1");
    assert_eq!(m.headers().get("Contact"), Some("<sip:broken"));
    assert_eq!(m.headers().get("Expires"), Some("soon"));
    assert!(m.headers().contacts().next().unwrap().is_err());

    // The headers it routes and matches by must still parse: 400 naming the header, and
    // the receiver never sees the request.
    for (i, (header, broken)) in [
        (
            "CSeq",
            "Call-ID: ess2\r\nCSeq: one INVITE\r\nMax-Forwards: 70\r\n",
        ),
        (
            "Max-Forwards",
            "Call-ID: ess3\r\nCSeq: 1 INVITE\r\nMax-Forwards: many\r\n",
        ),
        (
            "Call-ID",
            "Call-ID: two words\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let raw = format!(
            "INVITE sip:bob@example.com SIP/2.0\r\n{head}{broken}Content-Length: 0\r\n\r\n"
        )
        .replace("z9hG4bKess", &format!("z9hG4bKess{i}"));
        let answer = raw_exchange(to, &raw).await;
        assert!(answer.starts_with("SIP/2.0 400 "), "{header}: {answer}");
        assert!(answer.contains(header), "{header}: {answer}");
    }
    assert!(
        rx.try_recv().is_err(),
        "nothing malformed reached the receiver"
    );

    // A response, with no client transaction to match it, goes to the receiver as it is,
    // a Contact the proxy does not read included.
    let ringing = format!(
        "SIP/2.0 180 Ringing\r\n{head}Call-ID: ess1\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:broken\r\nContent-Length: 0\r\n\r\n"
    )
    .replace("PORT", &port);
    sock.send_to(ringing.as_bytes(), to).await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let Message::Response(r) = m else {
        panic!("not a response")
    };
    assert_eq!(r.status(), 180);
    assert_eq!(r.headers().get("Contact"), Some("<sip:broken"));
}

#[tokio::test]
async fn request_waits_past_provisional_responses_for_the_final_one() {
    let bob = dispatcher("tcp:127.0.0.1:0").await;
    answering(&bob, 486);
    let alice = dispatcher("tcp:127.0.0.1:0").await;
    let resp = alice
        .request(
            request("INVITE", bob.legs()[0].local_addr()),
            DeliverOptions::new().dst(target(&bob)),
        )
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        486,
        "the 100 Trying before it does not end the wait"
    );
}

/// RFC 3261 §18.2.2: a stateless answer to a request that came over TCP goes back over that
/// connection, not to a new one at the Via's sent-by (where nothing may listen).
#[tokio::test]
async fn stateless_answers_go_back_over_the_request_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Dispatcher::new(
        vec![LegConfig::new("tcp:127.0.0.1:0".parse().unwrap())],
        config().do_retransmits(false),
    )
    .await
    .unwrap();
    let answering = server.clone();
    server.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        if let Message::Request(r) = m {
            answering.deliver(Response::from_request(r, 200, None), DeliverOptions::new());
        }
        true
    }));
    // A sent-by where nothing listens: a port bound but never listened on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = closed.local_addr().unwrap();
    drop(closed);
    let mut client = tokio::net::TcpStream::connect(server.legs()[0].local_addr())
        .await
        .unwrap();
    let raw = format!(
        "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP {nowhere};branch=z9hG4bKconn1\r\n\
         From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: conn1\r\n\
         CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    client.write_all(raw.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed without an answer");
            got.extend_from_slice(&buf[..n]);
            if got.windows(4).any(|w| w == b"\r\n\r\n") {
                return String::from_utf8_lossy(&got).into_owned();
            }
        }
    })
    .await
    .expect("the answer comes back over the same connection");
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
    assert!(answer.contains("branch=z9hG4bKconn1"), "{answer}");
}
