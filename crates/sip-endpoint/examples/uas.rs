//! Answers calls with an [`Endpoint`]: a peer for callers nobody here wrote (SIPp's `uac`,
//! Net::SIP).
//!
//! Every INVITE gets 180, then after `--ring-ms` a 200 with an SDP answer; the ACK and the
//! BYE are printed on stdout as they come (`ACK <call-id>`, `BYE <call-id>`). With
//! `--hangup-ms` the program ends each call itself with a BYE that long after the ACK. It
//! exits 0 once `--calls` calls were set up and torn down (and `--linger` ms more, for
//! retransmissions), 1 at `--timeout` seconds.
//!
//! ```text
//! cargo run -p sip-endpoint --example uas -- --listen udp:127.0.0.1:5070 --calls 1
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use sip_dispatch::resolve::StaticResolver;
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{CallEvent, Context, Endpoint, EndpointConfig, RequestOptions};
use sip_packet::{Method, Request, Response};
use sip_transport::{Leg, LegConfig, TransportAddr};
use tokio::sync::Notify;

/// Answers calls; exits after N calls or a timeout.
#[derive(Debug, Parser)]
#[command(name = "uas")]
struct Args {
    /// Where to listen: udp:HOST:PORT or tcp:HOST:PORT.
    #[arg(long)]
    listen: TransportAddr,
    /// Exits after this many calls were set up and torn down.
    #[arg(long, default_value_t = 1)]
    calls: usize,
    /// How long to ring before answering.
    #[arg(long, default_value_t = 100)]
    ring_ms: u64,
    /// Ends each call with a BYE this long after the ACK (the caller hangs up otherwise).
    #[arg(long)]
    hangup_ms: Option<u64>,
    /// Fails after this many seconds.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
    /// Keeps serving this long after the last call, for retransmissions.
    #[arg(long, default_value_t = 500)]
    linger: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uas: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn sdp_answer(port: u16) -> String {
    format!(
        "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=netsip\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
}

async fn run(args: Args) -> Result<()> {
    let dispatcher = Dispatcher::new(
        vec![LegConfig::new(args.listen)],
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await?;
    let endpoint = Endpoint::new(dispatcher, EndpointConfig::default());
    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(Notify::new());
    let (ring, hangup) = (args.ring_ms, args.hangup_ms);
    let (d, f) = (done.clone(), finished.clone());
    let closed = move |what: &str, ctx: &Context| {
        println!("{what} {}", ctx.call_id());
        d.fetch_add(1, Ordering::SeqCst);
        f.notify_one();
    };
    let closed = Arc::new(closed);
    endpoint.set_application(
        move |ep: &Endpoint, ctx: &Context, req: &Request, _: &Leg, from| {
            match req.method() {
                Method::Invite => {
                    println!("INVITE {} from {from}", ctx.call_id());
                    if let Err(e) = ep.new_response(ctx, 180, req) {
                        eprintln!("uas: cannot ring: {e}");
                    }
                    let (ep, ctx, req) = (ep.clone(), ctx.clone(), req.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(ring)).await;
                        let mut ok = Response::from_request(&req, 200, None);
                        ok.set_body(Some("application/sdp"), sdp_answer(40000));
                        if let Err(e) = ep.new_response(&ctx, ok, &req) {
                            // Cancelled meanwhile.
                            eprintln!("uas: not answered: {e}");
                        }
                    });
                }
                Method::Ack => {
                    println!("ACK {}", ctx.call_id());
                    if let Some(ms) = hangup {
                        let (ep, ctx) = (ep.clone(), ctx.clone());
                        let closed = closed.clone();
                        ctx.set_callback(move |_: &Endpoint, c: &Context, ev: &CallEvent| {
                            if let CallEvent::Response(r) = ev {
                                if r.status() >= 200 {
                                    closed("BYE-SENT", c);
                                }
                            }
                        });
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                            if let Err(e) = ep.new_request(Method::Bye, &ctx, RequestOptions::new())
                            {
                                eprintln!("uas: cannot hang up: {e}");
                            }
                        });
                    }
                }
                Method::Bye => closed("BYE", ctx),
                Method::Cancel => closed("CANCEL", ctx),
                _ => return false,
            }
            true
        },
    );
    println!(
        "listening on {}",
        endpoint.dispatcher().legs()[0].transport_addr()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    while done.load(Ordering::SeqCst) < args.calls {
        if tokio::time::timeout_at(deadline, finished.notified())
            .await
            .is_err()
        {
            bail!(
                "{} of {} calls ended within {} s",
                done.load(Ordering::SeqCst),
                args.calls,
                args.timeout
            );
        }
    }
    tokio::time::sleep(Duration::from_millis(args.linger)).await;
    Ok(())
}
