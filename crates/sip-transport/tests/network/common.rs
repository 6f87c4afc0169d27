//! Helpers: legs, messages, waiting with a bound, IPv6 detection, log capture, certificates.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use sip_packet::{Message, Request, Response};
use sip_transport::{add_via, Inbound, InboundItem, Leg, LegConfig, Protocol};
use tokio::sync::mpsc;

/// The longest any test waits for something that should come at once.
pub(crate) const PATIENCE: Duration = Duration::from_secs(5);

/// Whether ::1 can be bound; checked once, and said why when not.
pub(crate) fn ipv6() -> bool {
    static V6: OnceLock<bool> = OnceLock::new();
    *V6.get_or_init(|| match std::net::TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            eprintln!("skipping the ::1 tests: this machine has no IPv6 loopback ({e})");
            false
        }
    })
}

/// The loopback address of a family, as a transport address host.
pub(crate) fn loopback(v6: bool) -> &'static str {
    if v6 {
        "[::1]"
    } else {
        "127.0.0.1"
    }
}

pub(crate) async fn bind(config: LegConfig) -> (Leg, mpsc::Receiver<Inbound>) {
    let (tx, rx) = mpsc::channel(64);
    let leg = Leg::bind(config, tx).await.expect("bind");
    (leg, rx)
}

pub(crate) fn config(protocol: Protocol, v6: bool) -> LegConfig {
    LegConfig::new(format!("{protocol}:{}:0", loopback(v6)).parse().unwrap())
}

pub(crate) async fn recv(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("nothing received in time")
        .expect("channel closed")
}

pub(crate) async fn recv_message(rx: &mut mpsc::Receiver<Inbound>) -> (Inbound, Message) {
    let inbound = recv(rx).await;
    let message = match &inbound.item {
        InboundItem::Message(m) => m.clone(),
        InboundItem::Malformed { error, raw } => panic!("malformed: {error}: {raw:?}"),
    };
    (inbound, message)
}

/// A request as text, with a Via for `from` and the given CSeq.
pub(crate) fn request_text(
    protocol: Protocol,
    from: SocketAddr,
    to: SocketAddr,
    cseq: u32,
) -> String {
    format!(
        "OPTIONS sip:b@{to} SIP/2.0\r\n\
         Via: SIP/2.0/{via} {from};branch=z9hG4bK{cseq}x\r\n\
         From: <sip:a@{from}>;tag=1\r\n\
         To: <sip:b@{to}>\r\n\
         Call-ID: call-{cseq}@test\r\n\
         CSeq: {cseq} OPTIONS\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n",
        via = protocol.to_via_transport(),
    )
}

/// A request without Via, to which the sending leg adds its own with [`add_via`].
pub(crate) fn request_from(leg: &Leg, to: SocketAddr, cseq: u32) -> Request {
    let text = request_text(leg.protocol(), leg.local_addr(), to, cseq);
    let Message::Request(mut r) = Message::parse(Bytes::from(text)).unwrap() else {
        unreachable!()
    };
    r.headers_mut().remove("Via");
    let (host, port) = leg.sent_by();
    add_via(
        &mut r,
        (leg.protocol(), host, port),
        &format!("z9hG4bKleg{cseq}"),
    );
    r
}

pub(crate) fn ok_for(request: &Request) -> Response {
    let mut ok = Response::from_request(request, 200, None);
    ok.set_to_tag("totag").unwrap();
    ok
}

pub(crate) fn cseq(m: &Message) -> u32 {
    m.headers().cseq().unwrap().seq()
}

/// Everything logged on the current thread while the guard lives.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub(crate) fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits (boundedly) for a line holding every one of `parts`, and gives it.
    pub(crate) async fn wait_for(&self, parts: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let text = self.text();
            if let Some(line) = text.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line.to_owned();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no log line with {parts:?} in:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// A CA and a server certificate it signed, for "localhost", 127.0.0.1 and ::1; PEM.
pub(crate) struct Pki {
    pub(crate) ca: String,
    pub(crate) cert: String,
    pub(crate) key: String,
}

impl Pki {
    pub(crate) fn new(ca_name: &str) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        Self {
            ca: ca.pem(),
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}
