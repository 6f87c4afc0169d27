//! A call through a real proxy with the NAT helper, on 127.0.0.1: the INVITE's and the 200's
//! SDP name the relay, RTP and RTCP flow through it both ways, BYE closes the session. Once
//! with the helper in the proxy, once with it behind the control protocol.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_packet::Message;
use sip_sdp::SessionDescription;
use sip_transport::LegConfig;
use tokio::net::UdpSocket;

use crate::nat::ports::bind_run;
use crate::nat::{
    LocalNatHelper, NatConfig, NatControlServer, NatHelper, PortRange, RemoteNatHelper,
};
use crate::{ProxyConfig, StatelessProxy};

/// One party: a SIP socket and RTP and RTCP sockets on consecutive ports.
struct Party {
    sip: UdpSocket,
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

impl Party {
    async fn new() -> Self {
        let run = bind_run(
            "127.0.0.1".parse().unwrap(),
            2,
            PortRange::new(20000, 29999).unwrap(),
        )
        .unwrap();
        let mut s = run.sockets.into_iter();
        Self {
            sip: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            rtp: UdpSocket::from_std(s.next().unwrap()).unwrap(),
            rtcp: UdpSocket::from_std(s.next().unwrap()).unwrap(),
        }
    }

    fn sip_addr(&self) -> SocketAddr {
        self.sip.local_addr().unwrap()
    }

    fn sdp(&self, user: &str) -> String {
        let rtp = self.rtp.local_addr().unwrap();
        format!(
            "v=0\r\no={user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            rtp.port()
        )
    }

    async fn recv_sip(&self) -> Message {
        let mut buf = vec![0u8; 65536];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), self.sip.recv_from(&mut buf))
            .await
            .expect("a SIP message within 5 s")
            .unwrap();
        buf.truncate(n);
        Message::parse(buf.into()).unwrap()
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

/// The one audio stream's address in a message's SDP.
fn media_of(m: &Message) -> SocketAddr {
    let sdp = SessionDescription::parse(m.body()).unwrap();
    sdp.media_info()[0].socket_addr().unwrap()
}

fn sip_text(
    first: &str,
    via: SocketAddr,
    branch: &str,
    tags: (&str, &str),
    cseq: &str,
    body: &str,
) -> String {
    let (from_tag, to_tag) = tags;
    let to_tag = if to_tag.is_empty() {
        String::new()
    } else {
        format!(";tag={to_tag}")
    };
    let content = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".to_owned()
    };
    format!(
        "{first}\r\nVia: SIP/2.0/UDP {via};branch={branch};rport\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag={from_tag}\r\nTo: <sip:bob@example.com>{to_tag}\r\n\
         Call-ID: nat-net-1\r\nCSeq: {cseq}\r\n{content}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A call between alice and bob through a proxy using `helper`; the relay ports are in
/// `ports`.
async fn call_through(helper: Arc<dyn NatHelper>, ports: PortRange) {
    let proxy = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        DispatcherConfig::default().do_retransmits(false),
    )
    .await
    .unwrap();
    let p = StatelessProxy::new(proxy.clone(), ProxyConfig::new().nat(helper.clone()));
    proxy.set_receiver(Arc::new(p));
    let proxy_addr = proxy.legs()[0].local_addr();
    let (alice, bob) = (Party::new().await, Party::new().await);
    let in_range = |a: SocketAddr| (ports.first()..=ports.last()).contains(&a.port());

    // INVITE with alice's offer: bob sees the relay, not alice.
    let invite = sip_text(
        &format!("INVITE sip:bob@{} SIP/2.0", bob.sip_addr()),
        alice.sip_addr(),
        "z9hG4bKnat-inv",
        ("a1", ""),
        "1 INVITE",
        &alice.sdp("alice"),
    );
    alice
        .sip
        .send_to(invite.as_bytes(), proxy_addr)
        .await
        .unwrap();
    let Message::Request(got) = bob.recv_sip().await else {
        panic!("expected the INVITE")
    };
    let for_bob = media_of(&Message::Request(got.clone()));
    assert_ne!(for_bob, alice.rtp.local_addr().unwrap());
    assert!(in_range(for_bob), "{for_bob}");

    // The 200 with bob's answer: alice sees the relay, not bob.
    let mut ok = sip_packet::Response::from_request(&got, 200, None);
    ok.set_to_tag("b1").unwrap();
    ok.set_body(Some("application/sdp"), bob.sdp("bob"));
    bob.sip.send_to(&ok.to_bytes(), proxy_addr).await.unwrap();
    let answer = alice.recv_sip().await;
    assert!(matches!(&answer, Message::Response(r) if r.status() == 200));
    let for_alice = media_of(&answer);
    assert_ne!(for_alice, bob.rtp.local_addr().unwrap());
    assert!(in_range(for_alice), "{for_alice}");
    assert_eq!(
        helper.stats().await.unwrap().sessions,
        1,
        "active on the 200"
    );

    let ack = sip_text(
        &format!("ACK sip:bob@{} SIP/2.0", bob.sip_addr()),
        alice.sip_addr(),
        "z9hG4bKnat-ack",
        ("a1", "b1"),
        "1 ACK",
        "",
    );
    alice.sip.send_to(ack.as_bytes(), proxy_addr).await.unwrap();
    assert!(matches!(bob.recv_sip().await, Message::Request(r) if r.method().as_str() == "ACK"));

    // RTP both ways through the relay, and RTCP on the next ports.
    alice.rtp.send_to(b"rtp-a", for_alice).await.unwrap();
    let (data, from) = recv(&bob.rtp).await;
    assert_eq!((data.as_slice(), from), (&b"rtp-a"[..], for_bob));
    bob.rtp.send_to(b"rtp-b", from).await.unwrap();
    let (data, from) = recv(&alice.rtp).await;
    assert_eq!((data.as_slice(), from), (&b"rtp-b"[..], for_alice));
    let rtcp = |a: SocketAddr| SocketAddr::new(a.ip(), a.port() + 1);
    alice
        .rtcp
        .send_to(b"rtcp-a", rtcp(for_alice))
        .await
        .unwrap();
    let (data, from) = recv(&bob.rtcp).await;
    assert_eq!((data.as_slice(), from), (&b"rtcp-a"[..], rtcp(for_bob)));

    // Bob hangs up: the session closes (still relaying for a second).
    let bye = format!(
        "BYE sip:alice@{alice} SIP/2.0\r\nVia: SIP/2.0/UDP {bob};branch=z9hG4bKnat-bye;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=b1\r\n\
         To: <sip:alice@example.com>;tag=a1\r\nCall-ID: nat-net-1\r\nCSeq: 1 BYE\r\n\
         Content-Length: 0\r\n\r\n",
        alice = alice.sip_addr(),
        bob = bob.sip_addr(),
    );
    bob.sip.send_to(bye.as_bytes(), proxy_addr).await.unwrap();
    assert!(matches!(alice.recv_sip().await, Message::Request(r) if r.method().as_str() == "BYE"));
    let stats = helper.stats().await.unwrap();
    assert_eq!((stats.sessions, stats.closing), (0, 1));
    proxy.shutdown();
}

fn config(ports: PortRange) -> NatConfig {
    NatConfig::new().ports(ports)
}

#[tokio::test]
async fn a_call_through_the_proxy_with_its_own_relay() {
    let ports = PortRange::new(48000, 48999).unwrap();
    let helper = LocalNatHelper::start(config(ports)).unwrap();
    call_through(Arc::new(helper), ports).await;
}

#[tokio::test]
async fn a_call_through_the_proxy_with_a_relay_behind_the_control_protocol() {
    let ports = PortRange::new(49000, 49999).unwrap();
    let local = LocalNatHelper::start(config(ports)).unwrap();
    let server = NatControlServer::bind("127.0.0.1:0".parse().unwrap(), Arc::new(local))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run());
    call_through(Arc::new(RemoteNatHelper::new(addr)), ports).await;
}
