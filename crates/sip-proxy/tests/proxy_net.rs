//! The stateless proxy between real dispatchers on 127.0.0.1, over UDP and TCP.

mod util;

use std::sync::Arc;
use std::time::Instant;

use sip_dispatch::DeliverOptions;
use sip_packet::{Method, Uri, Via};
use sip_proxy::ProxyConfig;
use util::*;

fn vias(r: &sip_packet::Request) -> Vec<Via> {
    r.headers().vias().map(Result::unwrap).collect()
}

#[tokio::test]
async fn request_and_response_pass_with_vias_in_order() {
    let (proxy, _) = proxy(ProxyConfig::new()).await;
    let (bob, seen) = callee("udp:127.0.0.1:0", 200).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let uri = format!("sip:bob@{}", addr_of(&bob, 0));
    let resp = alice
        .request(
            request("OPTIONS", &uri, "c-options", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The proxy's Via is gone; the caller's is the only one left.
    let back: Vec<Via> = resp.headers().vias().map(Result::unwrap).collect();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].port(), Some(addr_of(&alice, 0).port()));
    let got = requests(&seen, Method::Options);
    assert_eq!(got.len(), 1);
    let v = vias(&got[0]);
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[0].port(),
        Some(addr_of(&proxy, 0).port()),
        "proxy's Via on top"
    );
    assert!(v[0].branch().unwrap().starts_with(sip_proxy::BRANCH_PREFIX));
    assert_eq!(v[1].port(), Some(addr_of(&alice, 0).port()));
    assert_eq!(got[0].headers().get("Max-Forwards").unwrap(), "69");
    assert_eq!(got[0].headers().get("Record-Route"), None);
}

#[tokio::test]
async fn invite_404_and_its_ack_share_the_branch() {
    let (proxy, _) = proxy(ProxyConfig::new()).await;
    let (bob, seen) = callee("udp:127.0.0.1:0", 404).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let uri = format!("sip:bob@{}", addr_of(&bob, 0));
    let resp = alice
        .request(
            request("INVITE", &uri, "c-404", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // The caller's transaction ACKs the 404 through the proxy, with the INVITE's branch.
    eventually(|| !requests(&seen, Method::Ack).is_empty()).await;
    let invite = &requests(&seen, Method::Invite)[0];
    let ack = &requests(&seen, Method::Ack)[0];
    assert_eq!(vias(invite)[0].branch(), vias(ack)[0].branch());
}

#[tokio::test]
async fn cancel_follows_the_invite() {
    let (proxy, _) = proxy(ProxyConfig::new()).await;
    let (bob, seen) = callee("udp:127.0.0.1:0", 180).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let uri = format!("sip:bob@{}", addr_of(&bob, 0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let invite = alice.deliver(
        request("INVITE", &uri, "c-cancel", 1),
        DeliverOptions::new()
            .dst(target_of(&proxy, 0))
            .callback(move |ev| {
                if let sip_dispatch::DeliveryEvent::Response(r) = ev {
                    let _ = tx.send(r.status());
                }
            }),
    );
    assert_eq!(rx.recv().await, Some(180));
    let (ctx, mut crx) = tokio::sync::mpsc::unbounded_channel();
    alice.cancel_invite(
        invite,
        DeliverOptions::new().callback(move |ev| {
            if let sip_dispatch::DeliveryEvent::Response(r) = ev {
                let _ = ctx.send(r.status());
            }
        }),
    );
    assert_eq!(crx.recv().await, Some(200));
    assert_eq!(rx.recv().await, Some(487));
    let inv = &requests(&seen, Method::Invite)[0];
    let cancel = &requests(&seen, Method::Cancel)[0];
    assert_eq!(vias(inv)[0].branch(), vias(cancel)[0].branch());
    eventually(|| !requests(&seen, Method::Ack).is_empty()).await;
}

#[tokio::test]
async fn max_forwards_zero_gets_483() {
    let (proxy, _) = proxy(ProxyConfig::new()).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let mut req = request("MESSAGE", "sip:bob@127.0.0.1:9", "c-mf", 1);
    req.headers_mut().set("Max-Forwards", "0");
    let resp = alice
        .request(req, DeliverOptions::new().dst(target_of(&proxy, 0)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 483);
}

#[tokio::test]
async fn a_loop_gets_482() {
    // The proxy sends loop.example to itself.
    let d = dispatcher(&["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], true).await;
    let me: Uri = format!("sip:{}", addr_of(&d, 0)).parse().unwrap();
    let p = sip_proxy::StatelessProxy::new(
        d.clone(),
        ProxyConfig::new().domain2proxy("loop.example", me),
    );
    d.set_receiver(Arc::new(p));
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let resp = alice
        .request(
            request("MESSAGE", "sip:bob@loop.example", "c-loop", 1),
            DeliverOptions::new().dst(target_of(&d, 0)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 482);
}

#[tokio::test]
async fn record_route_when_asked_and_udp_in_tcp_out() {
    let (proxy, _) = proxy(ProxyConfig::new().record_route(true)).await;
    let (bob, seen) = callee("tcp:127.0.0.1:0", 200).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let uri = format!("sip:bob@{};transport=tcp", addr_of(&bob, 0));
    let resp = alice
        .request(
            request("INVITE", &uri, "c-rr", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got = &requests(&seen, Method::Invite)[0];
    let v = vias(got);
    assert_eq!(v[0].transport().as_str(), "TCP");
    assert_eq!(v[0].port(), Some(addr_of(&proxy, 1).port()));
    let rr: Vec<String> = got
        .headers()
        .record_routes()
        .map(|r| r.unwrap().to_string())
        .collect();
    assert_eq!(
        rr,
        [
            format!("<sip:{};transport=tcp;lr>", addr_of(&proxy, 1)),
            format!("<sip:{};lr>", addr_of(&proxy, 0)),
        ]
    );
    // Both Record-Routes come back to the caller, and the callee's Contact points at the
    // proxy (rewritten between legs).
    assert_eq!(resp.headers().record_routes().count(), 2);
    let contact = resp.headers().contacts().next().unwrap().unwrap();
    let contact = contact.address().unwrap().uri().to_string();
    assert!(
        contact.ends_with(&format!("@{}", addr_of(&proxy, 0))),
        "{contact}"
    );
}

#[tokio::test]
async fn tcp_in_udp_out_and_back_over_the_connection() {
    let (proxy, _) = proxy(ProxyConfig::new()).await;
    let (bob, seen) = callee("udp:127.0.0.1:0", 200).await;
    let alice = dispatcher(&["tcp:127.0.0.1:0"], false).await;
    let uri = format!("sip:bob@{}", addr_of(&bob, 0));
    let resp = alice
        .request(
            request("OPTIONS", &uri, "c-tcp", 1),
            DeliverOptions::new().dst(target_of(&proxy, 1)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v = vias(&requests(&seen, Method::Options)[0]);
    assert_eq!(v[0].transport().as_str(), "UDP");
    assert_eq!(v[1].transport().as_str(), "TCP");
}

#[tokio::test]
async fn locator_retargets_and_404_for_our_domain() {
    let (bob, seen) = callee("udp:127.0.0.1:0", 200).await;
    let contact: Uri = format!("sip:bob@{}", addr_of(&bob, 0)).parse().unwrap();
    let locator =
        move |_: Instant, uri: &Uri| (uri.user() == Some("bob")).then(|| vec![contact.clone()]);
    let (proxy, _) = proxy(
        ProxyConfig::new()
            .domain("example.com")
            .locator(Arc::new(locator)),
    )
    .await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    let resp = alice
        .request(
            request("MESSAGE", "sip:bob@example.com", "c-loc", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got = &requests(&seen, Method::Message)[0];
    assert_eq!(
        got.uri().to_string(),
        format!("sip:bob@{}", addr_of(&bob, 0))
    );
    let resp = alice
        .request(
            request("MESSAGE", "sip:nobody@example.com", "c-loc2", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
