//! Registering at a registrar (a small one of this test's own, on an endpoint): the digest
//! challenge answered with the configured credentials, wrong credentials and refusals
//! reported, no registrar configured, the binding removed at shutdown.

mod util;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use sip_dispatch::resolve::StaticResolver;
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{Context, Endpoint, EndpointConfig};
use sip_packet::digest::{verify, Secret};
use sip_packet::{AuthValue, Method, Request, Response};
use sip_simple::{RegisterError, Simple};
use sip_transport::{Leg, LegConfig};
use util::*;

/// What the registrar saw: the Expires and the Contact of each REGISTER it accepted.
type Seen = Arc<Mutex<Vec<(Option<u32>, String)>>>;

/// A registrar on 127.0.0.1 that challenges every REGISTER without credentials and accepts
/// those of `user`/`password` (or refuses everything with `refuse`).
async fn registrar(
    user: &'static str,
    password: &'static str,
    refuse: Option<u16>,
) -> (Endpoint, Seen) {
    let dispatcher = Dispatcher::new(
        vec![LegConfig::new("udp:127.0.0.1:0".parse().unwrap())],
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await
    .unwrap();
    let ep = Endpoint::new(dispatcher, EndpointConfig::default());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    ep.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _: SocketAddr| {
            if req.method() != &Method::Register {
                return false;
            }
            if let Some(status) = refuse {
                ep.new_response(ctx, status, req).unwrap();
                return true;
            }
            let authorized = req
                .headers()
                .get("Authorization")
                .and_then(|v| AuthValue::parse(v).ok())
                .and_then(|a| verify(&a, "REGISTER", b"", &Secret::Password(password)).ok())
                .is_some_and(|c| c.username == user);
            let mut r;
            if authorized {
                let expires = req.headers().expires().ok().flatten();
                let contact = req.headers().get("Contact").unwrap().to_string();
                log.lock().unwrap().push((expires, contact.clone()));
                r = Response::from_request(req, 200, None);
                r.headers_mut()
                    .add("Contact", format!("{contact};expires=60"));
            } else {
                r = Response::from_request(req, 401, None);
                r.headers_mut().add(
                    "WWW-Authenticate",
                    r#"Digest realm="test", nonce="abc123", qop="auth", algorithm=MD5"#,
                );
            }
            ep.new_response(ctx, r, req).unwrap();
            true
        },
    );
    (ep, seen)
}

fn registrar_addr(ep: &Endpoint) -> String {
    ep.dispatcher().legs()[0].local_addr().to_string()
}

#[tokio::test]
async fn register_answers_the_challenge_and_shutdown_unregisters() {
    let (reg, seen) = registrar("alice", "secret", None).await;
    let alice = Simple::new(
        config("alice")
            .registrar(registrar_addr(&reg))
            .credentials("alice", "secret"),
    )
    .await
    .unwrap();
    alice.register().await.unwrap();
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, Some(3600));
        assert!(
            seen[0]
                .1
                .contains(&format!("sip:alice@{}", alice.local_addrs()[0])),
            "{:?}",
            seen[0].1
        );
    }
    alice.shutdown().await;
    eventually("the unregistration", || {
        seen.lock().unwrap().iter().any(|(e, _)| *e == Some(0))
    })
    .await;
}

#[tokio::test]
async fn wrong_credentials_refusal_and_no_registrar_are_errors() {
    let (reg, _) = registrar("alice", "secret", None).await;
    let wrong = Simple::new(
        config("alice")
            .registrar(format!("sip:{}", registrar_addr(&reg)))
            .credentials("alice", "guess"),
    )
    .await
    .unwrap();
    assert_eq!(
        wrong.register().await,
        Err(RegisterError::Rejected {
            status: 401,
            reason: "Unauthorized".into()
        })
    );
    let (refusing, _) = registrar("alice", "secret", Some(403)).await;
    let refused = Simple::new(config("alice").registrar(registrar_addr(&refusing)))
        .await
        .unwrap();
    assert!(matches!(
        refused.register().await,
        Err(RegisterError::Rejected { status: 403, .. })
    ));
    let nowhere = simple("alice").await;
    assert_eq!(nowhere.register().await, Err(RegisterError::NoRegistrar));
    nowhere.shutdown().await;
    assert_eq!(nowhere.register().await, Err(RegisterError::Shutdown));
}

#[tokio::test(start_paused = true)]
async fn the_registration_is_refreshed_before_it_runs_out() {
    let (reg, seen) = registrar("alice", "secret", None).await;
    let alice = Simple::new(
        config("alice")
            .registrar(registrar_addr(&reg))
            .credentials("alice", "secret")
            .register_expires(60),
    )
    .await
    .unwrap();
    let start = tokio::time::Instant::now();
    alice.register().await.unwrap();
    // Granted 60 s: refreshed after 85 % of it, challenge answered again.
    eventually("the refresh", || seen.lock().unwrap().len() == 2).await;
    let after = start.elapsed();
    assert!(
        after >= std::time::Duration::from_secs(51) && after < std::time::Duration::from_secs(52),
        "{after:?}"
    );
    assert_eq!(seen.lock().unwrap()[1].0, Some(60));
}
