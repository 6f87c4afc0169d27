//! One INVITE forked by a proxy to two callees who both answer 200: one dialog per To tag,
//! each ACKed; the call keeps the first, the other is ended with a BYE (RFC 3261 §13.2.2.4).

mod util;

use std::net::SocketAddr;
use std::sync::Arc;

use sip_dispatch::{DeliverOptions, DeliveryEvent, Dispatcher};
use sip_endpoint::{Endpoint, RequestOptions};
use sip_packet::{HeaderName, Message, Method};
use sip_transport::Leg;
use util::*;

/// A tiny forking proxy: every INVITE goes to each of `callees`; every response comes back
/// without the proxy's Via, through the proxy's server transaction.
fn forking_proxy(proxy: &Dispatcher, callees: Vec<Endpoint>) {
    let p = proxy.clone();
    proxy.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        let Message::Request(r) = m else { return true };
        if r.method() != &Method::Invite {
            return true;
        }
        for callee in &callees {
            let mut fwd = r.clone();
            fwd.set_uri(uri("bob", callee).parse().unwrap());
            let back = p.clone();
            p.deliver(
                fwd,
                DeliverOptions::new()
                    .dst(target(callee.dispatcher()))
                    .callback(move |ev| {
                        if let DeliveryEvent::Response(mut resp) = ev {
                            resp.headers_mut().remove_first(HeaderName::Via);
                            back.deliver(resp, DeliverOptions::new());
                        }
                    }),
            );
        }
        true
    }));
}

#[tokio::test]
async fn forked_invite_makes_one_dialog_per_tag_and_releases_the_second() {
    let alice = endpoint(1).await;
    let bob1 = endpoint(2).await;
    let bob2 = endpoint(3).await;
    let mut seen1 = uas(&bob1, |_| vec![180, 200]);
    let mut seen2 = uas(&bob2, |_| vec![180, 200]);
    let proxy = dispatcher(4).await;
    forking_proxy(&proxy, vec![bob1.clone(), bob2.clone()]);

    let (opts, mut events) = recorder();
    let params = call_params(&alice, &bob1).request_uri(
        format!("sip:bob@{}", proxy.legs()[0].local_addr())
            .parse()
            .unwrap(),
    );
    let ctx = alice.call(params, opts).unwrap();

    // Both callees get the INVITE and an ACK for their 200.
    let inv1 = seen(&mut seen1, Method::Invite).await;
    let inv2 = seen(&mut seen2, Method::Invite).await;
    seen(&mut seen1, Method::Ack).await;
    seen(&mut seen2, Method::Ack).await;
    // Alice hears one 200 and one released fork.
    let mut finals = Vec::new();
    while finals.len() < 2 {
        match next(&mut events).await {
            Ev::Response(s, _, _) if s < 200 => {}
            e => finals.push(e),
        }
    }
    assert!(
        finals.contains(&Ev::Response(200, "INVITE".into(), 1)),
        "{finals:?}"
    );
    assert!(finals.contains(&Ev::Fork(200)), "{finals:?}");
    // The call is with whoever answered first; the other one got a BYE already.
    let kept_tag = ctx.dialog().unwrap().remote_tag().to_owned();
    let (kept, released, mut kept_seen, mut released_seen) = if inv1.ctx.local_tag() == kept_tag {
        (inv1, inv2, seen1, seen2)
    } else {
        (inv2, inv1, seen2, seen1)
    };
    assert_ne!(released.ctx.local_tag(), kept_tag);
    let bye = seen(&mut released_seen, Method::Bye).await;
    assert_eq!(bye.ctx, released.ctx);
    eventually("released callee closed", || released.ctx.is_closed()).await;
    assert!(ctx.is_established());
    assert!(kept.ctx.is_established());

    // Hanging up ends the call that was kept.
    alice
        .new_request(Method::Bye, &ctx, RequestOptions::new())
        .unwrap();
    seen(&mut kept_seen, Method::Bye).await;
    assert_eq!(next(&mut events).await, Ev::Response(200, "BYE".into(), 2));
    eventually("everyone closed", || {
        alice.contexts().is_empty() && bob1.contexts().is_empty() && bob2.contexts().is_empty()
    })
    .await;
}
