//! Endpoints on loopback, an answering application and recorders for the tests.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part of this

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::resolve::{StaticResolver, Target};
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{CallEvent, CallParams, Context, Endpoint, EndpointConfig, RequestOptions};
use sip_packet::{Method, Request, Response};
use sip_transport::{Leg, LegConfig};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                       m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// A dispatcher with one UDP leg on 127.0.0.1 and a resolver that knows no names.
pub async fn dispatcher(seed: u64) -> Dispatcher {
    Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        DispatcherConfig::default()
            .seed(seed)
            .resolver(Arc::new(StaticResolver::new())),
    )
    .await
    .unwrap()
}

/// An endpoint on a fresh dispatcher.
pub async fn endpoint(seed: u64) -> Endpoint {
    Endpoint::new(dispatcher(seed).await, EndpointConfig::default().seed(seed))
}

pub fn addr(ep: &Endpoint) -> SocketAddr {
    ep.dispatcher().legs()[0].local_addr()
}

pub fn target(d: &Dispatcher) -> Target {
    let l = &d.legs()[0];
    Target::new(l.protocol(), l.local_addr(), None)
}

/// `sip:user@` the endpoint's address.
pub fn uri(user: &str, ep: &Endpoint) -> String {
    format!("sip:{user}@{}", addr(ep))
}

/// Parameters of a call from alice to bob.
pub fn call_params(alice: &Endpoint, bob: &Endpoint) -> CallParams {
    CallParams::parse(
        &format!("<{}>", uri("alice", alice)),
        &format!("<{}>", uri("bob", bob)),
    )
    .unwrap()
}

/// A request an application saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub cseq: u32,
    pub ctx: Context,
    pub request: Request,
}

/// A 200 with an SDP answer.
pub fn ok_with_sdp(request: &Request) -> Response {
    let mut ok = Response::from_request(request, 200, None);
    ok.set_body(Some("application/sdp"), SDP);
    ok
}

/// Installs an application on `ep` that reports every request and answers each INVITE (new
/// or re-INVITE) with the statuses `answer` returns for it (200 with an SDP body); other
/// requests but OPTIONS get 200. OPTIONS is left to the endpoint.
pub fn uas(
    ep: &Endpoint,
    answer: impl Fn(&Request) -> Vec<u16> + Send + Sync + 'static,
) -> UnboundedReceiver<Seen> {
    let (tx, rx) = unbounded_channel();
    ep.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _leg: &Leg, _from: SocketAddr| {
            let cseq = req.headers().cseq().map(|c| c.seq()).unwrap_or(0);
            let _ = tx.send(Seen {
                method: req.method().clone(),
                cseq,
                ctx: ctx.clone(),
                request: req.clone(),
            });
            match req.method() {
                Method::Invite => {
                    for status in answer(req) {
                        let r = if status == 200 {
                            ok_with_sdp(req)
                        } else {
                            Response::from_request(req, status, None)
                        };
                        ep.new_response(ctx, r, req).unwrap();
                    }
                    true
                }
                Method::Options => false,
                Method::Ack | Method::Bye | Method::Cancel => true,
                _ => {
                    ep.new_response(ctx, 200, req).unwrap();
                    true
                }
            }
        },
    );
    rx
}

/// What a context's callback heard, in short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    /// status, method, CSeq number
    Response(u16, String, u32),
    Failed(String),
    Fork(u16),
}

/// Options with a callback that reports into the returned channel.
pub fn recorder() -> (RequestOptions, UnboundedReceiver<Ev>) {
    let (tx, rx) = unbounded_channel();
    let opts = RequestOptions::new().callback(move |_: &Endpoint, _: &Context, ev: &CallEvent| {
        let ev = match ev {
            CallEvent::Response(r) => {
                let c = r.headers().cseq().unwrap();
                Ev::Response(r.status(), c.method().to_string(), c.seq())
            }
            CallEvent::Failed(e) => Ev::Failed(e.to_string()),
            CallEvent::ForkReleased(r) => Ev::Fork(r.status()),
            other => Ev::Failed(format!("unexpected {other:?}")),
        };
        let _ = tx.send(ev);
    });
    (opts, rx)
}

/// The next item, within 5 s.
pub async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("timed out waiting")
        .expect("channel closed")
}

/// Skips items until one for which `want` holds, within 5 s; returns it and the skipped ones.
pub async fn until<T: std::fmt::Debug>(
    rx: &mut UnboundedReceiver<T>,
    want: impl Fn(&T) -> bool,
) -> (T, Vec<T>) {
    let mut skipped = Vec::new();
    loop {
        let item = next(rx).await;
        if want(&item) {
            return (item, skipped);
        }
        skipped.push(item);
    }
}

/// The next request of `method` the application saw.
pub async fn seen(rx: &mut UnboundedReceiver<Seen>, method: Method) -> Seen {
    until(rx, |s| s.method == method).await.0
}

/// Waits (up to 5 s) until `cond` holds.
pub async fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}
