//! Peers that do odd things, played by a bare dispatcher: requests out of order, a 2xx that
//! cannot make a dialog, an INVITE nobody answers, a merged request. The endpoint answers or
//! reports; it never panics.

mod util;

use std::net::SocketAddr;
use std::sync::Arc;

use sip_dispatch::{DeliverOptions, DeliveryEvent, Dispatcher};
use sip_endpoint::{Endpoint, RequestOptions};
use sip_packet::{Message, Method, Request, Response};
use sip_transport::Leg;
use util::*;

fn request(method: &str, to: &Endpoint, call_id: &str, cseq: u32, to_tag: &str) -> Request {
    let mut r = Request::new(
        Method::parse(method).unwrap(),
        uri("bob", to).parse().unwrap(),
    );
    let h = r.headers_mut();
    h.add("From", "<sip:carol@example.com>;tag=c1");
    h.add("To", format!("<{}>{to_tag}", uri("bob", to)));
    h.add("Call-ID", call_id.to_owned());
    h.add("CSeq", format!("{cseq} {method}"));
    h.add("Contact", "<sip:carol@127.0.0.1:9>");
    h.add("Max-Forwards", "70");
    r
}

/// Sends `r` and waits for its final response. (Not `Dispatcher::request`: it gives up at
/// the first provisional response, which an INVITE always gets.)
async fn ask(d: &Dispatcher, to: &Endpoint, r: Request) -> Response {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    d.deliver(
        r,
        DeliverOptions::new()
            .dst(target(to.dispatcher()))
            .callback(move |ev| {
                if let DeliveryEvent::Response(resp) = ev {
                    let _ = tx.send(resp);
                }
            }),
    );
    until(&mut rx, |resp: &Response| resp.status() >= 200)
        .await
        .0
}

#[tokio::test]
async fn requests_out_of_order_get_500_and_a_merged_invite_482() {
    let bob = endpoint(2).await;
    let mut bob_seen = uas(&bob, |_| vec![200]);
    let carol = dispatcher(3).await;
    carol.set_receiver(Arc::new(|_: &Message, _: &Leg, _: SocketAddr| true));
    let ok = ask(&carol, &bob, request("INVITE", &bob, "odd-1", 5, "")).await;
    assert_eq!(ok.status(), 200);
    let tag = ok.headers().to().unwrap().tag().unwrap().to_owned();
    let ctx = seen(&mut bob_seen, Method::Invite).await.ctx;
    // The same Call-ID and From tag without a To tag again: merged (RFC 3261 §8.2.2.2).
    let merged = ask(&carol, &bob, request("INVITE", &bob, "odd-1", 6, "")).await;
    assert_eq!(merged.status(), 482);
    // Inside the dialog with a CSeq not above 5 (§12.2.2).
    let late = ask(
        &carol,
        &bob,
        request("INFO", &bob, "odd-1", 5, &format!(";tag={tag}")),
    )
    .await;
    assert_eq!(late.status(), 500);
    // A wrong To tag is no dialog of ours.
    let stranger = ask(&carol, &bob, request("INFO", &bob, "odd-1", 7, ";tag=nope")).await;
    assert_eq!(stranger.status(), 481);
    let info = ask(
        &carol,
        &bob,
        request("INFO", &bob, "odd-1", 8, &format!(";tag={tag}")),
    )
    .await;
    assert_eq!(info.status(), 200);
    assert_eq!(ctx.dialog().unwrap().remote_cseq(), Some(8));
}

#[tokio::test]
async fn invite_without_application_gets_480() {
    let bob = endpoint(2).await;
    let carol = dispatcher(3).await;
    let resp = ask(&carol, &bob, request("INVITE", &bob, "odd-2", 1, "")).await;
    assert_eq!(resp.status(), 480);
    assert!(resp.headers().to().unwrap().tag().is_some());
    assert!(bob.contexts().is_empty());
}

#[tokio::test]
async fn a_2xx_without_to_tag_is_reported_not_trusted() {
    let alice = endpoint(1).await;
    // A callee that forgets the To tag.
    let sloppy = dispatcher(3).await;
    let s = sloppy.clone();
    sloppy.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        if let Message::Request(r) = m {
            if r.method() == &Method::Invite {
                s.deliver(Response::from_request(r, 200, None), DeliverOptions::new());
            }
        }
        true
    }));
    let (opts, mut events) = recorder();
    let params = sip_endpoint::CallParams::parse(
        &format!("<{}>", uri("alice", &alice)),
        &format!("<sip:bob@{}>", sloppy.legs()[0].local_addr()),
    )
    .unwrap();
    let ctx = alice.call(params, opts).unwrap();
    let (failed, _) = until(&mut events, |e| matches!(e, Ev::Failed(_))).await;
    assert!(
        matches!(&failed, Ev::Failed(why) if why.contains("tag")),
        "{failed:?}"
    );
    assert!(!ctx.is_established());
    alice.close_context(&ctx);
    assert!(alice.contexts().is_empty());
}

#[tokio::test]
async fn bye_answered_481_still_ends_the_call() {
    let (tx, mut got) = tokio::sync::mpsc::unbounded_channel();
    let alice = endpoint(1).await;
    // A callee that answers 200 and then forgets the call: its BYE answer is 481.
    let forgetful = dispatcher(3).await;
    let f = forgetful.clone();
    forgetful.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        if let Message::Request(r) = m {
            let status = match r.method() {
                Method::Invite => 200,
                Method::Bye => 481,
                _ => return true,
            };
            let mut resp = Response::from_request(r, status, None);
            resp.set_to_tag("f1").unwrap();
            if status == 200 {
                resp.headers_mut()
                    .add("Contact", format!("<sip:f@{}>", f.legs()[0].local_addr()));
            }
            let _ = tx.send(r.method().clone());
            f.deliver(resp, DeliverOptions::new().callback(|_: DeliveryEvent| {}));
        }
        true
    }));
    let (opts, mut events) = recorder();
    let params = sip_endpoint::CallParams::parse(
        &format!("<{}>", uri("alice", &alice)),
        &format!("<sip:bob@{}>", forgetful.legs()[0].local_addr()),
    )
    .unwrap();
    let ctx = alice.call(params, opts).unwrap();
    until(&mut events, |e| matches!(e, Ev::Response(200, _, _))).await;
    alice
        .new_request(Method::Bye, &ctx, RequestOptions::new())
        .unwrap();
    assert_eq!(next(&mut events).await, Ev::Response(481, "BYE".into(), 2));
    assert!(ctx.is_closed());
    assert_eq!(next(&mut got).await, Method::Invite);
    assert_eq!(next(&mut got).await, Method::Bye);
}
