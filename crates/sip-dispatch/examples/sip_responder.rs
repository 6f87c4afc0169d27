//! Answers requests through a [`Dispatcher`]: a peer for clients that nobody here wrote.
//!
//! - OPTIONS → 200, BYE → 200;
//! - INVITE → `--invite-status` (486 by default; a 2xx carries a Contact and, when the INVITE
//!   had an SDP offer, an answer);
//! - ACK → nothing (only the ACK of a 2xx gets here: the ACK of a non-2xx ends its server
//!   transaction, RFC 3261 §17.2.1);
//! - anything else is left to the dispatcher, which answers 501.
//!
//! Retransmitted requests never reach this program: their server transaction answers them
//! with its last response (§17.2.1, §17.2.2), and over UDP it retransmits a non-2xx final
//! response to an INVITE until the ACK comes (Timer G).
//!
//! Each request is printed on stdout as it arrives. The program exits 0 after `--requests N`
//! INVITE, OPTIONS and BYE requests have been answered, plus `--linger` milliseconds in
//! which the transactions finish their retransmissions; at `--timeout` seconds it exits 0 when
//! no `--requests` was given, 1 when fewer than N came.
//!
//! ```text
//! cargo run -p sip-dispatch --example sip_responder -- \
//!     --listen udp:127.0.0.1:5070 --listen tcp:127.0.0.1:5070 --invite-status 200 --requests 2
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use sip_dispatch::resolve::StaticResolver;
use sip_dispatch::{DeliverOptions, Dispatcher, DispatcherConfig};
use sip_packet::{Message, Method, Request, Response};
use sip_transport::{Leg, LegConfig, TransportAddr};
use tokio::sync::watch;

/// Answers OPTIONS, INVITE and BYE; exits after N requests or a timeout.
#[derive(Debug, Parser)]
#[command(name = "sip_responder")]
struct Args {
    /// Where to listen: udp:HOST:PORT or tcp:HOST:PORT; repeat for several legs.
    #[arg(long, required = true)]
    listen: Vec<TransportAddr>,
    /// The final status of every INVITE.
    #[arg(long, default_value_t = 486, value_parser = clap::value_parser!(u16).range(200..700))]
    invite_status: u16,
    /// Exits after this many INVITE, OPTIONS and BYE requests.
    #[arg(long)]
    requests: Option<usize>,
    /// Exits after this many seconds at the latest.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// After the last request, keeps serving this many milliseconds, so that retransmitted
    /// responses (Timer G) and the ACK are still handled.
    #[arg(long, default_value_t = 2000)]
    linger: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sip_responder: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let legs = args.listen.iter().copied().map(LegConfig::new).collect();
    let dispatcher = Dispatcher::new(
        legs,
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await
    .with_context(|| format!("cannot listen on {:?}", args.listen))?;
    for leg in dispatcher.legs() {
        println!("listening on {}", leg.transport_addr());
    }

    let (handled_tx, mut handled) = watch::channel(0usize);
    let d = dispatcher.clone();
    let invite_status = args.invite_status;
    dispatcher.set_receiver(Arc::new(move |m: &Message, leg: &Leg, from: SocketAddr| {
        let Message::Request(req) = m else {
            return false;
        };
        let Some(resp) = answer(req, invite_status, leg) else {
            // An ACK needs no answer; anything else we leave to the dispatcher's 501.
            let is_ack = req.method() == &Method::Ack;
            println!(
                "received {} from {from} on {}{}",
                req.method(),
                leg.transport_addr(),
                if is_ack { "" } else { ": not ours (501)" }
            );
            return is_ack;
        };
        println!(
            "received {} from {from} on {} (Call-ID {}): answering {}",
            req.method(),
            leg.transport_addr(),
            req.headers()
                .call_id()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            resp.status()
        );
        d.deliver(resp, DeliverOptions::new());
        handled_tx.send_modify(|n| *n += 1);
        true
    }));

    let deadline = tokio::time::sleep(Duration::from_secs(args.timeout));
    tokio::pin!(deadline);
    let wanted = args.requests;
    let done = async {
        match wanted {
            Some(n) => handled.wait_for(|&h| h >= n).await.map(|_| ()),
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = done => {
            r.context("the dispatcher stopped")?;
            tokio::time::sleep(Duration::from_millis(args.linger)).await;
            println!("handled {} requests", *handled.borrow());
            dispatcher.shutdown();
            Ok(())
        }
        () = &mut deadline => {
            let got = *handled.borrow();
            dispatcher.shutdown();
            match wanted {
                Some(n) if got < n => anyhow::bail!(
                    "timed out after {}s having handled {got} of {n} requests",
                    args.timeout
                ),
                _ => {
                    println!("handled {got} requests");
                    Ok(())
                }
            }
        }
    }
}

/// The response to `req`, or `None` for what this program does not answer.
fn answer(req: &Request, invite_status: u16, leg: &Leg) -> Option<Response> {
    let status = match req.method() {
        Method::Options | Method::Bye => 200,
        Method::Invite => invite_status,
        _ => return None,
    };
    let mut resp = Response::from_request(req, status, None);
    // A To without a tag gets ours (§8.2.6.2); a BYE's To has one already.
    let _ = resp.set_to_tag(&sip_packet::random::tag(&mut rand::thread_rng()));
    if req.method() == &Method::Invite && (200..300).contains(&status) {
        let addr = leg.local_addr();
        let host = match addr {
            SocketAddr::V4(a) => a.to_string(),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        };
        let transport = leg.protocol().as_str().to_ascii_lowercase();
        resp.headers_mut().add(
            "Contact",
            format!("<sip:responder@{host};transport={transport}>"),
        );
        let has_offer = req
            .headers()
            .content_type()
            .ok()
            .flatten()
            .is_some_and(|t| t.eq_ignore_ascii_case("application/sdp"));
        if has_offer && !req.body().is_empty() {
            let (ip_type, ip) = if addr.is_ipv4() {
                ("IP4", addr.ip().to_string())
            } else {
                ("IP6", addr.ip().to_string())
            };
            resp.set_body(
                Some("application/sdp"),
                format!(
                    "v=0\r\no=responder 1 1 IN {ip_type} {ip}\r\ns=-\r\nc=IN {ip_type} {ip}\r\n\
                     t=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                ),
            );
        }
    }
    Some(resp)
}
