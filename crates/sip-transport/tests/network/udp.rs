//! UDP legs.

use bytes::Bytes;
use sip_packet::Message;
use sip_transport::{
    response_target, stamp_received, Destination, InboundItem, Protocol, ResponseTarget,
    TransportError,
};

use crate::common::*;

/// A request with our Via and rport, stamped on receipt, answered where the Via says.
async fn round_trip(v6: bool) {
    let (a, mut from_a) = bind(config(Protocol::Udp, v6)).await;
    let (b, mut from_b) = bind(config(Protocol::Udp, v6)).await;
    assert_ne!(a.id(), b.id());

    let req = request_from(&a, b.local_addr(), 1);
    a.send(req.to_bytes(), &Destination::new(b.local_addr()))
        .await
        .unwrap();

    let (inbound, msg) = recv_message(&mut from_b).await;
    assert_eq!(inbound.leg, b);
    assert_eq!(inbound.source, a.local_addr());
    assert_eq!(inbound.connection, None);
    let Message::Request(mut req) = msg else {
        panic!("not a request")
    };
    stamp_received(&mut req, inbound.source);
    let via = req.headers().top_via().unwrap();
    assert_eq!(via.rport(), Some(Some(a.local_addr().port())));
    assert_eq!(
        via.received().and_then(|h| h.ip()),
        Some(a.local_addr().ip())
    );

    let target = response_target(&via, inbound.source, b.protocol(), inbound.connection);
    assert_eq!(target, ResponseTarget::Addr(a.local_addr()));
    let ResponseTarget::Addr(to) = target else {
        unreachable!()
    };
    b.send(ok_for(&req).to_bytes(), &Destination::new(to))
        .await
        .unwrap();

    let (inbound, msg) = recv_message(&mut from_a).await;
    assert_eq!(inbound.source, b.local_addr());
    let Message::Response(ok) = msg else {
        panic!("not a response")
    };
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers().top_via().unwrap().branch(),
        Some("z9hG4bKleg1")
    );
}

#[tokio::test]
async fn round_trip_v4() {
    round_trip(false).await;
}

#[tokio::test]
async fn round_trip_v6() {
    if ipv6() {
        round_trip(true).await;
    }
}

#[tokio::test]
async fn malformed_datagram_comes_with_its_bytes_and_keepalives_are_ignored() {
    let (b, mut from_b) = bind(config(Protocol::Udp, false)).await;
    let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    peer.send_to(b"\r\n\r\n", b.local_addr()).await.unwrap();
    peer.send_to(b"HELLO THERE\r\n\r\n", b.local_addr())
        .await
        .unwrap();
    let inbound = recv(&mut from_b).await;
    assert_eq!(inbound.source, peer.local_addr().unwrap());
    match inbound.item {
        InboundItem::Malformed { raw, .. } => {
            assert_eq!(raw, Bytes::from_static(b"HELLO THERE\r\n\r\n"))
        }
        other => panic!("expected malformed, got {other:?}"),
    }
}

#[tokio::test]
async fn other_family_is_refused() {
    let (a, _from_a) = bind(config(Protocol::Udp, false)).await;
    let v6: std::net::SocketAddr = "[::1]:5060".parse().unwrap();
    assert!(!a.can_deliver_to(Protocol::Udp, v6));
    assert!(!a.can_deliver_to(Protocol::Tcp, "127.0.0.1:5060".parse().unwrap()));
    assert!(a.can_deliver_to(Protocol::Udp, "127.0.0.1:5060".parse().unwrap()));
    let e = a
        .send(Bytes::from_static(b"x"), &Destination::new(v6))
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::ProtocolMismatch { .. }), "{e}");
    assert!(e.to_string().contains("[::1]:5060"), "{e}");
}

#[tokio::test]
async fn closed_leg_stops_reading_and_refuses_to_send() {
    let (a, _from_a) = bind(config(Protocol::Udp, false)).await;
    let (tx, mut from_b) = tokio::sync::mpsc::channel(8);
    let b = sip_transport::Leg::bind(config(Protocol::Udp, false), tx.clone())
        .await
        .unwrap();
    // Ours, the leg's, and its reader's.
    assert_eq!(tx.strong_count(), 3);
    b.close();
    assert!(b.is_closed());
    let e = b
        .send(Bytes::from_static(b"x"), &Destination::new(a.local_addr()))
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::LegClosed { .. }), "{e}");
    reader_stopped(&tx).await;
    let to = b.local_addr();
    a.send(
        Bytes::from(request_text(Protocol::Udp, a.local_addr(), to, 1)),
        &Destination::new(to),
    )
    .await
    .unwrap();
    drop(b);
    drop(tx);
    let got = tokio::time::timeout(PATIENCE, from_b.recv()).await.unwrap();
    assert!(got.is_none(), "delivered after close: {got:?}");
}

#[tokio::test]
async fn sent_by_defaults_to_the_bound_address_and_can_be_set() {
    let (a, _rx) = bind(config(Protocol::Udp, false)).await;
    let (host, port) = a.sent_by();
    assert_eq!(host.ip(), Some(a.local_addr().ip()));
    assert_eq!(port, a.local_addr().port());
    let host = sip_packet::Host::parse("pbx.example.com").unwrap();
    let (b, _rx) = bind(config(Protocol::Udp, false).sent_by(host.clone(), 5070)).await;
    assert_eq!(b.sent_by(), (host, 5070));
    assert_eq!(
        b.transport_addr().to_string(),
        format!("udp:{}", b.local_addr())
    );
}

#[tokio::test]
async fn bind_failure_names_the_address() {
    let (a, _rx) = bind(config(Protocol::Udp, false)).await;
    let (tx, _rx2) = tokio::sync::mpsc::channel(1);
    let taken = format!("udp:{}", a.local_addr());
    let e = sip_transport::Leg::bind(sip_transport::LegConfig::new(taken.parse().unwrap()), tx)
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Bind { .. }), "{e}");
    assert!(e.to_string().contains(&taken), "{e}");
}

/// A burst longer than one read turn, into a channel that holds only two: every datagram
/// comes out, once and in the order sent, whether the channel had room or had to be waited
/// on, and keep-alives in between are skipped.
#[tokio::test]
async fn a_burst_through_a_full_channel_loses_nothing_and_keeps_order() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let leg = sip_transport::Leg::bind(config(Protocol::Udp, false), tx)
        .await
        .unwrap();
    let (a, _from_a) = bind(config(Protocol::Udp, false)).await;
    const N: u32 = 150;
    for n in 1..=N {
        let req = request_from(&a, leg.local_addr(), n);
        a.send(req.to_bytes(), &Destination::new(leg.local_addr()))
            .await
            .unwrap();
        if n % 50 == 0 {
            a.send(
                Bytes::from_static(b"\r\n\r\n"),
                &Destination::new(leg.local_addr()),
            )
            .await
            .unwrap();
        }
    }
    for n in 1..=N {
        let (inbound, msg) = recv_message(&mut rx).await;
        assert_eq!(inbound.source, a.local_addr());
        assert_eq!(msg.headers().cseq().unwrap().seq(), n);
    }
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), rx.recv())
            .await
            .is_err(),
        "no more than was sent, keep-alives included"
    );
}

#[tokio::test]
async fn the_reader_stops_when_nobody_takes_what_it_reads() {
    let (tx, from_b) = tokio::sync::mpsc::channel(8);
    let b = sip_transport::Leg::bind(config(Protocol::Udp, false), tx.clone())
        .await
        .unwrap();
    // Ours, the leg's, and its reader's.
    assert_eq!(tx.strong_count(), 3);
    drop(from_b);
    reader_stopped(&tx).await;
    assert!(!b.is_closed(), "the leg itself stays open");
}

/// Waits until the leg's reader has let go of its sender (only ours and the leg's are left).
async fn reader_stopped<T>(tx: &tokio::sync::mpsc::Sender<T>) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tx.strong_count() > 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader did not stop"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}
