//! The endpoint's own timers on a paused clock: registration refresh and retry, and the
//! UAS's 2xx retransmission until an ACK that never comes.
//!
//! Tokio's paused clock jumps to the next timer whenever every task waits, even while a
//! datagram is on its way, so a receiver may note a message up to one timer later than it was
//! sent: the schedules below are checked against windows, and exactly in the unit tests of
//! `Retransmit2xx` and `refresh_at`.

mod util;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::{DeliverOptions, DeliveryEvent};
use sip_endpoint::{Context, Endpoint, RegisterParams};
use sip_packet::{Message, Method, NameAddr, Request, Response};
use sip_transport::Leg;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::time::Instant;
use util::*;

async fn within<T>(rx: &mut UnboundedReceiver<T>, secs: u64) -> T {
    tokio::time::timeout(Duration::from_secs(secs), rx.recv())
        .await
        .expect("timed out")
        .expect("closed")
}

/// A registrar answering every REGISTER with `status` (200: our Contact, expires=60);
/// reports when each REGISTER came and its Expires.
fn registrar(ep: &Endpoint, status: u16) -> UnboundedReceiver<(Instant, Option<u32>)> {
    let (tx, rx) = unbounded_channel();
    ep.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _: SocketAddr| {
            if req.method() != &Method::Register {
                return false;
            }
            let expires = req.headers().expires().ok().flatten();
            let _ = tx.send((Instant::now(), expires));
            let mut r = Response::from_request(req, status, None);
            if status == 200 && expires != Some(0) {
                let contact = req.headers().get("Contact").unwrap();
                r.headers_mut()
                    .add("Contact", format!("{contact};expires=60"));
            }
            ep.new_response(ctx, r, req).unwrap();
            true
        },
    );
    rx
}

fn params(alice: &Endpoint, registrar: &Endpoint) -> RegisterParams {
    RegisterParams::new(
        format!("sip:{}", addr(registrar)).parse().unwrap(),
        NameAddr::parse("<sip:alice@example.com>").unwrap(),
        NameAddr::parse(&format!("<{}>", uri("alice", alice))).unwrap(),
    )
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[tokio::test(start_paused = true)]
async fn registration_is_refreshed_at_85_percent_of_the_granted_time_and_undone_on_drop() {
    let alice = endpoint(1).await;
    let reg_ep = endpoint(2).await;
    let mut registers = registrar(&reg_ep, 200);
    let start = Instant::now();
    let reg = alice
        .register(params(&alice, &reg_ep).expires(120))
        .unwrap();
    let (t0, e0) = within(&mut registers, 10).await;
    assert_eq!(e0, Some(120));
    assert!(secs(t0 - start) < 1.0);
    // Granted 60 s (our Contact's expires in the 200): refreshed every 51 s.
    for n in 1..=3u32 {
        let (t, e) = within(&mut registers, 100).await;
        let at = secs(t - start);
        let want = 51.0 * f64::from(n);
        assert!((want..want + 1.0).contains(&at), "refresh {n} at {at}");
        assert_eq!(e, Some(120));
    }
    assert_eq!(reg.granted(), Some(Duration::from_secs(60)));
    let ctx = reg.context().clone();
    drop(reg);
    let (_, e) = within(&mut registers, 10).await;
    assert_eq!(e, Some(0), "dropping the handle unregisters");
    eventually("the registration is over", || ctx.is_closed()).await;
    // And nothing more comes.
    assert!(
        tokio::time::timeout(Duration::from_secs(600), registers.recv())
            .await
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn failed_registration_is_reported_and_retried() {
    let alice = endpoint(1).await;
    let reg_ep = endpoint(2).await;
    let mut registers = registrar(&reg_ep, 503);
    let (opts, mut events) = recorder();
    let mut p = params(&alice, &reg_ep);
    p.callback = opts.callback;
    let start = Instant::now();
    let reg = alice.register(p).unwrap();
    within(&mut registers, 10).await;
    assert_eq!(
        within(&mut events, 10).await,
        Ev::Response(503, "REGISTER".into(), 1)
    );
    // Retried after EndpointConfig::register_retry (30 s).
    let (t, _) = within(&mut registers, 100).await;
    let at = secs(t - start);
    assert!((30.0..31.0).contains(&at), "retry at {at}");
    reg.keep();
}

#[tokio::test(start_paused = true)]
async fn unacknowledged_2xx_is_retransmitted_then_the_call_ends_with_a_bye() {
    let bob = endpoint(2).await;
    let mut bob_seen = uas(&bob, |_| vec![200]);
    // A caller that never ACKs: a bare dispatcher.
    let caller = dispatcher(3).await;
    let (tx, mut heard) = unbounded_channel();
    let tx2 = tx.clone();
    let c = caller.clone();
    caller.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
        match m {
            Message::Request(r) if r.method() == &Method::Bye => {
                let _ = tx2.send(("BYE", Instant::now()));
                c.deliver(Response::from_request(r, 200, None), DeliverOptions::new());
            }
            Message::Response(r) if r.status() == 200 => {
                let _ = tx2.send(("200", Instant::now()));
            }
            _ => {}
        }
        true
    }));
    let here = caller.legs()[0].local_addr();
    let mut invite = Request::new(Method::Invite, uri("bob", &bob).parse().unwrap());
    for (n, v) in [
        ("From", "<sip:carol@example.com>;tag=c1".to_owned()),
        ("To", format!("<{}>", uri("bob", &bob))),
        ("Call-ID", "no-ack".to_owned()),
        ("CSeq", "1 INVITE".to_owned()),
        ("Contact", format!("<sip:carol@{here}>")),
        ("Max-Forwards", "70".to_owned()),
    ] {
        invite.headers_mut().add(n, v);
    }
    let start = Instant::now();
    caller.deliver(
        invite,
        DeliverOptions::new()
            .dst(target(bob.dispatcher()))
            .callback(move |ev| {
                if let DeliveryEvent::Response(r) = ev {
                    if r.status() == 200 {
                        let _ = tx.send(("200", Instant::now()));
                    }
                }
            }),
    );
    let mut oks = Vec::new();
    let bye_at = loop {
        let (what, t) = within(&mut heard, 100).await;
        match what {
            "200" => oks.push(secs(t - start)),
            _ => break secs(t - start),
        }
    };
    // Sent at 0, then T1, 2T1, 4T1, 8T1 and every T2 (4 s): 0, 0.5, 1.5, 3.5, 7.5, 11.5 ...
    // 31.5; received each no later than the next one is sent.
    let schedule = [
        0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5, 32.0,
    ];
    assert_eq!(oks.len(), 11, "{oks:?}");
    for (i, at) in oks.iter().enumerate() {
        assert!(
            (schedule[i]..=schedule[i + 1]).contains(at),
            "2xx #{i} at {at}: {oks:?}"
        );
    }
    // 64·T1 without an ACK: the dialog is ended with a BYE (RFC 3261 §13.3.1.4).
    assert!((32.0..33.0).contains(&bye_at), "BYE at {bye_at}");
    let invite = seen(&mut bob_seen, Method::Invite).await;
    eventually("bob closed the call", || invite.ctx.is_closed()).await;
    assert!(bob.contexts().is_empty());
}
