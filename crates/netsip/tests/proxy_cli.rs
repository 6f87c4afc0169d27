//! `netsip proxy` as a user runs it: where it listens, an OPTIONS through it to a fake
//! callee over raw sockets, SIGTERM, and errors.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

use sip_packet::{Message, Response};

mod common;

use common::Daemon;

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn recv(sock: &UdpSocket) -> (Message, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (n, from) = sock.recv_from(&mut buf).expect("a message within 5 s");
    buf.truncate(n);
    (Message::parse(buf.into()).expect("parses"), from)
}

#[test]
fn options_through_the_proxy_then_sigterm() {
    let mut proxy = Daemon::start("proxy", &["--listen", "udp:127.0.0.1:0", "--record-route"]);
    let callee = socket();
    let caller = socket();
    let options = format!(
        "OPTIONS sip:bob@{callee} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {caller};branch=z9hG4bK-cli-1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: cli-1@example.com\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        callee = callee.local_addr().unwrap(),
        caller = caller.local_addr().unwrap(),
    );
    caller.send_to(options.as_bytes(), proxy.addr(0)).unwrap();

    let (msg, from) = recv(&callee);
    assert_eq!(from, proxy.addr(0));
    let Message::Request(req) = msg else {
        panic!("expected the OPTIONS")
    };
    let vias: Vec<_> = req.headers().vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].port(), Some(proxy.addr(0).port()));
    assert_eq!(vias[1].branch(), Some("z9hG4bK-cli-1"));
    assert_eq!(req.headers().get("Max-Forwards").unwrap(), "69");
    // OPTIONS is not dialog-creating, but Record-Route is added to every forwarded request
    // but REGISTER when asked.
    assert!(req.headers().get("Record-Route").is_some());

    let mut ok = Response::from_request(&req, 200, None);
    ok.set_to_tag("b1").unwrap();
    callee.send_to(&ok.to_bytes(), from).unwrap();
    let (msg, _) = recv(&caller);
    let Message::Response(resp) = msg else {
        panic!("expected the 200")
    };
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().vias().count(), 1);

    let status = proxy.signal("TERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn sigint_stops_it_too() {
    let mut proxy = Daemon::start(
        "proxy",
        &[
            "--listen",
            "udp:127.0.0.1:0",
            "--listen",
            "tcp:127.0.0.1:0",
            "--registrar",
        ],
    );
    assert!(proxy.listening[1].starts_with("tcp:127.0.0.1:"));
    assert!(proxy.signal("INT").success());
}

fn fails(args: &[&str], needle: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_netsip"))
        .arg("proxy")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
}

#[test]
fn bad_input_is_an_error() {
    fails(&["--listen", "udp:example.com:5060"], "--listen");
    fails(
        &["--listen", "udp:127.0.0.1:0", "--block", "INVITE=abc"],
        "--block",
    );
    fails(
        &["--listen", "udp:127.0.0.1:0", "--block", "INVITE"],
        "METHOD=CODE",
    );
    fails(
        &[
            "--listen",
            "udp:127.0.0.1:0",
            "--domain2proxy",
            "example.com",
        ],
        "DOMAIN=HOST:PORT",
    );
    fails(
        &[
            "--listen",
            "udp:127.0.0.1:0",
            "--auth-file",
            "/nonexistent/users",
            "--realm",
            "r",
        ],
        "/nonexistent/users",
    );
}

#[test]
fn with_registrar_a_registered_user_is_reached() {
    let mut proxy = Daemon::start(
        "proxy",
        &[
            "--listen",
            "udp:127.0.0.1:0",
            "--registrar",
            "--domain",
            "example.com",
        ],
    );
    let bob = socket();
    let alice = socket();
    let register = format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP {bob};branch=z9hG4bK-reg-1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=r1\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: reg-1@example.com\r\nCSeq: 1 REGISTER\r\nContact: <sip:bob@{bob}>;expires=60\r\n\
         Content-Length: 0\r\n\r\n",
        bob = bob.local_addr().unwrap(),
    );
    bob.send_to(register.as_bytes(), proxy.addr(0)).unwrap();
    let (msg, _) = recv(&bob);
    let Message::Response(ok) = msg else {
        panic!("expected the 200 to REGISTER")
    };
    assert_eq!(ok.status(), 200);

    let message = format!(
        "MESSAGE sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP {alice};branch=z9hG4bK-msg-1;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: msg-1@example.com\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
        alice = alice.local_addr().unwrap(),
    );
    alice.send_to(message.as_bytes(), proxy.addr(0)).unwrap();
    let (msg, _) = recv(&bob);
    let Message::Request(req) = msg else {
        panic!("expected the MESSAGE")
    };
    assert_eq!(
        req.uri().to_string(),
        format!("sip:bob@{}", bob.local_addr().unwrap())
    );

    // An unknown user of the domain: 404 from the proxy.
    let unknown = message
        .replace("sip:bob@example.com SIP", "sip:carol@example.com SIP")
        .replace("msg-1", "msg-2");
    alice.send_to(unknown.as_bytes(), proxy.addr(0)).unwrap();
    let (msg, _) = recv(&alice);
    let Message::Response(nf) = msg else {
        panic!("expected the 404")
    };
    assert_eq!(nf.status(), 404);
    assert!(proxy.signal("TERM").success());
}
