//! Two user agents calling each other over UDP on 127.0.0.1: audio sent and echoed back frame
//! by frame, hang-up from either side, rejection, several streams, ports given back.

mod util;

use sip_simple::{CallEvent, CallOptions, CallState, EndReason, ListenOptions, Media, Recorder};
use tokio::sync::mpsc;
use util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_call_returns_every_frame_in_order_and_gives_the_ports_back() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (calls_tx, mut calls) = mpsc::unbounded_channel();
    bob.listen(
        ListenOptions::new()
            .media(|_| Media::echo())
            .on_established(move |c| {
                let _ = calls_tx.send(c.clone());
            }),
    );
    const FRAMES: usize = 50;
    let (recorder, recording) = Recorder::memory();
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new().media(Media::send_recv(
                vec![numbered_audio(FRAMES)],
                Some(recorder),
            )),
        )
        .await
        .unwrap();
    let mut events = call.events();
    assert_eq!(call.state(), CallState::Established);
    let bob_call = next_call(&mut calls).await;
    assert_eq!(bob_call.call_id(), call.call_id());
    assert!(!bob_call.is_outgoing() && call.is_outgoing());
    // Both sides have the other's SDP.
    let peer = call.peer_sdp().unwrap();
    assert_eq!(
        peer.media_info()[0].socket_addr(),
        Some(bob_call.media_addrs()[0])
    );
    assert_eq!(
        bob_call.peer_sdp().unwrap().media_info()[0].socket_addr(),
        Some(call.media_addrs()[0])
    );
    assert_eq!(alice.rtp_ports_in_use(), 1);
    assert_eq!(bob.rtp_ports_in_use(), 1);

    let (_, before) = event(&mut events, |e| *e == CallEvent::MediaDone).await;
    assert_eq!(before, [CallEvent::Established]);
    // Every frame is back once the echo of the last one is.
    let sent = numbered_frames(FRAMES);
    eventually("the echo of the last frame", || {
        recording.frames().iter().any(|f| *f == sent[FRAMES - 1])
    })
    .await;
    call.hangup().await.unwrap();
    assert_eq!(call.ended().await, EndReason::LocalHangup);
    assert_eq!(bob_call.ended().await, EndReason::RemoteHangup);

    let got = recording.frames();
    let first = got.iter().position(|f| !is_silence(f)).unwrap();
    assert_eq!(got[first..first + FRAMES], sent[..], "frames differ");
    // What follows is the silence sent after the file.
    assert!(got[first + FRAMES..].iter().all(is_silence));
    let stats = call.stats();
    assert!(stats.packets_sent >= FRAMES as u64, "{stats:?}");
    assert!(stats.packets_received >= FRAMES as u64, "{stats:?}");
    assert_eq!(stats.packets_lost, 0, "{stats:?}");
    let bob_stats = bob_call.stats();
    assert!(bob_stats.packets_received >= FRAMES as u64);
    assert_eq!(bob_stats.packets_sent, bob_stats.packets_received);

    // The ports are back in the pools, and free for the OS too.
    assert_eq!(alice.rtp_ports_in_use(), 0);
    assert_eq!(bob.rtp_ports_in_use(), 0);
    for addr in call.media_addrs().into_iter().chain(bob_call.media_addrs()) {
        std::net::UdpSocket::bind(addr).unwrap();
    }
    assert!(alice.calls().is_empty() && bob.calls().is_empty());
    alice.shutdown().await;
    bob.shutdown().await;
}
