//! Sends one request through a [`Dispatcher`] and checks the final status.
//!
//! - `OPTIONS`: one transaction.
//! - `INVITE`: the INVITE (with a small SDP offer); after a 2xx, the ACK (RFC 3261 §13.2.2.4:
//!   a new transaction of its own, so a new branch, with the CSeq number of the INVITE) and a
//!   BYE (CSeq + 1) to the remote target of the 200's Contact. A non-2xx final response is
//!   ACKed by the INVITE client transaction itself (§17.1.1.3).
//!
//! Every response is printed on stdout as `METHOD <- STATUS REASON`. The exit status is 0
//! when the final status of the request is `--expect` (and, after a 2xx to an INVITE, the
//! BYE got a 2xx), 1 otherwise, with the reason on stderr; after `--linger` milliseconds.
//!
//! ```text
//! cargo run -p sip-dispatch --example sip_client -- --to udp:127.0.0.1:5060 --method INVITE
//! ```
//!
//! `RUST_LOG=sip_dispatch=debug` shows what the dispatcher does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::SeedableRng;
use sip_dispatch::resolve::{StaticResolver, Target};
use sip_dispatch::{DeliverOptions, DeliveryEvent, Dispatcher, DispatcherConfig};
use sip_packet::{Message, Method, Request, Response, Uri};
use sip_transport::{Leg, LegConfig, Protocol, TransportAddr};
use tokio::sync::mpsc;

/// Sends one SIP request (OPTIONS, or a whole INVITE/ACK/BYE call) and checks the answer.
#[derive(Debug, Parser)]
#[command(name = "sip_client")]
struct Args {
    /// Where to send: udp:HOST:PORT or tcp:HOST:PORT (IPv6 in brackets).
    #[arg(long)]
    to: TransportAddr,
    /// OPTIONS or INVITE.
    #[arg(long, default_value = "OPTIONS", value_parser = parse_method)]
    method: Method,
    /// The final status that makes the run a success.
    #[arg(long, default_value_t = 200)]
    expect: u16,
    /// Our leg; by default the protocol of --to on an ephemeral loopback port.
    #[arg(long)]
    local: Option<TransportAddr>,
    /// User part of the Request-URI and To.
    #[arg(long, default_value = "service")]
    user: String,
    /// Gives up after this many seconds in all.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Before exiting, keeps the dispatcher (and its TCP connections) up this many
    /// milliseconds. SIPp fails a call whose connection closes before the call ends, and its
    /// `uas` scenario ends 4 s after the 200 to the BYE.
    #[arg(long, default_value_t = 0)]
    linger: u64,
}

fn parse_method(s: &str) -> Result<Method, String> {
    match Method::parse(&s.to_ascii_uppercase()) {
        Ok(m @ (Method::Options | Method::Invite)) => Ok(m),
        Ok(other) => Err(format!("{other} is not supported: use OPTIONS or INVITE")),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    // Each request gives up at --timeout (see `Call::deadline`); this guard catches the rest.
    let limit = Duration::from_secs(args.timeout + 1) + Duration::from_millis(args.linger);
    match tokio::time::timeout(limit, run(&args)).await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("sip_client: FAILED: {e:#}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("sip_client: FAILED: not done within {}s", limit.as_secs());
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<()> {
    let local = args.local.unwrap_or_else(|| {
        let ip = match args.to.addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        TransportAddr::new(args.to.protocol, SocketAddr::new(ip, 0))
    });
    let dispatcher = Dispatcher::new(
        vec![LegConfig::new(local)],
        // Only IP addresses here: no system DNS.
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await
    .with_context(|| format!("cannot listen on {local}"))?;
    // A retransmitted 2xx to the INVITE comes here once the client transaction is gone
    // (§17.1.1.2); the ACK we send answers them all. Requests are not ours: 501.
    dispatcher.set_receiver(Arc::new(|m: &Message, _: &Leg, from: SocketAddr| {
        let Message::Response(r) = m else {
            return false;
        };
        println!(
            "(retransmission) <- {} {} from {from}",
            r.status(),
            r.reason()
        );
        true
    }));
    let leg = &dispatcher.legs()[0];
    eprintln!(
        "sip_client: {} from {} to {}",
        args.method,
        leg.transport_addr(),
        args.to
    );
    let target = Target::new(args.to.protocol, args.to.addr, None);
    let call = Call::new(args, leg.local_addr());
    let result = match args.method {
        Method::Invite => invite(&dispatcher, &target, &call, args.expect).await,
        _ => {
            let resp = transaction(
                &dispatcher,
                call.request(Method::Options, 1),
                &target,
                &call,
            )
            .await?;
            check(&resp, "OPTIONS", args.expect)
        }
    };
    if args.linger > 0 {
        tokio::time::sleep(Duration::from_millis(args.linger)).await;
    }
    dispatcher.shutdown();
    result
}

/// INVITE; after a 2xx, ACK and BYE.
async fn invite(d: &Dispatcher, target: &Target, call: &Call, expect: u16) -> Result<()> {
    let mut invite = call.request(Method::Invite, 1);
    invite.set_body(Some("application/sdp"), call.sdp_offer());
    let resp = transaction(d, invite, target, call).await?;
    check(&resp, "INVITE", expect)?;
    if !resp.is_success() {
        // The transaction has ACKed it.
        return Ok(());
    }
    let to = resp
        .headers()
        .get("To")
        .context("the 2xx to the INVITE has no To")?
        .to_string();
    // §12.1.2: the remote target is the Contact of the 2xx; without one, keep the URI.
    let remote_target = resp
        .headers()
        .contacts()
        .next()
        .and_then(Result::ok)
        .and_then(|c| c.address().map(|a| a.uri().clone()));

    let mut ack = call.request(Method::Ack, 1);
    ack.headers_mut().set("To", to.clone());
    if let Some(uri) = &remote_target {
        ack.set_uri(uri.clone());
    }
    // An ACK is not a transaction: the dispatcher sends it once, with a branch of its own.
    d.deliver(ack, DeliverOptions::new().dst(target.clone()));
    println!("ACK ->");

    let mut bye = call.request(Method::Bye, 2);
    bye.headers_mut().set("To", to);
    if let Some(uri) = remote_target {
        bye.set_uri(uri);
    }
    let bye_resp = transaction(d, bye, target, call).await?;
    if !bye_resp.is_success() {
        bail!(
            "the BYE got {} {}, expected a 2xx",
            bye_resp.status(),
            bye_resp.reason()
        );
    }
    Ok(())
}

fn check(resp: &Response, what: &str, expect: u16) -> Result<()> {
    if resp.status() != expect {
        bail!(
            "{what} got final status {} {}, expected {expect}",
            resp.status(),
            resp.reason()
        );
    }
    Ok(())
}

/// Sends `req` as a transaction, prints every response and returns the final one.
async fn transaction(
    d: &Dispatcher,
    req: Request,
    target: &Target,
    call: &Call,
) -> Result<Response> {
    let method = req.method().clone();
    let (tx, mut events) = mpsc::unbounded_channel();
    d.deliver(
        req,
        DeliverOptions::new()
            .dst(target.clone())
            .callback(move |e| {
                let _ = tx.send(e);
            }),
    );
    println!("{method} ->");
    loop {
        let event = tokio::time::timeout_at(call.deadline, events.recv())
            .await
            .map_err(|_| anyhow::anyhow!("{method}: no final response within {}s", call.timeout))?
            .with_context(|| format!("{method}: the dispatcher stopped"))?;
        match event {
            DeliveryEvent::Response(r) => {
                println!("{method} <- {} {}", r.status(), r.reason());
                if !r.is_provisional() {
                    return Ok(r);
                }
            }
            DeliveryEvent::Failed(e) => bail!("{method} failed: {e}"),
            other => bail!("{method}: unexpected delivery event {other:?}"),
        }
    }
}

/// What stays the same across the requests of one call.
struct Call {
    uri: String,
    from: String,
    to: String,
    call_id: String,
    contact: String,
    local: SocketAddr,
    /// When every request gives up waiting (--timeout from the start).
    deadline: tokio::time::Instant,
    timeout: u64,
}

impl Call {
    fn new(args: &Args, local: SocketAddr) -> Self {
        let mut rng = StdRng::from_entropy();
        let transport = match args.to.protocol {
            Protocol::Udp => "",
            Protocol::Tcp => ";transport=tcp",
            Protocol::Tls => ";transport=tls",
        };
        let remote = host_port(args.to.addr);
        let here = host_port(local);
        Self {
            uri: format!("sip:{}@{remote}{transport}", args.user),
            from: format!(
                "<sip:netsip@{here}>;tag={}",
                sip_packet::random::tag(&mut rng)
            ),
            to: format!("<sip:{}@{remote}>", args.user),
            call_id: sip_packet::random::call_id(&mut rng, Some(&local.ip().to_string())),
            contact: format!("<sip:netsip@{here}{transport}>"),
            local,
            deadline: tokio::time::Instant::now() + Duration::from_secs(args.timeout),
            timeout: args.timeout,
        }
    }

    /// A request of this call, without Via (the dispatcher adds its own).
    fn request(&self, method: Method, cseq: u32) -> Request {
        let uri: Uri = self
            .uri
            .parse()
            .expect("a URI built from an IP address parses");
        let mut r = Request::new(method.clone(), uri);
        let h = r.headers_mut();
        h.add("Max-Forwards", "70");
        h.add("From", self.from.clone());
        h.add("To", self.to.clone());
        h.add("Call-ID", self.call_id.clone());
        h.add("CSeq", format!("{cseq} {method}"));
        if method == Method::Invite {
            h.add("Contact", self.contact.clone());
        }
        r
    }

    /// An audio offer on loopback. Nothing listens on its port: the peers here exchange
    /// signalling only.
    fn sdp_offer(&self) -> String {
        let (ip_type, ip) = match self.local.ip() {
            IpAddr::V4(a) => ("IP4", a.to_string()),
            IpAddr::V6(a) => ("IP6", a.to_string()),
        };
        format!(
            "v=0\r\no=netsip 1 1 IN {ip_type} {ip}\r\ns=-\r\nc=IN {ip_type} {ip}\r\nt=0 0\r\n\
             m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        )
    }
}

fn host_port(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}
