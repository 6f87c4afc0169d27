//! Makes one call with an [`Endpoint`]: a caller for callees nobody here wrote (SIPp's
//! `uas`, Net::SIP's `listen`).
//!
//! Sends an INVITE with an SDP offer to `--to`, prints every response (`response 180
//! INVITE`), and once the call is up (200, our ACK sent) hangs up with a BYE after
//! `--hold-ms`. Exits 0 when the BYE got its 200 (or the callee hung up first), 1 when the
//! call failed or `--timeout` seconds passed.
//!
//! ```text
//! cargo run -p sip-endpoint --example uac -- --to udp:127.0.0.1:5070
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use sip_dispatch::resolve::StaticResolver;
use sip_dispatch::{Dispatcher, DispatcherConfig};
use sip_endpoint::{
    CallEvent, CallParams, Context, Credentials, Endpoint, EndpointConfig, RequestOptions,
};
use sip_packet::{Method, Request};
use sip_transport::{Leg, LegConfig, Protocol, TransportAddr};
use tokio::sync::mpsc;

/// Calls once, hangs up, exits.
#[derive(Debug, Parser)]
#[command(name = "uac")]
struct Args {
    /// Whom to call: udp:HOST:PORT or tcp:HOST:PORT.
    #[arg(long)]
    to: TransportAddr,
    /// The user part of the callee's URI.
    #[arg(long, default_value = "service")]
    user: String,
    /// Our leg (the port is chosen when 0); the callee's protocol on 127.0.0.1 by default.
    #[arg(long)]
    listen: Option<TransportAddr>,
    /// How long the call stays up before our BYE.
    #[arg(long, default_value_t = 500)]
    hold_ms: u64,
    /// Answers challenges as USER:PASSWORD.
    #[arg(long)]
    auth: Option<String>,
    /// Fails after this many seconds.
    #[arg(long, default_value_t = 20)]
    timeout: u64,
}

/// How the call went.
#[derive(Debug)]
enum Outcome {
    Up,
    Over(&'static str),
    Failed(String),
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
            eprintln!("uac: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=netsip\r\nc=IN IP4 127.0.0.1\r\n\
                     t=0 0\r\nm=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

async fn run(args: Args) -> Result<()> {
    let to = args.to;
    let listen = match args.listen {
        Some(l) => l,
        None => format!("{}:127.0.0.1:0", to.protocol).parse()?,
    };
    let dispatcher = Dispatcher::new(
        vec![LegConfig::new(listen)],
        DispatcherConfig::default().resolver(Arc::new(StaticResolver::new())),
    )
    .await?;
    let endpoint = Endpoint::new(dispatcher, EndpointConfig::default());
    let here = endpoint.dispatcher().legs()[0].local_addr();
    let (tx, mut outcome) = mpsc::unbounded_channel();
    let peer_bye = tx.clone();
    endpoint.set_application(
        move |_: &Endpoint, ctx: &Context, req: &Request, _: &Leg, _| {
            if req.method() == &Method::Bye {
                println!("peer hung up {}", ctx.call_id());
                let _ = peer_bye.send(Outcome::Over("the callee hung up"));
            }
            true
        },
    );
    let transport = match to.protocol {
        Protocol::Udp => "",
        Protocol::Tcp => ";transport=tcp",
        Protocol::Tls => ";transport=tls",
    };
    let mut params = CallParams::parse(
        &format!("<sip:netsip@{here}>"),
        &format!("<sip:{}@{}{transport}>", args.user, to.addr),
    )?;
    if let Some(auth) = &args.auth {
        let (user, pass) = auth.split_once(':').context("--auth wants USER:PASSWORD")?;
        params = params.auth(Credentials::new(user, pass));
    }
    let options = RequestOptions::new()
        .body("application/sdp", OFFER)
        .callback(move |_: &Endpoint, _: &Context, ev: &CallEvent| {
            let outcome = match ev {
                CallEvent::Response(r) => {
                    let method = r.headers().cseq().map(|c| c.method().to_string());
                    let method = method.unwrap_or_default();
                    println!("response {} {method}", r.status());
                    match (r.status(), method.as_str()) {
                        (200..=299, "INVITE") => Some(Outcome::Up),
                        (200..=299, "BYE") => Some(Outcome::Over("our BYE was answered")),
                        (300.., _) => Some(Outcome::Failed(format!("{} to {method}", r.status()))),
                        _ => None,
                    }
                }
                CallEvent::Failed(e) => Some(Outcome::Failed(e.to_string())),
                other => {
                    println!("{other:?}");
                    None
                }
            };
            if let Some(o) = outcome {
                let _ = tx.send(o);
            }
        });
    let ctx = endpoint.call(params, options)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    loop {
        let got = tokio::time::timeout_at(deadline, outcome.recv()).await;
        match got {
            Err(_) => bail!("no end of the call within {} s", args.timeout),
            Ok(None) => bail!("the endpoint went away"),
            Ok(Some(Outcome::Up)) => {
                println!("call up {}", ctx.call_id());
                tokio::time::sleep(Duration::from_millis(args.hold_ms)).await;
                if !ctx.is_closed() {
                    endpoint.new_request(Method::Bye, &ctx, RequestOptions::new())?;
                }
            }
            Ok(Some(Outcome::Over(why))) => {
                println!("call over: {why}");
                return Ok(());
            }
            Ok(Some(Outcome::Failed(why))) => bail!("call failed: {why}"),
        }
    }
}
