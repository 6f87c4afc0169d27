//! The registrar and the redirect server in a dispatcher on loopback, with a dispatcher of
//! ours as the client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::resolve::{StaticResolver, Target};
use sip_dispatch::{
    DeliverOptions, DeliveryEvent, Dispatcher, DispatcherConfig, ReceiveChain, Receiver,
};
use sip_packet::{HeaderName, Method, Request, Response};
use sip_registrar::{Redirect, RedirectReceiver, Registrar, RegistrarConfig, RegistrarReceiver};
use sip_transport::LegConfig;

fn config() -> DispatcherConfig {
    DispatcherConfig::default()
        .seed(1)
        .resolver(Arc::new(StaticResolver::new()))
}

async fn dispatcher(addrs: &[&str]) -> Dispatcher {
    let legs = addrs
        .iter()
        .map(|a| LegConfig::new(a.parse().unwrap()))
        .collect();
    Dispatcher::new(legs, config()).await.unwrap()
}

/// A registrar listening on `addrs`; its Arc for looking inside.
async fn server(addrs: &[&str], config: RegistrarConfig) -> (Dispatcher, Arc<Registrar>) {
    let d = dispatcher(addrs).await;
    let registrar = Arc::new(Registrar::new(config).unwrap());
    d.set_receiver(Arc::new(RegistrarReceiver::new(
        registrar.clone(),
        d.clone(),
    )));
    (d, registrar)
}

fn host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

/// A request with the headers given as `Name: value` lines (the dispatcher adds the Via).
fn request(method: Method, uri: &str, lines: &[String]) -> Request {
    let mut req = Request::new(method, uri.parse().unwrap());
    req.headers_mut().add(HeaderName::MaxForwards, "70");
    for line in lines {
        let (n, v) = line.split_once(": ").unwrap();
        req.headers_mut().add(n, v.to_owned());
    }
    req
}

fn register(server: SocketAddr, user: &str, cseq: u32, extra: &[&str]) -> Request {
    let mut lines = vec![
        format!("From: <sip:{user}@example.com>;tag=f{cseq}"),
        format!("To: <sip:{user}@example.com>"),
        format!("Call-ID: reg-{user}@client"),
        format!("CSeq: {cseq} REGISTER"),
    ];
    lines.extend(extra.iter().map(|s| s.to_string()));
    request(Method::Register, &format!("sip:{}", host(server)), &lines)
}

async fn send(client: &Dispatcher, server: &Dispatcher, leg: usize, req: Request) -> Response {
    let l = &server.legs()[leg];
    let dst = Target::new(l.protocol(), l.local_addr(), None);
    let what = format!("{} {}", req.method(), req.headers().cseq().unwrap());
    // The final response through a callback rather than `Dispatcher::request`, which gives
    // up (`Shutdown`) when a provisional response comes first, as the 100 to an INVITE does.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    client.deliver(
        req,
        DeliverOptions::new().dst(dst).callback(move |ev| {
            let _ = tx.send(ev);
        }),
    );
    let fin = async {
        loop {
            match rx.recv().await {
                Some(DeliveryEvent::Response(r)) if r.status() >= 200 => return r,
                Some(DeliveryEvent::Response(_)) => {}
                Some(DeliveryEvent::Failed(e)) => panic!("{what}: {e}"),
                Some(other) => panic!("{what}: {other:?}"),
                None => panic!("{what}: the delivery ended without a final response"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), fin)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in time"))
}

fn contacts(r: &Response) -> Vec<String> {
    r.headers()
        .get_all(HeaderName::Contact)
        .map(|v| v.to_string())
        .collect()
}

async fn register_refresh_fetch_unregister(server_addrs: &[&str], client_addr: &str, leg: usize) {
    let (srv, registrar) = server(server_addrs, RegistrarConfig::new().standalone(true)).await;
    let client = dispatcher(&[client_addr]).await;
    let at = srv.legs()[leg].local_addr();

    let ok = send(
        &client,
        &srv,
        leg,
        register(
            at,
            "alice",
            1,
            &["Contact: <sip:alice@192.0.2.1:5062>", "Expires: 3600"],
        ),
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(contacts(&ok), ["<sip:alice@192.0.2.1:5062>;expires=300"]);
    assert!(ok.headers().get(HeaderName::Date).is_some());
    assert!(ok.headers().to().unwrap().tag().is_some());

    let brief = send(
        &client,
        &srv,
        leg,
        register(
            at,
            "alice",
            2,
            &["Contact: <sip:alice@192.0.2.1:5062>;expires=5"],
        ),
    )
    .await;
    assert_eq!(brief.status(), 423);
    assert_eq!(brief.headers().min_expires().unwrap(), Some(30));

    let refresh = send(
        &client,
        &srv,
        leg,
        register(
            at,
            "alice",
            3,
            &["Contact: <sip:alice@192.0.2.1:5062>;expires=60"],
        ),
    )
    .await;
    assert_eq!(
        contacts(&refresh),
        ["<sip:alice@192.0.2.1:5062>;expires=60"]
    );

    let stale = send(
        &client,
        &srv,
        leg,
        register(
            at,
            "alice",
            3,
            &["Contact: <sip:alice@192.0.2.1:5062>;expires=60"],
        ),
    )
    .await;
    assert_eq!(stale.status(), 500);

    let fetch = send(&client, &srv, leg, register(at, "alice", 4, &[])).await;
    assert_eq!(contacts(&fetch).len(), 1);

    let aor = "sip:alice@example.com".parse().unwrap();
    assert_eq!(registrar.query(std::time::Instant::now(), &aor).len(), 1);

    let gone = send(
        &client,
        &srv,
        leg,
        register(at, "alice", 5, &["Contact: *", "Expires: 0"]),
    )
    .await;
    assert_eq!(gone.status(), 200);
    assert!(contacts(&gone).is_empty());
    assert!(registrar.query(std::time::Instant::now(), &aor).is_empty());

    // Anything else gets the dispatcher's 501.
    let options = request(
        Method::Options,
        &format!("sip:{}", host(at)),
        &[
            "From: <sip:alice@example.com>;tag=o".into(),
            "To: <sip:registrar@example.com>".into(),
            "Call-ID: opt@client".into(),
            "CSeq: 1 OPTIONS".into(),
        ],
    );
    assert_eq!(send(&client, &srv, leg, options).await.status(), 501);
    srv.shutdown();
    client.shutdown();
}

#[tokio::test]
async fn registers_over_udp() {
    register_refresh_fetch_unregister(&["udp:127.0.0.1:0"], "udp:127.0.0.1:0", 0).await;
}

#[tokio::test]
async fn registers_over_tcp() {
    register_refresh_fetch_unregister(
        &["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
        "tcp:127.0.0.1:0",
        1,
    )
    .await;
}

#[tokio::test]
async fn registers_over_ipv6_when_there_is_loopback() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback on this machine: skipped");
        return;
    }
    register_refresh_fetch_unregister(&["udp:[::1]:0"], "udp:[::1]:0", 0).await;
}

#[tokio::test]
async fn foreign_domain_is_404_standalone() {
    let (srv, _) = server(
        &["udp:127.0.0.1:0"],
        RegistrarConfig::new()
            .domain("example.org")
            .standalone(true),
    )
    .await;
    let client = dispatcher(&["udp:127.0.0.1:0"]).await;
    let at = srv.legs()[0].local_addr();
    let resp = send(
        &client,
        &srv,
        0,
        register(at, "alice", 1, &["Contact: <sip:alice@192.0.2.1>"]),
    )
    .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test(start_paused = true)]
async fn the_sweep_removes_expired_bindings_on_the_timer() {
    let (srv, registrar) = server(
        &["udp:127.0.0.1:0"],
        RegistrarConfig::new().remember_for(Duration::from_secs(10)),
    )
    .await;
    let client = dispatcher(&["udp:127.0.0.1:0"]).await;
    let at = srv.legs()[0].local_addr();
    let ok = send(
        &client,
        &srv,
        0,
        register(
            at,
            "alice",
            1,
            &["Contact: <sip:alice@192.0.2.1>;expires=30"],
        ),
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(registrar.store().len(), 1);
    tokio::time::sleep(Duration::from_secs(31)).await;
    // Expired, remembered for 10 s more, then forgotten by the sweep alone.
    assert!(registrar
        .store()
        .get(&"sip:alice@example.com".parse().unwrap())
        .unwrap()
        .bindings()
        .is_empty());
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(registrar.store().is_empty());
}

/// A chain as Net::SIP builds it: the registrar for REGISTER, then the redirect server.
#[tokio::test]
async fn redirect_behind_the_registrar_in_a_chain() {
    let srv = dispatcher(&["udp:127.0.0.1:0"]).await;
    let registrar = Arc::new(Registrar::new(RegistrarConfig::new()).unwrap());
    let members: Vec<Arc<dyn Receiver>> = vec![
        Arc::new(RegistrarReceiver::new(registrar.clone(), srv.clone())),
        Arc::new(RedirectReceiver::new(Redirect::new(registrar), srv.clone())),
    ];
    srv.set_receiver(Arc::new(ReceiveChain::new(members)));
    let client = dispatcher(&["udp:127.0.0.1:0"]).await;
    let at = srv.legs()[0].local_addr();

    let ok = send(
        &client,
        &srv,
        0,
        register(
            at,
            "bob",
            1,
            &["Contact: <sip:bob@192.0.2.7>;q=0.2, <sip:bob@192.0.2.8>;q=0.8"],
        ),
    )
    .await;
    assert_eq!(ok.status(), 200);

    let invite = |user: &str| {
        request(
            Method::Invite,
            &format!("sip:{user}@example.com"),
            &[
                "From: <sip:carol@example.net>;tag=c1".into(),
                format!("To: <sip:{user}@example.com>"),
                format!("Call-ID: inv-{user}@client"),
                "CSeq: 1 INVITE".into(),
                "Contact: <sip:carol@192.0.2.9>".into(),
            ],
        )
    };
    let moved = send(&client, &srv, 0, invite("bob")).await;
    assert_eq!(moved.status(), 302);
    assert_eq!(
        contacts(&moved),
        [
            "<sip:bob@192.0.2.8>;q=0.8;expires=300",
            "<sip:bob@192.0.2.7>;q=0.2;expires=300"
        ]
    );
    assert_eq!(send(&client, &srv, 0, invite("nobody")).await.status(), 404);

    send(
        &client,
        &srv,
        0,
        register(at, "bob", 2, &["Contact: *", "Expires: 0"]),
    )
    .await;
    assert_eq!(send(&client, &srv, 0, invite("bob")).await.status(), 480);
}
