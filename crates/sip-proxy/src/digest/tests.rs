//! Digest rules without sockets, with a simulated clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sip_packet::digest::{Algorithm, DigestChallenge, DigestClient};
use sip_packet::{AuthValue, Message, Request, Response};

use super::*;
use crate::users::UserFile;

fn auth() -> (DigestAuth, Instant) {
    let users = UserFile::parse(&format!(
        "alice:secret\nbob:example.com:{}\n",
        Algorithm::Md5.ha1("bob", "example.com", "pw")
    ))
    .unwrap();
    let t0 = Instant::now();
    let config = AuthConfig::new("example.com", Arc::new(users)).seed(5);
    (DigestAuth::new(config, t0), t0)
}

fn request(method: &str, branch: &str, extra: &str) -> Request {
    let raw = format!(
        "{method} sip:carol@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch={branch}\r\n\
         From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:carol@example.com>\r\nCall-ID: c1\r\n\
         CSeq: 1 {method}\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
    );
    match Message::parse(raw.into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn challenge_of(outcome: AuthOutcome) -> Response {
    match outcome {
        AuthOutcome::Challenge(r) => r,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

/// The first (preferred) challenge of a 401/407.
fn parse_challenge(r: &Response, algorithm: Algorithm) -> DigestChallenge {
    let header = if r.status() == 407 {
        "Proxy-Authenticate"
    } else {
        "WWW-Authenticate"
    };
    r.headers()
        .get_all(header)
        .map(|v| DigestChallenge::from_auth_value(&AuthValue::parse(v).unwrap()).unwrap())
        .find(|c| c.algorithm == algorithm)
        .expect("challenge for the algorithm")
}

fn answer(ch: &DigestChallenge, method: &str, user: &str, password: &str, nc: u32) -> String {
    DigestClient {
        username: user,
        password,
        method,
        uri: "sip:carol@example.com",
        body: b"",
        cnonce: "cn",
        nc,
    }
    .answer(ch)
    .unwrap()
    .to_string()
}

fn with_credentials(method: &str, branch: &str, header: &str, value: &str) -> Request {
    request(method, branch, &format!("{header}: {value}\r\n"))
}

#[test]
fn no_credentials_gets_407_or_401_for_register() {
    let (a, t0) = auth();
    let r = challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", "")));
    assert_eq!(r.status(), 407);
    let offered: Vec<_> = r.headers().get_all("Proxy-Authenticate").collect();
    assert_eq!(offered.len(), 2);
    assert!(offered[0].contains("algorithm=SHA-256"), "{}", offered[0]);
    assert!(offered[1].contains("algorithm=MD5"));
    assert!(offered[0].contains("qop=\"auth\""));
    assert!(r.headers().to().unwrap().tag().unwrap().starts_with("au"));
    let r = challenge_of(a.check(t0, &request("REGISTER", "z9hG4bK2", "")));
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().count("WWW-Authenticate"), 2);
    let a401 = DigestAuth::new(a.config().clone().i_am_proxy(false), t0);
    assert_eq!(
        challenge_of(a401.check(t0, &request("INVITE", "z9hG4bK1", ""))).status(),
        401
    );
}

#[test]
fn right_password_passes_with_both_algorithms_and_ha1() {
    let (a, t0) = auth();
    for (algorithm, user, pw) in [
        (Algorithm::Sha256, "alice", "secret"),
        (Algorithm::Md5, "alice", "secret"),
        (Algorithm::Md5, "bob", "pw"),
    ] {
        let ch = parse_challenge(
            &challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", ""))),
            algorithm,
        );
        let req = with_credentials(
            "INVITE",
            "z9hG4bK3",
            "Proxy-Authorization",
            &answer(&ch, "INVITE", user, pw, 1),
        );
        match a.check(t0 + Duration::from_secs(10), &req) {
            AuthOutcome::Authorized { username } => assert_eq!(username, user),
            other => panic!("{algorithm:?} {user}: {other:?}"),
        }
    }
    // bob has only an MD5 HA1: a SHA-256 answer cannot be checked, so it fails.
    let ch = parse_challenge(
        &challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", ""))),
        Algorithm::Sha256,
    );
    let req = with_credentials(
        "INVITE",
        "z9hG4bK3",
        "Proxy-Authorization",
        &answer(&ch, "INVITE", "bob", "pw", 1),
    );
    assert!(matches!(a.check(t0, &req), AuthOutcome::Challenge(_)));
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_answer() {
    let (a, t0) = auth();
    let ch = parse_challenge(
        &challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", ""))),
        Algorithm::Sha256,
    );
    let wrong = challenge_of(a.check(
        t0,
        &with_credentials(
            "INVITE",
            "z9hG4bK4",
            "Proxy-Authorization",
            &answer(&ch, "INVITE", "alice", "nope", 1),
        ),
    ));
    let unknown = challenge_of(a.check(
        t0,
        &with_credentials(
            "INVITE",
            "z9hG4bK4",
            "Proxy-Authorization",
            &answer(&ch, "INVITE", "mallory", "x", 1),
        ),
    ));
    assert_eq!(wrong.status(), unknown.status());
    let shape = |r: &Response| -> Vec<String> {
        r.headers()
            .get_all("Proxy-Authenticate")
            .map(|v| {
                let c = DigestChallenge::from_auth_value(&AuthValue::parse(v).unwrap()).unwrap();
                format!("{:?} {} {:?} {}", c.algorithm, c.realm, c.qop, c.stale)
            })
            .collect()
    };
    assert_eq!(shape(&wrong), shape(&unknown));
    assert!(!parse_challenge(&wrong, Algorithm::Sha256).stale);
    // Credentials in the wrong header (Authorization for a proxied request) do not count.
    let req = with_credentials(
        "INVITE",
        "z9hG4bK5",
        "Authorization",
        &answer(&ch, "INVITE", "alice", "secret", 1),
    );
    assert!(matches!(a.check(t0, &req), AuthOutcome::Challenge(_)));
}

#[test]
fn expired_nonce_is_stale_only_with_the_right_password() {
    let (a, t0) = auth();
    let ch = parse_challenge(
        &challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", ""))),
        Algorithm::Md5,
    );
    let later = t0 + Duration::from_secs(301);
    let right = with_credentials(
        "INVITE",
        "z9hG4bK6",
        "Proxy-Authorization",
        &answer(&ch, "INVITE", "alice", "secret", 1),
    );
    let r = challenge_of(a.check(later, &right));
    let again = parse_challenge(&r, Algorithm::Md5);
    assert!(again.stale);
    assert_ne!(again.nonce, ch.nonce);
    let wrong = with_credentials(
        "INVITE",
        "z9hG4bK6",
        "Proxy-Authorization",
        &answer(&ch, "INVITE", "alice", "bad", 1),
    );
    assert!(!parse_challenge(&challenge_of(a.check(later, &wrong)), Algorithm::Md5).stale);
    // The fresh nonce works.
    let req = with_credentials(
        "INVITE",
        "z9hG4bK7",
        "Proxy-Authorization",
        &answer(&again, "INVITE", "alice", "secret", 1),
    );
    assert!(matches!(
        a.check(later, &req),
        AuthOutcome::Authorized { .. }
    ));
}

#[test]
fn replayed_nonce_count_is_refused_but_retransmissions_pass() {
    let (a, t0) = auth();
    let ch = parse_challenge(
        &challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", ""))),
        Algorithm::Sha256,
    );
    let creds = answer(&ch, "INVITE", "alice", "secret", 1);
    let first = with_credentials("INVITE", "z9hG4bK8", "Proxy-Authorization", &creds);
    assert!(matches!(
        a.check(t0, &first),
        AuthOutcome::Authorized { .. }
    ));
    // The same datagram again (UDP retransmission): still fine.
    assert!(matches!(
        a.check(t0, &first),
        AuthOutcome::Authorized { .. }
    ));
    // The same credentials on another transaction: a replay.
    let replay = with_credentials("INVITE", "z9hG4bK9", "Proxy-Authorization", &creds);
    assert!(matches!(a.check(t0, &replay), AuthOutcome::Challenge(_)));
    // The next count is fine.
    let next = with_credentials(
        "INVITE",
        "z9hG4bK9",
        "Proxy-Authorization",
        &answer(&ch, "INVITE", "alice", "secret", 2),
    );
    assert!(matches!(a.check(t0, &next), AuthOutcome::Authorized { .. }));
}

#[test]
fn ack_and_cancel_are_not_challenged() {
    let (a, t0) = auth();
    let invite = request("INVITE", "z9hG4bK1", "");
    let r = challenge_of(a.check(t0, &invite));
    assert!(matches!(
        a.check(t0, &request("CANCEL", "z9hG4bK1", "")),
        AuthOutcome::Exempt
    ));
    assert!(matches!(
        a.check(t0, &request("ACK", "z9hG4bK1", "")),
        AuthOutcome::Exempt
    ));
    // The ACK of our 407 carries our To tag: it ends here.
    let mut ack = invite.create_ack(&r).unwrap();
    ack.headers_mut()
        .set("Via", "SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK1");
    assert!(matches!(a.check(t0, &ack), AuthOutcome::Absorb));
}

#[test]
fn other_realms_and_no_qop_are_ignored() {
    let (a, t0) = auth();
    let ch = parse_challenge(
        &challenge_of(a.check(t0, &request("INVITE", "z9hG4bK1", ""))),
        Algorithm::Md5,
    );
    let other = answer(&ch, "INVITE", "alice", "secret", 1).replace("example.com", "other.org");
    let req = with_credentials("INVITE", "z9hG4bK2", "Proxy-Authorization", &other);
    assert!(matches!(a.check(t0, &req), AuthOutcome::Challenge(_)));
    let mut no_qop = ch.clone();
    no_qop.qop.clear();
    let req = with_credentials(
        "INVITE",
        "z9hG4bK2",
        "Proxy-Authorization",
        &answer(&no_qop, "INVITE", "alice", "secret", 1),
    );
    assert!(matches!(a.check(t0, &req), AuthOutcome::Challenge(_)));
}
