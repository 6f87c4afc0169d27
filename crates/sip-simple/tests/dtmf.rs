//! DTMF between two user agents, both ways: RFC 4733 telephone-events, in-band tones, the
//! automatic choice when the peer has no telephone-events, and SIP INFO from phones that
//! send digits that way.

mod util;

use std::time::Duration;

use sip_endpoint::RequestOptions;
use sip_packet::Method;
use sip_simple::{Call, CallError, CallEvent, CallOptions, DtmfMode, ListenOptions, Media, Simple};
use tokio::sync::mpsc;
use util::*;

/// Bob answers with silence and reports each call and each digit he hears.
fn listen(
    bob: &Simple,
    options: ListenOptions,
) -> (mpsc::UnboundedReceiver<Call>, mpsc::UnboundedReceiver<char>) {
    let (calls_tx, calls) = mpsc::unbounded_channel();
    let (digits_tx, digits) = mpsc::unbounded_channel();
    bob.listen(
        options
            .media(|_| Media::silence())
            .on_established(move |c| {
                let _ = calls_tx.send(c.clone());
            })
            .on_dtmf(move |_, d| {
                let _ = digits_tx.send(d);
            }),
    );
    (calls, digits)
}

async fn digits(rx: &mut mpsc::UnboundedReceiver<char>, n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        let d = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("timed out waiting for a digit")
            .expect("closed");
        s.push(d);
    }
    s
}

/// The digits among a call's events, until `n` came.
async fn call_digits(call: &Call, n: usize) -> String {
    let mut events = call.events();
    let mut s = String::new();
    while s.len() < n {
        if let (CallEvent::Dtmf(d), _) =
            event(&mut events, |e| matches!(e, CallEvent::Dtmf(_))).await
        {
            s.push(d);
        }
    }
    s
}

#[tokio::test(start_paused = true)]
async fn rfc4733_digits_both_ways() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (mut calls, mut heard) = listen(&bob, ListenOptions::new());
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new().detect_inband_dtmf(false),
        )
        .await
        .unwrap();
    let bob_call = next_call(&mut calls).await;
    call.send_dtmf("123#", DtmfMode::Rfc4733).await.unwrap();
    assert_eq!(digits(&mut heard, 4).await, "123#");
    let alice_hears = tokio::spawn({
        let call = call.clone();
        async move { call_digits(&call, 3).await }
    });
    bob_call.send_dtmf("*9A", DtmfMode::Rfc4733).await.unwrap();
    assert_eq!(alice_hears.await.unwrap(), "*9A");
    // Nothing else was heard: each digit once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(heard.try_recv().is_err());
    call.hangup().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn in_band_tones_both_ways() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    // Telephone-events are negotiated, so tones are looked for only when asked to.
    let (mut calls, mut heard) = listen(&bob, ListenOptions::new().detect_inband_dtmf(true));
    let call = alice
        .invite(
            &uri("bob", &bob),
            CallOptions::new().detect_inband_dtmf(true),
        )
        .await
        .unwrap();
    let bob_call = next_call(&mut calls).await;
    call.send_dtmf("5-0*", DtmfMode::InBand).await.unwrap();
    assert_eq!(digits(&mut heard, 3).await, "50*");
    let alice_hears = tokio::spawn({
        let call = call.clone();
        async move { call_digits(&call, 2).await }
    });
    bob_call.send_dtmf("77", DtmfMode::InBand).await.unwrap();
    assert_eq!(alice_hears.await.unwrap(), "77");
    call.hangup().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_telephone_events_auto_sends_tones_and_rfc4733_is_refused() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (_calls, mut heard) = listen(&bob, ListenOptions::new().no_dtmf_events());
    let call = alice
        .invite(&uri("bob", &bob), CallOptions::new())
        .await
        .unwrap();
    assert_eq!(
        call.send_dtmf("1", DtmfMode::Rfc4733).await,
        Err(CallError::DtmfNotNegotiated)
    );
    assert_eq!(
        call.send_dtmf("1x", DtmfMode::Auto).await,
        Err(CallError::BadDtmfDigit('x'))
    );
    call.send_dtmf("8", DtmfMode::Auto).await.unwrap();
    assert_eq!(digits(&mut heard, 1).await, "8");
    call.hangup().await.unwrap();
    assert!(matches!(
        call.send_dtmf("1", DtmfMode::Auto).await,
        Err(CallError::Ended(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn sip_info_digits_are_heard_too() {
    let alice = simple("alice").await;
    let bob = simple("bob").await;
    let (_calls, mut heard) = listen(&bob, ListenOptions::new());
    let call = alice
        .invite(&uri("bob", &bob), CallOptions::new())
        .await
        .unwrap();
    alice
        .endpoint()
        .new_request(
            Method::Info,
            call.context(),
            RequestOptions::new().body("application/dtmf-relay", "Signal=4\r\nDuration=160\r\n"),
        )
        .unwrap();
    assert_eq!(digits(&mut heard, 1).await, "4");
    call.hangup().await.unwrap();
}
