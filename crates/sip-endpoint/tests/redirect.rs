//! 3xx responses: followed by default (a new transaction to the best Contact, CSeq + 1),
//! handed to the application when it asks, 305 resent through the proxy it names.

mod util;

use std::net::SocketAddr;

use sip_endpoint::{Context, Endpoint};
use sip_packet::{Method, Request, Response};
use sip_transport::Leg;
use util::*;

/// Bob1's application answers every INVITE with `status` and a Contact pointing at `to`.
fn redirector(ep: &Endpoint, status: u16, to: String) {
    ep.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _: SocketAddr| {
            if req.method() == &Method::Invite {
                let mut r = Response::from_request(req, status, None);
                r.headers_mut().add(
                    "Contact",
                    format!("<sip:nobody@192.0.2.1>;q=0.1, <{to}>;q=0.9"),
                );
                ep.new_response(ctx, r, req).unwrap();
            }
            true
        },
    );
}

#[tokio::test]
async fn a_302_is_followed_to_the_contact_with_the_highest_q() {
    let alice = endpoint(1).await;
    let bob1 = endpoint(2).await;
    let bob2 = endpoint(3).await;
    redirector(&bob1, 302, uri("bob", &bob2));
    let mut seen2 = uas(&bob2, |_| vec![200]);
    let (opts, mut events) = recorder();
    let ctx = alice.call(call_params(&alice, &bob1), opts).unwrap();
    let (ok, skipped) = until(
        &mut events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(ok, Ev::Response(200, "INVITE".into(), 2), "{skipped:?}");
    let invite = seen(&mut seen2, Method::Invite).await;
    assert_eq!(invite.request.uri().to_string(), uri("bob", &bob2));
    assert_eq!(invite.cseq, 2);
    seen(&mut seen2, Method::Ack).await;
    assert!(ctx.is_established());
}

#[tokio::test]
async fn redirects_go_to_the_application_when_it_asks() {
    let alice = endpoint(1).await;
    let bob1 = endpoint(2).await;
    let bob2 = endpoint(3).await;
    redirector(&bob1, 302, uri("bob", &bob2));
    let mut seen2 = uas(&bob2, |_| vec![200]);
    let (opts, mut events) = recorder();
    let ctx = alice
        .call(call_params(&alice, &bob1).follow_redirects(false), opts)
        .unwrap();
    let (moved, _) = until(
        &mut events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(moved, Ev::Response(302, "INVITE".into(), 1));
    assert!(ctx.is_closed());
    assert!(seen2.try_recv().is_err());
}

#[tokio::test]
async fn a_305_is_resent_through_the_proxy_it_names() {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    let proxy = endpoint(3).await;
    redirector(&bob, 305, uri("proxy", &proxy));
    let mut via_proxy = uas(&proxy, |_| vec![200]);
    let (opts, mut events) = recorder();
    alice.call(call_params(&alice, &bob), opts).unwrap();
    let (ok, _) = until(
        &mut events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(ok, Ev::Response(200, "INVITE".into(), 2));
    let invite = seen(&mut via_proxy, Method::Invite).await;
    // Same Request-URI, a Route to the proxy on top.
    assert_eq!(invite.request.uri().to_string(), uri("bob", &bob));
    let route = invite.request.headers().routes().next().unwrap().unwrap();
    assert_eq!(
        route.uri().to_string(),
        format!("{};lr", uri("proxy", &proxy))
    );
}
