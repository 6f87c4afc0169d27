//! TLS legs with certificates made at test time.

use std::time::Duration;

use bytes::Bytes;
use sip_packet::Message;
use sip_transport::{Destination, Protocol, TlsClientConfig, TlsServerConfig, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn server(pki: &Pki, v6: bool) -> sip_transport::LegConfig {
    let tls = TlsServerConfig::from_pem(pki.cert.as_bytes(), pki.key.as_bytes()).unwrap();
    config(Protocol::Tls, v6).tls_server(tls)
}

fn client(ca: &str, v6: bool) -> sip_transport::LegConfig {
    config(Protocol::Tls, v6).tls_client(TlsClientConfig::with_ca_pem(ca.as_bytes()).unwrap())
}

/// A request over TLS, verified against `server_name` (or the IP), answered over the same
/// connection.
async fn round_trip(v6: bool, server_name: Option<&str>) {
    let pki = Pki::new("netsip test CA");
    let (a, mut from_a) = bind(client(&pki.ca, v6)).await;
    let (b, mut from_b) = bind(server(&pki, v6)).await;

    let mut dst = Destination::new(b.local_addr());
    dst.server_name = server_name.map(str::to_owned);
    a.send(request_from(&a, b.local_addr(), 1).to_bytes(), &dst)
        .await
        .unwrap();
    let (inbound, msg) = recv_message(&mut from_b).await;
    let Message::Request(req) = msg else {
        panic!("not a request")
    };
    assert_eq!(req.headers().top_via().unwrap().transport().as_str(), "TLS");

    let back = Destination::new(inbound.source).with_connection(inbound.connection.unwrap());
    b.send(ok_for(&req).to_bytes(), &back).await.unwrap();
    let (got, msg) = recv_message(&mut from_a).await;
    assert_eq!(got.source, b.local_addr());
    assert!(matches!(msg, Message::Response(r) if r.status() == 200));
    assert_eq!((a.connection_count(), b.connection_count()), (1, 1));
}

#[tokio::test]
async fn round_trip_v4_by_name() {
    round_trip(false, Some("localhost")).await;
}

#[tokio::test]
async fn round_trip_v4_by_address() {
    round_trip(false, None).await;
}

#[tokio::test]
async fn round_trip_v6() {
    if ipv6() {
        round_trip(true, None).await;
    }
}

#[tokio::test]
async fn a_client_trusting_another_ca_fails_the_handshake() {
    let pki = Pki::new("netsip test CA");
    let other = Pki::new("some other CA");
    let (a, _from_a) = bind(client(&other.ca, false)).await;
    let (b, mut from_b) = bind(server(&pki, false)).await;
    let dst = Destination::new(b.local_addr()).with_server_name("localhost");
    let e = a
        .send(Bytes::from_static(b"\r\n\r\n"), &dst)
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransportError::TlsHandshake { peer, .. } if peer == b.local_addr()),
        "{e}"
    );
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    assert_eq!(a.connection_count(), 0);
    assert!(from_b.try_recv().is_err());
}

#[tokio::test]
async fn a_name_the_certificate_lacks_fails_the_handshake() {
    let pki = Pki::new("netsip test CA");
    let (a, _from_a) = bind(client(&pki.ca, false)).await;
    let (b, _from_b) = bind(server(&pki, false)).await;
    let dst = Destination::new(b.local_addr()).with_server_name("sip.example.com");
    let e = a
        .send(Bytes::from_static(b"\r\n\r\n"), &dst)
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::TlsHandshake { .. }), "{e}");
}

#[tokio::test]
async fn pem_files_load() {
    let pki = Pki::new("netsip test CA");
    let dir = std::env::temp_dir().join(format!("sip-transport-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key, ca) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("ca.pem"),
    );
    std::fs::write(&cert, &pki.cert).unwrap();
    std::fs::write(&key, &pki.key).unwrap();
    std::fs::write(&ca, &pki.ca).unwrap();
    let server_tls = TlsServerConfig::from_pem_files(&cert, &key);
    let client_tls = TlsClientConfig::with_ca_file(&ca);
    let swapped = TlsServerConfig::from_pem_files(&key, &cert);
    std::fs::remove_dir_all(&dir).unwrap();

    let (a, _from_a) = bind(config(Protocol::Tls, false).tls_client(client_tls.unwrap())).await;
    let (b, mut from_b) = bind(config(Protocol::Tls, false).tls_server(server_tls.unwrap())).await;
    a.send(
        request_from(&a, b.local_addr(), 1).to_bytes(),
        &Destination::new(b.local_addr()),
    )
    .await
    .unwrap();
    recv_message(&mut from_b).await;
    assert!(matches!(swapped, Err(TransportError::TlsConfig { .. })));
}

#[tokio::test]
async fn a_tls_leg_without_a_certificate_closes_inbound_connections() {
    let (b, _from_b) = bind(config(Protocol::Tls, false)).await;
    let mut client = tokio::net::TcpStream::connect(b.local_addr())
        .await
        .unwrap();
    let _ = client.write_all(b"\x16\x03\x01\x00\x05hello").await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(PATIENCE, client.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_server_that_never_answers_the_handshake_times_out() {
    let pki = Pki::new("netsip test CA");
    let timeout = Duration::from_millis(200);
    let (a, _from_a) = bind(client(&pki.ca, false).connect_timeout(timeout)).await;
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = mute.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let (s, _) = mute.accept().await.unwrap();
        tokio::time::sleep(PATIENCE).await;
        drop(s);
    });
    let started = tokio::time::Instant::now();
    let e = a
        .send(Bytes::from_static(b"\r\n\r\n"), &Destination::new(addr))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransportError::ConnectTimeout { peer, .. } if peer == addr),
        "{e}"
    );
    assert!(started.elapsed() < PATIENCE);
    assert_eq!(a.connection_count(), 0);
    holder.abort();
}

#[tokio::test]
async fn a_client_that_never_starts_the_handshake_is_closed() {
    let pki = Pki::new("netsip test CA");
    let timeout = Duration::from_millis(200);
    let (b, _from_b) = bind(server(&pki, false).connect_timeout(timeout)).await;
    let mut client = tokio::net::TcpStream::connect(b.local_addr())
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(PATIENCE, client.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        started.elapsed() >= timeout - Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
}
