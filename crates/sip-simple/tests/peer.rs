//! Our user agent against a bare SIP endpoint and a plain UDP socket playing the peer's media,
//! so that what goes on the wire is checked by something that is not sip-simple: RTP
//! numbering, SSRC and pacing, hold with `c=0.0.0.0`, and CANCEL with its 487 both ways.

mod util;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::resolve::StaticResolver;
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{
    CallEvent as EpEvent, CallParams, Context, Endpoint, EndpointConfig, RequestOptions,
};
use sip_packet::{Method, Request, Response};
use sip_simple::media::RtpPacket;
use sip_simple::{Answer, CallEvent, CallOptions, EndReason, ListenOptions, Media};
use sip_transport::{Leg, LegConfig};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use util::*;

async fn endpoint() -> Endpoint {
    let d = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await
    .unwrap();
    Endpoint::new(d, EndpointConfig::default())
}

fn ep_uri(user: &str, ep: &Endpoint) -> String {
    format!("sip:{user}@{}", ep.dispatcher().legs()[0].local_addr())
}

fn sdp(ip: &str, port: u16) -> String {
    format!(
        "v=0\r\no=peer 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

/// The statuses a context's callback hears.
fn statuses() -> (RequestOptions, UnboundedReceiver<(u16, Method)>) {
    let (tx, rx) = unbounded_channel();
    let options = RequestOptions::new().callback(move |_: &Endpoint, _: &Context, ev: &EpEvent| {
        if let EpEvent::Response(r) = ev {
            let method = r.headers().cseq().unwrap().method().clone();
            let _ = tx.send((r.status(), method));
        }
    });
    (options, rx)
}

async fn until_status(rx: &mut UnboundedReceiver<(u16, Method)>, status: u16) {
    loop {
        let (s, _) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("timed out")
            .expect("closed");
        if s == status {
            return;
        }
    }
}

/// RTP packets read from `socket` for `ms` milliseconds.
async fn rtp_for(socket: &tokio::net::UdpSocket, ms: u64) -> Vec<(SocketAddr, RtpPacket)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let end = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Ok((n, from))) = tokio::time::timeout_at(end, socket.recv_from(&mut buf)).await {
        if let Ok(p) = RtpPacket::parse(&buf[..n]) {
            got.push((from, p));
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtp_on_the_wire_is_numbered_paced_and_stops_for_a_zero_address_hold() {
    let bob = simple("bob").await;
    let (tx, mut calls) = unbounded_channel();
    bob.listen(
        ListenOptions::new()
            .media(|_| Media::silence())
            .on_established(move |c| {
                let _ = tx.send(c.clone());
            }),
    );
    let media = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = media.local_addr().unwrap().port();
    let alice = endpoint().await;
    let (options, mut heard) = statuses();
    let ctx = alice
        .call(
            CallParams::parse(
                &format!("<{}>", ep_uri("alice", &alice)),
                &format!("<{}>", uri("bob", &bob)),
            )
            .unwrap(),
            options.body("application/sdp", sdp("127.0.0.1", port)),
        )
        .unwrap();
    until_status(&mut heard, 200).await;
    let bob_call = next_call(&mut calls).await;
    let ours = bob_call.media_addrs()[0];

    // A second of RTP: from our RTP port, one SSRC, sequence +1 and timestamp +160 each.
    let got = rtp_for(&media, 1000).await;
    assert!(
        (40..=55).contains(&got.len()),
        "{} packets in a second",
        got.len()
    );
    assert!(got
        .iter()
        .all(|(from, p)| *from == ours && p.payload_type == 0 && p.payload.len() == 160));
    let ssrc = got[0].1.ssrc;
    for w in got.windows(2) {
        let (a, b) = (&w[0].1, &w[1].1);
        assert_eq!(b.ssrc, ssrc);
        assert_eq!(b.sequence, a.sequence.wrapping_add(1));
        // A late tick skips timestamps, never goes back.
        let step = b.timestamp.wrapping_sub(a.timestamp);
        assert!(step >= 160 && step % 160 == 0, "timestamp step {step}");
    }

    // RFC 2543 hold: c=0.0.0.0. We answer, report it, and stop sending.
    let mut events = bob_call.events();
    alice
        .invite(
            &ctx,
            RequestOptions::new().body("application/sdp", sdp("0.0.0.0", port)),
        )
        .unwrap();
    until_status(&mut heard, 200).await;
    event(&mut events, |e| *e == CallEvent::RemoteHold(true)).await;
    rtp_for(&media, 100).await;
    assert!(
        rtp_for(&media, 300).await.is_empty(),
        "RTP sent to a held peer"
    );
    // Off hold: RTP again.
    alice
        .invite(
            &ctx,
            RequestOptions::new().body("application/sdp", sdp("127.0.0.1", port)),
        )
        .unwrap();
    until_status(&mut heard, 200).await;
    event(&mut events, |e| *e == CallEvent::RemoteHold(false)).await;
    assert!(!rtp_for(&media, 300).await.is_empty());
    alice
        .new_request(Method::Bye, &ctx, RequestOptions::new())
        .unwrap();
    assert_eq!(bob_call.ended().await, EndReason::RemoteHangup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_rtp_answers_where_the_peer_really_sends_from() {
    let bob = simple("bob").await;
    bob.listen(ListenOptions::new().media(|_| Media::echo()));
    // The SDP names one port; the peer (behind a NAT, say) sends from another.
    let announced = UdpSocket::bind("127.0.0.1:0").unwrap();
    let real = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let alice = endpoint().await;
    let (options, mut heard) = statuses();
    alice
        .call(
            CallParams::parse(
                &format!("<{}>", ep_uri("alice", &alice)),
                &format!("<{}>", uri("bob", &bob)),
            )
            .unwrap(),
            options.body(
                "application/sdp",
                sdp("127.0.0.1", announced.local_addr().unwrap().port()),
            ),
        )
        .unwrap();
    until_status(&mut heard, 200).await;
    let call = bob.calls().remove(0);
    let ours = call.media_addrs()[0];
    let packet = RtpPacket {
        payload_type: 0,
        marker: true,
        sequence: 1,
        timestamp: 0,
        ssrc: 42,
        csrc: Vec::new(),
        payload: bytes::Bytes::from(vec![7u8; 160]),
    };
    real.send_to(&packet.to_bytes(), ours).await.unwrap();
    let got = rtp_for(&real, 500).await;
    assert_eq!(got.len(), 1, "the echo comes back to the real source");
    assert_eq!(got[0].1.payload[..], [7u8; 160]);
    assert_ne!(got[0].1.ssrc, 42);
    call.hangup().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn cancel_and_487_both_ways() {
    // Our ring timeout against a bare callee that only rings: CANCEL, and its 487 ends it.
    let bob = endpoint().await;
    let (tx, mut seen) = unbounded_channel();
    bob.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _: SocketAddr| {
            let _ = tx.send((req.method().clone(), tokio::time::Instant::now()));
            if req.method() == &Method::Invite {
                ep.new_response(ctx, Response::from_request(req, 180, None), req)
                    .unwrap();
            }
            true
        },
    );
    let alice = simple("alice").await;
    let start = tokio::time::Instant::now();
    let e = alice
        .invite(
            &ep_uri("bob", &bob),
            CallOptions::new().ring_timeout(Some(Duration::from_secs(7))),
        )
        .await
        .unwrap_err();
    assert_eq!(e, sip_simple::CallError::NoAnswer);
    let (m, _) = seen.recv().await.unwrap();
    assert_eq!(m, Method::Invite);
    let (m, at) = seen.recv().await.unwrap();
    assert_eq!(m, Method::Cancel);
    assert!(at - start >= Duration::from_secs(7), "{:?}", at - start);

    // A bare caller cancels our ringing callee: it hears 487.
    let carol = simple("carol").await;
    carol.listen(ListenOptions::new().on_new_call(|_| Answer::Ring(Duration::from_secs(60))));
    let dave = endpoint().await;
    let (options, mut heard) = statuses();
    let ctx = dave
        .call(
            CallParams::parse(
                &format!("<{}>", ep_uri("dave", &dave)),
                &format!("<{}>", uri("carol", &carol)),
            )
            .unwrap(),
            options.body("application/sdp", sdp("127.0.0.1", 9)),
        )
        .unwrap();
    until_status(&mut heard, 180).await;
    let call = carol.calls().remove(0);
    assert!(dave.cancel_invite(&ctx));
    until_status(&mut heard, 487).await;
    assert_eq!(call.ended().await, EndReason::RemoteCancel);
    assert_eq!(carol.rtp_ports_in_use(), 0);
}
