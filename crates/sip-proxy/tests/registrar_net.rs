//! The proxy with sip-registrar's Registrar as its location service (feature `registrar`),
//! over real sockets on 127.0.0.1: Net::SIP's test_registrar_and_proxy.pl.
#![cfg(feature = "registrar")]

mod util;

use std::sync::Arc;
use std::time::Instant;

use sip_dispatch::{DeliverOptions, ReceiveChain};
use sip_packet::{Method, Uri};
use sip_proxy::{Locate, ProxyConfig, StatelessProxy};
use sip_registrar::{Registrar, RegistrarConfig, RegistrarReceiver};
use util::*;

#[tokio::test]
async fn registered_user_is_reached_through_the_proxy() {
    let proxy = dispatcher(&["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], true).await;
    let registrar = Arc::new(
        Registrar::new(RegistrarConfig::new().domains(["example.com".to_owned()])).unwrap(),
    );
    let locator: Arc<dyn Locate> = registrar.clone();
    let p = StatelessProxy::new(
        proxy.clone(),
        ProxyConfig::new().domain("example.com").locator(locator),
    );
    let reg = ReceiveChain::new(vec![arc(RegistrarReceiver::new(
        registrar.clone(),
        proxy.clone(),
    ))])
    .with_methods(&[Method::Register]);
    proxy.set_receiver(Arc::new(ReceiveChain::new(vec![arc(reg), arc(p)])));

    let (bob, seen) = callee("udp:127.0.0.1:0", 200).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;

    // Nobody registered yet: 404 for our domain.
    let r = alice
        .request(
            request("MESSAGE", "sip:bob@example.com", "c-r0", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let mut register = request("REGISTER", "sip:example.com", "c-reg", 1);
    register
        .headers_mut()
        .set("From", "<sip:bob@example.com>;tag=r1");
    register.headers_mut().set(
        "Contact",
        format!("<sip:bob@{}>;expires=60", addr_of(&bob, 0)),
    );
    let r = alice
        .request(register, DeliverOptions::new().dst(target_of(&proxy, 0)))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bob_aor: Uri = "sip:bob@example.com".parse().unwrap();
    assert_eq!(registrar.locate(Instant::now(), &bob_aor).unwrap().len(), 1);

    let r = alice
        .request(
            request("MESSAGE", "sip:bob@example.com", "c-r1", 1),
            DeliverOptions::new().dst(target_of(&proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = requests(&seen, Method::Message);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].uri().to_string(),
        format!("sip:bob@{}", addr_of(&bob, 0))
    );
    // Another domain is not the registrar's: the locator does not know it.
    assert!(registrar
        .locate(Instant::now(), &"sip:bob@example.org".parse().unwrap())
        .is_none());
}
