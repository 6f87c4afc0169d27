//! `netsip registrar` as a user runs it: where it listens, a REGISTER over a raw socket,
//! signals, and errors.

use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

mod common;

use common::Daemon;

fn register(sock: &UdpSocket, to: SocketAddr, user: &str, cseq: u32, contact: &str) -> String {
    let me = sock.local_addr().unwrap();
    let req = format!(
        "REGISTER sip:{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK-cli-{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@example.com>;tag=t{cseq}\r\n\
         To: <sip:{user}@example.com>\r\n\
         Call-ID: cli-{user}@{me}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: {contact}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 4096];
    // UDP: send again now and then, as a client transaction would.
    for _ in 0..10 {
        sock.send_to(req.as_bytes(), to).unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            return String::from_utf8_lossy(&buf[..n]).into_owned();
        }
    }
    panic!("no answer from {to}");
}

#[test]
fn registers_over_udp_and_stops_on_sigterm() {
    let mut reg = Daemon::start(
        "registrar",
        &[
            "--listen",
            "udp:127.0.0.1:0",
            "--listen",
            "tcp:127.0.0.1:0",
            "--max-expires",
            "120",
            "--min-expires",
            "20",
        ],
    );
    assert!(
        reg.listening[0].starts_with("udp:127.0.0.1:"),
        "{:?}",
        reg.listening
    );
    assert!(
        reg.listening[1].starts_with("tcp:127.0.0.1:"),
        "{:?}",
        reg.listening
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();

    let ok = register(
        &sock,
        reg.addr(0),
        "alice",
        1,
        "<sip:alice@192.0.2.1>;expires=3600",
    );
    assert!(ok.starts_with("SIP/2.0 200 "), "{ok}");
    assert!(
        ok.contains("\r\nContact: <sip:alice@192.0.2.1>;expires=120\r\n"),
        "{ok}"
    );
    assert!(ok.contains("\r\nDate: "), "{ok}");

    let brief = register(
        &sock,
        reg.addr(0),
        "alice",
        2,
        "<sip:alice@192.0.2.1>;expires=10",
    );
    assert!(brief.starts_with("SIP/2.0 423 "), "{brief}");
    assert!(brief.contains("\r\nMin-Expires: 20\r\n"), "{brief}");

    // OPTIONS, a monitoring ping, gets 200.
    let me = sock.local_addr().unwrap();
    let options = format!(
        "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-opt\r\n\
         Max-Forwards: 70\r\nFrom: <sip:mon@example.com>;tag=m\r\nTo: <sip:{to}>\r\n\
         Call-ID: opt@{me}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        to = reg.addr(0)
    );
    sock.send_to(options.as_bytes(), reg.addr(0)).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    let pong = String::from_utf8_lossy(&buf[..n]);
    assert!(pong.starts_with("SIP/2.0 200 "), "{pong}");
    assert!(pong.contains("\r\nAllow: REGISTER"), "{pong}");

    // Any other method is not implemented here: 501 with what is (the registrar keeps no
    // transactions, so it answers that itself), and an ACK gets nothing.
    let invite = options
        .replace("OPTIONS", "INVITE")
        .replace("z9hG4bK-opt", "z9hG4bK-inv");
    sock.send_to(invite.as_bytes(), reg.addr(0)).unwrap();
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    let refusal = String::from_utf8_lossy(&buf[..n]);
    assert!(refusal.starts_with("SIP/2.0 501 "), "{refusal}");
    assert!(refusal.contains("\r\nAllow: REGISTER"), "{refusal}");
    assert!(refusal.contains("OPTIONS\r\n"), "{refusal}");
    assert!(refusal.contains("z9hG4bK-inv"), "{refusal}");

    let status = reg.signal("TERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn stops_on_sigint_and_refuses_foreign_domains() {
    let mut reg = Daemon::start(
        "registrar",
        &["--listen", "udp:127.0.0.1:0", "--domain", "example.org"],
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let resp = register(&sock, reg.addr(0), "bob", 1, "<sip:bob@192.0.2.2>");
    assert!(resp.starts_with("SIP/2.0 404 "), "{resp}");
    let status = reg.signal("INT");
    assert!(status.success(), "exit status after SIGINT: {status}");
}

fn run_failing(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netsip"))
        .arg("registrar")
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_bad_address_is_an_error() {
    let err = run_failing(&["--listen", "udp:localhost:5060"]);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("not an IP address"), "{err}");
    let err = run_failing(&["--listen", "sctp:127.0.0.1:5060"]);
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn a_bind_failure_is_an_error() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = format!("udp:{}", taken.local_addr().unwrap());
    let err = run_failing(&["--listen", &addr]);
    assert!(err.starts_with("error: cannot listen"), "{err}");
}

#[test]
fn inconsistent_limits_are_an_error() {
    let err = run_failing(&["--listen", "udp:127.0.0.1:0", "--min-expires", "400"]);
    assert!(
        err.contains("min_expires (400) is above max_expires (300)"),
        "{err}"
    );
}

#[test]
fn help_lists_the_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_netsip"))
        .args(["registrar", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for opt in [
        "--listen",
        "--domain",
        "--min-expires",
        "--max-expires",
        "--store",
    ] {
        assert!(text.contains(opt), "{opt} missing from:\n{text}");
    }
}
