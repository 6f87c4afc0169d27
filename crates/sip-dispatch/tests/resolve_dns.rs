//! `resolve_uri` through `HickoryResolver` against a real DNS server on 127.0.0.1: a small
//! authoritative responder for `example.test.`, written here with hickory-proto's message
//! types, serving NAPTR, SRV, A and AAAA over UDP on a random port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, NAPTR, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record};
use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_dispatch::resolve::{
    resolve_uri, DnsResolver, HickoryResolver, LookupKind, ResolveError, RouteConfig, Srv,
};
use sip_packet::Uri;
use sip_transport::Protocol;
use tokio::net::UdpSocket;

const ALL: &[Protocol] = &[Protocol::Udp, Protocol::Tcp, Protocol::Tls];
/// A name the server answers SERVFAIL for.
const BROKEN: &str = "broken.example.test.";

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn record(owner: &str, rdata: RData) -> Record {
    Record::from_rdata(name(owner), 60, rdata)
}

fn naptr(order: u16, preference: u16, services: &str, replacement: &str) -> RData {
    RData::NAPTR(NAPTR::new(
        order,
        preference,
        b"S".to_vec().into_boxed_slice(),
        services.as_bytes().to_vec().into_boxed_slice(),
        Vec::new().into_boxed_slice(),
        name(replacement),
    ))
}

fn srv(priority: u16, weight: u16, port: u16, target: &str) -> RData {
    RData::SRV(SRV::new(priority, weight, port, name(target)))
}

fn a(ip: [u8; 4]) -> RData {
    RData::A(A(Ipv4Addr::from(ip)))
}

/// The zone: example.test has NAPTR (TCP, then UDP, then TLS), srv.example.test only SRV for
/// UDP, a.example.test only an A record.
fn zone() -> Vec<Record> {
    vec![
        record(
            "example.test.",
            naptr(10, 10, "SIP+D2T", "_sip._tcp.example.test."),
        ),
        record(
            "example.test.",
            naptr(10, 20, "SIP+D2U", "_sip._udp.example.test."),
        ),
        record(
            "example.test.",
            naptr(20, 10, "SIPS+D2T", "_sips._tcp.example.test."),
        ),
        record(
            "_sip._tcp.example.test.",
            srv(10, 0, 5070, "sip1.example.test."),
        ),
        record(
            "_sip._udp.example.test.",
            srv(20, 0, 5071, "sip2.example.test."),
        ),
        record(
            "_sip._udp.example.test.",
            srv(10, 0, 5072, "sip1.example.test."),
        ),
        record(
            "_sips._tcp.example.test.",
            srv(10, 0, 5061, "sip1.example.test."),
        ),
        record("sip1.example.test.", a([127, 0, 0, 11])),
        record("sip1.example.test.", RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
        record("sip2.example.test.", a([127, 0, 0, 12])),
        record(
            "_sip._udp.srv.example.test.",
            srv(10, 0, 5080, "sip2.example.test."),
        ),
        record("a.example.test.", a([127, 0, 0, 13])),
    ]
}

/// Answers one query from the zone, as an authoritative server would.
fn answer(query: &Message, zone: &[Record]) -> Message {
    let mut response = Message::new();
    response
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_authoritative(true)
        .set_recursion_desired(query.recursion_desired());
    let Some(question) = query.query() else {
        response.set_response_code(ResponseCode::FormErr);
        return response;
    };
    response.add_query(question.clone());
    if *question.name() == name(BROKEN) {
        response.set_response_code(ResponseCode::ServFail);
        return response;
    }
    let answers: Vec<Record> = zone
        .iter()
        .filter(|r| r.name() == question.name() && r.record_type() == question.query_type())
        .cloned()
        .collect();
    if answers.is_empty() {
        // NXDOMAIN when the name has no records at all, else NOERROR with no answer; the SOA
        // says how long to remember that (RFC 2308).
        let exists = zone.iter().any(|r| r.name() == question.name());
        if !exists {
            response.set_response_code(ResponseCode::NXDomain);
        }
        let soa = SOA::new(
            name("ns.example.test."),
            name("hostmaster.example.test."),
            1,
            3600,
            600,
            86400,
            60,
        );
        response.add_name_server(record("example.test.", RData::SOA(soa)));
    } else {
        response.add_answers(answers);
    }
    response
}

/// Starts the server on 127.0.0.1 at a random port; it lives as long as the test's runtime.
async fn start_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let zone = Arc::new(zone());
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            let Ok(bytes) = answer(&query, &zone).to_vec() else {
                continue;
            };
            let _ = socket.send_to(&bytes, peer).await;
        }
    });
    addr
}

async fn resolver() -> HickoryResolver {
    HickoryResolver::with_nameserver(start_server().await)
}

async fn resolve(
    dns: &HickoryResolver,
    uri: &str,
    supported: &[Protocol],
) -> Result<Vec<String>, ResolveError> {
    let mut rng = StdRng::seed_from_u64(1);
    let uri = Uri::parse(uri).unwrap();
    let targets = resolve_uri(&uri, &RouteConfig::new(), dns, supported, &mut rng).await?;
    Ok(targets.iter().map(ToString::to_string).collect())
}

#[tokio::test]
async fn resolve_naptr_srv_and_addresses_from_a_real_server() {
    let dns = resolver().await;
    assert_eq!(
        resolve(&dns, "sip:alice@example.test", ALL).await.unwrap(),
        [
            "tcp:127.0.0.11:5070 (example.test)",
            "tcp:[::1]:5070 (example.test)",
            "udp:127.0.0.11:5072 (example.test)",
            "udp:[::1]:5072 (example.test)",
            "udp:127.0.0.12:5071 (example.test)",
            "tls:127.0.0.11:5061 (example.test)",
            "tls:[::1]:5061 (example.test)",
        ]
    );
    assert_eq!(
        resolve(&dns, "sips:alice@example.test", ALL).await.unwrap(),
        [
            "tls:127.0.0.11:5061 (example.test)",
            "tls:[::1]:5061 (example.test)"
        ]
    );
    assert_eq!(
        resolve(&dns, "sip:alice@example.test", &[Protocol::Udp])
            .await
            .unwrap(),
        [
            "udp:127.0.0.11:5072 (example.test)",
            "udp:[::1]:5072 (example.test)",
            "udp:127.0.0.12:5071 (example.test)",
        ]
    );
}

#[tokio::test]
async fn resolve_srv_without_naptr_and_addresses_without_srv() {
    let dns = resolver().await;
    assert_eq!(
        resolve(&dns, "sip:srv.example.test", ALL).await.unwrap(),
        ["udp:127.0.0.12:5080 (srv.example.test)"]
    );
    assert_eq!(
        resolve(&dns, "sip:a.example.test", ALL).await.unwrap(),
        ["udp:127.0.0.13:5060 (a.example.test)"]
    );
    assert_eq!(
        resolve(&dns, "sip:a.example.test:5999;transport=tcp", ALL)
            .await
            .unwrap(),
        ["tcp:127.0.0.13:5999 (a.example.test)"]
    );
}

#[tokio::test]
async fn resolve_unknown_name_is_a_clear_error() {
    let dns = resolver().await;
    let err = resolve(&dns, "sip:bob@nowhere.example.test", ALL)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no target to send sip:bob@nowhere.example.test to: \
         no such domain name: nowhere.example.test (NXDOMAIN)"
    );
}

#[tokio::test]
async fn resolve_lookups_report_records_and_errors() {
    let dns = resolver().await;
    assert_eq!(
        dns.srv("_sip._udp.example.test").await.unwrap(),
        [
            Srv::new(20, 0, 5071, "sip2.example.test."),
            Srv::new(10, 0, 5072, "sip1.example.test."),
        ]
    );
    let naptr = dns.naptr("example.test").await.unwrap();
    assert_eq!(naptr.len(), 3);
    assert!(naptr
        .iter()
        .any(|n| n.services == "SIPS+D2T" && n.replacement == "_sips._tcp.example.test."));
    assert_eq!(
        dns.ip("sip1.example.test").await.unwrap(),
        [
            IpAddr::from([127, 0, 0, 11]),
            IpAddr::from(Ipv6Addr::LOCALHOST)
        ]
    );
    assert_eq!(
        dns.naptr("a.example.test").await,
        Err(ResolveError::NoRecords {
            name: "a.example.test".into(),
            kind: LookupKind::Naptr
        })
    );
    let err = dns.ip(BROKEN).await.unwrap_err();
    assert!(
        matches!(err, ResolveError::ServerFailure { ref name, .. } if name == "broken.example.test"),
        "{err:?}"
    );
}

#[tokio::test]
async fn resolve_a_silent_server_times_out_quickly() {
    // Bound but never read: queries go unanswered.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dns = HickoryResolver::with_nameserver_timeout(
        silent.local_addr().unwrap(),
        Duration::from_millis(200),
        1,
    );
    let started = Instant::now();
    let err = resolve(&dns, "sip:x.example.test:5060", ALL)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no target to send sip:x.example.test:5060 to: A/AAAA lookup of x.example.test timed out"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
