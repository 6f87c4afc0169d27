//! Two user agents calling each other over UDP on 127.0.0.1: audio sent and echoed back frame
//! by frame, hang-up from either side, rejection, several streams, ports given back.

mod util;

use sip_simple::media::{AudioCodec, AudioFile, WavFormat, WavWriter};
use sip_simple::{
    Answer, CallError, CallEvent, CallOptions, CallState, EndReason, ListenOptions, Media, Recorder,
};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callee_hangs_up_and_hooks_hear_every_stage() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (tx, mut heard) = mpsc::unbounded_channel();
    let (t1, t2, t3) = (tx.clone(), tx.clone(), tx);
    bob.listen(
        ListenOptions::new()
            .on_new_call(move |c| {
                let _ = t1.send(format!(
                    "new from {}",
                    c.from().map(|f| f.uri().to_string()).unwrap_or_default()
                ));
                assert!(c.offer().is_some());
                assert_eq!(c.request().method(), &sip_packet::Method::Invite);
                Answer::Ring(std::time::Duration::from_millis(200))
            })
            .on_established(move |c| {
                let _ = t2.send("established".to_owned());
                let c = c.clone();
                // The hook must not block: hang up from a task of its own.
                tokio::spawn(async move { c.hangup().await });
            })
            .on_hangup(move |_, why| {
                let _ = t3.send(format!("hangup {why}"));
            }),
    );
    let call = alice.call(&uri("bob", &bob), CallOptions::new()).unwrap();
    let mut events = call.events();
    assert_eq!(event(&mut events, |e| *e == CallEvent::Ringing).await.1, []);
    call.answered().await.unwrap();
    assert_eq!(call.ended().await, EndReason::RemoteHangup);
    let (_, before) = event(&mut events, |e| matches!(e, CallEvent::Ended(_))).await;
    assert_eq!(before, [CallEvent::Established]);
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            tokio::time::timeout(std::time::Duration::from_secs(5), heard.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(
        got,
        [
            "new from sip:alice@127.0.0.1".to_owned(),
            "established".to_owned(),
            "hangup hung up here".to_owned()
        ]
    );
    eventually("ports back", || {
        alice.rtp_ports_in_use() == 0 && bob.rtp_ports_in_use() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_and_unanswered_calls_say_why() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    // Nobody listens yet: the endpoint answers 480.
    let e = alice
        .invite(&uri("bob", &bob), CallOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        e,
        CallError::Rejected {
            status: 480,
            reason: "Temporarily Unavailable".into()
        }
    );
    bob.listen(ListenOptions::new().on_new_call(|_| Answer::Reject(486)));
    let call = alice.call(&uri("bob", &bob), CallOptions::new()).unwrap();
    let e = call.answered().await.unwrap_err();
    assert!(matches!(e, CallError::Rejected { status: 486, .. }), "{e}");
    assert!(matches!(
        call.ended().await,
        EndReason::Rejected { status: 486, .. }
    ));
    // Operations on a call that is over say so.
    assert!(matches!(call.hold().await, Err(CallError::Ended(_))));
    call.hangup().await.unwrap();
    // No codec in common: 488.
    bob.listen(ListenOptions::new().codecs(vec![AudioCodec::Pcma]));
    let e = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new().codecs(vec![AudioCodec::Pcmu]),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Rejected { status: 488, .. }), "{e}");
    // A bad address is refused before anything is sent.
    assert!(matches!(
        alice.call("sip:bob@<", CallOptions::new()),
        Err(CallError::BadUri { .. })
    ));
    assert_eq!(alice.rtp_ports_in_use(), 0);
    assert_eq!(bob.rtp_ports_in_use(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_audio_streams_each_with_its_ports() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (tx, mut indexes) = mpsc::unbounded_channel();
    bob.listen(ListenOptions::new().media(move |c| {
        let _ = tx.send(c.stream_index());
        Media::echo()
    }));
    let (rec0, recording0) = Recorder::memory();
    let (rec1, recording1) = Recorder::memory();
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new()
                .media(Media::send_recv(vec![numbered_audio(10)], Some(rec0)))
                .add_stream(Media::send_recv(vec![numbered_audio(20)], Some(rec1))),
        )
        .await
        .unwrap();
    assert_eq!(indexes.recv().await, Some(0));
    assert_eq!(indexes.recv().await, Some(1));
    assert_eq!(call.peer_sdp().unwrap().media.len(), 2);
    let addrs = call.media_addrs();
    assert_eq!(addrs.len(), 2);
    assert_ne!(addrs[0], addrs[1]);
    assert_eq!(alice.rtp_ports_in_use(), 2);
    let mut events = call.events();
    // MediaDone once both files are out.
    event(&mut events, |e| *e == CallEvent::MediaDone).await;
    let (ten, twenty) = (numbered_frames(10), numbered_frames(20));
    eventually("both echoes back", || {
        recording0.frames().contains(&ten[9]) && recording1.frames().contains(&twenty[19])
    })
    .await;
    let stats = call.stats();
    assert_eq!(stats.streams.len(), 2);
    assert!(stats.streams.iter().all(|s| s.packets_received >= 10));
    call.hangup().await.unwrap();
    assert_eq!(alice.rtp_ports_in_use(), 0);
    eventually("bob's ports back", || bob.rtp_ports_in_use() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_invite_with_new_media() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    bob.listen(ListenOptions::new().media(|_| Media::echo()));
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new().media(Media::silence()),
        )
        .await
        .unwrap();
    let version = call.local_sdp().unwrap().origin.session_version;
    let (rec, recording) = Recorder::memory();
    call.reinvite(Media::send_recv(vec![numbered_audio(5)], Some(rec)))
        .await
        .unwrap();
    let frames = numbered_frames(5);
    eventually("the new media echoed", || {
        recording.frames().contains(&frames[4])
    })
    .await;
    // The same streams: the description's version stays unless something changed.
    assert_eq!(call.local_sdp().unwrap().origin.session_version, version);
    assert_eq!(call.state(), CallState::Established);
    call.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_hangs_up_every_call() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    bob.listen(ListenOptions::new().media(|_| Media::echo()));
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(
            alice
                .invite(&uri("bob", &bob), CallOptions::new())
                .await
                .unwrap(),
        );
    }
    assert_eq!(bob.calls().len(), 3);
    alice.shutdown().await;
    for c in &calls {
        assert_eq!(c.ended().await, EndReason::Shutdown);
    }
    assert_eq!(alice.rtp_ports_in_use(), 0);
    eventually("bob's calls over", || bob.calls().is_empty()).await;
    assert!(matches!(
        alice.call(&uri("bob", &bob), CallOptions::new()),
        Err(CallError::Shutdown)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wav_file_is_sent_in_the_negotiated_codec_and_recorded_to_wav() {
    let dir = std::env::temp_dir().join(format!("sip-simple-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (tone, recorded) = (dir.join("tone.wav"), dir.join("recorded.wav"));
    // Half a second of a 400 Hz tone, 16-bit PCM.
    let samples: Vec<i16> = (0..4000)
        .map(|n| ((f64::from(n) * 400.0 * std::f64::consts::TAU / 8000.0).sin() * 8000.0) as i16)
        .collect();
    let mut w = WavWriter::create(&tone, WavFormat::Pcm16).unwrap();
    w.write_samples(&samples).unwrap();
    w.finish().unwrap();

    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (tx, mut calls) = mpsc::unbounded_channel();
    let out = recorded.clone();
    bob.listen(
        ListenOptions::new()
            .codecs(vec![AudioCodec::Pcma])
            .media(move |_| {
                Media::silence().record(Recorder::wav_format(&out, WavFormat::Alaw).unwrap())
            })
            .on_established(move |c| {
                let _ = tx.send(c.clone());
            }),
    );
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new()
                .media(Media::send_recv(
                    vec![AudioFile::read(&tone).unwrap()],
                    None,
                ))
                .hangup_when_done(true),
        )
        .await
        .unwrap();
    let bob_call = next_call(&mut calls).await;
    assert_eq!(call.ended().await, EndReason::LocalHangup);
    assert_eq!(bob_call.ended().await, EndReason::RemoteHangup);
    // The call was in A-law; the recording is complete once the call is over.
    let sent = AudioFile::read(&tone).unwrap().frames(AudioCodec::Pcma);
    let got = AudioFile::read(&recorded).unwrap().frames(AudioCodec::Pcma);
    let start = got
        .iter()
        .position(|f| *f == sent[0])
        .expect("first frame recorded");
    assert_eq!(got[start..start + sent.len()], sent[..]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain2proxy_and_the_outgoing_proxy_route_calls() {
    let bob = simple("bob").await;
    let carol = simple("carol").await;
    let (tx, mut to) = mpsc::unbounded_channel();
    let tx2 = tx.clone();
    bob.listen(ListenOptions::new().on_new_call(move |c| {
        let _ = tx.send(("bob", c.request().uri().to_string()));
        Answer::Accept
    }));
    carol.listen(ListenOptions::new().on_new_call(move |c| {
        let _ = tx2.send(("carol", c.request().uri().to_string()));
        Answer::Accept
    }));
    let alice = sip_simple::Simple::new(
        config("alice")
            .domain2proxy("example.com", bob.local_addrs()[0].to_string())
            .outgoing_proxy(carol.local_addrs()[0].to_string()),
    )
    .await
    .unwrap();
    let call = alice
        .invite("sip:bob@example.com", CallOptions::new())
        .await
        .unwrap();
    assert_eq!(
        to.recv().await,
        Some(("bob", "sip:bob@example.com".to_owned()))
    );
    call.hangup().await.unwrap();
    // Not example.com: the outgoing proxy.
    let call = alice
        .invite("carol@example.org", CallOptions::new())
        .await
        .unwrap();
    assert_eq!(
        to.recv().await,
        Some(("carol", "sip:carol@example.org".to_owned()))
    );
    call.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_ipv6() {
    let v6 = |user: &str| {
        sip_simple::SimpleConfig::new(format!("sip:{user}@[::1]"))
            .listen("udp:[::1]:0".parse().unwrap())
            .resolver(std::sync::Arc::new(
                sip_dispatch::resolve::StaticResolver::new(),
            ))
    };
    let alice = sip_simple::Simple::new(v6("alice")).await.unwrap();
    let bob = sip_simple::Simple::new(v6("bob")).await.unwrap();
    bob.listen(ListenOptions::new().media(|_| Media::echo()));
    let (rec, recording) = Recorder::memory();
    let call = alice
        .invite(
            &format!("sip:bob@{}", bob.local_addrs()[0]),
            CallOptions::new().media(Media::send_recv(vec![numbered_audio(5)], Some(rec))),
        )
        .await
        .unwrap();
    assert!(call
        .peer_sdp()
        .unwrap()
        .to_string()
        .contains("c=IN IP6 ::1"));
    assert!(call.media_addrs()[0].is_ipv6());
    let frames = numbered_frames(5);
    eventually("the echo over IPv6", || {
        recording.frames().contains(&frames[4])
    })
    .await;
    call.hangup().await.unwrap();
}
