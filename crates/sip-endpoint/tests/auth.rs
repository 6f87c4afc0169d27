//! Digest authentication against a tiny authenticator (an endpoint whose application checks
//! credentials with `sip_packet::digest::verify`): success for REGISTER (401) and INVITE
//! (407), a wrong password that fails instead of looping, a stale nonce answered again.

mod util;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use sip_endpoint::{Context, Credentials, Endpoint, RegisterParams, RequestOptions};
use sip_packet::digest::{verify, Secret};
use sip_packet::{AuthValue, Method, NameAddr, Request, Response};
use sip_transport::Leg;
use util::*;

/// What the authenticator saw: method, CSeq, whether credentials came with it.
type Log = Arc<Mutex<Vec<(String, u32, bool)>>>;

struct Authenticator {
    password: &'static str,
    /// Answer the first valid credentials with `stale=true` and a new nonce.
    stale_once: bool,
    nonce: Mutex<u32>,
    log: Log,
}

impl Authenticator {
    fn install(ep: &Endpoint, password: &'static str, stale_once: bool) -> Log {
        let log = Log::default();
        let auth = Arc::new(Self {
            password,
            stale_once,
            nonce: Mutex::new(0),
            log: log.clone(),
        });
        ep.set_application(
            move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _: SocketAddr| {
                auth.handle(ep, ctx, req)
            },
        );
        log
    }

    fn handle(&self, ep: &Endpoint, ctx: &Context, req: &Request) -> bool {
        if req.method() == &Method::Ack {
            let seq = req.headers().cseq().unwrap().seq();
            let creds = req.headers().get("Proxy-Authorization").is_some();
            self.log.lock().unwrap().push(("ACK".into(), seq, creds));
        }
        if matches!(req.method(), Method::Ack | Method::Bye | Method::Cancel) {
            return true;
        }
        let (status, want, challenge) = match req.method() {
            Method::Invite => (407, "Proxy-Authorization", "Proxy-Authenticate"),
            _ => (401, "Authorization", "WWW-Authenticate"),
        };
        let given = req
            .headers()
            .get(want)
            .and_then(|v| AuthValue::parse(v).ok());
        let seq = req.headers().cseq().unwrap().seq();
        self.log
            .lock()
            .unwrap()
            .push((req.method().to_string(), seq, given.is_some()));
        let mut nonce = self.nonce.lock().unwrap();
        let verdict = given.as_ref().map(|v| {
            let ok = verify(
                v,
                req.method().as_str(),
                req.body(),
                &Secret::Password(self.password),
            );
            let fresh = v.get("nonce").is_some_and(|n| n == format!("n{}", *nonce));
            ok.is_ok() && fresh
        });
        let accept = match verdict {
            Some(true) if self.stale_once && *nonce == 1 => {
                *nonce += 1;
                let mut r = Response::from_request(req, status, None);
                r.headers_mut().add(
                    challenge,
                    format!(
                        "Digest realm=\"test\", nonce=\"n{}\", qop=\"auth\", stale=true",
                        *nonce
                    ),
                );
                ep.new_response(ctx, r, req).unwrap();
                return true;
            }
            Some(true) => true,
            _ => false,
        };
        if accept {
            let r = if req.method() == &Method::Invite {
                ok_with_sdp(req)
            } else {
                let mut r = Response::from_request(req, 200, None);
                if let Some(c) = req.headers().get("Contact") {
                    r.headers_mut().add("Contact", format!("{c};expires=60"));
                }
                r
            };
            ep.new_response(ctx, r, req).unwrap();
        } else {
            *nonce += 1;
            let mut r = Response::from_request(req, status, None);
            r.headers_mut().add(
                challenge,
                format!("Digest realm=\"test\", nonce=\"n{}\", qop=\"auth\"", *nonce),
            );
            ep.new_response(ctx, r, req).unwrap();
        }
        true
    }
}

fn register_params(alice: &Endpoint, registrar: &Endpoint, password: &str) -> RegisterParams {
    RegisterParams::new(
        uri("registrar", registrar)
            .replace("registrar@", "")
            .parse()
            .unwrap(),
        NameAddr::parse("<sip:alice@example.com>").unwrap(),
        NameAddr::parse(&format!("<{}>", uri("alice", alice))).unwrap(),
    )
    .auth(Credentials::new("alice", password))
}

fn recording(p: RegisterParams) -> (RegisterParams, tokio::sync::mpsc::UnboundedReceiver<Ev>) {
    let (opts, rx) = recorder();
    let mut p = p;
    p.callback = opts.callback;
    (p, rx)
}

#[tokio::test]
async fn register_answers_the_401_and_counts_the_cseq_up() {
    let alice = endpoint(1).await;
    let registrar = endpoint(2).await;
    let log = Authenticator::install(&registrar, "secret", false);
    let (params, mut events) = recording(register_params(&alice, &registrar, "secret"));
    let reg = alice.register(params).unwrap();
    assert_eq!(
        next(&mut events).await,
        Ev::Response(200, "REGISTER".into(), 2)
    );
    assert_eq!(
        *log.lock().unwrap(),
        [("REGISTER".into(), 1, false), ("REGISTER".into(), 2, true)]
    );
    assert_eq!(reg.granted(), Some(std::time::Duration::from_secs(60)));
    reg.keep();
}

#[tokio::test]
async fn wrong_password_fails_after_one_retry() {
    let alice = endpoint(1).await;
    let registrar = endpoint(2).await;
    let log = Authenticator::install(&registrar, "secret", false);
    let (params, mut events) = recording(register_params(&alice, &registrar, "wrong"));
    let reg = alice.register(params).unwrap();
    // The second challenge (new nonce, not stale) is a refusal, reported as the 401 it is.
    assert_eq!(
        next(&mut events).await,
        Ev::Response(401, "REGISTER".into(), 2)
    );
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(reg.granted(), None);
    reg.keep();
}

#[tokio::test]
async fn stale_nonce_is_answered_with_the_new_one() {
    let alice = endpoint(1).await;
    let registrar = endpoint(2).await;
    let log = Authenticator::install(&registrar, "secret", true);
    let (params, mut events) = recording(register_params(&alice, &registrar, "secret"));
    let reg = alice.register(params).unwrap();
    assert_eq!(
        next(&mut events).await,
        Ev::Response(200, "REGISTER".into(), 3)
    );
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            ("REGISTER".into(), 1, false),
            ("REGISTER".into(), 2, true),
            ("REGISTER".into(), 3, true)
        ]
    );
    reg.keep();
}

#[tokio::test]
async fn invite_answers_the_407_and_the_ack_carries_the_credentials() {
    let alice = endpoint(1).await;
    let bob = endpoint(2).await;
    let log = Authenticator::install(&bob, "pw", false);
    let (opts, mut events) = recorder();
    let params = call_params(&alice, &bob).auth(Credentials::per_realm(|realm| {
        (realm == "test").then(|| ("alice".to_owned(), "pw".to_owned()))
    }));
    let ctx = alice
        .call(params, opts.body("application/sdp", SDP))
        .unwrap();
    let (ok, skipped) = until(
        &mut events,
        |e| matches!(e, Ev::Response(s, _, _) if *s >= 200),
    )
    .await;
    assert_eq!(ok, Ev::Response(200, "INVITE".into(), 2), "{skipped:?}");
    eventually("the ACK came", || log.lock().unwrap().len() == 3).await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            ("INVITE".into(), 1, false),
            ("INVITE".into(), 2, true),
            ("ACK".into(), 2, true)
        ]
    );
    assert!(ctx.is_established());
    alice
        .new_request(Method::Bye, &ctx, RequestOptions::new())
        .unwrap();
    assert_eq!(next(&mut events).await, Ev::Response(200, "BYE".into(), 3));
}
