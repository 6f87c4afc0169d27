//! `netsip proxy --nat` and `netsip nathelper` as a user runs them: a call over raw sockets
//! whose SDP is rewritten to the relay and whose RTP goes through it both ways; the control
//! protocol answering good and bad lines; and the options' errors.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use sip_packet::{Message, Request, Response};

mod common;

use common::Daemon;

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn recv(sock: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (n, from) = sock.recv_from(&mut buf).expect("a packet within 5 s");
    buf.truncate(n);
    (buf, from)
}

fn recv_sip(sock: &UdpSocket) -> Message {
    Message::parse(recv(sock).0.into()).expect("parses")
}

/// The address of the first `m=` line of an SDP body (`c=` at session level).
fn media_of(body: &[u8]) -> SocketAddr {
    let text = std::str::from_utf8(body).unwrap();
    let ip = text
        .lines()
        .find_map(|l| l.strip_prefix("c=IN IP4 "))
        .expect("a c= line");
    let port = text
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .expect("an m= line");
    format!("{}:{}", ip.trim(), port).parse().unwrap()
}

fn sdp(rtp: &UdpSocket) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\n",
        rtp.local_addr().unwrap().port()
    )
}

/// Alice calls bob through the proxy at `proxy`; both check that the SDP they get names
/// a relay port in `ports` and that RTP goes through it both ways.
fn call(proxy: SocketAddr, ports: std::ops::RangeInclusive<u16>) {
    let (alice, bob) = (socket(), socket());
    let (alice_rtp, bob_rtp) = (socket(), socket());
    let offer = sdp(&alice_rtp);
    let invite = format!(
        "INVITE sip:bob@{bob} SIP/2.0\r\nVia: SIP/2.0/UDP {alice};branch=z9hG4bK-nat-cli;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: nat-cli@example.com\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@{alice}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
        offer.len(),
        bob = bob.local_addr().unwrap(),
        alice = alice.local_addr().unwrap(),
    );
    alice.send_to(invite.as_bytes(), proxy).unwrap();
    let Message::Request(got) = recv_sip(&bob) else {
        panic!("expected the INVITE")
    };
    let for_bob = media_of(got.body());
    assert_ne!(
        for_bob,
        alice_rtp.local_addr().unwrap(),
        "bob must not see alice"
    );
    assert!(ports.contains(&for_bob.port()), "{for_bob}");

    let mut ok = Response::from_request(&got, 200, None);
    ok.set_to_tag("b1").unwrap();
    ok.set_body(Some("application/sdp"), sdp(&bob_rtp));
    bob.send_to(&ok.to_bytes(), proxy).unwrap();
    let Message::Response(answer) = recv_sip(&alice) else {
        panic!("expected the 200")
    };
    assert_eq!(answer.status(), 200);
    let for_alice = media_of(answer.body());
    assert_ne!(
        for_alice,
        bob_rtp.local_addr().unwrap(),
        "alice must not see bob"
    );
    assert!(ports.contains(&for_alice.port()), "{for_alice}");

    alice_rtp.send_to(b"rtp from alice", for_alice).unwrap();
    let (data, from) = recv(&bob_rtp);
    assert_eq!((data.as_slice(), from), (&b"rtp from alice"[..], for_bob));
    bob_rtp.send_to(b"rtp from bob", from).unwrap();
    let (data, from) = recv(&alice_rtp);
    assert_eq!((data.as_slice(), from), (&b"rtp from bob"[..], for_alice));

    let bye = bye_from_bob(&got, &bob, &alice);
    bob.send_to(&bye.to_bytes(), proxy).unwrap();
    assert!(matches!(recv_sip(&alice), Message::Request(r) if r.method().as_str() == "BYE"));
}

/// Bob's BYE, to alice's socket (there is no location service here).
fn bye_from_bob(invite: &Request, bob: &UdpSocket, alice: &UdpSocket) -> Request {
    let text = format!(
        "BYE sip:alice@{alice} SIP/2.0\r\nVia: SIP/2.0/UDP {bob};branch=z9hG4bK-nat-bye;rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=b1\r\n\
         To: <sip:alice@example.com>;tag=a1\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\n\
         Content-Length: 0\r\n\r\n",
        invite.headers().call_id().unwrap(),
        bob = bob.local_addr().unwrap(),
        alice = alice.local_addr().unwrap(),
    );
    match Message::parse(text.into()).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

#[test]
fn proxy_with_nat_relays_a_call() {
    let mut proxy = Daemon::start(
        "proxy",
        &[
            "--listen",
            "udp:127.0.0.1:0",
            "--nat",
            "--rtp-ports",
            "52000-52999",
        ],
    );
    call(proxy.addr(0), 52000..=52999);
    assert!(proxy.signal("TERM").success());
}

#[test]
fn nathelper_process_relays_a_call_for_the_proxy() {
    let mut nathelper = Daemon::start(
        "nathelper",
        &["--control", "tcp:127.0.0.1:0", "--rtp-ports", "53000-53999"],
    );
    assert!(nathelper.listening[0].starts_with("tcp:127.0.0.1:"));
    let control = nathelper.listening[0].clone();
    let mut proxy = Daemon::start(
        "proxy",
        &["--listen", "udp:127.0.0.1:0", "--nathelper", &control],
    );
    call(proxy.addr(0), 53000..=53999);

    // The nathelper holds the call's sockets; ask it over its control protocol.
    let mut conn = TcpStream::connect(nathelper.addr(0)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut lines = BufReader::new(conn.try_clone().unwrap()).lines();
    conn.write_all(b"{\"v\":1,\"id\":1,\"op\":\"stats\"}\n")
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(stats["ok"], true, "{stats}");
    assert_eq!(stats["id"], 1);
    assert_eq!(stats["sockets"], 4, "{stats}");
    assert_eq!(stats["closing"], 1, "closed by the BYE: {stats}");
    // Bad lines get error answers; the connection goes on.
    conn.write_all(b"not json\n{\"v\":1,\"id\":2,\"op\":\"dance\"}\n")
        .unwrap();
    let bad: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (bad["ok"].clone(), bad["error"].clone()),
        (false.into(), "malformed".into())
    );
    let bad: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(bad["error"], "unknown_op");
    assert_eq!(bad["id"], 2);

    assert!(proxy.signal("TERM").success());
    assert!(nathelper.signal("TERM").success());
}

fn fails(subcommand: &str, args: &[&str], code: i32, needle: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_netsip"))
        .arg(subcommand)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
}

#[test]
fn bad_options_are_errors() {
    fails("nathelper", &["--control", "tcp:0.0.0.0:0"], 1, "loopback");
    fails(
        "nathelper",
        &["--control", "udp:127.0.0.1:0"],
        1,
        "TCP only",
    );
    fails("nathelper", &["--control", "localhost:1"], 1, "--control");
    fails(
        "nathelper",
        &["--control", "127.0.0.1:0", "--rtp-ports", "9-1"],
        1,
        "--rtp-ports",
    );
    fails(
        "nathelper",
        &["--control", "127.0.0.1:0", "--active-timeout", "0"],
        1,
        "--active-timeout",
    );
    fails("nathelper", &[], 2, "--control");
    let listen = ["--listen", "udp:127.0.0.1:0"];
    fails(
        "proxy",
        &[&listen[..], &["--nat", "--nathelper", "127.0.0.1:1"]].concat(),
        2,
        "cannot be used with",
    );
    fails(
        "proxy",
        &[&listen[..], &["--rtp-ports", "40000-40099"]].concat(),
        1,
        "need --nat",
    );
    fails(
        "proxy",
        &[&listen[..], &["--nathelper", "nowhere"]].concat(),
        1,
        "--nathelper",
    );
}
