//! The transaction layer alone (state machines, matching, timers: no sockets), and UDP
//! request/response round trips through two dispatchers on loopback.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sip_dispatch::layer::{LayerEvent, TransactionLayer};
use sip_dispatch::resolve::{StaticResolver, Target};
use sip_dispatch::transaction::TimerConfig;
use sip_dispatch::{DeliverOptions, Dispatcher, DispatcherConfig};
use sip_packet::{Message, Method, Request, Response};
use sip_transport::{Leg, LegConfig};

fn request(method: &str, branch: u64) -> Request {
    let raw = format!(
        "{method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{branch}\r\n\
         From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c{branch}\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    match Message::parse(Bytes::from(raw)) {
        Ok(Message::Request(r)) => r,
        _ => unreachable!("a valid request"),
    }
}

/// One whole transaction between two layers: request, (180,) final, (ACK,) all matched.
fn one_transaction(
    client: &mut TransactionLayer<u8>,
    server: &mut TransactionLayer<u8>,
    now: Instant,
    req: Request,
    status: u16,
) {
    client.send_request(now, req, 1, false).expect("new branch");
    while let Some(t) = client.poll_transmit() {
        let Ok(Message::Request(r)) = Message::parse(t.bytes) else {
            unreachable!()
        };
        server.handle_request(now, r, 0, false).expect("matchable");
    }
    let mut answered = None;
    while let Some(ev) = server.poll_event() {
        if let LayerEvent::Request { request, .. } = ev {
            answered = Some(request);
        }
    }
    let req = answered.expect("the server got the request");
    let mut resp = Response::from_request(&req, status, None);
    let _ = resp.set_to_tag("b1");
    server.send_response(now, resp).expect("a transaction");
    while let Some(t) = server.poll_transmit() {
        let Ok(Message::Response(r)) = Message::parse(t.bytes) else {
            unreachable!()
        };
        client.handle_response(now, r, 0);
    }
    while let Some(t) = client.poll_transmit() {
        // the ACK of a non-2xx INVITE response
        let Ok(Message::Request(r)) = Message::parse(t.bytes) else {
            unreachable!()
        };
        server.handle_request(now, r, 0, false).expect("matchable");
    }
    while let Some(ev) = client.poll_event() {
        black_box(ev);
    }
}

fn layer(c: &mut Criterion) {
    let mut g = c.benchmark_group("transaction_layer");
    g.throughput(Throughput::Elements(1));
    for (name, method, status) in [
        ("options_200", "OPTIONS", 200),
        ("invite_486_ack", "INVITE", 486),
    ] {
        g.bench_function(name, |b| {
            let mut client = TransactionLayer::new(TimerConfig::default());
            let mut server = TransactionLayer::new(TimerConfig::default());
            let templates: Vec<Request> = (0..1024).map(|i| request(method, i)).collect();
            let mut n = 0u64;
            let t0 = Instant::now();
            b.iter(|| {
                n += 1;
                let mut req = templates[(n % 1024) as usize].clone();
                req.headers_mut().set(
                    "Via",
                    format!("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{n}"),
                );
                one_transaction(&mut client, &mut server, t0, req, status);
                // Let the completed transactions expire now and then, as time would.
                if n % 4096 == 0 {
                    let later = t0 + std::time::Duration::from_secs(3600);
                    client.handle_timeout(later);
                    server.handle_timeout(later);
                }
            });
        });
    }
    g.finish();
}

fn udp_round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (alice, bob_target) = rt.block_on(async {
        let config = || {
            DispatcherConfig::default()
                .seed(1)
                .resolver(Arc::new(StaticResolver::new()))
        };
        let bob = Dispatcher::new(
            vec![LegConfig::new("udp:127.0.0.1:0".parse().expect("addr"))],
            config(),
        )
        .await
        .expect("bob");
        let d = bob.clone();
        bob.set_receiver(Arc::new(move |m: &Message, _: &Leg, _: SocketAddr| {
            if let Message::Request(r) = m {
                let mut resp = Response::from_request(r, 200, None);
                let _ = resp.set_to_tag("b1");
                d.deliver(resp, DeliverOptions::new());
            }
            true
        }));
        let alice = Dispatcher::new(
            vec![LegConfig::new("udp:127.0.0.1:0".parse().expect("addr"))],
            config(),
        )
        .await
        .expect("alice");
        let leg = bob.legs()[0].clone();
        // Bob's task runs as long as the runtime: the receiver holds a handle to him.
        (alice, Target::new(leg.protocol(), leg.local_addr(), None))
    });
    let mut g = c.benchmark_group("udp_loopback");
    g.throughput(Throughput::Elements(1));
    g.bench_function("options_round_trip", |b| {
        b.to_async(&rt).iter(|| {
            let alice = alice.clone();
            let target = bob_target.clone();
            async move {
                let mut req =
                    Request::new(Method::Options, "sip:bob@127.0.0.1".parse().expect("uri"));
                for (n, v) in [
                    ("From", "<sip:alice@example.com>;tag=a1"),
                    ("To", "<sip:bob@example.com>"),
                    ("Call-ID", "bench@example.com"),
                    ("CSeq", "1 OPTIONS"),
                    ("Max-Forwards", "70"),
                ] {
                    req.headers_mut().add(n, v);
                }
                let resp = alice
                    .request(req, DeliverOptions::new().dst(target))
                    .await
                    .expect("200");
                black_box(resp.status())
            }
        });
    });
    g.finish();
}

criterion_group!(benches, layer, udp_round_trip);
criterion_main!(benches);
