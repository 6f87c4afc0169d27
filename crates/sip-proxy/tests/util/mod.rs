//! Parties for the in-process network tests: a caller, callees and a proxy, all on
//! 127.0.0.1 with ports the system picks.

#![allow(dead_code)] // each test file uses its own part

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sip_dispatch::resolve::{StaticResolver, Target};
use sip_dispatch::{DeliverOptions, Dispatcher, DispatcherConfig, Receiver};
use sip_packet::{Message, Method, Request, Response};
use sip_proxy::{ProxyConfig, StatelessProxy};
use sip_transport::{Leg, LegConfig};

pub(crate) fn config() -> DispatcherConfig {
    DispatcherConfig::default()
        .seed(1)
        .resolver(Arc::new(StaticResolver::new()))
}

pub(crate) async fn dispatcher(addrs: &[&str], stateless: bool) -> Dispatcher {
    let legs = addrs
        .iter()
        .map(|a| LegConfig::new(a.parse().unwrap()))
        .collect();
    Dispatcher::new(legs, config().do_retransmits(!stateless))
        .await
        .unwrap()
}

/// A proxy on a UDP and a TCP leg.
pub(crate) async fn proxy(config: ProxyConfig) -> (Dispatcher, StatelessProxy) {
    let d = dispatcher(&["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], true).await;
    let p = StatelessProxy::new(d.clone(), config);
    d.set_receiver(Arc::new(p.clone()));
    (d, p)
}

pub(crate) fn target_of(d: &Dispatcher, leg: usize) -> Target {
    let l = &d.legs()[leg];
    Target::new(l.protocol(), l.local_addr(), None)
}

pub(crate) fn addr_of(d: &Dispatcher, leg: usize) -> SocketAddr {
    d.legs()[leg].local_addr()
}

/// A request without Via (the caller's dispatcher adds it).
pub(crate) fn request(method: &str, uri: &str, call_id: &str, cseq: u32) -> Request {
    let mut req = Request::new(Method::parse(method).unwrap(), uri.parse().unwrap());
    let h = req.headers_mut();
    h.add("From", "<sip:alice@example.com>;tag=a1");
    h.add("To", "<sip:bob@example.com>");
    h.add("Call-ID", call_id.to_owned());
    h.add("CSeq", format!("{cseq} {method}"));
    h.add("Max-Forwards", "70");
    h.add("Contact", "<sip:alice@127.0.0.1:9>");
    req
}

/// What a callee saw.
pub(crate) type Seen = Arc<Mutex<Vec<(Message, SocketAddr)>>>;

/// A stateless callee (it sees every retransmission, ACK and CANCEL): answers INVITE with
/// `invite_status` (only 180 when it is 180), CANCEL with 200 and the INVITE with 487,
/// everything else but ACK with 200.
pub(crate) async fn callee(addr: &str, invite_status: u16) -> (Dispatcher, Seen) {
    let d = dispatcher(&[addr], true).await;
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let d2 = d.clone();
    let pending: Arc<Mutex<Option<Request>>> = Arc::new(Mutex::new(None));
    let receiver = move |m: &Message, leg: &Leg, from: SocketAddr| {
        log.lock().unwrap().push((m.clone(), from));
        let Message::Request(r) = m else {
            return true;
        };
        let answer = |resp: Response| {
            // Back to where the request came from: the proxy's connection or socket.
            let dst = Target::new(leg.protocol(), from, None);
            d2.deliver(resp, DeliverOptions::new().dst(dst).leg(leg.id()));
        };
        let reply = |status| {
            let mut resp = Response::from_request(r, status, None);
            resp.set_to_tag("b1").unwrap();
            resp.headers_mut().add("Contact", "<sip:bob@127.0.0.1:9>");
            resp
        };
        match r.method() {
            Method::Ack => {}
            Method::Invite => {
                *pending.lock().unwrap() = Some(r.clone());
                answer(reply(invite_status));
            }
            Method::Cancel => {
                answer(reply(200));
                if let Some(invite) = pending.lock().unwrap().take() {
                    let mut resp = Response::from_request(&invite, 487, None);
                    resp.set_to_tag("b1").unwrap();
                    answer(resp);
                }
            }
            _ => answer(reply(200)),
        }
        true
    };
    d.set_receiver(Arc::new(receiver));
    (d, seen)
}

/// The requests of this method a callee saw.
pub(crate) fn requests(seen: &Seen, method: Method) -> Vec<Request> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|(m, _)| match m {
            Message::Request(r) if r.method() == &method => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// Waits (up to 5 s of real time) until `f` holds.
pub(crate) async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met in 5 s");
}

/// Makes a receiver from a closure, for chains.
pub(crate) fn arc<R: Receiver + 'static>(r: R) -> Arc<dyn Receiver> {
    Arc::new(r)
}
