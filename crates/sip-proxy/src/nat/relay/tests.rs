//! The relay over real sockets on 127.0.0.1: RTP and RTCP both ways, latching, traffic
//! counts, and sockets closed when released.

use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::nat::allocate::{AllocateRequest, StreamRequest};
use crate::nat::config::{NatConfig, PortRange};
use crate::nat::key::{CloseRequest, PartyId, SessionKey, Side};
use crate::nat::ports::{bind_group, bind_run};
use crate::nat::sessions::NatSessions;

fn loopback() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// A party's RTP and RTCP sockets on consecutive ports.
struct Party {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl Party {
    fn new() -> Self {
        let run = bind_run(loopback(), 2, PortRange::new(20000, 29999).unwrap()).unwrap();
        let mut s = run.sockets.into_iter();
        let rtp = UdpSocket::from_std(s.next().unwrap()).unwrap();
        let rtcp = UdpSocket::from_std(s.next().unwrap()).unwrap();
        Self { rtp, rtcp }
    }

    fn rtp_addr(&self) -> SocketAddr {
        self.rtp.local_addr().unwrap()
    }
}

async fn recv(s: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 2048];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), s.recv_from(&mut buf))
        .await
        .expect("a packet within 5 s")
        .unwrap();
    buf.truncate(n);
    (buf, from)
}

/// A table and relay with alice's offer and bob's answer (one RTP stream each, to the SDP
/// addresses given) allocated, activated and applied: the relay addresses alice and bob got.
struct Call {
    table: NatSessions,
    relay: Relay,
    key: SessionKey,
    /// What bob got in the offer (where he sends).
    for_bob: SocketAddr,
    /// What alice got in the answer.
    for_alice: SocketAddr,
}

impl Call {
    fn set_up(alice_sdp: SocketAddr, bob_sdp: SocketAddr) -> Self {
        let mut table = NatSessions::new(NatConfig::new());
        let mut relay = Relay::new(Handle::current());
        let key = SessionKey::new("relay-test", 1, PartyId::new("alice"), PartyId::new("bob"));
        let now = Instant::now();
        let ports = PortRange::new(30000, 39999).unwrap();
        let mut given = Vec::new();
        for (side, target) in [(Side::From, alice_sdp), (Side::To, bob_sdp)] {
            let request = AllocateRequest::new(
                key.clone(),
                side,
                loopback(),
                vec![StreamRequest::relay(Some(target), 2)],
            );
            let mut bound = None;
            let a = table
                .allocate(now, &request, |b| {
                    let streams = bind_group(b, ports)?;
                    let bases = streams.iter().map(|s| s.as_ref().map(|s| s.base)).collect();
                    bound = Some(relay.prepare(streams).unwrap());
                    Ok(bases)
                })
                .unwrap();
            relay.add_group(a.group.unwrap(), bound.unwrap());
            given.push(a.media[0].unwrap());
        }
        table.activate(now, &key).unwrap();
        while let Some(e) = table.poll_event() {
            relay.apply(e);
        }
        Self {
            table,
            relay,
            key,
            for_bob: given[0],
            for_alice: given[1],
        }
    }
}

fn next_port(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip(), a.port() + 1)
}

#[tokio::test]
async fn rtp_and_rtcp_go_through_the_relay_both_ways() {
    let (alice, bob) = (Party::new(), Party::new());
    let call = Call::set_up(alice.rtp_addr(), bob.rtp_addr());
    assert_eq!(call.relay.sessions(), 1);
    assert_eq!(call.relay.sockets(), 4);

    // Alice sends RTP to what the answer told her: it reaches bob's RTP socket from the
    // address bob was given in the offer.
    alice
        .rtp
        .send_to(b"rtp from alice", call.for_alice)
        .await
        .unwrap();
    let (data, from) = recv(&bob.rtp).await;
    assert_eq!(data, b"rtp from alice");
    assert_eq!(from, call.for_bob);
    // Bob answers to where it came from: alice gets it from her relay address.
    bob.rtp.send_to(b"rtp from bob", from).await.unwrap();
    let (data, from) = recv(&alice.rtp).await;
    assert_eq!(data, b"rtp from bob");
    assert_eq!(from, call.for_alice);

    // RTCP on the next ports, both ways.
    alice
        .rtcp
        .send_to(b"rtcp from alice", next_port(call.for_alice))
        .await
        .unwrap();
    let (data, from) = recv(&bob.rtcp).await;
    assert_eq!(data, b"rtcp from alice");
    assert_eq!(from, next_port(call.for_bob));
    bob.rtcp.send_to(b"rtcp from bob", from).await.unwrap();
    let (data, from) = recv(&alice.rtcp).await;
    assert_eq!(data, b"rtcp from bob");
    assert_eq!(from, next_port(call.for_alice));

    // Both directions were counted, on the group that received them.
    let mut table = call.table;
    for g in table.groups() {
        let (bytes, last) = call.relay.traffic(g).unwrap();
        table.handle_traffic(g, bytes, last);
    }
    let info = &table.sessions(Instant::now())[0];
    assert_eq!(
        info.bytes_from,
        (b"rtp from alice".len() + b"rtcp from alice".len()) as u64
    );
    assert_eq!(
        info.bytes_to,
        (b"rtp from bob".len() + b"rtcp from bob".len()) as u64
    );
}

#[tokio::test]
async fn the_relay_latches_onto_where_packets_come_from() {
    let alice = Party::new();
    // Bob's SDP names a socket he never uses (a private address behind his NAT); he sends
    // from another one.
    let bob_in_sdp = Party::new();
    let bob_real = Party::new();
    let call = Call::set_up(alice.rtp_addr(), bob_in_sdp.rtp_addr());

    // Before bob sends, alice's packets go to his SDP address.
    alice.rtp.send_to(b"first", call.for_alice).await.unwrap();
    assert_eq!(recv(&bob_in_sdp.rtp).await.0, b"first");
    // Bob sends from his real socket: it reaches alice, and from now on alice's packets go
    // to where bob's came from.
    bob_real.rtp.send_to(b"hello", call.for_bob).await.unwrap();
    assert_eq!(recv(&alice.rtp).await.0, b"hello");
    alice.rtp.send_to(b"second", call.for_alice).await.unwrap();
    let (data, from) = recv(&bob_real.rtp).await;
    assert_eq!(data, b"second");
    assert_eq!(from, call.for_bob);
    // A stranger sending to bob's relay port later does not take the stream over.
    let stranger = Party::new();
    stranger
        .rtp
        .send_to(b"intruder", call.for_bob)
        .await
        .unwrap();
    assert_eq!(
        recv(&alice.rtp).await.0,
        b"intruder",
        "forwarded, as Net::SIP does"
    );
    alice.rtp.send_to(b"third", call.for_alice).await.unwrap();
    assert_eq!(recv(&bob_real.rtp).await.0, b"third");
}

#[tokio::test]
async fn released_sockets_are_closed() {
    let (alice, bob) = (Party::new(), Party::new());
    let Call {
        mut table,
        mut relay,
        key,
        for_bob,
        for_alice,
    } = Call::set_up(alice.rtp_addr(), bob.rtp_addr());
    let t0 = Instant::now();
    let bye = CloseRequest::new("relay-test", None, key.from.clone(), key.to.clone());
    assert_eq!(table.close(t0, &bye).len(), 1);
    // Closed but within the closed timeout: still relaying.
    alice.rtp.send_to(b"late", for_alice).await.unwrap();
    assert_eq!(recv(&bob.rtp).await.0, b"late");
    table.handle_timeout(t0 + Duration::from_secs(1));
    while let Some(e) = table.poll_event() {
        relay.apply(e);
    }
    assert_eq!(relay.sessions(), 0);
    assert_eq!(relay.sockets(), 0);
    // The aborted tasks let go of their sockets once the runtime drops them: the ports can
    // be bound again.
    tokio::task::yield_now().await;
    for addr in [for_alice, for_bob, next_port(for_alice), next_port(for_bob)] {
        let mut rebound = None;
        for _ in 0..100 {
            match std::net::UdpSocket::bind(addr) {
                Ok(s) => {
                    rebound = Some(s);
                    break;
                }
                Err(_) => tokio::task::yield_now().await,
            }
        }
        assert!(rebound.is_some(), "{addr} still bound");
    }
}
