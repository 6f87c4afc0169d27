//! TCP legs: framing, keep-alives, limits, reuse, idle connections.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_packet::{Message, ParseLimits};
use sip_transport::{
    response_target, stamp_received, ConnectionId, Destination, InboundItem, Protocol,
    ResponseTarget, TransportError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

/// Reads until EOF or error; gives what came, failing when the connection stays open.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Err(_) => panic!("connection still open; read so far {got:?}"),
            Ok(Ok(0) | Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Leg to leg: a request opens a connection; the response goes back over it.
async fn round_trip(v6: bool) {
    let (a, mut from_a) = bind(config(Protocol::Tcp, v6)).await;
    let (b, mut from_b) = bind(config(Protocol::Tcp, v6)).await;

    let req = request_from(&a, b.local_addr(), 1);
    a.send(req.to_bytes(), &Destination::new(b.local_addr()))
        .await
        .unwrap();

    let (inbound, msg) = recv_message(&mut from_b).await;
    let conn = inbound.connection.expect("a connection id");
    assert_eq!(
        inbound.source.ip(),
        a.local_addr().ip(),
        "connects from the leg's own address"
    );
    let Message::Request(mut req) = msg else {
        panic!("not a request")
    };
    stamp_received(&mut req, inbound.source);
    let via = req.headers().top_via().unwrap();
    let target = response_target(&via, inbound.source, Protocol::Tcp, inbound.connection);
    let ResponseTarget::Connection {
        connection,
        fallback,
    } = target
    else {
        panic!("{target:?}")
    };
    assert_eq!(connection, conn);
    // RFC 3261 §18.2.2: received with the sent-by port, where a's leg listens.
    assert_eq!(*fallback, ResponseTarget::Addr(a.local_addr()));

    let dst = Destination::new(a.local_addr()).with_connection(connection);
    b.send(ok_for(&req).to_bytes(), &dst).await.unwrap();
    let (inbound, msg) = recv_message(&mut from_a).await;
    assert_eq!(inbound.source, b.local_addr());
    assert!(matches!(msg, Message::Response(r) if r.status() == 200));
    assert_eq!(a.connection_count(), 1);
    assert_eq!(
        b.connection_count(),
        1,
        "the response went over the request's connection"
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
async fn message_written_byte_by_byte_is_reassembled() {
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    client.set_nodelay(true).unwrap();
    let text = request_text(
        Protocol::Tcp,
        client.local_addr().unwrap(),
        b.local_addr(),
        7,
    );
    for byte in text.as_bytes() {
        client.write_all(std::slice::from_ref(byte)).await.unwrap();
        client.flush().await.unwrap();
        tokio::task::yield_now().await;
    }
    let (inbound, msg) = recv_message(&mut from_b).await;
    assert_eq!(inbound.source, client.local_addr().unwrap());
    assert!(inbound.connection.is_some());
    assert_eq!(cseq(&msg), 7);
    assert_eq!(msg.to_bytes(), Bytes::from(text));
}

#[tokio::test]
async fn many_messages_in_one_write_come_out_in_order() {
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    let from = client.local_addr().unwrap();
    let mut all = String::new();
    for n in 1..=20 {
        all.push_str(&request_text(Protocol::Tcp, from, b.local_addr(), n));
        if n % 5 == 0 {
            all.push_str("\r\n"); // a stray pong between messages changes nothing
        }
    }
    client.write_all(all.as_bytes()).await.unwrap();
    let mut connections = Vec::new();
    for n in 1..=20 {
        let (inbound, msg) = recv_message(&mut from_b).await;
        assert_eq!(cseq(&msg), n);
        connections.push(inbound.connection.unwrap());
    }
    connections.dedup();
    assert_eq!(connections.len(), 1);
}

#[tokio::test]
async fn crlf_ping_is_answered_with_a_pong() {
    let (b, _from_b) = bind(config(Protocol::Tcp, false)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    client.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    tokio::time::timeout(PATIENCE, client.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&pong, b"\r\n");
}

#[tokio::test]
async fn unparseable_but_framed_message_is_reported_and_the_connection_stays() {
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    let junk = "NOT SIP AT ALL\r\nContent-Length: 3\r\n\r\nabc";
    client.write_all(junk.as_bytes()).await.unwrap();
    let inbound = recv(&mut from_b).await;
    let first = inbound.connection;
    match inbound.item {
        InboundItem::Malformed { raw, .. } => assert_eq!(raw, Bytes::from(junk)),
        other => panic!("expected malformed, got {other:?}"),
    }
    let text = request_text(
        Protocol::Tcp,
        client.local_addr().unwrap(),
        b.local_addr(),
        2,
    );
    client.write_all(text.as_bytes()).await.unwrap();
    let (inbound, _) = recv_message(&mut from_b).await;
    assert_eq!(inbound.connection, first);
}

#[tokio::test]
async fn oversized_message_closes_the_connection_with_a_warning() {
    let (logs, _guard) = Logs::capture();
    let limits = ParseLimits::default()
        .with_max_head(1024)
        .with_max_body(1024);
    let (b, _from_b) = bind(config(Protocol::Tcp, false).limits(limits)).await;

    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    let from = client.local_addr().unwrap();
    let head = "MESSAGE sip:b@127.0.0.1 SIP/2.0\r\nContent-Length: 100000\r\n\r\n";
    client.write_all(head.as_bytes()).await.unwrap();
    assert!(read_to_close(&mut client).await.is_empty());
    let line = logs
        .wait_for(&["WARN", &from.to_string(), "Content-Length 100000"])
        .await;
    assert!(line.contains(&b.transport_addr().to_string()), "{line}");

    // A header section that never ends.
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    let from = client.local_addr().unwrap();
    let _ = client.write_all(&[b'a'; 4096]).await;
    assert!(read_to_close(&mut client).await.is_empty());
    logs.wait_for(&["WARN", &from.to_string(), "header section larger than"])
        .await;
}

#[tokio::test]
async fn half_sent_message_is_dropped_with_a_warning() {
    let (logs, _guard) = Logs::capture();
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    let from = client.local_addr().unwrap();
    let text = request_text(Protocol::Tcp, from, b.local_addr(), 1);
    let half = &text.as_bytes()[..40];
    client.write_all(half).await.unwrap();
    client.shutdown().await.unwrap();
    logs.wait_for(&["WARN", &from.to_string(), "dropped 40 bytes"])
        .await;
    assert!(from_b.try_recv().is_err(), "nothing delivered");
}

#[tokio::test]
async fn requests_to_one_peer_share_a_connection_and_responses_use_it() {
    let (a, mut from_a) = bind(config(Protocol::Tcp, false)).await;
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    let to_b = Destination::new(b.local_addr());
    // Two sends at once to a peer not yet connected: one connection.
    let (r1, r2) = tokio::join!(
        a.send(request_from(&a, b.local_addr(), 1).to_bytes(), &to_b),
        a.send(request_from(&a, b.local_addr(), 2).to_bytes(), &to_b),
    );
    r1.unwrap();
    r2.unwrap();
    let (first, _) = recv_message(&mut from_b).await;
    let (second, _) = recv_message(&mut from_b).await;
    assert_eq!(first.connection, second.connection);
    a.send(request_from(&a, b.local_addr(), 3).to_bytes(), &to_b)
        .await
        .unwrap();
    let (third, _) = recv_message(&mut from_b).await;
    assert_eq!(third.connection, first.connection);
    assert_eq!(a.connection_count(), 1);

    // Responses: by connection id, and by the source address alone.
    let back = Destination::new(first.source).with_connection(first.connection.unwrap());
    b.send(Bytes::from_static(b"\r\n\r\n"), &back)
        .await
        .unwrap();
    b.send(request_from(&b, first.source, 4).to_bytes(), &back)
        .await
        .unwrap();
    b.send(
        request_from(&b, first.source, 5).to_bytes(),
        &Destination::new(first.source),
    )
    .await
    .unwrap();
    let (got4, m4) = recv_message(&mut from_a).await;
    let (got5, m5) = recv_message(&mut from_a).await;
    assert_eq!((cseq(&m4), cseq(&m5)), (4, 5));
    assert_eq!(got4.connection, got5.connection);
    assert_eq!(got4.source, b.local_addr());
    assert_eq!((a.connection_count(), b.connection_count()), (1, 1));
}

#[tokio::test]
async fn a_closed_connection_falls_back_to_the_address() {
    let (a, _from_a) = bind(config(Protocol::Tcp, false)).await;
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    let gone = Destination::new(b.local_addr()).with_connection(ConnectionId::from_raw(u64::MAX));
    a.send(request_from(&a, b.local_addr(), 1).to_bytes(), &gone)
        .await
        .unwrap();
    let (inbound, _) = recv_message(&mut from_b).await;
    assert!(inbound.connection.is_some());
}

#[tokio::test]
async fn connect_failures_name_the_peer() {
    let (a, _from_a) = bind(config(Protocol::Tcp, false)).await;
    let nobody: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = a
        .send(Bytes::from_static(b"x"), &Destination::new(nobody))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransportError::Connect { peer, .. } if peer == nobody),
        "{e}"
    );
    assert!(e.to_string().contains(&nobody.to_string()), "{e}");
    assert_eq!(a.connection_count(), 0);
}

#[tokio::test]
async fn idle_connections_close_and_traffic_keeps_them_open() {
    let idle = Duration::from_millis(300);
    let (b, _from_b) = bind(config(Protocol::Tcp, false).idle_timeout(idle)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    // A ping every 50 ms for 400 ms: never idle for 300 ms, though open longer.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        client.write_all(b"\r\n\r\n").await.unwrap();
        let mut pong = [0u8; 2];
        tokio::time::timeout(PATIENCE, client.read_exact(&mut pong))
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(b.connection_count(), 1);
    // The pong just read was the last traffic.
    let quiet_since = tokio::time::Instant::now();
    assert!(read_to_close(&mut client).await.is_empty());
    let waited = quiet_since.elapsed();
    assert!(
        waited >= idle - Duration::from_millis(20),
        "closed after {waited:?}"
    );
    assert_eq!(b.connection_count(), 0);
}

#[tokio::test]
async fn connection_limit_closes_new_inbound_and_refuses_outbound() {
    let (logs, _guard) = Logs::capture();
    let (b, mut from_b) = bind(config(Protocol::Tcp, false).max_connections(1)).await;
    let (c, _from_c) = bind(config(Protocol::Tcp, false)).await;

    let mut first = TcpStream::connect(b.local_addr()).await.unwrap();
    let text = request_text(
        Protocol::Tcp,
        first.local_addr().unwrap(),
        b.local_addr(),
        1,
    );
    first.write_all(text.as_bytes()).await.unwrap();
    recv_message(&mut from_b).await;

    let mut second = TcpStream::connect(b.local_addr()).await.unwrap();
    let from = second.local_addr().unwrap();
    assert!(read_to_close(&mut second).await.is_empty());
    logs.wait_for(&["WARN", "connection limit of 1", &from.to_string()])
        .await;

    let e = b
        .send(Bytes::from_static(b"x"), &Destination::new(c.local_addr()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransportError::ConnectionLimit { limit: 1, .. }),
        "{e}"
    );
    // The first connection is still served.
    first.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    tokio::time::timeout(PATIENCE, first.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_peer_that_does_not_read_fills_its_queue_without_blocking_others() {
    let (a, _from_a) = bind(config(Protocol::Tcp, false).send_queue(2)).await;
    let (b, mut from_b) = bind(config(Protocol::Tcp, false)).await;
    // A peer that accepts and never reads.
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_addr = sink.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let (s, _) = sink.accept().await.unwrap();
        tokio::time::sleep(PATIENCE).await;
        drop(s);
    });
    let big = Bytes::from(vec![b'x'; 256 * 1024]);
    let mut full = None;
    for _ in 0..2000 {
        match a.send(big.clone(), &Destination::new(sink_addr)).await {
            Ok(()) => tokio::task::yield_now().await,
            Err(e) => {
                full = Some(e);
                break;
            }
        }
    }
    let e = full.expect("the queue never filled");
    assert!(
        matches!(e, TransportError::QueueFull { capacity: 2, .. }),
        "{e}"
    );
    // Meanwhile another peer is served at once.
    a.send(
        request_from(&a, b.local_addr(), 1).to_bytes(),
        &Destination::new(b.local_addr()),
    )
    .await
    .unwrap();
    recv_message(&mut from_b).await;
    holder.abort();
}

#[tokio::test]
async fn close_stops_accepting_and_closes_connections() {
    let (b, _from_b) = bind(config(Protocol::Tcp, false)).await;
    let mut client = TcpStream::connect(b.local_addr()).await.unwrap();
    client.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    client.read_exact(&mut pong).await.unwrap();
    b.close();
    assert!(read_to_close(&mut client).await.is_empty());
    let e = b
        .send(
            Bytes::from_static(b"x"),
            &Destination::new(client.local_addr().unwrap()),
        )
        .await;
    assert!(matches!(e, Err(TransportError::LegClosed { .. })));
}
