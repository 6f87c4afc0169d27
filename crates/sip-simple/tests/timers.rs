//! The timers of a call on a paused clock: ring timeout with CANCEL and 487, hang-up after
//! silence from the peer, no hang-up on hold, early media before the answer, an INVITE
//! nobody answers. Nothing here sleeps in real time: tokio's clock jumps to the next timer
//! whenever every task waits.

mod util;

use std::time::Duration;

use sip_simple::{
    Answer, CallError, CallEvent, CallOptions, CallState, EndReason, ListenOptions, Media,
    Recorder, Simple,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use util::*;

/// A listener that reports each incoming call.
fn listen(bob: &Simple, options: ListenOptions) -> mpsc::UnboundedReceiver<sip_simple::Call> {
    let (tx, rx) = mpsc::unbounded_channel();
    bob.listen(options.on_new_call(move |c| {
        let _ = tx.send(c.call().clone());
        Answer::Accept
    }));
    rx
}

#[tokio::test(start_paused = true)]
async fn ring_timeout_cancels_and_the_callee_sees_the_cancel() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (tx, mut calls) = mpsc::unbounded_channel();
    bob.listen(ListenOptions::new().on_new_call(move |c| {
        let _ = tx.send(c.call().clone());
        Answer::Ring(Duration::from_secs(60))
    }));
    let start = Instant::now();
    let call = alice
        .call(
            &uri("bob", &bob),
            CallOptions::new().ring_timeout(Some(Duration::from_secs(5))),
        )
        .unwrap();
    let mut events = call.events();
    event(&mut events, |e| *e == CallEvent::Ringing).await;
    assert_eq!(call.state(), CallState::Ringing);
    assert_eq!(call.answered().await, Err(CallError::NoAnswer));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
    assert_eq!(call.ended().await, EndReason::NoAnswer);
    let bob_call = next_call(&mut calls).await;
    assert_eq!(bob_call.ended().await, EndReason::RemoteCancel);
    assert_eq!(alice.rtp_ports_in_use(), 0);
    assert_eq!(bob.rtp_ports_in_use(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_configured_ring_timeout_applies_and_hangup_before_the_answer_cancels() {
    let alice = Simple::new(config("alice").ring_timeout(Some(Duration::from_secs(3))))
        .await
        .unwrap();
    let bob = simple("bob").await;
    bob.listen(ListenOptions::new().on_new_call(|_| Answer::Ring(Duration::from_secs(60))));
    let e = alice
        .invite(&uri("bob", &bob), CallOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e, CallError::NoAnswer);
    // Hung up while ringing: CANCEL, and the call ends as ours.
    let call = alice
        .call(&uri("bob", &bob), CallOptions::new().ring_timeout(None))
        .unwrap();
    event(&mut call.events(), |e| *e == CallEvent::Ringing).await;
    call.hangup().await.unwrap();
    assert_eq!(call.ended().await, EndReason::LocalHangup);
    assert_eq!(call.answered().await, Err(CallError::Cancelled));
    // Dropping `invite` before the answer cancels too.
    let to = uri("bob", &bob);
    let pending = alice.invite(&to, CallOptions::new().ring_timeout(None));
    assert!(tokio::time::timeout(Duration::from_secs(1), pending)
        .await
        .is_err());
    eventually("the dropped invite's call over", || {
        alice.calls().is_empty()
    })
    .await;
    eventually("bob's calls over", || bob.calls().is_empty()).await;
}

#[tokio::test(start_paused = true)]
async fn silence_from_the_peer_hangs_up_after_the_rtp_timeout() {
    // Alice sends nothing and never times out herself.
    let alice = Simple::new(config("alice").no_rtp_timeout()).await.unwrap();
    let bob = Simple::new(config("bob").rtp_timeout(Duration::from_secs(10)))
        .await
        .unwrap();
    let mut calls = listen(&bob, ListenOptions::new().media(|_| Media::echo()));
    let start = Instant::now();
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new().media(Media::callback(|_| None)),
        )
        .await
        .unwrap();
    let bob_call = next_call(&mut calls).await;
    assert_eq!(bob_call.ended().await, EndReason::RtpTimeout);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
        "{waited:?}"
    );
    assert_eq!(call.ended().await, EndReason::RemoteHangup);
    assert_eq!(bob.rtp_ports_in_use(), 0);
}

#[tokio::test(start_paused = true)]
async fn hold_stops_the_peer_without_timing_out_and_resume_brings_it_back() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let mut calls = listen(&bob, ListenOptions::new().media(|_| Media::echo()));
    let call = alice
        .invite(&uri("bob", &bob), CallOptions::new().media(Media::probe()))
        .await
        .unwrap();
    let bob_call = next_call(&mut calls).await;
    let mut bob_events = bob_call.events();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(call.stats().probes.received > 0);

    call.hold().await.unwrap();
    assert!(call.is_on_hold());
    let (_, _) = event(&mut bob_events, |e| *e == CallEvent::RemoteHold(true)).await;
    // Bob answered recvonly: his echo stops; nobody hangs up for that.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let held = call.stats().packets_received;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(call.state(), CallState::Established);
    assert_eq!(bob_call.state(), CallState::Established);
    assert_eq!(call.stats().packets_received, held);
    assert!(bob_call.peer_sdp().unwrap().is_on_hold());

    call.resume().await.unwrap();
    assert!(!call.is_on_hold());
    event(&mut bob_events, |e| *e == CallEvent::RemoteHold(false)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(call.stats().packets_received > held + 10);
    let probes = call.stats().probes;
    assert!(probes.delay_max.is_some(), "{probes:?}");
    call.hangup().await.unwrap();
    assert_eq!(bob_call.ended().await, EndReason::RemoteHangup);
}

#[tokio::test(start_paused = true)]
async fn early_media_flows_before_the_answer() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    bob.listen(
        ListenOptions::new()
            .on_new_call(|_| Answer::EarlyMedia(Duration::from_secs(2)))
            .media(|_| Media::send_recv(vec![numbered_audio(500)], None)),
    );
    let (rec, recording) = Recorder::memory();
    let call = alice
        .call(
            &uri("bob", &bob),
            CallOptions::new()
                .early_media(true)
                .media(Media::silence().record(rec)),
        )
        .unwrap();
    let mut events = call.events();
    let (_, before) = event(&mut events, |e| *e == CallEvent::EarlyMedia).await;
    assert_eq!(before, [CallEvent::Ringing]);
    event(&mut events, |e| *e == CallEvent::Established).await;
    // About two seconds of announcement came before the 200.
    let early = recording.len();
    assert!(
        (90..=110).contains(&early),
        "{early} frames before the answer"
    );
    let frames = numbered_frames(500);
    assert_eq!(recording.frames()[..early], frames[..early]);
    call.hangup().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_early_media_a_183_starts_nothing() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    bob.listen(
        ListenOptions::new()
            .on_new_call(|_| Answer::EarlyMedia(Duration::from_secs(2)))
            .media(|_| Media::silence()),
    );
    let (rec, recording) = Recorder::memory();
    let call = alice
        .call(
            &uri("bob", &bob),
            CallOptions::new().media(Media::silence().record(rec)),
        )
        .unwrap();
    let mut events = call.events();
    let (_, before) = event(&mut events, |e| *e == CallEvent::Established).await;
    assert_eq!(before, [CallEvent::Ringing]);
    assert!(recording.len() <= 1, "{} frames early", recording.len());
    call.hangup().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_invite_nobody_answers_fails_after_timer_b() {
    let alice = simple("alice").await;
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let e = alice
        .invite(
            &format!("sip:nobody@{}", silent.local_addr().unwrap()),
            CallOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Failed { .. }), "{e}");
    assert!(
        start.elapsed() >= Duration::from_secs(32),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(alice.rtp_ports_in_use(), 0);
}
