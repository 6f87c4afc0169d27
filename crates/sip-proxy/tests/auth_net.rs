//! Digest authorization in front of the proxy, between real dispatchers on 127.0.0.1.

mod util;

use std::sync::Arc;
use std::time::Duration;

use sip_dispatch::{DeliverOptions, Dispatcher, ReceiveChain};
use sip_packet::digest::{Algorithm, DigestChallenge, DigestClient};
use sip_packet::{AuthValue, Method, Response};
use sip_proxy::{
    AuthConfig, Authorize, Blocker, DropRule, Dropper, ProxyConfig, StatelessProxy, UserFile,
};
use util::*;

struct Setup {
    proxy: Dispatcher,
    alice: Dispatcher,
    bob_uri: String,
    seen: Seen,
    _bob: Dispatcher,
}

async fn setup() -> Setup {
    let proxy = dispatcher(&["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], true).await;
    let users = UserFile::parse("alice:secret\n").unwrap();
    let auth = Authorize::new(
        proxy.clone(),
        AuthConfig::new("example.com", Arc::new(users)).seed(3),
    );
    let blocker = Blocker::new(proxy.clone(), [(Method::Subscribe, 405, None)]);
    let dropper = Dropper::new(vec![DropRule::header("User-Agent", "friendly-scanner")]);
    let p = StatelessProxy::new(proxy.clone(), ProxyConfig::new());
    proxy.set_receiver(Arc::new(ReceiveChain::new(vec![
        arc(dropper),
        arc(blocker),
        arc(auth),
        arc(p),
    ])));
    let (bob, seen) = callee("udp:127.0.0.1:0", 200).await;
    let alice = dispatcher(&["udp:127.0.0.1:0"], false).await;
    Setup {
        bob_uri: format!("sip:bob@{}", addr_of(&bob, 0)),
        proxy,
        alice,
        seen,
        _bob: bob,
    }
}

impl Setup {
    async fn send(&self, cseq: u32, credentials: Option<String>) -> Response {
        let mut req = request("MESSAGE", &self.bob_uri, "c-auth", cseq);
        if let Some(c) = credentials {
            req.headers_mut().add("Proxy-Authorization", c);
        }
        self.alice
            .request(req, DeliverOptions::new().dst(target_of(&self.proxy, 0)))
            .await
            .unwrap()
    }

    fn answer(&self, ch: &DigestChallenge, user: &str, password: &str, nc: u32) -> String {
        DigestClient {
            username: user,
            password,
            method: "MESSAGE",
            uri: &self.bob_uri,
            body: b"",
            cnonce: "cn1",
            nc,
        }
        .answer(ch)
        .unwrap()
        .to_string()
    }
}

fn challenge(r: &Response) -> DigestChallenge {
    assert_eq!(r.status(), 407);
    r.headers()
        .get_all("Proxy-Authenticate")
        .map(|v| DigestChallenge::from_auth_value(&AuthValue::parse(v).unwrap()).unwrap())
        .find(|c| c.algorithm == Algorithm::Sha256)
        .unwrap()
}

#[tokio::test]
async fn no_credentials_407_then_the_right_password_passes() {
    let s = setup().await;
    let ch = challenge(&s.send(1, None).await);
    assert!(requests(&s.seen, Method::Message).is_empty());
    let r = s.send(2, Some(s.answer(&ch, "alice", "secret", 1))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(requests(&s.seen, Method::Message).len(), 1);
    // REGISTER gets 401.
    let mut reg = request("REGISTER", "sip:example.com", "c-reg", 1);
    reg.set_uri(format!("sip:{}", addr_of(&s.proxy, 0)).parse().unwrap());
    let r = s
        .alice
        .request(reg, DeliverOptions::new().dst(target_of(&s.proxy, 0)))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().count("WWW-Authenticate"), 2);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_challenge() {
    let s = setup().await;
    let ch = challenge(&s.send(1, None).await);
    let wrong = challenge(&s.send(2, Some(s.answer(&ch, "alice", "guess", 1))).await);
    let unknown = challenge(&s.send(3, Some(s.answer(&ch, "mallory", "guess", 1))).await);
    assert_eq!(
        (wrong.stale, wrong.realm.clone()),
        (false, "example.com".to_owned())
    );
    assert_eq!((unknown.stale, unknown.realm), (false, wrong.realm));
    assert!(requests(&s.seen, Method::Message).is_empty());
}

#[tokio::test]
async fn replayed_nonce_count_is_refused() {
    let s = setup().await;
    let ch = challenge(&s.send(1, None).await);
    let creds = s.answer(&ch, "alice", "secret", 1);
    assert_eq!(s.send(2, Some(creds.clone())).await.status(), 200);
    // The same credentials in a new transaction.
    challenge(&s.send(3, Some(creds)).await);
    assert_eq!(
        s.send(4, Some(s.answer(&ch, "alice", "secret", 2)))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn stale_nonce_gets_stale_true() {
    let s = setup().await;
    let ch = challenge(&s.send(1, None).await);
    // Move the clock past the nonce lifetime (300 s) without waiting.
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(301)).await;
    tokio::time::resume();
    let again = challenge(&s.send(2, Some(s.answer(&ch, "alice", "secret", 1))).await);
    assert!(again.stale);
    assert_eq!(
        s.send(3, Some(s.answer(&again, "alice", "secret", 1)))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn blocker_and_dropper_in_the_chain() {
    let s = setup().await;
    let r = s
        .alice
        .request(
            request("SUBSCRIBE", &s.bob_uri, "c-sub", 1),
            DeliverOptions::new().dst(target_of(&s.proxy, 0)),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers().get_all("Allow").any(|m| m == "INVITE"));
    // A scanner gets nothing at all: the caller times out... so send raw and listen briefly.
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let raw = format!(
        "OPTIONS {} SIP/2.0\r\nVia: SIP/2.0/UDP {};branch=z9hG4bKscan\r\nFrom: <sip:100@x>;tag=1\r\n\
         To: <sip:100@x>\r\nCall-ID: scan\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        s.bob_uri,
        sock.local_addr().unwrap()
    );
    sock.send_to(raw.as_bytes(), addr_of(&s.proxy, 0))
        .await
        .unwrap();
    let mut buf = [0u8; 2048];
    let got = tokio::time::timeout(Duration::from_millis(300), sock.recv_from(&mut buf)).await;
    assert!(got.is_err(), "the scanner got an answer");
    assert!(requests(&s.seen, Method::Options).is_empty());
}
