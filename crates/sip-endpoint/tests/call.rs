//! Two endpoints calling each other over UDP on 127.0.0.1: setup, re-INVITE, UPDATE, BYE from
//! either side, CANCEL before and racing the 200, glare, requests outside any dialog.

mod util;

use sip_dispatch::DeliverOptions;
use sip_endpoint::{DialogState, EndpointError, RequestOptions};
use sip_packet::{Method, Request};
use util::*;

/// Alice calls Bob, who rings and answers; returns both contexts and the channels.
async fn established() -> (
    sip_endpoint::Endpoint,
    sip_endpoint::Endpoint,
    sip_endpoint::Context,
    sip_endpoint::Context,
    tokio::sync::mpsc::UnboundedReceiver<Ev>,
    tokio::sync::mpsc::UnboundedReceiver<Seen>,
) {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    let mut bob_seen = uas(&bob, |r: &Request| {
        if r.headers().to().unwrap().tag().is_none() {
            vec![180, 200]
        } else {
            vec![200]
        }
    });
    let (opts, mut events) = recorder();
    let ctx = alice
        .call(call_params(&alice, &bob), opts.body("application/sdp", SDP))
        .unwrap();
    assert_eq!(
        until(&mut events, |e| matches!(e, Ev::Response(180, _, _)))
            .await
            .0,
        Ev::Response(180, "INVITE".into(), 1)
    );
    assert_eq!(
        next(&mut events).await,
        Ev::Response(200, "INVITE".into(), 1)
    );
    let invite = seen(&mut bob_seen, Method::Invite).await;
    assert_eq!(invite.request.body().as_ref(), SDP.as_bytes());
    let ack = seen(&mut bob_seen, Method::Ack).await;
    assert_eq!(ack.cseq, 1);
    assert_eq!(ack.ctx, invite.ctx);
    assert!(ctx.is_established());
    eventually("bob's dialog confirmed", || invite.ctx.is_established()).await;
    (alice, bob, ctx, invite.ctx, events, bob_seen)
}

#[tokio::test]
async fn call_setup_and_bye_from_the_caller() {
    let (alice, bob, ctx, bob_ctx, mut events, mut bob_seen) = established().await;
    let a = ctx.dialog().unwrap();
    let b = bob_ctx.dialog().unwrap();
    assert_eq!(a.call_id(), b.call_id());
    assert_eq!(
        (a.local_tag(), a.remote_tag()),
        (b.remote_tag(), b.local_tag())
    );
    assert_eq!(a.remote_target().to_string(), uri("bob", &bob));
    alice
        .new_request(Method::Bye, &ctx, RequestOptions::new())
        .unwrap();
    let bye = seen(&mut bob_seen, Method::Bye).await;
    assert_eq!(bye.cseq, 2);
    assert_eq!(next(&mut events).await, Ev::Response(200, "BYE".into(), 2));
    assert!(ctx.is_closed());
    eventually("bob closed", || bob_ctx.is_closed()).await;
    assert!(alice.contexts().is_empty());
    assert!(bob.contexts().is_empty());
    // The dialog is gone: another BYE is refused by us, not sent.
    assert!(matches!(
        alice.new_request(Method::Bye, &ctx, RequestOptions::new()),
        Err(EndpointError::UnknownContext(_))
    ));
}

#[tokio::test]
async fn bye_from_the_callee() {
    let (alice, bob, ctx, bob_ctx, _events, _bob_seen) = established().await;
    let mut alice_seen = uas(&alice, |_| vec![]);
    let (opts, mut bob_events) = recorder();
    bob.new_request(Method::Bye, &bob_ctx, opts).unwrap();
    let bye = seen(&mut alice_seen, Method::Bye).await;
    // Bob's first request in the dialog Alice made.
    assert_eq!(bye.cseq, 1);
    assert_eq!(bye.ctx, ctx);
    assert_eq!(
        next(&mut bob_events).await,
        Ev::Response(200, "BYE".into(), 1)
    );
    assert!(bob_ctx.is_closed());
    eventually("alice closed", || ctx.is_closed()).await;
    assert!(alice.contexts().is_empty() && bob.contexts().is_empty());
}

#[tokio::test]
async fn re_invite_and_update_inside_the_dialog() {
    let (alice, _bob, ctx, bob_ctx, mut events, mut bob_seen) = established().await;
    alice
        .invite(&ctx, RequestOptions::new().body("application/sdp", SDP))
        .unwrap();
    let reinvite = seen(&mut bob_seen, Method::Invite).await;
    assert_eq!(reinvite.cseq, 2);
    assert_eq!(reinvite.ctx, bob_ctx);
    let (ok, _) = until(
        &mut events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(ok, Ev::Response(200, "INVITE".into(), 2));
    assert_eq!(seen(&mut bob_seen, Method::Ack).await.cseq, 2);
    alice
        .new_request(Method::Update, &ctx, RequestOptions::new())
        .unwrap();
    assert_eq!(seen(&mut bob_seen, Method::Update).await.cseq, 3);
    assert_eq!(
        next(&mut events).await,
        Ev::Response(200, "UPDATE".into(), 3)
    );
    assert_eq!(ctx.dialog().unwrap().local_cseq(), Some(3));
    assert_eq!(bob_ctx.dialog().unwrap().remote_cseq(), Some(3));
    assert!(ctx.is_established() && bob_ctx.is_established());
}

#[tokio::test]
async fn cancel_before_the_200() {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    let mut bob_seen = uas(&bob, |_| vec![180]);
    let (opts, mut events) = recorder();
    let ctx = alice.call(call_params(&alice, &bob), opts).unwrap();
    until(&mut events, |e| matches!(e, Ev::Response(180, _, _))).await;
    assert_eq!(ctx.dialog().map(|d| d.state()), Some(DialogState::Early));
    assert!(alice.cancel_invite(&ctx));
    assert_eq!(
        next(&mut events).await,
        Ev::Response(487, "INVITE".into(), 1)
    );
    let invite = seen(&mut bob_seen, Method::Invite).await;
    seen(&mut bob_seen, Method::Cancel).await;
    assert!(ctx.is_closed());
    assert!(invite.ctx.is_closed());
    assert!(alice.contexts().is_empty() && bob.contexts().is_empty());
    // Nothing left to cancel.
    assert!(!alice.cancel_invite(&ctx));
}

#[tokio::test]
async fn cancel_asked_before_any_provisional_waits_for_one() {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    let mut bob_seen = uas(&bob, |_| vec![180]);
    let (opts, mut events) = recorder();
    let ctx = alice.call(call_params(&alice, &bob), opts).unwrap();
    // Asked at once: the CANCEL waits for the 100 or 180 (RFC 3261 §9.1).
    assert!(alice.cancel_invite(&ctx));
    let (last, _) = until(
        &mut events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(last, Ev::Response(487, "INVITE".into(), 1));
    seen(&mut bob_seen, Method::Cancel).await;
    assert!(alice.contexts().is_empty());
}

#[tokio::test]
async fn cancel_racing_the_200_ends_the_call_with_a_bye() {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    // Bob answers 180 and 200 at once: Alice's CANCEL, sent on the 180, comes too late.
    let mut bob_seen = uas(&bob, |_| vec![180, 200]);
    // The CANCEL is asked for on the 180, before the endpoint has seen the 200.
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let opts = RequestOptions::new().callback(
        move |ep: &sip_endpoint::Endpoint,
              ctx: &sip_endpoint::Context,
              ev: &sip_endpoint::CallEvent| {
            if let sip_endpoint::CallEvent::Response(r) = ev {
                if r.status() == 180 {
                    let _ = tx.send(("cancel", ep.cancel_invite(ctx)));
                } else if r.status() == 200 {
                    let _ = tx.send(("200", true));
                }
            }
        },
    );
    let ctx = alice.call(call_params(&alice, &bob), opts).unwrap();
    assert_eq!(next(&mut events).await, ("cancel", true));
    assert_eq!(next(&mut events).await, ("200", true));
    let invite = seen(&mut bob_seen, Method::Invite).await;
    // Bob: the CANCEL had no effect (the 200 was out), then the ACK and the BYE.
    seen(&mut bob_seen, Method::Ack).await;
    let bye = seen(&mut bob_seen, Method::Bye).await;
    assert_eq!(bye.cseq, 2);
    eventually("alice closed", || ctx.is_closed()).await;
    eventually("bob closed", || invite.ctx.is_closed()).await;
    assert!(alice.contexts().is_empty() && bob.contexts().is_empty());
}

#[tokio::test]
async fn glare_gets_491() {
    let (alice, bob, ctx, bob_ctx, _events, mut bob_seen) = established().await;
    // Bob holds Alice's re-INVITE unanswered... (his application answers nothing now)
    let mut held = uas(&bob, |_| vec![]);
    bob_seen.close();
    alice.invite(&ctx, RequestOptions::new()).unwrap();
    let reinvite = seen(&mut held, Method::Invite).await;
    // ...and Alice holds Bob's: hers is pending, so his gets 491 (RFC 3261 §14.2).
    let mut alice_seen = uas(&alice, |_| vec![]);
    let (opts, mut bob_events) = recorder();
    bob.invite(&bob_ctx, opts).unwrap();
    let (glare, _) = until(
        &mut bob_events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(glare, Ev::Response(491, "INVITE".into(), 1));
    // Alice's application never saw Bob's re-INVITE.
    assert!(alice_seen.try_recv().is_err());
    // Bob finally answers Alice's re-INVITE; the dialog lives on.
    bob.new_response(&bob_ctx, 200, &reinvite.request).unwrap();
    seen(&mut held, Method::Ack).await;
    assert!(ctx.is_established() && bob_ctx.is_established());
}

#[tokio::test]
async fn requests_outside_any_dialog_get_481_and_options_gets_allow() {
    let bob = endpoint(2).await;
    let _seen = uas(&bob, |_| vec![]);
    let d = dispatcher(3).await;
    let to = addr(&bob);
    let raw_request = |method: &str, to_tag: &str| {
        let mut r = Request::new(
            Method::parse(method).unwrap(),
            format!("sip:bob@{to}").parse().unwrap(),
        );
        let h = r.headers_mut();
        h.add("From", "<sip:carol@example.com>;tag=c1");
        h.add("To", format!("<sip:bob@example.com>{to_tag}"));
        h.add("Call-ID", format!("{method}-nowhere"));
        h.add("CSeq", format!("1 {method}"));
        h.add("Max-Forwards", "70");
        r
    };
    for (method, tag) in [("BYE", ";tag=gone"), ("INFO", ";tag=gone"), ("BYE", "")] {
        let resp = d
            .request(
                raw_request(method, tag),
                DeliverOptions::new().dst(target(bob.dispatcher())),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 481, "{method} {tag}");
    }
    let resp = d
        .request(
            raw_request("OPTIONS", ""),
            DeliverOptions::new().dst(target(bob.dispatcher())),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let allow: Vec<String> = resp
        .headers()
        .get_all("Allow")
        .map(|a| a.to_string())
        .collect();
    let allow = allow.join(",");
    assert!(allow.contains("INVITE") && allow.contains("BYE"), "{allow}");
    assert_eq!(resp.headers().get("Accept").unwrap(), "application/sdp");
    assert!(resp.headers().to().unwrap().tag().is_some());
    assert!(bob.contexts().is_empty());
}

#[tokio::test]
async fn api_misuse_is_an_error_not_a_panic() {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    let ctx = alice.context(call_params(&alice, &bob));
    assert!(matches!(
        alice.new_request(Method::Ack, &ctx, RequestOptions::new()),
        Err(EndpointError::MethodNotAllowed(_))
    ));
    assert!(matches!(
        alice.new_request(Method::Bye, &ctx, RequestOptions::new()),
        Err(EndpointError::NoDialog { .. })
    ));
    assert!(!alice.cancel_invite(&ctx));
    alice.close_context(&ctx);
    assert!(matches!(
        alice.invite(&ctx, RequestOptions::new()),
        Err(EndpointError::UnknownContext(_))
    ));
}
